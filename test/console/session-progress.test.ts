import { describe, expect, it } from 'vitest';
import { rangeFor, sessionFiltersFrom } from '../../console/src/sessions/filters.js';
import { sessionProgress, type StepState } from '../../console/src/sessions/progress.js';

/**
 * The console's pure parts: the eight-step indicator read from a session's
 * log (lines as the session's handlers write them), and the Sessions page's
 * filters and range as its URL and clock give them.
 */

const stage = (message: string) => ({ kind: 'Stage' as const, message });
const RESOLVED = stage('2 deployed item(s) apply; detection started');
const DETECTED = stage('detection: detected 2 of 2 item(s)');
const PLANNED = stage('planned 1 action(s): Install App editor');
const EMAILED = { kind: 'Email' as const, message: 'detection email sent to robin@contoso.example' };
const WAITING = stage('waiting for the maintenance window at 2026-11-23T12:00:00.000Z');
const EXECUTING = stage('execution started');
const VERIFIED = stage('verification: detected 2 of 2 item(s)');

const states = (progress: ReturnType<typeof sessionProgress>): Record<string, StepState> => Object.fromEntries(progress.map(({ step, state }) => [step, state]));

describe('sessionProgress: the stage indicator from the log', () => {
  it('shows a new session resolving, with every later step still to come', () => {
    expect(states(sessionProgress('Created', []))).toEqual({ Resolve: 'current', Detect: 'pending', Plan: 'pending', Notify: 'pending', Window: 'pending', Execute: 'pending', Verify: 'pending', Report: 'pending' });
  });

  it('shows a session waiting for its window: resolve to notify done, the window now', () => {
    expect(states(sessionProgress('Running', [RESOLVED, DETECTED, PLANNED, EMAILED, WAITING]))).toEqual({
      Resolve: 'done', Detect: 'done', Plan: 'done', Notify: 'done', Window: 'current', Execute: 'pending', Verify: 'pending', Report: 'pending',
    });
  });

  it('marks a step passed over as skipped (no email when the computer has no one to mail)', () => {
    const progress = states(sessionProgress('Running', [RESOLVED, DETECTED, PLANNED, WAITING, EXECUTING]));
    expect(progress).toMatchObject({ Plan: 'done', Notify: 'skipped', Window: 'done', Execute: 'current', Verify: 'pending' });
  });

  it('shows a finished session every step done', () => {
    const log = [RESOLVED, DETECTED, PLANNED, EMAILED, WAITING, EXECUTING, VERIFIED, stage('session ended Passed: 1 succeeded')];
    expect(new Set(Object.values(states(sessionProgress('Passed', log))))).toEqual(new Set(['done']));
  });

  it('shows where a cancelled session stopped, the steps it never reached skipped, and its report done', () => {
    const log = [RESOLVED, DETECTED, PLANNED, EMAILED, WAITING, { kind: 'Request' as const, message: 'session cancelled' }, stage('session ended Cancelled: nothing ran')];
    expect(states(sessionProgress('Cancelled', log))).toEqual({
      Resolve: 'done', Detect: 'done', Plan: 'done', Notify: 'done', Window: 'cancelled', Execute: 'skipped', Verify: 'skipped', Report: 'done',
    });
  });

  it('shows a detection-only session as done with the window, execution and verification skipped', () => {
    const log = [RESOLVED, DETECTED, stage('planned 1 action(s) (detection only: nothing will run): Install App editor'), stage('session ended Passed: nothing ran')];
    expect(states(sessionProgress('Passed', log))).toMatchObject({ Plan: 'done', Notify: 'skipped', Window: 'skipped', Execute: 'skipped', Verify: 'skipped', Report: 'done' });
  });

  it('marks the step a failed session stood at as failed', () => {
    const log = [RESOLVED, { kind: 'Problem' as const, message: 'session failed: the computer did not answer (AGENT_UNREACHABLE)' }];
    expect(states(sessionProgress('Failed', log))).toMatchObject({ Resolve: 'done', Detect: 'failed', Plan: 'skipped', Report: 'skipped' });
  });
});

describe('the Sessions page filters', () => {
  it('keeps well-formed filters from the URL and drops the rest (nothing malformed reaches the API)', () => {
    expect(sessionFiltersFrom({ status: 'Running', tenantId: 'acme', computerId: 'pc 1', from: '2026-11-01', to: 'yesterday', extra: 'x' })).toEqual({ status: 'Running', tenantId: 'acme', from: '2026-11-01' });
    expect(sessionFiltersFrom({ status: 'Exploded' })).toEqual({});
  });

  it('covers the last 7 days up to a minute ahead by default, as canonical instants', () => {
    const now = Date.parse('2026-11-23T09:00:00.000Z');
    expect(rangeFor({}, now)).toEqual({ from: '2026-11-16T09:01:00.000Z', to: '2026-11-23T09:01:00.000Z' });
  });

  it('covers chosen days whole, from the start of the first to the end of the last in the viewer’s zone', () => {
    const range = rangeFor({ from: '2026-11-20', to: '2026-11-21' }, Date.now());
    expect(range.from).toBe(new Date(2026, 10, 20).toISOString());
    expect(range.to).toBe(new Date(2026, 10, 22).toISOString());
  });
});
