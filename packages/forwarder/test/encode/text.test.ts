import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasVisibleText, jsonText } from '../../src/encode/text.js';

/** `depth` levels of `{"a":[…]}`, as text: what a record can carry far below V8's stringify limit. */
function nested(depth: number): string {
  const open = '{"__proto__":['.repeat(depth);
  const close = ']}'.repeat(depth);
  return `${open}"leaf",1,null,true,"\\ud800"${close}`;
}

describe('jsonText', () => {
  it('is JSON.stringify for what JSON.parse gives', () => {
    const texts = [
      '{"a":1,"b":[true,false,null,"x"],"c":{"d":"\\u0000\\u2028é🔥"},"__proto__":{"e":-0.5},"":[]}',
      '[]',
      '{}',
      '"\\udc00"',
      '12345678901234567890',
    ];
    for (const text of texts) {
      const value: unknown = JSON.parse(text);
      assert.equal(jsonText(value), JSON.stringify(value));
    }
  });

  it('writes values nested far deeper than JSON.stringify can, to the same text', () => {
    const text = nested(100_000);
    const value: unknown = JSON.parse(text);
    assert.throws(() => JSON.stringify(value), RangeError, 'V8 still overflows: this test shows why jsonText exists');
    assert.equal(jsonText(value), text);
  });
});

describe('hasVisibleText', () => {
  it('is false for whitespace and controls only (what Graylog trims away or calls blank), true otherwise', () => {
    for (const blank of [
      '',
      ' ',
      '\t\r\n',
      '\u0000\u0001',
      '\u001c\u001f',
      '\u00a0',
      '\u2028\u2029',
      '\u3000',
      '\ufeff',
    ])
      assert.equal(hasVisibleText(blank), false, JSON.stringify(blank));
    for (const text of ['a', ' a ', '\u0001x', '\u200b', '\u202e', 'é', '🔥', '\ud800'])
      assert.equal(hasVisibleText(text), true, JSON.stringify(text));
  });
});
