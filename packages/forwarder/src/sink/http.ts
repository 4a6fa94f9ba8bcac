import { gzipSync } from 'node:zlib';
import { shrinkEncoded } from '../encode/gelf.js';
import { ForwarderError, ForwarderErrorCodes } from '../errors.js';
import type { GelfPayload, Sink, SinkOutcome } from './sink.js';

export interface HttpSinkOptions {
  /** e.g. `http://graylog:12201/gelf` */
  readonly url: string;
  /** Several messages per request, newline-delimited (Graylog's `enable_bulk_receiving`). @defaultValue false */
  readonly bulk?: boolean;
  /** Graylog's `max_chunk_size`, measured after decompression. @defaultValue 65536 */
  readonly maxBodyBytes?: number;
  /** @defaultValue false */
  readonly gzip?: boolean;
  /** Sent as the Authorization header (Graylog 6.1+ can require one). */
  readonly authorization?: string;
  /** @defaultValue 10000 */
  readonly timeoutMillis?: number;
}

/** Statuses that mean the endpoint or its config is wrong, not these messages: pause, do not dead-letter. */
const endpointProblems = new Set([401, 403, 404, 405]);

/**
 * GELF over HTTP (`POST /gelf`, keep-alive): one message per request, or newline-delimited bulk
 * bodies cut to Graylog's body limit (every message ends with `\n`: Graylog's bulk parser glues a
 * last unterminated line to the next request). A 413 splits the body and tries again; a single
 * message too large even alone is shrunk to fit. 202/2xx is success — which for Graylog only means
 * "received": it answers 202 before decoding.
 */
export class HttpSink implements Sink {
  readonly endpoint: string;
  private readonly maxBodyBytes: number;
  private lastFailure: ForwarderError | undefined;

  constructor(private readonly options: HttpSinkOptions) {
    this.endpoint = options.url;
    this.maxBodyBytes = options.maxBodyBytes ?? 65_536;
  }

  healthy(): boolean {
    return this.lastFailure === undefined;
  }

  async send(batch: readonly GelfPayload[]): Promise<SinkOutcome> {
    const bodies = this.options.bulk === true ? this.bulkBodies(batch) : batch.map((p) => [p.json]);
    for (const messages of bodies) {
      const outcome = await this.post(messages);
      if (outcome.kind !== 'sent') return outcome;
    }
    this.lastFailure = undefined;
    return { kind: 'sent' };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Groups messages into bodies of at most maxBodyBytes (each message plus its newline). */
  private bulkBodies(batch: readonly GelfPayload[]): string[][] {
    const bodies: string[][] = [];
    let current: string[] = [];
    let size = 0;
    for (const { json } of batch) {
      const bytes = Buffer.byteLength(json) + 1;
      if (current.length > 0 && size + bytes > this.maxBodyBytes) {
        bodies.push(current);
        current = [];
        size = 0;
      }
      current.push(json);
      size += bytes;
    }
    if (current.length > 0) bodies.push(current);
    return bodies;
  }

  private async post(messages: readonly string[]): Promise<SinkOutcome> {
    let body = this.options.bulk === true ? messages.map((m) => m + '\n').join('') : (messages[0] ?? '');
    if (messages.length === 1 && Buffer.byteLength(body) > this.maxBodyBytes) {
      const smaller = shrinkEncoded(messages[0] ?? '', this.maxBodyBytes - 1);
      if (smaller === undefined)
        return this.rejected(`a message does not fit the ${this.maxBodyBytes}-byte body limit even shrunk`);
      body = this.options.bulk === true ? smaller + '\n' : smaller;
    }
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.authorization !== undefined) headers.authorization = this.options.authorization;
    let payload: string | Buffer = body;
    if (this.options.gzip === true) {
      payload = gzipSync(body);
      headers['content-encoding'] = 'gzip';
    }
    let status: number;
    try {
      const response = await fetch(this.options.url, {
        method: 'POST',
        body: payload,
        headers,
        signal: AbortSignal.timeout(this.options.timeoutMillis ?? 10_000),
      });
      await response.arrayBuffer();
      status = response.status;
    } catch (error) {
      return this.retryable(`${(error as Error).message}${describeCause(error)}`, error);
    }
    if (status >= 200 && status < 300) return { kind: 'sent' };
    if (status === 413 && messages.length > 1) {
      // The server's limit is lower than ours: split and try the halves.
      const half = Math.ceil(messages.length / 2);
      const first = await this.post(messages.slice(0, half));
      return first.kind === 'sent' ? this.post(messages.slice(half)) : first;
    }
    if (status === 429 || status >= 500 || endpointProblems.has(status)) return this.retryable(`answered ${status}`);
    return this.rejected(`answered ${status}`);
  }

  private retryable(detail: string, cause?: unknown): SinkOutcome {
    const error = new ForwarderError(ForwarderErrorCodes.sinkUnreachable, `${this.endpoint}: ${detail}`, {
      retriable: true,
      cause,
    });
    this.lastFailure = error;
    return { kind: 'retryable', error };
  }

  private rejected(detail: string): SinkOutcome {
    return {
      kind: 'rejected',
      error: new ForwarderError(ForwarderErrorCodes.sinkRejected, `${this.endpoint}: ${detail}`),
    };
  }
}

function describeCause(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause === undefined ? '' : ` (${cause.code ?? cause.message ?? 'unknown'})`;
}
