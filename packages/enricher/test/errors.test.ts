import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnricherError, EnricherErrorCodes, invalidOption } from '../src/errors.js';

describe('EnricherError', () => {
  it('carries a stable code, retriable flag and cause', () => {
    const cause = new Error('socket closed');
    const error = new EnricherError(EnricherErrorCodes.invalidOption, 'boom', { retriable: true, cause });
    assert.equal(error.name, 'EnricherError');
    assert.equal(error.code, 'GB_ENRICHER_INVALID_OPTION');
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
      assert.equal(error.code, EnricherErrorCodes.invalidOption);
      assert.equal(error.retriable, false);
      assert.equal(error.message, `invalid option batch.maxRecords: expected an integer ≥ 1, got ${shown}`);
    }
  });
});
