import { TransientError } from '../core/errors.js';

const TRANSIENT_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'InternalServerError',
  'InternalServerException',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
]);

export const errorName = (error: unknown): string =>
  error instanceof Error ? error.name : typeof error === 'string' ? error : 'UnknownError';

/** SDK errors a retry can fix become `TransientError` (the name the state machine retries); others pass through. */
export function translateAwsError(error: unknown, doing: string): unknown {
  const name = errorName(error);
  const code = error instanceof Error && 'code' in error ? String(error.code) : '';
  const status =
    error instanceof Error && '$metadata' in error && error.$metadata && typeof error.$metadata === 'object'
      ? (error.$metadata as { httpStatusCode?: number }).httpStatusCode
      : undefined;
  if (TRANSIENT_NAMES.has(name) || TRANSIENT_NAMES.has(code) || (status !== undefined && status >= 500)) {
    return new TransientError(`${doing} failed: ${name}`, { cause: error });
  }
  return error;
}
