/** The stage contracts of the pipeline: source → decode → enrich → encode → sink. */

/** A record as the source read it from Kafka. */
export interface KafkaRecord {
  readonly topic: string;
  readonly partition: number;
  /** As a string: offsets can exceed 2^53. */
  readonly offset: string;
  readonly timestampMillis: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, Buffer | string | undefined>>;
}

/** Which pod a record says it came from; any subset may be known. */
export interface RecordIdentity {
  readonly namespace?: string;
  readonly pod?: string;
  readonly podUid?: string;
  readonly podIp?: string;
  readonly container?: string;
  readonly node?: string;
}

/** Why a record could not be read as intended; the record still goes on, carrying the code. */
export type DecodeErrorCode =
  'empty' | 'binary' | 'invalid_utf8' | 'invalid_json' | 'truncated_json' | 'not_an_object' | 'too_large';

/** The decode stage's output, the enrich stage's input. */
export interface DecodedRecord {
  readonly source: KafkaRecord;
  /** What the value was: the SDK's layout, another logger's JSON, plain text, or unreadable. */
  readonly format: 'graybridge' | 'json' | 'text' | 'unreadable';
  readonly message: string;
  /** Syslog severity, when the record had a recognisable level. */
  readonly level: number | undefined;
  /** The record's own time, else Kafka's. */
  readonly timestampMillis: number;
  readonly host: string | undefined;
  readonly identity: RecordIdentity;
  /** Everything else the record carried, as it was. */
  readonly fields: Readonly<Record<string, unknown>>;
  readonly decodeError?: { readonly code: DecodeErrorCode; readonly detail: string };
}
