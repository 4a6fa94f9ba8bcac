import { syslogLevel } from '../encode/level.js';
import { hasVisibleText, jsonText } from '../encode/text.js';
import type { DecodedRecord, DecodeErrorCode, KafkaRecord, RecordIdentity } from '../record.js';

export interface DecodeOptions {
  /** Larger values are not parsed: their start is kept as text, with `too_large`. */
  readonly maxRecordBytes: number;
}

export const defaultDecodeOptions: DecodeOptions = { maxRecordBytes: 4 * 1024 * 1024 };

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lossyUtf8 = new TextDecoder('utf-8');

/** Message fields of common loggers, in order of preference: pino/bunyan/zap/logrus, winston/ECS, docker. */
const messageKeys = ['msg', 'message', 'log', 'text'] as const;
const levelKeys = ['level', 'log.level', 'severity', 'levelname', 'lvl'] as const;
const timeKeys = ['time', 'timestamp', '@timestamp', 'ts', 'date'] as const;

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A name (host, pod…) with something in it: blank or control-only text names nothing to Graylog. */
function str(value: unknown): string | undefined {
  return typeof value === 'string' && hasVisibleText(value) ? value : undefined;
}

/**
 * The last instant Graylog can index, 9999-12-31T23:59:59.999Z: it writes timestamps with a
 * four-digit year, so a later one (a nanosecond epoch read as microseconds, `+275760-…`) would not
 * be stored. Times after it, and at or before the epoch, are not the record's real time.
 */
const latestMillis = 253_402_300_799_999;

/** epoch seconds, milliseconds or microseconds by magnitude; ISO 8601 strings. */
export function timeMillis(value: unknown): number | undefined {
  let millis: number | undefined;
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) {
    if (value > 1e14)
      millis = Math.round(value / 1000); // microseconds
    else if (value > 1e11)
      millis = Math.round(value); // milliseconds
    else millis = Math.round(value * 1000); // seconds (zap's float ts)
  } else if (typeof value === 'string' && value.trim() !== '') {
    if (/^\d+(\.\d+)?$/.test(value.trim())) return timeMillis(Number(value));
    millis = Date.parse(value);
  }
  return millis !== undefined && millis > 0 && millis <= latestMillis ? millis : undefined;
}

/** Identity as the SDK writes it (`k8s`), as Fluentd/Fluent Bit do (`kubernetes.pod_name`) and as ECS does. */
function identityOf(record: JsonObject): { identity: RecordIdentity; consumed: string[] } {
  const k8s = record.k8s;
  if (isObject(k8s)) {
    return {
      identity: clean({
        pod: str(k8s.pod),
        namespace: str(k8s.namespace),
        node: str(k8s.node),
        podUid: str(k8s.pod_uid),
        podIp: str(k8s.pod_ip),
        container: str(k8s.container),
      }),
      consumed: ['k8s'],
    };
  }
  const kubernetes = record.kubernetes;
  if (isObject(kubernetes)) {
    const pod = kubernetes.pod;
    const node = kubernetes.node;
    const container = kubernetes.container;
    return {
      identity: clean({
        pod: str(kubernetes.pod_name) ?? (isObject(pod) ? str(pod.name) : undefined),
        namespace: str(kubernetes.namespace_name) ?? str(kubernetes.namespace),
        podUid: str(kubernetes.pod_id) ?? (isObject(pod) ? str(pod.uid) : undefined),
        podIp: isObject(pod) ? str(pod.ip) : undefined,
        node: str(kubernetes.host) ?? (isObject(node) ? str(node.name) : undefined),
        container: str(kubernetes.container_name) ?? (isObject(container) ? str(container.name) : undefined),
      }),
      consumed: ['kubernetes'],
    };
  }
  return { identity: {}, consumed: [] };
}

function clean(identity: Record<string, string | undefined>): RecordIdentity {
  const known: Record<string, string> = {};
  for (const key in identity) {
    const value = identity[key];
    if (value !== undefined) known[key] = value;
  }
  return known;
}

/** `<namespace>/<pod>`, the SDK's default key, when the value itself names no pod. */
function identityFromKey(key: Buffer | null): RecordIdentity {
  const text = key?.toString('utf8') ?? '';
  const match = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/.exec(text);
  return match === null ? {} : { namespace: match[1] as string, pod: match[3] as string };
}

function readLevel(record: JsonObject): { level: number | undefined; key: string | undefined } {
  for (const key of levelKeys) {
    if (key in record) return { level: syslogLevel(record[key]), key };
  }
  const log = record.log;
  if (isObject(log) && 'level' in log) return { level: syslogLevel(log.level), key: undefined };
  return { level: undefined, key: undefined };
}

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function looksBinary(bytes: Buffer): boolean {
  const length = Math.min(bytes.length, 512);
  let control = 0;
  // Indexed, not for…of: this runs for every record and the iterator costs more than the check.
  for (let i = 0; i < length; i += 1) {
    const byte = bytes[i] ?? 0;
    if (byte === 0) return true;
    if (byte < 9 || (byte > 13 && byte < 32)) control += 1;
  }
  return control > length * 0.1;
}

/** A record that is only text (or not even that): the message is the value itself. */
function textRecord(
  source: KafkaRecord,
  message: string,
  error?: { code: DecodeErrorCode; detail: string },
  fields: JsonObject = {},
): DecodedRecord {
  return {
    source,
    format: error?.code === 'empty' || error?.code === 'binary' ? 'unreadable' : 'text',
    message,
    level: undefined,
    timestampMillis: source.timestampMillis,
    host: undefined,
    identity: identityFromKey(source.key),
    fields,
    ...(error === undefined ? {} : { decodeError: error }),
  };
}

/**
 * Decodes one Kafka record, never throwing: the SDK's records, any JSON object from other
 * loggers (bunyan, winston, zap, logrus, ECS), plain text; and empty, binary, invalid UTF-8,
 * truncated or gigantic values become records that carry a `decodeError` instead of vanishing.
 */
export function decodeRecord(source: KafkaRecord, options: DecodeOptions = defaultDecodeOptions): DecodedRecord {
  const bytes = source.value;
  if (bytes === null || bytes.length === 0) {
    return textRecord(source, '(empty record)', { code: 'empty', detail: 'the Kafka record has no value' });
  }
  if (looksBinary(bytes)) {
    return textRecord(
      source,
      `(binary record, ${bytes.length} bytes)`,
      { code: 'binary', detail: 'the value is not text' },
      { payload_base64: bytes.subarray(0, 4096).toString('base64') },
    );
  }
  if (bytes.length > options.maxRecordBytes) {
    const head = lossyUtf8.decode(bytes.subarray(0, options.maxRecordBytes));
    const detail = `${bytes.length} bytes, over the ${options.maxRecordBytes}-byte limit; kept the start as text`;
    return textRecord(source, head, { code: 'too_large', detail });
  }
  let text: string;
  let utf8Error: string | undefined;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    text = lossyUtf8.decode(bytes);
    utf8Error = 'invalid UTF-8 replaced with U+FFFD';
  }
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) {
    if (utf8Error !== undefined) return textRecord(source, text, { code: 'invalid_utf8', detail: utf8Error });
    if (trimmed.startsWith('[') && parsesAsJson(trimmed)) {
      return textRecord(source, text, { code: 'not_an_object', detail: 'a JSON array, not an object' });
    }
    return textRecord(source, text);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch (error) {
    const detail = (error as Error).message;
    const truncated = /end of (JSON )?input|Unterminated string/i.test(detail);
    return textRecord(source, text, { code: truncated ? 'truncated_json' : 'invalid_json', detail });
  }
  if (!isObject(parsed)) return textRecord(source, text, { code: 'not_an_object', detail: 'JSON, but not an object' });
  return fromObject(source, parsed, utf8Error);
}

function fromObject(source: KafkaRecord, record: JsonObject, utf8Error: string | undefined): DecodedRecord {
  const consumed: string[] = [];
  let message: string | undefined;
  for (const key of messageKeys) {
    const value = record[key];
    if (value === undefined) continue;
    message = typeof value === 'string' ? value : jsonText(value);
    consumed.push(key);
    break;
  }
  const { level, key: levelKey } = readLevel(record);
  if (levelKey !== undefined && level !== undefined) consumed.push(levelKey);
  let timestampMillis: number | undefined;
  for (const key of timeKeys) {
    const parsedTime = timeMillis(record[key]);
    if (parsedTime === undefined) continue;
    timestampMillis = parsedTime;
    consumed.push(key);
    break;
  }
  const host = str(record.hostname) ?? str(record.host);
  if (str(record.hostname) !== undefined) consumed.push('hostname');
  const { identity, consumed: identityKeys } = identityOf(record);
  consumed.push(...identityKeys);
  const fields: JsonObject = {};
  for (const key of Object.keys(record)) {
    if (consumed.includes(key)) continue;
    // Defined, not assigned: a "__proto__" key stays plain data instead of setting the prototype.
    if (key === '__proto__')
      Object.defineProperty(fields, key, { value: record[key], enumerable: true, writable: true, configurable: true });
    else fields[key] = record[key];
  }
  const schema = source.headers['graybridge-schema'];
  if (schema !== undefined && 'version' in fields) {
    // The SDK's `version` is the service's version; GELF has a `version` of its own.
    fields.service_version = fields.version;
    delete fields.version;
  }
  const fromKey = identity.pod === undefined ? identityFromKey(source.key) : {};
  return {
    source,
    format: schema !== undefined ? 'graybridge' : 'json',
    message: message ?? '',
    level,
    timestampMillis: timestampMillis ?? source.timestampMillis,
    host,
    identity: { ...fromKey, ...identity },
    fields,
    ...(utf8Error === undefined ? {} : { decodeError: { code: 'invalid_utf8' as const, detail: utf8Error } }),
  };
}
