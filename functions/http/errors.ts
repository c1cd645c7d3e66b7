import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { isNightshiftError, ValidationError, type ErrorCode, type FieldProblem, type INTERNAL_FAILURE } from '../core/errors.js';
import { excerpt } from '../core/validation.js';
import { errorEnvelope } from '../handlers/handler-kit.js';

/** Refusals that only HTTP has: who is asking, how the request is shaped. The domain's own codes come from `ERROR_KINDS`. */
export const HTTP_ERROR_CODES = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
} as const satisfies Readonly<Record<string, ContentfulStatusCode>>;
type HttpErrorCode = keyof typeof HTTP_ERROR_CODES;

export type ApiErrorCode = ErrorCode | HttpErrorCode | typeof INTERNAL_FAILURE.code;

/** What every refusal looks like on the wire: one envelope, a stable code, and the field when one is at fault. */
export interface ApiErrorBody {
  readonly error: { readonly code: ApiErrorCode; readonly message: string; readonly field?: string };
}

/** A refusal decided by the API layer itself (no token, wrong role, a body of the wrong kind). */
export class ApiRefusal extends Error {
  override readonly name = 'ApiRefusal';

  constructor(
    readonly code: HttpErrorCode,
    message: string,
  ) {
    super(message);
  }

  get status(): ContentfulStatusCode {
    return HTTP_ERROR_CODES[this.code];
  }
}

/** How each domain code is answered. Codes a retry can fix are 503; an agent that cannot be reached or run is 502. */
const DOMAIN_STATUS: Readonly<Record<ErrorCode, ContentfulStatusCode>> = {
  VALIDATION_FAILED: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  ILLEGAL_TRANSITION: 409,
  REQUEST_REFUSED: 409,
  // the one use case that throws it (a plan too big for a session) is never reached from a request; anything else is a wiring fault
  CONFIGURATION_INVALID: 500,
  TRANSIENT: 503,
  DISPATCH_IN_PROGRESS: 503,
  AGENT_UNREACHABLE: 502,
  AGENT_FAILED: 502,
};

const MAX_MESSAGE = 1_000;

/** Where a field of the request sits: the part of the request (`body`, `query`, `path`, `header`) first, then the dotted path inside it. */
export const fieldIn = (part: string, path: string): string => (path === '' ? part : `${part}.${path}`);

/**
 * A use case names fields of what it was given (`options.executeAt`); the
 * caller sent them inside a part of the request (`body.options.executeAt`).
 * Runs `work` and renames the fields of a `ValidationError` it throws.
 */
export async function fieldsUnder<T>(part: string, work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const problems: FieldProblem[] = error.problems.map((problem) => ({ ...problem, field: fieldIn(part, problem.field) }));
    throw new ValidationError(error.entity, problems, { cause: error });
  }
}

export interface AnsweredError {
  readonly status: ContentfulStatusCode;
  readonly body: ApiErrorBody;
  /** Worth the operator's attention (a 5xx): logged with its stack. */
  readonly unexpected: boolean;
}

/**
 * The one mapping from what went wrong to what the caller sees. Nightshift's
 * own errors keep their code and message (through the operator handlers'
 * `errorEnvelope`, so both front doors word them alike); anything else is a
 * 500 that says nothing about itself.
 */
export function answerError(error: unknown): AnsweredError {
  if (error instanceof ApiRefusal) {
    return { status: error.status, body: { error: { code: error.code, message: excerpt(error.message, MAX_MESSAGE) } }, unexpected: false };
  }
  const envelope = errorEnvelope(error);
  if (!isNightshiftError(error)) return { status: 500, body: envelope, unexpected: true };
  const status = DOMAIN_STATUS[error.code];
  if (error.code === 'CONFIGURATION_INVALID') {
    // a wiring fault's message names internals (ports, registry files): logged, not answered
    return { status, body: errorEnvelope(undefined), unexpected: true };
  }
  // a validation failure always names where; routes name the part of the request, so this is only a fallback
  if (error instanceof ValidationError && !envelope.error.field) {
    return { status, body: { error: { ...envelope.error, field: 'request' } }, unexpected: false };
  }
  return { status, body: envelope, unexpected: status >= 500 };
}
