import { z } from 'zod';
import { canonicalJson } from '../canonical-json.js';
import { ConflictError, NotFoundError, ValidationError, type FieldProblem } from '../errors.js';
import { fieldChanges, fitChanges, type AuditedResource, type AuditEntry, type FieldChange } from '../model/audit.js';
import {
  computerSchema,
  deploymentSchema,
  maintenanceTaskSchema,
  softwareSchema,
  tenantSchema,
  type Computer,
  type Deployment,
  type MaintenanceTask,
  type Revised,
  type Software,
  type StoredDeployment,
  type StoredSoftware,
  type StoredTask,
  type Tenant,
} from '../model/catalog.js';
import { validateParameters } from '../catalog/parameters.js';
import { keepsSecretsPerTenant, SECRET_MARKER, secretReference, separateSecrets, type SecretScope } from '../catalog/secrets.js';
import { requesterSchema, type Requester } from '../model/session.js';
import { findCycles } from '../planning/ordering.js';
import { parseInput, utf8Length } from '../validation.js';
import { RETIRED_SECRETS_KEPT_DAYS, type Deletion } from '../ports/catalog-store.port.js';
import type { Dependencies } from './dependencies.js';
import { namedList } from '../named-list.js';
import { DAY_MS } from '../durations.js';

/** The entity's own schema names its fields; this only makes sure there are fields to name. */
const entityFieldsSchema = z.record(z.string(), z.unknown(), { error: 'must be an object holding the entity\'s fields' });

/**
 * The revision a change of a software item, task or deployment was decided
 * on: 0 creates (refused when the id is taken), any other is the stored
 * one's `revision` as it was read (refused when it has moved on). Left out:
 * create, or replace whatever is stored now (the demo seed, and the operator
 * handler's callers who load a catalog as it is written); the API never
 * leaves it out.
 */
const expectedRevisionSchema = z
  .number({ error: 'must be a whole number: 0 creates, any other is the revision the change was decided on' })
  .int('must be a whole number')
  .min(0, 'must be 0 (to create) or the revision the change was decided on');

const revisedEntityFields = { entity: entityFieldsSchema, expectedRevision: expectedRevisionSchema.optional() };

export const catalogEntitySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('Tenant'), entity: entityFieldsSchema }),
  z.object({ kind: z.literal('Computer'), entity: entityFieldsSchema }),
  z.object({ kind: z.literal('Software'), ...revisedEntityFields }),
  z.object({ kind: z.literal('Task'), ...revisedEntityFields }),
  z.object({ kind: z.literal('Deployment'), ...revisedEntityFields }),
]);
export type CatalogEntityInput = z.infer<typeof catalogEntitySchema>;

/** What the save-catalog handler takes: the entity (with `expectedRevision` as above), and who saves it (recorded in the audit trail). */
export const saveCatalogRequestSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('Tenant'), entity: entityFieldsSchema, by: requesterSchema }),
  z.object({ kind: z.literal('Computer'), entity: entityFieldsSchema, by: requesterSchema }),
  z.object({ kind: z.literal('Software'), ...revisedEntityFields, by: requesterSchema }),
  z.object({ kind: z.literal('Task'), ...revisedEntityFields, by: requesterSchema }),
  z.object({ kind: z.literal('Deployment'), ...revisedEntityFields, by: requesterSchema }),
]);

export type SavedEntity =
  | { kind: 'Tenant'; entity: Tenant }
  | { kind: 'Computer'; entity: Computer }
  | { kind: 'Software'; entity: StoredSoftware }
  | { kind: 'Task'; entity: StoredTask }
  | { kind: 'Deployment'; entity: StoredDeployment };

/** The kinds of catalog entity that carry a revision, and can be deleted. */
export type RevisedKind = Extract<AuditedResource, 'Software' | 'Task' | 'Deployment'>;

/** Each revised kind as the messages name it. */
const WHAT: Readonly<Record<RevisedKind, string>> = { Software: 'software', Task: 'maintenance task', Deployment: 'deployment' };

type CatalogDeps = Pick<Dependencies, 'catalog' | 'secrets' | 'audit' | 'clock'>;
/** A deletion also reads the schedules: one limited to the item (`limitTo`) refers to it. */
type CatalogDeletionDeps = CatalogDeps & Pick<Dependencies, 'schedules'>;

const rejectIf = (entity: string, problems: FieldProblem[]): void => {
  if (problems.length > 0) throw new ValidationError(entity, problems);
};

/**
 * An entity is one DynamoDB item, and an item holds at most 400 KB with its
 * keys and attribute names. This leaves room for those; the size counted is
 * the entity's JSON, which is never smaller than what DynamoDB counts.
 */
export const MAX_STORED_ENTITY_BYTES = 350 * 1024;

function storedBytes(value: unknown): number {
  // undefined (an absent optional field) has no JSON and takes no room
  const json = JSON.stringify(value) as string | undefined;
  return json === undefined ? 0 : utf8Length(json);
}

/**
 * Names the field that makes an entity too large to store: the largest
 * top-level field, and inside it the part that holds most of it, as long as
 * one part does (a single huge parameter default rather than `parameters`).
 */
function sizeProblems(entity: object, what: string): FieldProblem[] {
  const total = storedBytes(entity);
  if (total <= MAX_STORED_ENTITY_BYTES) return [];
  const path: string[] = [];
  let current: unknown = entity;
  let currentBytes = total;
  while (current !== null && typeof current === 'object') {
    const parts = Object.entries(current as Record<string, unknown>).map(([key, value]) => ({ key, value, bytes: storedBytes(value) }));
    const largest = parts.reduce<(typeof parts)[number] | undefined>((best, part) => (!best || part.bytes > best.bytes ? part : best), undefined);
    if (!largest || (path.length > 0 && largest.bytes * 2 <= currentBytes)) break;
    path.push(largest.key);
    current = largest.value;
    currentBytes = largest.bytes;
  }
  const kb = (bytes: number) => `${Math.ceil(bytes / 1024)} KB`;
  return [
    {
      field: path.join('.'),
      problem: `is ${kb(currentBytes)} and makes the ${what} ${kb(total)}; a ${what} is stored whole and may be at most ${kb(MAX_STORED_ENTITY_BYTES)}`,
    },
  ];
}

/**
 * The one way into the catalog: parse the entity, check that everything it
 * refers to exists and that it makes no dependency cycle, record the change
 * in the audit trail (who, when, each field before and after), and only then
 * store it. A rejected entity names its field and leaves the catalog (and the
 * trail) as it was; saving what is stored already records nothing. A
 * software item, task or deployment is written at the revision the change
 * expects (see `expectedRevisionSchema` and `saveRevised`).
 */
export function saveCatalogEntity<K extends CatalogEntityInput['kind']>(deps: CatalogDeps, input: Extract<CatalogEntityInput, { kind: K }>, by: Requester): Promise<Extract<SavedEntity, { kind: K }>>;
export async function saveCatalogEntity(deps: CatalogDeps, input: CatalogEntityInput, by: Requester): Promise<SavedEntity> {
  switch (input.kind) {
    case 'Tenant': {
      const tenant = parseInput(tenantSchema, input.entity, 'tenant');
      rejectIf(`tenant ${tenant.id}`, sizeProblems(tenant, 'tenant'));
      rejectIf(`tenant ${tenant.id}`, await tenantProblems(deps, tenant));
      // a tenant's own changes are its viewers' to read
      await recordChange(deps, by, { resource: 'Tenant', id: tenant.id, tenantId: tenant.id, before: await deps.catalog.getTenant(tenant.id), after: tenant });
      await deps.catalog.putTenant(tenant);
      return { kind: 'Tenant', entity: tenant };
    }
    case 'Computer': {
      const computer = parseInput(computerSchema, input.entity, 'computer');
      rejectIf(`computer ${computer.id}`, sizeProblems(computer, 'computer'));
      const tenant = await deps.catalog.getTenant(computer.tenantId);
      rejectIf(`computer ${computer.id}`, tenant ? [] : [{ field: 'tenantId', problem: `tenant ${computer.tenantId} does not exist` }]);
      await recordChange(deps, by, { resource: 'Computer', id: computer.id, tenantId: computer.tenantId, before: await deps.catalog.getComputer(computer.id), after: computer });
      await deps.catalog.putComputer(computer);
      return { kind: 'Computer', entity: computer };
    }
    case 'Software': {
      const software = parseInput(softwareSchema, input.entity, 'software');
      rejectIf(`software ${software.id}`, sizeProblems(software, 'software'));
      rejectIf(`software ${software.id}`, await softwareProblems(deps, software));
      const [current] = await deps.catalog.getSoftware([software.id]);
      const stored = await saveRevised(deps, by, {
        resource: 'Software',
        id: software.id,
        current,
        expected: input.expectedRevision,
        next: software,
        put: (item, expected) => deps.catalog.putSoftware(item, expected),
      });
      return { kind: 'Software', entity: stored };
    }
    case 'Task': {
      const task = parseInput(maintenanceTaskSchema, input.entity, 'maintenance task');
      rejectIf(`maintenance task ${task.id}`, sizeProblems(task, 'maintenance task'));
      const [current] = await deps.catalog.getTasks([task.id]);
      rejectIf(`maintenance task ${task.id}`, await secrecyChangeProblems(deps, task, current));
      const stored = await saveRevised(deps, by, {
        resource: 'Task',
        id: task.id,
        current,
        expected: input.expectedRevision,
        next: task,
        put: (item, expected) => deps.catalog.putTask(item, expected),
      });
      return { kind: 'Task', entity: stored };
    }
    case 'Deployment': {
      const deployment = parseInput(deploymentSchema, input.entity, 'deployment');
      rejectIf(`deployment ${deployment.id}`, sizeProblems(deployment, 'deployment'));
      const { problems, task } = await deploymentProblems(deps, deployment);
      rejectIf(`deployment ${deployment.id}`, problems);
      return { kind: 'Deployment', entity: await storeDeployment(deps, deployment, task, input.expectedRevision, by) };
    }
  }
}

/** One change to a tenant or computer, as the audit trail records it. */
interface CatalogChange {
  readonly resource: Extract<AuditedResource, 'Tenant' | 'Computer'>;
  readonly id: string;
  /** The tenant whose viewers may read it. */
  readonly tenantId: string;
  readonly before: object | undefined;
  readonly after: object;
}

/** Two saves of one entry racing for the same version: each loses at most this often before it gives up. */
const MAX_RECORD_ATTEMPTS = 3;

/** The fields that changed, and the changes the stored form cannot show, in field order, fitted to one audit entry. */
function changesBetween(before: object | undefined, after: object | undefined, hidden: readonly FieldChange[] = []): FieldChange[] {
  // a revision is bookkeeping, not a change anyone made
  return fitChanges([...fieldChanges(before, after, ['revision']), ...hidden].sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0)));
}

/**
 * Records a change of a tenant or computer before it is stored. They carry
 * no revision (the store writes them whole, unconditionally), so an entry's
 * version is its place in the entry's history: one more than the last
 * recorded change, claimed by the audit store's conditional put. Recorded
 * first, so no change is ever stored without its entry; a store that then
 * fails leaves an entry for an attempted change, and the retry any failed
 * save needs finds that same change as the last one recorded and adds
 * nothing. (A version is not a content hash: content can come back, A to B
 * to A, and a hash has no order. Nor a time: a retry has a new one.)
 */
async function recordChange(deps: CatalogDeps, by: Requester, change: CatalogChange): Promise<void> {
  const changes = changesBetween(change.before, change.after);
  if (changes.length === 0) return;
  const at = deps.clock.now().toISOString();
  for (let attempt = 0; attempt < MAX_RECORD_ATTEMPTS; attempt++) {
    const [last] = await deps.audit.list(change.resource, change.id, { latest: 1 });
    // stored still as before this very change: an earlier attempt recorded it and did not get to store it
    if (last && canonicalJson(last.changes) === canonicalJson(changes)) return;
    const recorded = await deps.audit.record({
      resource: change.resource,
      resourceId: change.id,
      tenantId: change.tenantId,
      version: (last?.version ?? 0) + 1,
      at,
      by,
      action: change.before === undefined ? 'Created' : 'Updated',
      changes,
    });
    if (recorded) return;
  }
  throw new ConflictError(`${change.resource.toLowerCase()} ${change.id} is being saved by someone else at the same moment; read it again and save`);
}

/** A change of a software item, task or deployment, at the revision it expects. */
interface RevisedSave<T extends object> {
  readonly resource: RevisedKind;
  readonly id: string;
  /** The tenant whose viewers may read the change; absent for the MSP's own catalog (software, tasks, cross-tenant deployments). */
  readonly tenantId?: string | undefined;
  /** What is stored under the id now, read before the change was checked. */
  readonly current: Revised<T> | undefined;
  /** 0: a create; n: the revision the change was decided on; undefined: whatever `current` is. */
  readonly expected: number | undefined;
  /** The entity as it is to be stored. */
  readonly next: T;
  /** Changes the stored form cannot show (a secret's new value behind the same marker). */
  readonly hidden?: readonly FieldChange[];
  /** What must be written after the change is recorded and before the item names it (a deployment's secret values). */
  readonly beforeStore?: () => Promise<unknown>;
  readonly put: (item: Revised<T>, expectedRevision: number) => Promise<boolean>;
}

/**
 * How long a recorded change may still be on its way to the item: well over
 * the 30 s any function that saves one may run. An entry past the item's
 * revision that is older than this belongs to a save that died.
 */
const SAVE_IN_FLIGHT_MS = 60_000;

const sameChange = (a: Pick<AuditEntry, 'action' | 'by' | 'changes'>, b: Pick<AuditEntry, 'action' | 'by' | 'changes'>): boolean =>
  a.action === b.action && canonicalJson(a.by) === canonicalJson(b.by) && canonicalJson(a.changes) === canonicalJson(b.changes);

/** The refusal of a change decided on a revision that is not the stored one. */
function revisionRefusal(resource: RevisedKind, id: string, current: { readonly revision: number } | undefined, expected: number): Error {
  const what = WHAT[resource];
  if (current === undefined) return new NotFoundError(what, id);
  if (expected === 0) return new ConflictError(`${what} ${id} exists already (at revision ${String(current.revision)}); choose another id, or change that one`);
  return new ConflictError(`${what} ${id} is at revision ${String(current.revision)}, not ${String(expected)}: someone else changed it since it was read; read it again`);
}

/**
 * The version this change takes in the audit trail, recorded: the revision
 * the item will have. It is one past both the item's revision and the last
 * entry, and the audit store's conditional put makes it this change's only:
 * of two saves at one revision, the second to record is refused here.
 *
 * Recorded before the item is stored (as every catalog change is), so no
 * change is ever stored without its entry. The item's own write, conditional
 * on the revision read, decides the rest. A save that dies between the two
 * leaves an entry past the item's revision: its retry finds that entry as
 * its own (same action, requester and changes) and stores it under that
 * version; anyone else's change is refused while the entry may still be on
 * its way (`SAVE_IN_FLIGHT_MS`), then goes after it. So a dead save never
 * blocks the item, the revision skips the dead entry's version, and an entry
 * whose version no revision of the item ever had is an attempt that did not
 * land. An item with no revision yet (`LEGACY_REVISION`) and an old history
 * is the same case: its next change goes after its last entry.
 */
async function claimRevision(deps: CatalogDeps, entry: Omit<AuditEntry, 'version' | 'resource'> & { readonly resource: RevisedKind }, current: { readonly revision: number } | undefined): Promise<number> {
  const busy = `${WHAT[entry.resource]} ${entry.resourceId} is being changed by someone else at this moment; read it again`;
  const [last] = await deps.audit.list(entry.resource, entry.resourceId, { latest: 1 });
  // for an item that is gone, only its deletion is a change that landed
  const notLanded = last !== undefined && (current === undefined ? last.action !== 'Deleted' : last.version > current.revision);
  if (last && notLanded) {
    if (sameChange(last, entry)) return last.version;
    if (deps.clock.now().getTime() - Date.parse(last.at) < SAVE_IN_FLIGHT_MS) throw new ConflictError(busy);
  }
  const version = Math.max(current?.revision ?? 0, last?.version ?? 0) + 1;
  if (await deps.audit.record({ ...entry, version })) return version;
  // taken meanwhile: by this same change (a repeat racing itself), or by someone else's
  const [taken] = await deps.audit.list(entry.resource, entry.resourceId, { latest: 1 });
  if (taken?.version === version && sameChange(taken, entry)) return version;
  throw new ConflictError(busy);
}

/**
 * Stores a software item, task or deployment at the revision its change
 * expects: refused (409, saying the revision stored) when the stored one has
 * moved on, or for a create when the id is taken (404 for a change of one
 * that does not exist). The change is recorded (`claimRevision`), then the
 * item is written with one conditional write at the revision read, so of
 * two changes decided on the same revision exactly one is stored. A repeat
 * of a change that was stored (its answer lost) finds its own content at
 * the next revision and is answered with it; a change that changes nothing
 * is answered with what is stored, with no new revision and no entry.
 */
async function saveRevised<T extends object>(deps: CatalogDeps, by: Requester, save: RevisedSave<T>): Promise<Revised<T>> {
  const { current } = save;
  const changes = changesBetween(current, save.next, save.hidden);
  const expected = save.expected ?? current?.revision ?? 0;
  const asExpected = expected === 0 ? current === undefined : current?.revision === expected;
  if (!asExpected) {
    if (current !== undefined && changes.length === 0 && (expected === 0 || current.revision === expected + 1)) return current;
    throw revisionRefusal(save.resource, save.id, current, expected);
  }
  if (current !== undefined && changes.length === 0) return current;
  const revision = await claimRevision(
    deps,
    {
      resource: save.resource,
      resourceId: save.id,
      ...(save.tenantId === undefined ? {} : { tenantId: save.tenantId }),
      at: deps.clock.now().toISOString(),
      by,
      action: current === undefined ? 'Created' : 'Updated',
      changes,
    },
    current,
  );
  await save.beforeStore?.();
  const item: Revised<T> = { ...save.next, revision };
  if (!(await save.put(item, expected))) {
    throw new ConflictError(`${WHAT[save.resource]} ${save.id} was changed by someone else while this change was being saved; read it again`);
  }
  return item;
}

/** What a deletion names: the entity, and the revision it was decided on (`revision` as it was read). */
export interface CatalogDeletion {
  readonly kind: RevisedKind;
  readonly id: string;
  readonly expectedRevision: number;
}

/** At most this many referrers are named in a refusal; the rest are counted. */
const MAX_NAMED_REFERRERS = 10;

const named = (what: string, ids: readonly string[]): string => `${what} ${namedList(ids, MAX_NAMED_REFERRERS)}`;

/**
 * What still refers to the entity: the deployments of a software item or a
 * task, and the software that depends on a software item. A deployment is
 * referred to by nothing (a schedule limited to an item names the item).
 */
async function referrersOf(deps: CatalogDeletionDeps, kind: RevisedKind, id: string): Promise<string[]> {
  if (kind === 'Deployment') return [];
  const deployments = (await deps.catalog.listDeployments())
    .filter((d) => (kind === 'Software' ? d.itemKind === 'Software' && d.softwareId === id : d.itemKind === 'Task' && d.taskId === id))
    .map((d) => d.id)
    .sort();
  const dependents = kind === 'Software' ? (await deps.catalog.listSoftware()).filter((s) => s.dependencies.some((d) => d.softwareId === id)).map((s) => s.id).sort() : [];
  // a schedule limited to a deleted item would start sessions that find nothing to do, computer after computer
  const itemKey = `${kind === 'Software' ? 'software' : 'task'}:${id}`;
  const limited = (await deps.schedules.listSchedules()).filter((schedule) => schedule.limitTo === itemKey).map((schedule) => schedule.id).sort();
  return [
    ...(deployments.length > 0 ? [named(deployments.length === 1 ? 'deployment' : 'deployments', deployments)] : []),
    ...(dependents.length > 0 ? [`${named('software', dependents)} (a dependency)`] : []),
    ...(limited.length > 0 ? [`${named(limited.length === 1 ? 'schedule' : 'schedules', limited)} (limited to it)`] : []),
  ];
}

/** What is stored under a revised kind's id, with its kind, so a deployment reads as one. */
type StoredEntity = { readonly kind: 'Software'; readonly entity: StoredSoftware } | { readonly kind: 'Task'; readonly entity: StoredTask } | { readonly kind: 'Deployment'; readonly entity: StoredDeployment };

async function readRevised(deps: CatalogDeps, kind: RevisedKind, id: string): Promise<StoredEntity | undefined> {
  switch (kind) {
    case 'Software': {
      const [entity] = await deps.catalog.getSoftware([id]);
      return entity && { kind, entity };
    }
    case 'Task': {
      const [entity] = await deps.catalog.getTasks([id]);
      return entity && { kind, entity };
    }
    case 'Deployment': {
      const entity = await deps.catalog.getDeployment(id);
      return entity && { kind, entity };
    }
  }
}

/** A software item or task leaves its tombstone at the deletion's revision (see `CatalogStore`); a deployment goes. */
function deleteItem(deps: CatalogDeps, kind: RevisedKind, id: string, expectedRevision: number, deletion: Deletion): Promise<boolean> {
  switch (kind) {
    case 'Software':
      return deps.catalog.deleteSoftware(id, expectedRevision, deletion);
    case 'Task':
      return deps.catalog.deleteTask(id, expectedRevision, deletion);
    case 'Deployment':
      return deps.catalog.deleteDeployment(id, expectedRevision);
  }
}

/**
 * Every secret a deployment may have stored: the parameters it marks as
 * set, and every secret parameter of its task (what a save that died before
 * its deletions may have left behind).
 */
async function deploymentSecrets(
  deps: CatalogDeps,
  deployment: { readonly id: string; readonly taskId?: unknown; readonly parameters?: unknown },
  tenantId: string | undefined,
): Promise<string[]> {
  const marked = typeof deployment.parameters === 'object' && deployment.parameters !== null ? Object.entries(deployment.parameters).flatMap(([name, value]) => (value === SECRET_MARKER ? [name] : [])) : [];
  const [task] = typeof deployment.taskId === 'string' ? await deps.catalog.getTasks([deployment.taskId], { includeDeleted: true }) : [];
  const declared = (task?.parameters ?? []).filter((p) => p.type === 'secret').map((p) => p.name);
  // both places it may have kept them (its target may have moved them): deleting what is not there is harmless
  const scopes: SecretScope[] = [{ kind: 'Shared' }, ...(tenantId === undefined ? [] : [{ kind: 'Tenant', tenantId } as const])];
  return [...new Set([...marked, ...declared])].flatMap((name) => scopes.map((scope) => secretReference(scope, deployment.id, name)));
}

/** A deleted deployment's fields as its deletion's entry recorded them (each change's `before`). */
const recordedBefore = (entry: AuditEntry): Record<string, unknown> => Object.fromEntries(entry.changes.map((change) => [change.field, change.before]));

/**
 * Deletes a software item, task or deployment at the revision the deletion
 * was decided on. Refused (409) when it has moved on, and while anything
 * refers to it, naming what does: a deletion never leaves a deployment of
 * nothing, a dependency on nothing or a schedule limited to nothing. (A
 * deployment or schedule saved in the instant between that check and the
 * deletion can still name it, as it can name a software item deleted by
 * hand; a session then reports the item it cannot resolve, as it does for
 * any missing item.) Recorded first, as every change
 * (see `claimRevision`); a deployment's stored secrets go after the item,
 * so nothing left names a secret that is gone. A repeat of a deletion that
 * was carried out (its answer lost, or it died before the secrets went)
 * finishes it and is answered as the first was.
 *
 * Sessions under way are not stopped by it: they froze what their items
 * are, and a software item or task deleted is kept as a tombstone that only
 * their steps read (its scripts, when each step is sent; see
 * `CatalogStore`), while everything else sees it gone: reads, lists, new
 * sessions, references. A create over the tombstone continues its numbering.
 */
export async function deleteCatalogEntity(deps: CatalogDeletionDeps, deletion: CatalogDeletion, by: Requester): Promise<void> {
  const { kind, id, expectedRevision } = deletion;
  const stored = await readRevised(deps, kind, id);
  if (stored === undefined) {
    const [last] = await deps.audit.list(kind, id, { latest: 1 });
    if (last?.action === 'Deleted' && last.version > expectedRevision && canonicalJson(last.by) === canonicalJson(by)) {
      if (kind === 'Deployment') await retireSecrets(deps, { deploymentId: id, revision: last.version }, await deploymentSecrets(deps, { ...recordedBefore(last), id }, last.tenantId));
      return;
    }
    throw new NotFoundError(WHAT[kind], id);
  }
  const current = stored.entity;
  if (current.revision !== expectedRevision) throw revisionRefusal(kind, id, current, expectedRevision);
  const referrers = await referrersOf(deps, kind, id);
  if (referrers.length > 0) throw new ConflictError(`${WHAT[kind]} ${id} is still used by ${referrers.join(' and by ')}; change or delete those first`);
  const tenantId = stored.kind === 'Deployment' ? await deploymentTenant(deps, stored.entity) : undefined;
  const at = deps.clock.now().toISOString();
  const revision = await claimRevision(
    deps,
    { resource: kind, resourceId: id, ...(tenantId === undefined ? {} : { tenantId }), at, by, action: 'Deleted', changes: changesBetween(current, undefined) },
    current,
  );
  if (!(await deleteItem(deps, kind, id, current.revision, { revision, at }))) {
    throw new ConflictError(`${WHAT[kind]} ${id} was changed by someone else while it was being deleted; read it again`);
  }
  if (stored.kind === 'Deployment') await retireSecrets(deps, { deploymentId: id, revision }, await deploymentSecrets(deps, stored.entity, await deploymentTenant(deps, stored.entity)));
}


/**
 * Secret references the deployment no longer names are retired, not
 * deleted: sessions under way may still run its task with them (see
 * `RetiredSecrets`); `retire-secrets` deletes them when they are due.
 */
async function retireSecrets(deps: CatalogDeps, change: { readonly deploymentId: string; readonly revision: number }, references: readonly string[]): Promise<void> {
  if (references.length === 0) return;
  const now = deps.clock.now();
  await deps.catalog.retireSecrets({
    ...change,
    references: [...references],
    retiredAt: now.toISOString(),
    deleteAfter: new Date(now.getTime() + RETIRED_SECRETS_KEPT_DAYS * DAY_MS).toISOString(),
  });
}

/**
 * The secret references a stored deployment names now: each parameter it
 * marks as set, in the scope its target keeps secrets in. A retired
 * reference named again (the deployment made again, a value set again) is
 * not deleted when its retirement comes due.
 */
export async function namedSecretReferences(deps: Pick<Dependencies, 'catalog'>, deployment: Deployment): Promise<string[]> {
  if (deployment.itemKind !== 'Task') return [];
  const scope = secretScope(deployment, await deploymentTenant(deps, deployment));
  return Object.entries(deployment.parameters).flatMap(([name, value]) => (value === SECRET_MARKER ? [secretReference(scope, deployment.id, name)] : []));
}

/**
 * A parameter may not become secret, or stop being secret, while a deployment
 * sets it: a value set in clear would stay in the table (and be sent as the
 * secret's reference never written), and a secret's stored marker `(secret)`
 * would be sent as the value. The deployment is saved again (or its value
 * removed) first, then the type changes.
 */
async function secrecyChangeProblems(deps: CatalogDeps, task: MaintenanceTask, existing: MaintenanceTask | undefined): Promise<FieldProblem[]> {
  if (!existing) return [];
  const wasSecret = new Set(existing.parameters.filter((p) => p.type === 'secret').map((p) => p.name));
  const changed = task.parameters
    .map((parameter, index) => ({ parameter, index }))
    .filter(({ parameter }) => existing.parameters.some((p) => p.name === parameter.name) && wasSecret.has(parameter.name) !== (parameter.type === 'secret'));
  if (changed.length === 0) return [];
  const deployments = (await deps.catalog.listDeployments()).filter((d) => d.itemKind === 'Task' && d.taskId === task.id);
  return changed.flatMap(({ parameter, index }) => {
    const setting = deployments.filter((d) => d.itemKind === 'Task' && Object.hasOwn(d.parameters, parameter.name)).map((d) => d.id);
    if (setting.length === 0) return [];
    return [
      {
        field: `parameters.${index}.type`,
        problem: `parameter ${parameter.name} cannot ${parameter.type === 'secret' ? 'become' : 'stop being'} secret while deployment(s) ${setting.slice(0, 5).join(', ')}${setting.length > 5 ? ', …' : ''} set it; save them without it first`,
      },
    ];
  });
}

async function tenantProblems(deps: CatalogDeps, tenant: Tenant): Promise<FieldProblem[]> {
  if (tenant.parentTenantId === undefined) return [];
  if (tenant.parentTenantId === tenant.id) return [{ field: 'parentTenantId', problem: 'a tenant cannot be its own parent' }];
  // walk up from the new parent: meeting this tenant again would close a loop
  const chain: string[] = [tenant.id];
  for (let id: string | undefined = tenant.parentTenantId; id !== undefined; ) {
    if (chain.includes(id)) return [{ field: 'parentTenantId', problem: `would make a loop of parents: ${[...chain, id].join(' → ')}` }];
    const parent = await deps.catalog.getTenant(id);
    if (!parent) return [{ field: 'parentTenantId', problem: `tenant ${id} does not exist` }];
    chain.push(id);
    id = parent.parentTenantId;
  }
  return [];
}

async function softwareProblems(deps: CatalogDeps, software: Software): Promise<FieldProblem[]> {
  const problems: FieldProblem[] = [];
  // the dependency graph reachable from the new entry, with the new entry in place of any stored version
  const graph = new Map<string, Software>([[software.id, software]]);
  let frontier = software.dependencies.map((d) => d.softwareId);
  while (frontier.length > 0) {
    const wanted = frontier.filter((id) => !graph.has(id));
    const found = await deps.catalog.getSoftware(wanted);
    for (const entry of found) graph.set(entry.id, entry);
    frontier = found.flatMap((entry) => entry.dependencies.map((d) => d.softwareId));
  }
  software.dependencies.forEach((dependency, index) => {
    const target = graph.get(dependency.softwareId);
    if (!target) problems.push({ field: `dependencies.${index}.softwareId`, problem: `software ${dependency.softwareId} does not exist` });
    else if (target.platform !== software.platform) {
      problems.push({ field: `dependencies.${index}.softwareId`, problem: `${dependency.softwareId} is ${target.platform} software; ${software.id} is ${software.platform}` });
    }
  });
  const edges = [...graph.values()].flatMap((entry) => entry.dependencies.filter((d) => graph.has(d.softwareId)).map((d) => [d.softwareId, entry.id] as const));
  for (const cycle of findCycles([...graph.keys()], edges)) {
    if (cycle.includes(software.id)) problems.push({ field: 'dependencies', problem: `would make a dependency cycle: ${cycle.join(', ')} depend on each other` });
  }
  return problems;
}

/**
 * Stores a deployment with its secret values in the secret store and only
 * the marker in the item. The order is what makes a crash anywhere safe:
 *
 * 1. the change, in the audit trail (which also settles which of two saves
 *    at one revision goes on: the other is refused before it writes anything);
 * 2. the secret values, each overwriting what its reference held;
 * 3. the deployment item, which names them (by the marker) only now that they exist;
 * 4. the deletion of references the item no longer names.
 *
 * A crash after 2 leaves the old item: a secret it already named now has the
 * new value (the change took effect early), a new one is stored but unnamed;
 * saving again finds its entry and finishes. A crash after 3 leaves a removed
 * secret stored but unnamed, and saving again (nothing left to change) deletes
 * it. At no point does the item hold a value, nor name a reference that was
 * never written.
 */
async function storeDeployment(deps: CatalogDeps, deployment: Deployment, task: MaintenanceTask | undefined, expected: number | undefined, by: Requester): Promise<StoredDeployment> {
  const current = await deps.catalog.getDeployment(deployment.id);
  const tenantId = await deploymentTenant(deps, deployment);
  const secrets = separateSecrets(
    deployment,
    task,
    secretScope(deployment, tenantId),
    current === undefined ? undefined : { deployment: current, scope: secretScope(current, await deploymentTenant(deps, current)) },
  );
  rejectIf(`deployment ${deployment.id}`, [...secrets.problems]);
  // a new secret value is stored behind the same marker: the trail says it was set, never what it is
  const hidden = secrets.writes.map(({ reference }) => {
    const name = reference.slice(reference.lastIndexOf('/') + 1);
    const wasSet = current?.itemKind === 'Task' && current.parameters[name] === SECRET_MARKER;
    return { field: `parameters.${name}`, ...(wasSet ? { before: SECRET_MARKER } : {}), after: NEW_SECRET_VALUE };
  });
  const stored = await saveRevised<Deployment>(deps, by, {
    resource: 'Deployment',
    id: deployment.id,
    tenantId,
    current,
    expected,
    next: secrets.stored,
    hidden,
    beforeStore: () => Promise.all(secrets.writes.map(({ reference, value }) => deps.secrets.put(reference, value))),
    put: (item, revision) => deps.catalog.putDeployment(item, revision),
  });
  await retireSecrets(deps, { deploymentId: deployment.id, revision: stored.revision }, secrets.deletions);
  return stored;
}

/** What the audit trail says of a secret parameter given a value: that it was set, not to what. */
const NEW_SECRET_VALUE = '(secret: new value)';

/** Where a deployment keeps its secrets: under its one tenant, or shared when it spans tenants. */
const secretScope = (deployment: Deployment, tenantId: string | undefined): SecretScope =>
  keepsSecretsPerTenant(deployment.target) && tenantId !== undefined ? { kind: 'Tenant', tenantId } : { kind: 'Shared' };

/**
 * The tenant a deployment belongs to, for the audit trail and its secrets: the tenant it
 * targets, or the tenant of the computer it targets. `undefined`: it spans
 * tenants (all tenants, a tag everywhere, a person), so it is the MSP's.
 */
async function deploymentTenant(deps: Pick<Dependencies, 'catalog'>, deployment: Deployment): Promise<string | undefined> {
  const target = deployment.target;
  switch (target.kind) {
    case 'Tenant':
    case 'Tag':
      return target.tenantId;
    case 'Computer':
      return (await deps.catalog.getComputer(target.computerId))?.tenantId;
    default:
      return undefined;
  }
}

async function deploymentProblems(deps: CatalogDeps, deployment: Deployment): Promise<{ problems: FieldProblem[]; task?: MaintenanceTask }> {
  const problems: FieldProblem[] = [];
  let task: MaintenanceTask | undefined;
  if (deployment.itemKind === 'Software') {
    const [software] = await deps.catalog.getSoftware([deployment.softwareId]);
    if (!software) problems.push({ field: 'softwareId', problem: `software ${deployment.softwareId} does not exist` });
  } else {
    [task] = await deps.catalog.getTasks([deployment.taskId]);
    if (!task) problems.push({ field: 'taskId', problem: `maintenance task ${deployment.taskId} does not exist` });
    else {
      problems.push(...validateParameters(task, deployment.parameters, 'parameters'));
      if (deployment.mode === 'Enforce' && task.scripts.style === 'Separate' && task.scripts.set === undefined) {
        problems.push({ field: 'mode', problem: `task ${task.id} has no set script, so it can be audited or monitored but not enforced` });
      }
    }
  }
  const target = deployment.target;
  if ((target.kind === 'Tenant' || target.kind === 'Tag') && target.tenantId !== undefined && !(await deps.catalog.getTenant(target.tenantId))) {
    problems.push({ field: 'target.tenantId', problem: `tenant ${target.tenantId} does not exist` });
  }
  if (target.kind === 'Computer' && !(await deps.catalog.getComputer(target.computerId))) {
    problems.push({ field: 'target.computerId', problem: `computer ${target.computerId} does not exist` });
  }
  return task === undefined ? { problems } : { problems, task };
}
