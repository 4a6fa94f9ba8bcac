import { tlsMaterial } from '../config/files.js';
import type { ForwarderConfig } from '../config/schema.js';
import { HttpSink } from './http.js';
import { CircuitBreaker, withRetry } from './resilient.js';
import type { Sink } from './sink.js';
import { TcpSink, type TcpResends } from './tcp.js';
import { UdpSink } from './udp.js';

/** The transport sink the config names, without wrappers. */
export function createTransportSink(gelf: ForwarderConfig['gelf']): Sink {
  switch (gelf.transport) {
    case 'tcp': {
      const tls = tlsMaterial(gelf.tls, 'gelf.tls');
      return new TcpSink({
        host: gelf.host ?? '',
        port: gelf.port,
        connections: gelf.connections,
        connectTimeoutMillis: gelf.connectTimeoutMillis,
        writeTimeoutMillis: gelf.writeTimeoutMillis,
        resendWindowMillis: gelf.resendWindowMillis,
        ...(tls === undefined ? {} : { tls }),
      });
    }
    case 'udp':
      return new UdpSink({
        host: gelf.host ?? '',
        port: gelf.port,
        compression: gelf.udpCompression,
        chunkBytes: gelf.udpChunkBytes,
      });
    case 'http':
      return new HttpSink({
        url: gelf.url ?? '',
        bulk: gelf.httpBulk,
        gzip: gelf.httpGzip,
        maxBodyBytes: gelf.httpMaxBodyBytes,
        timeoutMillis: gelf.writeTimeoutMillis,
        ...(gelf.httpAuthorization === undefined ? {} : { authorization: gelf.httpAuthorization }),
      });
  }
}

/**
 * The sink as the pipeline uses it: retries around a circuit breaker around the transport, so the
 * breaker sees every attempt and opens after `breakerFailures` of them; while it is open the
 * retries return at once and the source holds the batch in Kafka.
 */
export function createSink(gelf: ForwarderConfig['gelf']): {
  sink: Sink;
  breaker: CircuitBreaker;
  /** The TCP sink's resends after broken connections (zeros for other transports). */
  resends: () => TcpResends;
} {
  const transport = createTransportSink(gelf);
  const breaker = new CircuitBreaker(transport, {
    failureThreshold: gelf.breakerFailures,
    cooldownMillis: gelf.breakerCooldownMillis,
  });
  const sink = withRetry(breaker, {
    attempts: gelf.retryAttempts,
    initialMillis: gelf.retryInitialMillis,
    maxMillis: gelf.retryMaxMillis,
  });
  const resends = (): TcpResends => (transport instanceof TcpSink ? transport.resends() : { resent: 0, givenUp: 0 });
  return { sink, breaker, resends };
}
