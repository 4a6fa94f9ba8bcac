// The pino transport target: runs in pino's worker thread. Usable on its own from any pino setup:
//   pino.transport({ target: '@graybridge/log-sdk/transport', options: { kafka: { brokers, topic } } })
import build from 'pino-abstract-transport';
import type { ControlMessage } from './control.js';
import { statsIntervalMillis } from './control.js';
import { KafkaDelivery } from './delivery.js';
import { defaultRecordKey, detectPodIdentity, detectServiceIdentity, identityFields } from './identity.js';
import { resolveTransportConfig, type LoggerOptions, type TransportConfig } from './options.js';

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
      const serialized = JSON.stringify(stats);
      if (serialized === last) return;
      last = serialized;
      channel.postMessage({ type: 'stats', stats } satisfies ControlMessage);
    }, statsIntervalMillis);
    statsTimer.unref();
  }
  return build(
    (source) => {
      source.on('data', (line: string) => delivery.accept(line));
    },
    {
      parse: 'lines',
      close: async () => {
        clearInterval(statsTimer);
        const stats = await delivery.close();
        channel?.postMessage({ type: 'closed', stats } satisfies ControlMessage);
        channel?.close();
      },
    },
  );
}
