import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { shrinkEncoded } from '../encode/gelf.js';
import { ForwarderError, ForwarderErrorCodes } from '../errors.js';
import type { GelfPayload, RejectedPayload, Sink, SinkOutcome } from './sink.js';

interface Indexed {
  readonly index: number;
  readonly json: string;
}

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
 * last unterminated line to the next request). A 413 or another 4xx on a bulk body splits it until
 * the refused messages are alone; those come back `rejected`, the rest is delivered. A single
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
    const indexed = batch.map((payload, index) => ({ index, json: payload.json }));
    const bodies = this.options.bulk === true ? this.bulkBodies(indexed) : indexed.map((message) => [message]);
    const tally: Tally = { rejected: [], shrunk: 0 };
    for (const messages of bodies) {
      const failure = await this.post(messages, tally);
      if (failure !== undefined) return failure;
    }
    this.lastFailure = undefined;
    const { rejected, shrunk } = tally;
    return { kind: 'sent', ...(rejected.length === 0 ? {} : { rejected }), ...(shrunk === 0 ? {} : { shrunk }) };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Groups messages into bodies of at most maxBodyBytes (each message plus its newline). */
  private bulkBodies(batch: readonly Indexed[]): Indexed[][] {
    const bodies: Indexed[][] = [];
    let current: Indexed[] = [];
    let size = 0;
    for (const message of batch) {
      const bytes = Buffer.byteLength(message.json) + 1;
      if (current.length > 0 && size + bytes > this.maxBodyBytes) {
        bodies.push(current);
        current = [];
        size = 0;
      }
      current.push(message);
      size += bytes;
    }
    if (current.length > 0) bodies.push(current);
    return bodies;
  }

  /**
   * POSTs one body. Messages the endpoint refuses for what they are are added to `rejected` (a
   * refused bulk body is split until the culprits are alone); a retryable outcome is returned.
   */
  private async post(messages: readonly Indexed[], tally: Tally): Promise<SinkOutcome | undefined> {
    const first = messages[0];
    if (first === undefined) return undefined;
    let texts = messages.map((m) => m.json);
    if (messages.length === 1 && Buffer.byteLength(first.json) + 1 > this.maxBodyBytes) {
      const smaller = shrinkEncoded(first.json, this.maxBodyBytes - 1);
      if (smaller === undefined) {
        tally.rejected.push(
          this.rejection(first.index, `a message does not fit the ${this.maxBodyBytes}-byte body limit even shrunk`),
        );
        return undefined;
      }
      texts = [smaller];
    }
    const body = this.options.bulk === true ? texts.map((m) => m + '\n').join('') : (texts[0] ?? '');
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.authorization !== undefined) headers.authorization = this.options.authorization;
    let payload: string | Buffer = body;
    if (this.options.gzip === true) {
      payload = await gzipAsync(body); // on libuv's threads: a bulk body is large
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
    if (status >= 200 && status < 300) {
      if (texts[0] !== first.json) tally.shrunk += 1;
      return undefined;
    }
    if (status === 429 || status >= 500 || endpointProblems.has(status)) return this.retryable(`answered ${status}`);
    if (messages.length > 1) {
      // 413: the server's limit is lower than ours; any other 4xx: find the messages it refuses.
      const half = Math.ceil(messages.length / 2);
      return (await this.post(messages.slice(0, half), tally)) ?? this.post(messages.slice(half), tally);
    }
    tally.rejected.push(this.rejection(first.index, `answered ${status}`));
    return undefined;
  }

  private retryable(detail: string, cause?: unknown): SinkOutcome {
    const error = new ForwarderError(ForwarderErrorCodes.sinkUnreachable, `${this.endpoint}: ${detail}`, {
      retriable: true,
      cause,
    });
    this.lastFailure = error;
    return { kind: 'retryable', error };
  }

  private rejection(index: number, detail: string): RejectedPayload {
    return { index, error: new ForwarderError(ForwarderErrorCodes.sinkRejected, `${this.endpoint}: ${detail}`) };
  }
}

const gzipAsync = promisify(gzip);

/** What a send found out, body by body. */
interface Tally {
  readonly rejected: RejectedPayload[];
  shrunk: number;
}

function describeCause(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause === undefined ? '' : ` (${cause.code ?? cause.message ?? 'unknown'})`;
}
