import type { EnricherStats } from '@graybridge/enricher';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { PipelineStats } from '../pipeline.js';
import type { SourceStats } from '../source/kafka-source.js';

export interface MetricSources {
  readonly pipeline: () => PipelineStats;
  readonly source: () => SourceStats;
  readonly enricher?: () => EnricherStats;
  readonly sinkHealthy: () => boolean;
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
export function registerForwarderMetrics(registry: Registry, sources: MetricSources): void {
  const { pipeline, source } = sources;
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
    'Records not sent to Graylog, by reason (excluded by annotation, too large, rejected).',
    () => pipeline().undelivered,
  );
  counter(
    registry,
    'graybridge_records_unresolved_total',
    'Records sent without Kubernetes metadata (pod unknown).',
    () => pipeline().unresolved,
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
    'graybridge_batches_committed_total',
    'Batches committed to Kafka after delivery.',
    () => source().commits,
  );
  counter(
    registry,
    'graybridge_batches_held_total',
    'Times a batch was held because the sink was down.',
    () => source().holds,
  );
  gauge(
    registry,
    'graybridge_sink_up',
    '1 while the sink can deliver, 0 while it is failing or its circuit is open.',
    () => (sources.sinkHealthy() ? 1 : 0),
  );

  const enricher = sources.enricher;
  if (enricher === undefined) return;
  counter(registry, 'graybridge_enrich_hits_total', 'Lookups that found the pod.', () => enricher().hits);
  counter(
    registry,
    'graybridge_enrich_stale_hits_total',
    'Lookups that found a deleted pod within its retention.',
    () => enricher().staleHits,
  );
  counter(registry, 'graybridge_enrich_misses_total', 'Lookups that did not find the pod.', () => enricher().misses);
  gauge(
    registry,
    'graybridge_enrich_cached_pods',
    'Pods in the enricher cache (deleted ones within retention included).',
    () => enricher().cachedPods,
  );
  const perWatch = (value: (w: EnricherStats['watches'][number]) => number) => () =>
    Object.fromEntries(enricher().watches.map((w) => [w.resource, value(w)]));
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
}
