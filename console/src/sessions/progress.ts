import type { SessionLogEntry, SessionStatus } from '../api/types.js';
import { isFinal } from './words.js';

/**
 * Where a session is among its eight steps, for the stage indicator:
 * resolve → detect → plan → notify → window → execute → verify → report.
 *
 * The API's session report does not carry the steps (it has the status and
 * the actions), so they are read from the session's log, whose stage lines
 * the session's handlers write at each step. This is the console's one
 * reading of those lines; when `GET /v1/sessions/{id}` answers the steps
 * itself, this file goes.
 */

export const STEPS = ['Resolve', 'Detect', 'Plan', 'Notify', 'Window', 'Execute', 'Verify', 'Report'] as const;
export type Step = (typeof STEPS)[number];

export const STEP_LABELS: Readonly<Record<Step, string>> = {
  Resolve: 'Resolve',
  Detect: 'Detect',
  Plan: 'Plan',
  Notify: 'Notify',
  Window: 'Window',
  Execute: 'Execute',
  Verify: 'Verify',
  Report: 'Report',
};

/** `done`: happened; `current`: happening or waited for now; `skipped`: passed over (or never reached by a session that ended). */
export type StepState = 'done' | 'current' | 'pending' | 'skipped' | 'failed' | 'cancelled';

export interface StepProgress {
  readonly step: Step;
  readonly state: StepState;
}

type LogLine = Pick<SessionLogEntry, 'kind' | 'message'>;

/** Which step a log line shows finished (`done`) or begun (`reached`). */
const SIGNS: readonly { readonly kind: LogLine['kind']; readonly pattern: RegExp; readonly done: readonly Step[]; readonly reached: Step }[] = [
  { kind: 'Stage', pattern: /deployed item\(s\) apply/, done: ['Resolve'], reached: 'Detect' },
  { kind: 'Stage', pattern: /^detection: /, done: ['Resolve', 'Detect'], reached: 'Plan' },
  { kind: 'Stage', pattern: /^planned/, done: ['Plan'], reached: 'Notify' },
  { kind: 'Email', pattern: /^detection email sent/, done: ['Notify'], reached: 'Window' },
  { kind: 'Stage', pattern: /^waiting for /, done: [], reached: 'Window' },
  { kind: 'Stage', pattern: /^execution started/, done: ['Window'], reached: 'Execute' },
  { kind: 'Stage', pattern: /^verification: /, done: ['Execute', 'Verify'], reached: 'Report' },
  { kind: 'Stage', pattern: /^session ended /, done: ['Report'], reached: 'Report' },
];

const indexOf = (step: Step): number => STEPS.indexOf(step);

export function sessionProgress(status: SessionStatus, log: readonly LogLine[]): StepProgress[] {
  const done = new Set<Step>();
  let furthest = 0;
  /** The step the session stood at when it was cancelled or failed. */
  let stoppedAt: number | undefined;
  const standing = (): number => {
    let at = furthest;
    while (at < STEPS.length - 1 && done.has(STEPS[at] ?? 'Report')) at++;
    return at;
  };
  for (const line of log) {
    if (line.kind === 'Request' && line.message === 'session cancelled') stoppedAt ??= standing();
    if (line.kind === 'Problem' && line.message.startsWith('session failed:')) stoppedAt ??= standing();
    const sign = SIGNS.find((candidate) => candidate.kind === line.kind && candidate.pattern.test(line.message));
    if (sign === undefined) continue;
    for (const step of sign.done) done.add(step);
    furthest = Math.max(furthest, indexOf(sign.reached));
  }
  const final = isFinal(status);
  const stopped = status === 'Cancelled' || status === 'Failed' ? (stoppedAt ?? standing()) : undefined;
  const now = standing();
  return STEPS.map((step, index): StepProgress => {
    if (index === stopped) return { step, state: status === 'Cancelled' ? 'cancelled' : 'failed' };
    if (done.has(step)) return { step, state: 'done' };
    if (index < furthest || final) return { step, state: 'skipped' };
    return { step, state: index === now ? 'current' : 'pending' };
  });
}
