import { describe, expect, it } from 'vitest';
import { CURSOR_NOT_OURS, CURSOR_OF_ANOTHER_QUERY, encodeListCursor } from '../../functions/core/list-cursor.js';
import {
  encodeSessionListCursor,
  noSessionCounts,
  sessionListCursorPosition,
  sessionListCursorRange,
  sessionRangeProblems,
  toSessionSummary,
  type SessionSummaryFields,
} from '../../functions/core/model/session-list.js';
import type { SessionStatus } from '../../functions/core/model/session.js';

const query = { from: '2026-03-01T00:00:00.000Z', to: '2026-03-08T00:00:00.000Z' };
const POSITION = '2026-03-05T10:00:00.000Z#s1';
const NOT_AN_INSTANT = 'must be an instant such as 2026-11-23T09:00:00.000Z';
const FIELDS: SessionSummaryFields = { id: 's1', computerId: 'pc-1', tenantId: 't', status: 'Running', createdAt: query.from, updatedAt: query.from };

describe('a session list range', () => {
  it('names each bound that is no canonical instant, and says nothing of the span then', () => {
    expect(sessionRangeProblems('2026-03-01', query.to)).toEqual([{ field: 'from', problem: NOT_AN_INSTANT }]);
    expect(sessionRangeProblems(query.from, 'soon')).toEqual([{ field: 'to', problem: NOT_AN_INSTANT }]);
    // parseable but not canonical, and after `to`: only the form is named
    expect(sessionRangeProblems('2026-03-09T00:00:00Z', query.to)).toEqual([{ field: 'from', problem: NOT_AN_INSTANT }]);
  });

  it('says why a span is refused, naming the other bound', () => {
    expect(sessionRangeProblems(query.to, query.from)).toEqual([{ field: 'to', problem: `must be after from (${query.to})` }]);
    expect(sessionRangeProblems('2026-01-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z')).toEqual([
      { field: 'from', problem: 'must be at most 31 days before to (2026-03-01T00:00:00.000Z); list a longer time a month at a time' },
    ]);
  });
});

describe('a session summary', () => {
  it('leaves out what the record does not hold, rather than carrying it as undefined', () => {
    expect(Object.keys(toSessionSummary(FIELDS)).sort()).toEqual(['computerId', 'createdAt', 'id', 'requestedBy', 'status', 'tenantId', 'trigger', 'updatedAt']);
  });

  it('carries the computer name, end, origin, action count and window the record holds', () => {
    const origin = { scheduleId: 'sch-1', runId: 'run-1' };
    const summary = toSessionSummary({ ...FIELDS, computerName: 'Front desk', endedAt: query.to, origin, actionCount: 3, executeAt: query.to });
    expect(summary).toMatchObject({ computerName: 'Front desk', endedAt: query.to, origin, actionCount: 3, executeAt: query.to, trigger: 'Scheduled' });
  });

  it('reads a record that holds only some stages: no detection recorded is not awaiting execution', () => {
    const summary = toSessionSummary({ ...FIELDS, stages: { Execution: { status: 'Unstarted' } } });
    expect('awaitingExecution' in summary).toBe(false);
    expect(toSessionSummary({ ...FIELDS, stages: { Detection: { status: 'Succeeded' } } }).awaitingExecution).toBe(true);
  });

  it('names the running stage, even beside a later stage with a status of its own', () => {
    expect(toSessionSummary({ ...FIELDS, stages: { Detection: { status: 'Succeeded' }, Execution: { status: 'Running' }, Verification: { status: 'Failed' } } }).stage).toBe('Execution');
  });

  it('without a running stage, names the last one that ran, passing over those unstarted, skipped or not recorded', () => {
    expect(toSessionSummary({ ...FIELDS, stages: { Detection: { status: 'Succeeded' }, Execution: { status: 'Succeeded' }, Verification: { status: 'Skipped' } } }).stage).toBe('Execution');
    expect(toSessionSummary({ ...FIELDS, stages: { Detection: { status: 'Failed' } } }).stage).toBe('Detection');
    expect('stage' in toSessionSummary({ ...FIELDS, stages: { Detection: { status: 'Unstarted' } } })).toBe(false);
  });
});

describe('session status counts', () => {
  it('start at zero for every status a session can have', () => {
    const every: Record<SessionStatus, 0> = { Created: 0, Running: 0, PendingConnectivity: 0, Postponed: 0, Cancelled: 0, Passed: 0, PartialPassed: 0, Failed: 0 };
    expect(noSessionCounts()).toEqual(every);
  });
});

describe('a session list cursor', () => {
  const cursor = encodeSessionListCursor(query, POSITION);

  it('keeps opening cursors handed out before (a page asked for across a deploy)', () => {
    expect(sessionListCursorPosition(query, 'eyJxIjoiM2VkYTI2NWI2MmM2MzQyZCIsImsiOiIyMDI2LTAzLTA1VDEwOjAwOjAwLjAwMFojczEiLCJyIjpbIjIwMjYtMDMtMDFUMDA6MDA6MDAuMDAwWiIsIjIwMjYtMDMtMDhUMDA6MDA6MDAuMDAwWiJdfQ')).toEqual({ position: POSITION });
    const filtered = { ...query, tenantIds: ['a', 'b', 'a'], computerId: 'pc-1', status: 'Failed' as const };
    expect(sessionListCursorPosition(filtered, 'eyJxIjoiOWQwOTIwNTI5ODYxMDUwYiIsImsiOiIyMDI2LTAzLTA1VDEwOjAwOjAwLjAwMFojczEiLCJyIjpbIjIwMjYtMDMtMDFUMDA6MDA6MDAuMDAwWiIsIjIwMjYtMDMtMDhUMDA6MDA6MDAuMDAwWiJdfQ')).toEqual({ position: POSITION });
  });

  it('tells the range it was handed out for, and nothing for text that is no cursor', () => {
    expect(sessionListCursorRange(cursor)).toEqual(query);
    expect(sessionListCursorRange('not-a-cursor')).toBeUndefined();
  });

  it('names a cursor of another range, or of other filters, as another query\'s', () => {
    expect(sessionListCursorPosition({ ...query, from: '2026-03-02T00:00:00.000Z' }, cursor)).toEqual({ problem: CURSOR_OF_ANOTHER_QUERY });
    expect(sessionListCursorPosition({ ...query, to: '2026-03-07T00:00:00.000Z' }, cursor)).toEqual({ problem: CURSOR_OF_ANOTHER_QUERY });
    expect(sessionListCursorPosition({ ...query, computerId: 'pc-1' }, cursor)).toEqual({ problem: CURSOR_OF_ANOTHER_QUERY });
    expect(sessionListCursorPosition({ ...query, tenantIds: [] }, cursor)).toEqual({ problem: CURSOR_OF_ANOTHER_QUERY });
  });

  it('takes a position anywhere in the range, its bounds included', () => {
    for (const position of [query.from, query.to, `${query.from}#s9`, '2026-03-05T10:00:00.000Z']) {
      expect(sessionListCursorPosition(query, encodeSessionListCursor(query, position)), position).toEqual({ position });
    }
  });

  it('refuses as not ours a position outside the range, or that is no listing key, and a cursor without a range', () => {
    for (const position of ['2026-02-28T23:59:59.999Z#s1', '2026-03-08T00:00:00.001Z', 'x2026-03-05T10:00:00.000Z', '2026-03-05T10:00:00.000Zx', '2026-02-30T10:00:00.000Z', `2026-03-05T10:00:00.000Z#${'s'.repeat(129)}`]) {
      expect(sessionListCursorPosition(query, encodeSessionListCursor(query, position)), position).toEqual({ problem: CURSOR_NOT_OURS });
    }
    expect(sessionListCursorPosition(query, 'not-a-cursor')).toEqual({ problem: CURSOR_NOT_OURS });
    const rangeless = encodeListCursor({ query: '3eda265b62c6342d', position: POSITION });
    expect(sessionListCursorPosition(query, rangeless)).toEqual({ problem: CURSOR_NOT_OURS });
  });
});
