import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartSessionResult } from '../../functions/core/use-cases/start-session.js';
import type { SessionReport } from '../../functions/core/model/session-report.js';
import type { LogPage } from '../../functions/core/ports/session-log.port.js';
import type { SessionSummary } from '../../functions/core/model/session-list.js';
import { until } from '../support/wait.js';
import { apiHarness, type ApiHarness } from './support.js';

/** The session routes over real HTTP to the local server, against a real runtime running real (sandboxed) sessions. */

let api: ApiHarness;
beforeAll(async () => {
  api = await apiHarness({ http: true });
});
afterAll(async () => {
  await api.close();
});

const inAWeek = () => new Date(Date.now() + 7 * 86_400_000).toISOString();

describe('starting sessions', () => {
  it('starts once per Idempotency-Key, refuses the key reused with other options, and records the token person (proves retries are safe and `by` is not the body’s)', async () => {
    const body = { computerId: 'pc-acme', options: { mode: 'DetectionOnly' } };
    const first = await api.call('Technician', 'POST', '/v1/sessions', body, { 'idempotency-key': 'ticket-4711' });
    expect(first.status).toBe(201);
    const { sessionId } = first.body as StartSessionResult;
    const again = await api.call('Technician', 'POST', '/v1/sessions', body, { 'idempotency-key': 'ticket-4711' });
    expect(again).toEqual({ status: 200, body: { sessionId, created: false, existing: 'SameRequest' } });
    const reused = await api.call('Technician', 'POST', '/v1/sessions', { computerId: 'pc-acme' }, { 'idempotency-key': 'ticket-4711' });
    expect(reused.status).toBe(409);
    expect(reused.body).toMatchObject({ error: { code: 'CONFLICT' } });
    await api.runtime.waitForSession(sessionId);
    const log = await api.call('Admin', 'GET', `/v1/sessions/${sessionId}/log`);
    const created = (log.body as LogPage).entries.find((entry) => entry.kind === 'Request');
    expect(created?.by).toEqual({ kind: 'Operator', name: 'technician@nightshift.local' });
  });

  it('refuses a `by` in the body, an unknown computer and options out of range, each by field (proves the body is checked before anything starts)', async () => {
    const withBy = await api.call('Admin', 'POST', '/v1/sessions', { computerId: 'pc-east', by: { kind: 'EndUser', name: 'someone else' } });
    expect(withBy).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED', field: 'body.by' } } });
    expect(await api.call('Admin', 'POST', '/v1/sessions', { computerId: 'pc-nowhere' })).toEqual({ status: 404, body: { error: { code: 'NOT_FOUND', message: 'computer pc-nowhere does not exist' } } });
    const far = await api.call('Admin', 'POST', '/v1/sessions', { computerId: 'pc-east', options: { executeAt: new Date(Date.now() + 30 * 86_400_000).toISOString() } });
    expect(far).toMatchObject({ status: 400, body: { error: { field: 'body.options.executeAt' } } });
    const badMode = await api.call('Admin', 'POST', '/v1/sessions', { computerId: 'pc-east', options: { mode: 'Sometimes' } });
    expect(badMode).toMatchObject({ status: 400, body: { error: { field: 'body.options.mode' } } });
    expect(await api.call('Admin', 'POST', '/v1/sessions', { computerId: 'pc-east' }, { 'idempotency-key': 'has space' })).toMatchObject({ status: 400, body: { error: { field: 'header.idempotency-key' } } });
  });
});

describe('a finished session: report, log, rerun', () => {
  let sessionId: string;
  beforeAll(async () => {
    const started = await api.call('Admin', 'POST', '/v1/sessions', { computerId: 'pc-globex' });
    sessionId = (started.body as StartSessionResult).sessionId;
    await api.runtime.waitForSession(sessionId);
  });

  it('answers the report read-model with each action and why (proves the detail route is the shared read-model)', async () => {
    const report = await api.call('ViewerGlobex', 'GET', `/v1/sessions/${sessionId}`);
    expect(report.status).toBe(200);
    const body = report.body as SessionReport;
    expect(body).toMatchObject({ sessionId, computerId: 'pc-globex', status: 'Passed' });
    expect(body.rows).toEqual([expect.objectContaining({ actionId: '001', type: 'Install', itemName: 'App app', result: 'Success' })]);
  });

  it('pages the log with its cursor and refuses a made-up or borrowed cursor by field (proves the cursor is bound to its session)', async () => {
    const first = await api.call('Admin', 'GET', `/v1/sessions/${sessionId}/log?limit=2`);
    expect(first.status).toBe(200);
    const page = first.body as LogPage;
    expect(page.entries).toHaveLength(2);
    expect(page.cursor).toBeDefined();
    const next = await api.call('Admin', 'GET', `/v1/sessions/${sessionId}/log?limit=500&cursor=${encodeURIComponent(page.cursor ?? '')}`);
    expect(((next.body as LogPage).entries[0]?.at ?? '') >= (page.entries[1]?.at ?? '')).toBe(true);
    expect(await api.call('Admin', 'GET', `/v1/sessions/${sessionId}/log?cursor=made-up`)).toMatchObject({ status: 400, body: { error: { field: 'query.cursor' } } });
    const other = await api.call('Admin', 'POST', '/v1/sessions', { computerId: 'pc-east', options: { mode: 'DetectionOnly' } });
    const otherId = (other.body as StartSessionResult).sessionId;
    await api.runtime.waitForSession(otherId);
    expect(await api.call('Admin', 'GET', `/v1/sessions/${otherId}/log?cursor=${encodeURIComponent(page.cursor ?? '')}`)).toMatchObject({ status: 400, body: { error: { field: 'query.cursor' } } });
    expect(await api.call('Admin', 'GET', `/v1/sessions/${sessionId}/log?limit=0`)).toMatchObject({ status: 400, body: { error: { field: 'query.limit' } } });
  });

  it('refuses run-now, postpone and cancel of an ended session with 409 REQUEST_REFUSED (proves the session rules answer)', async () => {
    for (const request of ['run-now', 'postpone', 'cancel']) {
      const answer = await api.call('Admin', 'POST', `/v1/sessions/${sessionId}/${request}`);
      expect(answer, request).toMatchObject({ status: 409, body: { error: { code: 'REQUEST_REFUSED' } } });
    }
  });

  it('reruns the session with its options, and one action limited to its item (proves both reruns start new sessions for the same computer)', async () => {
    const rerun = await api.call('Admin', 'POST', `/v1/sessions/${sessionId}/rerun`);
    expect(rerun.status).toBe(201);
    const rerunId = (rerun.body as StartSessionResult).sessionId;
    expect(rerunId).not.toBe(sessionId);
    await api.runtime.waitForSession(rerunId);
    const action = await api.call('Admin', 'POST', `/v1/sessions/${sessionId}/actions/001/rerun`, undefined, { 'idempotency-key': 'redo-001' });
    expect(action.status).toBe(201);
    const actionRerunId = (action.body as StartSessionResult).sessionId;
    const stored = await api.runtime.deps.sessions.getSession(actionRerunId);
    expect(stored).toMatchObject({ computerId: 'pc-globex', options: { limitTo: 'software:app' } });
    await api.runtime.waitForSession(actionRerunId);
    expect(await api.call('Admin', 'POST', `/v1/sessions/${sessionId}/actions/999/rerun`)).toMatchObject({ status: 404 });
  });
});

describe('a waiting session: postpone, run now, cancel', () => {
  /** A session parked at its window, a week out: what postpone, run-now and cancel act on. */
  async function waitingSession(computerId: string): Promise<string> {
    const started = await api.call('Admin', 'POST', '/v1/sessions', { computerId, options: { executeAt: inAWeek() } });
    expect(started.status).toBe(201);
    const { sessionId } = started.body as StartSessionResult;
    await until(async () => (await api.runtime.deps.sessions.getSession(sessionId))?.windowWait !== undefined);
    return sessionId;
  }

  it('postpones by the session delay, then cancels, each recorded as the token person (proves the requests reach the use cases)', async () => {
    const sessionId = await waitingSession('pc-east');
    const postponed = await api.call('Technician', 'POST', `/v1/sessions/${sessionId}/postpone`);
    expect(postponed.status).toBe(200);
    expect(postponed.body).toMatchObject({ postponesLeft: 1 });
    const cancelled = await api.call('Technician', 'POST', `/v1/sessions/${sessionId}/cancel`);
    expect(cancelled).toEqual({ status: 200, body: { status: 'Cancelled' } });
    // a repeated cancel is the same answer, not an error
    expect((await api.call('Admin', 'POST', `/v1/sessions/${sessionId}/cancel`)).status).toBe(200);
    const outcome = await api.runtime.waitForSession(sessionId);
    expect(outcome.session.status).toBe('Cancelled');
    expect(outcome.session.cancelled?.by).toEqual({ kind: 'Operator', name: 'technician@nightshift.local' });
    expect(outcome.session.postponements.map((postponement) => postponement.by.name)).toEqual(['technician@nightshift.local']);
  });

  it('pulls a waiting session to now, and it runs to its end (proves run-now wakes the gate)', async () => {
    const sessionId = await waitingSession('pc-acme');
    const ran = await api.call('Admin', 'POST', `/v1/sessions/${sessionId}/run-now`);
    expect(ran.status).toBe(200);
    const outcome = await api.runtime.waitForSession(sessionId);
    expect(outcome.session.status).toBe('Passed');
  });
});

describe('listing sessions', () => {
  it('lists newest first with counts, by computer and by status, and scopes a viewer (proves the list use case is called with the caller’s tenants)', async () => {
    const all = await api.call('Admin', 'GET', '/v1/sessions');
    expect(all.status).toBe(200);
    const body = all.body as { items: SessionSummary[]; counts: Record<string, number> };
    expect(body.items.length).toBeGreaterThan(2);
    expect(body.items.map((item) => item.createdAt)).toEqual([...body.items.map((item) => item.createdAt)].sort().reverse());
    expect(Object.values(body.counts).reduce((sum, count) => sum + count, 0)).toBe(body.items.length);
    const globex = await api.call('ViewerGlobex', 'GET', '/v1/sessions');
    expect((globex.body as { items: SessionSummary[] }).items.every((item) => item.tenantId === 'globex')).toBe(true);
    const byComputer = await api.call('Admin', 'GET', '/v1/sessions?computerId=pc-east&status=Cancelled');
    expect((byComputer.body as { items: SessionSummary[] }).items.map((item) => item.status)).toEqual(['Cancelled']);
    const paged = await api.call('Admin', 'GET', '/v1/sessions?limit=1');
    const cursor = (paged.body as { nextCursor?: string }).nextCursor;
    expect(cursor).toBeDefined();
    const second = await api.call('Admin', 'GET', `/v1/sessions?limit=1&cursor=${encodeURIComponent(cursor ?? '')}`);
    expect((second.body as { items: SessionSummary[] }).items[0]?.id).toBe(body.items[1]?.id);
    expect(await api.call('Admin', 'GET', '/v1/sessions?cursor=nope')).toMatchObject({ status: 400, body: { error: { field: 'query.cursor' } } });
    expect(await api.call('Admin', 'GET', '/v1/sessions?from=2020-01-01T00:00:00Z')).toMatchObject({ status: 400, body: { error: { field: 'query.from' } } });
    expect(await api.call('Admin', 'GET', '/v1/sessions?status=Sleeping')).toMatchObject({ status: 400, body: { error: { field: 'query.status' } } });
    expect(await api.call('ViewerGlobex', 'GET', '/v1/sessions?tenantId=acme')).toMatchObject({ status: 404 });
  });
});

describe('postponing to a chosen time', () => {
  it('postpones to the time an operator gives, and names `body.until` when it is not a time or not later (proves the body reaches the rule)', async () => {
    // after the lists above, which count pc-east's sessions
    const started = await api.call('Admin', 'POST', '/v1/sessions', { computerId: 'pc-east', options: { executeAt: inAWeek() } });
    const { sessionId } = started.body as StartSessionResult;
    await until(async () => (await api.runtime.deps.sessions.getSession(sessionId))?.windowWait !== undefined);
    const executeAt = (await api.runtime.deps.sessions.getSession(sessionId))?.executeAt ?? '';
    const later = new Date(Date.parse(executeAt) + 3 * 3_600_000).toISOString();
    expect(await api.call('Admin', 'POST', `/v1/sessions/${sessionId}/postpone`, { until: 'tomorrow' })).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED', field: 'body.until' } } });
    expect(await api.call('Admin', 'POST', `/v1/sessions/${sessionId}/postpone`, { until: executeAt })).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED', field: 'body.until' } } });
    expect((await api.runtime.deps.sessions.getSession(sessionId))?.postponements).toEqual([]);
    expect(await api.call('Admin', 'POST', `/v1/sessions/${sessionId}/postpone`, { until: later })).toMatchObject({ status: 200, body: { executeAt: later } });
    expect((await api.runtime.deps.sessions.getSession(sessionId))?.executeAt).toBe(later);
    await api.call('Admin', 'POST', `/v1/sessions/${sessionId}/cancel`);
    await api.runtime.waitForSession(sessionId);
  });
});
