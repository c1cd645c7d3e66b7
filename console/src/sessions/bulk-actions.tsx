import { Link } from '@tanstack/react-router';
import { useEffect, useId, useRef, useState, type RefObject } from 'react';
import { api, ApiError, data } from '../api/client.js';
import type { SessionSummary } from '../api/types.js';
import { ConfirmDialog } from '../components/ConfirmDialog.js';
import { BULK_CONCURRENCY, entriesFor, forEachBounded, OUTCOME_LABELS, planBulk, progressOf, sessionCount, summaryOf, type BulkEntry, type BulkKind, type BulkOutcome, type BulkPlan } from './bulk.js';

/**
 * Cancel or rerun the sessions selected on the Sessions page: each request
 * behind a confirmation naming the count, then the API's own per-session
 * requests a few at a time, with progress announced and what became of
 * each session listed (a refusal names the session and the API's reason,
 * and the others go on).
 */

export interface BulkRun {
  /** Tells one confirmed request from the next, so a late answer cannot land in a newer run. */
  readonly serial: number;
  readonly kind: BulkKind;
  readonly entries: readonly BulkEntry[];
  readonly running: boolean;
}

export interface BulkSessions {
  readonly run: BulkRun | undefined;
  readonly start: (plan: BulkPlan) => void;
  /** Sends the refused requests again, with the same Idempotency-Keys: a rerun that did start is answered, not doubled. */
  readonly retryRefused: () => void;
  readonly dismiss: () => void;
}

/** One session's request, settled: never throws, a refusal is an outcome like any other. */
async function request(kind: BulkKind, entry: BulkEntry): Promise<BulkOutcome> {
  const sessionId = entry.session.id;
  try {
    if (kind === 'cancel') {
      await data(api.POST('/v1/sessions/{sessionId}/cancel', { params: { path: { sessionId } } }));
      return { state: 'done' };
    }
    const result = await data(api.POST('/v1/sessions/{sessionId}/rerun', { params: { path: { sessionId }, header: { 'idempotency-key': entry.key } } }));
    return result.created ? { state: 'done', sessionId: result.sessionId } : { state: 'unchanged', sessionId: result.sessionId, message: 'the computer already has an unfinished session' };
  } catch (error) {
    if (error instanceof ApiError) return { state: 'refused', message: error.message, code: error.code };
    return { state: 'refused', message: error instanceof Error ? error.message : 'the request failed' };
  }
}

/**
 * The state of the page's bulk requests. It lives above the list, so a run
 * goes on (and its report stays) when the list is refreshed or refiltered;
 * `onFinished` is told when every request has been answered.
 */
export function useBulkSessions(onFinished: (kind: BulkKind) => void): BulkSessions {
  const [run, setRun] = useState<BulkRun>();
  const serials = useRef(0);

  const send = async (serial: number, kind: BulkKind, entries: readonly BulkEntry[]): Promise<void> => {
    const settle = (sessionId: string, outcome: BulkOutcome) => {
      setRun((current) => (current?.serial === serial ? { ...current, entries: current.entries.map((entry) => (entry.session.id === sessionId ? { ...entry, outcome } : entry)) } : current));
    };
    await forEachBounded(entries, BULK_CONCURRENCY, async (entry) => {
      settle(entry.session.id, await request(kind, entry));
    });
    setRun((current) => (current?.serial === serial ? { ...current, running: false } : current));
    onFinished(kind);
  };

  const start = (plan: BulkPlan) => {
    const serial = ++serials.current;
    const entries = entriesFor(plan, () => crypto.randomUUID());
    setRun({ serial, kind: plan.kind, entries, running: true });
    void send(serial, plan.kind, entries.filter((entry) => entry.outcome.state === 'waiting'));
  };

  const retryRefused = () => {
    if (run === undefined || run.running) return;
    const refused = run.entries.filter((entry) => entry.outcome.state === 'refused');
    const again = new Set(refused.map((entry) => entry.session.id));
    setRun({ ...run, running: true, entries: run.entries.map((entry) => (again.has(entry.session.id) ? { ...entry, outcome: { state: 'waiting' } } : entry)) });
    void send(run.serial, run.kind, refused);
  };

  return { run, start, retryRefused, dismiss: () => { setRun((current) => (current?.running === true ? current : undefined)); } };
}

const TITLES: Readonly<Record<BulkKind, (count: number) => string>> = {
  cancel: (count) => `Cancel ${sessionCount(count)}`,
  rerun: (count) => `Rerun ${sessionCount(count)}`,
};

const EXPLANATIONS: Readonly<Record<BulkKind, string>> = {
  cancel: 'Before execution nothing on their computers is touched; during it the running command is stopped and nothing else starts.',
  rerun: 'Each starts a new session for the same computer with the same options; a computer with an unfinished session keeps that one.',
};

const SKIPPED: Readonly<Record<BulkKind, (count: number) => string>> = {
  cancel: (count) => `${sessionCount(count)} of the selection ${count === 1 ? 'has' : 'have'} already ended and ${count === 1 ? 'is' : 'are'} skipped.`,
  rerun: (count) => `${sessionCount(count)} of the selection ${count === 1 ? 'has' : 'have'} not ended yet and ${count === 1 ? 'is' : 'are'} skipped.`,
};

const RUNNING_WORDS: Readonly<Record<BulkKind, string>> = { cancel: 'Cancelling', rerun: 'Rerunning' };

/** What the page says of the last request: progress while requests are out, then what became of them. */
function statusOf(run: BulkRun | undefined): string {
  if (run === undefined) return '';
  const { answered, total } = progressOf(run.entries);
  if (run.running) return `${RUNNING_WORDS[run.kind]}: ${answered} of ${total} done`;
  return `${TITLES[run.kind](total)}: ${summaryOf(run.kind, run.entries)}.`;
}

/**
 * The bar above the list for the selected sessions (an operator's only): a
 * cancel for the unfinished ones and a rerun for the ended ones, each saying
 * how many of the selection it skips, and the report of the last request.
 */
export function BulkBar({ selected, bulk, onClear }: { readonly selected: readonly SessionSummary[]; readonly bulk: BulkSessions; readonly onClear: () => void }) {
  const id = useId();
  const dialog = useRef<HTMLDialogElement>(null);
  const report = useRef<HTMLHeadingElement>(null);
  const confirmed = useRef(false);
  /** The plan the dialog shows, fixed when it opens: what is confirmed is what was read, whatever the list does meanwhile. */
  const [pending, setPending] = useState<BulkPlan>();
  const running = bulk.run?.running === true;
  const plans = { cancel: planBulk('cancel', selected), rerun: planBulk('rerun', selected) };

  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    // the button that opened the dialog is gone (nothing is selected any more): the report is where the keyboard goes on
    const onClose = () => {
      if (confirmed.current) report.current?.focus();
      confirmed.current = false;
    };
    element.addEventListener('close', onClose);
    return () => { element.removeEventListener('close', onClose); };
  }, []);

  const ask = (plan: BulkPlan) => {
    setPending(plan);
    dialog.current?.showModal();
  };
  const button = (kind: BulkKind) => {
    const plan = plans[kind];
    return (
      <span className="bulk-request">
        <button type="button" className={kind === 'cancel' ? 'danger' : undefined} disabled={running || plan.targets.length === 0} aria-describedby={plan.skipped.length > 0 ? `${id}-${kind}-skipped` : undefined} onClick={() => { ask(plan); }}>
          {TITLES[kind](plan.targets.length)}
        </button>
        {plan.skipped.length > 0 ? (
          <span id={`${id}-${kind}-skipped`} className="hint">
            {SKIPPED[kind](plan.skipped.length)}
          </span>
        ) : null}
      </span>
    );
  };

  return (
    <section className="bulk" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`} className="visually-hidden">
        Selected sessions
      </h2>
      <div className="bulk-bar">
        {selected.length === 0 ? (
          <span className="hint">Select sessions with the checkboxes to cancel or rerun several at once.</span>
        ) : (
          <>
            <strong>{formatSelected(selected.length)}</strong>
            {button('cancel')}
            {button('rerun')}
            <button type="button" className="secondary" onClick={onClear}>
              Clear selection
            </button>
          </>
        )}
      </div>
      <ConfirmDialogFor
        dialogRef={dialog}
        id={`${id}-confirm`}
        plan={pending ?? plans.cancel}
        onConfirm={() => {
          if (pending === undefined) return;
          confirmed.current = true;
          onClear();
          bulk.start(pending);
        }}
      />
      {/* seen here; heard through BulkAnnouncer, which outlives the list this bar belongs to */}
      <p className="bulk-status">{statusOf(bulk.run)}</p>
      {bulk.run === undefined ? null : <BulkReport run={bulk.run} headingRef={report} onRetry={bulk.retryRefused} onDismiss={bulk.dismiss} />}
    </section>
  );
}

/**
 * The live region for bulk progress ("3 of 10 done", then the outcome). Render
 * it beside the hook, not in the list: a rerun ends by reading a new list, and
 * a region mounted with its text already in it may not be announced.
 */
export function BulkAnnouncer({ bulk }: { readonly bulk: BulkSessions }) {
  return (
    <p role="status" className="visually-hidden">
      {statusOf(bulk.run)}
    </p>
  );
}

const formatSelected = (count: number): string => `${sessionCount(count)} selected`;

function ConfirmDialogFor({ dialogRef, id, plan, onConfirm }: { readonly dialogRef: RefObject<HTMLDialogElement | null>; readonly id: string; readonly plan: BulkPlan; readonly onConfirm: () => void }) {
  const count = plan.targets.length;
  return (
    <ConfirmDialog
      dialogRef={dialogRef}
      id={id}
      title={`${TITLES[plan.kind](count)}?`}
      explanation={`${EXPLANATIONS[plan.kind]}${plan.skipped.length > 0 ? ` ${SKIPPED[plan.kind](plan.skipped.length)}` : ''}`}
      confirmLabel={`Yes, ${TITLES[plan.kind](count).toLowerCase()}`}
      onConfirm={onConfirm}
    />
  );
}

/** What became of each session of the last request: a list to read, the session a link. */
function BulkReport({ run, headingRef, onRetry, onDismiss }: { readonly run: BulkRun; readonly headingRef: RefObject<HTMLHeadingElement | null>; readonly onRetry: () => void; readonly onDismiss: () => void }) {
  const refused = run.entries.filter((entry) => entry.outcome.state === 'refused').length;
  const { total } = progressOf(run.entries);
  return (
    <div className="bulk-report">
      <h3 ref={headingRef} tabIndex={-1}>
        {TITLES[run.kind](total)}
      </h3>
      <ul aria-label="What became of each session">
        {run.entries.map((entry) => (
          <li key={entry.session.id} className={`bulk-${entry.outcome.state}`}>
            <Link to="/sessions/$sessionId" params={{ sessionId: entry.session.id }}>
              {entry.session.computerName ?? entry.session.computerId}
            </Link>{' '}
            <span className="bulk-outcome">{OUTCOME_LABELS[run.kind][entry.outcome.state]}</span>
            <OutcomeDetail outcome={entry.outcome} />
          </li>
        ))}
      </ul>
      <div className="controls">
        {refused > 0 ? (
          <button type="button" disabled={run.running} onClick={onRetry}>
            Try again: {sessionCount(refused)} refused
          </button>
        ) : null}
        <button type="button" className="secondary" disabled={run.running} onClick={onDismiss}>
          Dismiss
        </button>
      </div>
    </div>
  );
}

/** The rest of a session's line: the new session, or why nothing happened, in the API's words. */
function OutcomeDetail({ outcome }: { readonly outcome: BulkOutcome }) {
  const session = (sessionId: string) => (
    <Link to="/sessions/$sessionId" params={{ sessionId }}>
      {sessionId}
    </Link>
  );
  switch (outcome.state) {
    case 'waiting':
      return null;
    case 'done':
      return outcome.sessionId === undefined ? null : <> as {session(outcome.sessionId)}</>;
    case 'unchanged':
      return (
        <>
          : {outcome.message}, {session(outcome.sessionId)}
        </>
      );
    case 'refused':
      return (
        <>
          : {outcome.message}
          {outcome.code === undefined ? null : <span className="problem-code"> ({outcome.code})</span>}
        </>
      );
    case 'skipped':
      return <>: {outcome.message}</>;
  }
}
