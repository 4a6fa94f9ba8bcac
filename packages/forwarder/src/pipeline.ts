import type { PodLookup, PodQuery } from '@graybridge/enricher';
import { deadLetterOf, type DeadLetter, type DeadLetterReason, type DeadLetterSink } from './deadletter/dead-letter.js';
import { decodeRecord, defaultDecodeOptions, type DecodeOptions } from './decode/decode.js';
import { defaultGelfLimits, encodeGelf, type GelfLimits } from './encode/gelf.js';
import { toGelfInput } from './encode/to-gelf.js';
import { enrichRecord, namesPod, type ExclusionReason } from './enrich/enrich.js';
import type { KafkaRecord, RecordIdentity } from './record.js';
import type { Sink } from './sink/sink.js';
import type { BatchVerdict } from './source/kafka-source.js';

/** Records intentionally not sent (excluded by annotation): counted, not dead-lettered. */
export type UndeliveredReason = ExclusionReason;

export interface PipelineStats {
  readonly received: number;
  readonly sent: number;
  readonly undelivered: Readonly<Record<UndeliveredReason, number>>;
  readonly deadLettered: Readonly<Record<DeadLetterReason, number>>;
  readonly unresolved: number;
  readonly decodeErrors: number;
  readonly sinkRetries: number;
  /** Batches held because their dead letters could not be stored. */
  readonly deadLetterRetries: number;
}

export interface PipelineOptions {
  readonly sink: Sink;
  readonly lookup: (query: PodQuery) => PodLookup | undefined;
  /**
   * Called once per batch with the pods its records name, before any `lookup`: a shared-mode
   * enricher reads what it lacks in one round trip. Must not reject.
   */
  readonly prefetch?: (queries: readonly PodQuery[]) => Promise<void>;
  /** Where undeliverable records go; a batch is done only once they are stored. */
  readonly deadLetters: DeadLetterSink;
  readonly decode?: DecodeOptions;
  readonly limits?: GelfLimits;
  /** Dead-letter records that could not be decoded instead of sending them with `_decode_error`. @defaultValue false */
  readonly deadLetterDecodeErrors?: boolean;
  /** Added to every message as graybridge's own fields, e.g. `replay_job`. */
  readonly extraFields?: Readonly<Record<string, string>>;
}

/**
 * decode → enrich → encode → sink for one partition's batch, as the source's handler. Answers
 * `done` once every record is sent, dead-lettered (stored) or intentionally excluded (counted);
 * `retry` when the sink cannot take the batch now or the dead letters cannot be stored — then
 * nothing is counted, and the same batch comes again.
 */
export function createPipeline(options: PipelineOptions): {
  handle(records: readonly KafkaRecord[]): Promise<BatchVerdict>;
  stats(): PipelineStats;
} {
  const counts = { received: 0, sent: 0, unresolved: 0, decodeErrors: 0, sinkRetries: 0, deadLetterRetries: 0 };
  const undelivered: Record<UndeliveredReason, number> = { pod_excluded: 0, container_excluded: 0 };
  const deadLettered: Record<DeadLetterReason, number> = { too_large: 0, sink_rejected: 0, decode_error: 0 };
  const limits = options.limits ?? defaultGelfLimits;

  const store = async (letters: readonly DeadLetter[]): Promise<boolean> => {
    try {
      await options.deadLetters.add(letters);
      return true;
    } catch {
      counts.deadLetterRetries += 1;
      return false;
    }
  };

  return {
    stats: () => ({ ...counts, undelivered: { ...undelivered }, deadLettered: { ...deadLettered } }),
    async handle(records) {
      const payloads: { json: string }[] = [];
      const sources: { record: KafkaRecord; identity: RecordIdentity }[] = [];
      const letters: DeadLetter[] = [];
      const excluded: UndeliveredReason[] = [];
      let unresolved = 0;
      let decodeErrors = 0;
      const decodedRecords = records.map((record) => decodeRecord(record, options.decode ?? defaultDecodeOptions));
      if (options.prefetch !== undefined) {
        await options.prefetch(decodedRecords.map((decoded) => decoded.identity).filter(namesPod));
      }
      for (const [index, record] of records.entries()) {
        const decoded = decodedRecords[index];
        if (decoded === undefined) continue;
        if (decoded.decodeError !== undefined) {
          decodeErrors += 1;
          if (options.deadLetterDecodeErrors === true) {
            const { code, detail } = decoded.decodeError;
            letters.push(deadLetterOf(record, decoded.identity, 'decode_error', `${code}: ${detail}`));
            continue;
          }
        }
        const outcome = enrichRecord(decoded, options.lookup);
        if (outcome.kind === 'exclude') {
          excluded.push(outcome.reason);
          continue;
        }
        if (outcome.enriched.kubernetes.k8s_unresolved !== undefined) unresolved += 1;
        const input = toGelfInput(outcome.enriched);
        const encoded = encodeGelf(
          options.extraFields === undefined ? input : { ...input, own: { ...input.own, ...options.extraFields } },
          limits,
        );
        if (encoded.ok) {
          payloads.push({ json: encoded.json });
          sources.push({ record, identity: decoded.identity });
        } else {
          const error = `the GELF message is ${encoded.bytes} bytes with every field truncated; the limit is ${limits.maxMessageBytes}`;
          letters.push(deadLetterOf(record, decoded.identity, 'too_large', error));
        }
      }
      // Dead letters known before sending are stored first: if Redis is down nothing is sent twice.
      if (!(await store(letters))) return 'retry';
      const sent = await options.sink.send(payloads);
      if (sent.kind === 'retryable') {
        counts.sinkRetries += 1;
        return 'retry';
      }
      const rejected = (sent.rejected ?? []).flatMap(({ index, error }) => {
        const source = sources[index];
        return source === undefined
          ? []
          : [deadLetterOf(source.record, source.identity, 'sink_rejected', error.message)];
      });
      // If these cannot be stored the batch comes again and its delivered messages are sent again
      // (at least once: the duplicates carry the same _event_id).
      if (!(await store(rejected))) return 'retry';
      counts.received += records.length;
      counts.unresolved += unresolved;
      counts.decodeErrors += decodeErrors;
      counts.sent += payloads.length - rejected.length;
      for (const reason of excluded) undelivered[reason] += 1;
      for (const letter of [...letters, ...rejected]) deadLettered[letter.reason] += 1;
      return 'done';
    },
  };
}
