/**
 * The one error model of @graybridge/enricher: every error it throws or reports is an
 * `EnricherError` with a stable `code` to branch on (never the message) and `retriable` saying
 * whether the same call may succeed later.
 */
export const EnricherErrorCodes = {
  /** An option is missing, of the wrong type or out of range. */
  invalidOption: 'GB_ENRICHER_INVALID_OPTION',
  /** No usable kubeconfig (file, in-cluster service account) was found. */
  noKubeconfig: 'GB_ENRICHER_NO_KUBECONFIG',
  /** The API server answered with an error status; `retriable` for 429/5xx, not for 401/403/404. */
  apiStatus: 'GB_ENRICHER_API_STATUS',
  /** The API server could not be reached or did not answer in time. */
  apiUnreachable: 'GB_ENRICHER_API_UNREACHABLE',
  /** The resourceVersion is too old (HTTP 410): the watch must re-list. */
  resourceExpired: 'GB_ENRICHER_RESOURCE_EXPIRED',
  /** Shared mode: Redis could not be read or written (retriable). */
  sharedCacheUnavailable: 'GB_ENRICHER_SHARED_CACHE_UNAVAILABLE',
} as const;

export type EnricherErrorCode = (typeof EnricherErrorCodes)[keyof typeof EnricherErrorCodes];

export class EnricherError extends Error {
  override readonly name = 'EnricherError';
  readonly code: EnricherErrorCode;
  readonly retriable: boolean;
  /** HTTP status, for `GB_ENRICHER_API_STATUS` and `GB_ENRICHER_RESOURCE_EXPIRED`. */
  readonly status: number | undefined;

  constructor(
    code: EnricherErrorCode,
    message: string,
    options: { retriable?: boolean; cause?: unknown; status?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.status = options.status;
  }
}

/** A bad option: the message names the field, what was expected and what was given. */
export function invalidOption(field: string, expected: string, given: unknown): EnricherError {
  return new EnricherError(
    EnricherErrorCodes.invalidOption,
    `invalid option ${field}: expected ${expected}, got ${describeValue(given)}`,
  );
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined || value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}
