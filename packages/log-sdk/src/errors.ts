/**
 * The one error model of @graybridge/log-sdk: every error it throws is a `LogSdkError` with a
 * stable `code` to branch on (never the message) and `retriable` saying whether the same call
 * may succeed later. Logging calls themselves never throw: delivery problems are counted
 * (see `DeliveryStats`) and reported on stderr.
 */
export const LogSdkErrorCodes = {
  /** An option is missing, of the wrong type or out of range. Thrown by `createLogger`. */
  invalidOption: 'GB_SDK_INVALID_OPTION',
  /** A file named by an option (CA, certificate, password file) could not be read. */
  unreadableFile: 'GB_SDK_UNREADABLE_FILE',
  /** The logger was closed; flush/close after close. */
  closed: 'GB_SDK_CLOSED',
} as const;

export type LogSdkErrorCode = (typeof LogSdkErrorCodes)[keyof typeof LogSdkErrorCodes];

export class LogSdkError extends Error {
  override readonly name = 'LogSdkError';
  readonly code: LogSdkErrorCode;
  readonly retriable: boolean;

  constructor(code: LogSdkErrorCode, message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** A bad option: the message names the option, what was expected and what was given. */
export function invalidOption(option: string, expected: string, given: unknown): LogSdkError {
  return new LogSdkError(
    LogSdkErrorCodes.invalidOption,
    `invalid option ${option}: expected ${expected}, got ${describeValue(given)}`,
  );
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined || value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}
