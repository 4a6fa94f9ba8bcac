import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { ForwarderError, ForwarderErrorCodes } from '../errors.js';
import type { GelfPayload, Sink, SinkOutcome } from './sink.js';

export interface TcpSinkOptions {
  readonly host: string;
  readonly port: number;
  /** Persistent connections; batches are spread over them. @defaultValue 2 */
  readonly connections?: number;
  /** @defaultValue 5000 */
  readonly connectTimeoutMillis?: number;
  /** How long one batch's write may take before the connection is presumed dead. @defaultValue 30000 */
  readonly writeTimeoutMillis?: number;
  /**
   * Batches written this recently before their connection broke are written again: they may
   * have died in the endpoint's socket buffer. @defaultValue 2000
   */
  readonly resendWindowMillis?: number;
  /** TLS with CA verification (the default when set), optional client certificate. */
  readonly tls?: {
    readonly ca?: string;
    readonly cert?: string;
    readonly key?: string;
    readonly servername?: string;
    readonly rejectUnauthorized?: boolean;
  };
}

const tlsErrorCodes = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
]);

export interface TcpResends {
  /** Messages written again because their connection broke within the resend window. */
  readonly resent: number;
  /**
   * Messages not written again: their connection broke after their last allowed copy, or the sink
   * closed while the endpoint was down.
   */
  readonly givenUp: number;
}

/** Bytes written on a connection, kept for the resend window. */
interface Written {
  readonly data: Buffer;
  readonly messages: number;
  readonly at: number;
  /** Times these bytes were written again already. */
  readonly resends: number;
}

/**
 * Copies of the same bytes at most: a connection that breaks every few hundred milliseconds would
 * otherwise have the same messages written again at every break (30× the traffic in the fault
 * suite). Beyond it the bytes are given up (counted): by then they were almost surely read.
 */
const maxResends = 3;

/**
 * GELF over TCP (or TLS): persistent connections, each message terminated by `\0` (JSON never
 * contains a raw NUL: it escapes it). A batch is written in one go; success means the bytes are
 * in the kernel's buffer — GELF TCP has no acknowledgement. So when a connection breaks (reset,
 * closed by the endpoint, failed write), what was written on it within the resend window may have
 * died unread in a crashed endpoint's buffer: it is written again ahead of the next batch (or on
 * its own when the stream is idle). A broken connection fails the batch being written as
 * retryable. Either way duplicates carry the same `_event_id`. A TLS verification failure is not
 * retryable: it is a config problem.
 */
export class TcpSink implements Sink {
  readonly endpoint: string;
  /** A connection per slot, stored while it is being opened so concurrent sends share it. */
  private readonly slots: (Promise<Socket> | undefined)[];
  private next = 0;
  private lastFailure: ForwarderError | undefined;
  /** What each open connection wrote within the resend window. */
  private readonly recent = new Map<Socket, Written[]>();
  /** Written on connections that broke soon after: to be written again. */
  private unconfirmed: Written[] = [];
  private resendTimer: NodeJS.Timeout | undefined;
  /** A resend the timer started, until it settles: close() waits for it before counting. */
  private resending: Promise<unknown> | undefined;
  private closing = false;
  private readonly resendCounts = { resent: 0, givenUp: 0 };

  constructor(private readonly options: TcpSinkOptions) {
    this.endpoint = `${options.tls === undefined ? 'gelf-tcp' : 'gelf-tls'}://${options.host}:${options.port}`;
    this.slots = new Array<Promise<Socket> | undefined>(Math.max(1, options.connections ?? 2)).fill(undefined);
  }

  /** Messages written again after their connection broke, and those given up after the last copy. */
  resends(): TcpResends {
    return { ...this.resendCounts };
  }

  healthy(): boolean {
    return this.lastFailure === undefined;
  }

  async send(batch: readonly GelfPayload[]): Promise<SinkOutcome> {
    if (batch.length === 0) return { kind: 'sent' };
    const outcome = await this.deliver(frame(batch), batch.length);
    return outcome ?? { kind: 'sent' };
  }

  /** Writes `data` after whatever awaits a resend; undefined when all of it was written. */
  private async deliver(data: Buffer | undefined, messages: number): Promise<SinkOutcome | undefined> {
    const resend = this.unconfirmed;
    this.unconfirmed = [];
    if (resend.length === 0 && data === undefined) return undefined;
    const parts = resend.map((written) => written.data);
    if (data !== undefined) parts.push(data);
    const resentMessages = resend.reduce((sum, written) => sum + written.messages, 0);
    const slot = this.next;
    this.next = (this.next + 1) % this.slots.length;
    const connection = (this.slots[slot] ??= this.connect());
    try {
      const socket = await connection;
      const all = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
      await this.write(socket, all);
      const at = Date.now();
      for (const written of resend) this.remember(socket, { ...written, at, resends: written.resends + 1 });
      if (data !== undefined) this.remember(socket, { data, messages, at, resends: 0 });
      this.lastFailure = undefined;
      this.resendCounts.resent += resentMessages;
      return undefined;
    } catch (error) {
      this.unconfirmed = [...resend, ...this.unconfirmed];
      void connection.then(
        (socket) => socket.destroy(),
        () => undefined,
      );
      if (this.slots[slot] === connection) this.slots[slot] = undefined;
      const failure = this.classify(error);
      this.lastFailure = failure;
      // A TLS failure is not retriable in itself (config), but the records must wait for the fix.
      return { kind: 'retryable', error: failure };
    }
  }

  private remember(socket: Socket, written: Written): void {
    const window = this.options.resendWindowMillis ?? 2000;
    const list = this.recent.get(socket);
    if (list === undefined) return; // closed meanwhile: connectionLost already ran
    while (list.length > 0 && (list[0] as Written).at < written.at - window) list.shift();
    list.push(written);
  }

  /** A connection broke: what it wrote within the window is written again, soon. */
  private connectionLost(socket: Socket): void {
    const list = this.recent.get(socket) ?? [];
    this.recent.delete(socket);
    if (this.closing) return;
    const since = Date.now() - (this.options.resendWindowMillis ?? 2000);
    for (const written of list) {
      if (written.at < since) continue;
      if (written.resends < maxResends) this.unconfirmed.push(written);
      else this.resendCounts.givenUp += written.messages;
    }
    this.scheduleResend(100);
  }

  /** When no batch comes to carry them, the unconfirmed bytes go on their own. */
  private scheduleResend(delayMillis: number): void {
    if (this.resendTimer !== undefined || this.unconfirmed.length === 0 || this.closing) return;
    this.resendTimer = setTimeout(() => {
      this.resendTimer = undefined;
      this.resending = this.deliver(undefined, 0).then((failed) => {
        this.resending = undefined;
        if (failed) this.scheduleResend(Math.min(delayMillis * 2, 5000));
      });
    }, delayMillis);
    this.resendTimer.unref();
  }

  async close(): Promise<void> {
    this.closing = true; // no new resend from here on
    if (this.resendTimer !== undefined) clearTimeout(this.resendTimer);
    // A resend under way holds its bytes until it fails or lands; then a last chance for what is left.
    await this.resending;
    if (this.unconfirmed.length > 0) await this.deliver(undefined, 0);
    // Still not written again (the endpoint is down): given up and counted, not dropped unseen.
    for (const written of this.unconfirmed) this.resendCounts.givenUp += written.messages;
    this.unconfirmed = [];
    const sockets = await Promise.all(
      this.slots.map((slot) => (slot ?? Promise.resolve(undefined)).catch(() => undefined)),
    );
    this.slots.forEach((_, index) => (this.slots[index] = undefined));
    await Promise.all(
      sockets.map(
        (socket) =>
          new Promise<void>((resolve) => {
            if (socket === undefined || socket.destroyed) {
              resolve();
              return;
            }
            socket.end(() => resolve());
            setTimeout(() => {
              socket.destroy();
              resolve();
            }, 1000).unref();
          }),
      ),
    );
  }

  private connect(): Promise<Socket> {
    const { host, port, tls } = this.options;
    return new Promise((resolve, reject) => {
      const socket: Socket | TLSSocket =
        tls === undefined
          ? connectTcp({ host, port })
          : connectTls({
              host,
              port,
              ...(tls.ca === undefined ? {} : { ca: tls.ca }),
              ...(tls.cert === undefined ? {} : { cert: tls.cert }),
              ...(tls.key === undefined ? {} : { key: tls.key }),
              servername: tls.servername ?? host,
              rejectUnauthorized: tls.rejectUnauthorized ?? true,
            });
      const timer = setTimeout(
        () => socket.destroy(new Error(`connect timed out after ${this.options.connectTimeoutMillis ?? 5000} ms`)),
        this.options.connectTimeoutMillis ?? 5000,
      );
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 30_000);
      const ready = tls === undefined ? 'connect' : 'secureConnect';
      const failed = (error: Error): void => {
        clearTimeout(timer);
        reject(error);
      };
      socket.once(ready, () => {
        clearTimeout(timer);
        socket.removeListener('error', failed);
        // Errors after connecting surface on the next write; keep the process alive meanwhile.
        socket.on('error', () => undefined);
        this.recent.set(socket, []);
        socket.once('close', () => this.connectionLost(socket));
        // Graylog never writes back: anything read is discarded.
        socket.resume();
        resolve(socket);
      });
      socket.once('error', failed);
    });
  }

  private write(socket: Socket, data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      if (socket.destroyed || !socket.writable) {
        reject(new Error('connection closed'));
        return;
      }
      const timeout = this.options.writeTimeoutMillis ?? 30_000;
      const timer = setTimeout(() => reject(new Error(`write timed out after ${timeout} ms`)), timeout);
      const onClose = (): void => reject(new Error('connection closed by the endpoint'));
      socket.once('close', onClose);
      socket.write(data, (error) => {
        clearTimeout(timer);
        socket.removeListener('close', onClose);
        if (error) reject(error);
        else resolve();
      });
    });
  }

  private classify(error: unknown): ForwarderError {
    const code = (error as { code?: string }).code ?? '';
    const detail = (error as Error).message;
    if (tlsErrorCodes.has(code) || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) {
      return new ForwarderError(ForwarderErrorCodes.sinkTls, `TLS with ${this.endpoint} failed: ${detail} (${code})`, {
        cause: error,
      });
    }
    return new ForwarderError(
      ForwarderErrorCodes.sinkUnreachable,
      `${this.endpoint}: ${detail}${code === '' ? '' : ` (${code})`}`,
      {
        retriable: true,
        cause: error,
      },
    );
  }
}

/**
 * Messages, each followed by `\0`, in one buffer: one write per batch. Written one by one into a
 * buffer of the known size, not joined into one string first (4× faster for a big batch).
 */
function frame(batch: readonly GelfPayload[], measure = false): Buffer {
  const length = (payload: GelfPayload): number =>
    measure || payload.bytes === undefined ? Buffer.byteLength(payload.json) : payload.bytes;
  let size = 0;
  for (const payload of batch) size += length(payload) + 1;
  const framed = Buffer.allocUnsafe(size);
  let at = 0;
  for (const payload of batch) {
    const written = framed.write(payload.json, at);
    // A stated length that is not the payload's would cut it or shift the rest: measure them all.
    if (written !== length(payload)) return frame(batch, true);
    at += written;
    framed[at++] = 0;
  }
  return framed;
}
