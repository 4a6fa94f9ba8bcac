// The pino transport target: runs in pino's worker thread. Usable on its own from any pino setup:
//   pino.transport({ target: '@graybridge/log-sdk/transport', options: { kafka: { brokers, topic } } })
import { Writable } from 'node:stream';
import type { ControlMessage } from './control.js';
import { statsIntervalMillis } from './control.js';
import { KafkaDelivery } from './delivery.js';
import { defaultRecordKey, detectPodIdentity, detectServiceIdentity, identityFields } from './identity.js';
import { resolveTransportConfig, type LoggerOptions, type TransportConfig } from './options.js';
import { defaultRedactKeys, secretCensor } from './redact.js';

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

/** Set by `createLogger`: the config is resolved on the app thread already. */
interface ResolvedOptions {
  readonly resolved: TransportConfig;
}

function isResolved(options: KafkaTransportOptions | ResolvedOptions): options is ResolvedOptions {
  return 'resolved' in options;
}

/** Standalone use: identity is gathered here and spliced into each record. */
function resolveStandalone(options: KafkaTransportOptions): TransportConfig {
  const pod = detectPodIdentity();
  const service = detectServiceIdentity(options);
  const identity = JSON.stringify(identityFields(pod, service)).slice(1, -1);
  return resolveTransportConfig(options, {
    defaultKey: defaultRecordKey(pod),
    identityJson: identity === '' ? null : identity,
    controlChannel: null,
  });
}

export default function kafkaTransport(options: KafkaTransportOptions | ResolvedOptions) {
  const config = isResolved(options) ? options.resolved : resolveStandalone(options);
  const delivery = new KafkaDelivery(config);
  const channel = config.controlChannel === null ? undefined : new BroadcastChannel(config.controlChannel);
  let statsTimer: NodeJS.Timeout | undefined;
  if (channel !== undefined) {
    channel.onmessage = (event: MessageEvent) => {
      const message = event.data as ControlMessage;
      if (message.type !== 'flush') return;
      void delivery.flush(message.timeoutMillis).then((stats) => {
        channel.postMessage({ type: 'flushed', id: message.id, stats } satisfies ControlMessage);
      });
    };
    let last = '';
    statsTimer = setInterval(() => {
      const stats = delivery.snapshot();
      // The worker's heap moves a little on every tick: an idle logger posts when it moved a MiB.
      const serialized = JSON.stringify({ ...stats, workerHeapUsedBytes: stats.workerHeapUsedBytes >> 20 });
      if (serialized === last) return;
      last = serialized;
      channel.postMessage({ type: 'stats', stats } satisfies ControlMessage);
    }, statsIntervalMillis);
    statsTimer.unref();
  }
  const censor = config.redactSecrets ? secretCensor(defaultRedactKeys) : undefined;
  return new LineSink(
    censor === undefined ? (lines) => delivery.acceptLines(lines) : (lines) => delivery.acceptLines(censor(lines)),
    async () => {
      clearInterval(statsTimer);
      const stats = await delivery.close();
      channel?.postMessage({ type: 'closed', stats } satisfies ControlMessage);
      channel?.close();
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
