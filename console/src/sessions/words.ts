import type { SessionReport, SessionStatus, SessionSummary } from '../api/types.js';

/** The session vocabulary as the console shows it: the same words as the CLI and the emails. */

type Trigger = SessionSummary['trigger'];
type Requester = SessionSummary['requestedBy'];
type StageName = NonNullable<SessionSummary['stage']>;

/** Every status (a status the API adds fails to compile here until it has words), in the order a night goes. */
export const STATUS_LABELS: Readonly<Record<SessionStatus, string>> = {
  Created: 'Created',
  Running: 'Running',
  PendingConnectivity: 'Waiting for the computer',
  Postponed: 'Postponed',
  Passed: 'Passed',
  PartialPassed: 'Partly passed',
  Failed: 'Failed',
  Cancelled: 'Cancelled',
};

/** The filter chips' order: the labels' own. */
export const STATUS_ORDER = Object.keys(STATUS_LABELS) as readonly SessionStatus[];

export const isStatus = (value: unknown): value is SessionStatus => typeof value === 'string' && Object.hasOwn(STATUS_LABELS, value);

/** What a status means for the eye: the badge's colour class (text always says it too). */
export const STATUS_TONE: Readonly<Record<SessionStatus, 'neutral' | 'active' | 'good' | 'warn' | 'bad'>> = {
  Created: 'neutral',
  Running: 'active',
  PendingConnectivity: 'warn',
  Postponed: 'neutral',
  Passed: 'good',
  PartialPassed: 'warn',
  Failed: 'bad',
  Cancelled: 'neutral',
};

const FINAL: ReadonlySet<SessionStatus> = new Set<SessionStatus>(['Passed', 'PartialPassed', 'Failed', 'Cancelled']);
export const isFinal = (status: SessionStatus): boolean => FINAL.has(status);

export const TRIGGER_LABELS: Readonly<Record<Trigger, string>> = {
  Scheduled: 'Scheduled',
  RunNow: 'Run now',
  Manual: 'Started by hand',
  EndUser: 'End-user run',
};

/** An action's result, or its status while it has none, in words (the API's enum reads as code: `NotStarted`, `DeterminingResult`). */
export const RESULT_LABELS: Readonly<Record<SessionReport['rows'][number]['result'], string>> = {
  Pending: 'Pending',
  NotStarted: 'Not started',
  PerformingAction: 'Running',
  DeterminingResult: 'Checking the result',
  Complete: 'Complete',
  Success: 'Success',
  Failed: 'Failed',
  Cancelled: 'Cancelled',
  Indeterminable: 'Could not tell',
  Skipped: 'Skipped',
};

export const STAGE_LABELS: Readonly<Record<StageName, string>> = { Detection: 'Detection', Execution: 'Execution', Verification: 'Verification' };

/**
 * Where a listed session stands: its stage, or, for one detected and parked
 * until a window still ahead, that it waits and until when (such a session is
 * Running for hours with nothing happening, which "Detection" would hide).
 */
export function stageOf(session: Pick<SessionSummary, 'stage' | 'awaitingExecution' | 'executeAt'>, nowMs: number): { readonly label: string; readonly until?: string } {
  if (session.awaitingExecution && session.executeAt !== undefined && Date.parse(session.executeAt) > nowMs) return { label: 'Waiting for its window', until: session.executeAt };
  return { label: session.stage === undefined ? '—' : STAGE_LABELS[session.stage] };
}

const REQUESTER_KINDS: Readonly<Record<Requester['kind'], string>> = { EndUser: 'end user', Operator: 'operator', Api: 'API', Schedule: 'schedule' };

/** "ops@msp.example (operator)". */
export const requesterLabel = (by: Requester): string => `${by.name} (${REQUESTER_KINDS[by.kind]})`;
