// Property-based fuzzing of decode → enrich → encode (issue #10, "bad input"): every generated Kafka
// record goes through the forwarder's own pipeline (pipelineFromConfig with the default config)
// into a sink that applies the transport's size limit the way the sinks do (shrinkEncoded), and
// every message that comes out is checked against Graylog's decode rules.
//
// GRAYBRIDGE_FUZZ_RUNS: how many records to generate in all (default 20,000; `npm run
// test:faults` sets 1,000,000). GRAYBRIDGE_FUZZ_SEED: fast-check's seed (fixed by default, so a
// failure is reproducible; a failure prints its seed, path and counterexample).
//
// The properties run in a worker thread: a record that never returns blocks only the worker, and
// the test, watching its progress counter, stops it and says which property hung.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { Enricher, PodLookup, PodMetadata, PodQuery } from '@graybridge/enricher';
import fc from 'fast-check';
import { loadConfig } from '../../src/config/load.js';
import type { ForwarderConfig } from '../../src/config/schema.js';
import type { DeadLetter, DeadLetterSink } from '../../src/deadletter/dead-letter.js';
import { shrinkEncoded } from '../../src/encode/gelf.js';
import { ForwarderError, ForwarderErrorCodes } from '../../src/errors.js';
import type { pipelineFromConfig } from '../../src/forwarder.js';
import { decodeGelfPayload, javaTrim } from '../../src/receiver/graylog-rules.js';
import { maxChunks } from '../../src/receiver/chunks.js';
import type { KafkaRecord } from '../../src/record.js';
import type { GelfPayload, RejectedPayload, Sink, SinkOutcome } from '../../src/sink/sink.js';
import { fuzzRuns, fuzzSeed } from './settings.js';

const defaultRecords = 20_000;
/** The worker is stopped when no batch has finished for this long. */
const stallMillis = 60_000;

// ---------------------------------------------------------------------------------------------
// The plan: which properties, how many records each. Shared by the test and its worker.

interface WorkerInput {
  readonly seed: number;
  readonly records: number;
  /** [index of the running property, batches finished]: the watchdog reads it. */
  readonly progress: SharedArrayBuffer;
}

type WorkerMessage =
  | {
      readonly kind: 'result';
      readonly name: string;
      readonly records: number;
      readonly slowestMillis: number;
      readonly millis: number;
      /** How the records came out (delivered, dead-lettered by reason…): the properties were not vacuous. */
      readonly outcomes: Readonly<Record<string, number>>;
      readonly failure?: string;
    }
  | { readonly kind: 'pollution'; readonly problems: readonly string[] };

/** Shares of the record budget; `huge` is a run count of its own (each record is 1–8 MiB). */
const shares = {
  'random bytes, invalid UTF-8': 0.12,
  'text and unicode edge cases': 0.12,
  'logger-shaped records with wrong-typed fields': 0.4,
  'arbitrary JSON objects, prototype and colliding keys': 0.14,
  'truncated and corrupted JSON': 0.14,
  'deep nesting (50 to 100,000 levels)': 0.08,
} as const;
const hugeName = 'huge strings (1 to 8 MiB)';
const propertyNames = [...Object.keys(shares), hugeName];

// ---------------------------------------------------------------------------------------------
// Worker: the properties.

async function runWorker(input: WorkerInput): Promise<void> {
  const port = parentPort;
  if (port === null) return;
  const counters = new Int32Array(input.progress);
  const prototypeKeys = snapshotPrototypes();
  const arbitraries = recordArbitraries();
  // Only the worker needs the forwarder (Kafka, BullMQ, Redis clients…): a second of imports.
  const { pipelineFromConfig } = await import('../../src/forwarder.js');
  for (const [index, name] of propertyNames.entries()) {
    const harness = new Harness(pipelineFromConfig);
    Atomics.store(counters, 0, index);
    const share = (shares as Record<string, number | undefined>)[name];
    // A batch holds 1–8 records (4.2 on average); huge records come one per batch.
    const numRuns =
      share === undefined
        ? Math.max(10, Math.ceil(input.records / 10_000))
        : Math.max(10, Math.ceil((input.records * share) / 4));
    const batch =
      share === undefined
        ? hugeRecordArbitrary().map((spec) => [spec] as const)
        : fc.array(arbitraries[name as keyof typeof shares], { minLength: 1, maxLength: 8, size: 'max' });
    const stats = { records: 0, slowestMillis: 0 };
    const property = fc.asyncProperty(
      batch,
      fc.constantFrom<Transport>('tcp', 'http', 'udp'),
      fc.boolean(),
      async (specs, transport, deadLetterDecodeErrors) => {
        const records = specs.map((spec, i) => kafkaRecord(spec, i));
        const started = performance.now();
        await harness.check(records, transport, deadLetterDecodeErrors);
        const millis = performance.now() - started;
        stats.records += records.length;
        stats.slowestMillis = Math.max(stats.slowestMillis, Math.round(millis));
        Atomics.add(counters, 1, 1);
        // No hang: even 8 MiB of input is decoded and encoded in well under a second.
        const inputMiB = records.reduce((sum, r) => sum + (r.value?.length ?? 0), 0) / 2 ** 20;
        assert.ok(millis < 5000 + 1000 * inputMiB, `the batch took ${Math.round(millis)} ms`);
      },
    );
    const started = performance.now();
    let failure: string | undefined;
    try {
      await fc.assert(property, {
        seed: input.seed + index,
        numRuns,
        // The assertion's message in the report: it goes to the main thread as text.
        includeErrorInReport: true,
        ...(share === undefined ? { examples: hugeExamples } : {}),
        ...(name.startsWith('deep') ? { examples: deepExamples } : {}),
      });
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
    const message: WorkerMessage = {
      kind: 'result',
      name,
      records: stats.records,
      slowestMillis: stats.slowestMillis,
      millis: Math.round(performance.now() - started),
      outcomes: harness.outcomes,
      ...(failure === undefined ? {} : { failure }),
    };
    port.postMessage(message);
  }
  port.postMessage({ kind: 'pollution', problems: pollution(prototypeKeys) } satisfies WorkerMessage);
}

function snapshotPrototypes(): Map<object, string[]> {
  return new Map(
    [Object.prototype, Array.prototype, Function.prototype, String.prototype].map((proto) => [
      proto,
      Reflect.ownKeys(proto).map(String),
    ]),
  );
}

function pollution(before: Map<object, string[]>): string[] {
  const problems: string[] = [];
  for (const [proto, keys] of before) {
    const now = Reflect.ownKeys(proto).map(String);
    const added = now.filter((key) => !keys.includes(key));
    if (added.length > 0) problems.push(`new keys on a prototype: ${added.join(', ')}`);
  }
  const probe = {} as Record<string, unknown>;
  for (const key of ['polluted', 'isAdmin', 'x', 'pod', 'level']) {
    if (probe[key] !== undefined) problems.push(`({}).${key} is set (${typeof probe[key]})`);
  }
  if (Object.getPrototypeOf(probe) !== Object.prototype) problems.push('the prototype of {} changed');
  return problems;
}

// ---------------------------------------------------------------------------------------------
// The pipeline as `graybridge forward` builds it, with in-memory ends.

type Transport = 'tcp' | 'http' | 'udp';

/** Graylog's GELF TCP input closes the connection on a frame over `max_message_size` (2 MiB). */
const graylogTcpFrameBytes = 2 * 1024 * 1024;

function configWith(env: Record<string, string>): ForwarderConfig {
  return loadConfig({
    argv: [],
    env: { GRAYBRIDGE_KAFKA_BROKERS: 'kafka:9092', GRAYBRIDGE_GELF_HOST: 'graylog', ...env },
  }).config;
}

/**
 * The transport's size limit, as the sinks apply it: a message over it is shrunk (`shrinkEncoded`,
 * what the HTTP and UDP sinks call) or, when it cannot fit, refused for the dead-letter queue.
 * UDP's limit is taken uncompressed (compression `none`): gzip only makes a message smaller.
 */
class TransportSink implements Sink {
  readonly endpoint = 'fuzz://graylog';
  delivered: { readonly json: string; readonly index: number }[] = [];

  constructor(readonly limitBytes: number) {}

  healthy(): boolean {
    return true;
  }

  send(batch: readonly GelfPayload[]): Promise<SinkOutcome> {
    const rejected: RejectedPayload[] = [];
    let shrunk = 0;
    for (const [index, { json }] of batch.entries()) {
      if (Buffer.byteLength(json) <= this.limitBytes) {
        this.delivered.push({ json, index });
        continue;
      }
      const smaller = shrinkEncoded(json, this.limitBytes);
      if (smaller === undefined) {
        const error = new ForwarderError(ForwarderErrorCodes.sinkRejected, `does not fit ${this.limitBytes} bytes`);
        rejected.push({ index, error });
      } else {
        shrunk += 1;
        this.delivered.push({ json: smaller, index });
      }
    }
    return Promise.resolve({
      kind: 'sent',
      ...(rejected.length === 0 ? {} : { rejected }),
      ...(shrunk === 0 ? {} : { shrunk }),
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

class MemoryDeadLetters implements DeadLetterSink {
  readonly letters: DeadLetter[] = [];

  add(letters: readonly DeadLetter[]): Promise<void> {
    this.letters.push(...letters);
    return Promise.resolve();
  }
}

/** Pod names the fake enricher knows; records name them, and others, at random. */
const knownPods = ['web-1', 'excluded-pod', 'sidecar-pod', 'gone-pod'] as const;
const podNames = [...knownPods, 'unknown-pod', 'web-1 ', '\u001f', ' ', 'constructor', '__proto__', 'pod\u0000x'];

function podOf(name: string, extra: Partial<PodMetadata>): PodMetadata {
  return {
    name,
    namespace: 'shop',
    uid: `uid-${name}`,
    node: 'node-1',
    podIp: '10.0.0.7',
    hostNetwork: false,
    // Keys and values an apiserver allows, and some it would not, for the encoder to cope with.
    labels: {
      'app.kubernetes.io/name': 'web',
      ['__proto__']: 'proto-label',
      constructor: 'ctor',
      '': 'empty-key',
      '!!!': 'bangs',
      blank: ' ',
      control: '\u0001\u0002',
      'emoji🔥': '🔥',
    },
    annotations: {
      'example.com/note': 'line one\nline two',
      'example.com/blank': '\t',
      'example.com/rtl': '\u202eabc',
    },
    containers: [{ name: 'app', image: 'registry/web:1.2.3' }],
    controller: { kind: 'ReplicaSet', name: 'web-7d9f' },
    controls: { exclude: false, excludeContainers: [] },
    resourceVersion: '1',
    ...extra,
  };
}

const pods: Readonly<Record<(typeof knownPods)[number], PodLookup>> = {
  'web-1': {
    pod: podOf('web-1', {}),
    namespaceLabels: { team: 'shop', 'kubernetes.io/metadata.name': 'shop', hasOwnProperty: 'x' },
    owner: { kind: 'Deployment', name: 'web' },
    deleted: false,
  },
  'excluded-pod': {
    pod: podOf('excluded-pod', { controls: { exclude: true, excludeContainers: [] } }),
    namespaceLabels: undefined,
    owner: undefined,
    deleted: false,
  },
  'sidecar-pod': {
    pod: podOf('sidecar-pod', {
      containers: [{ name: 'istio-proxy', image: 'istio/proxyv2' }],
      controls: { exclude: false, excludeContainers: ['istio-proxy'] },
    }),
    namespaceLabels: undefined,
    owner: undefined,
    deleted: false,
  },
  'gone-pod': { pod: podOf('gone-pod', {}), namespaceLabels: {}, owner: undefined, deleted: true },
};

/** An enricher that knows four pods: the pure enrich stage, without watches. */
const fakeEnricher: Enricher = {
  ready: () => Promise.resolve(),
  lookup: (query: PodQuery) =>
    query.pod !== undefined && Object.hasOwn(pods, query.pod) ? pods[query.pod as keyof typeof pods] : undefined,
  resolve: (query: PodQuery) => Promise.resolve(fakeEnricher.lookup(query)),
  prefetch: () => Promise.resolve(),
  stats: () => {
    throw new Error('the pipeline does not read enricher stats');
  },
  stop: () => Promise.resolve(),
};

class Harness {
  readonly outcomes: Record<string, number> = {};
  private readonly configs = {
    send: configWith({}),
    deadLetter: configWith({ GRAYBRIDGE_DEAD_LETTERS_DECODE_ERRORS: 'true' }),
  };

  constructor(private readonly pipelineOf: typeof pipelineFromConfig) {}

  /** The limit a delivered message must fit for each transport, from the default config. */
  private limitOf(transport: Transport): number {
    const gelf = this.configs.send.gelf;
    if (transport === 'http') return gelf.httpMaxBodyBytes - 1; // the HTTP sink keeps a byte for the newline
    if (transport === 'udp') return maxChunks * gelf.udpChunkBytes;
    return Math.min(gelf.maxMessageBytes, graylogTcpFrameBytes - 1); // and the frame's \0
  }

  async check(records: readonly KafkaRecord[], transport: Transport, deadLetterDecodeErrors: boolean): Promise<void> {
    const config = deadLetterDecodeErrors ? this.configs.deadLetter : this.configs.send;
    const limit = this.limitOf(transport);
    const sink = new TransportSink(limit);
    const deadLetters = new MemoryDeadLetters();
    const pipeline = this.pipelineOf(config, { sink, enricher: () => fakeEnricher, deadLetters });
    const verdict = await pipeline.handle(records);
    assert.equal(verdict, 'done', 'in-memory ends never ask for a retry');

    // Every record accounted for exactly once: delivered, dead-lettered or excluded by its pod.
    const byId = new Map(records.map((record) => [eventIdOf(record), record]));
    const outcomes = new Map<string, string>();
    const account = (id: string, outcome: string): void => {
      assert.ok(byId.has(id), `${outcome} ${id} is not from this batch`);
      assert.equal(outcomes.get(id), undefined, `${id} came out twice: ${outcomes.get(id) ?? ''} and ${outcome}`);
      outcomes.set(id, outcome);
    };
    for (const { json } of sink.delivered) {
      const problems = gelfProblems(json, limit);
      assert.deepEqual(problems, [], `a message Graylog would not take as sent:\n${json.slice(0, 2000)}`);
      const doc = JSON.parse(json) as Record<string, unknown>;
      const id = String(doc._event_id);
      account(id, 'delivered');
      const record = byId.get(id);
      if (record !== undefined) checkDecodeErrorField(record, doc, deadLetterDecodeErrors);
    }
    for (const letter of deadLetters.letters) {
      account(letter.eventId, `dead-lettered (${letter.reason})`);
      const record = byId.get(letter.eventId);
      assert.ok(record !== undefined);
      assert.equal(letter.value, record.value?.toString('base64') ?? null, 'a dead letter keeps the original value');
      assert.ok(letter.error !== '', 'a dead letter says why');
      if (letter.reason === 'decode_error') {
        assert.ok(deadLetterDecodeErrors, 'decode errors are sent, not dead-lettered, by default');
        assert.notEqual(undecodable(record), false, 'a readable record was dead-lettered as undecodable');
      }
    }
    const stats = pipeline.stats();
    const excluded = stats.undelivered.pod_excluded + stats.undelivered.container_excluded;
    const count = (outcome: string, n: number): void => {
      if (n > 0) this.outcomes[outcome] = (this.outcomes[outcome] ?? 0) + n;
    };
    count('delivered', sink.delivered.length);
    count('with _decode_error', stats.decodeErrors - (deadLetterDecodeErrors ? stats.deadLettered.decode_error : 0));
    count('shrunk to fit', stats.truncated);
    count('excluded', excluded);
    for (const [reason, n] of Object.entries(stats.deadLettered)) count(`dead-lettered ${reason}`, n);
    assert.equal(stats.received, records.length);
    assert.equal(outcomes.size + excluded, records.length, 'records that vanished');
    assert.equal(stats.sent, sink.delivered.length);
    for (const [id, record] of byId) {
      if (outcomes.has(id)) continue;
      // Only records that name an excluded pod may be missing, and they are counted.
      const text = `${record.key?.toString('latin1') ?? ''}${record.value?.toString('latin1') ?? ''}`;
      assert.ok(/excluded-pod|sidecar-pod/.test(text), `${id} neither delivered, dead-lettered nor excluded`);
    }
  }
}

function eventIdOf(record: KafkaRecord): string {
  return `${record.topic}-${record.partition}-${record.offset}`;
}

// ---------------------------------------------------------------------------------------------
// The oracle: what Graylog takes, and what graybridge promises (docs/gelf-fields.md).

const standardFields = new Set(['version', 'host', 'short_message', 'full_message', 'timestamp', 'level']);
/** Java's Character.isWhitespace, by which Graylog calls a host or short_message blank. */
// eslint-disable-next-line no-control-regex -- U+001C–U+001F are whitespace to Java
const javaBlank = /^(?:(?![\u00a0\u2007\u202f])[\t\n\v\f\r\u001c-\u001f\p{Zs}\u2028\u2029])*$/u;
/** 9999-12-31T23:59:59.999Z: Graylog writes timestamps with a four-digit year. */
const latestSeconds = 253_402_300_799.999;
/**
 * Graylog indexes string fields (and the source) as OpenSearch keywords, and OpenSearch refuses a
 * message with a keyword over 32,766 UTF-8 bytes.
 */
const maxKeywordBytes = 32_766;

function gelfProblems(json: string, limitBytes: number): string[] {
  const problems: string[] = [];
  const bytes = Buffer.byteLength(json);
  if (bytes > limitBytes) problems.push(`${bytes} bytes, over the transport's ${limitBytes}`);
  // eslint-disable-next-line no-control-regex -- a raw NUL would split a TCP frame
  if (/\u0000/.test(json)) problems.push('a raw NUL');
  const decoded = decodeGelfPayload(Buffer.from(json), Date.now(), 'fuzz');
  if (!decoded.accepted) return [...problems, `Graylog rejects it: ${decoded.reason}`];
  if (decoded.droppedFields.length > 0) problems.push(`Graylog drops fields: ${decoded.droppedFields.join(', ')}`);
  // Message.isComplete: a message its Java trim empties is dropped.
  if (decoded.message.message === '') problems.push('short_message is empty once Graylog trims it');
  const doc = JSON.parse(json) as Record<string, unknown>;
  if (doc.version !== '1.1') problems.push('version is not "1.1"');
  if (typeof doc.host !== 'string' || javaBlank.test(doc.host)) problems.push('host is blank to Graylog');
  else if (Buffer.byteLength(doc.host) > maxKeywordBytes) problems.push('host is too long to index');
  if (typeof doc.short_message !== 'string' || javaBlank.test(doc.short_message) || javaTrim(doc.short_message) === '')
    problems.push('short_message is blank to Graylog');
  const ts = doc.timestamp;
  if (typeof ts !== 'number' || !Number.isFinite(ts) || ts > latestSeconds || Math.round(ts * 1000) / 1000 !== ts)
    problems.push(`timestamp ${String(ts)} is not seconds with at most 3 decimals Graylog can index`);
  if (typeof doc.level !== 'number' || !Number.isInteger(doc.level) || doc.level < 0 || doc.level > 7)
    problems.push(`level ${String(doc.level)} is not a syslog severity`);
  if ('full_message' in doc && typeof doc.full_message !== 'string') problems.push('full_message is not a string');
  for (const [key, value] of Object.entries(doc)) {
    if (standardFields.has(key)) continue;
    // The GELF spec's ^[\w.-]*$ and Graylog's, narrowed to what graybridge promises: [A-Za-z0-9_].
    if (!/^_[A-Za-z0-9_]+$/.test(key)) problems.push(`key ${JSON.stringify(key)}`);
    if (typeof value === 'string') {
      const bytes = Buffer.byteLength(value);
      if (bytes > maxKeywordBytes) problems.push(`${key} is ${bytes} bytes, too long to index`);
    } else if (typeof value !== 'number' || !Number.isFinite(value)) {
      problems.push(`${key} is ${typeof value}, not a string or a finite number`);
    }
  }
  return problems;
}

/**
 * Whether the value cannot be read as intended, judged without the decoder: true when it must
 * carry `_decode_error`, false when it must not, undefined when the decoder may judge (text with
 * control bytes may count as binary).
 */
function undecodable(record: KafkaRecord): boolean | undefined {
  const bytes = record.value;
  if (bytes === null || bytes.length === 0) return true;
  if (bytes.length > 4 * 1024 * 1024) return true; // decode.maxRecordBytes by default
  if (bytes.subarray(0, 512).includes(0)) return true;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return true;
  }
  const trimmed = text.trim();
  let parsed: unknown;
  let parses = true;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    parses = false;
  }
  if (trimmed.startsWith('{')) return !(parses && typeof parsed === 'object' && parsed !== null);
  if (trimmed.startsWith('[') && parses) return true;
  // eslint-disable-next-line no-control-regex -- plain text without control bytes is plain text
  return /[\u0000-\u0008\u000e-\u001f]/.test(text) ? undefined : false;
}

function checkDecodeErrorField(record: KafkaRecord, doc: Record<string, unknown>, deadLettered: boolean): void {
  const expected = undecodable(record);
  const marked = typeof doc._decode_error === 'string';
  const id = eventIdOf(record);
  if (expected === true) {
    assert.ok(!deadLettered, `${id} is undecodable and should have been dead-lettered`);
    assert.ok(marked, `${id} is undecodable but has no _decode_error`);
  }
  if (expected === false) assert.ok(!marked, `${id} is readable but marked ${String(doc._decode_error)}`);
}

// ---------------------------------------------------------------------------------------------
// Generators. A record is generated as a small spec (its value as JSON text or bytes), so a
// failing case prints readably; huge and deep values are built from a spec when the run starts.

interface RecordSpec {
  readonly value: string | Uint8Array | null;
  readonly key: string | Uint8Array | null;
  readonly sdk: boolean;
  readonly timestampMillis: number;
  readonly partition: number;
  readonly offset: bigint;
}

/** A value too large to print: built when the run starts, printed as its spec. */
interface BuiltSpec {
  readonly build: () => Buffer;
  readonly [fc.toStringMethod]: () => string;
}

function kafkaRecord(spec: RecordSpec | BuiltSpec, index: number): KafkaRecord {
  if ('build' in spec) {
    return {
      topic: 'logs',
      partition: 0,
      offset: String(index),
      timestampMillis: 1_795_403_200_000,
      key: null,
      value: spec.build(),
      headers: {},
    };
  }
  const bytes = (v: string | Uint8Array | null): Buffer | null =>
    v === null ? null : typeof v === 'string' ? Buffer.from(v) : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return {
    topic: 'logs',
    partition: spec.partition,
    // Unique in the batch, and beyond 2^53 at times: offsets are strings for that.
    offset: String(spec.offset + BigInt(index)),
    timestampMillis: spec.timestampMillis,
    key: bytes(spec.key),
    value: bytes(spec.value),
    headers: spec.sdk ? { 'graybridge-schema': Buffer.from('1') } : {},
  };
}

/** Strings that break naive code: controls, BOM, separators, bidi, combining marks, surrogates. */
const edgeStrings = [
  '',
  ' ',
  '\t',
  '\r\n',
  '\n\n',
  '\u0000',
  '\u0001',
  '\u001f',
  '\u007f',
  '\u0085',
  '\u00a0',
  '\u2007',
  '\u3000',
  '\ufeff',
  '\u2028',
  '\u2029',
  '\u200b',
  '\u200f',
  '\u202e',
  '\u2066',
  'שלום',
  'مرحبا بالعالم',
  'e\u0301',
  'a\u0300\u0301\u0302\u0303\u0304',
  'Z̷̢̛̠͇a̸͓͗l̶̰̈́g̷̣͝o̶̯͑',
  '🔥',
  '👩‍👩‍👧‍👦',
  '🇩🇪',
  '\ud800',
  '\udc00',
  '\udbff\udfff',
  '\ud83d',
  '\ufffd',
  '\uffff',
  'null',
  'true',
  'NaN',
  'Infinity',
  '-0',
  '1e309',
  '"',
  '\\',
  '\\u0000',
  '{',
  '}',
  '[',
  '</script>',
  '%s%n',
  '${jndi:ldap://x}',
  '\u001b[31mred\u001b[0m',
];

const edgeKeys = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '__defineGetter__',
  'isPrototypeOf',
  '',
  ' ',
  '!!!',
  '...',
  '.',
  '_',
  '__',
  '_id',
  '__id',
  'id',
  'a.b',
  'a_b',
  'a-b',
  'a b',
  'A.B',
  'a/b',
  '\u0000',
  '\u0000a',
  'a\u0000b',
  'host',
  'message',
  'msg',
  'level',
  'time',
  'timestamp',
  'source',
  'short_message',
  'full_message',
  'version',
  'facility',
  'file',
  'line',
  'streams',
  'event_id',
  'kafka_topic',
  'kafka_offset',
  'k8s_pod',
  'decode_error',
  'gb_truncated',
  'fields_overflow',
  'service_version',
  'ключ',
  '键',
  '🔥',
  'e\u0301',
  '\u200f',
  '\ufeff',
  '\ud800',
  'x'.repeat(300),
  '1',
  '01',
  '-1',
];

const unicodeText = fc
  .array(
    fc.oneof(
      fc.constantFrom(...edgeStrings),
      fc.string({ unit: 'binary', maxLength: 6 }),
      fc.string({ unit: 'grapheme', maxLength: 6 }),
      fc.string({ maxLength: 12 }),
    ),
    { maxLength: 6 },
  )
  .map((parts) => parts.join(''));

const keyArb = fc.oneof(fc.constantFrom(...edgeKeys), unicodeText, fc.string({ maxLength: 10 }));

/** JSON number texts, some of which JSON.parse reads as Infinity, -0 or a rounded integer. */
const numberText = fc.oneof(
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.constantFrom('1e400', '-1e400', '-0', '0.0', '9007199254740993', '12345678901234567890', '1e21', '5e-324', '1E2'),
);

const leafText = fc.oneof(
  unicodeText.map((s) => JSON.stringify(s)),
  numberText,
  fc.constantFrom('true', 'false', 'null', '""', '"   "', '"\\u0000"', '"\\ud800"', '{}', '[]'),
);

/** JSON text of any value; objects as entries, so `__proto__` and duplicate keys reach the decoder. */
const { value: valueText } = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 6 },
    leafText,
    fc.array(tie('value'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
    fc.array(fc.tuple(keyArb, tie('value')), { maxLength: 5 }).map(objectText),
  ),
}));

function objectText(entries: readonly (readonly [string, string])[]): string {
  return `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(',')}}`;
}

const isoText = fc
  .date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true })
  .map((d) => JSON.stringify(d.toISOString()));

/** What loggers write in a field, or something else entirely. */
const wrongText = fc.oneof(
  valueText,
  fc.constantFrom(
    '"NaN"',
    '"Infinity"',
    '"-Infinity"',
    '1e400',
    '-1e400',
    '"30"',
    '" 30 "',
    '"3e1"',
    '[30]',
    '{"level":30}',
    'null',
    'true',
    '""',
    '"constructor"',
    '"__proto__"',
    '"toString"',
    '"hasOwnProperty"',
    '"INFO"',
    '"warn "',
    '-1',
    '1.5',
    '99999999999999999999999',
    '"2024-13-45T99:99:99Z"',
    '"+275760-09-13T00:00:00.000Z"',
    '"-271821-04-20T00:00:00.000Z"',
    '1e308',
    '0',
    '"0"',
    '1795403200891000000',
    '"1795403200891000000"',
    '"Tue, 01 Jan 2030 00:00:00 GMT"',
    '"1969-12-31T23:59:59Z"',
  ),
);

const levelText = fc.oneof(
  fc.constantFrom(10, 20, 30, 40, 50, 60, 0, 3, 7, 35).map(String),
  fc
    .constantFrom('trace', 'debug', 'info', 'WARN', 'Warning', 'error', 'fatal', 'panic', 'dpanic', 'notice', 'silly')
    .map((s) => JSON.stringify(s)),
  wrongText,
);

const timeText = fc.oneof(
  fc.integer({ min: 1_500_000_000_000, max: 2_000_000_000_000 }).map(String), // ms
  fc.double({ min: 1_500_000_000, max: 2_000_000_000, noNaN: true }).map(String), // zap's seconds
  fc.integer({ min: 1_500_000_000_000, max: 2_000_000_000_000 }).map((ms) => `${ms}123`), // µs
  isoText,
  wrongText,
);

const messageText = fc.oneof(
  unicodeText.map((s) => JSON.stringify(s)),
  wrongText,
);
const podText = fc.constantFrom(...podNames).map((s) => JSON.stringify(s));
const extras = fc.array(fc.tuple(keyArb, valueText), { maxLength: 6 });

/** pino/SDK, bunyan, winston, zap, logrus, ECS and Fluent Bit layouts, every field possibly wrong. */
const loggerShaped = fc.oneof(
  fc.record({
    sdk: fc.boolean(),
    text: fc
      .tuple(levelText, timeText, messageText, podText, podText, valueText, extras)
      .map(([level, time, msg, pod, host, version, more]) =>
        objectText([
          ['level', level],
          ['time', time],
          ['pid', '7'],
          ['hostname', host],
          ['service', '"checkout"'],
          ['version', version],
          [
            'k8s',
            objectText([
              ['pod', pod],
              ['namespace', '"shop"'],
              ['container', '"app"'],
            ]),
          ],
          ...more,
          ['msg', msg],
        ]),
      ),
  }),
  fc
    .tuple(levelText, timeText, messageText, extras)
    .map(([level, time, msg, more]) =>
      objectText([
        ['name', '"api"'],
        ['hostname', '"h"'],
        ['pid', '1'],
        ['level', level],
        ['msg', msg],
        ['time', time],
        ['v', '0'],
        ...more,
      ]),
    )
    .map((text) => ({ sdk: false, text })),
  fc
    .tuple(levelText, messageText, timeText, extras)
    .map(([level, message, timestamp, more]) =>
      objectText([['level', level], ['message', message], ['timestamp', timestamp], ...more]),
    )
    .map((text) => ({ sdk: false, text })),
  fc
    .tuple(levelText, timeText, messageText, extras)
    .map(([level, ts, msg, more]) =>
      objectText([
        ['level', level],
        ['ts', ts],
        ['caller', '"main.go:42"'],
        ['msg', msg],
        ['stacktrace', msg],
        ...more,
      ]),
    )
    .map((text) => ({ sdk: false, text })),
  fc
    .tuple(levelText, messageText, timeText, extras)
    .map(([level, msg, time, more]) => objectText([['level', level], ['msg', msg], ['time', time], ...more]))
    .map((text) => ({ sdk: false, text })),
  fc
    .tuple(timeText, levelText, messageText, podText, extras)
    .map(([ts, level, message, pod, more]) =>
      objectText([
        ['@timestamp', ts],
        ['log.level', level],
        [
          'log',
          objectText([
            ['level', level],
            ['logger', '"app"'],
          ]),
        ],
        ['message', message],
        ['ecs.version', '"8.11.0"'],
        [
          'kubernetes',
          objectText([
            [
              'pod',
              objectText([
                ['name', pod],
                ['uid', '"u"'],
                ['ip', '"10.0.0.7"'],
              ]),
            ],
            ['namespace', '"shop"'],
          ]),
        ],
        ...more,
      ]),
    )
    .map((text) => ({ sdk: false, text })),
  fc
    .tuple(messageText, podText, timeText)
    .map(([log, pod, time]) =>
      objectText([
        ['log', log],
        ['stream', '"stdout"'],
        ['time', time],
        [
          'kubernetes',
          objectText([
            ['pod_name', pod],
            ['namespace_name', '"shop"'],
            ['container_name', '"app"'],
          ]),
        ],
      ]),
    )
    .map((text) => ({ sdk: false, text })),
);

const keyBytes = fc.oneof(
  fc.constant(null),
  fc.constantFrom(...knownPods.map((pod) => `shop/${pod}`), 'shop/unknown-pod', 'not a key', ''),
  fc.uint8Array({ maxLength: 24 }),
);

const recordOf = (value: fc.Arbitrary<{ text: string | Uint8Array | null; sdk: boolean }>): fc.Arbitrary<RecordSpec> =>
  fc
    .record({
      v: value,
      key: keyBytes,
      timestampMillis: fc.oneof(fc.integer({ min: 1_500_000_000_000, max: 2_000_000_000_000 }), fc.constantFrom(-1, 0)),
      partition: fc.nat(1000),
      offset: fc.bigInt({ min: 0n, max: 2n ** 63n - 100n }),
    })
    .map(({ v, ...rest }) => ({ value: v.text, sdk: v.sdk, ...rest }));

const plain = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<{ text: T; sdk: boolean }> =>
  fc.tuple(arb, fc.boolean()).map(([text, sdk]) => ({ text, sdk }));

/** Byte sequences UTF-8 decoders trip on: overlong, surrogates, truncated, out of range, BOM. */
const badUtf8 = [
  [0xc0, 0x80],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xe2, 0x82],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xff],
  [0xfe, 0xff],
  [0xef, 0xbb, 0xbf],
  [0x80],
];

/** A JSON object text with bytes spliced in: invalid UTF-8 inside otherwise good records. */
const corruptedBytes = fc.tuple(valueText, fc.nat(), fc.constantFrom(...badUtf8)).map(([text, at, bad]) => {
  const bytes = Buffer.from(`{"msg":"bytes","v":${text}}`);
  const cut = at % (bytes.length + 1);
  return Uint8Array.from([...bytes.subarray(0, cut), ...bad, ...bytes.subarray(cut)]);
});

/** Truncated, spliced, prefixed and wrapped JSON. */
const brokenJson = fc
  .tuple(
    fc.oneof(
      loggerShaped.map((v) => v.text),
      valueText,
    ),
    fc.nat(),
    fc.constantFrom('truncate', 'insert', 'trailing', 'bom', 'whitespace', 'array', 'two', 'control', 'quote'),
  )
  .map(([text, at, how]) => {
    const cut = at % (text.length + 1);
    switch (how) {
      case 'truncate':
        return text.slice(0, cut);
      case 'insert':
        return text.slice(0, cut) + '}' + text.slice(cut);
      case 'trailing':
        return `${text},`;
      case 'bom':
        return `\ufeff${text}`;
      case 'whitespace':
        return ` \n\t${text}\r\n `;
      case 'array':
        return `[${text}]`;
      case 'two':
        return `${text}\n${text}`;
      case 'control':
        return text.slice(0, cut) + '\u0001' + text.slice(cut);
      case 'quote':
        return text.slice(0, cut) + '"' + text.slice(cut);
    }
  });

function recordArbitraries(): Record<keyof typeof shares, fc.Arbitrary<RecordSpec>> {
  return {
    'random bytes, invalid UTF-8': recordOf(
      plain(
        fc.oneof(
          fc.uint8Array({ maxLength: 1024 }),
          corruptedBytes,
          fc.constantFrom(...badUtf8).map((b) => Uint8Array.from(b)),
          fc.constant(null),
          fc.constant(new Uint8Array(0)),
        ),
      ),
    ),
    'text and unicode edge cases': recordOf(
      plain(
        fc.oneof(
          fc.array(unicodeText, { maxLength: 5 }).map((lines) => lines.join('\n')),
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.constantFrom(...edgeStrings),
          fc.constantFrom('  {', '[1,2', '[1,2,3]', '[]', '"just a string"', '42', 'null', 'true', '{}', '{ }'),
        ),
      ),
    ),
    'logger-shaped records with wrong-typed fields': recordOf(loggerShaped),
    'arbitrary JSON objects, prototype and colliding keys': recordOf(
      plain(
        fc.oneof(
          fc.array(fc.tuple(keyArb, valueText), { maxLength: 12 }).map(objectText),
          fc.jsonValue({ maxDepth: 6, stringUnit: 'binary' }).map((v) => JSON.stringify({ msg: 'json', v })),
          // Keys that sanitise to the same name, in both orders.
          fc
            .shuffledSubarray(['a.b', 'a_b', 'a-b', 'a b', 'A.B', '_a_b', '__a_b', 'a/b'], { minLength: 2 })
            .map((keys) => objectText([...keys.map((k, i) => [k, String(i)] as const), ['a', '{"b":"nested"}']])),
        ),
      ),
    ),
    'truncated and corrupted JSON': recordOf(plain(fc.oneof(brokenJson, fc.constant('')))),
    'deep nesting (50 to 100,000 levels)': recordOf(plain(deepSpec.map((spec) => deepText(spec)))),
  };
}

interface DeepSpec {
  readonly depth: number;
  readonly shape: 'object' | 'array' | 'mixed';
  readonly key: string;
  readonly where: 'field' | 'message' | 'top';
}

const deepSpec: fc.Arbitrary<DeepSpec> = fc.record({
  depth: fc.oneof(
    { weight: 200, arbitrary: fc.integer({ min: 50, max: 300 }) },
    { weight: 2, arbitrary: fc.constantFrom(1_000, 5_000, 10_000) },
    { weight: 1, arbitrary: fc.constant(100_000) },
  ),
  shape: fc.constantFrom('object', 'array', 'mixed'),
  key: fc.constantFrom('a', '__proto__', 'constructor', '', 'a.b'),
  where: fc.constantFrom('field', 'message', 'top'),
});

/** Built by hand: a recursive generator would itself overflow the stack at these depths. */
function deepText({ depth, shape, key, where }: DeepSpec): string {
  const opens: string[] = [];
  const closes: string[] = [];
  for (let level = 0; level < depth; level += 1) {
    const array = shape === 'array' || (shape === 'mixed' && level % 2 === 1);
    opens.push(array ? '[' : `{${JSON.stringify(key)}:`);
    closes.push(array ? ']' : '}');
  }
  const deep = `${opens.join('')}"leaf"${closes.reverse().join('')}`;
  if (where === 'top') return deep;
  return where === 'message' ? `{"msg":${deep}}` : `{"msg":"deep","deep":${deep}}`;
}

const deepExamples: [[RecordSpec], Transport, boolean][] = [
  [
    [
      {
        value: deepText({ depth: 10_000, shape: 'mixed', key: '__proto__', where: 'field' }),
        key: null,
        sdk: false,
        timestampMillis: 1_795_403_200_000,
        partition: 0,
        offset: 0n,
      },
    ],
    'tcp',
    false,
  ],
];

interface HugeSpec {
  readonly bytes: number;
  readonly unit: string;
  readonly where: 'message' | 'field' | 'text' | 'many-fields' | 'wide' | 'key' | 'binary' | 'invalid-utf8';
}

function hugeRecordArbitrary(): fc.Arbitrary<BuiltSpec> {
  return fc
    .record({
      bytes: fc.integer({ min: 1024 * 1024, max: 8 * 1024 * 1024 }),
      unit: fc.oneof(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }),
        fc.constantFrom(...edgeStrings.filter(Boolean)),
      ),
      where: fc.constantFrom('message', 'field', 'text', 'many-fields', 'wide', 'key', 'binary', 'invalid-utf8'),
    })
    .map(hugeSpec);
}

function hugeSpec(spec: HugeSpec): BuiltSpec {
  return { build: () => hugeValue(spec), [fc.toStringMethod]: () => `huge ${JSON.stringify(spec)}` };
}

function hugeValue({ bytes, unit, where }: HugeSpec): Buffer {
  const text = unit.repeat(Math.max(1, Math.ceil(bytes / Math.max(1, Buffer.byteLength(unit)))));
  switch (where) {
    case 'message':
      return Buffer.from(JSON.stringify({ msg: text, level: 30 }));
    case 'field':
      return Buffer.from(JSON.stringify({ msg: 'big field', big: text, other: text.slice(0, 40_000) }));
    case 'text':
      return Buffer.from(text);
    case 'many-fields': {
      // Hundreds of values over the 32,000-character field limit: cut, then shrunk to fit.
      const fields: Record<string, string> = { msg: 'many fields' };
      const each = 33_000;
      for (let i = 0; i * each < text.length; i += 1) fields[`f${i}`] = text.slice(i * each, (i + 1) * each);
      return Buffer.from(JSON.stringify(fields));
    }
    case 'wide': {
      // Thousands of values too short to cut: over HTTP's 64 KiB they cannot be shrunk to fit.
      const fields: Record<string, string> = { msg: 'wide' };
      const each = 250;
      for (let i = 0; i * each < Math.min(text.length, 2 * 1024 * 1024); i += 1)
        fields[`f${i}`] = text.slice(i * each, (i + 1) * each);
      return Buffer.from(JSON.stringify(fields));
    }
    case 'key':
      return Buffer.from(`{"msg":"huge key",${JSON.stringify(text)}:1,${JSON.stringify(`${text}.x`)}:{"y":2}}`);
    case 'binary':
      return Buffer.alloc(bytes, 0x01);
    case 'invalid-utf8': {
      const json = Buffer.from(JSON.stringify({ msg: 'invalid', v: text }));
      for (let i = 10; i < json.length - 10; i += 4096) json[i] = 0xff;
      return json;
    }
  }
}

const hugeExamples: [[BuiltSpec], Transport, boolean][] = [
  [[hugeSpec({ bytes: 8 * 1024 * 1024, unit: 'é', where: 'message' })], 'http', false],
  [[hugeSpec({ bytes: 4 * 1024 * 1024, unit: 'x', where: 'many-fields' })], 'udp', false],
  // About 95 values of 32,000 characters: more than the encoder's shrinking can take off (too_large).
  [[hugeSpec({ bytes: 4_000_000, unit: 'x', where: 'many-fields' })], 'tcp', false],
  [[hugeSpec({ bytes: 1024 * 1024, unit: 'ab', where: 'wide' })], 'http', false],
];

// ---------------------------------------------------------------------------------------------
// Main thread: one test per property, fed by the worker.

function defineTests(): void {
  const seed = fuzzSeed;
  const records = fuzzRuns(defaultRecords);

  describe(`decode → enrich → encode fuzzing (${records} records, seed ${seed})`, () => {
    const results = new Map<string, { resolve: (m: WorkerMessage) => void; promise: Promise<WorkerMessage> }>();
    for (const name of [...propertyNames, 'pollution']) {
      let resolve: (m: WorkerMessage) => void = () => undefined;
      const promise = new Promise<WorkerMessage>((r) => (resolve = r));
      results.set(name, { resolve, promise });
    }
    let worker: Worker | undefined;
    let watchdog: NodeJS.Timeout | undefined;
    let stopped: string | undefined;
    const started = Date.now();
    let total = 0;

    const stop = (reason: string): void => {
      stopped ??= reason;
      if (watchdog !== undefined) clearInterval(watchdog);
      void worker?.terminate();
      // Every property still waiting learns why.
      for (const [name, { resolve }] of results) {
        resolve({ kind: 'result', name, records: 0, slowestMillis: 0, millis: 0, outcomes: {}, failure: reason });
      }
    };

    before(() => {
      const progress = new SharedArrayBuffer(8);
      const counters = new Int32Array(progress);
      const input: WorkerInput = { seed, records, progress };
      worker = new Worker(new URL(import.meta.url), { workerData: input });
      worker.on('message', (message: WorkerMessage) => {
        results.get(message.kind === 'pollution' ? 'pollution' : message.name)?.resolve(message);
      });
      worker.on('error', (error: Error) => stop(`the fuzz worker failed: ${error.stack ?? error.message}`));
      worker.on('exit', (code) => stop(`the fuzz worker exited (code ${code}) before reporting`));
      let seen = -1;
      let since = Date.now();
      watchdog = setInterval(() => {
        const batches = Atomics.load(counters, 1);
        if (batches !== seen) {
          seen = batches;
          since = Date.now();
          return;
        }
        if (Date.now() - since < stallMillis) return;
        const name = propertyNames[Atomics.load(counters, 0)] ?? '?';
        stop(
          `no batch returned for ${stallMillis / 1000} s in "${name}" (after ${batches} batches): a record hangs ` +
            `the pipeline. Reproduce with GRAYBRIDGE_FUZZ_SEED=${seed} GRAYBRIDGE_FUZZ_RUNS=${records}.`,
        );
      }, 1000);
      watchdog.unref();
    });

    after(() => {
      if (watchdog !== undefined) clearInterval(watchdog);
      void worker?.terminate();
    });

    for (const name of propertyNames) {
      it(name, async (t) => {
        const result = await results.get(name)?.promise;
        assert.ok(result?.kind === 'result');
        if (result.failure !== undefined) assert.fail(result.failure);
        total += result.records;
        const outcomes = Object.entries(result.outcomes)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([outcome, count]) => `${outcome} ${count}`)
          .join(', ');
        t.diagnostic(
          `${result.records} records in ${(result.millis / 1000).toFixed(1)} s, slowest batch ` +
            `${result.slowestMillis} ms; ${outcomes}`,
        );
      });
    }

    it('leaves Object.prototype and Array.prototype as they were', async (t) => {
      const result = await results.get('pollution')?.promise;
      if (result?.kind === 'result') assert.fail(result.failure ?? 'no answer');
      assert.deepEqual(result?.problems, []);
      t.diagnostic(
        `decode → enrich → encode fuzz: ${total} records generated in ${((Date.now() - started) / 1000).toFixed(1)} s ` +
          `(GRAYBRIDGE_FUZZ_RUNS=${records}, GRAYBRIDGE_FUZZ_SEED=${seed})`,
      );
    });
  });
}

// Last: every generator above is initialised by now, in the test and in its worker alike.
if (isMainThread) defineTests();
else void runWorker(workerData as WorkerInput);
