import { describe, expect, it, vi } from 'vitest';
import { PacedWorkflow } from '../../functions/adapters/paced-workflow.js';
import { ConflictError, NotFoundError, TransientError, ValidationError } from '../../functions/core/errors.js';
import type { Requester, SessionOptions } from '../../functions/core/model/session.js';
import { sessionOptionsFor } from '../../functions/core/schedules/targets.js';
import { buildDetectionCommand } from '../../functions/core/use-cases/agent-commands.js';
import type { Dependencies } from '../../functions/core/use-cases/dependencies.js';
import { advanceRun, operateRun } from '../../functions/core/use-cases/advance-run.js';
import { advanceActiveRuns, stepRun } from '../../functions/core/use-cases/run-controller.js';
import { fireSchedule, requestRunNow } from '../../functions/core/use-cases/fire-schedule.js';
import {
  createSchedule,
  deleteSchedule,
  duplicateSchedule,
  reconcileScheduleTriggers,
  setScheduleEnabled,
  updateSchedule,
} from '../../functions/core/use-cases/manage-schedules.js';
import { previewSchedule } from '../../functions/core/use-cases/preview-schedule.js';
import { gateSession, windowTimerFired } from '../../functions/core/use-cases/gate-session.js';
import { runSessionNow } from '../../functions/core/use-cases/session-requests.js';
import { recordFailure } from '../../functions/core/use-cases/record-failure.js';
import { startSession } from '../../functions/core/use-cases/start-session.js';
import { computer, deploySoftware, tenant } from '../support/domain.js';
import { InMemoryScheduleTriggers, RecordingEvents, RecordingRunWork, scheduleInput as input } from '../support/schedules.js';
import { useCaseHarness } from './harness.js';

const ALICE: Requester = { kind: 'Operator', name: 'alice@msp.example' };
const BOB: Requester = { kind: 'Operator', name: 'bob@msp.example' };

describe('managing schedules: table, Scheduler trigger and audit trail move together', () => {
  const harness = useCaseHarness();
  let n = 0;
  /** A fresh tenant (Lisbon by default) and the harness dependencies with a trigger store this test can read. */
  async function setup(tenantOverrides: Record<string, unknown> = {}) {
    const h = harness();
    const triggers = new InMemoryScheduleTriggers();
    const deps: Dependencies = { ...h.deps, scheduleTriggers: triggers };
    const tenantId = `t${String(++n)}${Date.now().toString(36)}`;
    await h.catalog.putTenant(tenant(tenantId, { defaultTimeZone: 'Europe/Lisbon', ...tenantOverrides }));
    return { h, deps, triggers, tenantId };
  }

  it('creates a schedule at version 1 with one trigger in the tenant zone and a Created audit entry naming the author', async () => {
    const { deps, triggers, tenantId, h } = await setup();
    const { schedule, triggerInSync } = await createSchedule(deps, { input: input({ tenantId }), scheduleId: `${tenantId}-weekly`, by: ALICE });
    expect(schedule).toMatchObject({ id: `${tenantId}-weekly`, version: 1, createdBy: ALICE, updatedBy: ALICE, createdAt: h.clock.now().toISOString() });
    expect(triggerInSync).toBe(true);
    expect(triggers.triggers.get(schedule.id)).toEqual({ scheduleId: schedule.id, expression: 'cron(0 14 ? * TUE *)', timeZone: 'Europe/Lisbon', enabled: true, flexibleWindowMinutes: 0 });
    const history = await deps.audit.list('Schedule', schedule.id);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ action: 'Created', version: 1, by: ALICE, tenantId });
    expect(history[0]?.changes.map((c) => c.field)).toContain('recurrence');
    await expect(createSchedule(deps, { input: input({ tenantId }), scheduleId: schedule.id, by: BOB })).rejects.toBeInstanceOf(ConflictError);
  });

  it('updates only at the version read: a stale edit is refused and changes nothing; the audit shows before and after', async () => {
    const { deps, triggers, tenantId } = await setup();
    const { schedule } = await createSchedule(deps, { input: input({ tenantId }), scheduleId: `${tenantId}-s`, by: ALICE });
    const { schedule: updated } = await updateSchedule(deps, { scheduleId: schedule.id, expectedVersion: 1, input: input({ tenantId, detectionTime: '13:00', timeZone: 'America/New_York' }), by: BOB });
    expect(updated).toMatchObject({ version: 2, detectionTime: '13:00', updatedBy: BOB, createdBy: ALICE });
    expect(triggers.triggers.get(schedule.id)).toMatchObject({ expression: 'cron(0 13 ? * TUE *)', timeZone: 'America/New_York' });

    await expect(updateSchedule(deps, { scheduleId: schedule.id, expectedVersion: 1, input: input({ tenantId, name: 'stale' }), by: ALICE })).rejects.toBeInstanceOf(ConflictError);
    expect((await deps.schedules.getSchedule(schedule.id))?.name).toBe('Tuesday nights');

    const history = await deps.audit.list('Schedule', schedule.id);
    expect(history.map((e) => [e.action, e.version])).toEqual([
      ['Created', 1],
      ['Updated', 2],
    ]);
    expect(history[1]?.changes).toEqual([
      { field: 'detectionTime', before: '14:00', after: '13:00' },
      { field: 'timeZone', after: 'America/New_York' },
    ]);
  });

  it('answers a retried update (its first answer lost) as the first did, with one audit entry', async () => {
    const { deps, tenantId } = await setup();
    const { schedule } = await createSchedule(deps, { input: input({ tenantId }), scheduleId: `${tenantId}-s`, by: ALICE });
    const request = { scheduleId: schedule.id, expectedVersion: 1, input: input({ tenantId, name: 'Renamed' }), by: ALICE };
    const first = await updateSchedule(deps, request);
    const again = await updateSchedule(deps, request);
    expect(again.schedule).toEqual(first.schedule);
    expect((await deps.audit.list('Schedule', schedule.id)).map((e) => e.version)).toEqual([1, 2]);
  });

  it('disables and enables through the trigger state; a duplicate is a disabled copy with its own trigger', async () => {
    const { deps, triggers, tenantId } = await setup();
    const { schedule } = await createSchedule(deps, { input: input({ tenantId }), scheduleId: `${tenantId}-s`, by: ALICE });
    const { schedule: disabled } = await setScheduleEnabled(deps, { scheduleId: schedule.id, expectedVersion: 1, enabled: false, by: BOB });
    expect(disabled.enabled).toBe(false);
    expect(triggers.triggers.get(schedule.id)?.enabled).toBe(false);
    await setScheduleEnabled(deps, { scheduleId: schedule.id, expectedVersion: 2, enabled: true, by: BOB });
    expect(triggers.triggers.get(schedule.id)?.enabled).toBe(true);
    expect((await deps.audit.list('Schedule', schedule.id)).map((e) => e.action)).toEqual(['Created', 'Disabled', 'Enabled']);

    const { schedule: copy } = await duplicateSchedule(deps, { scheduleId: schedule.id, newScheduleId: `${tenantId}-copy`, by: BOB });
    expect(copy).toMatchObject({ name: 'Tuesday nights (copy)', enabled: false, version: 1, createdBy: BOB, recurrence: schedule.recurrence });
    expect(copy.id).not.toBe(schedule.id);
    expect(triggers.triggers.get(copy.id)?.enabled).toBe(false);
  });

  it('deletes the trigger, then the schedule, at the version read, and records who deleted it', async () => {
    const { deps, triggers, tenantId } = await setup();
    const { schedule } = await createSchedule(deps, { input: input({ tenantId }), scheduleId: `${tenantId}-s`, by: ALICE });
    await expect(deleteSchedule(deps, { scheduleId: schedule.id, expectedVersion: 7, by: BOB })).rejects.toBeInstanceOf(ConflictError);
    expect(triggers.triggers.has(schedule.id)).toBe(true);
    await deleteSchedule(deps, { scheduleId: schedule.id, expectedVersion: 1, by: BOB });
    expect(triggers.triggers.has(schedule.id)).toBe(false);
    expect(await deps.schedules.getSchedule(schedule.id)).toBeUndefined();
    expect((await deps.audit.list('Schedule', schedule.id)).at(-1)).toMatchObject({ action: 'Deleted', version: 2, by: BOB });
    await expect(deleteSchedule(deps, { scheduleId: schedule.id, expectedVersion: 1, by: BOB })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses a new schedule under the id of a deleted one, whose history is kept', async () => {
    const { deps, tenantId } = await setup();
    const { schedule } = await createSchedule(deps, { input: input({ tenantId }), scheduleId: `${tenantId}-reused`, by: ALICE });
    await deleteSchedule(deps, { scheduleId: schedule.id, expectedVersion: 1, by: ALICE });
    await expect(createSchedule(deps, { input: input({ tenantId }), scheduleId: schedule.id, by: BOB })).rejects.toThrow(/was used before/);
    expect((await deps.audit.list('Schedule', schedule.id)).map((e) => e.action)).toEqual(['Created', 'Deleted']);
  });

  it('repairs every other trigger when the scheduler refuses one', async () => {
    const { deps, triggers, tenantId } = await setup();
    await reconcileScheduleTriggers(deps);
    const a = (await createSchedule(deps, { input: input({ tenantId }), scheduleId: `${tenantId}-a`, by: ALICE })).schedule;
    const b = (await createSchedule(deps, { input: input({ tenantId }), scheduleId: `${tenantId}-b`, by: ALICE })).schedule;
    triggers.triggers.delete(a.id);
    triggers.triggers.delete(b.id);
    const put = triggers.put.bind(triggers);
    triggers.put = (spec) => (spec.scheduleId === a.id ? Promise.reject(new ValidationError('trigger', [{ field: 'ScheduleExpressionTimezone', problem: 'refused' }])) : put(spec));
    expect(await reconcileScheduleTriggers(deps)).toEqual([{ scheduleId: b.id, drift: 'Missing' }]);
    expect(triggers.triggers.has(b.id)).toBe(true);
  });

  it('refuses a schedule naming a tenant, computer or item that does not exist, each by its field, and stores nothing', async () => {
    const { deps, tenantId } = await setup();
    const attempt = createSchedule(deps, {
      input: input({ tenantId: 'no-such-tenant', target: { kind: 'Computers', computerIds: ['ghost'] }, limitTo: 'software:nope' }),
      scheduleId: `${tenantId}-bad`,
      by: ALICE,
    });
    await expect(attempt).rejects.toBeInstanceOf(ValidationError);
    await attempt.catch((error: unknown) => {
      expect(error instanceof ValidationError ? error.problems.map((p) => p.field) : []).toEqual(['tenantId', 'target.computerIds.0', 'limitTo']);
    });
    expect(await deps.schedules.getSchedule(`${tenantId}-bad`)).toBeUndefined();
  });

  it('keeps a change when Scheduler is unreachable, says the trigger is behind, and the reconcile sweep fixes every drift', async () => {
    const { deps, triggers, tenantId } = await setup();
    await reconcileScheduleTriggers(deps); // whatever earlier tests left, in line
    triggers.failNext = new TransientError('scheduler throttled');
    const { schedule, triggerInSync } = await createSchedule(deps, { input: input({ tenantId }), scheduleId: `${tenantId}-s`, by: ALICE });
    expect(triggerInSync).toBe(false);
    expect(await deps.schedules.getSchedule(schedule.id)).toBeDefined();
    expect(triggers.triggers.has(schedule.id)).toBe(false);

    const other = (await createSchedule(deps, { input: input({ tenantId, name: 'other' }), scheduleId: `${tenantId}-other`, by: ALICE })).schedule;
    triggers.triggers.set(other.id, { scheduleId: other.id, expression: 'cron(0 3 * * ? *)', timeZone: 'UTC', enabled: true, flexibleWindowMinutes: 0 });
    triggers.triggers.set('orphan', { scheduleId: 'orphan', expression: 'cron(0 3 * * ? *)', timeZone: 'UTC', enabled: true, flexibleWindowMinutes: 0 });

    const drifts = await reconcileScheduleTriggers(deps);
    expect(drifts).toEqual(
      expect.arrayContaining([
        { scheduleId: schedule.id, drift: 'Missing' },
        { scheduleId: other.id, drift: 'Different', fields: ['expression', 'timeZone'] },
        { scheduleId: 'orphan', drift: 'Orphaned' },
      ]),
    );
    expect(drifts).toHaveLength(3);
    expect(triggers.triggers.get(other.id)?.expression).toBe('cron(0 14 ? * TUE *)');
    expect(triggers.triggers.has('orphan')).toBe(false);
    expect(await reconcileScheduleTriggers(deps)).toEqual([]);
  });
});

describe('firing a schedule: one run, one session per computer, skips with reasons', () => {
  const harness = useCaseHarness();
  let n = 0;
  async function fleet() {
    const h = harness();
    const deps: Dependencies = { ...h.deps, scheduleTriggers: new InMemoryScheduleTriggers() };
    const id = `f${String(++n)}${Date.now().toString(36)}`;
    const [tenantId, pausedTenant] = [`${id}-contoso`, `${id}-paused`];
    await h.catalog.putTenant(tenant(tenantId, { defaultTimeZone: 'Europe/Lisbon' }));
    await h.catalog.putTenant(tenant(pausedTenant, { parentTenantId: tenantId, enabled: false }));
    await h.catalog.putDeployment(deploySoftware(`${id}-app`, 'app', { target: { kind: 'Tenant', tenantId, includeChildTenants: true } }));
    const computers = {
      lisbon: computer(`${id}-lisbon`, { tenantId, tags: ['ring0'] }),
      tokyo: computer(`${id}-tokyo`, { tenantId, timeZone: 'Asia/Tokyo' }),
      offline: computer(`${id}-offline`, { tenantId, online: false }),
      paused: computer(`${id}-paused-pc`, { tenantId: pausedTenant }),
      busy: computer(`${id}-busy`, { tenantId }),
    };
    for (const c of Object.values(computers)) await h.catalog.putComputer(c);
    const { schedule } = await createSchedule(deps, {
      input: input({ tenantId, includeChildTenants: true, useComputerTimeZone: true, offline: { behaviour: 'Skip' } }),
      scheduleId: `${id}-sched`,
      by: ALICE,
    });
    return { h, deps, schedule, computers, tenantId, id };
  }
  const FIRE = '2026-12-01T14:00:00.000Z';

  it('starts a session per computer with its own window, and skips offline, disabled-tenant, busy and unassigned computers with the reason', async () => {
    const { deps, schedule, computers, h, tenantId, id } = await fleet();
    const unassigned = computer(`${id}-bare`, { tenantId });
    await h.catalog.putComputer(unassigned);
    // a narrower schedule limited to an item only the Lisbon computer lacks would skip it: here "nothing deployed" comes from a computer in no deployment's tenant
    await h.catalog.putDeployment(deploySoftware(`${id}-not-bare`, 'app', { target: { kind: 'Computer', computerId: computers.busy.id } }));
    await startSession(deps, { computerId: computers.busy.id, options: { mode: 'Full', reboot: 'IfNecessary', offline: 'ApplyOnConnect', postpone: { delayMinutes: 60, maxCount: 2 } }, by: ALICE });

    const result = await fireSchedule(deps, { scheduleId: schedule.id, scheduledTime: FIRE, trigger: 'Schedule', by: { kind: 'Schedule', name: 'test' } });
    if (!result.fired) throw new Error('expected the schedule to fire');
    const targets = await deps.schedules.listRunTargets(result.run.id);
    const byComputer = new Map(targets.map((t) => [t.computerId, t]));
    expect(byComputer.get(computers.offline.id)).toMatchObject({ skipped: 'Offline' });
    expect(byComputer.get(computers.paused.id)).toMatchObject({ skipped: 'TenantDisabled' });
    expect(byComputer.get(computers.busy.id)).toMatchObject({ skipped: 'ActiveSession' });
    expect(byComputer.get(computers.busy.id)?.detail).toMatch(/still running/);
    expect(result.run).toMatchObject({ status: 'Running', targeted: 6, started: 3, skipped: { Offline: 1, TenantDisabled: 1, ActiveSession: 1 } });

    const lisbon = byComputer.get(computers.lisbon.id);
    const tokyo = byComputer.get(computers.tokyo.id);
    // 22:00 in each computer's own zone, at least an hour after the 14:00 Lisbon fire
    expect(lisbon?.executeAt).toBe('2026-12-01T22:00:00.000Z');
    expect(tokyo?.executeAt).toBe('2026-12-02T13:00:00.000Z');
    const session = await deps.sessions.getSession(tokyo?.sessionId ?? '');
    expect(session?.options).toMatchObject({ executeAt: '2026-12-02T13:00:00.000Z', offline: 'Skip', mode: 'Full' });
    expect(byComputer.get(unassigned.id)?.sessionId).toMatch(/^ses_/);
  });

  it('skips a computer nothing is deployed to, and one without the item a limited schedule names', async () => {
    const { deps, h, tenantId, id } = await fleet();
    const otherTenant = `${id}-nothing`;
    await h.catalog.putTenant(tenant(otherTenant));
    await h.catalog.putComputer(computer(`${id}-empty`, { tenantId: otherTenant }));
    const { schedule } = await createSchedule(deps, { input: input({ tenantId: otherTenant }), scheduleId: `${id}-empty-s`, by: ALICE });
    const fired = await fireSchedule(deps, { scheduleId: schedule.id, scheduledTime: FIRE, trigger: 'Schedule', by: ALICE });
    expect(fired.fired && fired.run).toMatchObject({ targeted: 1, started: 0, skipped: { NoApplicableDeployments: 1 } });

    await h.catalog.putTask({ id: `${id}-task`, name: 'Task', platform: 'linux', scripts: { style: 'Combined', script: 'true' }, parameters: [] });
    const limited = (await createSchedule(deps, { input: input({ tenantId, limitTo: `task:${id}-task`, target: { kind: 'Tag', tag: 'ring0' } }), scheduleId: `${id}-limited`, by: ALICE })).schedule;
    const run = await fireSchedule(deps, { scheduleId: limited.id, scheduledTime: FIRE, trigger: 'Schedule', by: ALICE });
    expect(run.fired && run.run).toMatchObject({ targeted: 1, started: 0, skipped: { NoApplicableDeployments: 1 } });
  });

  it('delivered 1,000 times (50 at once), a fire makes one run and starts each session once', async () => {
    const { deps, schedule, h } = await fleet();
    const created: string[] = [];
    const createSession = deps.sessions.createSession.bind(deps.sessions);
    const counting: Dependencies = { ...deps, sessions: Object.assign(Object.create(deps.sessions) as typeof deps.sessions, { createSession: (s: Parameters<typeof createSession>[0]) => createSession(s).then(() => void created.push(s.id)) }) };
    const results = [];
    for (let batch = 0; batch < 20; batch++) {
      results.push(...(await Promise.all(Array.from({ length: 50 }, () => fireSchedule(counting, { scheduleId: schedule.id, scheduledTime: FIRE, trigger: 'Schedule', by: ALICE })))));
    }
    const runIds = new Set(results.map((r) => (r.fired ? r.run.id : 'none')));
    expect(runIds.size).toBe(1);
    expect(results.filter((r) => r.fired && r.created)).toHaveLength(1);
    expect(created).toHaveLength(3);
    expect(new Set(created).size).toBe(3);
    const [runId = ''] = runIds;
    expect(await deps.schedules.getRun(runId)).toMatchObject({ status: 'Running', targeted: 5, started: 3, skipped: { Offline: 1, TenantDisabled: 1 } });
    expect((await deps.schedules.listRuns(schedule.id, 10)).map((r) => r.id)).toEqual([runId]);
    expect(h.logged.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('a delivery that dies mid fan-out holds the run until its lease lapses; the next delivery then finishes it without a second session', async () => {
    const { deps, schedule, h } = await fleet();
    let failures = 2;
    const putRunTarget = deps.schedules.putRunTarget.bind(deps.schedules);
    const dying: Dependencies = {
      ...deps,
      schedules: Object.assign(Object.create(deps.schedules) as typeof deps.schedules, {
        putRunTarget: (target: Parameters<typeof putRunTarget>[0]) => (failures-- > 0 ? Promise.reject(new Error('the function ran out of time')) : putRunTarget(target)),
      }),
    };
    const fire = () => fireSchedule(dying, { scheduleId: schedule.id, scheduledTime: FIRE, trigger: 'Schedule', by: ALICE });
    await expect(fire()).rejects.toThrow('ran out of time');

    const meanwhile = await fire();
    expect(meanwhile).toMatchObject({ fired: true, inProgress: true, run: { status: 'Starting' } });

    h.clock.advance(961_000);
    const finished = await fire();
    expect(finished).toMatchObject({ fired: true, run: { status: 'Running', targeted: 5, started: 3 } });
    const targets = await deps.schedules.listRunTargets(finished.fired ? finished.run.id : '');
    const sessionIds = targets.flatMap((t) => (t.sessionId ? [t.sessionId] : []));
    expect(new Set(sessionIds).size).toBe(3);
    expect(h.logged.some((l) => l.message === 'schedule run taken over from a delivery that stopped')).toBe(true);
  });

  it('does nothing for a disabled schedule (a late delivery) or a deleted one, but a run-now of a disabled one runs', async () => {
    const { deps, schedule } = await fleet();
    await setScheduleEnabled(deps, { scheduleId: schedule.id, expectedVersion: 1, enabled: false, by: ALICE });
    expect(await fireSchedule(deps, { scheduleId: schedule.id, scheduledTime: FIRE, trigger: 'Schedule', by: ALICE })).toEqual({ fired: false, reason: 'ScheduleDisabled' });
    expect(await deps.schedules.listRuns(schedule.id, 10)).toEqual([]);
    const runNow = await fireSchedule(deps, { scheduleId: schedule.id, scheduledTime: '2026-12-01T09:30:00.000Z', trigger: 'RunNow', by: BOB });
    expect(runNow.fired && runNow.run).toMatchObject({ trigger: 'RunNow', by: BOB, started: 3 });
    expect(await fireSchedule(deps, { scheduleId: 'gone', scheduledTime: FIRE, trigger: 'Schedule', by: ALICE })).toEqual({ fired: false, reason: 'ScheduleNotFound' });
  });

  it('previews targets and windows without starting anything', async () => {
    const { deps, schedule, computers, h } = await fleet();
    h.clock.advance(Date.parse('2026-11-30T12:00:00Z') - h.clock.now().getTime());
    const preview = await previewSchedule(deps, { scheduleId: schedule.id, fires: 2 });
    expect(preview.timeZone).toBe('Europe/Lisbon');
    expect(preview.nextFires).toEqual(['2026-12-01T14:00:00.000Z', '2026-12-08T14:00:00.000Z']);
    const byId = new Map(preview.targets.map((t) => [t.computerId, t]));
    expect(byId.get(computers.tokyo.id)).toMatchObject({ windowOpensAt: '2026-12-02T13:00:00.000Z', timeZone: 'Asia/Tokyo' });
    expect(byId.get(computers.offline.id)).toMatchObject({ skipped: 'Offline' });
    expect(await deps.schedules.listRuns(schedule.id, 10)).toEqual([]);
  });
});

describe('rolling a run out: rings, error budget, concurrency and an operator hand', () => {
  const harness = useCaseHarness();
  let n = 0;
  const FIRE = '2026-12-01T14:00:00.000Z';
  async function rolloutFleet(rollout: Record<string, unknown>) {
    const h = harness();
    h.clock.advance(Date.parse(FIRE) - h.clock.now().getTime());
    const events = new RecordingEvents();
    const deps: Dependencies = { ...h.deps, scheduleTriggers: new InMemoryScheduleTriggers(), events };
    const id = `r${String(++n)}${Date.now().toString(36)}`;
    await h.catalog.putTenant(tenant(id));
    await h.catalog.putDeployment(deploySoftware(`${id}-app`, 'app', { target: { kind: 'Tenant', tenantId: id, includeChildTenants: false } }));
    for (let i = 0; i < 10; i++) await h.catalog.putComputer(computer(`${id}-pc${String(i)}`, { tenantId: id }));
    const { schedule } = await createSchedule(deps, {
      input: input({ tenantId: id, maintenanceTime: undefined, executeImmediatelyAfterDetection: true, rollout }),
      scheduleId: `${id}-rollout`,
      by: ALICE,
    });
    const fired = await fireSchedule(deps, { scheduleId: schedule.id, scheduledTime: FIRE, trigger: 'Schedule', by: ALICE });
    if (!fired.fired) throw new Error('expected the schedule to fire');
    const runId = fired.run.id;
    /** Ends every started, unfinished session of the run with `status`. */
    const endSessions = async (status: 'Passed' | 'Failed') => {
      for (const target of await deps.schedules.listRunTargets(runId)) {
        const session = target.sessionId ? await deps.sessions.getSession(target.sessionId) : undefined;
        if (session && session.status === 'Created') await deps.sessions.updateSession(session.id, session.version, { status }, h.clock.now().toISOString());
      }
    };
    return { h, deps, runId, run: fired.run, endSessions, events };
  }
  const runWorkOf = (deps: Dependencies): RecordingRunWork => {
    if (!(deps.runWork instanceof RecordingRunWork)) throw new Error('the harness hands a RecordingRunWork');
    return deps.runWork;
  };

  /** 3 of the 10 computers first, then the rest, with no threshold or soak: the rest stay queued until the first ended. */
  const firstThenRest = [
    { name: 'first', percent: 30, successThresholdPercent: 0, soakMinutes: 0 },
    { name: 'rest', percent: 100 },
  ];
  const canaryThenBroad = { rings: [{ name: 'canary', percent: 20, successThresholdPercent: 100, soakMinutes: 60 }, { name: 'broad', percent: 100 }] };

  it('starts the canary ring only; the broad ring starts after the canaries passed and soaked; the run completes', async () => {
    const { h, deps, runId, run, endSessions, events } = await rolloutFleet(canaryThenBroad);
    expect(run).toMatchObject({ status: 'Running', currentRing: 0, started: 2, outcome: { queued: 8, running: 2 } });
    await endSessions('Passed');
    expect(await advanceRun(deps, runId)).toMatchObject({ status: 'Running', currentRing: 0, started: 2, ringEndedAt: FIRE, outcome: { passed: 2, queued: 8 } });
    h.clock.advance(59 * 60_000);
    expect(await advanceRun(deps, runId)).toMatchObject({ currentRing: 0, started: 2 });
    h.clock.advance(60_000);
    expect(await advanceRun(deps, runId)).toMatchObject({ status: 'Running', currentRing: 1, started: 10, outcome: { running: 8, queued: 0 } });
    await endSessions('Passed');
    expect(await advanceRun(deps, runId)).toMatchObject({ status: 'Completed', outcome: { passed: 10, running: 0, queued: 0 } });
    expect(await deps.schedules.listActiveRuns(100)).not.toContainEqual(expect.objectContaining({ id: runId }));
    // each stage told the MSP's tools once: the run, each session it started, the second ring, the end
    const runEvents = events.published.flatMap((e) => (e.detailType === 'nightshift.run' ? [[e.detail.event, e.detail.ringName]] : []));
    expect(runEvents).toEqual([
      ['RunStarted', 'canary'],
      ['RingStarted', 'broad'],
      ['RunCompleted', 'broad'],
    ]);
    const sessionEvents = events.published.filter((e) => e.detailType === 'nightshift.session');
    expect(sessionEvents).toHaveLength(10);
    expect(sessionEvents[0]?.detail).toMatchObject({ event: 'SessionStarted', runId, status: 'Created' });
  });

  it('halts on a failing canary and says why; an operator can promote past it, or cancel so nothing more starts', async () => {
    const { deps, runId, endSessions, events } = await rolloutFleet(canaryThenBroad);
    await endSessions('Failed');
    const halted = await advanceRun(deps, runId);
    expect(halted).toMatchObject({ status: 'Halted', started: 2, haltReason: 'ring canary: 0 of 2 session(s) passed (0%), below the 100% it needs' });
    // a halted run stays halted, whatever the controller looks
    expect(await advanceRun(deps, runId)).toMatchObject({ status: 'Halted', started: 2 });
    const promoted = await operateRun(deps, { runId, operation: 'promote', by: BOB, reason: 'canaries failed on a known flaky driver' });
    // the promote is recorded at once; the broad ring's starts are the run worker's, asked for here
    expect(promoted).toMatchObject({ status: 'Running', currentRing: 1, started: 2, failuresAccepted: 2 });
    expect(promoted.haltReason).toBeUndefined();
    expect(runWorkOf(deps).requested).toEqual([runId]);
    expect(await stepRun(deps, runId)).toMatchObject({ status: 'Running', currentRing: 1, started: 10 });
    const cancelled = await operateRun(deps, { runId, operation: 'cancel', by: BOB });
    expect(cancelled).toMatchObject({ status: 'Cancelled', haltReason: 'cancelled by bob@msp.example' });
    await expect(operateRun(deps, { runId, operation: 'resume', by: BOB })).rejects.toThrow(/cannot resume run .*: it is Cancelled/);
    const told = events.published.flatMap((e) => (e.detailType === 'nightshift.run' ? [`${e.detail.event}: ${e.detail.reason ?? ''}`] : []));
    expect(told).toEqual([
      'RunStarted: ',
      'RunHalted: ring canary: 0 of 2 session(s) passed (0%), below the 100% it needs',
      'RingStarted: ',
      'RunResumed: ',
      'RunCancelled: cancelled by bob@msp.example',
    ]);
  });

  it('halts past the error budget (SSM: the third failure over a budget of 2), and resumes with the failures accepted', async () => {
    const { deps, runId, run, endSessions } = await rolloutFleet({ errorBudget: { kind: 'Count', value: 2 }, rings: firstThenRest });
    expect(run).toMatchObject({ started: 3, outcome: { running: 3, queued: 7 } });
    await endSessions('Failed');
    const halted = await advanceRun(deps, runId);
    expect(halted).toMatchObject({ status: 'Halted', started: 3, haltCause: 'ErrorBudget', haltReason: 'error budget spent: 3 failed session(s), more than the 2 allowed' });
    const resumed = await operateRun(deps, { runId, operation: 'resume', by: BOB });
    expect(resumed).toMatchObject({ status: 'Running', failuresAccepted: 3, started: 3 });
    expect(await stepRun(deps, runId)).toMatchObject({ status: 'Running', failuresAccepted: 3, started: 10, outcome: { running: 7, queued: 0, failed: 3 } });
    const halt = await operateRun(deps, { runId, operation: 'halt', by: ALICE, reason: 'change freeze' });
    expect(halt).toMatchObject({ status: 'Halted', haltReason: 'halted by alice@msp.example: change freeze' });
    // a halt starts nothing: only the resume asked the worker for a step
    expect(runWorkOf(deps).requested).toEqual([runId]);
    // each hand on the run is in the audit trail, with who and why
    expect((await deps.audit.list('Run', runId)).map((entry) => [entry.action, entry.by.name, entry.changes.find((c) => c.field === 'status')?.after])).toEqual([
      ['Resumed', BOB.name, 'Running'],
      ['Halted', ALICE.name, 'Halted'],
    ]);
    await endSessions('Passed');
    expect(await advanceRun(deps, runId)).toMatchObject({ status: 'Halted', started: 10 });
  });

  it('starts sessions from one step at a time: while another step holds the run, a look starts nothing; a lapsed hold is taken over', async () => {
    const { h, deps, runId, endSessions } = await rolloutFleet({ rings: firstThenRest });
    await endSessions('Passed');
    const heldUntil = new Date(h.clock.now().getTime() + 960_000).toISOString();
    expect(await deps.schedules.takeRunLease(runId, undefined, heldUntil)).toMatchObject({ fanOutLeaseUntil: heldUntil });
    // the look counts (and keeps the other step's hold) but starts nothing
    expect(await advanceRun(deps, runId)).toMatchObject({ started: 3, fanOutLeaseUntil: heldUntil, outcome: { passed: 3, running: 0 } });
    h.clock.advance(961_000);
    const advanced = await advanceRun(deps, runId);
    expect(advanced).toMatchObject({ currentRing: 1, started: 10, outcome: { running: 7, passed: 3 } });
    // the step's record released the hold it took
    expect((await deps.schedules.getRun(runId))?.fanOutLeaseUntil).toBeUndefined();
  });

  it('refreshes its counts on every look, and a resume accepts the failures counted now, not those the last halt saw', async () => {
    const { h, deps, runId, endSessions } = await rolloutFleet({ errorBudget: { kind: 'Count', value: 2 }, rings: firstThenRest });
    await endSessions('Failed');
    expect(await advanceRun(deps, runId)).toMatchObject({ status: 'Halted', outcome: { failed: 3 } });
    // three more of the run fail while it is halted (started by hand, say)
    for (const target of (await deps.schedules.listRunTargets(runId)).filter((t) => t.sessionId === undefined).slice(0, 3)) {
      const sessionId = deps.ids.derive('ses', [runId, target.computerId]);
      await startSession(deps, { computerId: target.computerId, sessionId, options: { mode: 'Full', reboot: 'IfNecessary', offline: 'ApplyOnConnect', postpone: { delayMinutes: 60, maxCount: 2 } }, by: ALICE });
      await deps.schedules.settleRunTarget(runId, target.computerId, { sessionId });
    }
    await endSessions('Failed');
    expect(await advanceRun(deps, runId)).toMatchObject({ status: 'Halted', outcome: { failed: 6 } });
    const resumed = await operateRun(deps, { runId, operation: 'resume', by: BOB });
    expect(resumed).toMatchObject({ status: 'Running', failuresAccepted: 6 });
    expect(h.logged.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('a resume after a ring fell short goes on to the next ring after the soak, instead of halting again', async () => {
    const { h, deps, runId, endSessions } = await rolloutFleet(canaryThenBroad);
    await endSessions('Failed');
    expect(await advanceRun(deps, runId)).toMatchObject({ status: 'Halted', haltCause: 'RingThreshold' });
    expect(await operateRun(deps, { runId, operation: 'resume', by: BOB, reason: 'driver fixed' })).toMatchObject({ status: 'Running', currentRing: 0, thresholdWaivedForRing: 0 });
    // the worker's step, within the soak, starts nothing yet
    expect(await stepRun(deps, runId)).toMatchObject({ status: 'Running', currentRing: 0, started: 2 });
    h.clock.advance(60 * 60_000);
    expect(await advanceRun(deps, runId)).toMatchObject({ status: 'Running', currentRing: 1, started: 10 });
  });

  /** A tenant with `count` computers and a schedule over them, not fired. */
  async function unfiredSchedule(count: number) {
    const h = harness();
    h.clock.advance(Date.parse(FIRE) - h.clock.now().getTime());
    const events = new RecordingEvents();
    const deps: Dependencies = { ...h.deps, scheduleTriggers: new InMemoryScheduleTriggers(), events };
    const id = `now${String(++n)}${Date.now().toString(36)}`;
    await h.catalog.putTenant(tenant(id));
    await h.catalog.putDeployment(deploySoftware(`${id}-app`, 'app', { target: { kind: 'Tenant', tenantId: id, includeChildTenants: false } }));
    for (let i = 0; i < count; i++) await h.catalog.putComputer(computer(`${id}-pc${String(i)}`, { tenantId: id }));
    const { schedule } = await createSchedule(deps, { input: input({ tenantId: id, maintenanceTime: undefined, executeImmediatelyAfterDetection: true }), scheduleId: `${id}-s`, by: ALICE });
    return { h, deps, schedule, tenantId: id, events };
  }

  it("a run-now records the run as Starting and hands its fan-out to the worker; the worker's step writes the targets and starts the sessions (proves the API call does no fan-out)", async () => {
    const { deps, schedule, tenantId } = await unfiredSchedule(4);
    const { run, created } = await requestRunNow(deps, { scheduleId: schedule.id, by: BOB });
    expect(created).toBe(true);
    expect(run).toMatchObject({ status: 'Starting', trigger: 'RunNow', by: BOB, targeted: 0, started: 0 });
    // no lease: nobody is fanning it out yet, so the controller may if the worker's request is lost
    expect(run.fanOutLeaseUntil).toBeUndefined();
    expect(await deps.schedules.listRunTargets(run.id)).toEqual([]);
    expect(runWorkOf(deps).requested).toEqual([run.id]);
    expect(await deps.audit.list('Run', run.id)).toMatchObject([{ action: 'Started', by: BOB, tenantId, version: 1 }]);

    const stepped = await stepRun(deps, run.id);
    expect(stepped).toMatchObject({ status: 'Running', targeted: 4, started: 4 });
    expect((await deps.schedules.listRunTargets(run.id)).every((target) => target.sessionId !== undefined)).toBe(true);
    // a redelivered request finds nothing left to do
    expect(await stepRun(deps, run.id)).toMatchObject({ status: 'Running', targeted: 4, started: 4, version: stepped?.version });
  });

  it('a keyed run-now asked twice is one run: the repeat answers it (asking the worker again only while it is still starting)', async () => {
    const { deps, schedule } = await unfiredSchedule(2);
    const runId = deps.ids.derive('run', ['api', 'bob', schedule.id, 'key-1']);
    const first = await requestRunNow(deps, { scheduleId: schedule.id, by: BOB, runId });
    const again = await requestRunNow(deps, { scheduleId: schedule.id, by: BOB, runId });
    expect(again).toMatchObject({ created: false, run: { id: first.run.id, status: 'Starting' } });
    expect(runWorkOf(deps).requested).toEqual([runId, runId]);
    await stepRun(deps, runId);
    expect(await requestRunNow(deps, { scheduleId: schedule.id, by: BOB, runId })).toMatchObject({ created: false, run: { id: runId, status: 'Running', started: 2 } });
    expect(runWorkOf(deps).requested).toEqual([runId, runId]);
    expect(await deps.schedules.listRuns(schedule.id, 10)).toHaveLength(1);
    expect(await deps.audit.list('Run', runId)).toHaveLength(1);
  });

  it('a run-now whose request never reached the worker is fanned out by the minute controller; one of a missing schedule is refused', async () => {
    const { h, deps, schedule } = await unfiredSchedule(3);
    runWorkOf(deps).failNext = new TransientError('Lambda throttled');
    const { run } = await requestRunNow(deps, { scheduleId: schedule.id, by: BOB });
    expect(runWorkOf(deps).requested).toEqual([]);
    expect(h.logged.some((l) => l.level === 'warn' && l.message.startsWith('run worker not reached'))).toBe(true);
    await advanceActiveRuns(deps, 1_000);
    expect(await deps.schedules.getRun(run.id)).toMatchObject({ status: 'Running', targeted: 3, started: 3 });
    await expect(requestRunNow(deps, { scheduleId: 'no-such-schedule', by: BOB })).rejects.toBeInstanceOf(NotFoundError);
  });

  it("the worker cancels a starting run whose schedule was deleted before its fan-out, and tells the run's listeners; a request for a run that is gone does nothing", async () => {
    const { h, deps, schedule, events } = await unfiredSchedule(2);
    const { run } = await requestRunNow(deps, { scheduleId: schedule.id, by: BOB });
    await deleteSchedule(deps, { scheduleId: schedule.id, expectedVersion: schedule.version, by: ALICE });
    expect(await stepRun(deps, run.id)).toMatchObject({ status: 'Cancelled', haltCause: 'ScheduleDeleted', started: 0 });
    const told = events.published.flatMap((e) => (e.detailType === 'nightshift.run' ? [e.detail.event] : []));
    expect(told).toEqual(['RunCancelled']);
    expect(await stepRun(deps, 'run-that-never-was')).toBeUndefined();
    expect(h.logged.some((l) => l.level === 'warn' && l.message === 'run worker asked to step a run that does not exist')).toBe(true);
  });

  it('a run whose every fire delivery stopped mid fan-out is fanned out by the controller once its lease lapses; cancelling a starting run is allowed', async () => {
    const h = harness();
    h.clock.advance(Date.parse(FIRE) - h.clock.now().getTime());
    const deps: Dependencies = { ...h.deps, scheduleTriggers: new InMemoryScheduleTriggers(), events: new RecordingEvents() };
    const id = `stuck${Date.now().toString(36)}`;
    await h.catalog.putTenant(tenant(id));
    await h.catalog.putDeployment(deploySoftware(`${id}-app`, 'app', { target: { kind: 'Tenant', tenantId: id, includeChildTenants: false } }));
    for (let i = 0; i < 3; i++) await h.catalog.putComputer(computer(`${id}-pc${String(i)}`, { tenantId: id }));
    const { schedule } = await createSchedule(deps, { input: input({ tenantId: id }), scheduleId: `${id}-s`, by: ALICE });
    const failing: Dependencies = { ...deps, catalog: Object.assign(Object.create(deps.catalog) as typeof deps.catalog, { listComputers: () => Promise.reject(new TransientError('throttled')) }) };
    await expect(fireSchedule(failing, { scheduleId: schedule.id, scheduledTime: FIRE, trigger: 'Schedule', by: ALICE })).rejects.toThrow('throttled');
    const runId = deps.ids.derive('run', [schedule.id, FIRE]);
    expect(await deps.schedules.getRun(runId)).toMatchObject({ status: 'Starting' });
    // within the lease the controller leaves it to the delivery that may still be working
    await advanceActiveRuns(deps, 1_000);
    expect(await deps.schedules.getRun(runId)).toMatchObject({ status: 'Starting' });
    h.clock.advance(961_000);
    await advanceActiveRuns(deps, 1_000);
    expect(await deps.schedules.getRun(runId)).toMatchObject({ status: 'Running', targeted: 3, started: 3 });

    // another one stuck in Starting can be cancelled by hand
    const other = (await createSchedule(deps, { input: input({ tenantId: id, name: 'other' }), scheduleId: `${id}-o`, by: ALICE })).schedule;
    await expect(fireSchedule(failing, { scheduleId: other.id, scheduledTime: FIRE, trigger: 'Schedule', by: ALICE })).rejects.toThrow('throttled');
    expect(await operateRun(deps, { runId: deps.ids.derive('run', [other.id, FIRE]), operation: 'cancel', by: BOB })).toMatchObject({ status: 'Cancelled' });
  });

  it('a look that starts nothing does not write over the hold of a step that is starting sessions', async () => {
    const { h, deps, runId } = await rolloutFleet({ rings: firstThenRest });
    const before = await deps.schedules.getRun(runId);
    const heldUntil = new Date(h.clock.now().getTime() + 960_000).toISOString();
    await deps.schedules.takeRunLease(runId, undefined, heldUntil);
    // a step that read the run before the hold was taken: its write loses, the hold stays
    if (!before) throw new Error('expected the run');
    await expect(deps.schedules.updateRun({ ...before, version: before.version + 1 }, before.version)).rejects.toBeInstanceOf(ConflictError);
    await advanceRun(deps, runId);
    expect((await deps.schedules.getRun(runId))?.fanOutLeaseUntil).toBe(heldUntil);
  });

  it('advances every active run from the controller sweep, one broken run not stopping the others', async () => {
    const { deps, runId, endSessions } = await rolloutFleet({});
    await endSessions('Passed');
    const result = await advanceActiveRuns(deps, 100);
    expect(result.changed).toBeGreaterThanOrEqual(1);
    expect(await deps.schedules.getRun(runId)).toMatchObject({ status: 'Completed' });
  });
});

describe('offline computers under a schedule that waits for them', () => {
  const harness = useCaseHarness();

  it('bounds the wait for delivery by the schedule (waitHours), never beyond the agent setting; a skipping schedule gives up soon', async () => {
    const h = harness();
    const waitSixHours = sessionOptionsFor(input({ offline: { behaviour: 'ApplyOnConnect', waitHours: 6 } }), undefined);
    expect(waitSixHours.offlineWaitSeconds).toBe(21_600);
    const build = async (options: SessionOptions, deliveryTimeoutSeconds: number) => {
      const session = await h.session({ options });
      const deps = { ...h.deps, agentSettings: { ...h.deps.agentSettings, deliveryTimeoutSeconds } };
      return (await buildDetectionCommand(deps, session, 'Detect', 'n_1')).deliveryTimeoutSeconds;
    };
    expect(await build(waitSixHours, 172_800)).toBe(21_600);
    expect(await build(waitSixHours, 3_600)).toBe(3_600);
    expect(await build(sessionOptionsFor(input({ offline: { behaviour: 'Skip' } }), undefined), 172_800)).toBe(h.deps.agentSettings.skipOfflineAfterSeconds);
  });
});

describe('a fan-out against a throttling StartExecution quota', () => {
  const harness = useCaseHarness();

  it('starts every session once: throttled starts wait and are retried by the pacer, none is lost or doubled', async () => {
    const h = harness();
    // a quota of 3 at once refilling at 10 per second of simulated time; the pacer asks for 50 per second
    let simulatedMs = 0;
    let tokens = 3;
    let refilledAt = 0;
    let throttled = 0;
    const executions = new Map<string, number>();
    const quota: Dependencies['workflow'] = {
      ...h.deps.workflow,
      startSession: (sessionId) => {
        tokens = Math.min(3, tokens + ((simulatedMs - refilledAt) * 10) / 1000);
        refilledAt = simulatedMs;
        if (tokens < 1) {
          throttled++;
          return Promise.reject(new TransientError('starting a session failed: ThrottlingException'));
        }
        tokens -= 1;
        executions.set(sessionId, (executions.get(sessionId) ?? 0) + 1);
        return Promise.resolve({ alreadyRunning: false });
      },
    };
    const retried: string[] = [];
    const workflow = new PacedWorkflow(quota, {
      ratePerSecond: 50,
      burst: 10,
      nowMs: () => simulatedMs,
      sleep: (ms) => {
        simulatedMs += ms;
        return Promise.resolve();
      },
      onThrottled: (sessionId) => retried.push(sessionId),
    });
    const deps: Dependencies = { ...h.deps, workflow, scheduleTriggers: new InMemoryScheduleTriggers() };
    const tenantId = `q${Date.now().toString(36)}`;
    await h.catalog.putTenant(tenant(tenantId));
    await h.catalog.putDeployment(deploySoftware(`${tenantId}-app`, 'app', { target: { kind: 'Tenant', tenantId, includeChildTenants: false } }));
    for (let i = 0; i < 20; i++) await h.catalog.putComputer(computer(`${tenantId}-pc${String(i)}`, { tenantId }));
    const { schedule } = await createSchedule(deps, { input: input({ tenantId }), scheduleId: `${tenantId}-s`, by: ALICE });
    const fired = await fireSchedule(deps, { scheduleId: schedule.id, scheduledTime: '2026-12-01T14:00:00.000Z', trigger: 'Schedule', by: ALICE });
    expect(fired.fired && fired.run).toMatchObject({ targeted: 20, started: 20, outcome: { running: 20, queued: 0 } });
    expect(throttled).toBeGreaterThan(0);
    expect(retried).toHaveLength(throttled);
    expect(executions.size).toBe(20);
    expect([...executions.values()].every((count) => count === 1)).toBe(true);
  });
});

describe('a schedule-started session that fails tells the run\'s listeners', () => {
  const harness = useCaseHarness();

  it('publishes SessionEnded with the failure when the workflow records one, and nothing for a session no run started', async () => {
    const h = harness();
    const events = new RecordingEvents();
    const deps: Dependencies = { ...h.deps, events };
    const scheduled = await h.session({ status: 'Running', origin: { scheduleId: 'nightly', runId: 'run_1' } });
    const adHoc = await h.session({ status: 'Running' });
    await recordFailure(deps, scheduled.id, { Error: 'States.Timeout', Cause: 'the step ran out of time' });
    await recordFailure(deps, adHoc.id, { Error: 'States.Timeout', Cause: 'the step ran out of time' });
    // a repeated Catch writes nothing and tells nothing
    await recordFailure(deps, scheduled.id, { Error: 'States.Timeout', Cause: 'the step ran out of time' });
    expect(events.published).toHaveLength(1);
    expect(events.published[0]).toMatchObject({
      detailType: 'nightshift.session',
      detail: { event: 'SessionEnded', sessionId: scheduled.id, runId: 'run_1', scheduleId: 'nightly', status: 'Failed', failure: { code: 'TIMED_OUT' } },
    });
  });
});

describe("a run's execution slots (maxConcurrent): every computer detects at the fire, at most N execute at once", () => {
  const harness = useCaseHarness();

  it('lets one session of a run with one slot execute, parks the next at its gate, and runs it once the first ended and gave the slot back', async () => {
    const h = harness();
    const origin = { scheduleId: 'nightly', runId: `run_${h.nextId()}`, maxExecuting: 1 };
    const first = await h.session({ origin, executeAt: h.clock.now().toISOString() });
    const second = await h.session({ origin, executeAt: h.clock.now().toISOString() });
    expect(await gateSession(h.deps, first.id, 'token-1')).toEqual({ decision: 'Run' });
    expect(await gateSession(h.deps, second.id, 'token-2')).toEqual({ decision: 'Wait' });
    // parked with its token, its timer a minute on: the window came, a slot did not
    expect(h.timers.set.at(-1)).toEqual([second.id, new Date(h.clock.now().getTime() + 60_000).toISOString()]);
    expect(h.lines.some((l) => l.sessionId === second.id && l.message === "waiting for one of its run's execution slots")).toBe(true);
    // a retried gate of the first holds its slot still
    expect(await gateSession(h.deps, first.id, 'token-1b')).toEqual({ decision: 'Run' });
    h.clock.advance(60_000);
    expect(await windowTimerFired(h.deps, second.id)).toEqual({ result: 'still-waiting' });

    await recordFailure(h.deps, first.id, { Error: 'AgentUnreachableError', Cause: 'offline' });
    h.clock.advance(60_000);
    expect(await windowTimerFired(h.deps, second.id)).toEqual({ result: 'woken' });
    expect(h.workflow.answers.filter((a) => a.token === 'token-2')).toEqual([{ token: 'token-2', kind: 'complete', output: { decision: 'Run' } }]);
  });

  it('a run-now on a session waiting for a slot keeps its timer looking, instead of clearing it', async () => {
    const h = harness();
    const origin = { scheduleId: 'nightly', runId: `run_${h.nextId()}`, maxExecuting: 1 };
    const first = await h.session({ origin, executeAt: h.clock.now().toISOString() });
    const second = await h.session({ origin, executeAt: new Date(h.clock.now().getTime() + 3_600_000).toISOString() });
    await gateSession(h.deps, first.id, 'token-1');
    expect(await gateSession(h.deps, second.id, 'token-2')).toEqual({ decision: 'Wait' });
    await runSessionNow(h.deps, { sessionId: second.id, by: { kind: 'EndUser', name: 'ana@contoso.example' } });
    expect(h.timers.cleared).not.toContain(second.id);
    expect(h.timers.set.at(-1)).toEqual([second.id, new Date(h.clock.now().getTime() + 60_000).toISOString()]);
  });

  it('leaves sessions without a run limit alone: no slot is asked for', async () => {
    const h = harness();
    const acquire = vi.spyOn(h.deps.schedules, 'acquireExecutionSlot');
    const session = await h.session({ origin: { scheduleId: 'nightly', runId: 'run_free' }, executeAt: h.clock.now().toISOString() });
    expect(await gateSession(h.deps, session.id, 'token')).toEqual({ decision: 'Run' });
    expect(acquire).not.toHaveBeenCalled();
  });
});
