/**
 * The one error model of @graybridge/forwarder: every error it throws or reports is a
 * `ForwarderError` with a stable `code` to branch on (never the message) and `retriable` saying
 * whether the same call may succeed later.
 */
export const ForwarderErrorCodes = {
  /** An option or config field is missing, of the wrong type or out of range. */
  invalidOption: 'GB_FORWARDER_INVALID_OPTION',
  /** The GELF endpoint could not be reached or the connection broke. */
  sinkUnreachable: 'GB_FORWARDER_SINK_UNREACHABLE',
  /** TLS with the GELF endpoint failed (certificate, CA, name): a config problem. */
  sinkTls: 'GB_FORWARDER_SINK_TLS',
  /** The GELF endpoint refused the messages for good (e.g. HTTP 4xx). */
  sinkRejected: 'GB_FORWARDER_SINK_REJECTED',
  /** The circuit breaker is open: the sink failed repeatedly and is resting. */
  sinkCircuitOpen: 'GB_FORWARDER_SINK_CIRCUIT_OPEN',
  /** Kafka could not be consumed (brokers unreachable, authentication, authorisation). */
  sourceUnavailable: 'GB_FORWARDER_SOURCE_UNAVAILABLE',
  /** Dead letters could not be stored (Redis down): the batch waits, nothing is committed. */
  deadLetterUnavailable: 'GB_FORWARDER_DEAD_LETTER_UNAVAILABLE',
} as const;

export type ForwarderErrorCode = (typeof ForwarderErrorCodes)[keyof typeof ForwarderErrorCodes];

export class ForwarderError extends Error {
  override readonly name = 'ForwarderError';
  readonly code: ForwarderErrorCode;
  readonly retriable: boolean;

  constructor(code: ForwarderErrorCode, message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** A bad option: the message names the field, what was expected and what was given. */
export function invalidOption(field: string, expected: string, given: unknown): ForwarderError {
  return new ForwarderError(
    ForwarderErrorCodes.invalidOption,
    `invalid option ${field}: expected ${expected}, got ${describeValue(given)}`,
  );
}

/** A value as an error message shows it: strings quoted, objects by kind. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined || value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}
