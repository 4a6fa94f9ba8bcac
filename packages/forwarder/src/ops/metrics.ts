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

/** A counter that mirrors a monotonic total kept elsewhere, read at scrape time. */
function mirrored(registry: Registry, name: string, help: string, read: () => number): void {
  let reported = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const total = read();
      if (total > reported) this.inc(total - reported);
      reported = Math.max(reported, total);
    },
  });
}

/**
 * The forwarder's metrics, named after what an operator asks ("am I losing logs?"): records in,
 * sent and undelivered by reason, batches held while the sink was down, enrichment hits/misses and
 * watch health. All read from the stages' counters at scrape time.
 */
export function registerForwarderMetrics(registry: Registry, sources: MetricSources): void {
  mirrored(
    registry,
    'graybridge_records_received_total',
    'Records read from Kafka and processed.',
    () => sources.pipeline().received,
  );
  mirrored(
    registry,
    'graybridge_records_sent_total',
    'GELF messages the sink delivered.',
    () => sources.pipeline().sent,
  );
  mirrored(
    registry,
    'graybridge_records_unresolved_total',
    'Records sent without Kubernetes metadata (pod unknown).',
    () => sources.pipeline().unresolved,
  );
  mirrored(
    registry,
    'graybridge_decode_errors_total',
    'Records that could not be read as intended (sent with _decode_error).',
    () => sources.pipeline().decodeErrors,
  );
  mirrored(
    registry,
    'graybridge_sink_retries_total',
    'Batches the sink could not take (held and retried).',
    () => sources.pipeline().sinkRetries,
  );
  mirrored(
    registry,
    'graybridge_batches_committed_total',
    'Batches committed to Kafka after delivery.',
    () => sources.source().commits,
  );
  mirrored(
    registry,
    'graybridge_batches_held_total',
    'Times a batch was held because the sink was down.',
    () => sources.source().holds,
  );

  const undelivered: Record<string, number> = {};
  new Counter({
    name: 'graybridge_records_undelivered_total',
    help: 'Records not sent to Graylog, by reason (excluded by annotation, too large, rejected).',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      for (const [reason, total] of Object.entries(sources.pipeline().undelivered)) {
        const delta = total - (undelivered[reason] ?? 0);
        if (delta > 0) this.inc({ reason }, delta);
        undelivered[reason] = Math.max(undelivered[reason] ?? 0, total);
      }
    },
  });
  new Gauge({
    name: 'graybridge_sink_up',
    help: '1 while the sink can deliver, 0 while it is failing or its circuit is open.',
    registers: [registry],
    collect() {
      this.set(sources.sinkHealthy() ? 1 : 0);
    },
  });

  const enricher = sources.enricher;
  if (enricher === undefined) return;
  mirrored(registry, 'graybridge_enrich_hits_total', 'Lookups that found the pod.', () => enricher().hits);
  mirrored(
    registry,
    'graybridge_enrich_stale_hits_total',
    'Lookups that found a deleted pod within its retention.',
    () => enricher().staleHits,
  );
  mirrored(registry, 'graybridge_enrich_misses_total', 'Lookups that did not find the pod.', () => enricher().misses);
  new Gauge({
    name: 'graybridge_enrich_cached_pods',
    help: 'Pods in the enricher cache (deleted ones within retention included).',
    registers: [registry],
    collect() {
      this.set(enricher().cachedPods);
    },
  });
  new Gauge({
    name: 'graybridge_enrich_watch_restarts',
    help: 'Restarts of each Kubernetes watch after an error.',
    labelNames: ['resource'],
    registers: [registry],
    collect() {
      for (const watch of enricher().watches) this.set({ resource: watch.resource }, watch.restarts);
    },
  });
  new Gauge({
    name: 'graybridge_enrich_watch_up',
    help: '1 while a watch is watching, 0 while it lists, backs off or is stopped.',
    labelNames: ['resource'],
    registers: [registry],
    collect() {
      for (const watch of enricher().watches)
        this.set({ resource: watch.resource }, watch.state === 'watching' ? 1 : 0);
    },
  });
}
