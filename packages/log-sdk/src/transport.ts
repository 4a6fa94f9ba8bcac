// The SDK as a pino transport target, for an existing pino setup (runs in pino's worker thread):
//   pino.transport({ target: '@graybridge/log-sdk/transport', options: { kafka: { brokers, topic } } })
// createLogger does not go through it: it hands lines to a worker of its own (worker.ts).
import { Writable } from 'node:stream';
import { KafkaDelivery } from './delivery.js';
import { defaultRecordKey, detectPodIdentity, detectServiceIdentity, identityFields } from './identity.js';
import { resolveTransportConfig, type LoggerOptions, type TransportConfig } from './options.js';
import { recordCensor } from './redact.js';

/** Options of the standalone transport: the logger's delivery options plus service identity. */
export type KafkaTransportOptions = Pick<
  LoggerOptions,
  | 'kafka'
  | 'batch'
  | 'buffer'
  | 'service'
  | 'version'
  | 'env'
  | 'mirrorToStdoutWhenUnavailable'
  | 'warnIntervalMillis'
  | 'shutdownTimeoutMillis'
  | 'redactSecrets'
>;

/** Standalone use: identity is gathered here and spliced into each record. */
function resolveStandalone(options: KafkaTransportOptions): TransportConfig {
  const pod = detectPodIdentity();
  const service = detectServiceIdentity(options);
  const identity = JSON.stringify(identityFields(pod, service)).slice(1, -1);
  return resolveTransportConfig(options, {
    defaultKey: defaultRecordKey(pod),
    identityJson: identity === '' ? null : identity,
  });
}

export default function kafkaTransport(options: KafkaTransportOptions) {
  const config = resolveStandalone(options);
  const delivery = new KafkaDelivery(config);
  const censor = recordCensor(config.redactSecrets);
  return new LineSink(
    (lines) => delivery.acceptLines(censor(Buffer.from(lines))),
    async () => {
      await delivery.close();
    },
  );
}

/**
 * The stream pino's worker writes to: hands over each chunk's complete lines at once (pino's
 * writes do not end on line boundaries). pino-abstract-transport would JSON.parse every line even
 * in `lines` mode: a full parse per record that this transport never needs. `close` runs when the
 * stream ends or is destroyed.
 */
class LineSink extends Writable {
  private rest = '';

  constructor(
    /** One or more lines, each ending in a newline. */
    private readonly onLines: (lines: string) => void,
    private readonly close: () => Promise<void>,
  ) {
    super({ decodeStrings: false, autoDestroy: true });
  }

  override _write(chunk: string | Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const text = this.rest + (typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    const end = text.lastIndexOf('\n') + 1;
    this.rest = text.slice(end);
    if (end > 0) this.onLines(end === text.length ? text : text.slice(0, end));
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.rest !== '') this.onLines(this.rest + '\n');
    this.rest = '';
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.close().then(
      () => callback(error),
      (closeError: unknown) => callback(closeError instanceof Error ? closeError : error),
    );
  }
}
