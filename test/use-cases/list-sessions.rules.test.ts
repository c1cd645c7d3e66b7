import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DynamoTable } from '../../functions/adapters/dynamodb-table.js';
import { DynamoSessionStore } from '../../functions/adapters/session-store.dynamodb.js';
import { ValidationError } from '../../functions/core/errors.js';
import { CURSOR_NOT_OURS, CURSOR_OF_ANOTHER_QUERY, MAX_LIST_CURSOR_LENGTH } from '../../functions/core/list-cursor.js';
import { encodeSessionListCursor, type SessionCountQuery } from '../../functions/core/model/session-list.js';
import { countSessions, listSessions, type ListSessionsRequest } from '../../functions/core/use-cases/list-sessions.js';
import { dynamoTable } from '../support/dynamo.js';
import { manualClock } from '../support/fleet.js';

/**
 * The query a list request stands for, as the store is asked it (dynalite,
 * its two listing reads watched): the default week and its "a minute from
 * now" end, the limit's default and bounds, the filters passed through only
 * when given, a later page keeping its cursor's range, and every refusal by
 * field and with the problem an operator reads.
 */

const NOW = '2026-11-23T09:00:00.000Z';
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const at = (ms: number): string => new Date(ms).toISOString();

describe('the query a session list request stands for', () => {
  let table: DynamoTable;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ table, close } = await dynamoTable());
  });
  afterAll(() => close());

  /** A store over the table whose list and count queries are recorded, and a clock at NOW. */
  function setup() {
    const sessions = new DynamoSessionStore(table);
    const listed = vi.spyOn(sessions, 'listSessions');
    const counted = vi.spyOn(sessions, 'countSessions');
    const clock = manualClock(new Date(NOW));
    return { deps: { sessions, clock }, listed, counted, clock };
  }

  /** The problems a refused request names, each as `field: problem`; a request that is not refused names none. */
  async function refusal(request: ListSessionsRequest): Promise<string[]> {
    const { deps, listed } = setup();
    const error = await listSessions(deps, request).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    if (error === undefined) return [];
    expect(error).toBeInstanceOf(ValidationError);
    if (!(error instanceof ValidationError)) return ['not a ValidationError'];
    expect(error.entity).toBe('session list request');
    expect(listed).not.toHaveBeenCalled();
    return error.problems.map((p) => `${p.field}: ${p.problem}`);
  }

  it('lists the week before now, up to a minute ahead of it, 50 at a time, with no filter the request did not name', async () => {
    const { deps, listed } = setup();
    await listSessions(deps, {});
    const nowMs = Date.parse(NOW);
    expect(listed.mock.calls[0]?.[0]).toStrictEqual({ from: at(nowMs - 7 * DAY_MS), to: at(nowMs + MINUTE_MS), limit: 50 });
  });

  it('ends a default week at the `to` the request names, and starts at the `from` it names', async () => {
    const { deps, listed } = setup();
    await listSessions(deps, { to: '2026-11-10T00:00:00Z' });
    expect(listed.mock.calls[0]?.[0]).toMatchObject({ from: '2026-11-03T00:00:00.000Z', to: '2026-11-10T00:00:00.000Z' });
    await listSessions(deps, { from: '2026-11-20T00:00:00Z' });
    expect(listed.mock.calls[1]?.[0]).toMatchObject({ from: '2026-11-20T00:00:00.000Z', to: at(Date.parse(NOW) + MINUTE_MS) });
    // an instant with an offset is read as the UTC instant it names, the form the listing keys hold
    await listSessions(deps, { from: '2026-11-20T02:00:00+02:00', to: '2026-11-21T00:00:00Z' });
    expect(listed.mock.calls[2]?.[0]).toMatchObject({ from: '2026-11-20T00:00:00.000Z', to: '2026-11-21T00:00:00.000Z' });
  });

  it('passes each filter it is given, an empty tenant list included, and the limit asked for', async () => {
    const { deps, listed } = setup();
    await listSessions(deps, { tenantIds: ['t1', 't2'], computerId: 'pc-1', status: 'Failed', limit: 200 });
    expect(listed.mock.calls[0]?.[0]).toMatchObject({ tenantIds: ['t1', 't2'], computerId: 'pc-1', status: 'Failed', limit: 200 });
    await listSessions(deps, { tenantIds: [], limit: 1 });
    expect(listed.mock.calls[1]?.[0]).toMatchObject({ tenantIds: [], limit: 1 });
    expect(listed.mock.calls[1]?.[0]).not.toHaveProperty('computerId');
    expect(listed.mock.calls[1]?.[0]).not.toHaveProperty('status');
  });

  it('counts over the list’s range and filters, with neither its limit nor its cursor', async () => {
    const { deps, counted } = setup();
    const query: SessionCountQuery = { tenantIds: ['t1'], from: '2026-11-01T00:00:00.000Z', to: '2026-11-08T00:00:00.000Z' };
    const cursor = encodeSessionListCursor(query, '2026-11-05T00:00:00.000Z#ses_1');
    await countSessions(deps, { tenantIds: ['t1'], cursor });
    expect(counted.mock.calls[0]?.[0]).toStrictEqual(query);
    await countSessions(deps, { status: 'Passed', computerId: 'pc-1' });
    const nowMs = Date.parse(NOW);
    expect(counted.mock.calls[1]?.[0]).toStrictEqual({ computerId: 'pc-1', status: 'Passed', from: at(nowMs - 7 * DAY_MS), to: at(nowMs + MINUTE_MS) });
  });

  it('takes a later page’s range from its cursor, though the clock has moved on, and hands the cursor to the store', async () => {
    const { deps, listed, clock } = setup();
    const query: SessionCountQuery = { from: '2026-11-01T00:00:00.000Z', to: '2026-11-08T00:00:00.000Z' };
    const cursor = encodeSessionListCursor(query, '2026-11-05T00:00:00.000Z#ses_1');
    clock.advance(3 * DAY_MS);
    await listSessions(deps, { limit: 10, cursor });
    expect(listed.mock.calls[0]?.[0]).toStrictEqual({ ...query, limit: 10, cursor });
  });

  it('refuses a cursor it did not hand out, or one of another query, naming the cursor and why', async () => {
    const query: SessionCountQuery = { from: '2026-11-01T00:00:00.000Z', to: '2026-11-08T00:00:00.000Z' };
    const cursor = encodeSessionListCursor(query, '2026-11-05T00:00:00.000Z#ses_1');
    expect(await refusal({ cursor: 'not-a-cursor' })).toEqual([`cursor: ${CURSOR_NOT_OURS}`]);
    expect(await refusal({ cursor: 'a'.repeat(MAX_LIST_CURSOR_LENGTH + 1) })).toEqual([`cursor: ${CURSOR_NOT_OURS}`]);
    expect(await refusal({ cursor, status: 'Failed' })).toEqual([`cursor: ${CURSOR_OF_ANOTHER_QUERY}`]);
    expect(await refusal({ cursor })).toEqual([]);
    // a cursor that is no cursor is named first, whatever else is wrong with the request
    expect(await refusal({ cursor: 'not-a-cursor', from: '2026-11-10T00:00:00Z', to: '2026-11-09T00:00:00Z' })).toEqual([`cursor: ${CURSOR_NOT_OURS}`]);
  });

  it('refuses a limit outside 1..200 or not whole, an instant that is not one, and anything it does not know, each by field', async () => {
    expect(await refusal({ limit: 0 })).toEqual(['limit: must be at least 1']);
    expect(await refusal({ limit: 201 })).toEqual(['limit: must be at most 200']);
    expect(await refusal({ limit: 2.5 })).toEqual(['limit: must be a whole number']);
    expect(await refusal({ limit: 1 })).toEqual([]);
    expect(await refusal({ limit: 200 })).toEqual([]);
    expect(await refusal({ from: 'yesterday' })).toEqual(['from: must be an ISO 8601 instant such as 2026-11-23T09:00:00Z']);
    expect(await refusal({ to: '2026-11-23' })).toEqual(['to: must be an ISO 8601 instant such as 2026-11-23T09:00:00Z']);
    expect((await refusal({ status: 'Sleeping' } as unknown as ListSessionsRequest)).map((p) => p.split(':')[0])).toEqual(['status']);
    expect((await refusal({ tenantId: 't1' } as unknown as ListSessionsRequest)).length).toBe(1);
  });

  it('refuses a reversed or empty range by its end, and one over 31 days by its start', async () => {
    expect((await refusal({ from: '2026-11-10T00:00:00Z', to: '2026-11-10T00:00:00Z' })).map((p) => p.split(':')[0])).toEqual(['to']);
    expect((await refusal({ from: '2026-11-10T00:00:00Z', to: '2026-11-09T00:00:00Z' })).map((p) => p.split(':')[0])).toEqual(['to']);
    expect((await refusal({ from: '2026-09-01T00:00:00Z', to: '2026-11-09T00:00:00Z' })).map((p) => p.split(':')[0])).toEqual(['from']);
    // a `from` after the default end is refused by the end it is after
    expect((await refusal({ from: '2026-11-24T00:00:00Z' })).map((p) => p.split(':')[0])).toEqual(['to']);
  });
});
