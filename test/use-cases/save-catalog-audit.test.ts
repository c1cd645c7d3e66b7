import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAuditStore } from '../../functions/adapters/audit-store.dynamodb.js';
import { DynamoCatalogStore } from '../../functions/adapters/catalog-store.dynamodb.js';
import { ValidationError } from '../../functions/core/errors.js';
import type { SecretStore } from '../../functions/core/ports/secret-store.port.js';
import { saveCatalogEntity, saveCatalogRequestSchema, type CatalogEntityInput } from '../../functions/core/use-cases/save-catalog.js';
import { parseInput } from '../../functions/core/validation.js';
import { computer, deployTask, software, task, tenant } from '../support/domain.js';
import { dynamoTable } from '../support/dynamo.js';
import { manualClock } from '../support/fleet.js';

const ALICE = { kind: 'Operator', name: 'alice@msp.example' } as const;
const BOB = { kind: 'Api', name: 'psa-sync' } as const;

/** Secrets in memory: the audit trail must never see their values. */
class MemorySecrets implements SecretStore {
  readonly values = new Map<string, string>();
  put(reference: string, value: string): Promise<void> {
    this.values.set(reference, value);
    return Promise.resolve();
  }
  delete(references: readonly string[]): Promise<void> {
    for (const reference of references) this.values.delete(reference);
    return Promise.resolve();
  }
}

describe('save-catalog records every catalog change in the audit trail (dynalite)', () => {
  let catalog: DynamoCatalogStore;
  let audit: DynamoAuditStore;
  let close: () => Promise<void>;
  const clock = manualClock(new Date('2026-05-04T08:00:00.000Z'));
  const secrets = new MemorySecrets();
  const deps = () => ({ catalog, audit, secrets, clock });
  const save = (input: CatalogEntityInput, by: typeof ALICE | typeof BOB = ALICE) => {
    clock.advance(60_000);
    return saveCatalogEntity(deps(), input, by);
  };

  beforeAll(async () => {
    const dynamo = await dynamoTable();
    catalog = new DynamoCatalogStore(dynamo.table);
    audit = new DynamoAuditStore(dynamo.table);
    close = dynamo.close;
  });
  afterAll(() => close());

  it('records a creation: who, when, every field it was given, version 1, under its own tenant', async () => {
    await save({ kind: 'Tenant', entity: tenant('acme', { name: 'Acme' }) });
    expect(await audit.list('Tenant', 'acme')).toEqual([
      {
        resource: 'Tenant',
        resourceId: 'acme',
        tenantId: 'acme',
        version: 1,
        at: '2026-05-04T08:01:00.000Z',
        by: ALICE,
        action: 'Created',
        changes: [
          { field: 'excludeFromCrossTenant', after: false },
          { field: 'id', after: 'acme' },
          { field: 'name', after: 'Acme' },
        ],
      },
    ]);
  });

  it('records an update as the fields that changed, before and after, at the next version; an identical save records nothing', async () => {
    await save({ kind: 'Computer', entity: computer('pc-1', { tenantId: 'acme', name: 'Front desk' }) });
    await save({ kind: 'Computer', entity: computer('pc-1', { tenantId: 'acme', name: 'Reception', tags: ['lobby'] }) }, BOB);
    await save({ kind: 'Computer', entity: computer('pc-1', { tenantId: 'acme', name: 'Reception', tags: ['lobby'] }) }, BOB);
    const history = await audit.list('Computer', 'pc-1');
    expect(history.map((e) => [e.version, e.action, e.by.name, e.tenantId])).toEqual([
      [1, 'Created', ALICE.name, 'acme'],
      [2, 'Updated', BOB.name, 'acme'],
    ]);
    expect(history[1]?.changes).toEqual([
      { field: 'name', before: 'Front desk', after: 'Reception' },
      { field: 'tags', before: [], after: ['lobby'] },
    ]);
  });

  it('records a change back to an earlier content as a change of its own (A, B, A: three versions)', async () => {
    for (const name of ['Chrome', 'Chrome browser', 'Chrome']) await save({ kind: 'Software', entity: software('chrome', { name }) });
    const history = await audit.list('Software', 'chrome');
    expect(history.map((e) => [e.version, e.changes.find((c) => c.field === 'name')?.after])).toEqual([
      [1, 'Chrome'],
      [2, 'Chrome browser'],
      [3, 'Chrome'],
    ]);
    // the MSP's catalog belongs to no tenant: it shows in the all-tenant trail only
    expect(history.every((e) => e.tenantId === undefined)).toBe(true);
    const acme = await audit.listByTenant('acme', { limit: 50 });
    expect(acme.items.map((e) => `${e.resource}/${e.resourceId}@${e.version}`)).toEqual(['Computer/pc-1@2', 'Computer/pc-1@1', 'Tenant/acme@1']);
    const everything = await audit.listByTenant(undefined, { limit: 3 });
    expect(everything.items.map((e) => `${e.resource}/${e.resourceId}@${e.version}`)).toEqual(['Software/chrome@3', 'Software/chrome@2', 'Software/chrome@1']);
  });

  it("records a deployment under the tenant it targets, and a secret parameter's new value only as set, never the value", async () => {
    await save({ kind: 'Task', entity: task('licensed', { parameters: [{ name: 'licenceKey', type: 'secret', required: false }] }) });
    const deployment = (licenceKey: string) =>
      ({ kind: 'Deployment', entity: deployTask('lic-acme', 'licensed', { target: { kind: 'Tenant', tenantId: 'acme', includeChildTenants: false }, parameters: { licenceKey } }) }) as const;
    await save(deployment('S3cr3t-one'));
    await save(deployment('(secret)'));
    await save(deployment('S3cr3t-two'));
    const history = await audit.list('Deployment', 'lic-acme');
    expect(JSON.stringify(history)).not.toMatch(/S3cr3t/);
    expect(history.map((e) => [e.version, e.tenantId])).toEqual([
      [1, 'acme'],
      [2, 'acme'],
    ]);
    expect(history[0]?.changes.filter((c) => c.field.startsWith('parameters'))).toEqual([
      { field: 'parameters', after: { licenceKey: '(secret)' } },
      { field: 'parameters.licenceKey', after: '(secret: new value)' },
    ]);
    expect(history[1]?.changes).toEqual([{ field: 'parameters.licenceKey', before: '(secret)', after: '(secret: new value)' }]);
    expect(secrets.values.get('/nightshift/secrets/tenants/acme/lic-acme/licenceKey')).toBe('S3cr3t-two');
  });

  it('records a change before it is stored: a store that fails leaves the entry, and the retry stores it without a second entry', async () => {
    await save({ kind: 'Computer', entity: computer('pc-2', { tenantId: 'acme', name: 'Old name' }) });
    const failing = Object.create(catalog, {
      putComputer: { value: () => Promise.reject(new Error('throttled')) },
    }) as DynamoCatalogStore;
    const renamed = { kind: 'Computer', entity: computer('pc-2', { tenantId: 'acme', name: 'New name' }) } as const;
    await expect(saveCatalogEntity({ ...deps(), catalog: failing }, renamed, ALICE)).rejects.toThrow('throttled');
    expect((await catalog.getComputer('pc-2'))?.name).toBe('Old name');
    expect((await audit.list('Computer', 'pc-2')).map((e) => e.version)).toEqual([1, 2]);

    await save(renamed);
    expect((await catalog.getComputer('pc-2'))?.name).toBe('New name');
    expect((await audit.list('Computer', 'pc-2')).map((e) => e.version)).toEqual([1, 2]);
  });

  it('keeps both of two different saves racing on one entry: each takes its own version', async () => {
    await save({ kind: 'Computer', entity: computer('pc-3', { tenantId: 'acme', name: 'Start' }) });
    await Promise.all([
      saveCatalogEntity(deps(), { kind: 'Computer', entity: computer('pc-3', { tenantId: 'acme', name: 'Alice was here' }) }, ALICE),
      saveCatalogEntity(deps(), { kind: 'Computer', entity: computer('pc-3', { tenantId: 'acme', name: 'Bob was here' }) }, BOB),
    ]);
    const history = await audit.list('Computer', 'pc-3');
    expect(history.map((e) => e.version)).toEqual([1, 2, 3]);
    expect(history.slice(1).map((e) => e.by.name).sort()).toEqual([ALICE.name, BOB.name].sort());
  });

  it('records nothing for a rejected entity', async () => {
    await expect(save({ kind: 'Computer', entity: computer('pc-4', { tenantId: 'nowhere' }) })).rejects.toBeInstanceOf(ValidationError);
    expect(await audit.list('Computer', 'pc-4')).toEqual([]);
  });

  it("takes the handler's request only with who makes the change (`by`), named when missing", () => {
    const entity = { ...tenant('t9') };
    expect(parseInput(saveCatalogRequestSchema, { kind: 'Tenant', entity, by: ALICE }, 'save-catalog input')).toMatchObject({ kind: 'Tenant', by: ALICE });
    const missing = (() => {
      try {
        parseInput(saveCatalogRequestSchema, { kind: 'Tenant', entity }, 'save-catalog input');
        return [];
      } catch (error) {
        return error instanceof ValidationError ? error.problems.map((p) => p.field) : ['not a ValidationError'];
      }
    })();
    expect(missing).toEqual(['by']);
  });
});
