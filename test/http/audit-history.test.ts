import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../functions/core/model/audit.js';
import type { Schedule } from '../../functions/core/model/schedule.js';
import { apiHarness, type ApiHarness, type Caller } from './support.js';

/**
 * A resource's changes through the API, paged oldest first, and shown to
 * each tenant as they were its: a schedule that moved from acme to globex
 * shows acme's viewers the changes made while it was acme's, and globex's
 * viewers only those made since.
 */

let api: ApiHarness;
beforeAll(async () => {
  api = await apiHarness();
  const schedule = {
    name: 'Moves',
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
  // v1 and v2 in acme; v3 is the move (recorded as acme's: it was made to acme's schedule); v4 and v5 in globex
  const steps: readonly { name: string; tenantId: string; includeChildTenants: boolean }[] = [
    { name: 'Moves (renamed)', tenantId: 'acme', includeChildTenants: true },
    { name: 'Moves (renamed)', tenantId: 'globex', includeChildTenants: false },
    { name: 'Moves (globex)', tenantId: 'globex', includeChildTenants: false },
    { name: 'Moves (globex, again)', tenantId: 'globex', includeChildTenants: false },
  ];
  expect((await api.call('Admin', 'POST', '/v1/schedules', { scheduleId: 'moves', schedule })).status).toBe(201);
  for (const step of steps) {
    const stored = (await api.call('Admin', 'GET', '/v1/schedules/moves')).body as Schedule;
    expect((await api.call('Admin', 'PUT', '/v1/schedules/moves', { expectedVersion: stored.version, schedule: { ...schedule, ...step } })).status).toBe(200);
  }
});
afterAll(async () => {
  await api.close();
});

interface Page {
  readonly items: AuditEntry[];
  readonly nextCursor?: string;
}

/** Every page of `path` as `caller`, following the cursors: the versions of each page. */
async function walk(caller: Caller, path: string, limit: number): Promise<number[][]> {
  const pages: number[][] = [];
  let cursor: string | undefined;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const answer = await api.call(caller, 'GET', `${path}${separator}limit=${limit}${cursor === undefined ? '' : `&cursor=${cursor}`}`);
    expect(answer.status).toBe(200);
    const page = answer.body as Page;
    pages.push(page.items.map((entry) => entry.version));
    cursor = page.nextCursor;
  } while (cursor !== undefined && pages.length < 20);
  return pages;
}

const HISTORY = '/v1/schedules/moves/history';
const AUDIT = '/v1/audit?resource=Schedule&resourceId=moves';

describe("a schedule's history after it moved tenants", () => {
  it('shows the new tenant only the changes made since the move, the old tenant those from before, and the MSP every one (proves history is filtered by each entry\'s tenant)', async () => {
    const versions = async (caller: Caller, path: string) => ((await api.call(caller, 'GET', path)).body as Page).items.map((entry) => [entry.version, entry.tenantId]);
    expect(await versions('Admin', HISTORY)).toEqual([
      [1, 'acme'],
      [2, 'acme'],
      [3, 'acme'],
      [4, 'globex'],
      [5, 'globex'],
    ]);
    expect(await versions('ViewerGlobex', HISTORY)).toEqual([
      [4, 'globex'],
      [5, 'globex'],
    ]);
    // acme cannot see the schedule any more, but its own changes to it stay readable
    expect((await api.call('ViewerAcme', 'GET', '/v1/schedules/moves')).status).toBe(404);
    expect(await versions('ViewerAcme', HISTORY)).toEqual([
      [1, 'acme'],
      [2, 'acme'],
      [3, 'acme'],
    ]);
    // the per-resource audit listing answers the same
    expect(await versions('ViewerGlobex', AUDIT)).toEqual(await versions('ViewerGlobex', HISTORY));
    expect(await versions('ViewerAcme', AUDIT)).toEqual(await versions('ViewerAcme', HISTORY));
  });

  it('answers 404 to a viewer who sees neither the schedule nor any of its changes, as for a schedule that never was', async () => {
    // acme-east's viewer sees acme-east only: the schedule was acme's, then globex's
    for (const path of [HISTORY, AUDIT]) {
      expect(await api.call('ViewerEast', 'GET', path)).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    }
    expect(await api.call('ViewerEast', 'GET', '/v1/schedules/never-was/history')).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    // the MSP sees every tenant: a schedule with no changes has an empty history
    expect(await api.call('Admin', 'GET', '/v1/schedules/never-was/history')).toEqual({ status: 200, body: { items: [] } });
  });
});

describe('paging a resource\'s changes', () => {
  it('pages oldest first with cursors that add up to the whole history, the last page without one', async () => {
    expect(await walk('Admin', HISTORY, 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(await walk('Technician', AUDIT, 5)).toEqual([[1, 2, 3, 4, 5]]);
  });

  it("pages each tenant through its own changes: a page may be short, and one with none of the caller's is skipped, not answered empty", async () => {
    // pages of 2 are v1-v2, v3-v4 and v5, each narrowed to the caller's: globex's first is past v1-v2 (read and skipped), at v4 alone
    expect(await walk('ViewerGlobex', HISTORY, 2)).toEqual([[4], [5]]);
    expect(await walk('ViewerGlobex', HISTORY, 1)).toEqual([[4], [5]]);
    // acme's second page holds v3 only (v4 is globex's); its cursor leads past the rest to an empty last page, not a 404
    expect(await walk('ViewerAcme', HISTORY, 2)).toEqual([[1, 2], [3], []]);
    expect(await walk('ViewerAcme', AUDIT, 3)).toEqual([[1, 2, 3], []]);
  });

  it("refuses another resource's cursor, a tampered one and a bad limit by name (proves the cursor is bound to its list)", async () => {
    const first = (await api.call('Admin', 'GET', `${HISTORY}?limit=1`)).body as Page;
    const cursor = first.nextCursor ?? '';
    expect(cursor).not.toBe('');
    expect(await api.call('Admin', 'GET', `/v1/audit?resource=Schedule&resourceId=moves&cursor=${cursor}`)).toMatchObject({ status: 200 });
    expect(await api.call('Admin', 'GET', `/v1/schedules/nightly/history?cursor=${cursor}`)).toMatchObject({ status: 400, body: { error: { field: 'query.cursor' } } });
    expect(await api.call('Admin', 'GET', `/v1/audit?resource=Computer&resourceId=moves&cursor=${cursor}`)).toMatchObject({ status: 400, body: { error: { field: 'query.cursor' } } });
    expect(await api.call('Admin', 'GET', `/v1/audit?tenantId=acme&cursor=${cursor}`)).toMatchObject({ status: 400, body: { error: { field: 'query.cursor' } } });
    expect(await api.call('Admin', 'GET', `${HISTORY}?cursor=${cursor.slice(0, -2)}`)).toMatchObject({ status: 400, body: { error: { field: 'query.cursor' } } });
    expect(await api.call('Admin', 'GET', `${HISTORY}?limit=0`)).toMatchObject({ status: 400, body: { error: { field: 'query.limit' } } });
    expect(await api.call('Admin', 'GET', `${HISTORY}?surprise=1`)).toMatchObject({ status: 400, body: { error: { field: 'query.surprise' } } });
  });
});
