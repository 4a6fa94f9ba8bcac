import type { Logger } from 'pino';
import type { DeadLetter, DeadLetterSink } from './dead-letter.js';

/** Base64 characters of the original value kept in the log line (3,072 bytes): enough to recognise it. */
const excerptChars = 4096;

/**
 * Without Redis there is no queue to keep dead letters in: each one is logged at error level with
 * its coordinates, reason and the start of its bytes, and counted — rejected loudly, never silently.
 */
export function loggingDeadLetters(logger: Logger): DeadLetterSink {
  return {
    add(letters: readonly DeadLetter[]) {
      for (const letter of letters) {
        const { value, ...rest } = letter;
        // A prefix of base64 (a multiple of 4 characters) is the base64 of a prefix: no decoding needed.
        const excerpt = value === null ? null : value.slice(0, excerptChars);
        logger.error(
          { deadLetter: { ...rest, valueExcerpt: excerpt } },
          'dead letter (no Redis configured: logged only)',
        );
      }
      return Promise.resolve();
    },
  };
}
