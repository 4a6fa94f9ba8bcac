import type { Logger } from 'pino';
import type { DeadLetter, DeadLetterSink } from './dead-letter.js';

/** Bytes of the original value kept in the log line (base64): enough to find and recognise it. */
const excerptBytes = 4096;

/**
 * Without Redis there is no queue to keep dead letters in: each one is logged at error level with
 * its coordinates, reason and the start of its bytes, and counted — rejected loudly, never silently.
 */
export function loggingDeadLetters(logger: Logger): DeadLetterSink {
  return {
    add(letters: readonly DeadLetter[]) {
      for (const letter of letters) {
        const { value, ...rest } = letter;
        const excerpt =
          value === null ? null : Buffer.from(value, 'base64').subarray(0, excerptBytes).toString('base64');
        logger.error(
          { deadLetter: { ...rest, valueExcerpt: excerpt } },
          'dead letter (no Redis configured: logged only)',
        );
      }
      return Promise.resolve();
    },
  };
}
