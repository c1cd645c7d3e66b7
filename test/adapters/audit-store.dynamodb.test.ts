import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AUDIT_SHARD_COUNT, DynamoAuditStore } from '../../functions/adapters/audit-store.dynamodb.js';
import type { DynamoTable } from '../../functions/adapters/dynamodb-table.js';
import { ValidationError } from '../../functions/core/errors.js';
import { fitChanges, type AuditEntry, type AuditedResource } from '../../functions/core/model/audit.js';
import { dynamoTable } from '../support/dynamo.js';

const START = Date.parse('2026-02-01T00:00:00.000Z');
const BY = { kind: 'Operator', name: 'ops@msp.example' } as const;

const entry = (resource: AuditedResource, resourceId: string, version: number, atMs: number, tenantId?: string): AuditEntry => ({
  resource,
  resourceId,
  ...(tenantId === undefined ? {} : { tenantId }),
  version,
  at: new Date(atMs).toISOString(),
  by: BY,
  action: version === 1 ? 'Created' : 'Updated',
  changes: [{ field: 'name', after: `${resourceId} v${version}` }],
});

const newestFirst = (a: AuditEntry, b: AuditEntry): number => {
  const key = (e: AuditEntry) => `${e.at}#${e.resource}#${e.resourceId}#${String(e.version).padStart(10, '0')}`;
  return key(a) < key(b) ? 1 : key(a) > key(b) ? -1 : 0;
};
const label = (e: AuditEntry): string => `${e.resource}/${e.resourceId}@${e.version}`;

describe('the audit trail on dynalite: per resource oldest first, per tenant and across tenants newest first, paged', () => {
  let table: DynamoTable;
  let store: DynamoAuditStore;
  let close: () => Promise<void>;
  const recorded: AuditEntry[] = [];

  beforeAll(async () => {
    const dynamo = await dynamoTable();
    table = dynamo.table;
    store = new DynamoAuditStore(table);
    close = dynamo.close;
    // 60 changes over two months: computers and tenants in t1..t3, software and tasks in none; some at the same instant
    const resources: readonly [AuditedResource, string, string | undefined][] = [
      ['Computer', 'pc-1', 't1'],
      ['Computer', 'pc-2', 't2'],
      ['Tenant', 't1', 't1'],
      ['Tenant', 't3', 't3'],
      ['Software', 'chrome', undefined],
      ['Task', 'firewall', undefined],
      ['Schedule', 'nightly', 't1'],
      ['Deployment', 'chrome-all', undefined],
    ];
    const versions = new Map<string, number>();
    for (let index = 0; index < 60; index++) {
      const [resource, id, tenantId] = resources[(index * 7) % resources.length] ?? ['Computer', 'pc-1', 't1'];
      const version = (versions.get(id) ?? 0) + 1;
      versions.set(id, version);
      const made = entry(resource, id, version, START + Math.floor(index / 2) * 86_400_000 * 2, tenantId);
      expect(await store.record(made)).toBe(true);
      recorded.push(made);
    }
  });
  afterAll(() => close());

  async function walk(tenantId: string | undefined, limit: number, between?: () => Promise<void>): Promise<string[]> {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.listByTenant(tenantId, { limit, ...(cursor === undefined ? {} : { cursor }) });
      expect(page.items.length).toBeLessThanOrEqual(limit);
      seen.push(...page.items.map(label));
      cursor = page.nextCursor;
      await between?.();
    } while (cursor !== undefined && ++pages < 200);
    return seen;
  }

  it('records an entry once: the same resource and version again is left as it was, and says so', async () => {
    const first = entry('Computer', 'pc-once', 1, START, 't9');
    expect(await store.record(first)).toBe(true);
    expect(await store.record({ ...first, changes: [{ field: 'name', after: 'something else' }] })).toBe(false);
    expect(await store.list('Computer', 'pc-once')).toEqual([first]);
    const second = entry('Computer', 'pc-once', 2, START + 1000, 't9');
    await store.record(second);
    expect(await store.list('Computer', 'pc-once', { latest: 1 })).toEqual([second]);
    expect(await store.list('Computer', 'pc-once', { latest: 5 })).toEqual([first, second]);
    recorded.push(second);
    recorded.push(first);
  });

  it("pages through one tenant's changes newest first, adding up to exactly its entries", async () => {
    expect(await walk('t1', 4)).toEqual(recorded.filter((e) => e.tenantId === 't1').sort(newestFirst).map(label));
    expect(await walk('t3', 100)).toEqual(recorded.filter((e) => e.tenantId === 't3').sort(newestFirst).map(label));
    expect(await walk('nobody', 10)).toEqual([]);
  });

  it('pages through every change (tenants and none) newest first across its shards', async () => {
    const shards = new Set(recorded.map((e) => createHash('sha256').update(`${e.resource}#${e.resourceId}`).digest().readUInt32BE(0) % AUDIT_SHARD_COUNT));
    expect(shards.size).toBeGreaterThan(1);
    expect(await walk(undefined, 7)).toEqual(recorded.slice().sort(newestFirst).map(label));
  });

  it('leaves changes recorded between pages out of the rest of the walk (they are newer than the first page)', async () => {
    const before = recorded.slice();
    let made = 0;
    const seen = await walk(undefined, 9, async () => {
      const late = entry('Computer', `late-${made++}`, 1, START + 400 * 86_400_000, 't1');
      await store.record(late);
      recorded.push(late);
    });
    expect(seen).toEqual(before.sort(newestFirst).map(label));
  });

  it('refuses the cursor of another tenant, a tampered one and a malformed one by name, before the table is read', async () => {
    const page = await store.listByTenant('t1', { limit: 2 });
    const cursor = page.nextCursor ?? '';
    const reads = vi.spyOn(table, 'rangePage');
    try {
      const field = (tenantId: string | undefined, text: string) =>
        store.listByTenant(tenantId, { limit: 2, cursor: text }).then(
          () => 'accepted',
          (error: unknown) => (error instanceof ValidationError ? error.problems.map((p) => p.field).join() : String(error)),
        );
      expect(await field('t2', cursor)).toBe('cursor');
      expect(await field(undefined, cursor)).toBe('cursor');
      expect(await field('t1', `${cursor.slice(0, -3)}AAA`)).toBe('cursor');
      expect(await field('t1', 'not-a-cursor')).toBe('cursor');
      expect(reads).not.toHaveBeenCalled();
    } finally {
      reads.mockRestore();
    }
    const next = await store.listByTenant('t1', { limit: 2, cursor });
    expect(next.items.map(label)).toEqual(recorded.filter((e) => e.tenantId === 't1').sort(newestFirst).map(label).slice(2, 4));
  });

  /** Every page of one resource's changes, following its cursors. */
  async function walkResource(resource: AuditedResource, resourceId: string, limit: number): Promise<{ seen: string[]; pages: number }> {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.list(resource, resourceId, { limit, ...(cursor === undefined ? {} : { cursor }) });
      expect(page.items.length).toBeLessThanOrEqual(limit);
      seen.push(...page.items.map(label));
      cursor = page.nextCursor;
    } while (cursor !== undefined && ++pages < 200);
    return { seen, pages: pages + 1 };
  }

  it("pages through one resource's changes oldest first, and the last page says it is the last", async () => {
    const nightly = recorded.filter((e) => e.resource === 'Schedule' && e.resourceId === 'nightly').sort((a, b) => a.version - b.version).map(label);
    expect(nightly.length).toBeGreaterThan(4);
    expect(await walkResource('Schedule', 'nightly', 2)).toEqual({ seen: nightly, pages: Math.ceil(nightly.length / 2) });
    // a page size that divides the history exactly still ends without an empty page
    expect(await walkResource('Schedule', 'nightly', nightly.length)).toEqual({ seen: nightly, pages: 1 });
    expect(await walkResource('Schedule', 'nightly', 200)).toEqual({ seen: nightly, pages: 1 });
    expect(await store.list('Schedule', 'never-was', { limit: 5 })).toEqual({ items: [] });
    // the whole list and the latest stay what a save reads
    expect((await store.list('Schedule', 'nightly')).map(label)).toEqual(nightly);
    expect((await store.list('Schedule', 'nightly', { latest: 1 })).map(label)).toEqual(nightly.slice(-1));
  });

  it("goes on from a page's cursor to changes recorded after it was read", async () => {
    const first = await store.list('Computer', 'pc-2', { limit: 100 });
    const last = first.items.at(-1);
    if (!last) throw new Error('pc-2 has no history');
    expect(first.nextCursor).toBeUndefined();
    const upToLast = await store.list('Computer', 'pc-2', { limit: first.items.length - 1 });
    const later = entry('Computer', 'pc-2', last.version + 1, START + 500 * 86_400_000, 't2');
    await store.record(later);
    recorded.push(later);
    const rest = await store.list('Computer', 'pc-2', { limit: 100, cursor: upToLast.nextCursor ?? '' });
    expect(rest.items.map(label)).toEqual([label(last), label(later)]);
  });

  it('ends a page DynamoDB cut at 1 MB short, with a cursor that goes on after its last entry', async () => {
    const large = (version: number): AuditEntry => ({ ...entry('Software', 'large', version, START + version * 1000), changes: [{ field: 'installScript', after: 'x'.repeat(250 * 1024) }] });
    for (let version = 1; version <= 6; version++) await store.record(large(version));
    const first = await store.list('Software', 'large', { limit: 6 });
    expect(first.items.length).toBeLessThan(6);
    expect(first.nextCursor).toBeDefined();
    const rest = await store.list('Software', 'large', { limit: 6, cursor: first.nextCursor ?? '' });
    expect([...first.items, ...rest.items].map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rest.nextCursor).toBeUndefined();
  });

  it("refuses another resource's cursor, a tenant listing's, a tampered one and a bad limit by name, before the table is read", async () => {
    const cursor = (await store.list('Schedule', 'nightly', { limit: 1 })).nextCursor ?? '';
    const tenantCursor = (await store.listByTenant('t1', { limit: 1 })).nextCursor ?? '';
    const queries = vi.spyOn(table, 'page');
    try {
      const field = (resource: AuditedResource, resourceId: string, page: { limit: number; cursor?: string }) =>
        store.list(resource, resourceId, page).then(
          () => 'accepted',
          (error: unknown) => (error instanceof ValidationError ? error.problems.map((p) => p.field).join() : String(error)),
        );
      expect(await field('Schedule', 'other', { limit: 1, cursor })).toBe('cursor');
      expect(await field('Computer', 'nightly', { limit: 1, cursor })).toBe('cursor');
      expect(await field('Schedule', 'nightly', { limit: 1, cursor: tenantCursor })).toBe('cursor');
      expect(await field('Schedule', 'nightly', { limit: 1, cursor: `${cursor.slice(0, -3)}AAA` })).toBe('cursor');
      expect(await field('Schedule', 'nightly', { limit: 1, cursor: 'not-a-cursor' })).toBe('cursor');
      expect(await field('Schedule', 'nightly', { limit: 0 })).toBe('limit');
      expect(await field('Schedule', 'nightly', { limit: 1.5 })).toBe('limit');
      expect(queries).not.toHaveBeenCalled();
    } finally {
      queries.mockRestore();
    }
    // and a resource's cursor is no tenant listing's either
    await expect(store.listByTenant('t1', { limit: 1, cursor })).rejects.toMatchObject({ name: 'ValidationError', problems: [{ field: 'cursor' }] });
  });

  it('fits a change too large for one item by noting its largest values, keeping the fields named', async () => {
    const huge = 'x'.repeat(300 * 1024);
    const fitted = fitChanges([
      { field: 'installScript', before: huge, after: `${huge}y` },
      { field: 'name', before: 'a', after: 'b' },
    ]);
    expect(fitted.map((c) => c.field)).toEqual(['installScript', 'name']);
    expect(fitted[1]).toEqual({ field: 'name', before: 'a', after: 'b' });
    expect(fitted[0]?.after).toBe('(301 KB, too large to keep in the audit trail)');
    expect(fitted[0]?.before).toBe('(301 KB, too large to keep in the audit trail)');
    const big = { ...entry('Software', 'big', 1, START), changes: fitted };
    expect(await store.record(big)).toBe(true);
  });
});
