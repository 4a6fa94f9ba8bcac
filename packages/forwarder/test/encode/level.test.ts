import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { syslogLevel } from '../../src/encode/level.js';

describe('syslogLevel', () => {
  it('maps pino/bunyan numbers, syslog numbers, numeric strings and words in any case', () => {
    const cases: [unknown, number | undefined][] = [
      [10, 7],
      [20, 7],
      [30, 6],
      [35, 6],
      [40, 4],
      [50, 3],
      [60, 2],
      [70, 2],
      [0, 0],
      [3, 3],
      [7, 7],
      [6.9, 6],
      ['30', 6],
      [' 4 ', 4],
      ['TRACE', 7],
      ['debug', 7],
      ['Info', 6],
      ['notice', 5],
      ['WARN', 4],
      ['warning', 4],
      ['err', 3],
      ['Error', 3],
      ['crit', 2],
      ['critical', 2],
      ['FATAL', 2],
      ['dpanic', 2],
      ['alert', 1],
      ['emerg', 0],
      ['emergency', 0],
      ['panic', 0],
      ['silly', 7],
      ['verbose', 7],
      ['loud', undefined],
      ['', undefined],
      [-1, undefined],
      [Number.NaN, undefined],
      [null, undefined],
      [true, undefined],
    ];
    for (const [input, expected] of cases) assert.equal(syslogLevel(input), expected, JSON.stringify(input));
  });

  it('reads no level from the names of Object.prototype (they used to come back as a function or object)', () => {
    for (const word of ['constructor', 'CONSTRUCTOR', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])
      assert.equal(syslogLevel(word), undefined, word);
  });
});
