import { Syslog } from './level.js';
import { hasVisibleText, jsonText } from './text.js';

/** What the encoder needs of a record: the message, its basics and the fields to attach. */
export interface GelfInput {
  readonly message: string;
  readonly host: string | undefined;
  readonly timestampMillis: number;
  /** Syslog severity; informational when unknown. */
  readonly level: number | undefined;
  /** Graybridge's own fields (`event_id`, `kafka_*`, `k8s_*`…): already named, they win collisions. */
  readonly own: Readonly<Record<string, string | number>>;
  /**
   * The `k8s_*` fields, already named. Records of one pod share the object within a batch, and
   * its encoding is reused for all of them.
   */
  readonly kubernetes?: Readonly<Record<string, string>>;
  /** The record's other fields, nested as they came: flattened and sanitised here. */
  readonly fields: Readonly<Record<string, unknown>>;
}

export interface GelfLimits {
  /** The encoded message must fit this (TCP frame, HTTP body, or UDP chunks × chunk size). */
  readonly maxMessageBytes: number;
  /**
   * Longest additional field value (and host), in characters and in UTF-8 bytes, before truncation:
   * Graylog indexes string fields as OpenSearch keywords, and OpenSearch refuses the whole message
   * when one is over 32,766 bytes (an "immense term"), which 32,000 characters of CJK or emoji are.
   */
  readonly maxFieldChars: number;
  /** Longest short_message, in characters (the rest goes to full_message). */
  readonly maxShortMessageChars: number;
  /** Most additional fields from the record; the rest go, as JSON, into `_fields_overflow`. */
  readonly maxFields: number;
  /** Deepest nesting that is flattened; deeper objects become JSON strings. */
  readonly maxDepth: number;
}

export const defaultGelfLimits: GelfLimits = {
  maxMessageBytes: 1024 * 1024,
  maxFieldChars: 32_000,
  maxShortMessageChars: 250,
  maxFields: 500,
  maxDepth: 8,
};

export type GelfResult =
  | { readonly ok: true; readonly json: string; readonly bytes: number; readonly truncated: readonly string[] }
  | { readonly ok: false; readonly reason: 'too_large'; readonly bytes: number };

/** Standard GELF names and the ones Graylog sets itself: a record field of that name is renamed. */
const takenNames = new Set([
  'version',
  'host',
  'short_message',
  'full_message',
  'timestamp',
  'level',
  'facility',
  'line',
  'file',
  'message',
  'source',
  'streams',
]);

/**
 * Graybridge's own names, whether or not this message carries them: a record's `decode_error` or
 * `k8s_pod` would pass for graybridge's (a readable record found by `_exists_:decode_error`), and
 * its `gb_truncated` or `fields_overflow` would be sent twice under one key.
 */
const ownNames = new Set([
  'event_id',
  'kafka_topic',
  'kafka_partition',
  'kafka_offset',
  'decode_error',
  'decode_error_detail',
  'gb_truncated',
  'fields_overflow',
]);

/** Whether a record field may not have this name as it is (it gets the suffix `_field`). */
function isTaken(name: string, reserved: (name: string) => boolean): boolean {
  return takenNames.has(name) || ownNames.has(name) || name.startsWith('k8s_') || reserved(name);
}

const truncationMarker = (dropped: number): string => ` …[truncated ${dropped} chars by graybridge]`;

/** Records of one service repeat the same keys: their sanitised forms are remembered (bounded). */
const sanitized = new Map<string, string>();
const sanitizedLimit = 10_000;
/**
 * Longer keys are not remembered: they are not the repeated names the cache is for, and it would
 * hold on to up to 10,000 of them, each as long as a record (MiBs).
 */
const sanitizedKeyChars = 256;

/** A key Graylog keeps as it is: `[A-Za-z0-9_]`, no leading underscore (Graylog strips one). */
export function sanitizeKey(key: string): string {
  const known = sanitized.get(key);
  if (known !== undefined) return known;
  const cleaned = key.replace(/[^A-Za-z0-9_]/g, '_').replace(/^_+/, '');
  const name = cleaned === '' ? 'field' : cleaned.slice(0, 200);
  if (key.length > sanitizedKeyChars) return name;
  if (sanitized.size >= sanitizedLimit) sanitized.clear();
  sanitized.set(key, name);
  return name;
}

type Scalar = string | number;

/**
 * Joins nested keys in a path. NUL, not ".", so that `{a:{b}}` and a literal key "a.b" stay
 * distinguishable (and sort apart) until sanitising turns both into `a_b`.
 */
const pathSeparator = '\u0000';

/** Graylog trims field values like Java (every char ≤ U+0020) and drops what is left empty. */
function survivesTrim(value: string): boolean {
  // eslint-disable-next-line no-control-regex -- control characters are the point here
  return /[^\u0000-\u0020]/.test(value);
}

/**
 * Flattens nested objects into `parent_child` paths. Arrays become JSON strings, booleans and
 * null become the strings "true"/"false"/"null" (Graylog would drop them silently), strings of only
 * whitespace and control characters are left out (Graylog drops them too, and they carry nothing).
 */
function flatten(fields: Readonly<Record<string, unknown>>, maxDepth: number): [string, Scalar][] {
  const out: [string, Scalar][] = [];
  const walk = (value: unknown, path: string, depth: number): void => {
    if (typeof value === 'string') {
      if (survivesTrim(value)) out.push([path, value]);
    } else if (typeof value === 'number') {
      out.push([path, Number.isFinite(value) ? value : String(value)]);
    } else if (typeof value === 'boolean' || value === null) {
      out.push([path, String(value)]);
    } else if (Array.isArray(value)) {
      out.push([path, jsonText(value)]);
    } else if (typeof value === 'object') {
      const entries = Object.entries(value);
      if (depth >= maxDepth) out.push([path, jsonText(value)]);
      else if (entries.length === 0) out.push([path, '{}']);
      else for (const [key, child] of entries) walk(child, `${path}${pathSeparator}${key}`, depth + 1);
    }
    // undefined, bigints, functions and symbols cannot come from JSON: nothing to send.
  };
  for (const [key, value] of Object.entries(fields)) walk(value, key, 1);
  return out;
}

/**
 * Names every flattened field: sanitised, renamed when it would take a GELF or graybridge name,
 * and, when several originals sanitise to the same name, the lexicographically first original
 * keeps it and the others get `_2`, `_3`… — the same input always gives the same names.
 */
function nameFields(flat: readonly [string, Scalar][], reserved: (name: string) => boolean): [string, Scalar][] {
  const groups = new Map<string, [string, Scalar][]>();
  for (const [path, value] of flat) {
    let name = sanitizeKey(path);
    if (isTaken(name, reserved)) name = `${name}_field`;
    const group = groups.get(name);
    if (group === undefined) groups.set(name, [[path, value]]);
    else group.push([path, value]);
  }
  const used = new Set<string>();
  const named: [string, Scalar][] = [];
  for (const [name, group] of groups) {
    group.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    group.forEach(([, value], index) => {
      let candidate = index === 0 ? name : `${name}_${index + 1}`;
      for (let n = index + 2; used.has(candidate) || reserved(candidate); n += 1) candidate = `${name}_${n}`;
      used.add(candidate);
      named.push([candidate, value]);
    });
  }
  return named;
}

/**
 * `nameFields` for the common case — no two fields end up with the same name — without its
 * grouping and sorting; any collision falls back to it, so the names are the same either way.
 */
function nameFieldsFast(flat: readonly [string, Scalar][], reserved: (name: string) => boolean): [string, Scalar][] {
  const seen = new Set<string>();
  const named: [string, Scalar][] = [];
  for (const [path, value] of flat) {
    let name = sanitizeKey(path);
    if (isTaken(name, reserved)) name = `${name}_field`;
    if (seen.has(name) || reserved(name)) return nameFields(flat, reserved);
    seen.add(name);
    named.push([name, value]);
  }
  return named;
}

const utf8 = new TextEncoder();
let utf8Scratch = new Uint8Array(0);

/** Characters of `value` to keep for at most `max` characters and `max` UTF-8 bytes; undefined when it fits. */
function keptChars(value: string, max: number): number | undefined {
  if (value.length <= max / 3) return undefined; // a UTF-16 unit is at most 3 UTF-8 bytes
  if (utf8Scratch.length !== max) utf8Scratch = new Uint8Array(max);
  // encodeInto stops before a character that would not fit whole: `read` is a clean cut in bytes.
  let keep = utf8.encodeInto(value.length > max ? value.slice(0, max) : value, utf8Scratch).read;
  if (keep === value.length) return undefined;
  // Nor is a surrogate pair cut in two.
  const last = value.charCodeAt(keep - 1);
  if (last >= 0xd800 && last <= 0xdbff) keep -= 1;
  return keep;
}

/** A value as sent: cut to `max` characters and UTF-8 bytes, with a marker, when longer. */
function cutValue(value: string, max: number): string {
  const keep = keptChars(value, max);
  return keep === undefined ? value : value.slice(0, keep) + truncationMarker(value.length - keep);
}

function capString(value: string, maxChars: number): { value: string; truncated: boolean } {
  if (value.length <= maxChars) return { value, truncated: false };
  return { value: value.slice(0, maxChars) + truncationMarker(value.length - maxChars), truncated: true };
}

/**
 * The first line of the (already trimmed) message with something Graylog keeps, trimmed; never
 * blank: Graylog rejects a blank short_message, and drops as incomplete one that its Java trim
 * empties (a line of control characters).
 */
function shortMessageOf(trimmed: string, maxChars: number): string {
  for (let start = 0; start < trimmed.length;) {
    const end = trimmed.indexOf('\n', start);
    const line = trimmed.slice(start, end === -1 ? undefined : end).trim();
    if (hasVisibleText(line)) return line.length <= maxChars ? line : line.slice(0, maxChars) + '…';
    if (end === -1) break;
    start = end + 1;
  }
  return '(empty message)';
}

/**
 * Encodes one record as a GELF 1.1 JSON document Graylog indexes exactly as docs/gelf-fields.md
 * promises. Oversized values are truncated with a visible marker and listed in `truncated`; if the
 * whole document still exceeds `maxMessageBytes`, the largest values are shortened until it fits,
 * and only a document that cannot fit at all is refused (`too_large`, for the dead-letter queue).
 */
export function encodeGelf(input: GelfInput, limits: GelfLimits = defaultGelfLimits): GelfResult {
  const truncated: string[] = [];
  /** A value as sent: cut to maxFieldChars characters and bytes, with a marker and its name listed. */
  const cut = (name: string, value: string): string => {
    const sent = cutValue(value, limits.maxFieldChars);
    if (sent !== value) truncated.push(name);
    return sent;
  };
  const trimmed = input.message.trim();
  const shortMessage = shortMessageOf(trimmed, limits.maxShortMessageChars);
  // The full text only when it adds something: never for a blank message (Graylog stores no empty field).
  const needsFull = hasVisibleText(trimmed) && trimmed !== shortMessage;
  const entries: [string, Scalar][] = [
    ['version', '1.1'],
    // Graylog rejects the whole message for a blank host (Java's isBlank, U+001C–U+001F included).
    ['host', cut('host', input.host !== undefined && hasVisibleText(input.host) ? input.host : 'unknown')],
    ['short_message', shortMessage],
    ['timestamp', Math.round(input.timestampMillis) / 1000],
    ['level', input.level ?? Syslog.informational],
  ];
  if (needsFull) {
    const full = capString(input.message, limits.maxMessageBytes);
    if (full.truncated) truncated.push('full_message');
    entries.push(['full_message', full.value]);
  }
  const own = ownFields(input.own, limits);
  const kubernetes = input.kubernetes === undefined ? noFields : kubernetesFields(input.kubernetes, limits);
  truncated.push(...own.truncated, ...kubernetes.truncated);
  const reserved = (name: string): boolean => own.names.has(name) || kubernetes.names.has(name);
  let named = nameFieldsFast(flatten(input.fields, limits.maxDepth), reserved);
  if (named.length > limits.maxFields) {
    const overflow = Object.fromEntries(named.slice(limits.maxFields));
    named = named.slice(0, limits.maxFields);
    named.push(['fields_overflow', JSON.stringify(overflow)]);
  }
  const fields: [string, Scalar][] = named.map(([name, value]) => [
    `_${name}`,
    typeof value === 'string' ? cut(name, value) : value,
  ]);
  // The common case: nothing cut and it fits. Serialised straight from the entries — the same
  // text JSON.stringify would give for the object, without building one with hundreds of keys.
  if (truncated.length === 0) {
    const json = `{${serialize(entries)}${own.json}${kubernetes.json}${fields.length === 0 ? '' : ','}${serialize(fields)}}`;
    const bytes = Buffer.byteLength(json);
    if (bytes <= budgetOf(limits)) return { ok: true, json, bytes, truncated: [] };
  }
  return fit(Object.fromEntries([...entries, ...own.entries, ...kubernetes.entries, ...fields]), truncated, limits);
}

/** A group of graybridge's own fields as sent: entries, their JSON (each with a leading comma) and what was cut. */
interface EncodedFields {
  readonly names: ReadonlySet<string>;
  readonly entries: readonly [string, Scalar][];
  readonly json: string;
  readonly truncated: readonly string[];
}

const noFields: EncodedFields = { names: new Set(), entries: [], json: '', truncated: [] };

function ownFields(fields: Readonly<Record<string, string | number>>, limits: GelfLimits): EncodedFields {
  const names = new Set<string>();
  const entries: [string, Scalar][] = [];
  const truncated: string[] = [];
  let json = '';
  for (const key of Object.keys(fields)) {
    names.add(key);
    const value = fields[key] as string | number;
    // Like the record's fields: Graylog would drop a value its trim empties (e.g. a blank annotation).
    if (typeof value === 'string' && !survivesTrim(value)) continue;
    const sent = typeof value === 'string' ? cutValue(value, limits.maxFieldChars) : value;
    if (sent !== value) truncated.push(key);
    entries.push([`_${key}`, sent]);
    json += `,${jsonString(`_${key}`)}:${jsonValue(sent)}`;
  }
  return { names, entries, json, truncated };
}

/** Encodings of `kubernetes` objects: one per pod and batch (see GelfInput.kubernetes). */
const kubernetesEncodings = new WeakMap<object, { readonly limits: GelfLimits; readonly encoded: EncodedFields }>();

function kubernetesFields(fields: Readonly<Record<string, string>>, limits: GelfLimits): EncodedFields {
  const known = kubernetesEncodings.get(fields);
  if (known?.limits === limits) return known.encoded;
  const encoded = ownFields(fields, limits);
  kubernetesEncodings.set(fields, { limits, encoded });
  return encoded;
}

/**
 * Entries as the inside of a JSON object. Names are not escaped: every name here is a GELF name, a
 * graybridge name or a sanitised one, all `[A-Za-z0-9_]`.
 */
function serialize(entries: readonly [string, Scalar][]): string {
  let json = '';
  for (let i = 0; i < entries.length; i += 1) {
    const [key, value] = entries[i] as [string, Scalar];
    json += (i === 0 ? '"' : ',"') + key + '":' + jsonValue(value);
  }
  return json;
}

/** What JSON.stringify would escape in a string: quote, backslash, control characters, surrogates. */
// eslint-disable-next-line no-control-regex -- control characters are the point here
const needsEscaping = /["\\\u0000-\u001f\ud800-\udfff]/;

/** JSON.stringify(text), skipping its call for the usual text that needs no escaping. */
function jsonString(text: string): string {
  return needsEscaping.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/** Numbers here are always finite (flatten turned the others into strings): String() is JSON. */
function jsonValue(value: Scalar): string {
  return typeof value === 'string' ? jsonString(value) : String(value);
}

/** Room left for the _gb_truncated list itself. */
function budgetOf(limits: GelfLimits): number {
  return limits.maxMessageBytes - Math.min(2048, Math.floor(limits.maxMessageBytes / 10));
}

/**
 * Shrinks an already encoded document to `maxBytes` the way the encoder does (longest values cut
 * with a marker), for a sink that learns only after compressing that it does not fit (UDP's 128
 * chunks). Undefined when it cannot fit.
 */
export function shrinkEncoded(json: string, maxBytes: number): string | undefined {
  const document = JSON.parse(json) as Record<string, Scalar>;
  const already = typeof document._gb_truncated === 'string' ? document._gb_truncated.split(',') : [];
  delete document._gb_truncated;
  const result = fit(document, already, { ...defaultGelfLimits, maxMessageBytes: maxBytes });
  return result.ok ? result.json : undefined;
}

/** Shrinks the longest string values until the document fits, or refuses it. */
function fit(document: Record<string, Scalar>, truncated: string[], limits: GelfLimits): GelfResult {
  let json = JSON.stringify(document);
  let bytes = Buffer.byteLength(json);
  const budget = budgetOf(limits);
  // The common case: nothing cut, it fits. The document is serialised once.
  if (truncated.length === 0 && bytes <= budget) return { ok: true, json, bytes, truncated: [] };
  for (let round = 0; bytes > budget && round < 64; round += 1) {
    let longest: string | undefined;
    let longestLength = 256; // values this short are not worth cutting
    for (const [key, value] of Object.entries(document)) {
      if (key !== 'short_message' && typeof value === 'string' && value.length > longestLength) {
        longest = key;
        longestLength = value.length;
      }
    }
    if (longest === undefined) break;
    const value = document[longest] as string;
    const excess = bytes - budget;
    // Characters may be up to 3 bytes in JSON: cut at least the excess, at most half per round.
    const keep = Math.max(128, Math.min(value.length - excess, Math.floor(value.length / 2)));
    document[longest] = value.slice(0, keep) + truncationMarker(value.length - keep);
    truncated.push(longest.startsWith('_') ? longest.slice(1) : longest);
    json = JSON.stringify(document);
    bytes = Buffer.byteLength(json);
  }
  if (bytes > budget) return { ok: false, reason: 'too_large', bytes };
  const names = [...new Set(truncated)];
  document._gb_truncated = names.join(',');
  json = JSON.stringify(document);
  return { ok: true, json, bytes: Buffer.byteLength(json), truncated: names };
}
