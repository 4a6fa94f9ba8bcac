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

/**
 * GELF over TCP (or TLS): persistent connections, each message terminated by `\0` (JSON never
 * contains a raw NUL: it escapes it). A batch is written in one go; success means the bytes are
 * in the kernel's buffer — GELF TCP has no acknowledgement. A broken connection fails the batch as
 * retryable (so a retry may duplicate messages written before the break: they carry the same
 * `_event_id`). A TLS verification failure is not retryable: it is a config problem.
 */
export class TcpSink implements Sink {
  readonly endpoint: string;
  /** A connection per slot, stored while it is being opened so concurrent sends share it. */
  private readonly slots: (Promise<Socket> | undefined)[];
  private next = 0;
  private lastFailure: ForwarderError | undefined;

  constructor(private readonly options: TcpSinkOptions) {
    this.endpoint = `${options.tls === undefined ? 'gelf-tcp' : 'gelf-tls'}://${options.host}:${options.port}`;
    this.slots = new Array<Promise<Socket> | undefined>(Math.max(1, options.connections ?? 2)).fill(undefined);
  }

  healthy(): boolean {
    return this.lastFailure === undefined;
  }

  async send(batch: readonly GelfPayload[]): Promise<SinkOutcome> {
    if (batch.length === 0) return { kind: 'sent' };
    const slot = this.next;
    this.next = (this.next + 1) % this.slots.length;
    const connection = (this.slots[slot] ??= this.connect());
    try {
      await this.write(await connection, frame(batch));
      this.lastFailure = undefined;
      return { kind: 'sent' };
    } catch (error) {
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

  async close(): Promise<void> {
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

/** Messages, each followed by `\0`, in one buffer: one write per batch. */
function frame(batch: readonly GelfPayload[]): Buffer {
  let text = '';
  for (const payload of batch) text += payload.json + '\0';
  return Buffer.from(text);
}
