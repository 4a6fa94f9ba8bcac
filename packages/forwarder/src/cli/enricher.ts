import { once } from 'node:events';
import { startEnricherPublisher } from '@graybridge/enricher';
import { pino } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { loadConfig, redactedConfig } from '../config/load.js';
import { ForwarderError, ForwarderErrorCodes } from '../errors.js';
import { enricherOptionsOf, watchesCheck } from '../forwarder.js';
import { registerPublisherMetrics } from '../ops/metrics.js';
import { startOpsServer } from '../ops/server.js';

/** The sections `graybridge enricher` reads: no Kafka, no Graylog. */
const enricherSections = ['kubernetes', 'redis', 'ops'] as const;

/**
 * `graybridge enricher`: the shared-mode service. Watches pods and namespaces cluster-wide once and
 * publishes their metadata to Redis for forwarders in `kubernetes.mode: redis`. Runs until SIGTERM.
 */
export async function enricher(argv: string[]): Promise<number> {
  const { config, file, warnings } = loadConfig({ argv, sections: enricherSections });
  const redisUrl = config.redis.url;
  if (redisUrl === undefined) {
    throw new ForwarderError(
      ForwarderErrorCodes.invalidOption,
      'missing option redis.url (env GRAYBRIDGE_REDIS_URL, flag --redis-url): graybridge enricher publishes the metadata there',
    );
  }
  const logger = pino({ level: config.ops.logLevel, base: { component: 'graybridge-enricher' } });
  logger.info({ file, config: { kubernetes: redactedConfig(config).kubernetes } }, 'starting');
  for (const warning of warnings) logger.warn(warning);

  const publisher = startEnricherPublisher({
    enricher: enricherOptionsOf(config.kubernetes),
    redis: redisUrl,
    keyPrefix: config.kubernetes.sharedKeyPrefix,
  });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  registerPublisherMetrics(registry, () => publisher.stats());
  const ops = await startOpsServer({
    port: config.ops.port,
    host: config.ops.host,
    registry,
    readiness: () => {
      const stats = publisher.stats();
      return {
        kubernetes: watchesCheck(stats.enricher),
        redis: stats.published
          ? { ok: true }
          : { ok: false, detail: `metadata not (fully) in Redis: ${stats.lastError ?? 'first sync under way'}` },
      };
    },
  });
  logger.info({ opsPort: ops.port }, 'admin port listening: /metrics /healthz /readyz');
  void publisher.ready().then(
    () => logger.info({ pods: publisher.stats().enricher.cachedPods }, 'metadata synced and published to Redis'),
    (error: unknown) => logger.error({ error: String(error) }, 'never published'),
  );

  const signal = await Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]).then(([name]) => String(name));
  logger.info({ signal }, 'stopping');
  await publisher.stop();
  await ops.close();
  return 0;
}
