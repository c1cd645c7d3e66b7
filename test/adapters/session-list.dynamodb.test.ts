import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DynamoTable } from '../../functions/adapters/dynamodb-table.js';
import { SESSION_SHARD_COUNT, DynamoSessionStore } from '../../functions/adapters/session-store.dynamodb.js';
import { ValidationError } from '../../functions/core/errors.js';
import { SESSION_STATUSES, noSessionCounts, type SessionStatusCounts, type SessionSummary } from '../../functions/core/model/session-list.js';
import type { Session, SessionStatus } from '../../functions/core/model/session.js';
import { countSessions, listSessions, type ListSessionsRequest } from '../../functions/core/use-cases/list-sessions.js';
import { sessionRecord } from '../support/domain.js';
import { dynamoTable } from '../support/dynamo.js';
import { manualClock } from '../support/fleet.js';

/**
 * The session list against dynalite: a few hundred sessions over ten days,
 * four tenants, 24 computers and every status, each answer checked against a
 * brute-force reading of what was seeded.
 */

const DAY = 86_400_000;
const START = Date.parse('2026-03-01T00:00:00.000Z');
const NOW = START + 10 * DAY;
const TENANTS = ['t1', 't2', 't3', 't4'];
const COMPUTERS = Array.from({ length: 24 }, (_, index) => `c${String(index).padStart(2, '0')}`);
const tenantOf = (computerId: string): string => TENANTS[Number(computerId.slice(1)) % TENANTS.length] ?? 't1';

/** A small deterministic generator (mulberry32): the seed is the same on every run. */
function randomFrom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const shardOf = (sessionId: string): number => createHash('sha256').update(sessionId).digest().readUInt32BE(0) % SESSION_SHARD_COUNT;
const newestFirst = (a: Pick<Session, 'createdAt' | 'id'>, b: Pick<Session, 'createdAt' | 'id'>): number => {
  const left = `${a.createdAt}#${a.id}`;
  const right = `${b.createdAt}#${b.id}`;
  return left < right ? 1 : left > right ? -1 : 0;
};

interface Seeded {
  readonly id: string;
  readonly computerId: string;
  readonly tenantId: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly status: SessionStatus;
}

describe('listing sessions on dynalite: newest first, by tenant, computer and status, with counts and cursors', () => {
  let table: DynamoTable;
  let store: DynamoSessionStore;
  let close: () => Promise<void>;
  const clock = manualClock(new Date(NOW));
  const seeded: Seeded[] = [];
  const deps = () => ({ sessions: store, clock });

  const create = async (id: string, computerId: string, createdAtMs: number, status: SessionStatus): Promise<Seeded> => {
    const createdAt = new Date(createdAtMs).toISOString();
    const tenantId = tenantOf(computerId);
    await store.createSession(sessionRecord(id, { computerId, tenantId, status: 'Created', createdAt, updatedAt: createdAt }));
    const updatedAt = status === 'Created' ? createdAt : new Date(createdAtMs + 60_000).toISOString();
    if (status !== 'Created') await store.updateSession(id, 1, { status }, updatedAt);
    return { id, computerId, tenantId, createdAt, updatedAt, status };
  };

  beforeAll(async () => {
    const dynamo = await dynamoTable();
    table = dynamo.table;
    close = dynamo.close;
    store = new DynamoSessionStore(table);
    const random = randomFrom(12);
    for (let index = 0; index < 320; index++) {
      const computerId = COMPUTERS[Math.floor(random() * COMPUTERS.length)] ?? 'c00';
      const status = SESSION_STATUSES[Math.floor(random() * SESSION_STATUSES.length)] ?? 'Passed';
      // whole seconds, so some sessions share a createdAt and only their ids order them
      const at = START + Math.floor(random() * 10 * 86_400) * 1000;
      seeded.push(await create(`ses_${String(index).padStart(4, '0')}`, computerId, at, status));
    }
  });
  afterAll(() => close());

  const range = { from: new Date(START).toISOString(), to: new Date(NOW).toISOString() };
  const expected = (keep: (session: Seeded) => boolean, among: readonly Seeded[] = seeded) =>
    among
      .filter(keep)
      .sort(newestFirst)
      .map((session) => session.id);

  /** Every page of a list, following its cursors. */
  async function walk(request: ListSessionsRequest, limit: number, between?: (page: number) => Promise<void>): Promise<{ ids: string[]; pages: number }> {
    const ids: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await listSessions(deps(), { ...request, limit, ...(cursor === undefined ? {} : { cursor }) });
      ids.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor;
      pages++;
      await between?.(pages);
    } while (cursor !== undefined && pages < 500);
    return { ids, pages };
  }

  const bruteCounts = (keep: (session: Seeded) => boolean): SessionStatusCounts => {
    const counts = noSessionCounts();
    for (const session of seeded.filter(keep)) counts[session.status]++;
    return counts;
  };

  it('has seeded every day, every shard and every status (the cases below are not vacuous)', () => {
    expect(new Set(seeded.map((s) => s.createdAt.slice(0, 10))).size).toBe(10);
    expect(new Set(seeded.map((s) => shardOf(s.id))).size).toBe(SESSION_SHARD_COUNT);
    expect(new Set(seeded.map((s) => s.status)).size).toBe(SESSION_STATUSES.length);
    expect(new Set(seeded.map((s) => s.createdAt)).size).toBeLessThan(seeded.length + 1);
  });

  it('pages through every session newest first across days and shards: the pages add up to the whole list, no repeats, no gaps', async () => {
    const { ids, pages } = await walk(range, 23);
    expect(ids).toEqual(expected(() => true));
    expect(new Set(ids).size).toBe(ids.length);
    expect(pages).toBeGreaterThan(seeded.length / 23);
  });

  it('reads only the newest day for a first page that day fills (8 shard queries), not the whole range', async () => {
    const reads = vi.spyOn(table, 'rangePage');
    try {
      const page = await listSessions(deps(), { ...range, limit: 10 });
      expect(page.items.map((item) => item.id)).toEqual(expected(() => true).slice(0, 10));
      const partitions = new Set(reads.mock.calls.map(([options]) => options.pk));
      expect([...partitions].sort()).toEqual(Array.from({ length: SESSION_SHARD_COUNT }, (_, shard) => `SESSIONS#2026-03-10#${shard}`));
    } finally {
      reads.mockRestore();
    }
  });

  it('returns summaries: ids, tenant, computer, status, times and what started them, without the frozen items', async () => {
    const page = await listSessions(deps(), { ...range, limit: 1 });
    const first = seeded.slice().sort(newestFirst)[0];
    expect(page.items[0]).toEqual<SessionSummary>({
      id: first?.id ?? '',
      computerId: first?.computerId ?? '',
      // the name the session was started with (sessionRecord's), projected by the listing indexes
      computerName: 'PC',
      tenantId: first?.tenantId ?? '',
      status: first?.status ?? 'Created',
      createdAt: first?.createdAt ?? '',
      updatedAt: first?.updatedAt ?? '',
      trigger: 'Manual',
      requestedBy: { kind: 'Operator', name: '(not recorded)' },
    });
    expect(page.items[0]).not.toHaveProperty('items');
  });

  it('keeps only summary attributes in the listing indexes (INCLUDE projection), so an entry is a fraction of the session', async () => {
    const session = seeded[0];
    if (!session) throw new Error('nothing seeded');
    const key = `${session.createdAt}#${session.id}`;
    const entries = await Promise.all(
      (
        [
          ['GSI3', `SESSIONS#${session.createdAt.slice(0, 10)}#${shardOf(session.id)}`],
          ['GSI4', `TENANT#${session.tenantId}#${session.createdAt.slice(0, 7)}`],
          ['GSI5', `COMPUTER#${session.computerId}`],
        ] as const
      ).map(async ([index, pk]) => (await table.rangePage({ pk, index, atLeast: key, below: `${key}~` })).items),
    );
    for (const [entry] of entries) {
      expect(entry).toMatchObject({ id: session.id, status: session.status, tenantId: session.tenantId, computerName: 'PC' });
      expect(entry).not.toHaveProperty('items');
      expect(entry).not.toHaveProperty('options');
      expect(entry).not.toHaveProperty('agentId');
    }
  });

  it("lists a Viewer's set of tenants: exactly their sessions, newest first, over every page", async () => {
    const { ids } = await walk({ ...range, tenantIds: ['t1', 't3'] }, 17);
    expect(ids).toEqual(expected((s) => s.tenantId === 't1' || s.tenantId === 't3'));
  });

  it('filters by status, alone and within tenants, with pages that still add up', async () => {
    expect((await walk({ ...range, status: 'Failed' }, 7)).ids).toEqual(expected((s) => s.status === 'Failed'));
    expect((await walk({ ...range, status: 'Running', tenantIds: ['t2'] }, 5)).ids).toEqual(expected((s) => s.status === 'Running' && s.tenantId === 't2'));
  });

  it("lists one computer's sessions, and none of a computer outside the caller's tenants", async () => {
    expect((await walk({ ...range, computerId: 'c05' }, 4)).ids).toEqual(expected((s) => s.computerId === 'c05'));
    expect(tenantOf('c05')).toBe('t2');
    expect((await walk({ ...range, computerId: 'c05', tenantIds: ['t2'] }, 50)).ids).toEqual(expected((s) => s.computerId === 'c05'));
    expect((await walk({ ...range, computerId: 'c05', tenantIds: ['t1', 't3'] }, 50)).ids).toEqual([]);
  });

  it('lists within a narrower range: only sessions created in [from, to)', async () => {
    const from = '2026-03-03T12:00:00.000Z';
    const to = '2026-03-05T06:30:00.000Z';
    expect((await walk({ from, to }, 11)).ids).toEqual(expected((s) => s.createdAt >= from && s.createdAt < to));
  });

  it('counts every status exactly as a brute-force count of the seeded sessions does (all, tenants, computer)', async () => {
    expect(await countSessions(deps(), range)).toEqual(bruteCounts(() => true));
    expect(await countSessions(deps(), { ...range, tenantIds: ['t1', 't4'] })).toEqual(bruteCounts((s) => s.tenantId === 't1' || s.tenantId === 't4'));
    expect(await countSessions(deps(), { ...range, computerId: 'c07' })).toEqual(bruteCounts((s) => s.computerId === 'c07'));
    // beside a status-filtered list the counts still show every status
    expect(await countSessions(deps(), { ...range, status: 'Failed' })).toEqual(bruteCounts(() => true));
    expect(await countSessions(deps(), { ...range, tenantIds: [] })).toEqual(noSessionCounts());
  });

  it('by default lists the last 7 days up to a minute from now, and a later page keeps that range as time moves on', async () => {
    const lastWeek = (s: Seeded) => Date.parse(s.createdAt) >= NOW - 7 * DAY;
    const before = seeded.slice();
    const made: Seeded[] = [];
    const { ids } = await walk({}, 25, async (page) => {
      // sessions created between pages: newer than anything the walk has handed out, so never on a later page
      clock.advance(30_000);
      made.push(await create(`ses_new_${page}`, 'c01', clock.now().getTime(), 'Created'));
    });
    expect(ids).toEqual(expected(lastWeek, before));
    expect(made.length).toBeGreaterThan(3);
    // the next walk, from the first page, sees them (their createdAt falls in the new default range)
    const again = await listSessions(deps(), { limit: made.length });
    expect(again.items.map((item) => item.id)).toEqual(made.map((s) => s.id).reverse());
    seeded.push(...made);
  });

  it('refuses a cursor of another query, a tampered one and a malformed one by name, before the table is read', async () => {
    const tenantsPage = await listSessions(deps(), { ...range, tenantIds: ['t1'], limit: 3 });
    const cursor = tenantsPage.nextCursor ?? '';
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    const reads = vi.spyOn(table, 'rangePage');
    try {
      const problems = async (request: ListSessionsRequest) => {
        const error = await listSessions(deps(), request).then(
          () => undefined,
          (caught: unknown) => caught,
        );
        expect(error).toBeInstanceOf(ValidationError);
        return (error as ValidationError).problems.map((p) => p.field);
      };
      // the same cursor with other filters, or another range
      expect(await problems({ ...range, limit: 3, cursor })).toEqual(['cursor']);
      expect(await problems({ ...range, tenantIds: ['t2'], limit: 3, cursor })).toEqual(['cursor']);
      expect(await problems({ ...range, tenantIds: ['t1'], status: 'Passed', limit: 3, cursor })).toEqual(['cursor']);
      expect(await problems({ from: range.from, to: '2026-03-09T00:00:00.000Z', tenantIds: ['t1'], limit: 3, cursor })).toEqual(['cursor']);
      // tampered: one character changed, or cut short; and things that were never a cursor
      const flipped = `${cursor.slice(0, 10)}${cursor.charAt(10) === 'A' ? 'B' : 'A'}${cursor.slice(11)}`;
      expect(await problems({ ...range, tenantIds: ['t1'], limit: 3, cursor: flipped })).toEqual(['cursor']);
      expect(await problems({ ...range, tenantIds: ['t1'], limit: 3, cursor: cursor.slice(0, -2) })).toEqual(['cursor']);
      for (const junk of ['', 'x', '!!!', 'eyJxIjoxfQ', 'a'.repeat(5000)]) {
        expect(await problems({ ...range, tenantIds: ['t1'], limit: 3, cursor: junk })).toEqual(['cursor']);
      }
      // the store itself refuses a cursor its caller did not check
      await expect(store.listSessions({ ...range, limit: 3, cursor })).rejects.toMatchObject({ name: 'ValidationError', problems: [{ field: 'cursor' }] });
      expect(reads).not.toHaveBeenCalled();
    } finally {
      reads.mockRestore();
    }
    // and it does take its own query's next page
    const next = await listSessions(deps(), { ...range, tenantIds: ['t1'], limit: 3, cursor });
    expect(next.items.map((item) => item.id)).toEqual(expected((s) => s.tenantId === 't1').slice(3, 6));
  });

  it('refuses a range it cannot list, naming from, to or limit', async () => {
    const fields = async (request: ListSessionsRequest) =>
      listSessions(deps(), request).then(
        () => [],
        (error: unknown) => (error instanceof ValidationError ? error.problems.map((p) => p.field) : ['not a ValidationError']),
      );
    expect(await fields({ from: '2026-03-05T00:00:00Z', to: '2026-03-04T00:00:00Z' })).toEqual(['to']);
    expect(await fields({ from: '2026-01-01T00:00:00Z', to: '2026-03-04T00:00:00Z' })).toEqual(['from']);
    expect(await fields({ from: 'yesterday' })).toEqual(['from']);
    expect(await fields({ limit: 0 })).toEqual(['limit']);
    expect(await fields({ limit: 201 })).toEqual(['limit']);
    // a Viewer's tree is not capped: past 100 tenants the list reads the fleet's day shards (see below)
    expect(await fields({ tenantIds: Array.from({ length: 101 }, (_, i) => `t${i}`) })).toEqual([]);
    // an offset is accepted and read as the instant it names
    const withOffset = await listSessions(deps(), { from: '2026-03-05T02:00:00+02:00', to: '2026-03-06T00:00:00Z', limit: 200 });
    expect(withOffset.items.map((item) => item.id)).toEqual(expected((s) => s.createdAt >= '2026-03-05T00:00:00.000Z' && s.createdAt < '2026-03-06T00:00:00.000Z'));
  });
});

describe('a Viewer of more than 100 tenants on dynalite: the fleet day shards, narrowed to its tenants', () => {
  let table: DynamoTable;
  let store: DynamoSessionStore;
  let close: () => Promise<void>;
  const clock = manualClock(new Date(START + 3 * DAY));
  const deps = () => ({ sessions: store, clock });
  const TREE = Array.from({ length: 130 }, (_, index) => `tree-${String(index).padStart(3, '0')}`);
  const OUTSIDE = ['other-a', 'other-b', 'other-c'];
  const STATUSES: readonly SessionStatus[] = ['Passed', 'Failed', 'Running'];
  const seeded: Seeded[] = [];
  const range = { from: new Date(START).toISOString(), to: new Date(START + 3 * DAY).toISOString() };

  beforeAll(async () => {
    const dynamo = await dynamoTable();
    table = dynamo.table;
    store = new DynamoSessionStore(table);
    close = dynamo.close;
    const random = randomFrom(7);
    let inTreeCount = 0;
    for (let index = 0; index < 240; index++) {
      // a third outside the tree: the shards hold other tenants' sessions between the tree's; every tree tenant has one
      const tenantId = index % 3 === 0 ? (OUTSIDE[index % OUTSIDE.length] ?? 'other-a') : (TREE[inTreeCount++ % TREE.length] ?? 'tree-000');
      const computerId = `pc-${tenantId}`;
      const status = STATUSES[Math.floor(random() * STATUSES.length)] ?? 'Passed';
      const createdAt = new Date(START + Math.floor(random() * 3 * 86_400) * 1000).toISOString();
      const id = `big_${String(index).padStart(4, '0')}`;
      await store.createSession(sessionRecord(id, { computerId, tenantId, status, createdAt, updatedAt: createdAt }));
      seeded.push({ id, computerId, tenantId, createdAt, updatedAt: createdAt, status });
    }
  });
  afterAll(() => close());

  const inTree = (session: Seeded): boolean => TREE.includes(session.tenantId);
  const expected = (keep: (session: Seeded) => boolean) =>
    seeded
      .filter(keep)
      .sort(newestFirst)
      .map((session) => session.id);

  async function walk(request: ListSessionsRequest, limit: number): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await listSessions(deps(), { ...request, limit, ...(cursor === undefined ? {} : { cursor }) });
      expect(page.items.length).toBeLessThanOrEqual(limit);
      ids.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor;
    } while (cursor !== undefined && ++pages < 500);
    return ids;
  }

  it('has seeded sessions of tree tenants well past 100 of them, and of tenants outside it (the cases below are not vacuous)', () => {
    expect(new Set(seeded.filter(inTree).map((s) => s.tenantId)).size).toBeGreaterThan(100);
    expect(seeded.filter((s) => !inTree(s)).length).toBeGreaterThan(50);
  });

  it("lists exactly the tree's sessions newest first over every page, from the day shards only (not a partition per tenant)", async () => {
    const reads = vi.spyOn(table, 'rangePage');
    try {
      expect(await walk({ ...range, tenantIds: TREE }, 17)).toEqual(expected(inTree));
      const partitions = new Set(reads.mock.calls.map(([options]) => options.pk));
      expect([...partitions].every((pk) => pk.startsWith('SESSIONS#'))).toBe(true);
      expect(partitions.size).toBeLessThanOrEqual(3 * SESSION_SHARD_COUNT);
    } finally {
      reads.mockRestore();
    }
  });

  it("counts the tree's sessions by status exactly, and narrows by status and by a computer within the tree", async () => {
    const counts = noSessionCounts();
    for (const session of seeded.filter(inTree)) counts[session.status]++;
    expect(await countSessions(deps(), { ...range, tenantIds: TREE })).toEqual(counts);
    expect(await walk({ ...range, tenantIds: TREE, status: 'Failed' }, 9)).toEqual(expected((s) => inTree(s) && s.status === 'Failed'));
    const treeComputer = seeded.find(inTree)?.computerId ?? '';
    expect(await walk({ ...range, tenantIds: TREE, computerId: treeComputer }, 50)).toEqual(expected((s) => s.computerId === treeComputer));
    // a computer outside the tree gives nothing, however many tenants the tree has
    expect(await walk({ ...range, tenantIds: TREE, computerId: 'pc-other-a' }, 50)).toEqual([]);
  });

  it('binds a cursor to the tenant set: the same cursor with one tenant more or less is refused by name, its own set takes it', async () => {
    const first = await listSessions(deps(), { ...range, tenantIds: TREE, limit: 5 });
    const cursor = first.nextCursor ?? '';
    expect(cursor).not.toBe('');
    for (const tenantIds of [TREE.slice(1), [...TREE, 'other-a']]) {
      await expect(listSessions(deps(), { ...range, tenantIds, limit: 5, cursor })).rejects.toMatchObject({ name: 'ValidationError', problems: [{ field: 'cursor' }] });
    }
    // the set is a set: its order does not matter
    const next = await listSessions(deps(), { ...range, tenantIds: [...TREE].reverse(), limit: 5, cursor });
    expect(next.items.map((item) => item.id)).toEqual(expected(inTree).slice(5, 10));
  });
});

describe('the status index on dynalite: sharded, and every reader reads every shard', () => {
  let store: DynamoSessionStore;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const dynamo = await dynamoTable();
    store = new DynamoSessionStore(dynamo.table);
    close = dynamo.close;
  });
  afterAll(() => close());

  it('finds the sweeper every Created session in every shard, oldest first, and the oldest ones when limited', async () => {
    const created: Session[] = [];
    for (let index = 0; index < 40; index++) {
      const at = new Date(START + index * 60_000).toISOString();
      const session = sessionRecord(`stale-${index}`, { status: 'Created', createdAt: at, updatedAt: at });
      await store.createSession(session);
      created.push(session);
    }
    // one that has moved on, and one too young
    await store.updateSession('stale-3', 1, { status: 'Running' }, new Date(START + 3 * 60_000 + 1).toISOString());
    await store.createSession(sessionRecord('young', { status: 'Created', createdAt: new Date(NOW).toISOString(), updatedAt: new Date(NOW).toISOString() }));
    expect(new Set(created.map((s) => shardOf(s.id))).size).toBe(SESSION_SHARD_COUNT);

    const before = new Date(START + DAY).toISOString();
    const stale = created.filter((s) => s.id !== 'stale-3').map((s) => s.id);
    expect((await store.listSessionsInStatusSince('Created', before, 100)).map((s) => s.id)).toEqual(stale);
    expect((await store.listSessionsInStatusSince('Created', before, 5)).map((s) => s.id)).toEqual(stale.slice(0, 5));
    expect((await store.listSessionsByStatus('Running', 10)).map((s) => s.id)).toEqual(['stale-3']);
    expect((await store.listSessionsByStatus('Created', 3)).map((s) => s.id)).toEqual(['young', 'stale-39', 'stale-38']);
    // whole sessions, as stored now
    expect((await store.listSessionsByStatus('Running', 10))[0]).toMatchObject({ id: 'stale-3', status: 'Running', version: 2, items: [] });
  });

  it("lists a computer's sessions newest first, as whole sessions", async () => {
    for (const [id, day] of [['pc9-a', 1], ['pc9-b', 3], ['pc9-c', 2]] as const) {
      const at = new Date(START + day * DAY).toISOString();
      await store.createSession(sessionRecord(id, { computerId: 'pc-9', createdAt: at, updatedAt: at }));
    }
    const sessions = await store.listSessionsByComputer('pc-9', 2);
    expect(sessions.map((s) => s.id)).toEqual(['pc9-b', 'pc9-c']);
    expect(sessions[0]).toMatchObject({ computerName: 'PC', options: { mode: 'Full' } });
  });
});
