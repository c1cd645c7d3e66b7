import { describe, expect, it, vi } from 'vitest';
import { derivedId } from '../../functions/adapters/system.js';
import { ConflictError, NotFoundError, ValidationError } from '../../functions/core/errors.js';
import { EMPTY_OUTCOME, type ScheduleRun } from '../../functions/core/model/schedule-run.js';
import { scheduleInputSchema, type Schedule } from '../../functions/core/model/schedule.js';
import type { Requester } from '../../functions/core/model/session.js';
import { sessionOptionsFor } from '../../functions/core/schedules/targets.js';
import type { Dependencies } from '../../functions/core/use-cases/dependencies.js';
import { fanOutStartingRun, fireSchedule, requestRunNow } from '../../functions/core/use-cases/fire-schedule.js';
import { createSchedule } from '../../functions/core/use-cases/manage-schedules.js';
import { computer, deploySoftware, tenant } from '../support/domain.js';
import { RecordingEvents, RecordingRunWork, runRecord } from '../support/schedules.js';
import { useCaseHarness, type Harness } from './harness.js';

/**
 * The rules of a fire and a run-now (dynalite): the run recorded once under
 * an id derived from the schedule and the fire's instant, with the schedule
 * as it is then; the fan-out lease (who fans out, who waits, who takes over);
 * each target written with its ring and window or settled with its skip; the
 * run's start told once; and a run-now's audit entry and hand-off.
 */

const ALICE: Requester = { kind: 'Operator', name: 'alice@msp.example' };
const SCHEDULER: Requester = { kind: 'Schedule', name: 'scheduler' };
const FIRE = '2026-11-24T14:00:00.000Z';
const LEASE_MS = 960_000;

describe('firing a schedule: the rules', () => {
  const harness = useCaseHarness();
  let n = 0;

  interface Fleet {
    h: Harness;
    deps: Dependencies;
    events: RecordingEvents;
    runWork: RecordingRunWork;
    schedule: Schedule;
    tenantId: string;
    online: string;
    offline: string;
  }

  /** A tenant with the app deployed, an online and an offline computer, and a schedule over them that skips offline computers. */
  async function fleet(overrides: Record<string, unknown> = {}): Promise<Fleet> {
    const h = harness();
    const events = new RecordingEvents();
    const runWork = new RecordingRunWork();
    const deps: Dependencies = { ...h.deps, events, runWork };
    const tenantId = `fs${String(++n)}${Date.now().toString(36)}`;
    await h.catalog.putTenant(tenant(tenantId, { defaultTimeZone: 'Europe/Lisbon' }));
    await h.catalog.putDeployment(deploySoftware(`${tenantId}-app`, 'app', { target: { kind: 'Tenant', tenantId, includeChildTenants: false } }));
    const [online, offline] = [`${tenantId}-on`, `${tenantId}-off`];
    await h.catalog.putComputer(computer(online, { tenantId }));
    await h.catalog.putComputer(computer(offline, { tenantId, online: false }));
    const input = scheduleInputSchema.parse({
      name: 'Tuesday nights',
      tenantId,
      target: { kind: 'AllComputers' },
      recurrence: { kind: 'Weekly', days: ['TUE'] },
      detectionTime: '14:00',
      maintenanceTime: '22:00',
      offline: { behaviour: 'Skip' },
      ...overrides,
    });
    const { schedule } = await createSchedule(deps, { input, scheduleId: `${tenantId}-s`, by: ALICE });
    return { h, deps, events, runWork, schedule, tenantId, online, offline };
  }

  const runIdOf = (schedule: Schedule, at: string): string => derivedId('run', [schedule.id, at]);
  const eventsNamed = (events: RecordingEvents, name: string) => events.published.filter((event) => event.detail.event === name);

  it('records the run once with the schedule as it is, writes a target per computer, and starts the run, told and logged once', async () => {
    const { h, deps, events, schedule, tenantId, online, offline } = await fleet();
    const created = vi.spyOn(deps.schedules, 'createRun');
    const put = vi.spyOn(deps.schedules, 'putRunTarget');
    const settle = vi.spyOn(deps.schedules, 'settleRunTarget');
    const result = await fireSchedule(deps, { scheduleId: schedule.id, scheduledTime: FIRE, trigger: 'Schedule', by: SCHEDULER });
    if (!result.fired) throw new Error('expected the schedule to fire');
    expect(result.created).toBe(true);
    expect(result).not.toHaveProperty('inProgress');
    const now = h.clock.now();
    expect(created.mock.calls[0]?.[0]).toStrictEqual({
      id: runIdOf(schedule, FIRE),
      scheduleId: schedule.id,
      scheduleName: 'Tuesday nights',
      scheduleVersion: 1,
      owner: { tenantId },
      scheduledTime: FIRE,
      trigger: 'Schedule',
      by: SCHEDULER,
      status: 'Starting',
      version: 1,
      fanOutLeaseUntil: new Date(now.getTime() + LEASE_MS).toISOString(),
      rollout: schedule.rollout,
      sessionBasis: sessionOptionsFor(schedule, undefined),
      currentRing: 0,
      failuresAccepted: 0,
      outcome: EMPTY_OUTCOME,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      targeted: 0,
      started: 0,
      skipped: {},
    });
    expect(result.run).toMatchObject({ status: 'Running', targeted: 2, started: 1, skipped: { Offline: 1 } });
    expect(await deps.schedules.getRun(result.run.id)).not.toHaveProperty('fanOutLeaseUntil');

    const targets = new Map((await deps.schedules.listRunTargets(result.run.id)).map((target) => [target.computerId, target]));
    expect(targets.get(offline)).toMatchObject({ skipped: 'Offline', detail: `${offline} is offline, and this schedule skips offline computers`, ring: 0 });
    expect(targets.get(offline)).not.toHaveProperty('window');
    expect(targets.get(online)).toMatchObject({ ring: 0, window: { time: '22:00', zone: 'Europe/Lisbon' } });
    expect(targets.get(online)?.sessionId).toBeDefined();
    // only the skipped computer is settled without a session (the started one is settled with its session); a skipped one is written without a window
    expect(settle.mock.calls.filter(([, , outcome]) => outcome.sessionId === undefined).map(([, computerId]) => computerId)).toEqual([offline]);
    expect(put.mock.calls.find(([target]) => target.computerId === offline)?.[0]).not.toHaveProperty('window');
    // each write bumps the version: created, taken for the fan-out, Running, its first rollout step
    expect(result.run.version).toBe(4);

    expect(eventsNamed(events, 'RunStarted')).toHaveLength(1);
    expect(eventsNamed(events, 'RunStarted')[0]?.detail).toMatchObject({ status: 'Running', targeted: 2 });
    expect(h.logged).toContainEqual({ level: 'info', message: 'schedule run started', fields: { scheduleId: schedule.id, runId: result.run.id, targeted: 2, started: 1 } });

    // the same fire again, its instant written another way: the same run, found by one read, nothing new
    created.mockClear();
    const again = await fireSchedule(deps, { scheduleId: schedule.id, scheduledTime: '2026-11-24T14:00:00Z', trigger: 'Schedule', by: SCHEDULER });
    expect(again).toEqual({ fired: true, run: await deps.schedules.getRun(result.run.id), created: false });
    expect(eventsNamed(events, 'RunStarted')).toHaveLength(1);
    expect(created).not.toHaveBeenCalled();
  });

  it('answers a delivery that finds the run past Starting only when it records it (its first read missed it) as the run it found', async () => {
    const { deps, schedule } = await fleet();
    const first = await fireSchedule(deps, { scheduleId: schedule.id, scheduledTime: FIRE, trigger: 'Schedule', by: SCHEDULER });
    if (!first.fired) throw new Error('expected the schedule to fire');
    vi.spyOn(deps.schedules, 'getRun').mockResolvedValueOnce(undefined);
    const lease = vi.spyOn(deps.schedules, 'takeRunLease');
    const late = await fireSchedule(deps, { scheduleId: schedule.id, scheduledTime: FIRE, trigger: 'Schedule', by: SCHEDULER });
    expect(late).toEqual({ fired: true, run: await deps.schedules.getRun(first.run.id), created: false });
    expect(lease).not.toHaveBeenCalled();
  });

  it('counts a run started only when it is created', async () => {
    const { deps, schedule } = await fleet();
    const count = vi.spyOn(deps.metrics, 'count');
    await fireSchedule(deps, { scheduleId: schedule.id, scheduledTime: FIRE, trigger: 'Schedule', by: SCHEDULER });
    await fireSchedule(deps, { scheduleId: schedule.id, scheduledTime: FIRE, trigger: 'Schedule', by: SCHEDULER });
    expect(count.mock.calls.filter(([name]) => name === 'ScheduleRunsStarted')).toHaveLength(1);
  });

  it('does nothing for a schedule that is gone, or disabled when Scheduler fires it, saying which; a run-now of a disabled one fires', async () => {
    const { h, deps, schedule } = await fleet({ enabled: false });
    expect(await fireSchedule(deps, { scheduleId: 'gone', scheduledTime: FIRE, trigger: 'Schedule', by: SCHEDULER })).toEqual({ fired: false, reason: 'ScheduleNotFound' });
    expect(h.logged).toContainEqual({ level: 'warn', message: 'schedule fired but no longer exists', fields: { scheduleId: 'gone' } });
    expect(await fireSchedule(deps, { scheduleId: schedule.id, scheduledTime: FIRE, trigger: 'Schedule', by: SCHEDULER })).toEqual({ fired: false, reason: 'ScheduleDisabled' });
    expect(h.logged).toContainEqual({ level: 'info', message: 'schedule fired while disabled; nothing started', fields: { scheduleId: schedule.id } });
    expect(await deps.schedules.getRun(runIdOf(schedule, FIRE))).toBeUndefined();
    const runNow = await fireSchedule(deps, { scheduleId: schedule.id, scheduledTime: FIRE, trigger: 'RunNow', by: ALICE });
    expect(runNow).toMatchObject({ fired: true, created: true, run: { trigger: 'RunNow', by: ALICE } });
  });

  it('refuses a fire time that is not an instant, by field', async () => {
    const { deps, schedule } = await fleet();
    const error = await fireSchedule(deps, { scheduleId: schedule.id, scheduledTime: 'Tuesday', trigger: 'Schedule', by: SCHEDULER }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error instanceof ValidationError ? error.entity : '').toBe('schedule fire');
    expect(error instanceof ValidationError ? error.problems : []).toEqual([{ field: 'scheduledTime', problem: 'must be an ISO 8601 instant' }]);
  });

  it('leaves a run another delivery is fanning out to it while its lease runs, and takes it over, saying so, once the lease has lapsed', async () => {
    const { h, deps, schedule } = await fleet();
    const id = runIdOf(schedule, FIRE);
    const leaseUntil = new Date(h.clock.now().getTime() + 100_000).toISOString();
    const starting = await startingRun(deps, schedule, id, { fanOutLeaseUntil: leaseUntil });
    expect(await fireSchedule(deps, { scheduleId: schedule.id, scheduledTime: FIRE, trigger: 'Schedule', by: SCHEDULER })).toEqual({ fired: true, run: starting, created: false, inProgress: true });
    expect(await deps.schedules.listRunTargets(id)).toEqual([]);
    h.clock.advance(99_999);
    expect(await fireSchedule(deps, { scheduleId: schedule.id, scheduledTime: FIRE, trigger: 'Schedule', by: SCHEDULER })).toMatchObject({ inProgress: true });
    // a lease ending at this very moment has lapsed
    h.clock.advance(1);
    const taken = await fireSchedule(deps, { scheduleId: schedule.id, scheduledTime: FIRE, trigger: 'Schedule', by: SCHEDULER });
    expect(taken).toMatchObject({ fired: true, created: false, run: { status: 'Running', targeted: 2 } });
    expect(taken).not.toHaveProperty('inProgress');
    expect(h.logged).toContainEqual({ level: 'warn', message: 'schedule run taken over from a delivery that stopped', fields: { scheduleId: schedule.id, runId: id } });
  });

  it('takes a starting run that never had a lease without calling it a takeover', async () => {
    const { h, deps, schedule } = await fleet();
    const id = runIdOf(schedule, FIRE);
    await startingRun(deps, schedule, id);
    const taken = await fireSchedule(deps, { scheduleId: schedule.id, scheduledTime: FIRE, trigger: 'Schedule', by: SCHEDULER });
    expect(taken).toMatchObject({ fired: true, created: false, run: { status: 'Running' } });
    expect(h.logged.filter((line) => line.level === 'warn')).toEqual([]);
  });

  it('does not settle again a target an earlier delivery settled', async () => {
    const { deps, schedule, offline, tenantId } = await fleet();
    const id = runIdOf(schedule, FIRE);
    await startingRun(deps, schedule, id);
    await deps.schedules.putRunTarget({ runId: id, computerId: offline, computerName: offline, tenantId, ring: 0 });
    await deps.schedules.settleRunTarget(id, offline, { skipped: 'Offline', detail: 'settled before' });
    const settle = vi.spyOn(deps.schedules, 'settleRunTarget');
    await fireSchedule(deps, { scheduleId: schedule.id, scheduledTime: FIRE, trigger: 'Schedule', by: SCHEDULER });
    expect(settle.mock.calls.filter(([, computerId]) => computerId === offline)).toEqual([]);
    expect((await deps.schedules.listRunTargets(id)).find((target) => target.computerId === offline)?.detail).toBe('settled before');
  });

  it('names the computers a schedule lists that are gone, and targets the rest', async () => {
    const { h, deps, schedule, online } = await fleet();
    const listed: Schedule = { ...schedule, target: { kind: 'Computers', computerIds: [online, 'ghost-pc'] }, version: 2 };
    await deps.schedules.replaceSchedule(listed, 1);
    const result = await fireSchedule(deps, { scheduleId: schedule.id, scheduledTime: FIRE, trigger: 'Schedule', by: SCHEDULER });
    expect(result).toMatchObject({ fired: true, run: { targeted: 1 } });
    expect(h.logged).toContainEqual({ level: 'warn', message: 'schedule names a computer that is gone or outside its tenants', fields: { scheduleId: schedule.id, computerId: 'ghost-pc' } });
  });

  it('writes a target for every computer of a fleet larger than one batch of writes, each once', async () => {
    const { h, deps, schedule, tenantId } = await fleet();
    // offline, so the fire skips them all and starts no session
    for (let index = 0; index < 40; index++) await h.catalog.putComputer(computer(`${tenantId}-more-${String(index)}`, { tenantId, online: false }));
    const result = await fireSchedule(deps, { scheduleId: schedule.id, scheduledTime: FIRE, trigger: 'Schedule', by: SCHEDULER });
    expect(result).toMatchObject({ fired: true, run: { targeted: 42, skipped: { Offline: 41 } } });
  });

  it('writes a target that starts with no window to wait for (maintenance right after detection) without one', async () => {
    const { deps, schedule, online } = await fleet({ maintenanceTime: undefined, executeImmediatelyAfterDetection: true });
    const put = vi.spyOn(deps.schedules, 'putRunTarget');
    await fireSchedule(deps, { scheduleId: schedule.id, scheduledTime: FIRE, trigger: 'Schedule', by: SCHEDULER });
    expect(put.mock.calls.find(([target]) => target.computerId === online)?.[0]).not.toHaveProperty('window');
  });

  it('puts each computer in its rollout ring', async () => {
    const { deps, schedule, online, offline } = await fleet({ rollout: { rings: [{ name: 'pilot', percent: 50 }, { name: 'rest', percent: 100 }] } });
    const result = await fireSchedule(deps, { scheduleId: schedule.id, scheduledTime: FIRE, trigger: 'Schedule', by: SCHEDULER });
    if (!result.fired) throw new Error('expected the schedule to fire');
    const rings = (await deps.schedules.listRunTargets(result.run.id)).map((target) => [target.computerId, target.ring]);
    expect(rings.map(([, ring]) => ring).sort()).toEqual([0, 1]);
    expect(rings.map(([computerId]) => computerId).sort()).toEqual([offline, online].sort());
  });

  it('goes on when another step recorded the run first (a conflict), without telling of its start again; any other failure is thrown', async () => {
    const { deps, events, schedule } = await fleet();
    vi.spyOn(deps.schedules, 'updateRun').mockRejectedValueOnce(new ConflictError('changed meanwhile'));
    const result = await fireSchedule(deps, { scheduleId: schedule.id, scheduledTime: FIRE, trigger: 'Schedule', by: SCHEDULER });
    expect(result.fired).toBe(true);
    expect(eventsNamed(events, 'RunStarted')).toEqual([]);

    const other = await fleet();
    vi.spyOn(other.deps.schedules, 'updateRun').mockRejectedValueOnce(new Error('table gone'));
    await expect(fireSchedule(other.deps, { scheduleId: other.schedule.id, scheduledTime: FIRE, trigger: 'Schedule', by: SCHEDULER })).rejects.toThrow('table gone');
  });

  describe('a run-now', () => {
    it('refuses a schedule that does not exist', async () => {
      const { deps } = await fleet();
      await expect(requestRunNow(deps, { scheduleId: 'gone', by: ALICE })).rejects.toThrow(new NotFoundError('schedule', 'gone'));
    });

    it('records a starting run with no lease under the time asked, audits its start once, and hands it to the worker while it is starting', async () => {
      const { h, deps, runWork, schedule, tenantId } = await fleet({ enabled: false });
      const askedAt = h.clock.now().toISOString();
      const { run, created } = await requestRunNow(deps, { scheduleId: schedule.id, by: ALICE });
      expect(created).toBe(true);
      expect(run).toMatchObject({ id: runIdOf(schedule, askedAt), scheduledTime: askedAt, trigger: 'RunNow', by: ALICE, status: 'Starting' });
      expect(run).not.toHaveProperty('fanOutLeaseUntil');
      expect(runWork.requested).toEqual([run.id]);
      const history = await deps.audit.list('Run', run.id);
      expect(history).toHaveLength(1);
      expect(history[0]).toMatchObject({
        resource: 'Run',
        resourceId: run.id,
        tenantId,
        version: 1,
        at: askedAt,
        by: ALICE,
        action: 'Started',
        changes: [
          { field: 'status', after: 'Starting' },
          { field: 'scheduleId', after: schedule.id },
        ],
      });
    });

    it('keys the run by the caller’s id: asked again it finds the run, audits nothing more, and asks the worker again only while it is starting', async () => {
      const { deps, runWork, schedule } = await fleet();
      const count = vi.spyOn(deps.metrics, 'count');
      const first = await requestRunNow(deps, { scheduleId: schedule.id, by: ALICE, runId: 'run-key-1' });
      expect(first.run.id).toBe('run-key-1');
      const again = await requestRunNow(deps, { scheduleId: schedule.id, by: ALICE, runId: 'run-key-1' });
      expect(again.created).toBe(false);
      expect(runWork.requested).toEqual(['run-key-1', 'run-key-1']);
      await fanOutStartingRun(deps, again.run);
      expect((await requestRunNow(deps, { scheduleId: schedule.id, by: ALICE, runId: 'run-key-1' })).run.status).toBe('Running');
      expect(runWork.requested).toEqual(['run-key-1', 'run-key-1']);
      expect(await deps.audit.list('Run', 'run-key-1')).toHaveLength(1);
      expect(count.mock.calls.filter(([name]) => name === 'ScheduleRunsStarted')).toHaveLength(1);
    });

    it('records no tenant on the run or its audit entry for a schedule over every tenant', async () => {
      const { deps, schedule } = await fleet();
      const { tenantId: _tenant, ...fleetWide } = schedule;
      await deps.schedules.replaceSchedule({ ...fleetWide, version: 2 }, 1);
      const created = vi.spyOn(deps.schedules, 'createRun');
      const record = vi.spyOn(deps.audit, 'record');
      await requestRunNow(deps, { scheduleId: schedule.id, by: ALICE, runId: `${schedule.id}-fleet` });
      expect(created.mock.calls[0]?.[0].owner).toStrictEqual({});
      expect(record.mock.calls[0]?.[0]).not.toHaveProperty('tenantId');
    });
  });

  describe('the worker’s fan-out of a starting run', () => {
    it('cancels a run whose schedule was deleted, saying why, and tells of it', async () => {
      const { h, deps, events, schedule } = await fleet();
      const run = await startingRun(deps, { ...schedule, id: `${schedule.id}-deleted` }, `${schedule.id}-orphan`, { fanOutLeaseUntil: '2026-11-23T09:05:00.000Z' });
      h.clock.advance(5_000);
      const cancelled = await fanOutStartingRun(deps, run);
      const { fanOutLeaseUntil: _lease, ...rest } = run;
      expect(cancelled).toStrictEqual({
        ...rest,
        status: 'Cancelled',
        haltReason: 'its schedule was deleted before its fan-out finished',
        haltCause: 'ScheduleDeleted',
        version: 2,
        updatedAt: h.clock.now().toISOString(),
      });
      expect(await deps.schedules.getRun(run.id)).toEqual(cancelled);
      expect(eventsNamed(events, 'RunCancelled').map((event) => event.detail)).toEqual([expect.objectContaining({ runId: run.id, reason: cancelled.haltReason, at: cancelled.updatedAt })]);
    });

    it('leaves a run a live holder is fanning out as it is, and fans out one whose holder’s lease lapsed, taking a fresh lease', async () => {
      const { h, deps, schedule } = await fleet();
      const leaseUntil = new Date(h.clock.now().getTime() + 60_000).toISOString();
      const run = await startingRun(deps, schedule, `${schedule.id}-worker`, { fanOutLeaseUntil: leaseUntil });
      expect(await fanOutStartingRun(deps, run)).toBe(run);
      h.clock.advance(60_001);
      const take = vi.spyOn(deps.schedules, 'takeRunLease');
      expect(await fanOutStartingRun(deps, run)).toMatchObject({ status: 'Running', targeted: 2 });
      expect(take.mock.calls[0]).toEqual([run.id, leaseUntil, new Date(h.clock.now().getTime() + LEASE_MS).toISOString()]);
    });
  });

  /** A run recorded as a delivery that stopped before its fan-out would leave it. */
  async function startingRun(deps: Dependencies, schedule: Schedule, id: string, overrides: Partial<ScheduleRun> = {}): Promise<ScheduleRun> {
    const now = deps.clock.now().toISOString();
    const run = runRecord(id, now, {
      scheduleId: schedule.id,
      scheduleName: schedule.name,
      scheduleVersion: schedule.version,
      owner: schedule.tenantId === undefined ? {} : { tenantId: schedule.tenantId },
      scheduledTime: FIRE,
      by: SCHEDULER,
      status: 'Starting',
      rollout: schedule.rollout,
      sessionBasis: sessionOptionsFor(schedule, undefined),
      ...overrides,
    });
    await deps.schedules.createRun(run);
    return run;
  }
});
