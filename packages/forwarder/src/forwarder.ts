import { setTimeout as sleep } from 'node:timers/promises';
import {
  createEnricher,
  createSharedEnricher,
  type Enricher,
  type EnricherOptions,
  type EnricherStats,
} from '@graybridge/enricher';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { kafkaConnectionOf, topicPattern } from './config/files.js';
import type { ForwarderConfig } from './config/schema.js';
import type { DeadLetterSink } from './deadletter/dead-letter.js';
import { loggingDeadLetters } from './deadletter/log-sink.js';
import { DeadLetterQueue } from './deadletter/queue.js';
import { startReplayWorker } from './replay/replay.js';
import { defaultGelfLimits } from './encode/gelf.js';
import { registerForwarderMetrics } from './ops/metrics.js';
import { startOpsServer, type Check, type OpsServer } from './ops/server.js';
import { createPipeline, type PipelineStats } from './pipeline.js';
import type { KafkaRecord } from './record.js';
import { createSink } from './sink/from-config.js';
import type { Sink } from './sink/sink.js';
import { KafkaSource, type BatchVerdict, type PartitionLag, type SourceStats } from './source/kafka-source.js';

export interface RunningForwarder {
  /** The admin port actually bound (config `ops.port` 0 picks a free one). */
  readonly opsPort: number;
  readiness(): Readonly<Record<string, Check>>;
  stats(): { readonly pipeline: PipelineStats; readonly source: SourceStats; readonly lag: readonly PartitionLag[] };
  /**
   * The SIGTERM path: stop fetching, let the batch in hand finish and commit within
   * `ops.drainTimeoutMillis`, leave the group, close the sink. `drained` is false when the deadline
   * passed first: whatever was not committed is redelivered to the group (no loss, maybe duplicates).
   */
  stop(): Promise<{ readonly drained: boolean }>;
}

function topicPatterns(topics: readonly string[]): (string | RegExp)[] {
  return topics.map((topic) => topicPattern(topic) ?? topic);
}

/** The enricher the config asks for, once synced (or after `syncTimeoutMillis`, with a warning). */
export async function startEnricher(
  config: ForwarderConfig['kubernetes'],
  redisUrl: string | undefined,
  logger: Logger,
): Promise<Enricher | undefined> {
  if (!config.enabled) return undefined;
  const enricher =
    config.mode === 'redis'
      ? createSharedEnricher({
          // The config check refuses mode "redis" without a URL.
          redis: redisUrl ?? '',
          keyPrefix: config.sharedKeyPrefix,
          cacheEntries: config.sharedCacheEntries,
        })
      : createEnricher(enricherOptionsOf(config));
  const synced = await Promise.race([
    enricher.ready().then(() => true),
    sleep(config.syncTimeoutMillis, false, { ref: false }),
  ]);
  if (synced) logger.info({ mode: config.mode, pods: enricher.stats().cachedPods }, 'kubernetes metadata synced');
  else
    logger.warn(
      {
        mode: config.mode,
        waitedMillis: config.syncTimeoutMillis,
        watches: enricher.stats().watches,
        shared: enricher.stats().shared,
      },
      config.mode === 'redis'
        ? 'no synced `graybridge enricher` publisher found in Redis yet: consuming anyway, records of unknown pods get _k8s_unresolved'
        : 'kubernetes metadata not synced yet: consuming anyway, records of unknown pods get _k8s_unresolved',
    );
  return enricher;
}

/** What the enricher is configured with, the same for the forwarder (direct mode) and `graybridge enricher`. */
export function enricherOptionsOf(config: ForwarderConfig['kubernetes']) {
  return {
    ...(config.kubeconfig === undefined ? {} : { kubeconfig: config.kubeconfig }),
    labels: { include: config.labelsInclude, exclude: config.labelsExclude },
    annotations: { include: config.annotationsInclude },
    namespaceLabels: config.namespaceLabels,
    resolveOwners: config.resolveOwners,
    deletedPodRetentionMillis: config.deletedPodRetentionMillis,
  } satisfies EnricherOptions;
}

function enricherCheck(enabled: boolean, enricher: Enricher | undefined): Check {
  if (!enabled) return { ok: true, detail: 'disabled' };
  if (enricher === undefined) return { ok: false, detail: 'waiting for the first pod list' };
  const shared = enricher.stats().shared;
  if (shared !== undefined) {
    if (!shared.connected)
      return { ok: false, detail: `shared metadata in Redis unreachable: ${shared.lastError ?? 'connecting'}` };
    // Held entries keep answering while the publisher restarts: a warning in the detail, not unready.
    return shared.publisherAlive
      ? { ok: true }
      : { ok: true, detail: 'no live `graybridge enricher` publisher: metadata may be stale' };
  }
  return watchesCheck(enricher.stats());
}

/**
 * The pipeline the config describes, for the live stream, replay jobs and `dlq replay` alike: the
 * enricher is read through a getter because it may start after the pipeline is built.
 */
export function pipelineFromConfig(
  config: ForwarderConfig,
  parts: {
    readonly sink: Sink;
    readonly enricher: () => Enricher | undefined;
    readonly deadLetters: DeadLetterSink;
    readonly extraFields?: Readonly<Record<string, string>>;
  },
): ReturnType<typeof createPipeline> {
  return createPipeline({
    sink: parts.sink,
    lookup: (query) => parts.enricher()?.lookup(query),
    prefetch: (queries) => parts.enricher()?.prefetch(queries) ?? Promise.resolve(),
    deadLetters: parts.deadLetters,
    deadLetterDecodeErrors: config.deadLetters.decodeErrors,
    decode: { maxRecordBytes: config.decode.maxRecordBytes },
    limits: { ...defaultGelfLimits, maxMessageBytes: config.gelf.maxMessageBytes },
    ...(parts.extraFields === undefined ? {} : { extraFields: parts.extraFields }),
  });
}

/** Ready while every watch is watching; otherwise which one is not, and why. */
export function watchesCheck(stats: EnricherStats): Check {
  const down = stats.watches.filter((w) => w.state !== 'watching');
  if (down.length === 0) return { ok: true };
  return {
    ok: false,
    detail: down
      .map((w) => `${w.resource} watch ${w.state}${w.lastError === null ? '' : `: ${w.lastError}`}`)
      .join('; '),
  };
}

/**
 * Builds and starts the forwarder from a validated config: admin port first (so probes answer
 * while it starts), enricher (waits for the first sync, bounded), sink with retry and breaker, the
 * pipeline, then the Kafka consumer group. Readiness changes are logged as they happen.
 */
export async function startForwarder(config: ForwarderConfig, logger: Logger): Promise<RunningForwarder> {
  const { tls, sasl } = kafkaConnectionOf(config.kafka, config.kafka.clientId);
  const security = { ...(tls === undefined ? {} : { tls }), ...(sasl === undefined ? {} : { sasl }) };
  const { sink, breaker, resends } = createSink(config.gelf);
  const deadLetterQueue =
    config.redis.url === undefined
      ? undefined
      : new DeadLetterQueue({
          url: config.redis.url,
          name: config.deadLetters.queue,
          maxEntries: config.deadLetters.maxEntries,
          maxAgeMillis: config.deadLetters.maxAgeMillis,
        });
  let queueDepth = 0;
  let replayWorker: { close(): Promise<void> } | undefined;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let enricher: Enricher | undefined;
  const source = new KafkaSource({
    brokers: config.kafka.brokers,
    topics: topicPatterns(config.kafka.topics),
    groupId: config.kafka.groupId,
    clientId: config.kafka.clientId,
    maxBatchRecords: config.kafka.maxBatchRecords,
    commitIntervalMillis: config.kafka.commitIntervalMillis,
    fetchMaxBytesPerPartition: config.kafka.fetchMaxBytesPerPartition,
    fetchMaxBytes: config.kafka.fetchMaxBytes,
    sessionTimeoutMillis: config.kafka.sessionTimeoutMillis,
    fromBeginning: config.kafka.fromBeginning,
    lagIntervalMillis: config.ops.lagIntervalMillis,
    onHandlerError: (error, batch) =>
      logger.error(
        { ...batch, error: error instanceof Error ? error.stack : String(error) },
        'batch failed unexpectedly: held',
      ),
    ...security,
  });
  const readiness = (): Record<string, Check> => {
    const group = source.groupStatus();
    const failure = breaker.lastFailure();
    return {
      kafka: group.joined
        ? { ok: true }
        : { ok: false, detail: `group ${config.kafka.groupId}: ${group.detail ?? 'not joined'}` },
      gelf: breaker.healthy()
        ? { ok: true }
        : {
            ok: false,
            detail: `${sink.endpoint}: circuit ${breaker.currentState()}${failure ? `: ${failure.message}` : ''}`,
          },
      kubernetes: enricherCheck(config.kubernetes.enabled, enricher),
      deadletters:
        deadLetterQueue === undefined
          ? { ok: true, detail: 'no Redis configured: dead letters are logged' }
          : deadLetterQueue.connected()
            ? { ok: true }
            : { ok: false, detail: `${deadLetterQueue.endpoint}: not connected` },
    };
  };
  // The live stream's pipeline, and one per replay job (its messages carry _replay_job).
  const pipelineWith = (extraFields?: Readonly<Record<string, string>>) =>
    pipelineFromConfig(config, {
      sink,
      enricher: () => enricher,
      deadLetters: deadLetterQueue ?? loggingDeadLetters(logger),
      ...(extraFields === undefined ? {} : { extraFields }),
    });
  const pipeline = pipelineWith();
  const recorders = registerForwarderMetrics(registry, {
    pipeline: () => pipeline.stats(),
    source: () => source.stats(),
    sinkHealthy: () => breaker.healthy(),
    sinkResends: resends,
    lag: () => source.lag(),
    groupJoined: () => source.groupStatus().joined,
    ...(config.kubernetes.enabled ? { enricher: () => enricher?.stats() } : {}),
    ...(deadLetterQueue === undefined
      ? {}
      : { deadLetterQueue: () => ({ depth: queueDepth, evicted: deadLetterQueue.evicted() }) }),
  });
  const ops: OpsServer = await startOpsServer({
    port: config.ops.port,
    host: config.ops.host,
    registry,
    readiness,
  });
  logger.info({ opsPort: ops.port }, 'admin port listening: /metrics /healthz /readyz');

  // Dead-letter caps are enforced (and the depth read) in the background, never on the hot path.
  const maintainQueue = async (): Promise<void> => {
    if (deadLetterQueue === undefined || !deadLetterQueue.connected()) return;
    try {
      const evicted = await deadLetterQueue.enforceCaps();
      if (evicted > 0) logger.warn({ evicted, queue: deadLetterQueue.endpoint }, 'dead letters evicted by the caps');
      queueDepth = await deadLetterQueue.depth();
    } catch (error) {
      logger.warn({ error: (error as Error).message }, 'dead-letter queue maintenance failed');
    }
  };
  const queueMaintenance = setInterval(() => void maintainQueue(), 30_000);
  queueMaintenance.unref();

  // Log each readiness check when it flips, with the reason: the first thing an operator reads.
  let previous: Record<string, Check> = {};
  const watchReadiness = setInterval(() => {
    const now = readiness();
    for (const [name, check] of Object.entries(now)) {
      if (previous[name]?.ok === check.ok) continue;
      if (check.ok) logger.info({ check: name }, `${name} ready`);
      else logger.warn({ check: name, detail: check.detail }, `${name} not ready`);
    }
    previous = now;
  }, 1000);
  watchReadiness.unref();

  try {
    enricher = await startEnricher(config.kubernetes, config.redis.url, logger);
    const handle = async (records: readonly KafkaRecord[]): Promise<BatchVerdict> => {
      const started = process.hrtime.bigint();
      const verdict = await pipeline.handle(records);
      recorders.observeBatch(Number(process.hrtime.bigint() - started) / 1e9, verdict);
      return verdict;
    };
    await source.start(handle);
    if (config.redis.url !== undefined && config.replay.enabled) {
      const url = config.redis.url;
      replayWorker = startReplayWorker({
        url,
        kafka: kafkaConnectionOf(config.kafka, `${config.kafka.clientId}-replay`),
        concurrency: config.replay.concurrency,
        lockMillis: config.replay.lockMillis,
        logger,
        pipelineFor: (jobId) => {
          const replayPipeline = pipelineWith({ replay_job: jobId });
          return (records) => replayPipeline.handle(records);
        },
      });
    }
    logger.info(
      {
        brokers: config.kafka.brokers,
        topics: config.kafka.topics,
        groupId: config.kafka.groupId,
        sink: sink.endpoint,
      },
      'forwarding',
    );
  } catch (error) {
    clearInterval(watchReadiness);
    clearInterval(queueMaintenance);
    await Promise.allSettled([source.stop(), enricher?.stop(), sink.close(), ops.close(), deadLetterQueue?.close()]);
    throw error;
  }

  return {
    opsPort: ops.port,
    readiness,
    stats: () => ({ pipeline: pipeline.stats(), source: source.stats(), lag: source.lag() }),
    async stop() {
      clearInterval(watchReadiness);
      clearInterval(queueMaintenance);
      const drained = await Promise.race([
        source.stop().then(
          () => true,
          () => false,
        ),
        sleep(config.ops.drainTimeoutMillis, false, { ref: false }),
      ]);
      const givenUpBefore = resends().givenUp;
      await Promise.allSettled([replayWorker?.close(), enricher?.stop(), sink.close(), deadLetterQueue?.close()]);
      const givenUp = resends().givenUp - givenUpBefore;
      // Their offsets were committed when first written: the log is the last trace of them.
      if (givenUp > 0)
        logger.error({ messages: givenUp, endpoint: sink.endpoint }, 'unconfirmed GELF messages given up at shutdown');
      await ops.close();
      return { drained };
    },
  };
}
