import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoAuditStore } from '../../functions/adapters/audit-store.dynamodb.js';
import { DynamoCatalogStore } from '../../functions/adapters/catalog-store.dynamodb.js';
import { RequestRefusedError, ValidationError } from '../../functions/core/errors.js';
import { importRequestSchema, type ImportRequest } from '../../functions/core/model/inventory.js';
import { importComputers } from '../../functions/core/use-cases/import-computers.js';
import { saveCatalogEntity } from '../../functions/core/use-cases/save-catalog.js';
import { parseInput } from '../../functions/core/validation.js';
import { SandboxManagedNodeInventory } from '../../local/inventory.local.js';
import type { MachineDescriptor } from '../../local/sandbox-agent.js';
import { LocalSecretStore } from '../../local/secret-store.local.js';
import { computer, tenant } from '../support/domain.js';
import { dynamoTable } from '../support/dynamo.js';
import { manualClock } from '../support/fleet.js';

const by = { kind: 'Operator', name: 'ops@msp.example' } as const;
const machine = (agentId: string, name: string, tags: Record<string, string>, online = true): MachineDescriptor => ({ agentId, name, platform: 'linux', online, latencyMs: 0, tags });
const request = (input: unknown): ImportRequest => parseInput(importRequestSchema, input, 'import');

describe('importing computers from the managed-node inventory: each node lands in the tenant its tag maps to', () => {
  let catalog: DynamoCatalogStore;
  let audit: DynamoAuditStore;
  const clock = manualClock(new Date('2026-12-01T09:00:00Z'));
  let secrets: LocalSecretStore;
  let close: () => Promise<void>;
  let machines: MachineDescriptor[] = [];
  const inventory = new SandboxManagedNodeInventory({ describeMachines: () => Promise.resolve(machines) });
  const run = (input: unknown) => importComputers({ catalog, secrets, audit, clock, inventory }, request(input), by);

  beforeAll(async () => {
    const dynamo = await dynamoTable();
    catalog = new DynamoCatalogStore(dynamo.table);
    audit = new DynamoAuditStore(dynamo.table);
    const folder = await mkdtemp(path.join(tmpdir(), 'nightshift-import-'));
    secrets = await LocalSecretStore.open(path.join(folder, 'secrets'), path.join(folder, 'machines'));
    close = async () => {
      await dynamo.close();
      await rm(folder, { recursive: true, force: true });
    };
    for (const id of ['contoso', 'fabrikam']) await saveCatalogEntity({ catalog, secrets, audit, clock }, { kind: 'Tenant', entity: tenant(id) }, by);
  });
  afterAll(() => close());
  beforeEach(() => {
    machines = [];
  });

  const contosoRule = { tag: { key: 'Customer', value: 'contoso' }, tenantId: 'contoso', deviceClass: 'Server', timeZone: 'Europe/Lisbon', addTags: ['imported'] };

  it('a dry run reports what it would create and stores nothing; the real run creates the same computers with the rule\'s class, zone and tags', async () => {
    machines = [machine('i-00000000000000a01', 'web-01', { Customer: 'contoso' }), machine('i-00000000000000a02', 'web-02', { Customer: 'contoso' }, false), machine('i-00000000000000b01', 'other', { Customer: 'someone-else' })];
    const dry = await run({ rules: [contosoRule], dryRun: true });
    expect(dry.counts).toEqual({ Created: 2, Updated: 0, Moved: 0, Unchanged: 0, skipped: 0 });
    expect(await catalog.getComputer('i-00000000000000a01')).toBeUndefined();

    const real = await run({ rules: [contosoRule] });
    expect(real.computers.map((c) => [c.computerId, c.name, c.tenantId, c.outcome])).toEqual(dry.computers.map((c) => [c.computerId, c.name, c.tenantId, c.outcome]));
    expect(await catalog.getComputer('i-00000000000000a02')).toEqual({
      id: 'i-00000000000000a02',
      agentId: 'i-00000000000000a02',
      name: 'web-02',
      tenantId: 'contoso',
      platform: 'linux',
      deviceClass: 'Server',
      tags: ['imported'],
      timeZone: 'Europe/Lisbon',
      online: false,
    });
  });

  it('a second import of an unchanged fleet changes nothing; a renamed node is updated and keeps what an engineer set on it', async () => {
    machines = [machine('i-00000000000000c01', 'desk-01', { Customer: 'contoso' })];
    await run({ rules: [contosoRule] });
    const engineered = { ...(await catalog.getComputer('i-00000000000000c01')), primaryUser: { name: 'Ana', email: 'ana@contoso.example' }, activeHours: { start: '07:00', end: '15:00' } };
    await saveCatalogEntity({ catalog, secrets, audit, clock }, { kind: 'Computer', entity: engineered }, by);

    expect((await run({ rules: [contosoRule] })).counts).toMatchObject({ Unchanged: 1, Created: 0, Updated: 0 });
    machines = [machine('i-00000000000000c01', 'desk-01-renamed', { Customer: 'contoso' })];
    expect((await run({ rules: [contosoRule] })).counts).toMatchObject({ Updated: 1 });
    expect(await catalog.getComputer('i-00000000000000c01')).toMatchObject({ name: 'desk-01-renamed', primaryUser: { name: 'Ana' }, activeHours: { start: '07:00', end: '15:00' } });
  });

  it('a known computer whose tag now maps to another tenant is moved, and says so', async () => {
    await saveCatalogEntity({ catalog, secrets, audit, clock }, { kind: 'Computer', entity: computer('i-00000000000000d01', { agentId: 'i-00000000000000d01', tenantId: 'contoso' }) }, by);
    machines = [machine('i-00000000000000d01', 'laptop', { Customer: 'fabrikam' })];
    const report = await run({ rules: [{ tag: { key: 'Customer', value: 'fabrikam' }, tenantId: 'fabrikam' }] });
    expect(report.computers).toEqual([{ computerId: 'i-00000000000000d01', agentId: 'i-00000000000000d01', name: 'laptop', tenantId: 'fabrikam', outcome: 'Moved' }]);
    expect(await catalog.getComputer('i-00000000000000d01')).toMatchObject({ tenantId: 'fabrikam' });
  });

  it('a node two rules put in different tenants is skipped and named, never guessed; two rules agreeing on a tenant are fine', async () => {
    machines = [machine('i-00000000000000e01', 'shared', { Customer: 'contoso', Site: 'hq' }), machine('i-00000000000000e02', 'agreed', { Customer: 'contoso', Role: 'web' })];
    const report = await run({
      rules: [contosoRule, { tag: { key: 'Site', value: 'hq' }, tenantId: 'fabrikam' }, { tag: { key: 'Role', value: 'web' }, tenantId: 'contoso', addTags: ['web'] }],
    });
    expect(report.skipped).toEqual([{ agentId: 'i-00000000000000e01', reason: 'AmbiguousTenant', detail: 'rules 1, 2 put it in tenants contoso, fabrikam' }]);
    expect(await catalog.getComputer('i-00000000000000e01')).toBeUndefined();
    expect(await catalog.getComputer('i-00000000000000e02')).toMatchObject({ tenantId: 'contoso', tags: ['imported', 'web'] });
  });

  it('a rule naming a tenant that does not exist is refused with the field named, and nothing is imported', async () => {
    machines = [machine('i-00000000000000f01', 'x', { Customer: 'contoso' })];
    const error = await run({ rules: [contosoRule, { tag: { key: 'Customer', value: 'nobody' }, tenantId: 'nobody' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems).toEqual([{ field: 'rules.1.tenantId', problem: 'tenant nobody does not exist' }]);
    expect(await catalog.getComputer('i-00000000000000f01')).toBeUndefined();
  });

  it('more nodes than one import may map are refused before anything is written, with the way out named', async () => {
    machines = Array.from({ length: 2_001 }, (_, index) => machine(`i-${(0x100000 + index).toString(16).padStart(17, '0')}`, `pc-${index}`, { Customer: 'contoso' }));
    const error = await run({ rules: [contosoRule] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestRefusedError);
    expect((error as Error).message).toMatch(/more than 2000 managed nodes; split the import into narrower rules/);
    expect(await catalog.getComputer(machines[0]?.agentId ?? '')).toBeUndefined();
  });

  it('a node whose reported name breaks the catalog\'s rules is skipped with the reason, and the rest import', async () => {
    machines = [machine('i-00000000000000a11', 'x'.repeat(300), { Customer: 'contoso' }), machine('i-00000000000000a12', 'fine', { Customer: 'contoso' })];
    const report = await run({ rules: [contosoRule] });
    expect(report.skipped).toEqual([{ agentId: 'i-00000000000000a11', reason: 'InvalidRecord', detail: 'name must be at most 255 characters' }]);
    expect(report.counts.Created).toBe(1);
  });
});
