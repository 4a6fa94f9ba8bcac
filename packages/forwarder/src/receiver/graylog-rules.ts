import { gunzipSync, inflateSync } from 'node:zlib';

/** What Graylog would index for one GELF payload. */
export interface IndexedMessage {
  /** Graylog's `source`: the GELF host, else the sender, else "unknown". */
  readonly source: string;
  readonly message: string;
  readonly fullMessage?: string;
  readonly timestampMillis: number;
  readonly level?: number;
  /** Additional fields as Graylog stores them: key without the leading `_`, typed value. */
  readonly fields: Readonly<Record<string, string | number>>;
}

export type GelfDecodeResult =
  | { readonly accepted: true; readonly message: IndexedMessage; readonly droppedFields: readonly string[] }
  | { readonly accepted: false; readonly reason: string };

/** Graylog's limit on a decompressed payload. */
export const maxDecompressedBytes = 8 * 1024 * 1024;

const alreadySet = new Set(['host', 'message', 'timestamp', 'source']);
const reserved = new Set(['_id', '_ttl', '_source', '_all', '_index', '_type', '_score']);
const validKey = /^[A-Za-z0-9_.@-]*$/;
const standard = new Set([
  'version',
  'host',
  'short_message',
  'message',
  'full_message',
  'timestamp',
  'level',
  'facility',
  'file',
  'line',
]);

function isZlib(bytes: Buffer): boolean {
  const [b0 = 0, b1 = 0] = bytes;
  return (b0 & 0x0f) === 8 && ((b0 << 8) | b1) % 31 === 0;
}

/** gzip (1f 8b), zlib (78 xx with a valid header check), else plain JSON — as Graylog tells them apart. */
export function decompressPayload(bytes: Buffer): Buffer {
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return gunzipSync(bytes, { maxOutputLength: maxDecompressedBytes });
  if (isZlib(bytes)) return inflateSync(bytes, { maxOutputLength: maxDecompressedBytes });
  return bytes;
}

/** Java's String.trim(), which Graylog applies: strips every char ≤ U+0020, control chars too. */
export function javaTrim(value: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are the point here
  return value.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '');
}

function stringValue(value: unknown): string {
  return value === null ? 'null' : typeof value === 'string' ? value : JSON.stringify(value);
}

/** Graylog reads `line` as a long where it can (numbers truncated, integer strings, true = 1), else as text. */
function lineValue(value: unknown): string | number {
  if (typeof value === 'number' && Number.isFinite(value)) return Math.trunc(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) return Number(value);
  return stringValue(value);
}

/**
 * Graylog's GELF decode rules (GelfDecoder, Message.validKey; see ../shared/research/graylog-gelf.md),
 * applied to one complete payload (TCP frame, HTTP body or reassembled UDP chunks). Returns what
 * Graylog would index, and which fields it would drop silently, or why it would reject the payload.
 */
export function decodeGelfPayload(payload: Buffer, receivedAtMillis: number, sender = 'unknown'): GelfDecodeResult {
  if (payload.length < 2) return { accepted: false, reason: 'payload too short' };
  if (payload[0] === 0x1e && payload[1] === 0x0f)
    return { accepted: false, reason: 'a chunk: reassemble the chunks first' };
  let json: unknown;
  try {
    json = JSON.parse(decompressPayload(payload).toString('utf8'));
  } catch (error) {
    return { accepted: false, reason: `invalid payload: ${(error as Error).message}` };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { accepted: false, reason: 'missing mandatory short_message or message' };
  }
  const gelf = json as Record<string, unknown>;
  if ('host' in gelf && (typeof gelf.host !== 'string' || gelf.host.trim() === '')) {
    return { accepted: false, reason: 'host is present but not a non-blank string' };
  }
  if ('short_message' in gelf && typeof gelf.short_message !== 'string') {
    return { accepted: false, reason: 'short_message is not a string' };
  }
  const short = typeof gelf.short_message === 'string' ? gelf.short_message : '';
  const alternative = typeof gelf.message === 'string' ? gelf.message : '';
  if (short.trim() === '' && alternative.trim() === '') {
    return { accepted: false, reason: 'missing mandatory short_message or message' };
  }
  if ('short_message' in gelf && short === '') {
    // Accepted by the decoder next to a `message`, but dropped later as incomplete (Graylog quirk).
    return { accepted: false, reason: 'empty short_message next to message: dropped as incomplete' };
  }

  const fields: Record<string, string | number> = {};
  const dropped: string[] = [];
  for (const [key, value] of Object.entries(gelf)) {
    if (standard.has(key)) continue;
    const name = key.startsWith('_') ? key.slice(1) : key;
    if (alreadySet.has(name) || reserved.has(name) || !validKey.test(name)) {
      dropped.push(key);
      continue;
    }
    if (value === null || typeof value === 'boolean') {
      dropped.push(key);
      continue;
    }
    if (typeof value === 'string') {
      const trimmed = javaTrim(value);
      if (trimmed === '') dropped.push(key);
      else fields[name] = trimmed;
    } else if (typeof value === 'number') {
      fields[name] = value;
    } else {
      fields[name] = JSON.stringify(value);
    }
  }

  const levelValue =
    typeof gelf.level === 'string' && /^-?\d+(\.\d+)?$/.test(gelf.level.trim()) ? Number(gelf.level) : gelf.level;
  let level: number | undefined;
  if (typeof levelValue === 'number' && Number.isFinite(levelValue) && levelValue >= 0) level = Math.trunc(levelValue);
  else if (gelf.level !== undefined) fields.level = stringValue(gelf.level);

  const timestampValue = typeof gelf.timestamp === 'string' ? Number(gelf.timestamp) : gelf.timestamp;
  const timestampMillis =
    typeof timestampValue === 'number' && Number.isFinite(timestampValue) && timestampValue > 0
      ? Math.round(timestampValue * 1000)
      : receivedAtMillis;

  for (const key of ['file', 'facility'] as const) if (key in gelf) fields[key] = stringValue(gelf[key]);
  if ('line' in gelf) fields.line = lineValue(gelf.line);
  const fullMessage = 'full_message' in gelf ? javaTrim(stringValue(gelf.full_message)) : '';

  return {
    accepted: true,
    droppedFields: dropped,
    message: {
      source: typeof gelf.host === 'string' ? gelf.host : sender,
      // Stored trimmed, like every string field (Message.addField).
      message: javaTrim(short.trim() !== '' ? short : alternative),
      // Graylog's Message.addField trims string values and does not store an empty one.
      ...(fullMessage === '' ? {} : { fullMessage }),
      timestampMillis,
      ...(level === undefined ? {} : { level }),
      fields,
    },
  };
}
