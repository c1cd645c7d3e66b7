import { createRoute, z } from '@hono/zod-openapi';
import { NotFoundError, ValidationError } from '../../core/errors.js';
import { computerSchema, entityIdSchema, tenantSchema, type Computer, type Deployment } from '../../core/model/catalog.js';
import { explainComputer } from '../../core/use-cases/explain-computer.js';
import { computerCompliance, computerComplianceSchema } from '../../core/use-cases/computer-compliance.js';
import { importComputers } from '../../core/use-cases/import-computers.js';
import { importRequestSchema } from '../../core/model/inventory.js';
import { deleteCatalogEntity, saveCatalogEntity, type CatalogDeletion, type CatalogEntityInput } from '../../core/use-cases/save-catalog.js';
import type { Dependencies } from '../../core/use-cases/dependencies.js';
import { requires, type RequestAccess } from '../access.js';
import { fieldsUnder } from '../errors.js';
import { pageOf } from '../paging.js';
import {
  computerExplanationSchema as explanationSchema,
  deploymentRef,
  importReportSchema,
  softwareRef,
  storedDeploymentSchema,
  storedSoftwareSchema,
  storedTaskSchema,
  taskRef,
} from '../response-schemas.js';
import { ERROR_RESPONSES, READ_ERROR_RESPONSES, cursorSchema, idParams, json, jsonBody, limitSchema, pageOfSchema, pageQuerySchema, versionSchema } from '../schemas.js';
import { newRouter } from '../router.js';

/**
 * Tenants, computers, software, tasks and deployments: reads straight from
 * the catalog store, every change through save-catalog (the one way in, which
 * checks references and cycles). A Viewer sees its tenants' tenants and
 * computers, and the deployments aimed at them; the software and task catalog
 * is the MSP's.
 *
 * Software, tasks and deployments carry a `revision`, as schedules carry a
 * version: `POST` creates one (409 when the id is taken), `PUT` changes one
 * at the `expectedRevision` it was decided on and `DELETE` removes one at
 * `?expectedRevision=` (409, saying the revision stored, when it has moved
 * on; 404 when there is none). As for schedules, `PUT` never creates: a
 * request without `expectedRevision` is refused naming that field, whether
 * or not the id exists. Tenants and computers are still created or replaced
 * by `PUT` alone. A deleted software item or task is a tombstone only the
 * steps of sessions already holding it read: here it is gone (`GET` 404,
 * left out of the lists, not a deployment's or dependency's to name), and a
 * `POST` of its id creates it again after its history.
 */

const tenantRef = tenantSchema.meta({ id: 'Tenant' });
const computerRef = computerSchema.meta({ id: 'Computer' });
const importRequestRef = importRequestSchema.meta({ id: 'ComputerImportRequest' });

/** What a change of a software item, task or deployment adds to the entity: the revision it was decided on. */
const expectedRevisionBody = z.object({
  expectedRevision: z
    .number({ error: (issue) => (issue.input === undefined ? 'is required: the revision the change was decided on (`revision` as it was read); create with POST' : 'must be a whole number') })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .meta({ description: 'The revision the change was decided on (`revision` as it was read); a stale one is refused with 409, saying the revision stored' }),
});
const changeOf = <S extends z.ZodType>(entity: S) => z.intersection(entity, expectedRevisionBody);
const deleteQuery = z.object({ expectedRevision: versionSchema.meta({ description: 'The revision the deletion was decided on' }) }).strict();
const deletedSchema = z.object({ deleted: z.string() });

const computersQuery = z.object({ tenantId: entityIdSchema.optional(), limit: limitSchema, cursor: cursorSchema }).strict();

/** The body's id must be the path's: a PUT names one resource. */
function samePathId(bodyId: string, pathId: string): void {
  if (bodyId !== pathId) throw new ValidationError('request', [{ field: 'body.id', problem: `must be the id in the path (${pathId})` }]);
}

const save = <K extends CatalogEntityInput['kind']>(deps: Dependencies, access: RequestAccess, input: Extract<CatalogEntityInput, { kind: K }>) =>
  fieldsUnder('body', () => saveCatalogEntity<K>(deps, input, access.by));

/** The entity of a change's body: `expectedRevision` travels beside it, not in it. */
function entityOf<B extends { readonly expectedRevision: number }>(body: B): Omit<B, 'expectedRevision'> {
  const { expectedRevision: _expected, ...entity } = body;
  return entity;
}

const remove = (deps: Dependencies, access: RequestAccess, deletion: CatalogDeletion) => deleteCatalogEntity(deps, deletion, access.by);

/**
 * The tenant a deployment belongs to, for a Viewer: the tenant it targets, or
 * the tenant of the computer it targets. `undefined`: it spans tenants (all
 * tenants, a tag everywhere, a person), so it is the MSP's.
 */
function deploymentTenant(deployment: Deployment, computers: ReadonlyMap<string, Computer>): string | undefined {
  const target = deployment.target;
  switch (target.kind) {
    case 'Tenant':
    case 'Tag':
      return target.tenantId;
    case 'Computer':
      return computers.get(target.computerId)?.tenantId;
    default:
      return undefined;
  }
}

async function deploymentTenantOf(deps: Dependencies, access: RequestAccess, deployment: Deployment): Promise<string | undefined> {
  if ((await access.scope()).all) return undefined;
  if (deployment.target.kind !== 'Computer') return deploymentTenant(deployment, new Map());
  const computer = await deps.catalog.getComputer(deployment.target.computerId);
  return computer?.tenantId;
}

export function catalogRoutes() {
  return (
    newRouter()
      // ---- tenants
      .openapi(
        createRoute({
          method: 'get',
          path: '/tenants',
          tags: ['Tenants'],
          summary: 'The tenants the caller can see',
          request: { query: pageQuerySchema },
          responses: { 200: json('A page of tenants, by id', pageOfSchema(tenantRef)), ...READ_ERROR_RESPONSES },
        }),
        async (c) => {
          const { limit, cursor } = c.req.valid('query');
          const { deps, access } = c.var;
          const scope = await access.scope();
          const tenants = (await deps.catalog.listTenants()).filter((tenant) => scope.all || scope.tenantIds.has(tenant.id));
          return c.json(await fieldsUnder('query', () => pageOf(tenants, (t) => t.id, limit, cursor)), 200);
        },
      )
      .openapi(
        createRoute({
          method: 'get',
          path: '/tenants/{tenantId}',
          tags: ['Tenants'],
          summary: 'One tenant',
          request: { params: idParams('tenantId') },
          responses: { 200: json('The tenant', tenantRef), ...READ_ERROR_RESPONSES },
        }),
        async (c) => {
          const { tenantId } = c.req.valid('param');
          const { deps, access } = c.var;
          await access.requireTenant(tenantId);
          const tenant = await deps.catalog.getTenant(tenantId);
          if (!tenant) throw new NotFoundError('tenant', tenantId);
          return c.json(tenant, 200);
        },
      )
      .openapi(
        createRoute({
          method: 'put',
          path: '/tenants/{tenantId}',
          middleware: [requires('operate')],
          tags: ['Tenants'],
          summary: 'Create or replace a tenant',
          request: { params: idParams('tenantId'), body: jsonBody(tenantRef) },
          responses: { 200: json('The tenant as stored', tenantRef), ...ERROR_RESPONSES },
        }),
        async (c) => {
          const { tenantId } = c.req.valid('param');
          const body = c.req.valid('json');
          const { deps, access } = c.var;
          samePathId(body.id, tenantId);
          const saved = await save(deps, access, { kind: 'Tenant', entity: body });
          return c.json(saved.entity, 200);
        },
      )
      // ---- computers
      .openapi(
        createRoute({
          method: 'get',
          path: '/computers',
          tags: ['Computers'],
          summary: 'The computers the caller can see, of one tenant or all',
          request: { query: computersQuery },
          responses: { 200: json('A page of computers, by id', pageOfSchema(computerRef)), ...READ_ERROR_RESPONSES },
        }),
        async (c) => {
          const { tenantId, limit, cursor } = c.req.valid('query');
          const { deps, access } = c.var;
          if (tenantId !== undefined) await fieldsUnder('query', () => access.requireTenant(tenantId));
          const scope = await access.scope();
          const computers = (await deps.catalog.listComputers()).filter(
            (computer) => (tenantId === undefined || computer.tenantId === tenantId) && (scope.all || scope.tenantIds.has(computer.tenantId)),
          );
          return c.json(await fieldsUnder('query', () => pageOf(computers, (computer) => computer.id, limit, cursor)), 200);
        },
      )
      .openapi(
        createRoute({
          method: 'post',
          path: '/computers/import',
          middleware: [requires('operate')],
          tags: ['Computers'],
          summary: 'Bring SSM managed nodes into the catalog, each in the tenant its tag maps to (`dryRun`: report only)',
          request: { body: jsonBody(importRequestRef) },
          responses: { 200: json('What was created, updated, moved or left as it was, and what was skipped and why', importReportSchema), ...ERROR_RESPONSES },
        }),
        async (c) => {
          const request = c.req.valid('json');
          const { deps, access } = c.var;
          return c.json(await fieldsUnder('body', () => importComputers(deps, request, access.by)), 200);
        },
      )
      .openapi(
        createRoute({
          method: 'get',
          path: '/computers/{computerId}',
          tags: ['Computers'],
          summary: 'One computer',
          request: { params: idParams('computerId') },
          responses: { 200: json('The computer', computerRef), ...READ_ERROR_RESPONSES },
        }),
        async (c) => {
          const { computerId } = c.req.valid('param');
          const { deps, access } = c.var;
          return c.json(await access.reveal('computer', computerId, await deps.catalog.getComputer(computerId)), 200);
        },
      )
      .openapi(
        createRoute({
          method: 'put',
          path: '/computers/{computerId}',
          middleware: [requires('operate')],
          tags: ['Computers'],
          summary: 'Create or replace a computer',
          request: { params: idParams('computerId'), body: jsonBody(computerRef) },
          responses: { 200: json('The computer as stored', computerRef), ...ERROR_RESPONSES },
        }),
        async (c) => {
          const { computerId } = c.req.valid('param');
          const body = c.req.valid('json');
          const { deps, access } = c.var;
          samePathId(body.id, computerId);
          const saved = await save(deps, access, { kind: 'Computer', entity: body });
          return c.json(saved.entity, 200);
        },
      )
      .openapi(
        createRoute({
          method: 'get',
          path: '/computers/{computerId}/explain',
          tags: ['Computers'],
          summary: 'Why the computer gets what it gets: per item, the winning deployment and the rule that decided',
          request: { params: idParams('computerId') },
          responses: { 200: json('The explanation, from the catalog as it is now', explanationSchema), ...READ_ERROR_RESPONSES },
        }),
        async (c) => {
          const { computerId } = c.req.valid('param');
          const { deps, access } = c.var;
          await access.requireVisible('computer', computerId, () => deps.catalog.getComputer(computerId));
          return c.json(await explainComputer(deps, computerId), 200);
        },
      )
      .openapi(
        createRoute({
          method: 'get',
          path: '/computers/{computerId}/compliance',
          tags: ['Computers'],
          summary: "Per item the computer gets now, its compliance as last detected: what the latest of its recent sessions found, judged against today's deployments",
          request: { params: idParams('computerId') },
          responses: { 200: json('Per item: compliant or not and why, with the detection it rests on (when, which session)', computerComplianceSchema.meta({ id: 'ComputerCompliance' })), ...READ_ERROR_RESPONSES },
        }),
        async (c) => {
          const { computerId } = c.req.valid('param');
          const { deps, access } = c.var;
          await access.requireVisible('computer', computerId, () => deps.catalog.getComputer(computerId));
          return c.json(await computerCompliance(deps, computerId), 200);
        },
      )
      // ---- software and tasks (the MSP's catalog)
      .openapi(
        createRoute({
          method: 'get',
          path: '/software',
          middleware: [requires('readCatalog')],
          tags: ['Catalog'],
          summary: 'The software catalog',
          request: { query: pageQuerySchema },
          responses: { 200: json('A page of software items, by id', pageOfSchema(storedSoftwareSchema)), ...READ_ERROR_RESPONSES },
        }),
        async (c) => {
          const { limit, cursor } = c.req.valid('query');
          const software = await c.var.deps.catalog.listSoftware();
          return c.json(await fieldsUnder('query', () => pageOf(software, (item) => item.id, limit, cursor)), 200);
        },
      )
      .openapi(
        createRoute({
          method: 'post',
          path: '/software',
          middleware: [requires('editCatalog')],
          tags: ['Catalog'],
          summary: 'Create a software item, at revision 1 (Admin); 409 when the id is taken',
          request: { body: jsonBody(softwareRef) },
          responses: { 201: json('The software as stored', storedSoftwareSchema), ...ERROR_RESPONSES },
        }),
        async (c) => {
          const { deps, access } = c.var;
          const saved = await save(deps, access, { kind: 'Software', entity: c.req.valid('json'), expectedRevision: 0 });
          return c.json(saved.entity, 201);
        },
      )
      .openapi(
        createRoute({
          method: 'get',
          path: '/tasks',
          middleware: [requires('readCatalog')],
          tags: ['Catalog'],
          summary: 'The maintenance task catalog',
          request: { query: pageQuerySchema },
          responses: { 200: json('A page of maintenance tasks, by id', pageOfSchema(storedTaskSchema)), ...READ_ERROR_RESPONSES },
        }),
        async (c) => {
          const { limit, cursor } = c.req.valid('query');
          const tasks = await c.var.deps.catalog.listTasks();
          return c.json(await fieldsUnder('query', () => pageOf(tasks, (task) => task.id, limit, cursor)), 200);
        },
      )
      .openapi(
        createRoute({
          method: 'post',
          path: '/tasks',
          middleware: [requires('editCatalog')],
          tags: ['Catalog'],
          summary: 'Create a maintenance task, at revision 1 (Admin); 409 when the id is taken',
          request: { body: jsonBody(taskRef) },
          responses: { 201: json('The task as stored', storedTaskSchema), ...ERROR_RESPONSES },
        }),
        async (c) => {
          const { deps, access } = c.var;
          const saved = await save(deps, access, { kind: 'Task', entity: c.req.valid('json'), expectedRevision: 0 });
          return c.json(saved.entity, 201);
        },
      )
      .openapi(
        createRoute({
          method: 'get',
          path: '/software/{softwareId}',
          middleware: [requires('readCatalog')],
          tags: ['Catalog'],
          summary: 'One software item of the catalog (its `revision` is what a change names)',
          request: { params: idParams('softwareId') },
          responses: { 200: json('The software', storedSoftwareSchema), ...READ_ERROR_RESPONSES },
        }),
        async (c) => {
          const { softwareId } = c.req.valid('param');
          const { deps } = c.var;
          const [software] = await deps.catalog.getSoftware([softwareId]);
          if (!software) throw new NotFoundError('software', softwareId);
          return c.json(software, 200);
        },
      )
      .openapi(
        createRoute({
          method: 'put',
          path: '/software/{softwareId}',
          middleware: [requires('editCatalog')],
          tags: ['Catalog'],
          summary: 'Replace a software item, at the revision the change was decided on (Admin)',
          request: { params: idParams('softwareId'), body: jsonBody(changeOf(softwareRef)) },
          responses: { 200: json('The software as stored', storedSoftwareSchema), ...ERROR_RESPONSES },
        }),
        async (c) => {
          const { softwareId } = c.req.valid('param');
          const body = c.req.valid('json');
          const { deps, access } = c.var;
          samePathId(body.id, softwareId);
          const saved = await save(deps, access, { kind: 'Software', entity: entityOf(body), expectedRevision: body.expectedRevision });
          return c.json(saved.entity, 200);
        },
      )
      .openapi(
        createRoute({
          method: 'delete',
          path: '/software/{softwareId}',
          middleware: [requires('editCatalog')],
          tags: ['Catalog'],
          summary: 'Delete a software item, at the revision the deletion was decided on (Admin); 409 naming them while deployments or other software use it',
          request: { params: idParams('softwareId'), query: deleteQuery },
          responses: { 200: json('What was deleted', deletedSchema), ...ERROR_RESPONSES },
        }),
        async (c) => {
          const { softwareId } = c.req.valid('param');
          const { expectedRevision } = c.req.valid('query');
          await remove(c.var.deps, c.var.access, { kind: 'Software', id: softwareId, expectedRevision });
          return c.json({ deleted: softwareId }, 200);
        },
      )
      .openapi(
        createRoute({
          method: 'get',
          path: '/tasks/{taskId}',
          middleware: [requires('readCatalog')],
          tags: ['Catalog'],
          summary: 'One maintenance task of the catalog (its `revision` is what a change names)',
          request: { params: idParams('taskId') },
          responses: { 200: json('The task', storedTaskSchema), ...READ_ERROR_RESPONSES },
        }),
        async (c) => {
          const { taskId } = c.req.valid('param');
          const { deps } = c.var;
          const [task] = await deps.catalog.getTasks([taskId]);
          if (!task) throw new NotFoundError('maintenance task', taskId);
          return c.json(task, 200);
        },
      )
      .openapi(
        createRoute({
          method: 'put',
          path: '/tasks/{taskId}',
          middleware: [requires('editCatalog')],
          tags: ['Catalog'],
          summary: 'Replace a maintenance task, at the revision the change was decided on (Admin)',
          request: { params: idParams('taskId'), body: jsonBody(changeOf(taskRef)) },
          responses: { 200: json('The task as stored', storedTaskSchema), ...ERROR_RESPONSES },
        }),
        async (c) => {
          const { taskId } = c.req.valid('param');
          const body = c.req.valid('json');
          const { deps, access } = c.var;
          samePathId(body.id, taskId);
          const saved = await save(deps, access, { kind: 'Task', entity: entityOf(body), expectedRevision: body.expectedRevision });
          return c.json(saved.entity, 200);
        },
      )
      .openapi(
        createRoute({
          method: 'delete',
          path: '/tasks/{taskId}',
          middleware: [requires('editCatalog')],
          tags: ['Catalog'],
          summary: 'Delete a maintenance task, at the revision the deletion was decided on (Admin); 409 naming them while deployments run it',
          request: { params: idParams('taskId'), query: deleteQuery },
          responses: { 200: json('What was deleted', deletedSchema), ...ERROR_RESPONSES },
        }),
        async (c) => {
          const { taskId } = c.req.valid('param');
          const { expectedRevision } = c.req.valid('query');
          await remove(c.var.deps, c.var.access, { kind: 'Task', id: taskId, expectedRevision });
          return c.json({ deleted: taskId }, 200);
        },
      )
      // ---- deployments
      .openapi(
        createRoute({
          method: 'get',
          path: '/deployments',
          tags: ['Deployments'],
          summary: 'The deployments the caller can see (a Viewer: those aimed at its tenants)',
          request: { query: pageQuerySchema },
          responses: { 200: json('A page of deployments, by id', pageOfSchema(storedDeploymentSchema)), ...READ_ERROR_RESPONSES },
        }),
        async (c) => {
          const { limit, cursor } = c.req.valid('query');
          const { deps, access } = c.var;
          const scope = await access.scope();
          let deployments = await deps.catalog.listDeployments();
          if (!scope.all) {
            const computers = deployments.some((d) => d.target.kind === 'Computer') ? new Map((await deps.catalog.listComputers()).map((computer) => [computer.id, computer])) : new Map<string, Computer>();
            deployments = deployments.filter((deployment) => {
              const tenantId = deploymentTenant(deployment, computers);
              return tenantId !== undefined && scope.tenantIds.has(tenantId);
            });
          }
          return c.json(await fieldsUnder('query', () => pageOf(deployments, (d) => d.id, limit, cursor)), 200);
        },
      )
      .openapi(
        createRoute({
          method: 'post',
          path: '/deployments',
          middleware: [requires('operate')],
          tags: ['Deployments'],
          summary: 'Create a deployment, at revision 1; 409 when the id is taken',
          request: { body: jsonBody(deploymentRef) },
          responses: { 201: json('The deployment as stored (secret values replaced by their marker)', storedDeploymentSchema), ...ERROR_RESPONSES },
        }),
        async (c) => {
          const { deps, access } = c.var;
          const saved = await save(deps, access, { kind: 'Deployment', entity: c.req.valid('json'), expectedRevision: 0 });
          return c.json(saved.entity, 201);
        },
      )
      .openapi(
        createRoute({
          method: 'get',
          path: '/deployments/{deploymentId}',
          tags: ['Deployments'],
          summary: 'One deployment (secret parameter values show as `(secret)`; its `revision` is what a change names)',
          request: { params: idParams('deploymentId') },
          responses: { 200: json('The deployment', storedDeploymentSchema), ...READ_ERROR_RESPONSES },
        }),
        async (c) => {
          const { deploymentId } = c.req.valid('param');
          const { deps, access } = c.var;
          const deployment = await deps.catalog.getDeployment(deploymentId);
          if (!deployment) throw new NotFoundError('deployment', deploymentId);
          const tenantId = await deploymentTenantOf(deps, access, deployment);
          await access.reveal('deployment', deploymentId, { tenantId });
          return c.json(deployment, 200);
        },
      )
      .openapi(
        createRoute({
          method: 'put',
          path: '/deployments/{deploymentId}',
          middleware: [requires('operate')],
          tags: ['Deployments'],
          summary: 'Replace a deployment, at the revision the change was decided on',
          request: { params: idParams('deploymentId'), body: jsonBody(changeOf(deploymentRef)) },
          responses: { 200: json('The deployment as stored (secret values replaced by their marker)', storedDeploymentSchema), ...ERROR_RESPONSES },
        }),
        async (c) => {
          const { deploymentId } = c.req.valid('param');
          const body = c.req.valid('json');
          const { deps, access } = c.var;
          samePathId(body.id, deploymentId);
          const saved = await save(deps, access, { kind: 'Deployment', entity: entityOf(body), expectedRevision: body.expectedRevision });
          return c.json(saved.entity, 200);
        },
      )
      .openapi(
        createRoute({
          method: 'delete',
          path: '/deployments/{deploymentId}',
          middleware: [requires('operate')],
          tags: ['Deployments'],
          summary: 'Delete a deployment and its stored secrets, at the revision the deletion was decided on (a session under way keeps its frozen items; a step of it still to run that needs those secrets fails)',
          request: { params: idParams('deploymentId'), query: deleteQuery },
          responses: { 200: json('What was deleted', deletedSchema), ...ERROR_RESPONSES },
        }),
        async (c) => {
          const { deploymentId } = c.req.valid('param');
          const { expectedRevision } = c.req.valid('query');
          await remove(c.var.deps, c.var.access, { kind: 'Deployment', id: deploymentId, expectedRevision });
          return c.json({ deleted: deploymentId }, 200);
        },
      )
  );
}
