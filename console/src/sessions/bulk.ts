import type { SessionSummary } from '../api/types.js';
import { formatCount } from '../format.js';
import { isFinal, STATUS_LABELS } from './words.js';

/**
 * Asking many sessions the same thing at once, without the UI: which of the
 * selected sessions a request applies to (cancel: the unfinished; rerun: the
 * ended), what became of each, and the words for it. The requests themselves
 * are the API's per-session ones, sent a few at a time (bulk-actions.tsx).
 */

export type BulkKind = 'cancel' | 'rerun';

/** How many requests are in flight at once: a few, so a page of 50 neither queues for long nor floods the API. */
export const BULK_CONCURRENCY = 4;

export interface BulkPlan {
  readonly kind: BulkKind;
  /** The sessions the request goes to, in the list's order. */
  readonly targets: readonly SessionSummary[];
  /** The selected sessions it does not apply to. */
  readonly skipped: readonly SessionSummary[];
}

const appliesTo = (kind: BulkKind, session: SessionSummary): boolean => (kind === 'cancel' ? !isFinal(session.status) : isFinal(session.status));

export function planBulk(kind: BulkKind, selected: readonly SessionSummary[]): BulkPlan {
  return { kind, targets: selected.filter((session) => appliesTo(kind, session)), skipped: selected.filter((session) => !appliesTo(kind, session)) };
}

export type BulkOutcome =
  | { readonly state: 'waiting' }
  /** `sessionId`: a rerun's new session. */
  | { readonly state: 'done'; readonly sessionId?: string }
  /** A rerun the API answered with the computer's unfinished session instead of a new one. */
  | { readonly state: 'unchanged'; readonly message: string; readonly sessionId: string }
  | { readonly state: 'refused'; readonly message: string; readonly code?: string }
  | { readonly state: 'skipped'; readonly message: string };

export interface BulkEntry {
  readonly session: SessionSummary;
  /** The rerun's Idempotency-Key: one per session per confirmed request, so trying again never starts a second session. */
  readonly key: string;
  readonly outcome: BulkOutcome;
}

/** The entries of a confirmed plan: every target waiting, every skipped one saying why. */
export function entriesFor(plan: BulkPlan, newKey: () => string): BulkEntry[] {
  const skipped = (session: SessionSummary): BulkOutcome => ({
    state: 'skipped',
    message: plan.kind === 'cancel' ? `it has already ended (${STATUS_LABELS[session.status]})` : `it has not ended yet (${STATUS_LABELS[session.status]})`,
  });
  return [...plan.targets.map((session) => ({ session, key: newKey(), outcome: { state: 'waiting' } as const })), ...plan.skipped.map((session) => ({ session, key: newKey(), outcome: skipped(session) }))];
}

/** How far a bulk request is: requests answered of requests to send (skipped sessions are neither). */
export function progressOf(entries: readonly BulkEntry[]): { readonly answered: number; readonly total: number } {
  const sent = entries.filter((entry) => entry.outcome.state !== 'skipped');
  return { answered: sent.filter((entry) => entry.outcome.state !== 'waiting').length, total: sent.length };
}

/** "1 session", "3 sessions". */
export const sessionCount = (count: number): string => `${formatCount(count)} ${count === 1 ? 'session' : 'sessions'}`;

/** What each outcome is called, per request: "Cancelled", "Skipped". */
export const OUTCOME_LABELS: Readonly<Record<BulkKind, Readonly<Record<BulkOutcome['state'], string>>>> = {
  cancel: { waiting: 'Waiting', done: 'Cancelled', unchanged: 'Unchanged', refused: 'Refused', skipped: 'Skipped' },
  rerun: { waiting: 'Waiting', done: 'Rerun', unchanged: 'Not rerun', refused: 'Refused', skipped: 'Skipped' },
};

/** "2 cancelled, 1 refused, 1 skipped": what became of the sessions, naming only what happened. */
export function summaryOf(kind: BulkKind, entries: readonly BulkEntry[]): string {
  const states: readonly BulkOutcome['state'][] = ['done', 'unchanged', 'refused', 'skipped', 'waiting'];
  return states
    .map((state) => [entries.filter((entry) => entry.outcome.state === state).length, OUTCOME_LABELS[kind][state].toLowerCase()] as const)
    .filter(([count]) => count > 0)
    .map(([count, words]) => `${formatCount(count)} ${words}`)
    .join(', ');
}

/**
 * Runs `work` over every item, at most `limit` at a time, starting them in
 * order. `work` settles its own item (it should not throw): one refusal must
 * not stop the others.
 */
export async function forEachBounded<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  // one iterator shared by the workers: each takes the next item when it is free
  const queue = items.values();
  const worker = async (): Promise<void> => {
    for (const item of queue) await work(item);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
