import type { EnrichedRecord } from '../enrich/enrich.js';
import type { GelfInput } from './gelf.js';

/** `<topic>-<partition>-<offset>`: the same for a redelivery or a replay of the same record. */
export function eventId(topic: string, partition: number, offset: string): string {
  return `${topic}-${partition}-${offset}`;
}

/** Pure: an enriched record as the encoder's input, with graybridge's own fields named. */
export function toGelfInput(enriched: EnrichedRecord): GelfInput {
  const { record, kubernetes } = enriched;
  const source = record.source;
  const own: Record<string, string | number> = {
    event_id: eventId(source.topic, source.partition, source.offset),
    kafka_topic: source.topic,
    kafka_partition: source.partition,
    kafka_offset: source.offset,
  };
  if (record.decodeError !== undefined) {
    own.decode_error = record.decodeError.code;
    if (record.decodeError.detail !== '') own.decode_error_detail = record.decodeError.detail;
  }
  return {
    message: record.message,
    host: kubernetes.k8s_pod ?? record.host,
    timestampMillis: record.timestampMillis,
    level: record.level,
    own,
    kubernetes,
    fields: record.fields,
  };
}
