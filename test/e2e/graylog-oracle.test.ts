// Our GELF checked by Graylog's own decoder (graylog2-server 6.3.7's GelfDecoder and
// GelfChunkAggregator, run by the rig): a corpus of hard records goes through our decode → enrich
// → encode, every payload form (plain, gzip, zlib, UDP chunks) must be accepted by Graylog's
// decoder, index the fields docs/gelf-fields.md promises, and our local endpoint's decoder
// (graybridge gelf-receive) must index exactly what Graylog's does.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deflateSync, gzipSync } from 'node:zlib';
import {
  ChunkAggregator,
  decodeGelfPayload,
  decodeRecord,
  enrichRecord,
  type IndexedMessage,
} from '@graybridge/forwarder';
import { encodeGelf, toGelfInput } from '@graybridge/forwarder/encode';
import { gelfChunks } from '@graybridge/forwarder/sinks';
import { useRig } from '@graybridge/rig';
import { GraylogOracle, type OracleAnswer } from '../fixtures/oracle.js';

const rig = useRig(['oracle']);
let oracle: GraylogOracle;
before(() => (oracle = GraylogOracle.start(rig().oracle ?? { java: 'java', classpath: '' })));
after(() => oracle.close());

const time = 1795403200891;
const deep = (depth: number): unknown => (depth === 0 ? 'bottom' : { [`level${depth}`]: deep(depth - 1) });
const levelWords = [
  'trace',
  'debug',
  'info',
  'notice',
  'warn',
  'warning',
  'WARN',
  'error',
  'err',
  'crit',
  'critical',
  'fatal',
  'alert',
  'emerg',
  'panic',
];

/** name → the raw Kafka record value. */
const corpus: Record<string, string | Buffer> = {
  'pino record': JSON.stringify({
    level: 30,
    time,
    pid: 7,
    k8s: { pod: 'web-1', namespace: 'shop' },
    msg: 'order received',
    order: 42,
  }),
  unicode: JSON.stringify({ level: 30, time, msg: 'Grüße, 世界 — مرحبا', city: 'Zürich', emoji: '🎉🚀', rtl: 'עברית' }),
  'control characters': JSON.stringify({
    level: 30,
    time,
    msg: 'tab\there',
    ctl: 'a\u0001b\u001fc',
    blank: ' \t\n',
    nul: 'x\u0000y',
  }),
  'huge field': JSON.stringify({ level: 30, time, msg: 'big', blob: 'z'.repeat(100_000) }),
  'deep nesting': JSON.stringify({ level: 30, time, msg: 'deep', tree: deep(12) }),
  arrays: JSON.stringify({ level: 30, time, msg: 'arrays', tags: ['a', 'b'], mixed: [1, 'x', { y: 2 }], empty: [] }),
  'booleans and nulls': JSON.stringify({ level: 30, time, msg: 'flags', paid: true, express: false, coupon: null }),
  'numbers and numeric strings': JSON.stringify({
    level: 30,
    time,
    msg: 'numbers',
    count: 42,
    ratio: 0.25,
    negative: -7,
    big: 1152921504606846976,
    huge: 1e21,
    asString: '42',
    zip: '01234',
  }),
  'awkward keys': JSON.stringify({
    level: 30,
    time,
    msg: 'keys',
    'user.name': 'ann',
    'a/b': 1,
    'with space': 2,
    _id: 'mine',
    id: 'also mine',
    message: 'a field named message',
    source: 'a field named source',
    __private: 'p',
    ünï: 'u',
    '': 'empty key',
  }),
  ...Object.fromEntries(
    levelWords.map((word) => [`level ${word}`, JSON.stringify({ level: word, time, msg: `at ${word}` })]),
  ),
  'pino numeric levels': JSON.stringify({ level: 60, time, msg: 'fatal by number' }),
  'time in seconds (zap)': JSON.stringify({ level: 'info', ts: time / 1000, msg: 'zap' }),
  'time in microseconds': JSON.stringify({ level: 'info', time: time * 1000, msg: 'micro' }),
  'ISO timestamp (winston, ECS)': JSON.stringify({
    level: 'info',
    timestamp: '2026-11-23T06:00:00.123Z',
    message: 'winston',
  }),
  'ECS @timestamp and log.level': JSON.stringify({
    '@timestamp': '2026-11-23T06:00:00.456Z',
    'log.level': 'warn',
    message: 'ecs',
  }),
  'logrus/bunyan shapes': JSON.stringify({
    level: 'warning',
    time: '2026-11-23T06:00:00Z',
    msg: 'logrus',
    hostname: 'box',
    v: 0,
    name: 'svc',
  }),
  'multi-line stack trace': JSON.stringify({
    level: 50,
    time,
    msg: 'payment failed',
    err: {
      type: 'Error',
      message: 'card declined',
      stack: 'Error: card declined\n    at pay (pay.js:3:9)\n    at main (main.js:1:1)',
    },
  }),
  'multi-line message': JSON.stringify({ level: 30, time, msg: 'first line\nsecond line\n\tthird' }),
  'message with surrounding whitespace': JSON.stringify({ level: 30, time, msg: '  indented\nsecond line\n\n  ' }),
  'long message': JSON.stringify({ level: 30, time, msg: 'x'.repeat(1000) }),
  'empty message': JSON.stringify({ level: 30, time, msg: '' }),
  'no message field': JSON.stringify({ level: 30, time, user: 'ann' }),
  'plain text': 'GET /healthz 200 1ms',
  'truncated JSON': '{"level":30,"msg":"cut',
  binary: Buffer.from([0, 1, 2, 0xff, 0xfe]),
};

function encode(value: string | Buffer): string {
  const outcome = enrichRecord(
    decodeRecord({
      topic: 'logs',
      partition: 0,
      offset: '7',
      timestampMillis: time,
      key: Buffer.from('shop/web-1'),
      value: typeof value === 'string' ? Buffer.from(value) : value,
      headers: {},
    }),
    () => undefined,
  );
  assert.equal(outcome.kind, 'keep');
  const encoded = encodeGelf(toGelfInput(outcome.enriched));
  assert.ok(encoded.ok);
  return encoded.json;
}

/** Our local endpoint's view in the oracle's terms: every stored field, numbers as numbers. */
function ours(message: IndexedMessage): {
  source: string;
  message: string;
  timestampMillis: number;
  fields: Record<string, string | number>;
} {
  return {
    source: message.source,
    message: message.message,
    timestampMillis: message.timestampMillis,
    fields: {
      ...message.fields,
      ...(message.level === undefined ? {} : { level: message.level }),
      ...(message.fullMessage === undefined ? {} : { full_message: message.fullMessage }),
    },
  };
}

function agree(name: string, form: string, graylog: OracleAnswer, local: ReturnType<typeof ours>): void {
  assert.equal(graylog.accepted, true, `${name} (${form}): Graylog refused it: ${graylog.reason ?? ''}`);
  const indexed = graylog.message;
  assert.ok(indexed);
  assert.equal(local.source, indexed.source, `${name} (${form}): source`);
  assert.equal(local.message, indexed.message, `${name} (${form}): message`);
  assert.equal(local.timestampMillis, indexed.timestampMillis, `${name} (${form}): timestamp`);
  assert.deepEqual(local.fields, indexed.fields, `${name} (${form}): fields`);
  for (const [key, value] of Object.entries(local.fields)) {
    const javaType: string = indexed.types[key] ?? '';
    assert.equal(
      typeof value === 'number',
      ['Long', 'Integer', 'Double'].includes(javaType),
      `${name}: ${key} is ${javaType} in Graylog`,
    );
  }
}

describe('our GELF through Graylog’s own decoder (graylog2-server 6.3.7)', () => {
  it('every corpus record, in every payload form, is accepted and indexed exactly as our endpoint indexes it', async () => {
    for (const [name, value] of Object.entries(corpus)) {
      const json = encode(value);
      const plain = Buffer.from(json);
      for (const [form, payload] of [
        ['plain', plain],
        ['gzip', gzipSync(plain)],
        ['zlib', deflateSync(plain)],
      ] as const) {
        const local = decodeGelfPayload(payload, 0);
        assert.ok(local.accepted, `${name} (${form}): our endpoint refused it`);
        assert.deepEqual(local.droppedFields, [], `${name} (${form}): Graylog would drop fields`);
        agree(name, form, await oracle.decode(payload), ours(local.message));
      }
      // Small chunks so that every record is chunked (a payload that fits one datagram is not).
      const chunks = gelfChunks(gzipSync(plain), 64);
      assert.ok(chunks.length > 1);
      const aggregator = new ChunkAggregator();
      let assembled: Buffer | undefined;
      for (const chunk of chunks) assembled = aggregator.add(chunk) ?? assembled;
      assert.ok(assembled, `${name}: our aggregator did not reassemble ${chunks.length} chunks`);
      const local = decodeGelfPayload(assembled, 0);
      assert.ok(local.accepted);
      agree(name, `udp, ${chunks.length} chunks`, await oracle.decodeChunks(chunks), ours(local.message));
    }
  });

  it('indexes the fields docs/gelf-fields.md promises', async () => {
    const index = async (name: string): Promise<NonNullable<OracleAnswer['message']>> => {
      const answer = await oracle.decode(Buffer.from(encode(corpus[name] ?? '')));
      assert.ok(answer.message, answer.reason);
      return answer.message;
    };
    const flags = await index('booleans and nulls');
    assert.deepEqual([flags.fields.paid, flags.fields.express, flags.fields.coupon], ['true', 'false', 'null']);
    const numbers = await index('numbers and numeric strings');
    assert.deepEqual(
      [numbers.types.count, numbers.types.ratio, numbers.types.asString, numbers.fields.zip],
      ['Long', 'Double', 'String', '01234'],
    );
    const keys = await index('awkward keys');
    for (const key of ['user_name', 'a_b', 'with_space', 'id', 'id_2', 'message_field', 'source_field', 'private'])
      assert.ok(key in keys.fields, key);
    const stack = await index('multi-line stack trace');
    assert.equal(stack.message, 'payment failed');
    assert.equal(stack.fields.err_type, 'Error');
    assert.match(String(stack.fields.err_stack), /at pay \(pay\.js:3:9\)/);
    const multi = await index('multi-line message');
    assert.equal(multi.message, 'first line');
    assert.equal(multi.fields.full_message, 'first line\nsecond line\n\tthird');
    const huge = await index('huge field');
    assert.match(String(huge.fields.blob), /…\[truncated 68000 chars by graybridge\]$/);
    assert.equal(huge.fields.gb_truncated, 'blob');
    for (const [word, level] of [
      ['warn', 4],
      ['WARN', 4],
      ['err', 3],
      ['emerg', 0],
      ['notice', 5],
      ['trace', 7],
    ] as const)
      assert.equal((await index(`level ${word}`)).fields.level, level, word);
    const bad = await index('truncated JSON');
    assert.equal(bad.fields.decode_error, 'truncated_json');
    assert.equal((await index('empty message')).message, '(empty message)');
  });

  it('raw GELF from any client: our endpoint accepts, refuses and indexes exactly as Graylog does', async () => {
    const raw: Record<string, unknown> = {
      minimal: { version: '1.1', host: 'h', short_message: 'm' },
      'booleans, nulls, empty and blank strings': {
        version: '1.1',
        host: 'h',
        short_message: 'm',
        _t: true,
        _n: null,
        _e: '',
        _b: ' \t',
      },
      'invalid and reserved keys': {
        version: '1.1',
        host: 'h',
        short_message: 'm',
        '_a.b': 1,
        '_a b': 2,
        _id: 'x',
        __id: 'y',
        _ttl: 3,
        _ü: 4,
        _ok: 5,
      },
      'nested object and array values': { version: '1.1', host: 'h', short_message: 'm', _obj: { a: 1 }, _arr: [1, 2] },
      'level as a string number': { version: '1.1', host: 'h', short_message: 'm', level: '3' },
      'level as a word': { version: '1.1', host: 'h', short_message: 'm', level: 'warning' },
      'timestamp as a string': { version: '1.1', host: 'h', short_message: 'm', timestamp: '1795403200.5' },
      'no host': { version: '1.1', short_message: 'm' },
      'blank host': { version: '1.1', host: '  ', short_message: 'm' },
      'message instead of short_message': { version: '1.1', host: 'h', message: 'from message' },
      'empty short_message next to message': { version: '1.1', host: 'h', short_message: '', message: 'alt' },
      'no message at all': { version: '1.1', host: 'h' },
      'short_message not a string': { version: '1.1', host: 'h', short_message: 42 },
      'facility, file and line': {
        version: '1.1',
        host: 'h',
        short_message: 'm',
        facility: 'app',
        file: 'a.js',
        line: 7,
      },
      'full_message only whitespace': { version: '1.1', host: 'h', short_message: 'm', full_message: '  ' },
      'values with surrounding whitespace': { version: '1.1', host: 'h', short_message: '  m  ', _v: '  padded  ' },
      'not an object': [1, 2, 3],
      'not JSON': 'hello',
    };
    for (const [name, document] of Object.entries(raw)) {
      const payload = Buffer.from(typeof document === 'string' ? document : JSON.stringify(document));
      const graylog = await oracle.decode(payload);
      const local = decodeGelfPayload(payload, 0, '127.0.0.1'); // the oracle's payloads come from 127.0.0.1
      assert.equal(
        local.accepted,
        graylog.accepted,
        `${name}: Graylog ${graylog.accepted ? 'accepts' : `refuses (${graylog.reason ?? ''})`}`,
      );
      if (!local.accepted || !graylog.accepted || graylog.message === undefined) continue;
      const indexed = ours(local.message);
      // Graylog stamps a message without a timestamp with its own clock, as ours does with receivedAt.
      const timestamped = typeof document === 'object' && document !== null && 'timestamp' in document;
      const { source, message, timestampMillis, fields } = graylog.message;
      const graylogIndexed = { source, message, timestampMillis, fields };
      assert.deepEqual(
        { ...indexed, timestampMillis: timestamped ? indexed.timestampMillis : 0 },
        {
          ...graylogIndexed,
          // Without a host the decoder leaves the source empty; Graylog's DecodingProcessor then sets
          // the sender's address, as our endpoint does.
          source: (graylogIndexed.source as string | null) ?? '127.0.0.1',
          timestampMillis: timestamped ? graylogIndexed.timestampMillis : 0,
        },
        name,
      );
    }
  });
});
