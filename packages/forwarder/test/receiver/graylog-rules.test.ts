import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { defaultGelfLimits, encodeGelf, type GelfInput } from '../../src/encode/gelf.js';
import { decodeGelfPayload, javaTrim, type GelfDecodeResult } from '../../src/receiver/graylog-rules.js';

const now = 1795403300000;
const decode = (value: unknown): GelfDecodeResult =>
  decodeGelfPayload(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)), now, '10.0.0.9');

describe('decodeGelfPayload: Graylog’s rules', () => {
  it('rejects what Graylog rejects', () => {
    const rejected: [unknown, RegExp][] = [
      ['x', /too short/],
      ['{not json', /invalid payload/],
      ['[{"short_message":"x"}]', /missing mandatory/],
      [{ host: 'h' }, /missing mandatory/],
      [{ short_message: '  ', host: 'h' }, /missing mandatory/],
      [{ short_message: 'x', host: '' }, /host is present/],
      [{ short_message: 'x', host: 42 }, /host is present/],
      [{ short_message: 5 }, /short_message is not a string/],
      [{ short_message: '', message: 'x' }, /dropped as incomplete/],
    ];
    for (const [payload, reason] of rejected) {
      const result = decode(payload);
      assert.equal(result.accepted, false, JSON.stringify(payload));
      assert.match(result.reason, reason);
    }
  });

  it('drops silently what Graylog drops: booleans, nulls, empty strings, reserved and invalid keys', () => {
    const result = decode({
      short_message: 'x',
      host: 'h',
      _ok: true,
      _none: null,
      _empty: '  ',
      _source: 's',
      __id: 'x',
      '_bad key': 'v',
      _id: 'kept as id',
      '_a.b@c-d': 'legal',
    });
    assert.ok(result.accepted);
    assert.deepEqual(result.message.fields, { id: 'kept as id', 'a.b@c-d': 'legal' });
    assert.deepEqual([...result.droppedFields].sort(), ['__id', '_bad key', '_empty', '_none', '_ok', '_source']);
  });

  it('reads timestamp seconds, level numbers and strings, missing host as the sender; decompresses gzip and zlib, not raw deflate', () => {
    const body = { short_message: 'x', timestamp: '1795403200.891', level: '3.7', _n: 1.5, _o: { a: 1 } };
    for (const payload of [
      gzipSync(JSON.stringify(body)),
      deflateSync(JSON.stringify(body)),
      Buffer.from(JSON.stringify(body)),
    ]) {
      const result = decodeGelfPayload(payload, now, '10.0.0.9');
      assert.ok(result.accepted);
      assert.equal(result.message.timestampMillis, 1795403200891);
      assert.equal(result.message.level, 3);
      assert.equal(result.message.source, '10.0.0.9');
      assert.deepEqual(result.message.fields, { n: 1.5, o: '{"a":1}' });
    }
    assert.equal(decodeGelfPayload(deflateRawSync(JSON.stringify(body)), now).accepted, false);
    const noTime = decode({ short_message: 'x', timestamp: -1 });
    assert.equal(noTime.accepted && noTime.message.timestampMillis, now);
  });
});

describe('our encoder against Graylog’s rules', () => {
  const base: GelfInput = {
    message: 'm',
    host: 'h',
    timestampMillis: 1795403200891,
    level: 6,
    own: { event_id: 'logs-0-1' },
    fields: {},
  };
  const corpus: [string, Partial<GelfInput>][] = [
    ['unicode and emoji', { message: 'naïve 日本語 🎉', fields: { t: 'ünïcödé 🚀' } }],
    ['control characters', { message: 'a\u0001b\u0007c', fields: { c: '\u0000\u001f', d: '\u0001x\u0002' } }],
    ['multi-line stack', { message: 'Error: x\n    at a (a.js:1:1)\n    at b (b.js:2:2)' }],
    ['empty message', { message: '' }],
    ['booleans and nulls', { fields: { yes: true, no: false, nothing: null } }],
    ['arrays', { fields: { list: [1, [2, 3], { four: 4 }] } }],
    ['deep nesting', { fields: { a: { b: { c: { d: { e: { f: { g: { h: { i: { j: 1 } } } } } } } } } } }],
    [
      'keys with dots, slashes, spaces, _id',
      { fields: { 'a.b': 1, 'c/d': 2, 'e f': 3, _id: 'x', id: 'y', __proto__x: 'z' } },
    ],
    ['numbers as strings', { fields: { n: '42', f: '3.14' } }],
    ['huge field', { fields: { big: 'x'.repeat(100_000) } }],
    ['GELF names in the record', { fields: { host: 'r', source: 's', message: 'm', timestamp: 1, version: 'v' } }],
    ['no host', { host: undefined }],
  ];
  for (const [name, input] of corpus) {
    it(`every field survives: ${name}`, () => {
      const encoded = encodeGelf({ ...base, ...input }, defaultGelfLimits);
      assert.ok(encoded.ok);
      const result = decodeGelfPayload(Buffer.from(encoded.json), now);
      assert.ok(result.accepted, result.accepted ? '' : result.reason);
      assert.deepEqual(result.droppedFields, [], 'Graylog drops nothing we send');
      const sent = JSON.parse(encoded.json) as Record<string, unknown>;
      for (const [key, value] of Object.entries(sent)) {
        if (!key.startsWith('_')) continue;
        const stored: string | number | undefined = result.message.fields[key.slice(1)];
        assert.equal(stored, typeof value === 'string' ? javaTrim(value) : value, key);
      }
    });
  }
});
