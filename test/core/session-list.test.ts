import { describe, expect, it } from 'vitest';
import { decodeListCursor, encodeListCursor, listQueryFingerprint } from '../../functions/core/list-cursor.js';
import {
  encodeSessionListCursor,
  sessionListCursorPosition,
  sessionRangeProblems,
  toSessionSummary,
  utcDaysCovering,
  utcMonthsCovering,
} from '../../functions/core/model/session-list.js';
import { newStages } from '../../functions/core/model/session.js';

const query = { from: '2026-03-01T00:00:00.000Z', to: '2026-03-08T00:00:00.000Z' };

describe('the session list model', () => {
  it('splits a range into the UTC days it touches, each clipped to the range', () => {
    expect(utcDaysCovering('2026-03-01T10:00:00.000Z', '2026-03-03T00:00:00.001Z')).toEqual([
      { name: '2026-03-01', floor: '2026-03-01T10:00:00.000Z', ceiling: '2026-03-02T00:00:00.000Z' },
      { name: '2026-03-02', floor: '2026-03-02T00:00:00.000Z', ceiling: '2026-03-03T00:00:00.000Z' },
      { name: '2026-03-03', floor: '2026-03-03T00:00:00.000Z', ceiling: '2026-03-03T00:00:00.001Z' },
    ]);
    // a range ending exactly at midnight does not touch the next day
    expect(utcDaysCovering('2026-03-01T10:00:00.000Z', '2026-03-02T00:00:00.000Z').map((day) => day.name)).toEqual(['2026-03-01']);
  });

  it('splits a range into the UTC months it touches: a 31-day range across February touches three', () => {
    expect(utcMonthsCovering('2026-01-31T12:00:00.000Z', '2026-03-03T12:00:00.000Z')).toEqual([
      { name: '2026-01', floor: '2026-01-31T12:00:00.000Z', ceiling: '2026-02-01T00:00:00.000Z' },
      { name: '2026-02', floor: '2026-02-01T00:00:00.000Z', ceiling: '2026-03-01T00:00:00.000Z' },
      { name: '2026-03', floor: '2026-03-01T00:00:00.000Z', ceiling: '2026-03-03T12:00:00.000Z' },
    ]);
    expect(utcMonthsCovering('2026-12-20T00:00:00.000Z', '2027-01-05T00:00:00.000Z').map((month) => month.name)).toEqual(['2026-12', '2027-01']);
  });

  it('takes a range of at most 31 days, from before to, in canonical instants, naming the field', () => {
    expect(sessionRangeProblems(query.from, query.to)).toEqual([]);
    expect(sessionRangeProblems('2026-03-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z')).toEqual([]);
    expect(sessionRangeProblems('2026-03-01T00:00:00.000Z', '2026-04-01T00:00:00.001Z').map((p) => p.field)).toEqual(['from']);
    expect(sessionRangeProblems(query.to, query.from).map((p) => p.field)).toEqual(['to']);
    expect(sessionRangeProblems(query.from, query.from).map((p) => p.field)).toEqual(['to']);
    expect(sessionRangeProblems('2026-03-01T00:00:00Z', '2026-02-30T00:00:00.000Z').map((p) => p.field)).toEqual(['from', 'to']);
  });

  it('summarises a session: its current stage, or the last that ran, and who started it when the record does not say', () => {
    const base = { id: 's1', computerId: 'pc', tenantId: 't', status: 'Running' as const, createdAt: query.from, updatedAt: query.from };
    const stages = newStages();
    expect(toSessionSummary({ ...base, stages })).toEqual({ ...base, trigger: 'Manual', requestedBy: { kind: 'Operator', name: '(not recorded)' } });
    expect(toSessionSummary({ ...base, stages: { ...stages, Detection: { status: 'Succeeded' }, Execution: { status: 'Running' } } }).stage).toBe('Execution');
    expect(toSessionSummary({ ...base, stages: { Detection: { status: 'Succeeded' }, Execution: { status: 'Skipped' }, Verification: { status: 'Unstarted' } } }).stage).toBe('Detection');
    const scheduled = toSessionSummary({ ...base, origin: { scheduleId: 'nightly', runId: 'r1' }, actionCount: 3 });
    expect(scheduled).toMatchObject({ trigger: 'Scheduled', requestedBy: { kind: 'Schedule', name: 'schedule nightly' }, actionCount: 3 });
    expect(toSessionSummary({ ...base, trigger: 'RunNow', requestedBy: { kind: 'Api', name: 'psa' } })).toMatchObject({ trigger: 'RunNow', requestedBy: { kind: 'Api', name: 'psa' } });
  });

  it('marks a Running session detected and not yet executing as awaiting execution, with its maintenance time, and no other', () => {
    const detected = { ...newStages(), Detection: { status: 'Succeeded' as const } };
    const fields = { id: 'ses_1', computerId: 'pc-1', tenantId: 't', status: 'Running' as const, createdAt: '2026-03-01T10:00:00.000Z', updatedAt: '2026-03-01T10:00:00.000Z', executeAt: '2026-03-01T22:00:00.000Z' };
    expect(toSessionSummary({ ...fields, stages: detected })).toMatchObject({ stage: 'Detection', awaitingExecution: true, executeAt: '2026-03-01T22:00:00.000Z' });
    // still detecting, executing, postponed (its status says it), or ended: not awaiting
    expect(toSessionSummary({ ...fields, stages: { ...newStages(), Detection: { status: 'Running' } } })).not.toHaveProperty('awaitingExecution');
    expect(toSessionSummary({ ...fields, stages: { ...detected, Execution: { status: 'Running' } } })).not.toHaveProperty('awaitingExecution');
    expect(toSessionSummary({ ...fields, status: 'Postponed', stages: detected })).not.toHaveProperty('awaitingExecution');
    expect(toSessionSummary({ ...fields, status: 'Passed', stages: detected })).not.toHaveProperty('awaitingExecution');
    // a summary indexed before the stages carried an Execution entry reads it as not started
    expect(toSessionSummary({ ...fields, stages: { Detection: { status: 'Succeeded' } } })).toMatchObject({ awaitingExecution: true });
    expect(toSessionSummary({ ...fields, stages: detected, executeAt: undefined })).not.toHaveProperty('executeAt');
  });

  it("binds a cursor to its query's filters and range, whatever order the tenants come in", () => {
    const position = '2026-03-05T09:00:00.000Z#ses_1';
    const cursor = encodeSessionListCursor({ ...query, tenantIds: ['b', 'a', 'a'] }, position);
    expect(sessionListCursorPosition({ ...query, tenantIds: ['a', 'b'] }, cursor)).toEqual({ position });
    expect(sessionListCursorPosition({ ...query, tenantIds: ['a'] }, cursor)).toHaveProperty('problem');
    expect(sessionListCursorPosition({ ...query, tenantIds: ['a', 'b'], status: 'Failed' }, cursor)).toHaveProperty('problem');
    expect(sessionListCursorPosition({ ...query, tenantIds: ['a', 'b'], to: '2026-03-08T00:00:00.001Z' }, cursor)).toHaveProperty('problem');
    // a well-formed cursor of this query whose position lies outside its range, or is not a listing key
    const fingerprint = decodeListCursor(cursor)?.query ?? '';
    const forged = (at: string) => encodeListCursor({ query: fingerprint, position: at, range: { from: query.from, to: query.to } });
    expect(sessionListCursorPosition({ ...query, tenantIds: ['a', 'b'] }, forged('2026-02-01T00:00:00.000Z#x'))).toHaveProperty('problem');
    expect(sessionListCursorPosition({ ...query, tenantIds: ['a', 'b'] }, forged('2026-03-02T00:00:00.000Z'))).toEqual({ position: '2026-03-02T00:00:00.000Z' });
    expect(sessionListCursorPosition({ ...query, tenantIds: ['a', 'b'] }, forged('DROP TABLE'))).toHaveProperty('problem');
  });

  it('fingerprints equal queries equally whatever their key order, and different ones differently', () => {
    expect(listQueryFingerprint({ a: 1, b: [1, 2] })).toBe(listQueryFingerprint({ b: [1, 2], a: 1 }));
    expect(listQueryFingerprint({ a: 1 })).not.toBe(listQueryFingerprint({ a: 2 }));
    expect(listQueryFingerprint({})).toMatch(/^[0-9a-f]{16}$/);
  });
});
