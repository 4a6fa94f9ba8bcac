import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
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

  it('encodes a pod’s shared kubernetes fields once per object, and names record fields around them', () => {
    const kubernetes = { k8s_pod: 'web-1', k8s_label_app_field: 'web', k8s_label_tier: ' ' };
    const first = encode({ kubernetes, fields: { k8s_label_app: 'record’s own', k8s_label_tier: 'also' } });
    assert.equal(first._k8s_pod, 'web-1');
    assert.equal(first._k8s_label_app_field, 'web', 'the pod’s label keeps its name');
    assert.equal(first._k8s_label_app_field_2, 'record’s own', 'the record’s field renamed past it');
    assert.equal(first._k8s_label_tier_field, 'also');
    assert.equal('_k8s_label_tier' in first, false, 'a blank value is left out, as Graylog would drop it');
    // The same object again (as for every record of the pod in a batch): the same fields.
    const second = encode({ kubernetes, fields: { other: 1 } });
    assert.equal(second._k8s_pod, 'web-1');
    assert.equal(second._k8s_label_app_field, 'web');
    assert.equal(second._other, 1);
    // A value cut to fit is listed each time its encoding is reused.
    const long = { k8s_annotation_note: 'n'.repeat(100) };
    for (let i = 0; i < 2; i += 1) {
      const result = encodeGelf({ ...base, kubernetes: long }, { ...defaultGelfLimits, maxFieldChars: 40 });
      assert.ok(result.ok);
      assert.deepEqual(result.truncated, ['k8s_annotation_note']);
      assert.match(
        String((JSON.parse(result.json) as Record<string, unknown>)._k8s_annotation_note),
        /^n{40} …\[truncated 60/,
      );
    }
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

describe('encodeGelf: what the fuzzing found Graylog would refuse or drop', () => {
  it('a message of control characters gets the placeholder: Graylog trims it to nothing and drops it', () => {
    const controls = encodeGelf({ ...base, message: '\u0001\u0002' });
    assert.ok(controls.ok);
    const doc = JSON.parse(controls.json) as Record<string, unknown>;
    assert.equal(doc.short_message, '(empty message)');
    assert.equal('full_message' in doc, false);
    assert.equal(encode({ message: '\u001f\n  \u0000 \nthe real line\nmore' }).short_message, 'the real line');
  });

  it('a host Java calls blank (U+001C–U+001F) is "unknown": Graylog rejects the whole message', () => {
    assert.equal(encode({ host: '\u001f' }).host, 'unknown');
    assert.equal(encode({ host: '\u0001\u001c' }).host, 'unknown');
  });

  it('leaves out own fields Graylog would drop (a blank annotation), like the record’s', () => {
    const doc = encode({ own: { ...base.own, k8s_annotation_note: ' \t', k8s_label_app: 'web' } });
    assert.equal('_k8s_annotation_note' in doc, false);
    assert.equal(doc._k8s_label_app, 'web');
  });

  it('renames record fields named like graybridge’s own even when this message does not carry them', () => {
    const doc = encode({
      fields: { decode_error: 'mine', k8s_pod: 'p', gb_truncated: 'g', fields_overflow: 'o', kafka_offset: 7 },
    });
    assert.equal('_decode_error' in doc, false, 'a readable record must not be found by _exists_:decode_error');
    assert.equal(doc._decode_error_field, 'mine');
    assert.equal(doc._k8s_pod_field, 'p');
    assert.equal(doc._gb_truncated_field, 'g');
    assert.equal(doc._fields_overflow_field, 'o');
    assert.equal(doc._kafka_offset, '42');
    assert.equal(doc._kafka_offset_field, 7);
    // …and a record field named fields_overflow is no second `_fields_overflow` next to the real one.
    const fields = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`f${String(i).padStart(2, '0')}`, i]));
    const result = encodeGelf(
      { ...base, fields: { ...fields, fields_overflow: 'x' } },
      { ...defaultGelfLimits, maxFields: 10 },
    );
    assert.ok(result.ok);
    assert.equal(result.json.split('"_fields_overflow"').length, 2, 'one _fields_overflow key');
  });

  it('cuts values at 32,000 UTF-8 bytes too: OpenSearch refuses a keyword over 32,766 (an "immense term")', () => {
    const cjk = encode({
      host: '主'.repeat(20_000),
      fields: { text: '字'.repeat(20_000), emoji: '🎉'.repeat(10_000) },
    });
    for (const key of ['host', '_text', '_emoji']) {
      const value = cjk[key] as string;
      assert.ok(Buffer.byteLength(value) <= 32_766, `${key}: ${Buffer.byteLength(value)} bytes`);
      assert.match(value, / …\[truncated \d+ chars by graybridge\]$/);
    }
    assert.equal(cjk._text, '字'.repeat(10_666) + ' …[truncated 9334 chars by graybridge]');
    assert.ok(!/[\ud800-\udbff] …\[/.test(cjk._emoji as string), 'no surrogate pair cut in two');
    assert.equal(cjk._gb_truncated, 'host,text,emoji');
    const own = encode({ own: { ...base.own, k8s_annotation_big: 'é'.repeat(20_000) } });
    assert.ok(Buffer.byteLength(own._k8s_annotation_big as string) <= 32_766);
  });

  it('sends a field nested 100,000 levels deep as JSON instead of throwing (the whole batch failed)', () => {
    const deep: unknown = JSON.parse(`${'['.repeat(100_000)}1${']'.repeat(100_000)}`);
    const result = encodeGelf({ ...base, fields: { deep } });
    assert.ok(result.ok);
    const doc = JSON.parse(result.json) as Record<string, string>;
    assert.match(doc._deep ?? '', /^\[\[\[\[/);
    assert.deepEqual(result.truncated, ['deep']);
  });

  it('does not keep long keys in the sanitising cache (10,000 of them, MiBs each, would stay in memory)', () => {
    // The cache is private: what it holds shows in the heap after a full collection.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const before = process.memoryUsage().heapUsed;
    let lengths = 0;
    for (let i = 0; i < 64; i += 1)
      lengths += sanitizeKey(`${String(i).padStart(4, '0')}${'k'.repeat(1024 * 1024)}`).length;
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    assert.equal(lengths, 64 * 200, 'names are cut to 200 characters');
    assert.ok(grown < 16 * 1024 * 1024, `heap grew by ${Math.round(grown / 2 ** 20)} MiB for 64 MiB of keys`);
  });
});
