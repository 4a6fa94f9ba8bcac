import type { ForwarderError } from '../errors.js';

/** One encoded GELF document. */
export interface GelfPayload {
  readonly json: string;
}

/** What a sink says about a batch: data, not exceptions. */
export type SinkOutcome =
  | { readonly kind: 'sent' }
  /** Nothing is known to have been lost; the same batch may succeed later. */
  | { readonly kind: 'retryable'; readonly error: ForwarderError }
  /** The endpoint refused these messages for good: dead-letter them. */
  | { readonly kind: 'rejected'; readonly error: ForwarderError };

/** The last stage: ships encoded messages. Retries and breakers wrap it; it does not retry itself. */
export interface Sink {
  /** e.g. `gelf-tcp://graylog:12201`, for logs and errors. */
  readonly endpoint: string;
  send(batch: readonly GelfPayload[]): Promise<SinkOutcome>;
  /** False while the sink knows it cannot deliver (for readiness). */
  healthy(): boolean;
  close(): Promise<void>;
}
