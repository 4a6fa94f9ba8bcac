import type { PodLookup, PodQuery } from '@graybridge/enricher';
import { deadLetterOf, type DeadLetter, type DeadLetterReason, type DeadLetterSink } from './deadletter/dead-letter.js';
import { defaultDecodeOptions, type DecodeOptions } from './decode/decode.js';
import { defaultGelfLimits, type GelfLimits } from './encode/gelf.js';
import type { ExclusionReason } from './enrich/enrich.js';
import { decodeAll, podQueries, prepareDecoded } from './prepare.js';
import type { KafkaRecord, RecordIdentity } from './record.js';
import type { GelfPayload, Sink } from './sink/sink.js';
import type { BatchVerdict } from './source/kafka-source.js';

/** Records intentionally not sent (excluded by annotation): counted, not dead-lettered. */
export type UndeliveredReason = ExclusionReason;

export interface PipelineStats {
  readonly received: number;
  readonly sent: number;
  readonly undelivered: Readonly<Record<UndeliveredReason, number>>;
  readonly deadLettered: Readonly<Record<DeadLetterReason, number>>;
  readonly unresolved: number;
  /**
   * Times a sent message had fields cut (marked in `_gb_truncated`): at encoding, to fit
   * `gelf.maxMessageBytes`, and again by the sink to fit its transport (128 UDP chunks, an HTTP body).
   */
  readonly truncated: number;
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
 * nothing is counted, and the same batch (the same array) comes again: it goes on from where it
 * stopped, without decoding, enriching, encoding, storing or sending again what is done.
 */
export function createPipeline(options: PipelineOptions): {
  handle(records: readonly KafkaRecord[]): Promise<BatchVerdict>;
  stats(): PipelineStats;
} {
  const counts = {
    received: 0,
    sent: 0,
    unresolved: 0,
    truncated: 0,
    decodeErrors: 0,
    sinkRetries: 0,
    deadLetterRetries: 0,
  };
  const undelivered: Record<UndeliveredReason, number> = { pod_excluded: 0, container_excluded: 0 };
  const deadLettered: Record<DeadLetterReason, number> = { too_large: 0, sink_rejected: 0, decode_error: 0 };
  const limits = options.limits ?? defaultGelfLimits;
  const decodeOptions = options.decode ?? defaultDecodeOptions;

  const store = async (letters: readonly DeadLetter[]): Promise<boolean> => {
    try {
      await options.deadLetters.add(letters);
      return true;
    } catch {
      counts.deadLetterRetries += 1;
      return false;
    }
  };

  const prepareOptions = {
    decode: decodeOptions,
    limits,
    deadLetterDecodeErrors: options.deadLetterDecodeErrors === true,
    ...(options.extraFields === undefined ? {} : { extraFields: options.extraFields }),
  };

  /** decode → enrich → encode, once per batch: a held batch is retried from here, not redone. */
  const prepare = async (records: readonly KafkaRecord[]): Promise<PreparedBatch> => {
    const decoded = decodeAll(records, decodeOptions);
    const queries = podQueries(decoded);
    if (options.prefetch !== undefined && queries.length > 0) await options.prefetch(queries);
    const prepared = prepareDecoded(decoded, options.lookup, prepareOptions);
    return {
      payloads: prepared.payloads,
      sources: prepared.payloadRecords.map((index) => decoded[index] as DecodedSource),
      early: prepared.early.map(({ index, identity, reason, error }) =>
        deadLetterOf(records[index] as KafkaRecord, identity, reason, error),
      ),
      earlyStored: false,
      rejected: undefined,
      excluded: prepared.excluded,
      unresolved: prepared.unresolved,
      truncated: prepared.truncated,
      decodeErrors: prepared.decodeErrors,
    };
  };
  // Keyed by the records array the source hands in again on a retry; gone with it when abandoned.
  const held = new WeakMap<readonly KafkaRecord[], PreparedBatch>();

  return {
    stats: () => ({ ...counts, undelivered: { ...undelivered }, deadLettered: { ...deadLettered } }),
    async handle(records) {
      let batch = held.get(records);
      if (batch === undefined) {
        batch = await prepare(records);
        held.set(records, batch);
      }
      // Dead letters known before sending are stored first (once): if Redis is down nothing is sent.
      if (!batch.earlyStored) {
        if (!(await store(batch.early))) return 'retry';
        batch.earlyStored = true;
      }
      if (batch.rejected === undefined) {
        const sent = await options.sink.send(batch.payloads);
        if (sent.kind === 'retryable') {
          counts.sinkRetries += 1;
          return 'retry';
        }
        const sources = batch.sources;
        batch.rejected = (sent.rejected ?? []).flatMap(({ index, error }) => {
          const source = sources[index];
          return source === undefined
            ? []
            : [deadLetterOf(source.source, source.identity, 'sink_rejected', error.message)];
        });
        batch.truncated += sent.shrunk ?? 0;
      }
      // Sent already: a retry only stores what the endpoint refused, it does not send again.
      if (!(await store(batch.rejected))) return 'retry';
      held.delete(records);
      counts.received += records.length;
      counts.unresolved += batch.unresolved;
      counts.truncated += batch.truncated;
      counts.decodeErrors += batch.decodeErrors;
      counts.sent += batch.payloads.length - batch.rejected.length;
      for (const reason of batch.excluded) undelivered[reason] += 1;
      for (const letter of [...batch.early, ...batch.rejected]) deadLettered[letter.reason] += 1;
      return 'done';
    },
  };
}

/** A record and who it says it came from. */
interface DecodedSource {
  readonly source: KafkaRecord;
  readonly identity: RecordIdentity;
}

/** A batch decoded, enriched and encoded, and how far its delivery got. */
interface PreparedBatch {
  readonly payloads: readonly GelfPayload[];
  /** The record behind each payload, for its dead letter if the endpoint refuses it. */
  readonly sources: DecodedSource[];
  /** Dead letters known before sending (too large, undecodable). */
  readonly early: DeadLetter[];
  earlyStored: boolean;
  /** Set once the sink took the batch: what it refused. */
  rejected: DeadLetter[] | undefined;
  readonly excluded: UndeliveredReason[];
  unresolved: number;
  truncated: number;
  decodeErrors: number;
}
