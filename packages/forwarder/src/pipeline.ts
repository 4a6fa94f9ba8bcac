import type { PodLookup, PodQuery } from '@graybridge/enricher';
import { decodeRecord, defaultDecodeOptions, type DecodeOptions } from './decode/decode.js';
import { defaultGelfLimits, encodeGelf, type GelfLimits } from './encode/gelf.js';
import { toGelfInput } from './encode/to-gelf.js';
import { enrichRecord, type ExclusionReason } from './enrich/enrich.js';
import type { KafkaRecord } from './record.js';
import type { Sink } from './sink/sink.js';
import type { BatchVerdict } from './source/kafka-source.js';

/** Why a record did not reach Graylog. Until the dead-letter queue (issue #6) they are counted here. */
export type UndeliveredReason = ExclusionReason | 'too_large' | 'sink_rejected';

export interface PipelineStats {
  readonly received: number;
  readonly sent: number;
  readonly undelivered: Readonly<Record<UndeliveredReason, number>>;
  readonly unresolved: number;
  readonly decodeErrors: number;
  readonly sinkRetries: number;
}

export interface PipelineOptions {
  readonly sink: Sink;
  readonly lookup: (query: PodQuery) => PodLookup | undefined;
  readonly decode?: DecodeOptions;
  readonly limits?: GelfLimits;
}

/**
 * decode → enrich → encode → sink for one partition's batch, as the source's handler: returns
 * `done` once every record is sent or counted, `retry` when the sink cannot take the batch now
 * (then nothing is counted twice: the same batch comes again).
 */
export function createPipeline(options: PipelineOptions): {
  handle(records: readonly KafkaRecord[]): Promise<BatchVerdict>;
  stats(): PipelineStats;
} {
  const counts = { received: 0, sent: 0, unresolved: 0, decodeErrors: 0, sinkRetries: 0 };
  const undelivered: Record<UndeliveredReason, number> = {
    pod_excluded: 0,
    container_excluded: 0,
    too_large: 0,
    sink_rejected: 0,
  };
  const limits = options.limits ?? defaultGelfLimits;
  return {
    stats: () => ({ ...counts, undelivered: { ...undelivered } }),
    async handle(records) {
      const payloads: { json: string }[] = [];
      const batchUndelivered: UndeliveredReason[] = [];
      let unresolved = 0;
      let decodeErrors = 0;
      for (const record of records) {
        const decoded = decodeRecord(record, options.decode ?? defaultDecodeOptions);
        if (decoded.decodeError !== undefined) decodeErrors += 1;
        const outcome = enrichRecord(decoded, options.lookup);
        if (outcome.kind === 'exclude') {
          batchUndelivered.push(outcome.reason);
          continue;
        }
        if (outcome.enriched.kubernetes.k8s_unresolved !== undefined) unresolved += 1;
        const encoded = encodeGelf(toGelfInput(outcome.enriched), limits);
        if (encoded.ok) payloads.push({ json: encoded.json });
        else batchUndelivered.push('too_large');
      }
      const sent = await options.sink.send(payloads);
      if (sent.kind === 'retryable') {
        counts.sinkRetries += 1;
        return 'retry';
      }
      counts.received += records.length;
      counts.unresolved += unresolved;
      counts.decodeErrors += decodeErrors;
      for (const reason of batchUndelivered) undelivered[reason] += 1;
      if (sent.kind === 'sent') counts.sent += payloads.length;
      else undelivered.sink_rejected += payloads.length;
      return 'done';
    },
  };
}
