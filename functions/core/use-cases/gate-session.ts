import { isFinalSessionStatus, type Session } from '../model/session.js';
import type { SessionChanges } from '../ports/session-store.port.js';
import type { Dependencies } from './dependencies.js';
import { log, mutateSessionReporting, withStage } from './session-updates.js';

export type GateDecision = 'Run' | 'Wait' | 'End';

/** Scheduler keeps time to the minute; a re-armed timer is set at least this far ahead. */
const REARM_MIN_AHEAD_MS = 60_000;

/** What the workflow's gate step is answered with; its Choice routes on `decision`. */
export interface GateOutput {
  readonly decision: Exclude<GateDecision, 'Wait'>;
}

/**
 * The one rule of the gate, pure: a cancelled or finished session ends
 * without touching the computer; one whose window has not come (or was
 * postponed) waits; otherwise execution runs.
 */
export function gateDecision(session: Session, now: Date): GateDecision {
  // Stryker disable next-line ConditionalExpression,StringLiteral: Cancelled is a final status, so isFinalSessionStatus ends it too; the first test only names the common case
  if (session.status === 'Cancelled' || isFinalSessionStatus(session.status)) return 'End';
  if (session.stages.Execution.status === 'Running') return 'Run';
  // Stryker disable next-line ConditionalExpression: without a window Date.parse gives NaN, which is never after now; the first test is for the types
  if (session.executeAt !== undefined && Date.parse(session.executeAt) > now.getTime()) return 'Wait';
  return 'Run';
}

/**
 * The gate with a run's execution slots: a session of a run that bounds how
 * many execute at once runs only while it holds a slot.
 */
function gateDecisionWithSlot(session: Session, now: Date, slotFree: boolean): GateDecision {
  const decision = gateDecision(session, now);
  return decision === 'Run' && !slotFree && session.stages.Execution.status !== 'Running' ? 'Wait' : decision;
}

/**
 * Whether the session may execute as far as its run's slots go: true without
 * a limit, or once it holds a slot (taken here when its window has come;
 * given back when the session ends).
 */
async function executionSlotFree(deps: Dependencies, sessionId: string, now: Date): Promise<{ slotFree: boolean; session?: Session }> {
  const session = await deps.sessions.getSession(sessionId);
  const origin = session?.origin;
  if (!session || origin?.maxExecuting === undefined || session.stages.Execution.status === 'Running' || gateDecision(session, now) !== 'Run') {
    return { slotFree: true, session };
  }
  return { slotFree: await deps.schedules.acquireExecutionSlot(origin.runId, sessionId, origin.maxExecuting, now.toISOString()), session };
}

/** An ended session gives its run's execution slot back, so the next one waiting runs at its next look. */
export async function releaseExecutionSlot(deps: Pick<Dependencies, 'schedules'>, session: Session): Promise<void> {
  if (session.origin?.maxExecuting === undefined) return;
  await deps.schedules.releaseExecutionSlot(session.origin.runId, session.id);
}

/** The write that opens the gate: execution starts, once, whoever gets there first. */
const startExecution = (session: Session, now: Date): SessionChanges => ({
  status: 'Running',
  stages: withStage(session, 'Execution', { status: 'Running', startedAt: now.toISOString() }),
});

/**
 * The gate between planning and execution: a `.waitForTaskToken` step that
 * costs the same whether the window is a minute or two weeks away.
 *
 * Run or End: the gate answers its own token at once. Wait: the token is
 * parked on the session (a conditional write, so a run-now, postpone or cancel
 * landing meanwhile is seen) and one timer is armed for the window; the
 * timer, a run-now or a cancel completes the token later (`wakeGate`).
 * A retried gate parks its new token over the old one.
 */
export async function gateSession(deps: Dependencies, sessionId: string, taskToken: string): Promise<{ decision: GateDecision }> {
  const now = deps.clock.now();
  const { slotFree, session: current } = await executionSlotFree(deps, sessionId, now);
  const { session, written } = await mutateSessionReporting(
    deps,
    sessionId,
    (s) => {
      const decision = gateDecisionWithSlot(s, now, slotFree);
      if (decision === 'Run' && s.stages.Execution.status !== 'Running') return startExecution(s, now);
      if (decision === 'Wait' && s.windowWait?.taskToken !== taskToken) {
        return { windowWait: { taskToken, since: now.toISOString(), until: s.executeAt ?? now.toISOString() } };
      }
      return undefined;
    },
    { current },
  );
  const decision = gateDecisionWithSlot(session, now, slotFree);
  if (decision === 'Wait') {
    // a session whose window has come waits for a slot: its timer looks again a minute on
    const windowCame = gateDecision(session, now) === 'Run';
    const until = windowCame ? new Date(now.getTime() + REARM_MIN_AHEAD_MS).toISOString() : (session.executeAt ?? now.toISOString());
    await deps.windowTimers.set(sessionId, until);
    if (written) await log(deps, sessionId, 'Stage', windowCame ? 'waiting for one of its run\'s execution slots' : `waiting for the maintenance window at ${until}`);
    return { decision };
  }
  // Stryker disable next-line ConditionalExpression: past the Wait above, only a Run writes (End decides no change), so written alone already means Run
  if (decision === 'Run' && written) await log(deps, sessionId, 'Stage', 'execution started');
  await deps.workflow.completeTask(taskToken, { decision } satisfies GateOutput);
  return { decision };
}


export type WakeResult = 'woken' | 'not-waiting' | 'still-waiting';

/**
 * Wakes a gate parked on its window, if the session's state says it should
 * go on: the window has come (timer, run-now) or the session was cancelled.
 * Execution starts in the same conditional write the gate itself would make.
 *
 * Completing a token twice is harmless (the second finds it gone), so a timer
 * that fires after a run-now or a cancel changes nothing: the session is no
 * longer waiting, and nothing is written or logged.
 */
export async function wakeGate(deps: Dependencies, sessionId: string): Promise<WakeResult> {
  const now = deps.clock.now();
  const { slotFree, session: current } = await executionSlotFree(deps, sessionId, now);
  const { session, written } = await mutateSessionReporting(
    deps,
    sessionId,
    (s) => (s.windowWait && gateDecisionWithSlot(s, now, slotFree) === 'Run' && s.stages.Execution.status !== 'Running' ? startExecution(s, now) : undefined),
    { current },
  );
  if (!session.windowWait) return 'not-waiting';
  const decision = gateDecisionWithSlot(session, now, slotFree);
  if (decision === 'Wait') return 'still-waiting';
  const woke = await deps.workflow.completeTask(session.windowWait.taskToken, { decision } satisfies GateOutput);
  if (written) await log(deps, sessionId, 'Stage', 'execution started');
  return woke ? 'woken' : 'not-waiting';
}

/**
 * The window timer's target. Early (the window moved later and the timer was
 * not moved yet): arm it again for the window. Late (the session was
 * cancelled, ran already, or ended): nothing.
 */
export async function windowTimerFired(deps: Dependencies, sessionId: string): Promise<{ result: WakeResult }> {
  const result = await wakeGate(deps, sessionId);
  if (result === 'still-waiting') {
    const session = await deps.sessions.getSession(sessionId);
    // never for a time that is about to pass: a timer re-armed inside its own firing must still be ahead of it
    const notBeforeMs = deps.clock.now().getTime() + REARM_MIN_AHEAD_MS;
    if (session?.executeAt) await deps.windowTimers.set(sessionId, new Date(Math.max(Date.parse(session.executeAt), notBeforeMs)).toISOString());
    // no window to wait for, but parked for one of its run's execution slots: look again in a minute
    else if (session?.windowWait && session.origin?.maxExecuting !== undefined) await deps.windowTimers.set(sessionId, new Date(notBeforeMs).toISOString());
  }
  return { result };
}
