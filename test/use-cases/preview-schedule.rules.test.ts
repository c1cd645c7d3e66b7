import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../functions/core/errors.js';
import { createSchedule } from '../../functions/core/use-cases/manage-schedules.js';
import { previewSchedule } from '../../functions/core/use-cases/preview-schedule.js';
import { computer, deploySoftware, tenant } from '../support/domain.js';
import { scheduleInput as input } from '../support/schedules.js';
import { useCaseHarness } from './harness.js';

/**
 * A schedule's preview (dynalite): the zone its times are read in (its own,
 * else its tenant's, else UTC), the next fires (five unless asked), and for
 * each targeted computer exactly one of: when its window opens, why it would
 * be skipped, or nothing more when there is no window (detection runs the
 * maintenance at once) or no fire to open one after.
 */

describe('previewing a schedule', () => {
  const harness = useCaseHarness();
  let n = 0;
  /** A tenant in New York with the app deployed to it, an online and an offline computer; the clock on Monday 2026-11-23 09:00Z. */
  async function fleet() {
    const h = harness();
    const id = `p${String(++n)}${Date.now().toString(36)}`;
    await h.catalog.putTenant(tenant(id, { defaultTimeZone: 'America/New_York' }));
    await h.catalog.putDeployment(deploySoftware(`${id}-app`, 'app', { target: { kind: 'Tenant', tenantId: id, includeChildTenants: false } }));
    const online = computer(`${id}-on`, { tenantId: id, name: 'Front desk' });
    const offline = computer(`${id}-off`, { tenantId: id, online: false, name: 'Back office' });
    await h.catalog.putComputer(online);
    await h.catalog.putComputer(offline);
    return { h, tenantId: id, online, offline };
  }

  it('refuses a stored schedule that does not exist', async () => {
    const { h } = await fleet();
    await expect(previewSchedule(h.deps, { scheduleId: 'no-such-schedule' })).rejects.toThrow(new NotFoundError('schedule', 'no-such-schedule'));
  });

  it('reads a stored schedule in its tenant’s zone: five fires, a window after the first for the online computer, a reason for the offline one', async () => {
    const { h, tenantId, online, offline } = await fleet();
    const { schedule } = await createSchedule(h.deps, { input: input({ tenantId, offline: { behaviour: 'Skip' } }), scheduleId: `${tenantId}-s`, by: { kind: 'Operator', name: 'alice' } });
    const preview = await previewSchedule(h.deps, { scheduleId: schedule.id });
    expect(preview.timeZone).toBe('America/New_York');
    // 14:00 in New York, which is 19:00 UTC in winter
    expect(preview.nextFires).toEqual(['2026-11-24T19:00:00.000Z', '2026-12-01T19:00:00.000Z', '2026-12-08T19:00:00.000Z', '2026-12-15T19:00:00.000Z', '2026-12-22T19:00:00.000Z']);
    const byId = new Map(preview.targets.map((target) => [target.computerId, target]));
    expect(byId.get(online.id)).toStrictEqual({ computerId: online.id, computerName: 'Front desk', tenantId, timeZone: 'UTC', windowOpensAt: '2026-11-25T03:00:00.000Z' });
    expect(byId.get(offline.id)).toStrictEqual({
      computerId: offline.id,
      computerName: 'Back office',
      tenantId,
      timeZone: 'UTC',
      skipped: 'Offline',
      detail: 'Back office is offline, and this schedule skips offline computers',
    });
    expect(preview.targets).toHaveLength(2);
    expect(preview.unknownComputerIds).toEqual([]);
  });

  it('previews an unsaved schedule as given: its own zone over its tenant’s, the number of fires asked for, and the computers it names that are gone', async () => {
    const { h, tenantId, online } = await fleet();
    const preview = await previewSchedule(h.deps, {
      input: input({ tenantId, timeZone: 'Asia/Tokyo', target: { kind: 'Computers', computerIds: [online.id, 'ghost'] } }),
      fires: 2,
    });
    expect(preview.timeZone).toBe('Asia/Tokyo');
    expect(preview.nextFires).toEqual(['2026-11-24T05:00:00.000Z', '2026-12-01T05:00:00.000Z']);
    expect(preview.targets.map((target) => target.computerId)).toEqual([online.id]);
    expect(preview.unknownComputerIds).toEqual(['ghost']);
    expect(await h.deps.schedules.getSchedule(`${tenantId}-s`)).toBeUndefined();
  });

  it('reads a schedule with neither a zone nor a tenant in UTC', async () => {
    const { h, online } = await fleet();
    const preview = await previewSchedule(h.deps, { input: input({ target: { kind: 'Computers', computerIds: [online.id] } }), fires: 1 });
    expect(preview.timeZone).toBe('UTC');
    expect(preview.nextFires).toEqual(['2026-11-24T14:00:00.000Z']);
  });

  it('names only the computer where there is no fire to open a window after, skipped or not', async () => {
    const { h, tenantId, online, offline } = await fleet();
    const preview = await previewSchedule(h.deps, { input: input({ tenantId, offline: { behaviour: 'Skip' } }), fires: 0 });
    expect(preview.nextFires).toEqual([]);
    expect([...preview.targets].sort((a, b) => a.computerId.localeCompare(b.computerId))).toStrictEqual(
      [offline, online].map((c) => ({ computerId: c.id, computerName: c.name, tenantId, timeZone: 'UTC' })).sort((a, b) => a.computerId.localeCompare(b.computerId)),
    );
  });

  it('names only the computer that would start with no window to wait for (maintenance right after detection)', async () => {
    const { h, tenantId, online } = await fleet();
    const preview = await previewSchedule(h.deps, {
      input: input({ tenantId, maintenanceTime: undefined, executeImmediatelyAfterDetection: true, target: { kind: 'Computers', computerIds: [online.id] } }),
    });
    expect(preview.targets).toStrictEqual([{ computerId: online.id, computerName: 'Front desk', tenantId, timeZone: 'UTC' }]);
  });
});
