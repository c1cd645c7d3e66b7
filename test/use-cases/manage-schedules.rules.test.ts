import { describe, expect, it, vi } from 'vitest';
import { ConflictError, NotFoundError, ValidationError } from '../../functions/core/errors.js';
import type { Schedule } from '../../functions/core/model/schedule.js';
import type { Requester } from '../../functions/core/model/session.js';
import type { HeldScheduleTrigger } from '../../functions/core/ports/schedule-trigger.port.js';
import type { Dependencies } from '../../functions/core/use-cases/dependencies.js';
import {
  createSchedule,
  deleteSchedule,
  duplicateSchedule,
  reconcileScheduleTriggers,
  setScheduleEnabled,
  triggerSpecOf,
  updateSchedule,
} from '../../functions/core/use-cases/manage-schedules.js';
import { computer, tenant } from '../support/domain.js';
import { InMemoryScheduleTriggers, scheduleInput as input } from '../support/schedules.js';
import { useCaseHarness, type Harness } from './harness.js';

/**
 * The rules of changing a schedule (dynalite, triggers in memory): what is
 * checked in the catalog and how each problem is named, the trigger a
 * schedule stands for, the bookkeeping and audit entry of each change, what
 * a retried or empty change does, and the reconcile sweep's report, logs and
 * metric.
 */

const ALICE: Requester = { kind: 'Operator', name: 'alice@msp.example' };
const BOB: Requester = { kind: 'Operator', name: 'bob@msp.example' };

interface Setup {
  h: Harness;
  deps: Dependencies;
  triggers: InMemoryScheduleTriggers;
  tenantId: string;
}

describe('changing schedules: the rules', () => {
  const harness = useCaseHarness();
  let n = 0;
  async function setup(): Promise<Setup> {
    const h = harness();
    const triggers = new InMemoryScheduleTriggers();
    const tenantId = `ms${String(++n)}${Date.now().toString(36)}`;
    // generated ids of their own: every test's schedules share the file's table
    let made = 0;
    const ids = { next: (prefix: string) => `${prefix}_${tenantId}_${String(++made)}`, derive: (prefix: string, parts: readonly string[]) => h.deps.ids.derive(prefix, parts) };
    const deps: Dependencies = { ...h.deps, scheduleTriggers: triggers, ids };
    await h.catalog.putTenant(tenant(tenantId, { defaultTimeZone: 'Europe/Lisbon' }));
    return { h, deps, triggers, tenantId };
  }
  /** The problems of a refused schedule; anything else is not a refusal of a schedule. */
  const problemsOf = (error: unknown) => (error instanceof ValidationError && error.entity === 'schedule' ? error.problems : ['not a refused schedule']);

  describe('references', () => {
    it('names each computer that does not exist by its place in the list, and each missing item by kind', async () => {
      const { h, deps, tenantId } = await setup();
      await h.catalog.putComputer(computer(`${tenantId}-pc`, { tenantId }));
      const computers = await createSchedule(deps, { input: input({ tenantId, target: { kind: 'Computers', computerIds: [`${tenantId}-pc`, 'ghost'] } }), by: ALICE }).catch((e: unknown) => e);
      expect(problemsOf(computers)).toEqual([{ field: 'target.computerIds.1', problem: 'no computer ghost' }]);
      const task = await createSchedule(deps, { input: input({ tenantId, limitTo: 'task:nope' }), by: ALICE }).catch((e: unknown) => e);
      expect(problemsOf(task)).toEqual([{ field: 'limitTo', problem: 'no task nope in the catalog' }]);
      const software = await createSchedule(deps, { input: input({ tenantId, limitTo: 'software:nope' }), by: ALICE }).catch((e: unknown) => e);
      expect(problemsOf(software)).toEqual([{ field: 'limitTo', problem: 'no software nope in the catalog' }]);
      const tenantMissing = await createSchedule(deps, { input: input({ tenantId: 'no-such-tenant' }), by: ALICE }).catch((e: unknown) => e);
      expect(problemsOf(tenantMissing)).toEqual([{ field: 'tenantId', problem: 'no tenant no-such-tenant' }]);
    });

    it('takes a schedule whose tenant, computers and item all exist, checking an update as a create', async () => {
      const { h, deps, tenantId } = await setup();
      await h.catalog.putComputer(computer(`${tenantId}-pc`, { tenantId }));
      const good = input({ tenantId, target: { kind: 'Computers', computerIds: [`${tenantId}-pc`] }, limitTo: 'task:audit' });
      const { schedule } = await createSchedule(deps, { input: good, by: ALICE });
      expect((await createSchedule(deps, { input: input({ limitTo: 'software:app' }), by: ALICE })).schedule.limitTo).toBe('software:app');
      const refused = await updateSchedule(deps, { scheduleId: schedule.id, expectedVersion: 1, input: input({ tenantId, limitTo: 'task:nope' }), by: ALICE }).catch((e: unknown) => e);
      expect(problemsOf(refused)).toEqual([{ field: 'limitTo', problem: 'no task nope in the catalog' }]);
    });
  });

  describe('the trigger a schedule stands for', () => {
    const stored = (overrides: Partial<Schedule> = {}): Schedule => ({
      ...input(),
      id: 'sch-x',
      version: 1,
      createdAt: '2026-11-23T09:00:00.000Z',
      createdBy: ALICE,
      updatedAt: '2026-11-23T09:00:00.000Z',
      updatedBy: ALICE,
      ...overrides,
    });

    it('is its recurrence as EventBridge writes it, in its own zone, else its tenant’s, else UTC, enabled as it is, with its flexible window', () => {
      expect(triggerSpecOf(stored({ flexibleWindowMinutes: 15, enabled: false }), { defaultTimeZone: 'Europe/Lisbon' })).toStrictEqual({
        scheduleId: 'sch-x',
        expression: 'cron(0 14 ? * TUE *)',
        timeZone: 'Europe/Lisbon',
        enabled: false,
        flexibleWindowMinutes: 15,
      });
      expect(triggerSpecOf(stored({ timeZone: 'Asia/Tokyo' }), { defaultTimeZone: 'Europe/Lisbon' }).timeZone).toBe('Asia/Tokyo');
      expect(triggerSpecOf(stored(), undefined).timeZone).toBe('UTC');
    });

    it('refuses a stored schedule with no time to fire at', () => {
      const { detectionTime: _time, ...timeless } = stored();
      expect(() => triggerSpecOf(timeless, undefined)).toThrow(ValidationError);
      try {
        triggerSpecOf(timeless, undefined);
      } catch (error) {
        expect(problemsOf(error)).toEqual([{ field: 'recurrence', problem: 'has no time to fire at' }]);
      }
    });
  });

  describe('creating', () => {
    it('gives a schedule without a chosen id a generated one, without looking for an earlier history, and audits and logs it', async () => {
      const { h, deps, tenantId } = await setup();
      const history = vi.spyOn(deps.audit, 'list');
      const { schedule } = await createSchedule(deps, { input: input({ tenantId }), by: ALICE });
      expect(schedule.id).toBe(`sch_${tenantId}_1`);
      expect(history).not.toHaveBeenCalled();
      const [entry] = await deps.audit.list('Schedule', schedule.id);
      expect(entry).toMatchObject({ resource: 'Schedule', resourceId: schedule.id, tenantId, version: 1, at: h.clock.now().toISOString(), by: ALICE, action: 'Created' });
      const fields = entry?.changes.map((change) => change.field) ?? [];
      expect(fields).toContain('name');
      // bookkeeping is no change anyone made
      for (const bookkeeping of ['version', 'createdAt', 'createdBy', 'updatedAt', 'updatedBy']) expect(fields).not.toContain(bookkeeping);
      expect(h.logged).toContainEqual({ level: 'info', message: 'schedule created', fields: { scheduleId: schedule.id } });
    });

    it('looks for an earlier history of a chosen id by its latest entry only', async () => {
      const { deps, tenantId } = await setup();
      const history = vi.spyOn(deps.audit, 'list');
      await createSchedule(deps, { input: input({ tenantId }), scheduleId: `${tenantId}-chosen`, by: ALICE });
      expect(history.mock.calls).toEqual([['Schedule', `${tenantId}-chosen`, { latest: 1 }]]);
    });

    it('records no tenant on the audit entry of a schedule over every tenant, and reads none', async () => {
      const { deps } = await setup();
      const record = vi.spyOn(deps.audit, 'record');
      const tenants = vi.spyOn(deps.catalog, 'getTenant');
      await createSchedule(deps, { input: input(), by: ALICE });
      expect(record.mock.calls[0]?.[0]).not.toHaveProperty('tenantId');
      expect(tenants).not.toHaveBeenCalled();
    });

    it('refuses a chosen id that was used before, whose history is kept', async () => {
      const { deps, tenantId } = await setup();
      const { schedule } = await createSchedule(deps, { input: input({ tenantId }), scheduleId: `${tenantId}-reused`, by: ALICE });
      await deleteSchedule(deps, { scheduleId: schedule.id, expectedVersion: 1, by: ALICE });
      await expect(createSchedule(deps, { input: input({ tenantId }), scheduleId: schedule.id, by: BOB })).rejects.toThrow(
        new ConflictError(`schedule id ${schedule.id} was used before (its history is kept); choose another id`),
      );
      expect(await deps.schedules.getSchedule(schedule.id)).toBeUndefined();
    });

    it('refuses to change, copy or delete a schedule that does not exist', async () => {
      const { deps } = await setup();
      const missing = new NotFoundError('schedule', 'no-such-schedule');
      await expect(updateSchedule(deps, { scheduleId: 'no-such-schedule', expectedVersion: 1, input: input(), by: ALICE })).rejects.toThrow(missing);
      await expect(duplicateSchedule(deps, { scheduleId: 'no-such-schedule', by: ALICE })).rejects.toThrow(missing);
      await expect(deleteSchedule(deps, { scheduleId: 'no-such-schedule', expectedVersion: 1, by: ALICE })).rejects.toThrow(missing);
    });

    it('says which trigger it could not write and why, an error that is not an Error by its text', async () => {
      const { h, deps, triggers, tenantId } = await setup();
      triggers.put = vi.fn<InMemoryScheduleTriggers['put']>().mockRejectedValue('scheduler down');
      const { schedule, triggerInSync } = await createSchedule(deps, { input: input({ tenantId }), by: ALICE });
      expect(triggerInSync).toBe(false);
      expect(h.logged).toContainEqual({ level: 'warn', message: 'schedule trigger not updated; the reconcile sweep will', fields: { scheduleId: schedule.id, error: 'scheduler down' } });
    });
  });

  describe('changing', () => {
    it('writes the next version with the creator kept and the editor and time recorded, audits before and after, logs it and moves the trigger', async () => {
      const { h, deps, triggers, tenantId } = await setup();
      const { schedule } = await createSchedule(deps, { input: input({ tenantId }), scheduleId: `${tenantId}-s`, by: ALICE });
      h.clock.advance(60_000);
      const { schedule: next, triggerInSync } = await updateSchedule(deps, { scheduleId: schedule.id, expectedVersion: 1, input: input({ tenantId, name: 'Renamed' }), by: BOB });
      expect(triggerInSync).toBe(true);
      expect(next).toStrictEqual({ ...input({ tenantId, name: 'Renamed' }), id: schedule.id, version: 2, createdAt: schedule.createdAt, createdBy: ALICE, updatedAt: h.clock.now().toISOString(), updatedBy: BOB });
      expect(await deps.schedules.getSchedule(schedule.id)).toEqual(next);
      const entries = await deps.audit.list('Schedule', schedule.id);
      expect(entries[1]).toMatchObject({ version: 2, action: 'Updated', by: BOB, at: h.clock.now().toISOString(), tenantId, changes: [{ field: 'name', before: 'Tuesday nights', after: 'Renamed' }] });
      expect(h.logged).toContainEqual({ level: 'info', message: 'schedule changed', fields: { scheduleId: schedule.id, action: 'Updated', version: 2 } });
      expect(triggers.triggers.get(schedule.id)?.timeZone).toBe('Europe/Lisbon');
    });

    it('moves the trigger of a schedule over every tenant in UTC', async () => {
      const { deps, triggers } = await setup();
      const { schedule } = await createSchedule(deps, { input: input(), by: ALICE });
      const tenants = vi.spyOn(deps.catalog, 'getTenant');
      await updateSchedule(deps, { scheduleId: schedule.id, expectedVersion: 1, input: input({ detectionTime: '13:00' }), by: ALICE });
      expect(tenants).not.toHaveBeenCalled();
      expect(triggers.triggers.get(schedule.id)).toMatchObject({ expression: 'cron(0 13 ? * TUE *)', timeZone: 'UTC' });
    });

    it('writes nothing for a change to what is already there', async () => {
      const { deps, triggers, tenantId } = await setup();
      const { schedule } = await createSchedule(deps, { input: input({ tenantId }), by: ALICE });
      const puts = triggers.calls.length;
      expect(await updateSchedule(deps, { scheduleId: schedule.id, expectedVersion: 1, input: input({ tenantId }), by: BOB })).toEqual({ schedule, triggerInSync: true });
      expect(await setScheduleEnabled(deps, { scheduleId: schedule.id, expectedVersion: 1, enabled: true, by: BOB })).toEqual({ schedule, triggerInSync: true });
      expect(await deps.audit.list('Schedule', schedule.id)).toHaveLength(1);
      expect(triggers.calls.length).toBe(puts);
    });

    it('answers a retried change found written as the first answer did, putting the trigger again, but only for the same content by the same person one version on', async () => {
      const { deps, triggers, tenantId } = await setup();
      const { schedule } = await createSchedule(deps, { input: input({ tenantId }), by: ALICE });
      const request = { scheduleId: schedule.id, expectedVersion: 1, input: input({ tenantId, name: 'Renamed' }), by: ALICE };
      const first = await updateSchedule(deps, request);
      triggers.triggers.delete(schedule.id);
      const record = vi.spyOn(deps.audit, 'record');
      expect(await updateSchedule(deps, request)).toEqual(first);
      // the entry it records again is the first one's, which the trail keeps once
      expect(record.mock.calls[0]?.[0]).toMatchObject({ resource: 'Schedule', resourceId: schedule.id, version: 2, action: 'Updated', at: first.schedule.updatedAt });
      expect(triggers.triggers.get(schedule.id)?.timeZone).toBe('Europe/Lisbon');
      expect((await deps.audit.list('Schedule', schedule.id)).map((entry) => [entry.action, entry.version])).toEqual([
        ['Created', 1],
        ['Updated', 2],
      ]);
      const conflict = (attempt: Promise<unknown>) => expect(attempt).rejects.toThrow(new ConflictError(`schedule ${schedule.id} is at version 2, not 1: someone changed it; read it again`));
      await conflict(updateSchedule(deps, { ...request, by: BOB }));
      await conflict(updateSchedule(deps, { ...request, input: input({ tenantId, name: 'Other' }) }));
      await updateSchedule(deps, { ...request, expectedVersion: 2, input: input({ tenantId, name: 'Third' }) });
      await expect(updateSchedule(deps, { ...request, input: input({ tenantId, name: 'Third' }) })).rejects.toThrow(/is at version 3, not 1/);
    });

    it('disables and enables as its own audit actions', async () => {
      const { deps, triggers, tenantId } = await setup();
      const { schedule } = await createSchedule(deps, { input: input({ tenantId }), by: ALICE });
      const { schedule: disabled } = await setScheduleEnabled(deps, { scheduleId: schedule.id, expectedVersion: 1, enabled: false, by: BOB });
      expect(disabled).toMatchObject({ enabled: false, version: 2, name: 'Tuesday nights' });
      expect(triggers.triggers.get(schedule.id)?.enabled).toBe(false);
      await setScheduleEnabled(deps, { scheduleId: schedule.id, expectedVersion: 2, enabled: true, by: BOB });
      expect((await deps.audit.list('Schedule', schedule.id)).map((entry) => entry.action)).toEqual(['Created', 'Disabled', 'Enabled']);
    });

    it('copies a schedule disabled, under a generated id unless one is chosen, named as asked or as a copy cut to the longest name', async () => {
      const { deps, tenantId } = await setup();
      const { schedule } = await createSchedule(deps, { input: input({ tenantId, name: 'x'.repeat(255) }), by: ALICE });
      const { schedule: copy } = await duplicateSchedule(deps, { scheduleId: schedule.id, by: BOB });
      expect(copy.id).toBe(`sch_${tenantId}_2`);
      expect(copy.id).not.toBe(schedule.id);
      expect(copy.name).toBe(`${'x'.repeat(255)} (copy)`.slice(0, 255));
      expect(copy).toMatchObject({ enabled: false, createdBy: BOB, tenantId });
      const { schedule: named } = await duplicateSchedule(deps, { scheduleId: schedule.id, newScheduleId: `${tenantId}-named`, name: 'Named copy', by: BOB });
      expect(named).toMatchObject({ id: `${tenantId}-named`, name: 'Named copy' });
      const { schedule: short } = await createSchedule(deps, { input: input({ tenantId, name: 'Nights' }), by: ALICE });
      expect((await duplicateSchedule(deps, { scheduleId: short.id, by: BOB })).schedule.name).toBe('Nights (copy)');
    });

    it('deletes the trigger before the schedule, audits the deletion at the next version, and logs it', async () => {
      const { h, deps, triggers, tenantId } = await setup();
      const { schedule } = await createSchedule(deps, { input: input({ tenantId }), by: ALICE });
      await expect(deleteSchedule(deps, { scheduleId: schedule.id, expectedVersion: 2, by: BOB })).rejects.toThrow(
        new ConflictError(`schedule ${schedule.id} is at version 1, not 2: someone changed it; read it again`),
      );
      const order: string[] = [];
      const removeTrigger = vi.spyOn(triggers, 'delete').mockImplementation((id) => {
        order.push('trigger');
        triggers.triggers.delete(id);
        return Promise.resolve();
      });
      const removeSchedule = vi.spyOn(deps.schedules, 'deleteSchedule');
      removeSchedule.mockImplementationOnce(async (id, version) => {
        order.push('schedule');
        removeSchedule.mockRestore();
        await deps.schedules.deleteSchedule(id, version);
      });
      await deleteSchedule(deps, { scheduleId: schedule.id, expectedVersion: 1, by: BOB });
      expect(order).toEqual(['trigger', 'schedule']);
      expect(removeTrigger).toHaveBeenCalledWith(schedule.id);
      expect(await deps.schedules.getSchedule(schedule.id)).toBeUndefined();
      expect((await deps.audit.list('Schedule', schedule.id)).at(-1)).toMatchObject({ action: 'Deleted', version: 2, by: BOB, tenantId, at: h.clock.now().toISOString() });
      expect(h.logged).toContainEqual({ level: 'info', message: 'schedule deleted', fields: { scheduleId: schedule.id } });
    });
  });
});

describe('the reconcile sweep: the rules', () => {
  const harness = useCaseHarness();

  it('repairs a trigger differing in each part of its spec or its delivery, naming each part once, in the tenant’s zone; counts and logs every drift fixed', async () => {
    const h = harness();
    const triggers = new InMemoryScheduleTriggers();
    const deps: Dependencies = { ...h.deps, scheduleTriggers: triggers };
    await h.catalog.putTenant(tenant('recon-t', { defaultTimeZone: 'Europe/Lisbon' }));
    const count = vi.spyOn(deps.metrics, 'count');
    const { schedule } = await createSchedule(deps, { input: input({ tenantId: 'recon-t', flexibleWindowMinutes: 10 }), scheduleId: 'recon-a', by: ALICE });
    const { schedule: global } = await createSchedule(deps, { input: input(), scheduleId: 'recon-b', by: ALICE });
    expect(await reconcileScheduleTriggers(deps)).toEqual([]);
    expect(count.mock.calls.filter(([name]) => name === 'ScheduleTriggerDrift')).toEqual([]);

    const wanted = triggers.triggers.get(schedule.id);
    if (!wanted) throw new Error('expected the trigger to be written');
    const held: HeldScheduleTrigger[] = [
      { ...wanted, expression: 'cron(0 3 * * ? *)', timeZone: 'UTC', enabled: false, flexibleWindowMinutes: 0, deliveryDrift: ['target', 'role', 'target'] },
      { scheduleId: global.id, expression: 'cron(0 14 ? * TUE *)', timeZone: 'UTC', enabled: true, flexibleWindowMinutes: 0, deliveryDrift: [] },
    ];
    const list = triggers.list.bind(triggers);
    triggers.list = () => list().then(() => held);
    const drifts = await reconcileScheduleTriggers(deps);
    expect(drifts).toEqual([{ scheduleId: schedule.id, drift: 'Different', fields: ['expression', 'timeZone', 'enabled', 'flexibleWindowMinutes', 'target', 'role'] }]);
    expect(triggers.triggers.get(schedule.id)).toEqual({ ...wanted, timeZone: 'Europe/Lisbon' });
    expect(count).toHaveBeenCalledWith('ScheduleTriggerDrift', 1);
    expect(h.logged).toContainEqual({ level: 'warn', message: 'schedule trigger drift fixed', fields: { scheduleId: schedule.id, drift: 'Different', fields: drifts[0]?.fields } });
  });

  it('logs a drift it could not fix, with the error, and reports only those it fixed', async () => {
    const h = harness();
    const triggers = new InMemoryScheduleTriggers();
    const deps: Dependencies = { ...h.deps, scheduleTriggers: triggers };
    await reconcileScheduleTriggers(deps);
    triggers.triggers.set('recon-orphan-1', { scheduleId: 'recon-orphan-1', expression: 'cron(0 3 * * ? *)', timeZone: 'UTC', enabled: true, flexibleWindowMinutes: 0 });
    triggers.triggers.set('recon-orphan-2', { scheduleId: 'recon-orphan-2', expression: 'cron(0 3 * * ? *)', timeZone: 'UTC', enabled: true, flexibleWindowMinutes: 0 });
    const { schedule: untriggered } = await createSchedule(deps, { input: input(), scheduleId: 'recon-untriggered', by: ALICE });
    triggers.triggers.delete(untriggered.id);
    const remove = triggers.delete.bind(triggers);
    // refused with a bare string, not an Error: logged as its text
    const refuse = vi.fn<(id: string) => Promise<void>>().mockRejectedValue('refused');
    triggers.delete = (id) => (id === 'recon-orphan-1' ? refuse(id) : remove(id));
    expect(await reconcileScheduleTriggers(deps)).toEqual([
      { scheduleId: untriggered.id, drift: 'Missing' },
      { scheduleId: 'recon-orphan-2', drift: 'Orphaned' },
    ]);
    expect(triggers.triggers.get(untriggered.id)).toEqual(triggerSpecOf(untriggered, undefined));
    expect(h.logged).toContainEqual({ level: 'error', message: 'schedule trigger drift not fixed', fields: { scheduleId: 'recon-orphan-1', drift: 'Orphaned', error: 'refused' } });
    triggers.delete = () => Promise.reject(new Error('throttled'));
    await reconcileScheduleTriggers(deps);
    expect(h.logged).toContainEqual({ level: 'error', message: 'schedule trigger drift not fixed', fields: { scheduleId: 'recon-orphan-1', drift: 'Orphaned', error: 'throttled' } });
  });
});
