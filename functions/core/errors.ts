/**
 * One family of errors for the whole product, and the one table of what each
 * failure means.
 *
 * `name` is what Step Functions sees as the error name (Lambda reports
 * `error.name` as `errorType`), so the ASL `Retry`/`Catch` blocks route on it:
 * only `TransientError` and `DispatchInProgressError` (and Lambda's own
 * service errors) are retried; every other name is permanent and caught into
 * a failed session.
 *
 * `code` is stable and machine-readable: the console, the emails and the API
 * map it to a message; it never changes once shipped. `summary` is that
 * message's default, written for the operator.
 */
interface FailureKind {
  readonly code: string;
  /** Whether trying the same thing again, unchanged, can succeed. */
  readonly transient: boolean;
  readonly summary: string;
}

/** Every `NightshiftError` subclass by its `name`; a class whose name is missing here does not compile. */
export const ERROR_KINDS = {
  ValidationError: { code: 'VALIDATION_FAILED', transient: false, summary: 'The input does not match its schema; the message names each field and its problem.' },
  NotFoundError: { code: 'NOT_FOUND', transient: false, summary: 'The tenant, computer, item, deployment or session does not exist (or is not yours to see).' },
  ConflictError: { code: 'CONFLICT', transient: false, summary: 'The record changed under the request or the id is already used for something else; read it again and decide.' },
  IllegalTransitionError: { code: 'ILLEGAL_TRANSITION', transient: false, summary: 'The session or action cannot go from its status to the one asked for.' },
  RequestRefusedError: { code: 'REQUEST_REFUSED', transient: false, summary: "The session's rules do not allow the request now (a postpone limit or deadline, a session already ended)." },
  ConfigurationError: { code: 'CONFIGURATION_INVALID', transient: false, summary: 'The catalog or the deployment setup cannot work as written (a missing script, too many items); fix it and start again.' },
  TransientError: { code: 'TRANSIENT', transient: true, summary: 'A service was throttled or timed out; the same request can succeed when tried again.' },
  DispatchInProgressError: { code: 'DISPATCH_IN_PROGRESS', transient: true, summary: "Another attempt of the same step holds the right to send its command; it is tried again once that attempt's lease is over." },
  AgentUnreachableError: { code: 'AGENT_UNREACHABLE', transient: false, summary: 'The agent could not reach the computer (offline, deregistered or not managed).' },
  AgentFailedError: { code: 'AGENT_FAILED', transient: false, summary: 'The agent reached the computer but the command could not run (wrong platform, access denied).' },
} as const satisfies Readonly<Record<string, FailureKind>>;

/**
 * Failures a session can end with that no handler throws: Step Functions'
 * own, and the names `execution-ended` and the sweeper give what they find.
 */
export const WORKFLOW_FAILURE_KINDS = {
  'States.Timeout': { code: 'TIMED_OUT', transient: false, summary: "The session's workflow ran past its time limit." },
  ExecutionAborted: { code: 'ABORTED', transient: false, summary: "The session's workflow execution was stopped by hand." },
  SessionNotStarted: { code: 'NOT_STARTED', transient: false, summary: "The session's workflow execution never began the session." },
  // Lambda's name for a function stopped at its timeout (the local runtime's too)
  'Sandbox.Timedout': { code: 'STEP_TIMED_OUT', transient: false, summary: 'A step of the session ran past its function’s time limit.' },
} as const satisfies Readonly<Record<string, FailureKind>>;

/** Anything else: its details stay in the operator's logs. */
export const INTERNAL_FAILURE = {
  code: 'INTERNAL',
  transient: false,
  summary: 'Something unexpected went wrong; it has been logged.',
} as const satisfies FailureKind;

export type NightshiftErrorName = keyof typeof ERROR_KINDS;
export type ErrorCode = (typeof ERROR_KINDS)[NightshiftErrorName]['code'];
/** Every code a session's `failure` may carry. */
export type FailureCode = ErrorCode | (typeof WORKFLOW_FAILURE_KINDS)[keyof typeof WORKFLOW_FAILURE_KINDS]['code'] | typeof INTERNAL_FAILURE.code;

const isKey = <T extends object>(table: T, key: string): key is Extract<keyof T, string> => Object.hasOwn(table, key);

/** What an error name a workflow caught means: a Nightshift error, a workflow failure, or INTERNAL. */
export function failureKind(errorName: string): { readonly code: FailureCode; readonly transient: boolean; readonly summary: string } {
  if (isKey(ERROR_KINDS, errorName)) return ERROR_KINDS[errorName];
  if (isKey(WORKFLOW_FAILURE_KINDS, errorName)) return WORKFLOW_FAILURE_KINDS[errorName];
  return INTERNAL_FAILURE;
}

export interface FieldProblem {
  /** Dotted path to the offending field, e.g. `deployments.3.desiredVersion`. */
  readonly field: string;
  readonly problem: string;
}

export abstract class NightshiftError extends Error {
  abstract override readonly name: NightshiftErrorName;

  /** From `ERROR_KINDS`, so a code and its retry rule are written once. */
  get code(): ErrorCode {
    return ERROR_KINDS[this.name].code;
  }

  /** Whether trying the same thing again, unchanged, can succeed. */
  get transient(): boolean {
    return ERROR_KINDS[this.name].transient;
  }

  toJSON(): { name: string; code: ErrorCode; message: string } {
    return { name: this.name, code: this.code, message: this.message };
  }
}

/** Input that does not match its schema. Names every offending field. */
export class ValidationError extends NightshiftError {
  override readonly name = 'ValidationError';

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
}

/** A lifecycle change the state machine of the entity does not allow. */
export class IllegalTransitionError extends NightshiftError {
  override readonly name = 'IllegalTransitionError';

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
}

export class ConfigurationError extends NightshiftError {
  override readonly name = 'ConfigurationError';
}

/** Something a retry can fix: throttling, a timeout talking to a service, a race lost to a slower write. */
export class TransientError extends NightshiftError {
  override readonly name = 'TransientError';
}

/**
 * Another attempt of the same workflow step holds the right to send its
 * command (it may have sent it already). Retried after a pause long enough for
 * that attempt to be over, never sooner: that is what keeps a command from
 * being sent twice.
 */
export class DispatchInProgressError extends NightshiftError {
  override readonly name = 'DispatchInProgressError';
}

/** The agent could not reach the computer (offline, deregistered, not managed). */
export class AgentUnreachableError extends NightshiftError {
  override readonly name = 'AgentUnreachableError';
}

/** The agent reached the computer but the command could not run (bad platform, access denied). */
export class AgentFailedError extends NightshiftError {
  override readonly name = 'AgentFailedError';
}

export const isNightshiftError = (error: unknown): error is NightshiftError => error instanceof NightshiftError;

/** Error names the state machine retries on every task (DispatchInProgressError has a rule of its own on the dispatch steps). Kept here so the ASL test can check the two agree. */
export const RETRYABLE_ERROR_NAMES = ['TransientError'] as const satisfies readonly NightshiftErrorName[];
