import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAuditStore } from '../../functions/adapters/audit-store.dynamodb.js';
import { DynamoCatalogStore } from '../../functions/adapters/catalog-store.dynamodb.js';
import type { DynamoTable } from '../../functions/adapters/dynamodb-table.js';
import { secretReference } from '../../functions/core/catalog/secrets.js';
import { ConflictError, NotFoundError, ValidationError } from '../../functions/core/errors.js';
import type { StoredTask } from '../../functions/core/model/catalog.js';
import { DELETED_ITEM_KEPT_DAYS, RETIRED_SECRETS_KEPT_DAYS } from '../../functions/core/ports/catalog-store.port.js';
import type { SecretStore } from '../../functions/core/ports/secret-store.port.js';
import { retireDueSecrets } from '../../functions/core/use-cases/retire-secrets.js';
import { createSchedule, deleteSchedule } from '../../functions/core/use-cases/manage-schedules.js';
import { deleteCatalogEntity, saveCatalogEntity, type CatalogDeletion, type CatalogEntityInput } from '../../functions/core/use-cases/save-catalog.js';
import { InMemoryMetrics } from '../../functions/adapters/metrics.memory.js';
import { DynamoScheduleStore } from '../../functions/adapters/schedule-store.dynamodb.js';
import { deploySoftware, deployTask, software, task, tenant } from '../support/domain.js';
import { dynamoTable } from '../support/dynamo.js';
import { manualClock, sequentialIds } from '../support/fleet.js';
import { InMemoryScheduleTriggers, scheduleInput } from '../support/schedules.js';
import { RetentionSweep } from '../../local/retention-sweep.js';

const ALICE = { kind: 'Operator', name: 'alice@msp.example' } as const;
const BOB = { kind: 'Operator', name: 'bob@msp.example' } as const;
const DAY_MS = 86_400_000;
const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** Secrets in memory, each call in order: a deleted deployment's secrets must go, and only after its item. */
class MemorySecrets implements SecretStore {
  readonly values = new Map<string, string>();
  readonly calls: string[] = [];
  put(reference: string, value: string): Promise<void> {
    this.calls.push(`put ${reference}`);
    this.values.set(reference, value);
    return Promise.resolve();
  }
  delete(references: readonly string[]): Promise<void> {
    this.calls.push(`delete ${references.join(',')}`);
    for (const reference of references) this.values.delete(reference);
    return Promise.resolve();
  }
}

/**
 * Software, tasks and deployments carry a revision: every write is one
 * conditional write at the revision the change was decided on, the audit
 * entry of each change has the revision's number, and a deletion is refused
 * while anything refers to the entity. Over dynalite, with the real stores.
 */
describe('catalog revisions (dynalite)', () => {
  let table: DynamoTable;
  let catalog: DynamoCatalogStore;
  let audit: DynamoAuditStore;
  let schedules: DynamoScheduleStore;
  let close: () => Promise<void>;
  const clock = manualClock(new Date('2026-05-04T08:00:00.000Z'));
  const secrets = new MemorySecrets();
  const deps = () => ({ catalog, audit, secrets, clock, schedules });
  const scheduleDeps = () => ({ ...deps(), scheduleTriggers: new InMemoryScheduleTriggers(), ids: sequentialIds(), logger: silent, metrics: new InMemoryMetrics() });
  const save = (input: CatalogEntityInput, by: typeof ALICE | typeof BOB = ALICE) => saveCatalogEntity(deps(), input, by);
  const remove = (deletion: CatalogDeletion, by: typeof ALICE | typeof BOB = ALICE) => deleteCatalogEntity(deps(), deletion, by);
  const history = async (resource: 'Software' | 'Task' | 'Deployment', id: string) => (await audit.list(resource, id)).map((entry) => [entry.version, entry.action, entry.by.name]);
  const refusal = async (work: Promise<unknown>): Promise<unknown> => work.then(() => 'saved', (error: unknown) => error);

  beforeAll(async () => {
    const dynamo = await dynamoTable();
    table = dynamo.table;
    catalog = new DynamoCatalogStore(dynamo.table);
    audit = new DynamoAuditStore(dynamo.table);
    schedules = new DynamoScheduleStore(dynamo.table);
    close = dynamo.close;
    await save({ kind: 'Tenant', entity: tenant('acme') });
  });
  afterAll(() => close());

  it('creates at revision 1 and changes at the revision read, each revision the version of the audit entry that made it', async () => {
    const created = await save({ kind: 'Software', entity: software('editor'), expectedRevision: 0 });
    expect(created).toMatchObject({ kind: 'Software', entity: { id: 'editor', revision: 1 } });
    expect((await catalog.getSoftware(['editor']))[0]?.revision).toBe(1);
    const changed = await save({ kind: 'Software', entity: software('editor', { latestVersion: '2.1' }), expectedRevision: 1 }, BOB);
    expect(changed.entity).toMatchObject({ latestVersion: '2.1', revision: 2 });
    expect(await catalog.getSoftware(['editor'])).toEqual([{ ...software('editor', { latestVersion: '2.1' }), revision: 2 }]);
    expect(await history('Software', 'editor')).toEqual([
      [1, 'Created', ALICE.name],
      [2, 'Updated', BOB.name],
    ]);
    // the revision is bookkeeping: the trail shows what someone changed
    expect((await audit.list('Software', 'editor'))[1]?.changes).toEqual([{ field: 'latestVersion', before: '2.0', after: '2.1' }]);
  });

  it('refuses a change decided on a stale revision with a conflict naming the stored one, and changes nothing', async () => {
    const stale = await refusal(save({ kind: 'Software', entity: software('editor', { latestVersion: '9.0' }), expectedRevision: 1 }));
    expect(stale).toBeInstanceOf(ConflictError);
    expect((stale as Error).message).toBe('software editor is at revision 2, not 1: someone else changed it since it was read; read it again');
    expect((await catalog.getSoftware(['editor']))[0]).toMatchObject({ latestVersion: '2.1', revision: 2 });
    expect(await history('Software', 'editor')).toHaveLength(2);
  });

  it('refuses a create whose id is taken (409), and a change of one that does not exist (404)', async () => {
    const taken = await refusal(save({ kind: 'Software', entity: software('editor', { name: 'Another' }), expectedRevision: 0 }));
    expect(taken).toBeInstanceOf(ConflictError);
    expect((taken as Error).message).toBe('software editor exists already (at revision 2); choose another id, or change that one');
    expect(await refusal(save({ kind: 'Task', entity: task('nowhere'), expectedRevision: 3 }))).toBeInstanceOf(NotFoundError);
    expect(await catalog.getTasks(['nowhere'])).toEqual([]);
    expect(await audit.list('Task', 'nowhere')).toEqual([]);
  });

  it('lets exactly one of many concurrent changes at the same revision through; the rest are refused and leave no entry', async () => {
    await save({ kind: 'Task', entity: task('tidy'), expectedRevision: 0 });
    const names = ['one', 'two', 'three', 'four', 'five', 'six'];
    const outcomes = await Promise.allSettled(names.map((name) => save({ kind: 'Task', entity: task('tidy', { name }), expectedRevision: 1 })));
    const won = outcomes.flatMap((outcome, index) => (outcome.status === 'fulfilled' ? [names[index]] : []));
    expect(won).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome.status === 'rejected').every((outcome) => outcome.reason instanceof ConflictError)).toBe(true);
    expect((await catalog.getTasks(['tidy']))[0]).toMatchObject({ name: won[0], revision: 2 });
    const entries = await audit.list('Task', 'tidy');
    expect(entries.map((entry) => entry.version)).toEqual([1, 2]);
    expect(entries[1]?.changes).toEqual([{ field: 'name', before: 'tidy', after: won[0] }]);
  });

  it('writes the item only at the revision it read: a write landing between the read and the write is refused, not overwritten', async () => {
    await save({ kind: 'Task', entity: task('racy'), expectedRevision: 0 });
    // someone writes behind the trail's back (a fleet seed) just before this save writes the item
    const late = Object.create(catalog, {
      putTask: {
        value: async (item: StoredTask, expected: number) => {
          await catalog.putTask(task('racy', { name: 'seeded meanwhile' }));
          return catalog.putTask(item, expected);
        },
      },
    }) as DynamoCatalogStore;
    const refused = await refusal(saveCatalogEntity({ ...deps(), catalog: late }, { kind: 'Task', entity: task('racy', { name: 'mine' }), expectedRevision: 1 }, ALICE));
    expect(refused).toBeInstanceOf(ConflictError);
    expect((await catalog.getTasks(['racy']))[0]).toMatchObject({ name: 'seeded meanwhile', revision: 2 });
  });

  it('answers a repeat of a stored change (its answer lost) with what it stored, and a change that changes nothing with no new revision', async () => {
    const first = await save({ kind: 'Task', entity: task('tidy', { name: 'Tidy temp' }), expectedRevision: 2 });
    expect(first.entity).toMatchObject({ revision: 3 });
    expect(await save({ kind: 'Task', entity: task('tidy', { name: 'Tidy temp' }), expectedRevision: 2 })).toEqual(first);
    expect(await save({ kind: 'Task', entity: task('tidy', { name: 'Tidy temp' }), expectedRevision: 3 })).toEqual(first);
    expect((await audit.list('Task', 'tidy')).map((entry) => entry.version)).toEqual([1, 2, 3]);
    // without an expected revision (the demo seed, the operator handler): create or replace what is stored now
    expect((await save({ kind: 'Task', entity: task('tidy', { name: 'Tidy /tmp' }) })).entity).toMatchObject({ name: 'Tidy /tmp', revision: 4 });
    expect((await save({ kind: 'Task', entity: task('seeded') })).entity).toMatchObject({ revision: 1 });
  });

  it('survives a save that dies between its entry and its item: the retry stores it under the same version, and anyone else waits for it, then goes after it', async () => {
    await save({ kind: 'Software', entity: software('viewer'), expectedRevision: 0 });
    const dying = Object.create(catalog, { putSoftware: { value: () => Promise.reject(new Error('the function was stopped')) } }) as DynamoCatalogStore;
    const renamed = { kind: 'Software', entity: software('viewer', { name: 'Viewer 2' }), expectedRevision: 1 } as const;
    await expect(saveCatalogEntity({ ...deps(), catalog: dying }, renamed, ALICE)).rejects.toThrow('stopped');
    expect((await catalog.getSoftware(['viewer']))[0]).toMatchObject({ name: 'Viewer', revision: 1 });
    expect(await history('Software', 'viewer')).toEqual([
      [1, 'Created', ALICE.name],
      [2, 'Updated', ALICE.name],
    ]);

    // the same change again: its own entry, stored at last
    expect((await save(renamed)).entity).toMatchObject({ name: 'Viewer 2', revision: 2 });
    expect(await history('Software', 'viewer')).toHaveLength(2);

    // it dies again; a different change is refused while the dead one might still land...
    await expect(saveCatalogEntity({ ...deps(), catalog: dying }, { kind: 'Software', entity: software('viewer', { name: 'Viewer 3' }), expectedRevision: 2 }, ALICE)).rejects.toThrow('stopped');
    const bobs = { kind: 'Software', entity: software('viewer', { name: 'Bob’s viewer' }), expectedRevision: 2 } as const;
    expect(await refusal(save(bobs, BOB))).toBeInstanceOf(ConflictError);
    // ...and goes after it once it cannot: the item skips the dead entry's version
    clock.advance(61_000);
    expect((await save(bobs, BOB)).entity).toMatchObject({ name: 'Bob’s viewer', revision: 4 });
    expect(await history('Software', 'viewer')).toEqual([
      [1, 'Created', ALICE.name],
      [2, 'Updated', ALICE.name],
      [3, 'Updated', ALICE.name],
      [4, 'Updated', BOB.name],
    ]);
  });

  it('reads an item stored before revisions as revision 1, and takes its next change after its recorded history', async () => {
    await table.putIf({ PK: 'SOFTWARE#old', SK: 'SOFTWARE', entity: 'Software', GSI1PK: 'SOFTWARE', GSI1SK: 'Old#old', ...software('old') }, undefined);
    for (const version of [1, 2, 3]) {
      await audit.record({ resource: 'Software', resourceId: 'old', version, at: '2026-01-01T00:00:00.000Z', by: ALICE, action: version === 1 ? 'Created' : 'Updated', changes: [{ field: 'name', after: `v${String(version)}` }] });
    }
    expect((await catalog.getSoftware(['old']))[0]?.revision).toBe(1);
    expect((await catalog.listSoftware()).find((item) => item.id === 'old')?.revision).toBe(1);
    expect(await refusal(save({ kind: 'Software', entity: software('old', { name: 'Older' }), expectedRevision: 2 }))).toBeInstanceOf(ConflictError);
    expect((await save({ kind: 'Software', entity: software('old', { name: 'Older' }), expectedRevision: 1 })).entity).toMatchObject({ revision: 4 });
    expect((await audit.list('Software', 'old')).map((entry) => entry.version)).toEqual([1, 2, 3, 4]);
  });

  it('refuses to delete software a deployment or another software needs, and a task a deployment runs, naming them; a stale revision is refused too', async () => {
    await save({ kind: 'Software', entity: software('runtime'), expectedRevision: 0 });
    await save({ kind: 'Software', entity: software('app', { dependencies: [{ softwareId: 'runtime', requires: 'Installed' }] }), expectedRevision: 0 });
    await save({ kind: 'Deployment', entity: deploySoftware('deploy-runtime', 'runtime'), expectedRevision: 0 });
    await save({ kind: 'Deployment', entity: deployTask('deploy-tidy', 'tidy', { mode: 'Audit' }), expectedRevision: 0 });

    const runtime = await refusal(remove({ kind: 'Software', id: 'runtime', expectedRevision: 1 }));
    expect(runtime).toBeInstanceOf(ConflictError);
    expect((runtime as Error).message).toBe('software runtime is still used by deployment deploy-runtime and by software app (a dependency); change or delete those first');
    const tidy = await refusal(remove({ kind: 'Task', id: 'tidy', expectedRevision: 4 }));
    expect((tidy as Error).message).toBe('maintenance task tidy is still used by deployment deploy-tidy; change or delete those first');
    expect(await refusal(remove({ kind: 'Software', id: 'app', expectedRevision: 7 }))).toMatchObject({ name: 'ConflictError', message: expect.stringContaining('is at revision 1, not 7') as unknown });
    expect(await refusal(remove({ kind: 'Software', id: 'ghost', expectedRevision: 1 }))).toBeInstanceOf(NotFoundError);
    expect(await catalog.getSoftware(['runtime', 'app'])).toHaveLength(2);
    expect(await catalog.getTasks(['tidy'])).toHaveLength(1);
    expect(await audit.list('Software', 'runtime')).toHaveLength(1);
  });

  it('deletes once nothing refers to it, recording who deleted what; an id deleted and created again goes on with its history', async () => {
    await remove({ kind: 'Deployment', id: 'deploy-runtime', expectedRevision: 1 });
    await remove({ kind: 'Software', id: 'app', expectedRevision: 1 }, BOB);
    await remove({ kind: 'Software', id: 'runtime', expectedRevision: 1 });
    expect(await catalog.getSoftware(['runtime', 'app'])).toEqual([]);
    expect(await catalog.getDeployment('deploy-runtime')).toBeUndefined();
    const deleted = await audit.list('Software', 'app');
    expect(deleted.map((entry) => [entry.version, entry.action, entry.by.name])).toEqual([
      [1, 'Created', ALICE.name],
      [2, 'Deleted', BOB.name],
    ]);
    expect(deleted[1]?.changes).toContainEqual({ field: 'dependencies', before: [{ softwareId: 'runtime', requires: 'Installed' }] });
    // its history is kept under the id: a new one continues it rather than starting again at 1
    expect((await save({ kind: 'Software', entity: software('app'), expectedRevision: 0 })).entity).toMatchObject({ revision: 3 });
    expect((await audit.list('Software', 'app')).map((entry) => [entry.version, entry.action])).toEqual([
      [1, 'Created'],
      [2, 'Deleted'],
      [3, 'Created'],
    ]);
  });

  it('refuses to delete an item a schedule is limited to, naming the schedule, and deletes it once the schedule is gone', async () => {
    await save({ kind: 'Software', entity: software('pinned'), expectedRevision: 0 });
    await save({ kind: 'Task', entity: task('weekly-audit'), expectedRevision: 0 });
    const { schedule } = await createSchedule(scheduleDeps(), { input: scheduleInput({ limitTo: 'software:pinned' }), scheduleId: 'only-pinned', by: ALICE });
    await createSchedule(scheduleDeps(), { input: scheduleInput({ limitTo: 'task:weekly-audit' }), scheduleId: 'audit-a', by: ALICE });
    await createSchedule(scheduleDeps(), { input: scheduleInput({ limitTo: 'task:weekly-audit' }), scheduleId: 'audit-b', by: ALICE });

    const pinned = await refusal(remove({ kind: 'Software', id: 'pinned', expectedRevision: 1 }));
    expect(pinned).toBeInstanceOf(ConflictError);
    expect((pinned as Error).message).toBe('software pinned is still used by schedule only-pinned (limited to it); change or delete those first');
    expect((await refusal(remove({ kind: 'Task', id: 'weekly-audit', expectedRevision: 1 })) as Error).message).toBe(
      'maintenance task weekly-audit is still used by schedules audit-a, audit-b (limited to it); change or delete those first',
    );
    expect(await catalog.getSoftware(['pinned'])).toHaveLength(1);

    await deleteSchedule(scheduleDeps(), { scheduleId: schedule.id, expectedVersion: schedule.version, by: ALICE });
    await remove({ kind: 'Software', id: 'pinned', expectedRevision: 1 });
    expect(await catalog.getSoftware(['pinned'])).toEqual([]);
  });

  it("retires a deployment's stored secrets after its item (kept for the sessions under way, deleted when due), records the deletion under its tenant, and a repeat of the deletion finishes what it left", async () => {
    await save({ kind: 'Task', entity: task('licensed', { parameters: [{ name: 'licenceKey', type: 'secret', required: false }, { name: 'pin', type: 'secret', required: false }] }), expectedRevision: 0 });
    const target = { kind: 'Tenant', tenantId: 'acme', includeChildTenants: false } as const;
    await save({ kind: 'Deployment', entity: deployTask('lic-acme', 'licensed', { target, parameters: { licenceKey: 'S3cr3t', pin: '1234' } }), expectedRevision: 0 });
    const acme = { kind: 'Tenant', tenantId: 'acme' } as const;
    const reference = secretReference(acme, 'lic-acme', 'licenceKey');
    expect(secrets.values.get(reference)).toBe('S3cr3t');

    const order: string[] = [];
    const watched = Object.create(catalog, {
      deleteDeployment: {
        value: (id: string, revision: number) => {
          order.push('item');
          return catalog.deleteDeployment(id, revision);
        },
      },
      retireSecrets: {
        value: () => {
          order.push('secrets');
          return Promise.reject(new Error('the table is down'));
        },
      },
    }) as DynamoCatalogStore;
    await expect(deleteCatalogEntity({ ...deps(), catalog: watched }, { kind: 'Deployment', id: 'lic-acme', expectedRevision: 1 }, ALICE)).rejects.toThrow('the table is down');
    expect(order).toEqual(['item', 'secrets']);
    expect(await catalog.getDeployment('lic-acme')).toBeUndefined();
    expect(await catalog.listRetiredSecretsDue('9999-12-31T00:00:00.000Z', 100)).toEqual([]);

    // the repeat finds the item gone and its deletion recorded by the same person: it retires the secrets and is answered as done
    await remove({ kind: 'Deployment', id: 'lic-acme', expectedRevision: 1 });
    // in both places a deployment may keep them: its target may have moved them since they were written
    const shared = { kind: 'Shared' } as const;
    const retiredAt = clock.now().toISOString();
    expect(await catalog.listRetiredSecretsDue('9999-12-31T00:00:00.000Z', 100)).toEqual([
      {
        deploymentId: 'lic-acme',
        revision: 2,
        references: [secretReference(shared, 'lic-acme', 'licenceKey'), reference, secretReference(shared, 'lic-acme', 'pin'), secretReference(acme, 'lic-acme', 'pin')],
        retiredAt,
        deleteAfter: new Date(clock.now().getTime() + RETIRED_SECRETS_KEPT_DAYS * DAY_MS).toISOString(),
      },
    ]);
    // a session notified before the deletion still runs its task with the key until the retirement is due
    expect(secrets.values.get(reference)).toBe('S3cr3t');
    const retire = () => retireDueSecrets({ ...deps(), logger: silent }, { limit: 100 });
    clock.advance(RETIRED_SECRETS_KEPT_DAYS * DAY_MS - 1);
    expect(await retire()).toEqual({ retirements: 0, deleted: 0, kept: 0 });
    expect(secrets.values.get(reference)).toBe('S3cr3t');
    clock.advance(1);
    expect(await retire()).toEqual({ retirements: 1, deleted: 4, kept: 0 });
    expect(secrets.values.has(reference)).toBe(false);
    expect(secrets.values.has(secretReference(acme, 'lic-acme', 'pin'))).toBe(false);
    expect(await catalog.listRetiredSecretsDue('9999-12-31T00:00:00.000Z', 100)).toEqual([]);

    const entries = await audit.list('Deployment', 'lic-acme');
    expect(entries.map((entry) => [entry.version, entry.action, entry.tenantId])).toEqual([
      [1, 'Created', 'acme'],
      [2, 'Deleted', 'acme'],
    ]);
    expect(JSON.stringify(entries)).not.toContain('S3cr3t');
    // someone else's repeat, or one at another revision, finds nothing to delete
    expect(await refusal(remove({ kind: 'Deployment', id: 'lic-acme', expectedRevision: 1 }, BOB))).toBeInstanceOf(NotFoundError);
    expect(await refusal(remove({ kind: 'Deployment', id: 'lic-acme', expectedRevision: 2 }))).toBeInstanceOf(NotFoundError);
  });

  it('keeps a retired secret that the deployment, made again under the same id, names by the time the retirement is due', async () => {
    await save({ kind: 'Task', entity: task('keyed', { parameters: [{ name: 'licenceKey', type: 'secret', required: false }, { name: 'pin', type: 'secret', required: false }] }), expectedRevision: 0 });
    await save({ kind: 'Deployment', entity: deployTask('again', 'keyed', { parameters: { licenceKey: 'first-key', pin: '1111' } }), expectedRevision: 0 });
    await remove({ kind: 'Deployment', id: 'again', expectedRevision: 1 });
    // made again with a new key (and no pin): the new key is stored where the old one was
    await save({ kind: 'Deployment', entity: deployTask('again', 'keyed', { parameters: { licenceKey: 'second-key' } }), expectedRevision: 0 });
    const shared = { kind: 'Shared' } as const;
    clock.advance(RETIRED_SECRETS_KEPT_DAYS * DAY_MS);
    const result = await retireDueSecrets({ ...deps(), logger: silent }, { limit: 100 });
    expect(result.kept).toBeGreaterThanOrEqual(1);
    expect(secrets.values.get(secretReference(shared, 'again', 'licenceKey'))).toBe('second-key');
    expect(secrets.values.has(secretReference(shared, 'again', 'pin'))).toBe(false);
  });

  it('counts what a retirement deleted and kept exactly, asks the secret store nothing when every reference is named again, and logs only a run that found retirements due', async () => {
    const logged: [string, Record<string, unknown> | undefined][] = [];
    const logger = { ...silent, info: (message: string, fields?: Record<string, unknown>) => void logged.push([message, fields]) };
    const retire = () => retireDueSecrets({ ...deps(), logger }, { limit: 100 });
    // what the other tests left due goes first, so the counts below are this test's alone
    clock.advance(RETIRED_SECRETS_KEPT_DAYS * DAY_MS);
    await retire();
    logged.length = 0;

    await save({ kind: 'Task', entity: task('kept-keys', { parameters: [{ name: 'licenceKey', type: 'secret', required: false }, { name: 'pin', type: 'secret', required: false }] }), expectedRevision: 0 });
    const both = { parameters: { licenceKey: 'k1', pin: '1111' } };
    await save({ kind: 'Deployment', entity: deployTask('named-again', 'kept-keys', both), expectedRevision: 0 });
    await save({ kind: 'Deployment', entity: deployTask('half-named', 'kept-keys', both), expectedRevision: 0 });
    // named-again: deleted, then made again naming both keys; half-named: changed to set no pin
    await remove({ kind: 'Deployment', id: 'named-again', expectedRevision: 1 });
    await save({ kind: 'Deployment', entity: deployTask('named-again', 'kept-keys', { parameters: { licenceKey: 'k2', pin: '2222' } }), expectedRevision: 0 });
    await save({ kind: 'Deployment', entity: deployTask('half-named', 'kept-keys', { parameters: { licenceKey: 'k1' } }), expectedRevision: 1 });
    const shared = { kind: 'Shared' } as const;
    expect((await catalog.listRetiredSecretsDue('9999-12-31T00:00:00.000Z', 100)).map((retired) => [retired.deploymentId, retired.references])).toEqual([
      ['half-named', [secretReference(shared, 'half-named', 'pin')]],
      ['named-again', [secretReference(shared, 'named-again', 'licenceKey'), secretReference(shared, 'named-again', 'pin')]],
    ]);

    clock.advance(RETIRED_SECRETS_KEPT_DAYS * DAY_MS);
    const calls = secrets.calls.length;
    expect(await retire()).toEqual({ retirements: 2, deleted: 1, kept: 2 });
    // one deletion, of half-named's pin; named-again's retirement deletes nothing and sends no empty request (SSM refuses one)
    expect(secrets.calls.slice(calls)).toEqual([`delete ${secretReference(shared, 'half-named', 'pin')}`]);
    expect(secrets.values.get(secretReference(shared, 'named-again', 'pin'))).toBe('2222');
    expect(secrets.values.get(secretReference(shared, 'half-named', 'licenceKey'))).toBe('k1');
    expect(logged).toEqual([['retired secrets deleted', { retirements: 2, deleted: 1, kept: 2 }]]);

    expect(await retire()).toEqual({ retirements: 0, deleted: 0, kept: 0 });
    expect(logged).toHaveLength(1);
  });

  it('lets exactly one of two concurrent deletions at the same revision record it', async () => {
    await save({ kind: 'Software', entity: software('twice'), expectedRevision: 0 });
    const outcomes = await Promise.allSettled([remove({ kind: 'Software', id: 'twice', expectedRevision: 1 }), remove({ kind: 'Software', id: 'twice', expectedRevision: 1 }, BOB)]);
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    expect(await history('Software', 'twice')).toEqual([
      [1, 'Created', ALICE.name],
      [2, 'Deleted', expect.any(String) as string],
    ]);
  });
  it('deletes software and a task as tombstones: only a session step (includeDeleted) still reads them, at the deletion\'s revision; reads, lists and new references see them gone', async () => {
    await save({ kind: 'Software', entity: software('retired'), expectedRevision: 0 });
    await save({ kind: 'Task', entity: task('old-chore'), expectedRevision: 0 });
    const deletedAt = clock.now().toISOString();
    await remove({ kind: 'Software', id: 'retired', expectedRevision: 1 });
    await remove({ kind: 'Task', id: 'old-chore', expectedRevision: 1 });

    // what a session's step reads: the item as it was, marked, at the deletion's revision (its audit entry's version)
    expect(await catalog.getSoftware(['retired'], { includeDeleted: true })).toEqual([{ ...software('retired'), revision: 2, deletedAt }]);
    expect(await catalog.getTasks(['old-chore'], { includeDeleted: true })).toEqual([{ ...task('old-chore'), revision: 2, deletedAt }]);
    expect(await history('Software', 'retired')).toEqual([
      [1, 'Created', ALICE.name],
      [2, 'Deleted', ALICE.name],
    ]);
    // what everyone else reads: nothing
    expect(await catalog.getSoftware(['retired'])).toEqual([]);
    expect(await catalog.getTasks(['old-chore'])).toEqual([]);
    expect((await catalog.listSoftware()).map((item) => item.id)).not.toContain('retired');
    expect((await catalog.listTasks()).map((item) => item.id)).not.toContain('old-chore');
    // one item, out of its list, expiring once no session can hold it
    const raw = await table.get('SOFTWARE#retired', 'SOFTWARE');
    expect(raw).toMatchObject({ deletedAt, revision: 2, expiresAt: Math.floor(Date.parse(deletedAt) / 1000) + DELETED_ITEM_KEPT_DAYS * 86_400 });
    expect(raw).not.toHaveProperty('GSI1PK');
    expect(raw).not.toHaveProperty('GSI1SK');

    // nothing new may refer to it
    const deployment = await refusal(save({ kind: 'Deployment', entity: deploySoftware('deploy-retired', 'retired'), expectedRevision: 0 }));
    expect(deployment).toBeInstanceOf(ValidationError);
    expect((deployment as ValidationError).problems).toContainEqual({ field: 'softwareId', problem: 'software retired does not exist' });
    const chore = await refusal(save({ kind: 'Deployment', entity: deployTask('deploy-chore', 'old-chore'), expectedRevision: 0 }));
    expect((chore as ValidationError).problems).toContainEqual({ field: 'taskId', problem: 'maintenance task old-chore does not exist' });
    const dependent = await refusal(save({ kind: 'Software', entity: software('needs-retired', { dependencies: [{ softwareId: 'retired', requires: 'Installed' }] }), expectedRevision: 0 }));
    expect((dependent as ValidationError).problems).toContainEqual({ field: 'dependencies.0.softwareId', problem: 'software retired does not exist' });

    // nor bring it back as a change: not through the API (404)...
    expect(await refusal(save({ kind: 'Software', entity: software('retired', { name: 'Back' }), expectedRevision: 2 }))).toBeInstanceOf(NotFoundError);
    // ...nor at the store, even at the tombstone's own revision
    expect(await catalog.putSoftware({ ...software('retired', { name: 'Back' }), revision: 3 }, 2)).toBe(false);
    expect(await catalog.deleteSoftware('retired', 2, { revision: 3, at: deletedAt })).toBe(false);
    // a repeat of the deletion is answered as done; anyone else's finds nothing to delete
    await remove({ kind: 'Software', id: 'retired', expectedRevision: 1 });
    expect(await refusal(remove({ kind: 'Software', id: 'retired', expectedRevision: 1 }, BOB))).toBeInstanceOf(NotFoundError);
    expect((await catalog.getSoftware(['retired'], { includeDeleted: true }))[0]).toMatchObject({ revision: 2, deletedAt });
  });

  it('creates an id again over its tombstone, continuing its numbering, listed again and no longer marked deleted', async () => {
    expect((await save({ kind: 'Software', entity: software('retired', { name: 'Retired again' }), expectedRevision: 0 }, BOB)).entity).toMatchObject({ revision: 3 });
    expect(await catalog.getSoftware(['retired'], { includeDeleted: true })).toEqual([{ ...software('retired', { name: 'Retired again' }), revision: 3 }]);
    expect((await catalog.listSoftware()).map((item) => item.id)).toContain('retired');
    expect(await table.get('SOFTWARE#retired', 'SOFTWARE')).not.toHaveProperty('expiresAt');
    expect(await history('Software', 'retired')).toEqual([
      [1, 'Created', ALICE.name],
      [2, 'Deleted', ALICE.name],
      [3, 'Created', BOB.name],
    ]);
    // the seed's write (no expected revision) over a tombstone is a create after it too
    expect((await save({ kind: 'Task', entity: task('old-chore') })).entity).toMatchObject({ revision: 3 });
    expect((await catalog.listTasks()).map((item) => item.id)).toContain('old-chore');
    // and so is the store's own write without one (a fleet seed), straight over the tombstone
    await save({ kind: 'Task', entity: task('reseeded'), expectedRevision: 0 });
    await remove({ kind: 'Task', id: 'reseeded', expectedRevision: 1 });
    expect(await catalog.putTask(task('reseeded', { name: 'Seeded again' }))).toBe(true);
    expect(await catalog.getTasks(['reseeded'], { includeDeleted: true })).toEqual([{ ...task('reseeded', { name: 'Seeded again' }), revision: 3 }]);
    expect((await catalog.listTasks()).map((item) => item.id)).toContain('reseeded');
  });

  it('lets the retention sweep (DynamoDB TTL locally) remove a tombstone once no session can hold it, and not before', async () => {
    await save({ kind: 'Task', entity: task('short-lived'), expectedRevision: 0 });
    await remove({ kind: 'Task', id: 'short-lived', expectedRevision: 1 });
    const sweep = new RetentionSweep(table, clock, silent);
    clock.advance(DELETED_ITEM_KEPT_DAYS * DAY_MS - 1_000);
    await sweep.sweepOnce();
    expect(await catalog.getTasks(['short-lived'], { includeDeleted: true })).toHaveLength(1);
    clock.advance(1_000);
    await sweep.sweepOnce();
    expect(await catalog.getTasks(['short-lived'], { includeDeleted: true })).toEqual([]);
    // what is not deleted never expires
    expect(await catalog.getTasks(['old-chore'])).toHaveLength(1);
  });
});
