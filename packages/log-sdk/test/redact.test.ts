import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRedactKeys, secretCensor } from '../src/redact.js';

const censor = secretCensor(defaultRedactKeys);
const censorText = (text: string): string => censor(Buffer.from(text)).toString();
const censored = (record: object): unknown => JSON.parse(censorText(JSON.stringify(record)));

describe('default secret redaction (on the transport thread)', () => {
  it('censors credentials and auth headers at any depth and in any case, and leaves the rest', () => {
    assert.deepEqual(
      censored({
        password: 'hunter2',
        Token: 't0k',
        user: { name: 'ada', password: 'hun"ter3', profile: { apiKey: 'k3y' } },
        req: { method: 'POST', headers: { authorization: 'Bearer abc', cookie: 'sid=1', accept: '*/*' } },
        card: { number: '4111111111111111' },
        msg: 'login',
      }),
      {
        password: '[Redacted]',
        Token: '[Redacted]',
        user: { name: 'ada', password: '[Redacted]', profile: { apiKey: '[Redacted]' } },
        req: { method: 'POST', headers: { authorization: '[Redacted]', cookie: '[Redacted]', accept: '*/*' } },
        card: { number: '4111111111111111' },
        msg: 'login',
      },
    );
  });

  it('leaves the same words alone inside values, and non-string values as they are', () => {
    const record = { msg: 'user typed "password":"x" into the form', token_count: 3, password_set: true, token: 7 };
    assert.deepEqual(censored(record), record);
  });

  it('censors every line of a chunk, and a broken line cannot reach into the next', () => {
    const lines = [
      JSON.stringify({ password: 'a', msg: 'one' }),
      '{"token":"unterminated',
      JSON.stringify({ msg: 'three', password: 'c' }),
    ];
    assert.deepEqual(censorText(lines.join('\n') + '\n').split('\n'), [
      JSON.stringify({ password: '[Redacted]', msg: 'one' }),
      '{"token":"unterminated',
      JSON.stringify({ msg: 'three', password: '[Redacted]' }),
      '',
    ]);
  });

  it('keeps every byte of UTF-8 text, censored or not, and returns the same Buffer when nothing matched', () => {
    const clean = Buffer.from(JSON.stringify({ msg: 'grüße 日本 🚀', naïve: 'ça va', Pässword: 'x' }) + '\n');
    assert.equal(censor(clean), clean, 'no copy when nothing matched');
    const secret = JSON.stringify({ msg: 'grüße 🚀', password: 'pä"ss🚀' });
    assert.deepEqual(JSON.parse(censorText(secret)), { msg: 'grüße 🚀', password: '[Redacted]' });
  });
});
