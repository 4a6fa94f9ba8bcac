import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LogSdkError, LogSdkErrorCodes, invalidOption } from '../src/errors.js';

describe('LogSdkError', () => {
  it('carries a stable code, retriable flag and cause', () => {
    const cause = new Error('socket closed');
    const error = new LogSdkError(LogSdkErrorCodes.invalidOption, 'boom', { retriable: true, cause });
    assert.equal(error.name, 'LogSdkError');
    assert.equal(error.code, 'GB_SDK_INVALID_OPTION');
    assert.equal(error.retriable, true);
    assert.equal(error.cause, cause);
    assert.ok(error instanceof Error);
  });

  it('invalidOption names the field, the expectation and the value given', () => {
    for (const [given, shown] of [
      ['x', '"x"'],
      [42, '42'],
      [undefined, 'undefined'],
      [[1], 'an array'],
      [{ a: 1 }, 'an object'],
    ] as const) {
      const error = invalidOption('batch.maxRecords', 'an integer ≥ 1', given);
      assert.equal(error.code, LogSdkErrorCodes.invalidOption);
      assert.equal(error.retriable, false);
      assert.equal(error.message, `invalid option batch.maxRecords: expected an integer ≥ 1, got ${shown}`);
    }
  });
});
