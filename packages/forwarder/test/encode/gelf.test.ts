import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultGelfLimits, encodeGelf, sanitizeKey, type GelfInput } from '../../src/encode/gelf.js';

const base: GelfInput = {
  message: 'order received',
  host: 'checkout-7d9f-abcde',
  timestampMillis: 1795403200891,
  level: 6,
  own: { event_id: 'logs-0-42', kafka_topic: 'logs', kafka_partition: 0, kafka_offset: '42' },
  fields: {},
};

function encode(input: Partial<GelfInput>, limits = defaultGelfLimits): Record<string, unknown> {
  const result = encodeGelf({ ...base, ...input }, limits);
  assert.ok(result.ok);
  assert.equal(result.bytes, Buffer.byteLength(result.json));
  return JSON.parse(result.json) as Record<string, unknown>;
}

describe('encodeGelf', () => {
  it('writes the GELF 1.1 basics: host, short_message, timestamp in seconds with ms, level', () => {
    assert.deepEqual(encode({}), {
      version: '1.1',
      host: 'checkout-7d9f-abcde',
      short_message: 'order received',
      timestamp: 1795403200.891,
      level: 6,
      _event_id: 'logs-0-42',
      _kafka_topic: 'logs',
      _kafka_partition: 0,
      _kafka_offset: '42',
    });
  });

  it('never sends a blank short_message or host; multi-line and long messages keep the full text', () => {
    assert.equal(encode({ message: '   ' }).short_message, '(empty message)');
    assert.equal(encode({ host: ' ' }).host, 'unknown');
    assert.equal(encode({ host: undefined }).host, 'unknown');
    const trace = 'Error: boom\n    at handler (app.js:10:5)\n    at next (router.js:3:1)';
    const multi = encode({ message: trace });
    assert.equal(multi.short_message, 'Error: boom');
    assert.equal(multi.full_message, trace);
    const long = 'x'.repeat(300);
    const longOne = encode({ message: long });
    assert.equal(longOne.short_message, 'x'.repeat(250) + '…');
    assert.equal(longOne.full_message, long);
    assert.equal(encode({ message: '\n\nsecond line' }).short_message, 'second line');
  });

  it('defaults an unknown level to informational', () => {
    assert.equal(encode({ level: undefined }).level, 6);
  });

  it('flattens nested objects, keeps booleans and nulls as strings, arrays as JSON, drops empty strings', () => {
    const doc = encode({
      fields: {
        req: { method: 'GET', headers: { 'user-agent': 'curl/8' } },
        ok: true,
        cached: false,
        parent: null,
        items: [1, 'two', { three: 3 }],
        empty: '',
        blank: '   ',
        count: 42,
        ratio: 0.25,
        nothing: {},
      },
    });
    assert.equal(doc._req_method, 'GET');
    assert.equal(doc._req_headers_user_agent, 'curl/8');
    assert.equal(doc._ok, 'true');
    assert.equal(doc._cached, 'false');
    assert.equal(doc._parent, 'null');
    assert.equal(doc._items, '[1,"two",{"three":3}]');
    assert.equal(doc._count, 42);
    assert.equal(doc._ratio, 0.25);
    assert.equal(doc._nothing, '{}');
    assert.equal('_empty' in doc, false);
    assert.equal('_blank' in doc, false);
  });

  it('maps a serialised Error to _err_type, _err_message, _err_stack', () => {
    const doc = encode({
      fields: { err: { type: 'TypeError', message: 'x is undefined', stack: 'TypeError: x…\n  at f' } },
    });
    assert.equal(doc._err_type, 'TypeError');
    assert.equal(doc._err_message, 'x is undefined');
    assert.equal(doc._err_stack, 'TypeError: x…\n  at f');
  });

  it('sanitises keys to [A-Za-z0-9_] without a leading underscore', () => {
    assert.equal(sanitizeKey('http.status code'), 'http_status_code');
    assert.equal(sanitizeKey('_id'), 'id');
    assert.equal(sanitizeKey('__proto__'), 'proto__');
    assert.equal(sanitizeKey('€'), 'field');
    assert.equal(sanitizeKey('a/b\\c@d-e'), 'a_b_c_d_e');
    const doc = encode({ fields: { 'user.name': 'ann', 'path/to': 'x', 'émoji 🎉': 'y', _id: 'mongo' } });
    assert.equal(doc._user_name, 'ann');
    assert.equal(doc._path_to, 'x');
    assert.equal(doc._moji___, 'y');
    assert.equal(doc._id, 'mongo');
  });

  it('resolves collisions deterministically, whatever the key order', () => {
    const one = encode({ fields: { 'a.b': 1, a_b: 2, a: { b: 3 } } });
    const two = encode({ fields: { a: { b: 3 }, a_b: 2, 'a.b': 1 } });
    assert.deepEqual(
      [one._a_b, one._a_b_2, one._a_b_3],
      [3, 1, 2],
      'sorted by original path: a.b (nested), a.b (flat key), a_b',
    );
    assert.deepEqual([two._a_b, two._a_b_2, two._a_b_3], [one._a_b, one._a_b_2, one._a_b_3]);
  });

  it('renames record fields that would take a GELF name or one of graybridge’s', () => {
    const doc = encode({
      fields: { host: 'h', message: 'm', source: 's', timestamp: 't', level: 'l', event_id: 'mine' },
    });
    assert.equal(doc.host, 'checkout-7d9f-abcde');
    assert.equal(doc._host_field, 'h');
    assert.equal(doc._message_field, 'm');
    assert.equal(doc._source_field, 's');
    assert.equal(doc._timestamp_field, 't');
    assert.equal(doc._level_field, 'l');
    assert.equal(doc._event_id, 'logs-0-42', 'graybridge’s own field wins');
    assert.equal(doc._event_id_field, 'mine');
  });

  it('truncates an oversized field with a visible marker and lists it in _gb_truncated', () => {
    const result = encodeGelf({ ...base, fields: { body: 'b'.repeat(40_000), small: 'ok' } });
    assert.ok(result.ok);
    assert.deepEqual(result.truncated, ['body']);
    const doc = JSON.parse(result.json) as Record<string, string>;
    assert.equal(doc._body, 'b'.repeat(32_000) + ' …[truncated 8000 chars by graybridge]');
    assert.equal(doc._small, 'ok');
    assert.equal(doc._gb_truncated, 'body');
  });

  it('shrinks the largest values until the document fits the transport limit', () => {
    const limits = { ...defaultGelfLimits, maxMessageBytes: 65_536 };
    const result = encodeGelf(
      { ...base, message: 'line\n' + 'm'.repeat(50_000), fields: { a: 'a'.repeat(30_000), b: 'b'.repeat(20_000) } },
      limits,
    );
    assert.ok(result.ok);
    assert.ok(result.bytes <= 65_536, `${result.bytes} bytes`);
    const doc = JSON.parse(result.json) as Record<string, string>;
    assert.match(doc.full_message ?? '', /truncated \d+ chars by graybridge\]$/);
    assert.match(doc._gb_truncated ?? '', /full_message/);
  });

  it('refuses, for the dead-letter queue, a document that cannot fit at all', () => {
    const fields = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`field${i}`, 'v'.repeat(200)]));
    const result = encodeGelf({ ...base, fields }, { ...defaultGelfLimits, maxMessageBytes: 8192 });
    assert.equal(result.ok, false);
  });

  it('caps the number of fields, keeping the rest as JSON in _fields_overflow', () => {
    const fields = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`f${String(i).padStart(2, '0')}`, i]));
    const doc = encode({ fields }, { ...defaultGelfLimits, maxFields: 10 });
    assert.equal(doc._f09, 9);
    assert.equal('_f10' in doc, false);
    assert.equal(doc._fields_overflow, '{"f10":10,"f11":11}');
  });

  it('stringifies objects nested deeper than maxDepth', () => {
    const doc = encode({ fields: { a: { b: { c: { d: 1 } } } } }, { ...defaultGelfLimits, maxDepth: 2 });
    assert.equal(doc._a_b, '{"c":{"d":1}}');
  });

  it('keeps unicode, emoji and control characters intact through JSON', () => {
    const text = 'naïve 日本語 🎉 \u0001 tab\there';
    const doc = encode({ message: text, fields: { t: text } });
    assert.equal(doc.short_message, text);
    assert.equal(doc._t, text);
  });

  it('serialises exactly as JSON.stringify would, whatever the characters (quotes, controls, lone surrogates)', () => {
    const tricky = [
      'plain',
      'a "quoted" \\ path',
      'tab\tnew\nline\u0000nul\u001f',
      'emoji 🎉 ünïcödé',
      'lone \ud800 high',
      'lone \udc00 low',
      '\u2028\u2029',
      '',
    ];
    for (const text of tricky) {
      const result = encodeGelf({
        ...base,
        message: `m ${text}`,
        fields: { text, nested: { text }, n: -0, big: 1e21, small: 5e-7 },
      });
      assert.ok(result.ok);
      assert.equal(result.json, JSON.stringify(JSON.parse(result.json)), JSON.stringify(text));
      assert.equal(result.bytes, Buffer.byteLength(result.json));
      // …and says what it was given, character for character (an empty value is left out: Graylog drops it).
      const doc = JSON.parse(result.json) as Record<string, unknown>;
      const expected = text === '' ? undefined : text;
      assert.equal(doc._text, expected, JSON.stringify(text));
      assert.equal(doc._nested_text, expected, JSON.stringify(text));
      assert.equal(doc._big, 1e21);
      assert.equal(doc._small, 5e-7);
    }
  });
});
