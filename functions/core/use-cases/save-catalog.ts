import { z } from 'zod';
import { canonicalJson } from '../canonical-json.js';
import { ConflictError, ValidationError, type FieldProblem } from '../errors.js';
import { fieldChanges, fitChanges, type AuditedResource, type FieldChange } from '../model/audit.js';
import {
  computerSchema,
  deploymentSchema,
  maintenanceTaskSchema,
  softwareSchema,
  tenantSchema,
  type Computer,
  type Deployment,
  type MaintenanceTask,
  type Software,
  type Tenant,
} from '../model/catalog.js';
import { validateParameters } from '../catalog/parameters.js';
import { SECRET_MARKER, separateSecrets } from '../catalog/secrets.js';
import { requesterSchema, type Requester } from '../model/session.js';
import { findCycles } from '../planning/ordering.js';
import { parseInput, utf8Length } from '../validation.js';
import type { Dependencies } from './dependencies.js';

/** The entity's own schema names its fields; this only makes sure there are fields to name. */
const entityFieldsSchema = z.record(z.string(), z.unknown(), { error: 'must be an object holding the entity\'s fields' });

export const catalogEntitySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('Tenant'), entity: entityFieldsSchema }),
  z.object({ kind: z.literal('Computer'), entity: entityFieldsSchema }),
  z.object({ kind: z.literal('Software'), entity: entityFieldsSchema }),
  z.object({ kind: z.literal('Task'), entity: entityFieldsSchema }),
  z.object({ kind: z.literal('Deployment'), entity: entityFieldsSchema }),
]);
export type CatalogEntityInput = z.infer<typeof catalogEntitySchema>;

/** What the save-catalog handler takes: the entity, and who saves it (recorded in the audit trail). */
export const saveCatalogRequestSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('Tenant'), entity: entityFieldsSchema, by: requesterSchema }),
  z.object({ kind: z.literal('Computer'), entity: entityFieldsSchema, by: requesterSchema }),
  z.object({ kind: z.literal('Software'), entity: entityFieldsSchema, by: requesterSchema }),
  z.object({ kind: z.literal('Task'), entity: entityFieldsSchema, by: requesterSchema }),
  z.object({ kind: z.literal('Deployment'), entity: entityFieldsSchema, by: requesterSchema }),
]);

export type SavedEntity =
  | { kind: 'Tenant'; entity: Tenant }
  | { kind: 'Computer'; entity: Computer }
  | { kind: 'Software'; entity: Software }
  | { kind: 'Task'; entity: MaintenanceTask }
  | { kind: 'Deployment'; entity: Deployment };

type CatalogDeps = Pick<Dependencies, 'catalog' | 'secrets' | 'audit' | 'clock'>;

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
 * trail) as it was; saving what is stored already records nothing.
 */
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
      const [before] = await deps.catalog.getSoftware([software.id]);
      await recordChange(deps, by, { resource: 'Software', id: software.id, before, after: software });
      await deps.catalog.putSoftware(software);
      return { kind: 'Software', entity: software };
    }
    case 'Task': {
      const task = parseInput(maintenanceTaskSchema, input.entity, 'maintenance task');
      rejectIf(`maintenance task ${task.id}`, sizeProblems(task, 'maintenance task'));
      rejectIf(`maintenance task ${task.id}`, await secrecyChangeProblems(deps, task));
      const [before] = await deps.catalog.getTasks([task.id]);
      await recordChange(deps, by, { resource: 'Task', id: task.id, before, after: task });
      await deps.catalog.putTask(task);
      return { kind: 'Task', entity: task };
    }
    case 'Deployment': {
      const deployment = parseInput(deploymentSchema, input.entity, 'deployment');
      rejectIf(`deployment ${deployment.id}`, sizeProblems(deployment, 'deployment'));
      const { problems, task } = await deploymentProblems(deps, deployment);
      rejectIf(`deployment ${deployment.id}`, problems);
      return { kind: 'Deployment', entity: await storeDeployment(deps, deployment, task, by) };
    }
  }
}

/** One catalog change, as the audit trail records it. */
interface CatalogChange {
  readonly resource: Extract<AuditedResource, 'Tenant' | 'Computer' | 'Software' | 'Task' | 'Deployment'>;
  readonly id: string;
  /** The tenant whose viewers may read it; absent for the MSP's own catalog (software, tasks, cross-tenant deployments). */
  readonly tenantId?: string | undefined;
  readonly before: object | undefined;
  readonly after: object;
  /** Changes the stored form cannot show (a secret's new value behind the same marker). */
  readonly hidden?: readonly FieldChange[];
}

/** Two saves of one entry racing for the same version: each loses at most this often before it gives up. */
const MAX_RECORD_ATTEMPTS = 3;

/**
 * Records a catalog change before it is stored. Catalog entries carry no
 * version (the store writes them whole, unconditionally), so an entry's
 * version is its place in the entry's history: one more than the last
 * recorded change, claimed by the audit store's conditional put. Recorded
 * first, so no change is ever stored without its entry; a store that then
 * fails leaves an entry for an attempted change, and the retry any failed
 * save needs finds that same change as the last one recorded and adds
 * nothing. (A version is not a content hash: content can come back, A to B
 * to A, and a hash has no order. Nor a time: a retry has a new one.)
 */
async function recordChange(deps: CatalogDeps, by: Requester, change: CatalogChange): Promise<void> {
  const changes = fitChanges([...fieldChanges(change.before, change.after), ...(change.hidden ?? [])].sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0)));
  if (changes.length === 0) return;
  const at = deps.clock.now().toISOString();
  for (let attempt = 0; attempt < MAX_RECORD_ATTEMPTS; attempt++) {
    const [last] = await deps.audit.list(change.resource, change.id, { latest: 1 });
    // stored still as before this very change: an earlier attempt recorded it and did not get to store it
    if (last && canonicalJson(last.changes) === canonicalJson(changes)) return;
    const recorded = await deps.audit.record({
      resource: change.resource,
      resourceId: change.id,
      ...(change.tenantId === undefined ? {} : { tenantId: change.tenantId }),
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

/**
 * A parameter may not become secret, or stop being secret, while a deployment
 * sets it: a value set in clear would stay in the table (and be sent as the
 * secret's reference never written), and a secret's stored marker `(secret)`
 * would be sent as the value. The deployment is saved again (or its value
 * removed) first, then the type changes.
 */
async function secrecyChangeProblems(deps: CatalogDeps, task: MaintenanceTask): Promise<FieldProblem[]> {
  const [existing] = await deps.catalog.getTasks([task.id]);
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
 * 1. the secret values, each overwriting what its reference held;
 * 2. the deployment item, which names them (by the marker) only now that they exist;
 * 3. the deletion of references the item no longer names.
 *
 * A crash after 1 leaves the old item: a secret it already named now has the
 * new value (the change took effect early), a new one is stored but unnamed.
 * A crash after 2 leaves a removed secret stored but unnamed, and saving again
 * deletes it. At no point does the item hold a value, nor name a reference
 * that was never written. Two saves racing on one deployment can still leave
 * it naming a secret the other deleted; the computer then fails to read it,
 * and the step fails saying so, never running with an empty value.
 */
async function storeDeployment(deps: CatalogDeps, deployment: Deployment, task: MaintenanceTask | undefined, by: Requester): Promise<Deployment> {
  const previous = await deps.catalog.getDeployment(deployment.id);
  const secrets = separateSecrets(deployment, task, previous);
  rejectIf(`deployment ${deployment.id}`, [...secrets.problems]);
  // a new secret value is stored behind the same marker: the trail says it was set, never what it is
  const hidden = secrets.writes.map(({ reference }) => {
    const name = reference.slice(reference.lastIndexOf('/') + 1);
    const wasSet = previous?.itemKind === 'Task' && previous.parameters[name] === SECRET_MARKER;
    return { field: `parameters.${name}`, ...(wasSet ? { before: SECRET_MARKER } : {}), after: NEW_SECRET_VALUE };
  });
  await recordChange(deps, by, { resource: 'Deployment', id: deployment.id, tenantId: await deploymentTenant(deps, deployment), before: previous, after: secrets.stored, hidden });
  await Promise.all(secrets.writes.map(({ reference, value }) => deps.secrets.put(reference, value)));
  await deps.catalog.putDeployment(secrets.stored);
  if (secrets.deletions.length > 0) await deps.secrets.delete(secrets.deletions);
  return secrets.stored;
}

/** What the audit trail says of a secret parameter given a value: that it was set, not to what. */
const NEW_SECRET_VALUE = '(secret: new value)';

/**
 * The tenant a deployment belongs to, for the audit trail: the tenant it
 * targets, or the tenant of the computer it targets. `undefined`: it spans
 * tenants (all tenants, a tag everywhere, a person), so it is the MSP's.
 */
async function deploymentTenant(deps: CatalogDeps, deployment: Deployment): Promise<string | undefined> {
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
