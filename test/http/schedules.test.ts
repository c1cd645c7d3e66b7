import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../functions/core/model/audit.js';
import type { RunTarget, ScheduleRun } from '../../functions/core/model/schedule-run.js';
import type { Schedule } from '../../functions/core/model/schedule.js';
import type { SchedulePreview } from '../../functions/core/use-cases/preview-schedule.js';
import { apiHarness, type ApiHarness } from './support.js';

/** Schedules and runs through the API: versioned changes, history with who did what, previews, run-now and the operator's hand on a run. */

let api: ApiHarness;
beforeAll(async () => {
  api = await apiHarness();
});
afterAll(async () => {
  await api.close();
});

const SCHEDULE = {
  name: 'Weekly',
  tenantId: 'acme',
  includeChildTenants: true,
  target: { kind: 'AllComputers' },
  recurrence: { kind: 'Weekly', days: ['TUE'] },
  detectionTime: '14:00',
  maintenanceTime: '22:00',
  offline: {},
  reboot: {},
  email: {},
  rollout: {},
};

type Change = { schedule: Schedule; triggerInSync: boolean };

describe('changing a schedule', () => {
  it('creates, updates at its version, refuses a stale version, disables, duplicates and deletes, with history naming the token person (proves the manage-schedules use cases behind the routes)', async () => {
    const created = await api.call('Technician', 'POST', '/v1/schedules', { scheduleId: 'weekly', schedule: SCHEDULE });
    expect(created.status).toBe(201);
    expect((created.body as Change).schedule).toMatchObject({ id: 'weekly', version: 1, createdBy: { kind: 'Operator', name: 'technician@nightshift.local' } });
    expect(await api.call('Admin', 'POST', '/v1/schedules', { scheduleId: 'weekly', schedule: SCHEDULE })).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT' } } });

    const updated = await api.call('Admin', 'PUT', '/v1/schedules/weekly', { expectedVersion: 1, schedule: { ...SCHEDULE, name: 'Weekly (Tuesdays)' } });
    expect(updated.status).toBe(200);
    expect((updated.body as Change).schedule).toMatchObject({ version: 2, name: 'Weekly (Tuesdays)' });
    expect(await api.call('Admin', 'PUT', '/v1/schedules/weekly', { expectedVersion: 1, schedule: { ...SCHEDULE, name: 'Lost update' } })).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT' } } });

    expect((await api.call('Admin', 'POST', '/v1/schedules/weekly/disable', { expectedVersion: 2 })).body).toMatchObject({ schedule: { enabled: false, version: 3 } });
    const copy = await api.call('Admin', 'POST', '/v1/schedules/weekly/duplicate', { newScheduleId: 'weekly-copy' });
    expect(copy).toMatchObject({ status: 201, body: { schedule: { id: 'weekly-copy', name: 'Weekly (Tuesdays) (copy)', enabled: false } } });

    const history = await api.call('Admin', 'GET', '/v1/schedules/weekly/history');
    expect((history.body as { items: AuditEntry[] }).items.map((entry) => [entry.action, entry.by.name])).toEqual([
      ['Created', 'technician@nightshift.local'],
      ['Updated', 'admin@nightshift.local'],
      ['Disabled', 'admin@nightshift.local'],
    ]);
    expect(await api.call('Admin', 'DELETE', '/v1/schedules/weekly-copy?expectedVersion=1')).toEqual({ status: 200, body: { deleted: 'weekly-copy' } });
    expect((await api.call('Admin', 'GET', '/v1/schedules/weekly-copy')).status).toBe(404);
  });

  it('names each offending field under body.schedule, query or path (proves the envelope points at the input)', async () => {
    expect(await api.call('Admin', 'POST', '/v1/schedules', { schedule: { ...SCHEDULE, name: '' } })).toMatchObject({ status: 400, body: { error: { field: 'body.schedule.name' } } });
    expect(await api.call('Admin', 'POST', '/v1/schedules', { schedule: { ...SCHEDULE, tenantId: 'nowhere' } })).toMatchObject({ status: 400, body: { error: { field: 'body.schedule.tenantId' } } });
    expect(await api.call('Admin', 'POST', '/v1/schedules', { schedule: { ...SCHEDULE, surprise: 1 } })).toMatchObject({ status: 400, body: { error: { field: 'body.schedule.surprise' } } });
    expect(await api.call('Admin', 'DELETE', '/v1/schedules/weekly')).toMatchObject({ status: 400, body: { error: { field: 'query.expectedVersion' } } });
    expect(await api.call('Admin', 'GET', '/v1/schedules/bad%20id')).toMatchObject({ status: 400, body: { error: { field: 'path.scheduleId' } } });
    expect(await api.call('Admin', 'GET', '/v1/schedules/nightly/preview?fires=51')).toMatchObject({ status: 400, body: { error: { field: 'query.fires' } } });
  });
});

describe('previews and runs', () => {
  it('previews an unsaved schedule and a stored one against the catalog (proves the preview use case is reachable both ways)', async () => {
    const unsaved = await api.call('Admin', 'POST', '/v1/schedules/preview', { schedule: SCHEDULE, fires: 2 });
    expect(unsaved.status).toBe(200);
    const preview = unsaved.body as SchedulePreview;
    expect(preview.nextFires).toHaveLength(2);
    expect(preview.targets.map((target) => target.computerId).sort()).toEqual(['pc-acme', 'pc-east']);
    const stored = await api.call('ViewerAcme', 'GET', '/v1/schedules/weekly/preview?fires=3');
    expect(stored.status).toBe(200);
    expect((stored.body as SchedulePreview).nextFires).toHaveLength(3);
  });

  it('runs a schedule now, lists its run and targets, and lets an operator halt it with a reason (proves run-now and the run routes)', async () => {
    const created = await api.call('Admin', 'POST', '/v1/schedules', { scheduleId: 'later', schedule: { ...SCHEDULE, name: 'Later' } });
    expect(created.status).toBe(201);
    const fired = await api.call('Admin', 'POST', '/v1/schedules/later/run-now');
    expect(fired.status).toBe(202);
    const { run } = fired.body as { run: ScheduleRun };
    // the API answers before the fan-out: the run worker writes the targets and starts the sessions
    expect(run).toMatchObject({ scheduleId: 'later', trigger: 'RunNow', by: { name: 'admin@nightshift.local' }, status: 'Starting', targeted: 0 });
    await api.runtime.runWork.idle();
    expect((await api.call('Admin', 'GET', `/v1/runs/${run.id}`)).body).toMatchObject({ status: 'Running', targeted: 2 });
    // the run's start is audited with who asked
    expect(((await api.call('Admin', 'GET', `/v1/audit?resource=Run&resourceId=${run.id}`)).body as { items: AuditEntry[] }).items.map((entry) => [entry.action, entry.by.name])).toEqual([
      ['Started', 'admin@nightshift.local'],
    ]);
    const runs = await api.call('ViewerAcme', 'GET', '/v1/schedules/later/runs');
    expect((runs.body as { items: ScheduleRun[] }).items.map((item) => item.id)).toEqual([run.id]);
    const targets = await api.call('ViewerAcme', 'GET', `/v1/runs/${run.id}/targets?limit=1`);
    const page = targets.body as { items: RunTarget[]; nextCursor?: string };
    expect(page.items).toHaveLength(1);
    const rest = await api.call('ViewerAcme', 'GET', `/v1/runs/${run.id}/targets?cursor=${page.nextCursor ?? ''}`);
    expect([...page.items, ...(rest.body as { items: RunTarget[] }).items].map((target) => target.computerId)).toEqual(['pc-acme', 'pc-east']);

    const halted = await api.call('Technician', 'POST', `/v1/runs/${run.id}/halt`, { reason: 'vendor recalled the update' });
    expect(halted.status).toBe(200);
    expect((halted.body as { run: ScheduleRun }).run).toMatchObject({ status: 'Halted', haltReason: 'halted by technician@nightshift.local: vendor recalled the update', haltCause: 'Operator' });
    expect(await api.call('Technician', 'POST', `/v1/runs/${run.id}/halt`, { reason: '' })).toMatchObject({ status: 400, body: { error: { field: 'body.reason' } } });
    expect((await api.call('ViewerGlobex', 'GET', `/v1/runs/${run.id}`)).status).toBe(404);
    // its sessions wait for a window hours away; cancelling the run starts nothing more
    expect((await api.call('Admin', 'POST', `/v1/runs/${run.id}/cancel`, {})).body).toMatchObject({ run: { status: 'Cancelled' } });
    expect(await api.call('Admin', 'POST', `/v1/runs/${run.id}/resume`, {})).toMatchObject({ status: 409, body: { error: { code: 'REQUEST_REFUSED' } } });
  });

  it('keeps a past run with the tenant it was made for when its schedule moves to another tenant (proves run visibility is the run\'s, not the schedule\'s now)', async () => {
    expect((await api.call('Admin', 'POST', '/v1/schedules', { scheduleId: 'moving', schedule: { ...SCHEDULE, name: 'Moving' } })).status).toBe(201);
    const fired = await api.call('Admin', 'POST', '/v1/schedules/moving/run-now');
    expect(fired.status).toBe(202);
    const { run } = fired.body as { run: ScheduleRun };
    expect(run.owner).toEqual({ tenantId: 'acme' });
    await api.runtime.runWork.idle();
    const stored = (await api.call('Admin', 'GET', '/v1/schedules/moving')).body as Schedule;
    const moved = await api.call('Admin', 'PUT', '/v1/schedules/moving', { expectedVersion: stored.version, schedule: { ...SCHEDULE, name: 'Moving', tenantId: 'globex', includeChildTenants: false } });
    expect(moved.status).toBe(200);
    // acme still sees its run; globex, the schedule's tenant now, sees the schedule but not acme's run
    expect((await api.call('ViewerAcme', 'GET', `/v1/runs/${run.id}`)).status).toBe(200);
    expect((await api.call('ViewerGlobex', 'GET', `/v1/runs/${run.id}`)).status).toBe(404);
    expect((await api.call('ViewerGlobex', 'GET', `/v1/runs/${run.id}/targets`)).status).toBe(404);
    expect((await api.call('ViewerGlobex', 'GET', `/v1/sessions?runId=${run.id}`)).status).toBe(404);
    expect(await api.call('ViewerGlobex', 'GET', '/v1/schedules/moving/runs')).toEqual({ status: 200, body: { items: [] } });
    expect(((await api.call('Admin', 'GET', '/v1/schedules/moving/runs')).body as { items: ScheduleRun[] }).items.map((item) => item.id)).toEqual([run.id]);
    // its sessions wait for a window hours away: the run ends here
    await api.call('Admin', 'POST', `/v1/runs/${run.id}/cancel`, {});
  });

  it('answers a repeated run-now with the same Idempotency-Key with the same run, once (proves a retry after a gateway timeout starts no second run)', async () => {
    expect((await api.call('Admin', 'POST', '/v1/schedules', { scheduleId: 'keyed', schedule: { ...SCHEDULE, name: 'Keyed' } })).status).toBe(201);
    const ask = () => api.call('Technician', 'POST', '/v1/schedules/keyed/run-now', undefined, { 'idempotency-key': 'psa-ticket-4711' });
    const first = await ask();
    const again = await ask();
    expect(first).toMatchObject({ status: 202, body: { created: true } });
    expect(again).toMatchObject({ status: 202, body: { created: false, run: { id: (first.body as { run: ScheduleRun }).run.id } } });
    // the same key from someone else is their own ask
    const other = await api.call('Admin', 'POST', '/v1/schedules/keyed/run-now', undefined, { 'idempotency-key': 'psa-ticket-4711' });
    expect(other).toMatchObject({ status: 202, body: { created: true } });
    await api.runtime.runWork.idle();
    expect(((await api.call('Admin', 'GET', '/v1/schedules/keyed/runs')).body as { items: ScheduleRun[] }).items).toHaveLength(2);
    expect(await api.call('Admin', 'POST', '/v1/schedules/keyed/run-now', undefined, { 'idempotency-key': 'has space' })).toMatchObject({ status: 400, body: { error: { field: 'header.idempotency-key' } } });
    for (const run of ((await api.call('Admin', 'GET', '/v1/schedules/keyed/runs')).body as { items: ScheduleRun[] }).items) await api.call('Admin', 'POST', `/v1/runs/${run.id}/cancel`, {});
  });

  it('answers a run-now of a missing schedule with 404 (proves a fire that finds nothing is not a success)', async () => {
    expect(await api.call('Admin', 'POST', '/v1/schedules/nowhere/run-now')).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
  });
});
