import { ConflictError } from '../core/errors.js';
import type { Computer, Deployment, ItemKey, MaintenanceTask, Revised, Software, StoredDeployment, StoredSoftware, StoredTask, Tenant } from '../core/model/catalog.js';
import { DELETED_ITEM_KEPT_DAYS, LEGACY_REVISION, type CatalogStore, type Deletion, type Kept, type ReadOptions, type RetiredSecrets } from '../core/ports/catalog-store.port.js';
import { TABLE_DEFINITION } from './table-definition.js';
import { toEntity, type DynamoTable } from './dynamodb-table.js';

/** Where the catalog keeps an item's entity; the session store reads it beside an action's own records. */
export const catalogEntryKey = (itemKey: ItemKey): { PK: string; SK: string } => {
  const [kind, id] = itemKey.startsWith('software:') ? ['SOFTWARE', itemKey.slice('software:'.length)] : ['TASK', itemKey.slice('task:'.length)];
  return { PK: `${kind}#${id}`, SK: kind };
};

type Item = Record<string, unknown>;

/** How one kind of revised entity is kept: its key, and where it sorts in its list. */
interface RevisedKind<T> {
  readonly prefix: string;
  readonly sk: string;
  readonly listPartition: string;
  readonly listSort: (entity: T) => string;
  readonly entity: string;
}

const SOFTWARE: RevisedKind<Software> = { prefix: 'SOFTWARE', sk: 'SOFTWARE', listPartition: 'SOFTWARE', listSort: (s) => `${s.name}#${s.id}`, entity: 'Software' };
const TASK: RevisedKind<MaintenanceTask> = { prefix: 'TASK', sk: 'TASK', listPartition: 'TASKS', listSort: (t) => `${t.name}#${t.id}`, entity: 'Task' };
const DEPLOYMENT: RevisedKind<Deployment> = { prefix: 'DEPLOYMENT', sk: 'DEPLOYMENT', listPartition: 'DEPLOYMENTS', listSort: (d) => d.id, entity: 'Deployment' };

const REVISION = 'revision';
/** Marks a tombstone (see `CatalogStore`): the item as it was deleted, for the sessions still holding it. */
const DELETED_AT = 'deletedAt';

const isTombstone = (item: Item): boolean => typeof item[DELETED_AT] === 'string';

/** The entity of a revised item, with its revision; an item written before revisions were kept reads as `LEGACY_REVISION`. */
function toRevised<T>(item: Item): Revised<T> {
  const revision = item[REVISION];
  return { ...toEntity<T>(item), revision: typeof revision === 'number' ? revision : LEGACY_REVISION };
}

/**
 * The condition that the stored item is at `expected`: absent (or a
 * tombstone, which a create writes over) for 0; otherwise present, not
 * deleted, at that revision, which for `LEGACY_REVISION` includes an item
 * that has no revision yet (it reads as that one). A tombstone is at a
 * revision too, so without the `deletedAt` check a change decided on the
 * revision the deletion went past would bring the item back.
 */
function revisionCondition(expected: number): { condition: string; names: Record<string, string>; values?: Record<string, unknown> } {
  if (expected === 0) return { condition: 'attribute_not_exists(PK) OR attribute_exists(#deletedAt)', names: { '#deletedAt': DELETED_AT } };
  const names = { '#revision': REVISION, '#deletedAt': DELETED_AT };
  const values = { ':expected': expected };
  if (expected === LEGACY_REVISION) {
    return { condition: 'attribute_exists(PK) AND attribute_not_exists(#deletedAt) AND (#revision = :expected OR attribute_not_exists(#revision))', names, values };
  }
  return { condition: 'attribute_exists(PK) AND attribute_not_exists(#deletedAt) AND #revision = :expected', names, values };
}

/** The revision a stored item says, legacy ones included. */
const storedRevision = (item: Item): number => (typeof item[REVISION] === 'number' ? item[REVISION] : LEGACY_REVISION);

/**
 * Catalog entities are validated before they get here. Tenants and computers
 * are whole-entity upserts, so repeating one is harmless; software, tasks and
 * deployments are written and deleted only at the revision the caller expects
 * (see `CatalogStore`), each with one conditional single-item write; deleting
 * a software item or task leaves its tombstone.
 */
export class DynamoCatalogStore implements CatalogStore {
  constructor(private readonly table: DynamoTable) {}

  private async put(pk: string, sk: string, listPartition: string, listSort: string, entity: string, value: object): Promise<void> {
    await this.table.putIf({ PK: pk, SK: sk, entity, GSI1PK: listPartition, GSI1SK: listSort, ...value }, undefined);
  }

  private async putRevised<T extends { readonly id: string }>(kind: RevisedKind<T>, value: T | Revised<T>, expectedRevision: number | undefined): Promise<boolean> {
    const pk = `${kind.prefix}#${value.id}`;
    let expected = expectedRevision;
    let revision = 'revision' in value && expectedRevision !== undefined ? value.revision : undefined;
    if (expected === undefined || revision === undefined) {
      // no expectation given: whatever is stored now (read just before) is what this write replaces
      const stored = await this.table.get(pk, kind.sk, [REVISION, DELETED_AT]);
      // over a tombstone it is a create that continues the numbering
      expected = stored === undefined || isTombstone(stored) ? 0 : storedRevision(stored);
      revision = (stored === undefined ? 0 : storedRevision(stored)) + 1;
    }
    // a put replaces the whole item: a tombstone's deletedAt and expiresAt go with it
    const { revision: _ignored, deletedAt: _deleted, ...fields } = value as T & { revision?: unknown; deletedAt?: unknown };
    const { condition, names, values } = revisionCondition(expected);
    return this.table.putIf(
      { PK: pk, SK: kind.sk, entity: kind.entity, GSI1PK: kind.listPartition, GSI1SK: kind.listSort(value), ...fields, [REVISION]: revision },
      condition,
      { names, ...(values ? { values } : {}) },
    );
  }

  /**
   * A software item's or task's deletion: one conditional update at the
   * expected revision that marks it deleted at the deletion's revision, sets
   * when it expires and takes it out of its list (its GSI1 keys), keeping
   * what sessions under way still read (see `CatalogStore`).
   */
  private async tombstone(kind: Pick<RevisedKind<never>, 'prefix' | 'sk'>, id: string, expectedRevision: number, deletion: Deletion): Promise<boolean> {
    // a deletion never creates: 0 (nothing stored) matches nothing to delete
    if (expectedRevision < 1) return false;
    const { condition, names, values } = revisionCondition(expectedRevision);
    const expiresAtEpochSeconds = Math.floor(Date.parse(deletion.at) / 1000) + DELETED_ITEM_KEPT_DAYS * 86_400;
    const written = await this.table.updateWith({
      key: { PK: `${kind.prefix}#${id}`, SK: kind.sk },
      expression: 'SET #deletedAt = :deletedAt, #revision = :revision, #expiresAt = :expiresAt REMOVE #gsiPk, #gsiSk',
      condition,
      names: { ...names, '#revision': REVISION, '#expiresAt': TABLE_DEFINITION.timeToLiveAttribute, '#gsiPk': 'GSI1PK', '#gsiSk': 'GSI1SK' },
      values: { ...values, ':deletedAt': deletion.at, ':revision': deletion.revision, ':expiresAt': expiresAtEpochSeconds },
    });
    return written !== undefined;
  }

  private async deleteRevised(kind: Pick<RevisedKind<never>, 'prefix' | 'sk' | 'entity'>, id: string, expectedRevision: number): Promise<boolean> {
    // a deployment has no tombstone: nothing in a session reads it after it resolved
    // a deletion never creates: 0 (nothing stored) matches nothing to delete
    if (expectedRevision < 1) return false;
    const { condition, names, values } = revisionCondition(expectedRevision);
    try {
      await this.table.deleteIf(
        { PK: `${kind.prefix}#${id}`, SK: kind.sk },
        { condition, conditionNames: names, ...(values ? { conditionValues: values } : {}), conflict: `${kind.entity} ${id} is not at revision ${String(expectedRevision)}` },
      );
      return true;
    } catch (error) {
      if (error instanceof ConflictError) return false;
      throw error;
    }
  }

  private async getMany<T>(prefix: string, sk: string, ids: readonly string[], options: ReadOptions): Promise<Kept<Revised<T>>[]> {
    const items = await this.table.batchGet([...new Set(ids)].map((id) => ({ PK: `${prefix}#${id}`, SK: sk })));
    return items.filter((item) => options.includeDeleted === true || !isTombstone(item)).map((item) => toRevised<Kept<T>>(item));
  }

  private async listRevised<T>(listPartition: string): Promise<Revised<T>[]> {
    return (await this.table.query({ pk: listPartition, index: 'GSI1' })).map((item) => toRevised<T>(item));
  }

  async putTenant(tenant: Tenant): Promise<void> {
    await this.put(`TENANT#${tenant.id}`, 'TENANT', 'TENANTS', `${tenant.name}#${tenant.id}`, 'Tenant', tenant);
  }

  async getTenant(tenantId: string): Promise<Tenant | undefined> {
    const item = await this.table.get(`TENANT#${tenantId}`, 'TENANT');
    return item ? toEntity<Tenant>(item) : undefined;
  }

  async listTenants(): Promise<Tenant[]> {
    return (await this.table.query({ pk: 'TENANTS', index: 'GSI1' })).map((item) => toEntity<Tenant>(item));
  }

  async putComputer(computer: Computer): Promise<void> {
    await this.put(`COMPUTER#${computer.id}`, 'COMPUTER', 'COMPUTERS', `${computer.tenantId}#${computer.name}#${computer.id}`, 'Computer', computer);
  }

  async getComputer(computerId: string): Promise<Computer | undefined> {
    const item = await this.table.get(`COMPUTER#${computerId}`, 'COMPUTER');
    return item ? toEntity<Computer>(item) : undefined;
  }

  async listComputers(): Promise<Computer[]> {
    return (await this.table.query({ pk: 'COMPUTERS', index: 'GSI1' })).map((item) => toEntity<Computer>(item));
  }

  putSoftware(software: StoredSoftware, expectedRevision: number): Promise<boolean>;
  putSoftware(software: Software): Promise<boolean>;
  putSoftware(software: Software | StoredSoftware, expectedRevision?: number): Promise<boolean> {
    return this.putRevised(SOFTWARE, software, expectedRevision);
  }

  getSoftware(softwareIds: readonly string[], options: ReadOptions = {}): Promise<Kept<StoredSoftware>[]> {
    return this.getMany<Software>(SOFTWARE.prefix, SOFTWARE.sk, softwareIds, options);
  }

  listSoftware(): Promise<StoredSoftware[]> {
    return this.listRevised<Software>(SOFTWARE.listPartition);
  }

  deleteSoftware(softwareId: string, expectedRevision: number, deletion: Deletion): Promise<boolean> {
    return this.tombstone(SOFTWARE, softwareId, expectedRevision, deletion);
  }

  putTask(task: StoredTask, expectedRevision: number): Promise<boolean>;
  putTask(task: MaintenanceTask): Promise<boolean>;
  putTask(task: MaintenanceTask | StoredTask, expectedRevision?: number): Promise<boolean> {
    return this.putRevised(TASK, task, expectedRevision);
  }

  getTasks(taskIds: readonly string[], options: ReadOptions = {}): Promise<Kept<StoredTask>[]> {
    return this.getMany<MaintenanceTask>(TASK.prefix, TASK.sk, taskIds, options);
  }

  listTasks(): Promise<StoredTask[]> {
    return this.listRevised<MaintenanceTask>(TASK.listPartition);
  }

  deleteTask(taskId: string, expectedRevision: number, deletion: Deletion): Promise<boolean> {
    return this.tombstone(TASK, taskId, expectedRevision, deletion);
  }

  putDeployment(deployment: StoredDeployment, expectedRevision: number): Promise<boolean>;
  putDeployment(deployment: Deployment): Promise<boolean>;
  putDeployment(deployment: Deployment | StoredDeployment, expectedRevision?: number): Promise<boolean> {
    return this.putRevised(DEPLOYMENT, deployment, expectedRevision);
  }

  async getDeployment(deploymentId: string): Promise<StoredDeployment | undefined> {
    const item = await this.table.get(`DEPLOYMENT#${deploymentId}`, DEPLOYMENT.sk);
    return item ? toRevised<Deployment>(item) : undefined;
  }

  listDeployments(): Promise<StoredDeployment[]> {
    return this.listRevised<Deployment>(DEPLOYMENT.listPartition);
  }

  deleteDeployment(deploymentId: string, expectedRevision: number): Promise<boolean> {
    return this.deleteRevised(DEPLOYMENT, deploymentId, expectedRevision);
  }

  async retireSecrets(retired: RetiredSecrets): Promise<void> {
    // the same retirement written again writes the same item
    await this.table.putIf({ ...retiredSecretsKey(retired), entity: 'RetiredSecrets', ...retired }, undefined);
  }

  async listRetiredSecretsDue(now: string, limit: number): Promise<RetiredSecrets[]> {
    // sort keys start with deleteAfter: every one due sorts below `${now}~` ('~' sorts after the '#' that follows it)
    const items = await this.table.query({ pk: RETIRED_SECRETS_PARTITION, skBefore: `${now}~`, limit });
    return items.map((item) => {
      const { entity: _entity, ...retired } = toEntity<RetiredSecrets & { entity?: unknown }>(item);
      return retired;
    });
  }

  async forgetRetiredSecrets(retired: RetiredSecrets): Promise<void> {
    try {
      await this.table.deleteIf(retiredSecretsKey(retired), { condition: 'attribute_exists(PK)', conflict: 'already forgotten' });
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
    }
  }
}

/**
 * One partition for every retirement: they come only from deployment changes
 * that drop secrets (a handful a day), and the sweep reads the due ones in
 * one query ordered by when they are due.
 */
const RETIRED_SECRETS_PARTITION = 'RETIRED_SECRETS';
const retiredSecretsKey = (retired: RetiredSecrets): { PK: string; SK: string } => ({
  PK: RETIRED_SECRETS_PARTITION,
  SK: `${retired.deleteAfter}#${retired.deploymentId}#${String(retired.revision)}`,
});
