/**
 * One family of errors for the whole product.
 *
 * `name` is what Step Functions sees as the error name (Lambda reports
 * `error.name` as `errorType`), so the ASL `Retry`/`Catch` blocks route on it:
 * only `TransientError` (and Lambda's own service errors) are retried; every
 * other name is permanent and caught into a failed session.
 *
 * `code` is stable and machine-readable: the console, the emails and the API
 * map it to a message; it never changes once shipped.
 */
export type ErrorCode =
  | 'VALIDATION_FAILED'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'ILLEGAL_TRANSITION'
  | 'CONFIGURATION_INVALID'
  | 'AGENT_UNREACHABLE'
  | 'AGENT_FAILED'
  | 'REQUEST_REFUSED'
  | 'TRANSIENT';

export interface FieldProblem {
  /** Dotted path to the offending field, e.g. `deployments.3.desiredVersion`. */
  readonly field: string;
  readonly problem: string;
}

export abstract class NightshiftError extends Error {
  abstract readonly code: ErrorCode;
  /** Whether trying the same thing again, unchanged, can succeed. */
  abstract readonly transient: boolean;

  toJSON(): { name: string; code: ErrorCode; message: string } {
    return { name: this.name, code: this.code, message: this.message };
  }
}

/** Input that does not match its schema. Names every offending field. */
export class ValidationError extends NightshiftError {
  override readonly name = 'ValidationError';
  readonly code = 'VALIDATION_FAILED';
  readonly transient = false;

  constructor(
    readonly entity: string,
    readonly problems: readonly FieldProblem[],
    options?: { cause?: unknown },
  ) {
    super(
      `invalid ${entity}: ${problems.map((p) => (p.field ? `${p.field}: ${p.problem}` : p.problem)).join('; ')}`,
      options,
    );
  }
}

export class NotFoundError extends NightshiftError {
  override readonly name = 'NotFoundError';
  readonly code = 'NOT_FOUND';
  readonly transient = false;

  constructor(
    readonly entity: string,
    readonly id: string,
  ) {
    super(`${entity} ${id} does not exist`);
  }
}

/** A conditional write lost: the record is not in the state the caller expected. */
export class ConflictError extends NightshiftError {
  override readonly name = 'ConflictError';
  readonly code = 'CONFLICT';
  readonly transient = false;
}

/** A lifecycle change the state machine of the entity does not allow. */
export class IllegalTransitionError extends NightshiftError {
  override readonly name = 'IllegalTransitionError';
  readonly code = 'ILLEGAL_TRANSITION';
  readonly transient = false;

  constructor(
    readonly entity: string,
    readonly from: string,
    readonly to: string,
  ) {
    super(`${entity} cannot go from ${from} to ${to}`);
  }
}

/**
 * A legitimate request the session's rules do not allow right now: a
 * postpone past the limit or the deadline, a cancel after the session ended.
 * The message is the reason, written for the person who asked.
 */
export class RequestRefusedError extends NightshiftError {
  override readonly name = 'RequestRefusedError';
  readonly code = 'REQUEST_REFUSED';
  readonly transient = false;
}

export class ConfigurationError extends NightshiftError {
  override readonly name = 'ConfigurationError';
  readonly code = 'CONFIGURATION_INVALID';
  readonly transient = false;
}

/** Something a retry can fix: throttling, a timeout talking to a service, a race lost to a slower write. */
export class TransientError extends NightshiftError {
  override readonly name = 'TransientError';
  readonly code = 'TRANSIENT';
  readonly transient = true;
}

/**
 * Another attempt of the same workflow step holds the right to send its
 * command (it may have sent it already). Retried after a pause long enough for
 * that attempt to be over, never sooner: that is what keeps a command from
 * being sent twice.
 */
export class DispatchInProgressError extends NightshiftError {
  override readonly name = 'DispatchInProgressError';
  readonly code = 'TRANSIENT';
  readonly transient = true;
}

/** The agent could not reach the computer (offline, deregistered, not managed). */
export class AgentUnreachableError extends NightshiftError {
  override readonly name = 'AgentUnreachableError';
  readonly code = 'AGENT_UNREACHABLE';
  readonly transient = false;
}

/** The agent reached the computer but the command could not run (bad platform, access denied). */
export class AgentFailedError extends NightshiftError {
  override readonly name = 'AgentFailedError';
  readonly code = 'AGENT_FAILED';
  readonly transient = false;
}

export const isNightshiftError = (error: unknown): error is NightshiftError => error instanceof NightshiftError;

/** Error names the state machine retries. Kept here so the ASL test can check the two agree. */
export const RETRYABLE_ERROR_NAMES = ['TransientError'] as const;
