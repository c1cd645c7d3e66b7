import { createRoute, z } from '@hono/zod-openapi';
import { NotFoundError } from '../../core/errors.js';
import { entityIdSchema } from '../../core/model/catalog.js';
import type { ScheduleRun } from '../../core/model/schedule-run.js';
import { scheduleInputSchema, scheduleSchema, type Schedule } from '../../core/model/schedule.js';
import type { Dependencies } from '../../core/use-cases/dependencies.js';
import { operateRun } from '../../core/use-cases/advance-run.js';
import { requestRunNow } from '../../core/use-cases/fire-schedule.js';
import { createSchedule, deleteSchedule, duplicateSchedule, setScheduleEnabled, updateSchedule } from '../../core/use-cases/manage-schedules.js';
import { previewSchedule } from '../../core/use-cases/preview-schedule.js';
import { getRunCost } from '../../core/use-cases/session-usage.js';
import { requires, type RequestAccess } from '../access.js';
import { fieldsUnder } from '../errors.js';
import { pageOf } from '../paging.js';
import { runTargetSchema, schedulePreviewSchema as previewSchema, scheduleRunSchema as runSchema, scheduleRunWithCostSchema as runWithCostSchema } from '../response-schemas.js';
import { newRouter } from '../router.js';
import { visibleResourceChanges } from './audit.js';
import { ERROR_RESPONSES, READ_ERROR_RESPONSES, idParams, json, jsonBody, pageOfSchema, pageQuerySchema, reasonSchema, versionSchema, auditEntrySchema, idempotencyHeaders } from '../schemas.js';

/**
 * Schedules and their runs: every change through the manage-schedules use
 * cases (versioned, audited), a run-now through the same fire a schedule's
 * trigger makes, and the operator's hand on a run through `operateRun`. A
 * Viewer sees the schedules of its tenants, and their runs.
 */

const scheduleRef = scheduleSchema.meta({ id: 'Schedule' });
const scheduleInputRef = scheduleInputSchema.meta({ id: 'ScheduleInput' });
const changeResultSchema = z
  .object({ schedule: scheduleRef, triggerInSync: z.boolean().meta({ description: 'False when the scheduler could not be updated yet; the reconcile sweep brings it in line' }) })
  .meta({ id: 'ScheduleChange' });

const firesSchema = z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').max(50, 'must be at most 50').default(5);
const expectedVersionBody = z.object({ expectedVersion: versionSchema.meta({ description: 'The version the change was decided on' }) }).strict();
const runOperationBody = z.object({ reason: reasonSchema.optional() }).strict();

/** A schedule for one tenant belongs to that tenant; one for every tenant is the MSP's. */
async function visibleSchedule(deps: Dependencies, access: RequestAccess, scheduleId: string): Promise<Schedule> {
  return access.reveal('schedule', scheduleId, await deps.schedules.getSchedule(scheduleId));
}

/** A run is visible when its schedule is (a run of a deleted schedule, to those who see every tenant). */
async function operate(vars: { readonly deps: Dependencies; readonly access: RequestAccess }, runId: string, operation: RunOperation, reason: string | undefined): Promise<ScheduleRun> {
  await requireVisibleRun(vars.deps, vars.access, runId);
  return operateRun(vars.deps, { runId, operation, by: vars.access.by, ...(reason === undefined ? {} : { reason }) });
}

/**
 * Whose a run is: the tenant it was made for when its schedule fired, not the
 * one the schedule has moved to since (a run recorded before runs kept it: its
 * schedule's). Undefined for a run that does not exist.
 */
export async function runOwner(deps: Dependencies, runId: string): Promise<{ readonly tenantId?: string | undefined } | undefined> {
  const run = await deps.schedules.getRun(runId);
  if (!run) return undefined;
  return run.owner ?? (await deps.schedules.getSchedule(run.scheduleId));
}

async function requireVisibleRun(deps: Dependencies, access: RequestAccess, runId: string): Promise<void> {
  await access.requireVisible('run', runId, () => runOwner(deps, runId));
}

type RunOperation = 'halt' | 'resume' | 'promote' | 'cancel';

const runOperation = <O extends RunOperation>(operation: O, summary: string) =>
  createRoute({
    method: 'post',
    path: `/runs/{runId}/${operation}` as const,
    tags: ['Runs'],
    summary,
    middleware: [requires('operate')],
    request: { params: idParams('runId'), body: jsonBody(runOperationBody) },
    responses: { 200: json('The run as it is now', z.object({ run: runSchema })), ...ERROR_RESPONSES },
  });

export function scheduleRoutes() {
  return (
    newRouter()
      .openapi(
        createRoute({
          method: 'get',
          path: '/schedules',
          tags: ['Schedules'],
          summary: 'The schedules the caller can see',
          request: { query: pageQuerySchema },
          responses: { 200: json('A page of schedules, by id', pageOfSchema(scheduleRef)), ...READ_ERROR_RESPONSES },
        }),
        async (c) => {
          const { limit, cursor } = c.req.valid('query');
          const { deps, access } = c.var;
          const scope = await access.scope();
          const schedules = (await deps.schedules.listSchedules()).filter((s) => scope.all || (s.tenantId !== undefined && scope.tenantIds.has(s.tenantId)));
          return c.json(await fieldsUnder('query', () => pageOf(schedules, (s) => s.id, limit, cursor)), 200);
        },
      )
      .openapi(
        createRoute({
          method: 'post',
          path: '/schedules',
          tags: ['Schedules'],
          summary: 'Create a schedule (its trigger follows)',
          middleware: [requires('operate')],
          request: { body: jsonBody(z.object({ scheduleId: entityIdSchema.optional(), schedule: scheduleInputRef }).strict()) },
          responses: { 201: json('The schedule as stored', changeResultSchema), ...ERROR_RESPONSES },
        }),
        async (c) => {
          const { scheduleId, schedule } = c.req.valid('json');
          const { deps, access } = c.var;
          const result = await fieldsUnder('body.schedule', () => createSchedule(deps, { input: schedule, ...(scheduleId === undefined ? {} : { scheduleId }), by: access.by }));
          return c.json(result, 201);
        },
      )
      .openapi(
        createRoute({
          method: 'post',
          path: '/schedules/preview',
          tags: ['Schedules'],
          summary: 'Preview a schedule being edited (not stored): its next fires and each computer it would target',
          middleware: [requires('operate')],
          request: { body: jsonBody(z.object({ schedule: scheduleInputRef, fires: firesSchema }).strict()) },
          responses: { 200: json('The preview, against the catalog as it is now', previewSchema), ...ERROR_RESPONSES },
        }),
        async (c) => {
          const { schedule, fires } = c.req.valid('json');
          const { deps } = c.var;
          return c.json(await fieldsUnder('body.schedule', () => previewSchedule(deps, { input: schedule, fires })), 200);
        },
      )
      .openapi(
        createRoute({
          method: 'get',
          path: '/schedules/{scheduleId}',
          tags: ['Schedules'],
          summary: 'One schedule (its `version` is what a change names)',
          request: { params: idParams('scheduleId') },
          responses: { 200: json('The schedule', scheduleRef), ...READ_ERROR_RESPONSES },
        }),
        async (c) => {
          const { scheduleId } = c.req.valid('param');
          return c.json(await visibleSchedule(c.var.deps, c.var.access, scheduleId), 200);
        },
      )
      .openapi(
        createRoute({
          method: 'put',
          path: '/schedules/{scheduleId}',
          tags: ['Schedules'],
          summary: 'Replace a schedule, at the version the change was decided on',
          middleware: [requires('operate')],
          request: { params: idParams('scheduleId'), body: jsonBody(z.object({ expectedVersion: versionSchema, schedule: scheduleInputRef }).strict()) },
          responses: { 200: json('The schedule as stored', changeResultSchema), ...ERROR_RESPONSES },
        }),
        async (c) => {
          const { scheduleId } = c.req.valid('param');
          const { expectedVersion, schedule } = c.req.valid('json');
          const { deps, access } = c.var;
          return c.json(await fieldsUnder('body.schedule', () => updateSchedule(deps, { scheduleId, expectedVersion, input: schedule, by: access.by })), 200);
        },
      )
      .openapi(
        createRoute({
          method: 'delete',
          path: '/schedules/{scheduleId}',
          tags: ['Schedules'],
          summary: 'Delete a schedule and its trigger, at the version the change was decided on (its history stays)',
          middleware: [requires('operate')],
          request: { params: idParams('scheduleId'), query: z.object({ expectedVersion: versionSchema }).strict() },
          responses: { 200: json('What was deleted', z.object({ deleted: z.string() })), ...ERROR_RESPONSES },
        }),
        async (c) => {
          const { scheduleId } = c.req.valid('param');
          const { expectedVersion } = c.req.valid('query');
          const { deps, access } = c.var;
          await deleteSchedule(deps, { scheduleId, expectedVersion, by: access.by });
          return c.json({ deleted: scheduleId }, 200);
        },
      )
      .openapi(
        createRoute({
          method: 'post',
          path: '/schedules/{scheduleId}/enable',
          tags: ['Schedules'],
          summary: 'Enable a schedule',
          middleware: [requires('operate')],
          request: { params: idParams('scheduleId'), body: jsonBody(expectedVersionBody) },
          responses: { 200: json('The schedule as stored', changeResultSchema), ...ERROR_RESPONSES },
        }),
        async (c) => {
          const { scheduleId } = c.req.valid('param');
          const { expectedVersion } = c.req.valid('json');
          const { deps, access } = c.var;
          return c.json(await setScheduleEnabled(deps, { scheduleId, expectedVersion, enabled: true, by: access.by }), 200);
        },
      )
      .openapi(
        createRoute({
          method: 'post',
          path: '/schedules/{scheduleId}/disable',
          tags: ['Schedules'],
          summary: 'Disable a schedule (runs under way go on)',
          middleware: [requires('operate')],
          request: { params: idParams('scheduleId'), body: jsonBody(expectedVersionBody) },
          responses: { 200: json('The schedule as stored', changeResultSchema), ...ERROR_RESPONSES },
        }),
        async (c) => {
          const { scheduleId } = c.req.valid('param');
          const { expectedVersion } = c.req.valid('json');
          const { deps, access } = c.var;
          return c.json(await setScheduleEnabled(deps, { scheduleId, expectedVersion, enabled: false, by: access.by }), 200);
        },
      )
      .openapi(
        createRoute({
          method: 'post',
          path: '/schedules/{scheduleId}/duplicate',
          tags: ['Schedules'],
          summary: 'Copy a schedule, disabled, to edit',
          middleware: [requires('operate')],
          request: {
            params: idParams('scheduleId'),
            body: jsonBody(z.object({ newScheduleId: entityIdSchema.optional(), name: z.string().trim().min(1, 'must not be empty').max(255, 'must be at most 255 characters').optional() }).strict()),
          },
          responses: { 201: json('The copy as stored', changeResultSchema), ...ERROR_RESPONSES },
        }),
        async (c) => {
          const { scheduleId } = c.req.valid('param');
          const { newScheduleId, name } = c.req.valid('json');
          const { deps, access } = c.var;
          const result = await fieldsUnder('body', () =>
            duplicateSchedule(deps, { scheduleId, ...(newScheduleId === undefined ? {} : { newScheduleId }), ...(name === undefined ? {} : { name }), by: access.by }),
          );
          return c.json(result, 201);
        },
      )
      .openapi(
        createRoute({
          method: 'post',
          path: '/schedules/{scheduleId}/run-now',
          tags: ['Schedules'],
          summary: 'Fire a schedule now, as its trigger would (a run-now also fires a disabled schedule)',
          description:
            'Records the run as Starting and hands its fan-out to the run worker, which writes each computer\'s target and starts the sessions the rollout allows: poll `GET /runs/{runId}` until it leaves Starting. With an `Idempotency-Key`, a repeated request (a retry after a timeout) answers the same run instead of starting a second one.',
          middleware: [requires('operate')],
          request: { params: idParams('scheduleId'), headers: idempotencyHeaders },
          responses: { 202: json('The run, Starting (or as it is now, for a repeated key)', z.object({ run: runSchema, created: z.boolean() })), ...ERROR_RESPONSES },
        }),
        async (c) => {
          const { scheduleId } = c.req.valid('param');
          const key = c.req.valid('header')['idempotency-key'];
          const { deps, access } = c.var;
          await visibleSchedule(deps, access, scheduleId);
          // the same key from the same person for the same schedule is the same run
          const runId = key === undefined ? undefined : deps.ids.derive('run', ['api', access.principal.subject, scheduleId, key]);
          const { run, created } = await requestRunNow(deps, { scheduleId, by: access.by, ...(runId === undefined ? {} : { runId }) });
          return c.json({ run, created }, 202);
        },
      )
      .openapi(
        createRoute({
          method: 'get',
          path: '/schedules/{scheduleId}/preview',
          tags: ['Schedules'],
          summary: 'The next fires of a stored schedule, and each computer it would target',
          request: { params: idParams('scheduleId'), query: z.object({ fires: firesSchema }).strict() },
          responses: { 200: json('The preview, against the catalog as it is now', previewSchema), ...READ_ERROR_RESPONSES },
        }),
        async (c) => {
          const { scheduleId } = c.req.valid('param');
          const { fires } = c.req.valid('query');
          const { deps, access } = c.var;
          await visibleSchedule(deps, access, scheduleId);
          return c.json(await previewSchedule(deps, { scheduleId, fires }), 200);
        },
      )
      .openapi(
        createRoute({
          method: 'get',
          path: '/schedules/{scheduleId}/history',
          tags: ['Schedules'],
          summary: "The schedule's changes, oldest first, paged: who, when, what (each tenant's viewers see the changes made while it was theirs)",
          request: { params: idParams('scheduleId'), query: pageQuerySchema },
          responses: { 200: json('A page of recorded changes, oldest first', pageOfSchema(auditEntrySchema)), ...READ_ERROR_RESPONSES },
        }),
        async (c) => {
          const { scheduleId } = c.req.valid('param');
          const { limit, cursor } = c.req.valid('query');
          const { deps, access } = c.var;
          // each entry is its tenant's of the time: a schedule that moved shows its old tenant the changes from before, and the new one only its own
          const seesScheduleNow = async () => access.sees((await deps.schedules.getSchedule(scheduleId))?.tenantId);
          const page = await visibleResourceChanges(c.var, 'Schedule', scheduleId, { limit, ...(cursor === undefined ? {} : { cursor }) }, seesScheduleNow);
          return c.json({ items: [...page.items], ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }) }, 200);
        },
      )
      .openapi(
        createRoute({
          method: 'get',
          path: '/schedules/{scheduleId}/runs',
          tags: ['Runs'],
          summary: "The schedule's runs, newest first",
          request: { params: idParams('scheduleId'), query: z.object({ limit: z.coerce.number().int().min(1, 'must be at least 1').max(100, 'must be at most 100').default(20) }).strict() },
          responses: { 200: json('The latest runs', z.object({ items: z.array(runSchema) })), ...READ_ERROR_RESPONSES },
        }),
        async (c) => {
          const { scheduleId } = c.req.valid('param');
          const { limit } = c.req.valid('query');
          const { deps, access } = c.var;
          const schedule = await access.reveal('schedule', scheduleId, await deps.schedules.getSchedule(scheduleId));
          const runs = await deps.schedules.listRuns(scheduleId, limit);
          // runs made for another tenant, before the schedule moved here, stay that tenant's
          const visible = [];
          for (const run of runs) if (await access.sees((run.owner ?? schedule).tenantId)) visible.push(run);
          return c.json({ items: visible }, 200);
        },
      )
      .openapi(
        createRoute({
          method: 'get',
          path: '/runs/{runId}',
          tags: ['Runs'],
          summary: 'One run: rollout, counts and outcome',
          request: { params: idParams('runId') },
          responses: { 200: json('The run and its cost', runWithCostSchema), ...READ_ERROR_RESPONSES },
        }),
        async (c) => {
          const { runId } = c.req.valid('param');
          const { deps, access } = c.var;
          await requireVisibleRun(deps, access, runId);
          const run = await deps.schedules.getRun(runId);
          if (!run) throw new NotFoundError('run', runId);
          // what the run's sessions and its own fan-out cost, summed once per session as each execution ends
          return c.json({ ...run, cost: await getRunCost(deps, runId, c.var.pricing) }, 200);
        },
      )
      .openapi(
        createRoute({
          method: 'get',
          path: '/runs/{runId}/targets',
          tags: ['Runs'],
          summary: "The run's computers: each one's session, or why it got none",
          request: { params: idParams('runId'), query: pageQuerySchema },
          responses: { 200: json('A page of targets, by computer id', pageOfSchema(runTargetSchema)), ...READ_ERROR_RESPONSES },
        }),
        async (c) => {
          const { runId } = c.req.valid('param');
          const { limit, cursor } = c.req.valid('query');
          const { deps, access } = c.var;
          await requireVisibleRun(deps, access, runId);
          if (!(await deps.schedules.getRun(runId))) throw new NotFoundError('run', runId);
          const scope = await access.scope();
          const targets = (await deps.schedules.listRunTargets(runId)).filter((target) => scope.all || scope.tenantIds.has(target.tenantId));
          return c.json(await fieldsUnder('query', () => pageOf(targets, (target) => target.computerId, limit, cursor)), 200);
        },
      )
      .openapi(runOperation('halt', 'Halt a run: no more sessions start; started ones run to their end'), async (c) => c.json({ run: await operate(c.var, c.req.valid('param').runId, 'halt', c.req.valid('json').reason) }, 200))
      .openapi(runOperation('resume', 'Resume a halted run, accepting the failures so far'), async (c) => c.json({ run: await operate(c.var, c.req.valid('param').runId, 'resume', c.req.valid('json').reason) }, 200))
      .openapi(runOperation('promote', 'Move a run to its next ring now'), async (c) => c.json({ run: await operate(c.var, c.req.valid('param').runId, 'promote', c.req.valid('json').reason) }, 200))
      .openapi(runOperation('cancel', 'Cancel a run: its queued computers never start'), async (c) => c.json({ run: await operate(c.var, c.req.valid('param').runId, 'cancel', c.req.valid('json').reason) }, 200))
  );
}
