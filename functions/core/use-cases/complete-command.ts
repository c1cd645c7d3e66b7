import { AgentFailedError, AgentUnreachableError, ConflictError } from '../errors.js';
import {
  isFinalInvocationStatus,
  parseCommandComment,
  type AgentInvocation,
  type CommandReference,
  type Dispatch,
  type DispatchOutcome,
  type InvocationStatus,
} from '../model/agent.js';
import type { Action, Session } from '../model/session.js';
import { parseActionOutput, parseDetectionOutput, type ActionOutput } from '../scripts/output.js';
import type { ActionChanges } from '../ports/session-store.port.js';
import type { Dependencies } from './dependencies.js';
import { loadSession, log, mutateSession, withStage } from './session-updates.js';

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
 * A completed action stays on the reconciler's worklist this long: the report
 * settles it when the workflow has moved past (no write of its own), and only
 * a step never told (a crash between recording and telling, with every retry
 * of the event failing) is left for the reconciler to tell.
 */
export const ACTION_ANSWER_CHECK_AFTER_SECONDS = 1_800;

/** Action types whose command's own result is the action's; the others are decided by verification. */
const SELF_DECIDING_TYPES: readonly Action['type'][] = ['TaskAudit', 'Reboot'];
const VERIFIED_TYPES: readonly Action['type'][] = ['Install', 'Update', 'Downgrade', 'Uninstall', 'Reinstall', 'TaskEnforce'];
/** Two-step actions say which half failed, so a failed step needs the action's type before the words are written. */
const TWO_STEP_TYPES: readonly Action['type'][] = ['Downgrade', 'Reinstall'];

/**
 * Turns a finished agent command into session facts and wakes the workflow
 * step waiting for it.
 *
 * Events are at-least-once and may race each other, so:
 *   1. the command's comment names its dispatch and nonce; recording the
 *      outcome is one conditional write (Sending with that nonce →
 *      Completed), and only its winner proceeds as "completed";
 *   2. the facts are recorded before the step is told, so whatever the
 *      workflow does next reads them;
 *   3. the token is read from the record the completion wrote, so a retried
 *      workflow step that swapped in a new token is the one woken up;
 *   4. an event redelivered after a crash in between finds the dispatch
 *      Completed and tells the step again (telling a step that was told
 *      already is a no-op).
 */
export async function completeCommand(deps: Dependencies, input: CompleteCommandInput): Promise<CompleteCommandResult> {
  const invocation = await deps.agent.getInvocation(input.commandId, input.agentId);
  if (!isFinalInvocationStatus(invocation.status)) return 'not-final';
  const reference = parseCommandComment(invocation.comment);
  if (!reference) return 'not-ours';
  return reference.key.startsWith('Action#') ? completeAction(deps, reference, invocation) : completeDetection(deps, reference, invocation);
}

/**
 * An action's completion: one write records the result and completes the
 * dispatch, without reading first. The write assumes the common case (an
 * action that verification decides, still waiting for this command); when
 * its condition fails, one read says which other case it is.
 */
async function completeAction(deps: Dependencies, reference: CommandReference, invocation: AgentInvocation): Promise<CompleteCommandResult> {
  const { sessionId, key, nonce } = reference;
  const actionId = key.slice('Action#'.length);
  const now = deps.clock.now().toISOString();
  const output = RAN_STATUSES.includes(invocation.status)
    ? parseActionOutput(invocation.stdout, invocation.stderr, nonce, invocation.responseCode)
    : undefined;
  let changes = actionChanges(invocation, output, undefined, now);
  let types = changes.result === 'Failed' && output?.failedStep !== undefined ? VERIFIED_TYPES.filter((t) => !TWO_STEP_TYPES.includes(t)) : VERIFIED_TYPES;
  for (;;) {
    const outcome: DispatchOutcome = { key, commandId: invocation.commandId, status: invocation.status, summary: changes.resultReason ?? changes.status ?? invocation.status };
    try {
      const { action, dispatch } = await deps.sessions.completeActionDispatch({
        sessionId,
        actionId,
        nonce,
        types,
        changes,
        outcome,
        now,
        checkAfterSeconds: ACTION_ANSWER_CHECK_AFTER_SECONDS,
      });
      // back online before the step is told, so a redelivered event (which only tells again) has nothing left to do
      if (dispatch.sentOffline) await backOnline(deps, sessionId, invocation.status);
      await Promise.all([
        deliver(deps, dispatch.taskToken, outcome, invocation.status),
        log(deps, sessionId, 'Action', `${action.type} ${action.itemName} ${actionWords(changes, output)}`, {
          actionId,
          ...(output?.outputTail ? { output: output.outputTail } : {}),
        }),
      ]);
      deps.logger.info('command completed', { sessionId, key, commandId: invocation.commandId, status: invocation.status });
      return 'completed';
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
    }
    const stored = await deps.sessions.getActionContext(sessionId, actionId, []);
    const dispatch = stored.dispatch;
    if (!stored.action || !dispatch) return 'not-ours';
    if (dispatch.nonce !== nonce) return 'superseded';
    if (dispatch.status !== 'Sending') return answerAgain(deps, dispatch, stored.session?.status === 'Cancelled');
    if (stored.action.status === 'PerformingAction' && !types.includes(stored.action.type)) {
      // an audit or a restart (its own result decides), or a two-step action that failed: write again for its type
      types = [stored.action.type];
      changes = actionChanges(invocation, output, stored.action.type, now);
      continue;
    }
    // the action was closed by someone else (cancelled, or the session failed) while its command ran: the
    // command's end still answers the step, if one is waiting, and takes the dispatch off the worklist
    let completed: Dispatch;
    try {
      completed = await deps.sessions.completeDispatch(sessionId, key, nonce, outcome, now);
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      return 'duplicate';
    }
    await deliver(deps, completed.taskToken, outcome, invocation.status);
    await deps.sessions.markTokenDelivered(sessionId, key);
    return 'completed';
  }
}

/** A detection's completion: the snapshot, the stage, then the dispatch. */
async function completeDetection(deps: Dependencies, reference: CommandReference, invocation: AgentInvocation): Promise<CompleteCommandResult> {
  const { dispatch, session } = await deps.sessions.getSessionWith(reference.sessionId, { dispatch: reference.key });
  if (!dispatch || !session) return 'not-ours';
  if (dispatch.nonce !== reference.nonce) return 'superseded';
  // a cancelled session's steps finish quietly: the workflow is heading for its end anyway
  const cancelled = session.status === 'Cancelled';
  if (dispatch.status !== 'Sending') return answerAgain(deps, dispatch, cancelled);

  const { outcome, logLine } = await recordDetection(deps, session, dispatch, invocation);
  let completed: Dispatch;
  try {
    completed = await deps.sessions.completeDispatch(session.id, dispatch.key, dispatch.nonce, outcome, deps.clock.now().toISOString());
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    return 'duplicate';
  }
  if (dispatch.sentOffline) await backOnline(deps, session.id, invocation.status);
  // logged by the completion that won, as the step is told
  await Promise.all([
    deliver(deps, completed.taskToken, outcome, cancelled ? 'Success' : invocation.status),
    logLine === undefined ? undefined : log(deps, session.id, 'Stage', logLine),
  ]);
  await deps.sessions.markTokenDelivered(session.id, dispatch.key);
  deps.logger.info('command completed', {
    sessionId: session.id,
    computerId: session.computerId,
    key: dispatch.key,
    commandId: invocation.commandId,
    status: invocation.status,
  });
  return 'completed';
}

/**
 * A dispatch already Completed (a redelivered event, or the reconciler):
 * tell its step again, in case the first telling never happened, and take it
 * off the worklist. Abandoned: nothing waits for it.
 */
async function answerAgain(deps: Dependencies, dispatch: Dispatch, cancelled: boolean): Promise<CompleteCommandResult> {
  if (dispatch.status !== 'Completed' || !dispatch.outcome) return 'superseded';
  if (dispatch.sentOffline) await backOnline(deps, dispatch.sessionId, dispatch.outcome.status);
  const waiting = await deliver(deps, dispatch.taskToken, dispatch.outcome, cancelled ? 'Success' : dispatch.outcome.status);
  if (!dispatch.tokenDelivered) await deps.sessions.markTokenDelivered(dispatch.sessionId, dispatch.key);
  return waiting ? 'redelivered' : 'duplicate';
}

/** A session that waited for its offline computer is running again once a command ran there. */
async function backOnline(deps: Dependencies, sessionId: string, status: InvocationStatus): Promise<void> {
  if (!RAN_STATUSES.includes(status)) return;
  const before = await loadSession(deps, sessionId);
  if (before.status !== 'PendingConnectivity') return;
  const back = await mutateSession(deps, sessionId, (s) => (s.status === 'PendingConnectivity' ? { status: 'Running' } : undefined));
  if (back.status === 'Running') await log(deps, sessionId, 'Agent', `${before.computerName} is back online`);
}

/**
 * Answers the waiting step with a recorded outcome: a detection that could not
 * reach or run on the computer fails the step (its Catch fails the session with
 * the reason); everything else completes it. A retried or resumed step that
 * finds the outcome recorded is answered the same way, through here.
 */
export async function deliver(deps: Dependencies, taskToken: string, outcome: DispatchOutcome, status: InvocationStatus): Promise<boolean> {
  // Detection must reach the computer; an action that could not is recorded on the action and the session goes on.
  const isDetection = !outcome.key.startsWith('Action#');
  const failure =
    isDetection && UNREACHABLE_STATUSES.includes(status)
      ? new AgentUnreachableError(outcome.summary)
      : isDetection && (REFUSED_STATUSES.includes(status) || status === 'Cancelled')
        ? new AgentFailedError(outcome.summary)
        : undefined;
  return failure ? deps.workflow.failTask(taskToken, failure.name, failure.message) : deps.workflow.completeTask(taskToken, outcome);
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

/** Records what a run detection found (snapshot and stage), and says the line the completion that wins logs; a command that never ran records nothing. */
async function recordDetection(
  deps: Dependencies,
  session: Session,
  dispatch: Dispatch,
  invocation: AgentInvocation,
): Promise<{ outcome: DispatchOutcome; logLine?: string }> {
  const base = { key: dispatch.key, commandId: invocation.commandId, status: invocation.status };
  if (!RAN_STATUSES.includes(invocation.status)) {
    return { outcome: { ...base, summary: describeStatus(invocation.status) } };
  }
  const phase = dispatch.key === 'Detect' ? 'Initial' : 'Verification';
  const items = parseDetectionOutput(
    invocation.stdout,
    dispatch.nonce,
    session.items.filter((item) => item.origin !== 'Unassigned').map((item) => ({ key: item.key, kind: item.kind })),
    { truncated: invocation.stdoutTruncated },
  );
  const now = deps.clock.now().toISOString();
  const detected = Object.values(items);
  const undetermined = detected.filter((item) => item.state === 'Undetermined').length;
  const summary = `detected ${detected.length - undetermined} of ${detected.length} item(s)`;
  // the snapshot and the stage are two items: written side by side, both before the dispatch completes
  await Promise.all([
    deps.sessions.saveDetection({ sessionId: session.id, phase, items, completedAt: now }),
    phase === 'Initial'
      ? mutateSession(
          deps,
          session.id,
          (s) => (s.stages.Detection.status !== 'Running' ? undefined : { stages: withStage(s, 'Detection', { ...s.stages.Detection, status: 'Succeeded', endedAt: now }) }),
          { current: session },
        )
      : undefined,
  ]);
  return { outcome: { ...base, summary }, logLine: `${phase === 'Initial' ? 'detection' : 'verification'}: ${summary}` };
}

const INTERRUPTED = 'interrupted: the script stopped without an exit code';

/** Two-step actions say which half failed; single-step ones need not. */
const stepWords = (type: Action['type'] | undefined, failedStep: number | undefined): string =>
  (type === 'Downgrade' || type === 'Reinstall') && failedStep !== undefined ? (failedStep === 1 ? ' while uninstalling' : ' while installing') : '';

/**
 * What a finished command says about its action, pure. `type` is the
 * action's when known; undefined stands for any type that verification
 * decides. A command that ran past its time limit failed, whatever exit code
 * its script recorded before it was stopped.
 */
export function actionChanges(invocation: AgentInvocation, output: ActionOutput | undefined, type: Action['type'] | undefined, now: string): ActionChanges {
  const timedOut = invocation.status === 'TimedOut' || invocation.status === 'ExecutionTimedOut';
  const succeeded = output !== undefined && output.exitCode === 0 && !timedOut;
  const selfDeciding = type !== undefined && SELF_DECIDING_TYPES.includes(type);
  // Failed with no exit code from the agent nor from the script's own record: the script stopped part-way
  // (the computer or its agent went down, something killed it). It may have done its work or not, and it is
  // never run again; verification decides, as for any action whose effect is unknown.
  const interrupted = invocation.status === 'Failed' && output?.exitCode === -1;
  const changes: ActionChanges =
    invocation.status === 'Cancelled'
      ? { status: 'Cancelled', result: 'Cancelled', resultReason: 'the running command was cancelled', endedAt: now }
      : interrupted
        ? selfDeciding
          ? // nothing for verification to look at: an audit's findings, or whether the computer restarted, are lost
            { status: 'Complete', result: 'Indeterminable', resultStage: 'Execution', resultReason: INTERRUPTED, endedAt: now }
          : { status: 'DeterminingResult', resultReason: INTERRUPTED }
        : !succeeded
          ? {
              status: 'Complete',
              result: 'Failed',
              resultStage: 'Execution',
              resultReason: output && !timedOut ? `the script exited ${output.exitCode}${stepWords(type, output.failedStep)}` : describeStatus(invocation.status),
              endedAt: now,
            }
          : selfDeciding
            ? // an audit only reads and a restart only restarts: the command's own result is the action's
              { status: 'Complete', result: 'Success', resultStage: 'Execution', resultReason: type === 'Reboot' ? 'Restarted' : 'Audited', endedAt: now }
            : { status: 'DeterminingResult', resultReason: 'ScriptSucceeded' };
  return {
    ...changes,
    ...(output
      ? {
          exitCode: output.exitCode,
          rebootRequired: output.rebootRequired,
          outputTail: output.outputTail,
          ...(output.durationMs === undefined ? {} : { durationMs: output.durationMs }),
        }
      : {}),
  };
}

/** The end of the log line of a finished action. */
function actionWords(changes: ActionChanges, output: ActionOutput | undefined): string {
  if (changes.result === 'Failed') return `failed: ${changes.resultReason ?? ''}`;
  if (changes.status === 'Cancelled') return 'cancelled';
  if (changes.resultReason === INTERRUPTED) {
    return `was interrupted (${changes.status === 'DeterminingResult' ? 'verification decides' : 'its effect is unknown'})`;
  }
  return output === undefined ? String(changes.status) : 'finished';
}
