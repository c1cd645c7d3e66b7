import type { StageName } from '../model/session.js';
import { STAGE_NAMES, isFinalSessionStatus } from '../model/session.js';
import { releaseExecutionSlot } from './gate-session.js';
import { sendSessionEmailQuietly } from './session-emails.js';
import { publishEvents, sessionEndedEvents } from './publish-events.js';
import type { Dependencies } from './dependencies.js';
import { ConflictError, failureKind, INTERNAL_FAILURE, type FailureCode } from '../errors.js';
import { closeUnfinishedActions, log, moveAction, mutateSessionReporting } from './session-updates.js';

export interface WorkflowError {
  /** The error name Step Functions caught (`ValidationError`, `States.Timeout`, …). */
  readonly Error: string;
  /** Lambda puts a JSON document here (`errorMessage`, `stackTrace`); other sources a plain message. */
  readonly Cause?: string;
}

/**
 * Only the message survives: a stack trace is for the operator's logs, never
 * for the session record. The code comes from the one table in `errors.ts`;
 * without a message, the code's summary stands in (the error name, for a
 * failure the table does not know).
 */
export function describeWorkflowError(error: WorkflowError): { code: FailureCode; message: string } {
  let message = error.Cause ?? '';
  try {
    const parsed: unknown = JSON.parse(message);
    // Stryker disable next-line ConditionalExpression,LogicalOperator: `in` on null or a primitive throws, and the catch below keeps the message as it came, as these guards do
    if (parsed && typeof parsed === 'object' && 'errorMessage' in parsed && typeof parsed.errorMessage === 'string') {
      message = parsed.errorMessage;
    }
  } catch {
    // a plain message already
  }
  const kind = failureKind(error.Error);
  return { code: kind.code, message: message.slice(0, 1_000) || (kind.code === INTERNAL_FAILURE.code ? error.Error : kind.summary) };
}

/** Failures that say something is wrong with Nightshift or its setup, not with the computer: these raise an alarm. */
const UNEXPECTED_FAILURES: ReadonlySet<FailureCode> = new Set<FailureCode>(['INTERNAL', 'STEP_TIMED_OUT', 'TIMED_OUT', 'ABORTED', 'NOT_STARTED', 'CONFIGURATION_INVALID']);

/** The Catch target: the session ends Failed with a readable reason; stages that were running fail with it. */
export async function recordFailure(deps: Dependencies, sessionId: string, error: WorkflowError): Promise<void> {
  const failure = describeWorkflowError(error);
  const now = deps.clock.now().toISOString();
  const { written, session: ended } = await mutateSessionReporting(deps, sessionId, (s) => {
    if (isFinalSessionStatus(s.status)) return undefined;
    const stages = { ...s.stages };
    for (const name of STAGE_NAMES as StageName[]) {
      const stage = stages[name];
      if (stage.status === 'Running') stages[name] = { ...stage, status: 'Failed', endedAt: now };
    }
    return { status: 'Failed', failure, stages, endedAt: now };
  });
  if (!written) return;
  // counted by the write that ended the session: a repeated Catch, or execution-ended after it, counts nothing
  deps.metrics.count('SessionsFailed');
  if (UNEXPECTED_FAILURES.has(failure.code)) deps.metrics.count('SessionsFailedUnexpectedly');
  deps.logger.error('session failed', { sessionId, ...failure });
  await closeUnfinishedActions(deps, sessionId, `the session failed (${failure.code})`);
  await log(deps, sessionId, 'Problem', `session failed: ${failure.message} (${failure.code})`);
  await releaseExecutionSlot(deps, ended);
  // its user was told maintenance was coming: they hear how it ended, as after a report
  await sendSessionEmailQuietly(deps, { sessionId, kind: 'FollowUp' });
  await publishEvents(deps, sessionEndedEvents(ended, now));
}

/**
 * The Catch of one action: its command could not even be sent (its software
 * left the catalog, its task has no set script, the computer is unreachable).
 * That action fails, its dependents will be skipped, the rest go on.
 */
export async function recordActionFailure(deps: Dependencies, sessionId: string, actionId: string, error: WorkflowError): Promise<void> {
  const failure = describeWorkflowError(error);
  const action = await deps.sessions.getAction(sessionId, actionId);
  if (!action || (action.status !== 'NotStarted' && action.status !== 'PerformingAction')) return;
  await moveAction(deps, sessionId, actionId, [action.status], {
    status: 'Complete',
    result: 'Failed',
    resultStage: 'Execution',
    resultReason: `could not run: ${failure.message}`,
    endedAt: deps.clock.now().toISOString(),
  }).catch((conflict: unknown) => {
    if (!(conflict instanceof ConflictError)) throw conflict;
  });
  await log(deps, sessionId, 'Problem', `${action.type} ${action.itemName} could not run: ${failure.message} (${failure.code})`, { actionId });
}

export type ExecutionEndStatus = 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/**
 * Step Functions says an execution ended badly (its Execution Status Change
 * event). Normally RecordFailure has already written why; when it could not
 * (the execution timed out, was stopped by hand, or RecordFailure itself
 * failed), this does, so a session never says Running after its workflow died.
 */
export async function recordExecutionEnded(
  deps: Dependencies,
  input: { sessionId: string; status: ExecutionEndStatus; error?: string | undefined; cause?: string | undefined },
): Promise<{ recorded: boolean }> {
  const session = await deps.sessions.getSession(input.sessionId);
  if (!session) return { recorded: false };
  if (session.status === 'Cancelled' && session.endedAt === undefined) {
    // cancelled, but its workflow died before Report closed it: close it here
    const now = deps.clock.now().toISOString();
    await closeUnfinishedActions(deps, input.sessionId, `the session was cancelled by ${session.cancelled?.by.name ?? 'request'}`);
    const { written, session: ended } = await mutateSessionReporting(deps, input.sessionId, (s) => (s.endedAt === undefined ? { endedAt: now } : undefined));
    await deps.windowTimers.clear(input.sessionId);
    if (written) {
      await log(deps, input.sessionId, 'Stage', `session ended Cancelled (its workflow ended ${input.status})`);
      await releaseExecutionSlot(deps, ended);
      await publishEvents(deps, sessionEndedEvents(ended, now));
    }
    return { recorded: written };
  }
  if (isFinalSessionStatus(session.status)) return { recorded: false };
  // Stryker disable next-line StringLiteral: the name only picks the failure code, and any name the table does not know is INTERNAL, as ExecutionFailed is; the cause is always there to give the message
  const errorName = input.status === 'TIMED_OUT' ? 'States.Timeout' : input.status === 'ABORTED' ? 'ExecutionAborted' : (input.error ?? 'ExecutionFailed');
  await recordFailure(deps, input.sessionId, { Error: errorName, Cause: input.cause ?? `the session's workflow execution ended ${input.status}` });
  await deps.windowTimers.clear(input.sessionId);
  return { recorded: true };
}
