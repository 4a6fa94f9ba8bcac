import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { gunzipSync, inflateSync } from 'node:zlib';
import { ChunkAggregator, isChunk } from './chunks.js';
import { decodeGelfPayload, type IndexedMessage } from './graylog-rules.js';

export type GelfTransport = 'tcp' | 'udp' | 'http';

export interface ReceivedMessage {
  readonly transport: GelfTransport;
  readonly message: IndexedMessage;
  /** Fields Graylog would drop silently (booleans, nulls, empty strings, bad keys). */
  readonly droppedFields: readonly string[];
}

export interface ReceiverOptions {
  /** Port 0 picks a free one. Leave a transport out to not listen on it. */
  readonly tcp?: {
    readonly port: number;
    readonly maxFrameBytes?: number;
    /** Serve GELF over TLS with this certificate (PEM). */
    readonly tls?: { readonly cert: string; readonly key: string };
  };
  readonly udp?: { readonly port: number };
  readonly http?: { readonly port: number; readonly maxBodyBytes?: number; readonly bulk?: boolean };
  readonly host?: string;
  readonly onMessage: (received: ReceivedMessage) => void;
  readonly onReject?: (transport: GelfTransport, reason: string) => void;
}

export interface ReceiverStats {
  readonly accepted: Readonly<Record<GelfTransport, number>>;
  readonly rejected: Readonly<Record<GelfTransport, number>>;
  readonly tcpConnectionsClosedForSize: number;
  readonly httpTooLarge: number;
  readonly chunks: ReturnType<ChunkAggregator['stats']>;
}

export interface GelfReceiver {
  readonly ports: { readonly tcp?: number; readonly udp?: number; readonly http?: number };
  stats(): ReceiverStats;
  close(): Promise<void>;
}

/**
 * A local GELF endpoint that receives like a Graylog input and decodes with Graylog's rules:
 * TCP with `\0` framing (a frame over 2 MiB closes the connection), UDP whole or chunked, HTTP
 * `POST /gelf` (202 before decoding, 404/405/413 as Graylog answers, gzip/deflate bodies, optional
 * newline-delimited bulk). It stands in for Graylog in tests, the demo and `graybridge gelf-receive`.
 */
export async function startGelfReceiver(options: ReceiverOptions): Promise<GelfReceiver> {
  const host = options.host ?? '127.0.0.1';
  const accepted = { tcp: 0, udp: 0, http: 0 };
  const rejected = { tcp: 0, udp: 0, http: 0 };
  let tcpConnectionsClosedForSize = 0;
  let httpTooLarge = 0;
  const aggregator = new ChunkAggregator();
  const expiry = setInterval(() => aggregator.expire(), 1000);
  expiry.unref();

  const handle = (transport: GelfTransport, payload: Buffer, sender: string): void => {
    const result = decodeGelfPayload(payload, Date.now(), sender);
    if (result.accepted) {
      accepted[transport] += 1;
      options.onMessage({ transport, message: result.message, droppedFields: result.droppedFields });
    } else {
      rejected[transport] += 1;
      options.onReject?.(transport, result.reason);
    }
  };

  const closers: (() => Promise<void>)[] = [];
  const ports: { tcp?: number; udp?: number; http?: number } = {};

  if (options.tcp !== undefined) {
    const maxFrame = options.tcp.maxFrameBytes ?? 2 * 1024 * 1024;
    const sockets = new Set<Socket>();
    const onConnection = (socket: Socket): void => {
      sockets.add(socket);
      let buffered: Buffer = Buffer.alloc(0);
      const sender = socket.remoteAddress ?? 'unknown';
      socket.on('data', (data: Buffer) => {
        buffered = buffered.length === 0 ? data : Buffer.concat([buffered, data]);
        let start = 0;
        for (let end = buffered.indexOf(0, start); end !== -1; end = buffered.indexOf(0, start)) {
          if (end > start) handle('tcp', buffered.subarray(start, end), sender);
          start = end + 1;
        }
        buffered = start === 0 ? buffered : Buffer.from(buffered.subarray(start));
        if (buffered.length > maxFrame) {
          tcpConnectionsClosedForSize += 1;
          socket.destroy();
        }
      });
      socket.on('end', () => {
        // A last frame without a terminator is delivered on close, as Graylog does.
        if (buffered.length > 0) handle('tcp', buffered, sender);
        buffered = Buffer.alloc(0);
      });
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    };
    const tls = options.tcp.tls;
    const server: TcpServer =
      tls === undefined
        ? createTcpServer(onConnection)
        : createTlsServer({ cert: tls.cert, key: tls.key }, onConnection);
    server.on('tlsClientError', () => undefined);
    server.listen(options.tcp.port, host);
    await once(server, 'listening');
    ports.tcp = (server.address() as { port: number }).port;
    closers.push(async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    });
  }

  if (options.udp !== undefined) {
    const socket: UdpSocket = createSocket('udp4');
    socket.on('message', (datagram, remote) => {
      if (isChunk(datagram)) {
        const whole = aggregator.add(datagram);
        if (whole !== undefined) handle('udp', whole, remote.address);
      } else {
        handle('udp', datagram, remote.address);
      }
    });
    socket.bind(options.udp.port, host);
    await once(socket, 'listening');
    ports.udp = socket.address().port;
    closers.push(async () => {
      socket.close();
      await once(socket, 'close');
    });
  }

  if (options.http !== undefined) {
    const maxBody = options.http.maxBodyBytes ?? 65_536;
    const bulk = options.http.bulk ?? false;
    const server: HttpServer = createHttpServer((req, res) => {
      if (req.method === 'OPTIONS') return void res.writeHead(200).end();
      if (req.url !== '/gelf') return void res.writeHead(404).end();
      if (req.method !== 'POST') return void res.writeHead(405).end();
      void readBody(req, maxBody).then(
        (body) => {
          if (body === undefined) {
            httpTooLarge += 1;
            res.writeHead(413).end();
            return;
          }
          // Graylog answers 202 before it decodes: a bad message still gets 202.
          res.writeHead(202).end();
          const sender = req.socket.remoteAddress ?? 'unknown';
          if (!bulk) {
            handle('http', body, sender);
            return;
          }
          for (const line of body.toString('utf8').split('\n')) {
            if (line.trim() !== '') handle('http', Buffer.from(line), sender);
          }
        },
        // The client went away mid-body: nothing to answer, nothing received.
        () => {
          if (!res.headersSent) res.writeHead(400).end();
        },
      );
    });
    server.keepAliveTimeout = 30_000;
    server.listen(options.http.port, host);
    await once(server, 'listening');
    ports.http = (server.address() as { port: number }).port;
    closers.push(async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    });
  }

  return {
    ports,
    stats: () => ({
      accepted: { ...accepted },
      rejected: { ...rejected },
      tcpConnectionsClosedForSize,
      httpTooLarge,
      chunks: aggregator.stats(),
    }),
    async close() {
      clearInterval(expiry);
      await Promise.all(closers.map((close) => close()));
    },
  };
}

/** The request body, decompressed per Content-Encoding; undefined when over `maxBytes` after decompression. */
async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes * 64) return undefined; // do not buffer without bound before decompressing
    parts.push(chunk as Buffer);
  }
  let body = Buffer.concat(parts);
  const encoding = (req.headers['content-encoding'] ?? '').toLowerCase();
  try {
    if (encoding === 'gzip') body = gunzipSync(body, { maxOutputLength: maxBytes + 1 });
    else if (encoding === 'deflate') body = inflateSync(body, { maxOutputLength: maxBytes + 1 });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return undefined;
    // Not valid gzip/deflate: the decoder will reject the bytes as they are.
  }
  return body.length > maxBytes ? undefined : body;
}
