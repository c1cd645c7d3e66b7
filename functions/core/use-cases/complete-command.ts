import { AgentFailedError, AgentUnreachableError, ConflictError, TransientError } from '../errors.js';
import {
  isFinalInvocationStatus,
  parseCommandComment,
  type AgentInvocation,
  type Dispatch,
  type DispatchOutcome,
  type InvocationStatus,
} from '../model/agent.js';
import type { Action, Session } from '../model/session.js';
import { parseActionOutput, parseDetectionOutput } from '../scripts/output.js';
import type { ActionChanges } from '../ports/session-store.port.js';
import type { Dependencies } from './dependencies.js';
import { loadSession, log, moveAction, mutateSession, withStage } from './session-updates.js';

export interface CompleteCommandInput {
  readonly commandId: string;
  readonly agentId: string;
}

export type CompleteCommandResult = 'completed' | 'redelivered' | 'duplicate' | 'not-final' | 'not-ours' | 'superseded';

/** The computer never ran the command: it is offline, gone, or not ours to manage. */
const UNREACHABLE_STATUSES: readonly InvocationStatus[] = ['DeliveryTimedOut', 'Undeliverable', 'Terminated'];
/** The script started, so its output (maybe partial) says something. */
const RAN_STATUSES: readonly InvocationStatus[] = ['Success', 'Failed', 'TimedOut', 'ExecutionTimedOut'];
/** The computer got the command but could not run it at all. */
const REFUSED_STATUSES: readonly InvocationStatus[] = ['InvalidPlatform', 'AccessDenied'];

/**
 * Turns a finished agent command into session facts and wakes the workflow
 * step waiting for it.
 *
 * Events are at-least-once and may race each other, so:
 *   1. Sent → Completed is one conditional write; only its winner proceeds
 *      as "completed", a loser sees "duplicate";
 *   2. recording the outcome is idempotent (conditional action writes, whole
 *      detection snapshots), so a redelivered event may safely redo it;
 *   3. the token is read from the record the completion wrote, so a retried
 *      workflow step that swapped in a new token is the one woken up;
 *   4. `tokenDelivered` is set last: an event redelivered after a crash in
 *      between finishes the job instead of being dropped as a duplicate.
 */
export async function completeCommand(deps: Dependencies, input: CompleteCommandInput): Promise<CompleteCommandResult> {
  const invocation = await deps.agent.getInvocation(input.commandId, input.agentId);
  if (!isFinalInvocationStatus(invocation.status)) return 'not-final';
  const reference = parseCommandComment(invocation.comment);
  if (!reference) return 'not-ours';
  const dispatch = await deps.sessions.getDispatch(reference.sessionId, reference.key);
  if (!dispatch) return 'not-ours';
  if (dispatch.status === 'Sending') {
    // the event overtook the bookkeeping of the send; the retry finds it recorded
    throw new TransientError(`command ${input.commandId} finished before its dispatch was recorded`);
  }
  if (dispatch.commandId !== input.commandId) return 'superseded';
  if (dispatch.status === 'Completed' && dispatch.tokenDelivered) return 'duplicate';

  const session = await loadSession(deps, reference.sessionId);
  const outcome = await recordOutcome(deps, session, dispatch, invocation);
  if (session.status === 'PendingConnectivity' && RAN_STATUSES.includes(invocation.status)) {
    const back = await mutateSession(deps, session.id, (s) => (s.status === 'PendingConnectivity' ? { status: 'Running' } : undefined));
    if (back.status === 'Running') await log(deps, session.id, 'Agent', `${session.computerName} is back online`);
  }

  let completed: Dispatch;
  let result: CompleteCommandResult = 'redelivered';
  if (dispatch.status === 'Sent') {
    try {
      completed = await deps.sessions.completeDispatch(session.id, dispatch.key, outcome, deps.clock.now().toISOString());
      result = 'completed';
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      return 'duplicate';
    }
  } else {
    completed = dispatch;
  }

  // a cancelled session's steps finish quietly: the workflow is heading for its end anyway
  const cancelled = session.status === 'Cancelled';
  await deliver(deps, completed.taskToken, outcome, cancelled ? 'Success' : invocation.status);
  await deps.sessions.markTokenDelivered(session.id, dispatch.key);
  deps.logger.info('command completed', {
    sessionId: session.id,
    computerId: session.computerId,
    key: dispatch.key,
    commandId: input.commandId,
    status: invocation.status,
  });
  return result;
}

/**
 * Answers the waiting step with a recorded outcome: a detection that could not
 * reach or run on the computer fails the step (its Catch fails the session with
 * the reason); everything else completes it. A retried or resumed step that
 * finds the outcome recorded is answered the same way, through here.
 */
export async function deliver(deps: Dependencies, taskToken: string, outcome: DispatchOutcome, status: InvocationStatus): Promise<void> {
  // Detection must reach the computer; an action that could not is recorded on the action and the session goes on.
  const isDetection = !outcome.key.startsWith('Action#');
  const failure =
    isDetection && UNREACHABLE_STATUSES.includes(status)
      ? new AgentUnreachableError(outcome.summary)
      : isDetection && (REFUSED_STATUSES.includes(status) || status === 'Cancelled')
        ? new AgentFailedError(outcome.summary)
        : undefined;
  if (failure) await deps.workflow.failTask(taskToken, failure.name, failure.message);
  else await deps.workflow.completeTask(taskToken, outcome);
}

const describeStatus = (status: InvocationStatus): string => {
  switch (status) {
    case 'DeliveryTimedOut':
      return 'the computer did not come online before the delivery timeout';
    case 'Undeliverable':
      return 'the computer is not reachable by the agent';
    case 'Terminated':
      return 'the computer was terminated';
    case 'InvalidPlatform':
      return 'the command does not fit the computer platform';
    case 'AccessDenied':
      return 'the agent was denied access to the computer';
    case 'Cancelled':
      return 'the command was cancelled';
    case 'TimedOut':
    case 'ExecutionTimedOut':
      return 'the script ran past its time limit';
    default:
      return `the command ended ${status}`;
  }
};

async function recordOutcome(
  deps: Dependencies,
  session: Session,
  dispatch: Dispatch,
  invocation: AgentInvocation,
): Promise<DispatchOutcome> {
  const base = { key: dispatch.key, commandId: invocation.commandId, status: invocation.status };
  if (dispatch.key.startsWith('Action#')) {
    const actionId = dispatch.key.slice('Action#'.length);
    const action = await recordAction(deps, session, actionId, dispatch, invocation);
    return { ...base, summary: `${action.type} ${action.itemName}: ${action.resultReason ?? action.status}` };
  }
  if (!RAN_STATUSES.includes(invocation.status)) {
    return { ...base, summary: describeStatus(invocation.status) };
  }
  const phase = dispatch.key === 'Detect' ? 'Initial' : 'Verification';
  const items = parseDetectionOutput(
    invocation.stdout,
    dispatch.nonce,
    session.items.filter((item) => item.origin !== 'Unassigned').map((item) => ({ key: item.key, kind: item.kind })),
    { truncated: invocation.stdoutTruncated },
  );
  const now = deps.clock.now().toISOString();
  await deps.sessions.saveDetection({ sessionId: session.id, phase, items, completedAt: now });
  if (phase === 'Initial') {
    await mutateSession(deps, session.id, (s) =>
      s.stages.Detection.status !== 'Running'
        ? undefined
        : { stages: withStage(s, 'Detection', { ...s.stages.Detection, status: 'Succeeded', endedAt: now }) },
    );
  }
  const detected = Object.values(items);
  const undetermined = detected.filter((item) => item.state === 'Undetermined').length;
  const summary = `detected ${detected.length - undetermined} of ${detected.length} item(s)`;
  await log(deps, session.id, 'Stage', `${phase === 'Initial' ? 'detection' : 'verification'}: ${summary}`);
  return { ...base, summary };
}

const INTERRUPTED = 'interrupted: the script stopped without an exit code';

/** Two-step actions say which half failed; single-step ones need not. */
const stepWords = (type: Action['type'] | undefined, failedStep: number | undefined): string =>
  (type === 'Downgrade' || type === 'Reinstall') && failedStep !== undefined ? (failedStep === 1 ? ' while uninstalling' : ' while installing') : '';

async function recordAction(
  deps: Dependencies,
  session: Session,
  actionId: string,
  dispatch: Dispatch,
  invocation: AgentInvocation,
): Promise<Action> {
  const now = deps.clock.now().toISOString();
  const output = RAN_STATUSES.includes(invocation.status)
    ? parseActionOutput(invocation.stdout, invocation.stderr, dispatch.nonce, invocation.responseCode)
    : undefined;
  const timedOut = invocation.status === 'TimedOut' || invocation.status === 'ExecutionTimedOut';
  const action = await deps.sessions.getAction(session.id, actionId);
  const succeeded = output !== undefined && output.exitCode === 0 && !timedOut;
  // Failed with no exit code from the agent nor from the script's own record: the script stopped part-way
  // (the computer or its agent went down, something killed it). It may have done its work or not, and it is
  // never run again; verification decides, as for any action whose effect is unknown.
  const interrupted = invocation.status === 'Failed' && output?.exitCode === -1;
  const changes: ActionChanges =
    invocation.status === 'Cancelled'
      ? { status: 'Cancelled', result: 'Cancelled', resultReason: 'the running command was cancelled', endedAt: now }
      : interrupted
        ? action?.type === 'TaskAudit' || action?.type === 'Reboot'
          ? // nothing for verification to look at: an audit's findings, or whether the computer restarted, are lost
            { status: 'Complete', result: 'Indeterminable', resultStage: 'Execution', resultReason: INTERRUPTED, endedAt: now }
          : { status: 'DeterminingResult', resultReason: INTERRUPTED }
      : !succeeded
        ? {
            status: 'Complete',
            result: 'Failed',
            resultStage: 'Execution',
            resultReason: output && !timedOut ? `the script exited ${output.exitCode}${stepWords(action?.type, output.failedStep)}` : describeStatus(invocation.status),
            endedAt: now,
          }
        : action?.type === 'TaskAudit' || action?.type === 'Reboot'
          ? // an audit only reads and a restart only restarts: the command's own result is the action's
            { status: 'Complete', result: 'Success', resultStage: 'Execution', resultReason: action.type === 'Reboot' ? 'Restarted' : 'Audited', endedAt: now }
          : { status: 'DeterminingResult', resultReason: 'ScriptSucceeded' };
  if (action) {
    const words =
      changes.result === 'Failed'
        ? `failed: ${changes.resultReason ?? ''}`
        : changes.status === 'Cancelled'
          ? 'cancelled'
          : interrupted
            ? `was interrupted (${changes.status === 'DeterminingResult' ? 'verification decides' : 'its effect is unknown'})`
            : 'finished';
    await log(deps, session.id, 'Action', `${action.type} ${action.itemName} ${words}`, {
      actionId,
      ...(output?.outputTail ? { output: output.outputTail } : {}),
    });
  }
  try {
    return await moveAction(deps, session.id, actionId, ['PerformingAction'], {
      ...changes,
      ...(output
        ? {
            exitCode: output.exitCode,
            rebootRequired: output.rebootRequired,
            outputTail: output.outputTail,
            ...(output.durationMs === undefined ? {} : { durationMs: output.durationMs }),
          }
        : {}),
    });
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    // recorded by an earlier delivery of this same completion
    const action = await deps.sessions.getAction(session.id, actionId);
    if (!action) throw error;
    return action;
  }
}
