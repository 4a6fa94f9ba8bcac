import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { promisify } from 'node:util';
import { deflate, gzip } from 'node:zlib';
import { shrinkEncoded } from '../encode/gelf.js';
import { ForwarderError, ForwarderErrorCodes } from '../errors.js';
import { chunkHeaderBytes as header, chunkMagic, maxChunks } from '../receiver/chunks.js';
import type { GelfPayload, RejectedPayload, Sink, SinkOutcome } from './sink.js';

export interface UdpSinkOptions {
  readonly host: string;
  readonly port: number;
  /** @defaultValue "gzip" */
  readonly compression?: 'gzip' | 'zlib' | 'none';
  /** Bytes of message data per datagram (the 12-byte chunk header comes on top). 1420 suits any network; 8192 a LAN. @defaultValue 1420 */
  readonly chunkBytes?: number;
}

/**
 * GELF over UDP: each message compressed, sent whole when it fits one datagram, else in chunks
 * with a random 8-byte id — never more than Graylog's 128 (a larger message is shrunk to fit,
 * with the truncation marked, rather than silently discarded by Graylog). UDP has no delivery
 * confirmation: "sent" means handed to the network.
 */
const gzipAsync = promisify(gzip);
const deflateAsync = promisify(deflate);

export class UdpSink implements Sink {
  readonly endpoint: string;
  private socket: Socket | undefined;
  private readonly chunkBytes: number;

  constructor(private readonly options: UdpSinkOptions) {
    this.endpoint = `gelf-udp://${options.host}:${options.port}`;
    this.chunkBytes = options.chunkBytes ?? 1420;
  }

  healthy(): boolean {
    return true;
  }

  async send(batch: readonly GelfPayload[]): Promise<SinkOutcome> {
    const rejected: RejectedPayload[] = [];
    let shrunk = 0;
    try {
      this.socket ??= createSocket('udp4');
      // Compressed on libuv's threads, all at once: the event loop only sends.
      const prepared = await Promise.all(batch.map((payload) => this.datagrams(payload.json)));
      for (const [index, message] of prepared.entries()) {
        if (message === undefined) {
          rejected.push({
            index,
            error: new ForwarderError(
              ForwarderErrorCodes.sinkRejected,
              `${this.endpoint}: a message cannot fit ${maxChunks} chunks even shrunk`,
            ),
          });
          continue;
        }
        if (message.shrunk) shrunk += 1;
        for (const datagram of message.datagrams) await this.sendDatagram(datagram);
      }
      return { kind: 'sent', ...(rejected.length === 0 ? {} : { rejected }), ...(shrunk === 0 ? {} : { shrunk }) };
    } catch (error) {
      return {
        kind: 'retryable',
        error: new ForwarderError(
          ForwarderErrorCodes.sinkUnreachable,
          `${this.endpoint}: ${(error as Error).message}`,
          { retriable: true, cause: error },
        ),
      };
    }
  }

  close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    return new Promise((resolve) => (socket === undefined ? resolve() : socket.close(() => resolve())));
  }

  private compress(json: string): Promise<Buffer> {
    const bytes = Buffer.from(json);
    if (this.options.compression === 'none') return Promise.resolve(bytes);
    return this.options.compression === 'zlib' ? deflateAsync(bytes) : gzipAsync(bytes);
  }

  /** The datagrams for one message, shrinking it until it fits 128 chunks. */
  private async datagrams(json: string): Promise<{ datagrams: Buffer[]; shrunk: boolean } | undefined> {
    let current = json;
    let data = await this.compress(current);
    const capacity = maxChunks * this.chunkBytes;
    for (let round = 0; data.length > capacity && round < 8; round += 1) {
      // Aim below capacity by the compression ratio seen so far.
      const target = Math.floor((Buffer.byteLength(current) * capacity * 0.9) / data.length);
      const smaller = shrinkEncoded(current, target);
      if (smaller === undefined) return undefined;
      current = smaller;
      data = await this.compress(current);
    }
    if (data.length > capacity) return undefined;
    return { datagrams: gelfChunks(data, this.chunkBytes), shrunk: current !== json };
  }

  private sendDatagram(datagram: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.socket === undefined) {
        reject(new Error('the UDP sink is closed'));
        return;
      }
      this.socket.send(datagram, this.options.port, this.options.host, (error) => (error ? reject(error) : resolve()));
    });
  }
}

/**
 * A (compressed) GELF payload as UDP datagrams: itself when it fits one, else GELF chunks — magic
 * 0x1e 0x0f, a random 8-byte message id, sequence number, count — of `chunkBytes` data each.
 */
export function gelfChunks(data: Buffer, chunkBytes: number, id: Buffer = randomBytes(8)): Buffer[] {
  if (data.length <= chunkBytes) return [data];
  const count = Math.ceil(data.length / chunkBytes);
  return Array.from({ length: count }, (_, sequence) => {
    const chunk = Buffer.allocUnsafe(header + Math.min(chunkBytes, data.length - sequence * chunkBytes));
    chunk[0] = chunkMagic[0];
    chunk[1] = chunkMagic[1];
    id.copy(chunk, 2);
    chunk[10] = sequence;
    chunk[11] = count;
    data.copy(chunk, header, sequence * chunkBytes, (sequence + 1) * chunkBytes);
    return chunk;
  });
}
