import { eventId } from '../encode/to-gelf.js';
import type { KafkaRecord, RecordIdentity } from '../record.js';

/** Why a record went to the dead-letter queue instead of Graylog. */
export type DeadLetterReason =
  /** Its GELF message does not fit the transport's limit even with every field truncated. */
  | 'too_large'
  /** The GELF endpoint refused the message for good (e.g. HTTP 4xx). */
  | 'sink_rejected'
  /** It could not be read and `deadLetters.decodeErrors` is on. */
  | 'decode_error';

export const deadLetterReasons: readonly DeadLetterReason[] = ['too_large', 'sink_rejected', 'decode_error'];

/** A dead letter: the original bytes and where they came from, so it can be replayed as it was. */
export interface DeadLetter {
  /** `<topic>-<partition>-<offset>`, the `_event_id` it would have had (and gets on replay). */
  readonly eventId: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly timestampMillis: number;
  /** base64 of the original key and value; null when Kafka had none. */
  readonly key: string | null;
  readonly value: string | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly reason: DeadLetterReason;
  readonly error: string;
  readonly deadLetteredAtMillis: number;
  /** From the record, for filtering. */
  readonly namespace?: string;
  readonly pod?: string;
}

/**
 * Where dead letters go. `add` resolves only once they are stored: the source commits past a
 * record only after that, and a rejection makes the batch wait (retryable) instead of losing it.
 */
export interface DeadLetterSink {
  add(letters: readonly DeadLetter[]): Promise<void>;
}

export function deadLetterOf(
  record: KafkaRecord,
  identity: RecordIdentity,
  reason: DeadLetterReason,
  error: string,
  now = Date.now(),
): DeadLetter {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(record.headers)) {
    if (value !== undefined) headers[name] = typeof value === 'string' ? value : value.toString('utf8');
  }
  return {
    eventId: eventId(record.topic, record.partition, record.offset),
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    timestampMillis: record.timestampMillis,
    key: record.key?.toString('base64') ?? null,
    value: record.value?.toString('base64') ?? null,
    headers,
    reason,
    error,
    deadLetteredAtMillis: now,
    ...(identity.namespace === undefined ? {} : { namespace: identity.namespace }),
    ...(identity.pod === undefined ? {} : { pod: identity.pod }),
  };
}

/** The record a dead letter was made from, to run it through the pipeline again. */
export function recordOf(letter: DeadLetter): KafkaRecord {
  return {
    topic: letter.topic,
    partition: letter.partition,
    offset: letter.offset,
    timestampMillis: letter.timestampMillis,
    key: letter.key === null ? null : Buffer.from(letter.key, 'base64'),
    value: letter.value === null ? null : Buffer.from(letter.value, 'base64'),
    headers: letter.headers,
  };
}
