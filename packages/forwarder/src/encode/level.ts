/** Syslog severities, as GELF's `level` carries them. */
export const Syslog = {
  emergency: 0,
  alert: 1,
  critical: 2,
  error: 3,
  warning: 4,
  notice: 5,
  informational: 6,
  debug: 7,
} as const;

const words: Readonly<Record<string, number>> = {
  emerg: 0,
  emergency: 0,
  panic: 0,
  alert: 1,
  crit: 2,
  critical: 2,
  fatal: 2,
  dpanic: 2,
  err: 3,
  error: 3,
  warn: 4,
  warning: 4,
  notice: 5,
  info: 6,
  information: 6,
  informational: 6,
  debug: 7,
  trace: 7,
  verbose: 7,
  silly: 7,
  fine: 7,
  finer: 7,
  finest: 7,
};

/**
 * A record's level, whatever logger wrote it, as a syslog severity: pino/bunyan numbers (10 trace
 * … 60 fatal), syslog numbers 0–7, numeric strings, and level words in any case. Undefined when it
 * is none of these (the caller keeps the original and defaults to informational).
 */
export function syslogLevel(level: unknown): number | undefined {
  if (typeof level === 'string') {
    const word = level.trim().toLowerCase();
    // Own keys only: "constructor" or "__proto__" would find Object.prototype's (a function, an object).
    if (Object.hasOwn(words, word)) return words[word];
    if (word !== '' && /^\d+$/.test(word)) return syslogLevel(Number(word));
    return undefined;
  }
  if (typeof level !== 'number' || !Number.isFinite(level)) return undefined;
  const n = Math.trunc(level);
  if (n >= 0 && n <= 7) return n;
  // pino and bunyan: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal; customs in between.
  if (n < 0) return undefined;
  if (n < 30) return Syslog.debug;
  if (n < 40) return Syslog.informational;
  if (n < 50) return Syslog.warning;
  if (n < 60) return Syslog.error;
  return Syslog.critical;
}
