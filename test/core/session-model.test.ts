import { describe, expect, it } from 'vitest';
import {
  ACTION_TRANSITIONS,
  MAX_WINDOW_DAYS,
  SESSION_TRANSITIONS,
  STAGE_NAMES,
  canTransitionAction,
  canTransitionSession,
  isFinalSessionStatus,
  newStages,
  requesterSchema,
  sessionOptionsSchema,
  type ActionStatus,
  type SessionStatus,
} from '../../functions/core/model/session.js';

/**
 * The tables written out by hand, row by row, from the session lifecycle in
 * the README: a test that derives its expectation from the table under test
 * passes whatever the table says (a `Created: []` would pass as "final").
 */
const EXPECTED_SESSION_TRANSITIONS: Record<SessionStatus, SessionStatus[]> = {
  Created: ['Running', 'Cancelled', 'Failed'],
  Running: ['PendingConnectivity', 'Postponed', 'Cancelled', 'Passed', 'PartialPassed', 'Failed'],
  PendingConnectivity: ['Running', 'Cancelled', 'Passed', 'PartialPassed', 'Failed'],
  Postponed: ['Running', 'Cancelled', 'Passed', 'PartialPassed', 'Failed'],
  Cancelled: [],
  Passed: [],
  PartialPassed: [],
  Failed: [],
};
const EXPECTED_ACTION_TRANSITIONS: Record<ActionStatus, ActionStatus[]> = {
  NotStarted: ['PerformingAction', 'Skipped', 'Complete', 'Cancelled'],
  PerformingAction: ['DeterminingResult', 'Complete', 'Cancelled'],
  DeterminingResult: ['Complete', 'Cancelled'],
  Complete: [],
  Skipped: [],
  Cancelled: [],
};
const SESSION_STATUSES = Object.keys(EXPECTED_SESSION_TRANSITIONS) as SessionStatus[];
const ACTION_STATUSES = Object.keys(EXPECTED_ACTION_TRANSITIONS) as ActionStatus[];
const FINAL: SessionStatus[] = ['Cancelled', 'Passed', 'PartialPassed', 'Failed'];

describe('the session transition table', () => {
  it('is exactly the documented lifecycle, row by row (proves no transition was added or dropped)', () => {
    expect(Object.keys(SESSION_TRANSITIONS).sort()).toEqual([...SESSION_STATUSES].sort());
    for (const from of SESSION_STATUSES) expect([...SESSION_TRANSITIONS[from]].sort(), from).toEqual([...EXPECTED_SESSION_TRANSITIONS[from]].sort());
  });

  it.each(SESSION_STATUSES.flatMap((from) => SESSION_STATUSES.map((to) => [from, to] as const)))('%s → %s is allowed only as the table says', (from, to) => {
    // a repeated step writes the status it already has
    const allowed = from === to || EXPECTED_SESSION_TRANSITIONS[from].includes(to);
    expect(canTransitionSession(from, to)).toBe(allowed);
  });

  it('calls final exactly the statuses a session ends in', () => {
    for (const status of SESSION_STATUSES) expect(isFinalSessionStatus(status), status).toBe(FINAL.includes(status));
  });

  it('reaches Failed and Cancelled from every live status, so no session can get stuck alive', () => {
    for (const status of SESSION_STATUSES.filter((s) => !FINAL.includes(s))) {
      expect(canTransitionSession(status, 'Failed'), status).toBe(true);
      expect(canTransitionSession(status, 'Cancelled'), status).toBe(true);
    }
  });
});

describe('the action transition table', () => {
  it('is exactly the documented lifecycle, row by row', () => {
    expect(Object.keys(ACTION_TRANSITIONS).sort()).toEqual([...ACTION_STATUSES].sort());
    for (const from of ACTION_STATUSES) expect([...ACTION_TRANSITIONS[from]].sort(), from).toEqual([...EXPECTED_ACTION_TRANSITIONS[from]].sort());
  });

  it.each(ACTION_STATUSES.flatMap((from) => ACTION_STATUSES.map((to) => [from, to] as const)))('%s → %s is allowed only as the table says', (from, to) => {
    // unlike a session, an action never "moves" to where it is: a conditional write from a status to itself would hide a lost race
    expect(canTransitionAction(from, to)).toBe(EXPECTED_ACTION_TRANSITIONS[from].includes(to));
  });
});

describe('stages', () => {
  it('start Unstarted, in execution order, and each call gives a fresh record', () => {
    expect(STAGE_NAMES).toEqual(['Detection', 'Execution', 'Verification']);
    const stages = newStages();
    expect(stages).toEqual({ Detection: { status: 'Unstarted' }, Execution: { status: 'Unstarted' }, Verification: { status: 'Unstarted' } });
    expect(newStages()).not.toBe(stages);
  });

  it('allows a window of two weeks at most', () => {
    expect(MAX_WINDOW_DAYS).toBe(14);
  });
});

describe('session options', () => {
  const problems = (input: unknown) => {
    const parsed = sessionOptionsSchema.safeParse(input);
    return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  };

  it('fill in the defaults an operator expects', () => {
    expect(sessionOptionsSchema.parse({})).toEqual({
      mode: 'Full',
      reboot: 'IfNecessary',
      offline: 'ApplyOnConnect',
      postpone: { delayMinutes: 60, maxCount: 2 },
    });
    expect(sessionOptionsSchema.parse({ postpone: {} }).postpone).toEqual({ delayMinutes: 60, maxCount: 2 });
  });

  it('refuse a postpone deadline before the execute time, naming the field (a deadline no postpone can meet)', () => {
    const refused = sessionOptionsSchema.safeParse({ executeAt: '2026-11-23T22:00:00Z', postpone: { deadline: '2026-11-23T21:59:59Z' } });
    expect(refused.error?.issues).toEqual([expect.objectContaining({ code: 'custom', path: ['postpone', 'deadline'], message: 'must not be before executeAt' })]);
  });

  it('accept a deadline at or after the execute time, and either one alone', () => {
    for (const options of [
      { executeAt: '2026-11-23T22:00:00Z', postpone: { deadline: '2026-11-23T22:00:00Z' } },
      { executeAt: '2026-11-23T22:00:00Z', postpone: { deadline: '2026-11-24T06:00:00+01:00' } },
      { postpone: { deadline: '2026-11-23T21:00:00Z' } },
      { executeAt: '2026-11-23T22:00:00Z' },
    ]) {
      expect(problems(options), JSON.stringify(options)).toEqual([]);
    }
  });

  it('compare instants, not text: a deadline written in another offset is still ordered right', () => {
    // 23:30+02:00 is 21:30Z, before the 22:00Z execute time, though its text sorts after it
    expect(problems({ executeAt: '2026-11-23T22:00:00Z', postpone: { deadline: '2026-11-23T23:30:00+02:00' } })).toHaveLength(1);
  });

  it.each([
    [{ postpone: { delayMinutes: 4 } }, 'postpone.delayMinutes'],
    [{ postpone: { delayMinutes: 7 * 24 * 60 + 1 } }, 'postpone.delayMinutes'],
    [{ postpone: { delayMinutes: 5.5 } }, 'postpone.delayMinutes'],
    [{ postpone: { maxCount: -1 } }, 'postpone.maxCount'],
    [{ postpone: { maxCount: 21 } }, 'postpone.maxCount'],
    [{ mode: 'Partial' }, 'mode'],
    [{ reboot: 'Never' }, 'reboot'],
    [{ offline: 'Wait' }, 'offline'],
    [{ executeAt: '2026-11-23 22:00' }, 'executeAt'],
    [{ postpone: { deadline: 'tomorrow' } }, 'postpone.deadline'],
  ])('refuse %j, naming %s', (options, field) => {
    expect(problems(options).map((p) => p.split(':')[0])).toEqual([field]);
  });

  it.each([
    { postpone: { delayMinutes: 5, maxCount: 0 } },
    { postpone: { delayMinutes: 7 * 24 * 60, maxCount: 20 } },
    { mode: 'DetectionOnly', reboot: 'Force', offline: 'Skip' },
    { mode: 'Full', reboot: 'IfNecessary', offline: 'ApplyOnConnect' },
    { reboot: 'Suppress' },
    { executeAt: '2026-11-23T22:00:00+02:00' },
    { executeAt: '2026-11-23T22:00:00.000Z' },
  ])('accept the bounds and every named choice: %j', (options) => {
    expect(problems(options)).toEqual([]);
  });
});

describe('requesters', () => {
  it('keep a trimmed name of 1 to 254 characters and one of the known kinds', () => {
    expect(requesterSchema.parse({ kind: 'EndUser', name: '  ana@example.com ' })).toEqual({ kind: 'EndUser', name: 'ana@example.com' });
    for (const kind of ['EndUser', 'Operator', 'Api', 'Schedule']) expect(requesterSchema.safeParse({ kind, name: 'x' }).success, kind).toBe(true);
    expect(requesterSchema.safeParse({ kind: 'Robot', name: 'x' }).success).toBe(false);
    expect(requesterSchema.safeParse({ kind: 'Api', name: '   ' }).success).toBe(false);
    expect(requesterSchema.safeParse({ kind: 'Api', name: 'a'.repeat(254) }).success).toBe(true);
    expect(requesterSchema.safeParse({ kind: 'Api', name: 'a'.repeat(255) }).success).toBe(false);
  });
});
