import { isFinalSessionStatus, type PlanSnapshot, type Session, type StageStatus } from './session.js';

/**
 * Where a session stands among the eight steps an operator knows
 * (resolve → detect → plan → notify → window → execute → verify → report),
 * read from its record alone, so every reader (console, CLI, PSA) shows the
 * same thing without reading the log.
 */
export const SESSION_STEPS = ['Resolve', 'Detect', 'Plan', 'Notify', 'Window', 'Execute', 'Verify', 'Report'] as const;
export type SessionStepName = (typeof SESSION_STEPS)[number];

/** done: happened; current: happening, or waited for now; pending: not reached yet; skipped: passed over, or never reached by a session that ended. */
export type SessionStepState = 'done' | 'current' | 'pending' | 'skipped' | 'failed' | 'cancelled';

export interface SessionStep {
  readonly step: SessionStepName;
  readonly state: SessionStepState;
}

const ofStage = (status: StageStatus): SessionStepState =>
  status === 'Succeeded' ? 'done' : status === 'Running' ? 'current' : status === 'Failed' ? 'failed' : status === 'Skipped' ? 'skipped' : 'pending';

export function sessionSteps(session: Session, plan: PlanSnapshot | undefined): SessionStep[] {
  const { Detection, Execution, Verification } = session.stages;
  const planned = plan !== undefined;
  const states: Record<SessionStepName, SessionStepState> = {
    Resolve: Detection.status !== 'Unstarted' || planned ? 'done' : session.status === 'Created' ? 'pending' : 'current',
    Detect: ofStage(Detection.status),
    Plan: planned ? 'done' : Detection.status === 'Succeeded' ? 'current' : 'pending',
    // the Notify step runs right after the plan; without end-user email it passes over
    Notify: !planned ? 'pending' : session.options.notify ? 'done' : 'skipped',
    Window:
      Execution.status === 'Running' || Execution.status === 'Succeeded' || Execution.status === 'Failed'
        ? session.executeAt === undefined && session.postponements.length === 0
          ? 'skipped'
          : 'done'
        : planned && session.options.mode === 'Full' && Execution.status === 'Unstarted' && !isFinalSessionStatus(session.status)
          ? 'current'
          : 'pending',
    Execute: ofStage(Execution.status),
    Verify: ofStage(Verification.status),
    Report: session.endedAt !== undefined ? 'done' : 'pending',
  };
  if (isFinalSessionStatus(session.status)) {
    const stopped: SessionStepState = session.status === 'Cancelled' ? 'cancelled' : session.status === 'Failed' && session.failure ? 'failed' : 'skipped';
    // a step that failed already says where it stopped
    let marked = SESSION_STEPS.some((step) => states[step] === 'failed');
    for (const step of SESSION_STEPS) {
      if (states[step] === 'current') {
        states[step] = stopped;
        marked = true;
      } else if (states[step] === 'pending') {
        // the first step a cancelled or broken session never reached is where it stopped
        states[step] = !marked && stopped !== 'skipped' && step !== 'Report' ? stopped : 'skipped';
        marked = true;
      }
    }
  }
  return SESSION_STEPS.map((step) => ({ step, state: states[step] }));
}
