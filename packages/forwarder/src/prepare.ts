// The pure middle of the pipeline for one batch: decode → enrich → encode, with the enricher's
// lookup passed in. I/O (the source, prefetch, the sink, dead letters) stays in pipeline.ts.
import type { PodLookup, PodQuery } from '@graybridge/enricher';
import type { DeadLetterReason } from './deadletter/dead-letter.js';
import { decodeRecord, type DecodeOptions } from './decode/decode.js';
import { encodeGelf, type GelfLimits } from './encode/gelf.js';
import { toGelfInput } from './encode/to-gelf.js';
import { batchEnricher, namesPod, queryKey, type ExclusionReason } from './enrich/enrich.js';
import type { DecodedRecord, KafkaRecord, RecordIdentity } from './record.js';

export interface PrepareOptions {
  readonly decode: DecodeOptions;
  readonly limits: GelfLimits;
  /** Dead-letter records that could not be decoded instead of sending them with `_decode_error`. */
  readonly deadLetterDecodeErrors: boolean;
  /** Added to every message as graybridge's own fields, e.g. `replay_job`. */
  readonly extraFields?: Readonly<Record<string, string>>;
}

/** What became of a batch's records before sending. */
export interface PreparedRecords {
  /** Encoded GELF documents and their UTF-8 lengths, in record order. */
  readonly payloads: { readonly json: string; readonly bytes: number }[];
  /** For each payload, the index of its record in the batch. */
  readonly payloadRecords: number[];
  /** Records that become dead letters before sending (undecodable, too large). */
  readonly early: {
    readonly index: number;
    readonly identity: RecordIdentity;
    readonly reason: DeadLetterReason;
    readonly error: string;
  }[];
  readonly excluded: ExclusionReason[];
  readonly unresolved: number;
  /** Messages with fields cut to fit. */
  readonly truncated: number;
  readonly decodeErrors: number;
}

export function decodeAll(records: readonly KafkaRecord[], options: DecodeOptions): DecodedRecord[] {
  return records.map((record) => decodeRecord(record, options));
}

/** The distinct pods a batch's records name. */
export function podQueries(decoded: readonly DecodedRecord[]): PodQuery[] {
  const distinct = new Map<string, PodQuery>();
  for (const { identity } of decoded) {
    if (!namesPod(identity)) continue;
    const key = queryKey(identity);
    if (!distinct.has(key)) distinct.set(key, identity);
  }
  return [...distinct.values()];
}

/** enrich → encode for a decoded batch. */
export function prepareDecoded(
  decoded: readonly DecodedRecord[],
  lookup: (query: PodQuery) => PodLookup | undefined,
  options: PrepareOptions,
): PreparedRecords {
  const prepared = {
    payloads: [] as PreparedRecords['payloads'][number][],
    payloadRecords: [] as number[],
    early: [] as PreparedRecords['early'][number][],
    excluded: [] as ExclusionReason[],
    unresolved: 0,
    truncated: 0,
    decodeErrors: 0,
  };
  const { limits, extraFields } = options;
  const enrich = batchEnricher(lookup);
  decoded.forEach((record, index) => {
    if (record.decodeError !== undefined) {
      prepared.decodeErrors += 1;
      if (options.deadLetterDecodeErrors) {
        const { code, detail } = record.decodeError;
        prepared.early.push({ index, identity: record.identity, reason: 'decode_error', error: `${code}: ${detail}` });
        return;
      }
    }
    const outcome = enrich(record);
    if (outcome.kind === 'exclude') {
      prepared.excluded.push(outcome.reason);
      return;
    }
    if (outcome.enriched.kubernetes.k8s_unresolved !== undefined) prepared.unresolved += 1;
    const input = toGelfInput(outcome.enriched);
    const encoded = encodeGelf(
      extraFields === undefined ? input : { ...input, own: { ...input.own, ...extraFields } },
      limits,
    );
    if (encoded.ok) {
      if (encoded.truncated.length > 0) prepared.truncated += 1;
      prepared.payloads.push({ json: encoded.json, bytes: encoded.bytes });
      prepared.payloadRecords.push(index);
    } else {
      const error = `the GELF message is ${encoded.bytes} bytes with every field truncated; the limit is ${limits.maxMessageBytes}`;
      prepared.early.push({ index, identity: record.identity, reason: 'too_large', error });
    }
  });
  return prepared;
}
