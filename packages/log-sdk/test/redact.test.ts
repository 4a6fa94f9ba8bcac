import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRedactKeys, secretCensor } from '../src/redact.js';

const censor = secretCensor(defaultRedactKeys);
const censored = (record: object): unknown => JSON.parse(censor(JSON.stringify(record)));

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
    assert.deepEqual(censor(lines.join('\n') + '\n').split('\n'), [
      JSON.stringify({ password: '[Redacted]', msg: 'one' }),
      '{"token":"unterminated',
      JSON.stringify({ msg: 'three', password: '[Redacted]' }),
      '',
    ]);
  });
});
