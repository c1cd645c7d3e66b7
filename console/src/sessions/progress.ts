import type { SessionStepName, SessionStepState } from '../../../functions/core/model/session-steps.js';

/**
 * The words of the stage indicator: resolve → detect → plan → notify →
 * window → execute → verify → report. Where a session stands among them
 * comes with its report (`steps`, read by the API from the session's record).
 */
export type StepState = SessionStepState;

export const STEP_LABELS: Readonly<Record<SessionStepName, string>> = {
  Resolve: 'Resolve',
  Detect: 'Detect',
  Plan: 'Plan',
  Notify: 'Notify',
  Window: 'Window',
  Execute: 'Execute',
  Verify: 'Verify',
  Report: 'Report',
};
