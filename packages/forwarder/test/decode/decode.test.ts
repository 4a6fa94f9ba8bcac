import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeRecord, timeMillis } from '../../src/decode/decode.js';
import type { DecodedRecord, KafkaRecord } from '../../src/record.js';

const kafkaTime = 1795403000000;

function record(value: string | Buffer | null, extra: Partial<KafkaRecord> = {}): KafkaRecord {
  return {
    topic: 'logs',
    partition: 0,
    offset: '42',
    timestampMillis: kafkaTime,
    key: null,
    value: typeof value === 'string' ? Buffer.from(value) : value,
    headers: {},
    ...extra,
  };
}

const decode = (value: string | Buffer | null, extra: Partial<KafkaRecord> = {}): DecodedRecord =>
  decodeRecord(record(value, extra));

describe('decodeRecord: loggers', () => {
  it('reads the SDK layout: msg, pino level, epoch ms, hostname, k8s identity; keeps the rest', () => {
    const decoded = decode(
      JSON.stringify({
        level: 50,
        time: 1795403200891,
        pid: 7,
        hostname: 'web-1',
        service: 'checkout',
        version: '1.4.2',
        k8s: { pod: 'web-1', namespace: 'shop', node: 'n1', pod_uid: 'u1', pod_ip: '10.0.0.1', container: 'app' },
        err: { type: 'Error', message: 'boom' },
        msg: 'payment failed',
      }),
      { headers: { 'graybridge-schema': '1' } },
    );
    assert.equal(decoded.format, 'graybridge');
    assert.equal(decoded.message, 'payment failed');
    assert.equal(decoded.level, 3);
    assert.equal(decoded.timestampMillis, 1795403200891);
    assert.equal(decoded.host, 'web-1');
    assert.deepEqual(decoded.identity, {
      pod: 'web-1',
      namespace: 'shop',
      node: 'n1',
      podUid: 'u1',
      podIp: '10.0.0.1',
      container: 'app',
    });
    assert.deepEqual(decoded.fields, {
      pid: 7,
      service: 'checkout',
      err: { type: 'Error', message: 'boom' },
      service_version: '1.4.2',
    });
    assert.equal(decoded.decodeError, undefined);
  });

  it('reads bunyan, winston, zap, logrus and ECS records', () => {
    const cases: [string, object, { message: string; level: number; time: number }][] = [
      [
        'bunyan',
        { name: 'api', hostname: 'h', pid: 1, level: 40, msg: 'slow', time: '2026-11-23T03:00:00.123Z', v: 0 },
        { message: 'slow', level: 4, time: Date.parse('2026-11-23T03:00:00.123Z') },
      ],
      [
        'winston',
        { level: 'warn', message: 'disk low', timestamp: '2026-11-23T03:00:00.000Z' },
        { message: 'disk low', level: 4, time: Date.parse('2026-11-23T03:00:00.000Z') },
      ],
      [
        'zap',
        { level: 'error', ts: 1795403200.5, caller: 'main.go:12', msg: 'oops' },
        { message: 'oops', level: 3, time: 1795403200500 },
      ],
      [
        'logrus',
        { level: 'info', msg: 'ready', time: '2026-11-23T03:00:00+01:00' },
        { message: 'ready', level: 6, time: Date.parse('2026-11-23T02:00:00Z') },
      ],
      [
        'ECS',
        { '@timestamp': '2026-11-23T03:00:00.000Z', 'log.level': 'CRITICAL', message: 'down', ecs: { version: '8' } },
        { message: 'down', level: 2, time: Date.parse('2026-11-23T03:00:00.000Z') },
      ],
    ];
    for (const [logger, value, expected] of cases) {
      const decoded = decode(JSON.stringify(value));
      assert.equal(decoded.format, 'json', logger);
      assert.equal(decoded.message, expected.message, logger);
      assert.equal(decoded.level, expected.level, logger);
      assert.equal(decoded.timestampMillis, expected.time, logger);
    }
  });

  it('reads Fluentd-style and ECS-style kubernetes identity, and the SDK key as a fallback', () => {
    assert.deepEqual(
      decode(
        JSON.stringify({
          log: 'x',
          kubernetes: { pod_name: 'p', namespace_name: 'n', pod_id: 'u', host: 'node', container_name: 'c' },
        }),
      ).identity,
      {
        pod: 'p',
        namespace: 'n',
        podUid: 'u',
        node: 'node',
        container: 'c',
      },
    );
    assert.deepEqual(
      decode(
        JSON.stringify({
          message: 'x',
          kubernetes: { pod: { name: 'p', uid: 'u', ip: '1.2.3.4' }, namespace: 'n', node: { name: 'nd' } },
        }),
      ).identity,
      {
        pod: 'p',
        namespace: 'n',
        podUid: 'u',
        podIp: '1.2.3.4',
        node: 'nd',
      },
    );
    assert.deepEqual(decode('plain text', { key: Buffer.from('shop/web-1') }).identity, {
      namespace: 'shop',
      pod: 'web-1',
    });
    assert.deepEqual(decode('plain text', { key: Buffer.from('not a pod key') }).identity, {});
  });

  it('keeps a non-string message as JSON and an unknown level for the encoder to default', () => {
    const decoded = decode(JSON.stringify({ msg: { nested: true }, level: 'loud' }));
    assert.equal(decoded.message, '{"nested":true}');
    assert.equal(decoded.level, undefined);
    assert.equal(decoded.fields.level, 'loud', 'an unrecognised level stays as a field');
  });

  it('keeps a message nested far deeper than JSON.stringify goes (it threw, and the batch with it)', () => {
    const deep = `${'{"a":['.repeat(100_000)}1${']}'.repeat(100_000)}`;
    const decoded = decode(`{"msg":${deep},"level":30}`);
    assert.equal(decoded.message, deep);
    assert.equal(decoded.decodeError, undefined);
  });

  it('takes a host or pod made only of whitespace or control characters as none', () => {
    const decoded = decode(JSON.stringify({ msg: 'x', hostname: '\u001f', k8s: { pod: '\u0001', namespace: ' ' } }));
    assert.equal(decoded.host, undefined);
    assert.deepEqual(decoded.identity, {});
  });

  it('takes prototype-pollution keys as plain data', () => {
    const decoded = decode('{"msg":"x","__proto__":{"polluted":true},"constructor":{"prototype":{"bad":1}}}');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(Object.keys(decoded.fields).sort(), ['__proto__', 'constructor']);
  });
});

describe('decodeRecord: bad input never disappears', () => {
  const cases: [
    string,
    string | Buffer | null,
    { format: string; code: string | undefined; message: string | RegExp },
  ][] = [
    ['null value', null, { format: 'unreadable', code: 'empty', message: '(empty record)' }],
    ['empty value', '', { format: 'unreadable', code: 'empty', message: '(empty record)' }],
    [
      'binary',
      Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x01, 0x02]),
      { format: 'unreadable', code: 'binary', message: '(binary record, 7 bytes)' },
    ],
    [
      'invalid UTF-8 text',
      Buffer.from([0x68, 0x69, 0xc3, 0x28, 0x21]),
      { format: 'text', code: 'invalid_utf8', message: 'hi\uFFFD(!' },
    ],
    ['truncated JSON', '{"msg":"cut here', { format: 'text', code: 'truncated_json', message: '{"msg":"cut here' }],
    ['invalid JSON', '{"msg": nope}', { format: 'text', code: 'invalid_json', message: '{"msg": nope}' }],
    ['JSON array', '[1,2,3]', { format: 'text', code: 'not_an_object', message: '[1,2,3]' }],
    ['plain text', 'GET /health 200', { format: 'text', code: undefined, message: 'GET /health 200' }],
    ['bracketed text', '[INFO] started', { format: 'text', code: undefined, message: '[INFO] started' }],
    ['JSON with no message', '{"level":30}', { format: 'json', code: undefined, message: '' }],
  ];
  for (const [name, value, expected] of cases) {
    it(`${name} → ${expected.code ?? 'no error'}`, () => {
      const decoded = decode(value);
      assert.equal(decoded.format, expected.format);
      assert.equal(decoded.decodeError?.code, expected.code);
      if (typeof expected.message === 'string') assert.equal(decoded.message, expected.message);
      else assert.match(decoded.message, expected.message);
      assert.equal(decoded.timestampMillis, kafkaTime);
    });
  }

  it('keeps the start of a gigantic record as text, flagged too_large', () => {
    const decoded = decodeRecord(record('{"msg":"' + 'x'.repeat(2000) + '"}'), { maxRecordBytes: 100 });
    assert.equal(decoded.decodeError?.code, 'too_large');
    assert.equal(decoded.message.length, 100);
  });

  it('keeps the first 4 KiB of a binary value as base64', () => {
    const decoded = decode(Buffer.alloc(10_000, 0));
    assert.equal(decoded.fields.payload_base64, Buffer.alloc(4096, 0).toString('base64'));
  });
});

describe('timeMillis', () => {
  it('reads seconds, milliseconds, microseconds and ISO strings', () => {
    assert.equal(timeMillis(1795403200), 1795403200000);
    assert.equal(timeMillis(1795403200.25), 1795403200250);
    assert.equal(timeMillis(1795403200891), 1795403200891);
    assert.equal(timeMillis(1795403200891123), 1795403200891);
    assert.equal(timeMillis('1795403200891'), 1795403200891);
    assert.equal(timeMillis('2026-11-23T03:00:00Z'), Date.parse('2026-11-23T03:00:00Z'));
    assert.equal(timeMillis('yesterday'), undefined);
    assert.equal(timeMillis(-5), undefined);
  });

  it('takes no time Graylog could not index: after 9999 or not after 1970 (the Kafka time stands in)', () => {
    assert.equal(timeMillis('9999-12-31T23:59:59.999Z'), 253402300799999);
    assert.equal(timeMillis('+010000-01-01T00:00:00Z'), undefined);
    assert.equal(timeMillis('+275760-09-13T00:00:00.000Z'), undefined);
    assert.equal(timeMillis(1e308), undefined);
    assert.equal(timeMillis(1795403200891000000), undefined, 'nanoseconds, read as microseconds, are year 58,000');
    assert.equal(timeMillis('1969-12-31T23:59:59Z'), undefined);
    assert.equal(timeMillis(0.0001), undefined);
    assert.equal(decode(JSON.stringify({ msg: 'x', time: '+275760-09-13T00:00:00.000Z' })).timestampMillis, kafkaTime);
  });
});
