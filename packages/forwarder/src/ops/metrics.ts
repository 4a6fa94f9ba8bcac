import type { EnricherStats, PublisherStats } from '@graybridge/enricher';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { PipelineStats } from '../pipeline.js';
import type { PartitionLag, SourceStats } from '../source/kafka-source.js';

export interface MetricSources {
  readonly pipeline: () => PipelineStats;
  readonly source: () => SourceStats;
  /** Undefined until the enricher has started. */
  readonly enricher?: () => EnricherStats | undefined;
  readonly sinkHealthy: () => boolean;
  /** The TCP sink's resends after broken connections. */
  readonly sinkResends?: () => { readonly resent: number; readonly givenUp: number };
  /** Lag of the partitions assigned to this member. */
  readonly lag?: () => readonly PartitionLag[];
  readonly groupJoined?: () => boolean;
  /** Set when dead letters go to a queue (Redis). */
  readonly deadLetterQueue?: () => { readonly depth: number; readonly evicted: number };
}

/** What the caller records itself, as it happens. */
export interface MetricRecorders {
  /** Time from a batch handed to the pipeline until it was delivered (or held). */
  observeBatch(seconds: number, outcome: 'done' | 'retry'): void;
}

/** A number, or one number per label value. */
type Reading = number | Readonly<Record<string, number>>;

function entries(reading: Reading): [string, number][] {
  return typeof reading === 'number' ? [['', reading]] : Object.entries(reading);
}

/** A counter mirroring monotonic totals kept by the stages, read at scrape time. */
function counter(registry: Registry, name: string, help: string, read: () => Reading, label = 'reason'): void {
  const reported = new Map<string, number>();
  new Counter({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    collect() {
      for (const [key, total] of entries(read())) {
        const delta = total - (reported.get(key) ?? 0);
        if (delta > 0) this.inc(key === '' ? {} : { [label]: key }, delta);
        reported.set(key, Math.max(reported.get(key) ?? 0, total));
      }
    },
  });
}

/** A gauge set from the stages' state at scrape time. */
function gauge(registry: Registry, name: string, help: string, read: () => Reading, label = 'resource'): void {
  new Gauge({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    collect() {
      for (const [key, value] of entries(read())) this.set(key === '' ? {} : { [label]: key }, value);
    },
  });
}

/**
 * The forwarder's metrics, named after what an operator asks ("am I losing logs?"): records in,
 * sent and undelivered by reason, batches held while the sink was down, enrichment hits/misses and
 * watch health. All read from the stages' counters at scrape time.
 */
export function registerForwarderMetrics(registry: Registry, sources: MetricSources): MetricRecorders {
  const { pipeline, source } = sources;
  const batchSeconds = new Histogram({
    name: 'graybridge_batch_duration_seconds',
    help: 'Time to decode, enrich, encode and deliver one partition batch; outcome "retry" when the sink could not take it.',
    labelNames: ['outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const { lag, groupJoined } = sources;
  if (lag !== undefined) {
    new Gauge({
      name: 'graybridge_consumer_lag_records',
      help: "Records not yet committed in each of this member's partitions (end offset − committed offset).",
      labelNames: ['topic', 'partition'],
      registers: [registry],
      collect() {
        this.reset(); // a revoked partition is another member's now
        for (const p of lag()) this.set({ topic: p.topic, partition: String(p.partition) }, p.lag);
      },
    });
  }
  if (groupJoined !== undefined) {
    gauge(registry, 'graybridge_consumer_group_joined', '1 while this member is in its consumer group.', () =>
      groupJoined() ? 1 : 0,
    );
  }
  counter(
    registry,
    'graybridge_records_received_total',
    'Records read from Kafka and processed.',
    () => pipeline().received,
  );
  counter(registry, 'graybridge_records_sent_total', 'GELF messages the sink delivered.', () => pipeline().sent);
  counter(
    registry,
    'graybridge_records_undelivered_total',
    'Records intentionally not sent to Graylog, by reason (excluded by annotation).',
    () => pipeline().undelivered,
  );
  counter(
    registry,
    'graybridge_records_dead_lettered_total',
    'Records stored as dead letters instead of sent, by reason (too_large, sink_rejected, decode_error).',
    () => pipeline().deadLettered,
  );
  counter(
    registry,
    'graybridge_dead_letter_retries_total',
    'Batches held because their dead letters could not be stored (Redis unreachable).',
    () => pipeline().deadLetterRetries,
  );
  const { deadLetterQueue } = sources;
  if (deadLetterQueue !== undefined) {
    gauge(
      registry,
      'graybridge_dead_letter_queue_depth',
      'Dead letters waiting in the queue.',
      () => deadLetterQueue().depth,
    );
    counter(
      registry,
      'graybridge_dead_letters_evicted_total',
      'Dead letters removed by the age and size caps.',
      () => deadLetterQueue().evicted,
    );
  }
  counter(
    registry,
    'graybridge_records_unresolved_total',
    'Records sent without Kubernetes metadata (pod unknown).',
    () => pipeline().unresolved,
  );
  counter(
    registry,
    'graybridge_messages_truncated_total',
    'Times a sent message had fields cut (marked in _gb_truncated) to fit the message size or the transport.',
    () => pipeline().truncated,
  );
  counter(
    registry,
    'graybridge_decode_errors_total',
    'Records that could not be read as intended (sent with _decode_error).',
    () => pipeline().decodeErrors,
  );
  counter(
    registry,
    'graybridge_sink_retries_total',
    'Batches the sink could not take (held and retried).',
    () => pipeline().sinkRetries,
  );
  counter(
    registry,
    'graybridge_offset_commits_total',
    'Offset commits that landed, each covering every partition with delivered records.',
    () => source().commits,
  );
  counter(
    registry,
    'graybridge_commit_failures_total',
    'Offset commits that failed; each is retried until a commit for its partition lands (or the partition moves).',
    () => source().commitFailures,
  );
  counter(
    registry,
    'graybridge_batches_held_total',
    'Times a batch was held because the sink was down (or the pipeline failed unexpectedly).',
    () => source().holds,
  );
  counter(
    registry,
    'graybridge_batch_failures_total',
    'Times the pipeline threw on a batch instead of answering (a bug; logged with the batch): the batch was held.',
    () => source().handlerErrors,
  );
  gauge(
    registry,
    'graybridge_sink_up',
    '1 while the sink can deliver, 0 while it is failing or its circuit is open.',
    () => (sources.sinkHealthy() ? 1 : 0),
  );
  const resends = sources.sinkResends;
  if (resends) {
    counter(
      registry,
      'graybridge_sink_resent_messages_total',
      'GELF TCP messages written again because their connection broke soon after (duplicates, same _event_id).',
      () => resends().resent,
    );
    counter(
      registry,
      'graybridge_sink_resends_given_up_total',
      'GELF TCP messages not written again: after yet another break (written 4 times already), or at shutdown with the endpoint down.',
      () => resends().givenUp,
    );
  }

  const recorders: MetricRecorders = {
    observeBatch: (seconds, outcome) => batchSeconds.observe({ outcome }, seconds),
  };
  if (sources.enricher !== undefined) registerEnricherMetrics(registry, sources.enricher);
  return recorders;
}

/** Pod metadata lookups and where they come from (watches, or the shared cache in Redis). */
function registerEnricherMetrics(registry: Registry, enricher: () => EnricherStats | undefined): void {
  counter(registry, 'graybridge_enrich_hits_total', 'Lookups that found the pod.', () => enricher()?.hits ?? 0);
  counter(
    registry,
    'graybridge_enrich_stale_hits_total',
    'Lookups that found a deleted pod within its retention.',
    () => enricher()?.staleHits ?? 0,
  );
  counter(
    registry,
    'graybridge_enrich_misses_total',
    'Lookups that did not find the pod.',
    () => enricher()?.misses ?? 0,
  );
  gauge(
    registry,
    'graybridge_enrich_cached_pods',
    'Pods in the enricher cache (deleted ones within retention included).',
    () => enricher()?.cachedPods ?? 0,
  );
  const perWatch = (value: (w: EnricherStats['watches'][number]) => number) => () =>
    Object.fromEntries((enricher()?.watches ?? []).map((w) => [w.resource, value(w)]));
  gauge(
    registry,
    'graybridge_enrich_watch_restarts',
    'Restarts of each Kubernetes watch after an error.',
    perWatch((w) => w.restarts),
  );
  gauge(
    registry,
    'graybridge_enrich_watch_up',
    '1 while a watch is watching, 0 while it lists, backs off or is stopped.',
    perWatch((w) => (w.state === 'watching' ? 1 : 0)),
  );
  counter(
    registry,
    'graybridge_enrich_watch_events_total',
    'Events received by each Kubernetes watch.',
    perWatch((w) => w.events),
    'resource',
  );
  counter(
    registry,
    'graybridge_enrich_watch_lists_total',
    'Full lists by each watch: the first, then after a 410 or a stall (a resync).',
    perWatch((w) => w.relists),
    'resource',
  );
  counter(
    registry,
    'graybridge_enrich_pod_gets_total',
    'GETs for pods the watch had not delivered yet, by outcome (rate_limited: not sent).',
    () => {
      const fetches = enricher()?.fetches;
      return {
        found: fetches?.fetched ?? 0,
        not_found: fetches?.notFound ?? 0,
        failed: fetches?.failed ?? 0,
        rate_limited: fetches?.rateLimited ?? 0,
      };
    },
    'outcome',
  );
  const shared = () => enricher()?.shared;
  gauge(
    registry,
    'graybridge_enrich_shared_up',
    'Mode redis: 1 while the shared metadata in Redis is reachable.',
    () => (shared()?.connected === true ? 1 : 0),
  );
  gauge(
    registry,
    'graybridge_enrich_shared_publisher_up',
    'Mode redis: 1 while a synced `graybridge enricher` keeps its heartbeat.',
    () => (shared()?.publisherAlive === true ? 1 : 0),
  );
  counter(
    registry,
    'graybridge_enrich_shared_reads_total',
    'Mode redis: HMGET round trips to the shared metadata.',
    () => shared()?.reads ?? 0,
  );
  counter(
    registry,
    'graybridge_enrich_shared_read_errors_total',
    'Mode redis: reads that failed or timed out (their records went on unresolved).',
    () => shared()?.readErrors ?? 0,
  );
  counter(
    registry,
    'graybridge_enrich_shared_invalidations_total',
    'Mode redis: held entries changed by change messages.',
    () => shared()?.invalidations ?? 0,
  );
}

/** `graybridge enricher`: its watches plus what it writes to Redis. */
export function registerPublisherMetrics(registry: Registry, publisher: () => PublisherStats): void {
  registerEnricherMetrics(registry, () => publisher().enricher);
  gauge(registry, 'graybridge_enricher_redis_up', '1 while the metadata in Redis is complete and current.', () =>
    publisher().published ? 1 : 0,
  );
  counter(
    registry,
    'graybridge_enricher_full_publishes_total',
    'Whole-cache writes to Redis: the first, then one after every Redis failure.',
    () => publisher().fullPublishes,
  );
  counter(
    registry,
    'graybridge_enricher_fields_published_total',
    'Fields written or deleted in Redis by incremental changes.',
    () => publisher().fieldsPublished,
  );
  counter(registry, 'graybridge_enricher_publish_errors_total', 'Failed writes to Redis.', () => publisher().errors);
}
