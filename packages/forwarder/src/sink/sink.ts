import type { ForwarderError } from '../errors.js';

/** One encoded GELF document. */
export interface GelfPayload {
  readonly json: string;
  /** Its UTF-8 length, when known (the encoder knows it): framing then writes without measuring. */
  readonly bytes?: number;
}

/** A message of the batch the endpoint refused for good: it goes to the dead-letter queue. */
export interface RejectedPayload {
  /** Its index in the batch. */
  readonly index: number;
  readonly error: ForwarderError;
}

/**
 * What a sink says about a batch: data, not exceptions. There is no "the whole batch is refused":
 * a problem with the endpoint or its config (unreachable, TLS, auth) is `retryable` — the records
 * wait in Kafka — and only messages the endpoint refuses for what they are come back `rejected`.
 */
export type SinkOutcome =
  /**
   * Every message was delivered except the `rejected` ones; `shrunk` of them had fields cut (marked
   * in `_gb_truncated`) to fit the transport's limit.
   */
  | { readonly kind: 'sent'; readonly rejected?: readonly RejectedPayload[]; readonly shrunk?: number }
  /** Nothing is known to have been lost; the same batch may succeed later. */
  | { readonly kind: 'retryable'; readonly error: ForwarderError };

/** The last stage: ships encoded messages. Retries and breakers wrap it; it does not retry itself. */
export interface Sink {
  /** e.g. `gelf-tcp://graylog:12201`, for logs and errors. */
  readonly endpoint: string;
  send(batch: readonly GelfPayload[]): Promise<SinkOutcome>;
  /** False while the sink knows it cannot deliver (for readiness). */
  healthy(): boolean;
  close(): Promise<void>;
}
