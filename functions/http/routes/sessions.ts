import { createRoute, z } from '@hono/zod-openapi';
import { NotFoundError, RequestRefusedError } from '../../core/errors.js';
import { logCursorProblem, MAX_LOG_CURSOR_LENGTH } from '../../core/log-cursor.js';
import { entityIdSchema } from '../../core/model/catalog.js';
import type { RunTarget } from '../../core/model/schedule-run.js';
import { noSessionCounts, SESSION_STATUSES, toSessionSummary, type SessionStatusCounts, type SessionSummary } from '../../core/model/session-list.js';
import { sessionOptionsSchema, type Session, type SessionOptions, type SessionStatus } from '../../core/model/session.js';
import type { Dependencies } from '../../core/use-cases/dependencies.js';
import { countSessions, listSessions } from '../../core/use-cases/list-sessions.js';
import { getSessionReport } from '../../core/use-cases/session-report.js';
import { cancelSession, postponeSession, runSessionNow } from '../../core/use-cases/session-requests.js';
import { startSession } from '../../core/use-cases/start-session.js';
import { ValidationError } from '../../core/errors.js';
import { requires, type RequestAccess } from '../access.js';
import { runOwner } from './schedules.js';
import { fieldsUnder } from '../errors.js';
import { pageOf } from '../paging.js';
import {
  sessionLogPageSchema as logPageSchema,
  sessionReportSchema as reportSchema,
  sessionStatusCountsSchema as countsSchema,
  sessionSummarySchema as summarySchema,
  startSessionResultSchema as startResultSchema,
} from '../response-schemas.js';
import { newRouter } from '../router.js';
import { actionParams, cursorSchema, ERROR_RESPONSES, idempotencyHeaders, json, jsonBody, limitSchema, READ_ERROR_RESPONSES, sessionIdParams } from '../schemas.js';

/**
 * Sessions as an operator works with them: lists with counts, the report of
 * one, its log, and the requests a person makes of a session (start, run now,
 * postpone, cancel, rerun it or one of its actions). Who asked is always the
 * token's person.
 */

const statusSchema = z.enum(SESSION_STATUSES as [SessionStatus, ...SessionStatus[]]);

const postponeBody = z
  .strictObject({
    until: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 instant such as 2026-12-01T22:00:00Z' }).optional().meta({ description: "The new maintenance time; default: the session's postpone delay from its current time" }),
  })
  .meta({ id: 'PostponeRequest' });

const listQuery = z
  .object({
    tenantId: entityIdSchema.optional(),
    computerId: entityIdSchema.optional(),
    status: statusSchema.optional(),
    runId: entityIdSchema.optional(),
    from: z.string().max(64).optional().meta({ description: 'ISO 8601 instant; default: 7 days before `to`' }),
    to: z.string().max(64).optional().meta({ description: 'ISO 8601 instant; default: a minute from now' }),
    limit: limitSchema,
    cursor: cursorSchema,
  })
  .strict();

const listSchema = z.object({ items: z.array(summarySchema), counts: countsSchema, nextCursor: z.string().optional() }).meta({ id: 'SessionList' });

const startBody = z
  .object({
    computerId: entityIdSchema,
    options: sessionOptionsSchema.optional(),
    /** Cancel the computer's unfinished session and start this one; otherwise the unfinished one is answered. */
    supersede: z.boolean().default(false),
  })
  .strict();

const logQuery = z
  .object({
    cursor: z.string().max(MAX_LOG_CURSOR_LENGTH, 'is not a cursor this log handed out').optional(),
    limit: z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').max(500, 'must be at most 500').default(100),
  })
  .strict();

const startResponses = {
  201: json('A new session', startResultSchema),
  200: json('No new session: the same request was made before, or the computer is busy with the session answered', startResultSchema),
  ...ERROR_RESPONSES,
};

async function visibleSession(deps: Dependencies, access: RequestAccess, sessionId: string): Promise<Session> {
  return access.reveal('session', sessionId, await deps.sessions.getSession(sessionId));
}

/**
 * The session id an `Idempotency-Key` stands for: the same key from the same
 * person on the same route is the same session, so a retried request starts
 * it once; start-session answers a reused key with other options as a conflict.
 */
function sessionIdFor(deps: Dependencies, access: RequestAccess, route: string, key: string | undefined): string | undefined {
  return key === undefined ? undefined : deps.ids.derive('ses', ['api', access.principal.subject, route, key]);
}

/** A rerun starts over with the original's choices; its instants belonged to the original and have passed or will mislead. */
function rerunOptions(options: SessionOptions): SessionOptions {
  const { executeAt: _executeAt, postpone, ...rest } = options;
  const { deadline: _deadline, ...postponeRest } = postpone;
  return { ...rest, postpone: postponeRest };
}

/** A run's sessions, by computer: the run's targets are the index, each target's session its summary. */
async function listRunSessions(
  deps: Dependencies,
  access: RequestAccess,
  query: { runId: string; computerId?: string | undefined; status?: SessionStatus | undefined; tenantId?: string | undefined; limit: number; cursor?: string | undefined },
): Promise<{ items: SessionSummary[]; counts: SessionStatusCounts; nextCursor?: string }> {
  await access.requireVisible('run', query.runId, () => runOwner(deps, query.runId));
  if (!(await deps.schedules.getRun(query.runId))) throw new NotFoundError('run', query.runId);
  const scope = await access.scope();
  const targets = (await deps.schedules.listRunTargets(query.runId)).filter(
    (target): target is RunTarget & { sessionId: string } =>
      target.sessionId !== undefined &&
      (scope.all || scope.tenantIds.has(target.tenantId)) &&
      (query.computerId === undefined || target.computerId === query.computerId) &&
      (query.tenantId === undefined || target.tenantId === query.tenantId),
  );
  const statuses = await deps.sessions.getSessionStatuses(targets.map((target) => target.sessionId));
  const counts = noSessionCounts();
  for (const { status } of statuses.values()) counts[status] += 1;
  const wanted = targets.filter((target) => statuses.has(target.sessionId) && (query.status === undefined || statuses.get(target.sessionId)?.status === query.status));
  const page = await fieldsUnder('query', () => pageOf(wanted, (target) => target.computerId, query.limit, query.cursor));
  const sessions = await Promise.all(page.items.map((target) => deps.sessions.getSession(target.sessionId)));
  const items = sessions.filter((session): session is Session => session !== undefined).map((session) => toSessionSummary(session));
  return { items, counts, ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }) };
}

export function sessionRoutes() {
  return newRouter()
    .openapi(
      createRoute({
        method: 'get',
        path: '/sessions',
        tags: ['Sessions'],
        summary: 'Sessions newest first, by tenant, computer, status or schedule run, with counts per status (default: the last 7 days)',
        request: { query: listQuery },
        responses: { 200: json('A page of session summaries and the counts beside it', listSchema), ...READ_ERROR_RESPONSES },
      }),
      async (c) => {
        const { tenantId, computerId, status, runId, from, to, limit, cursor } = c.req.valid('query');
        const { deps, access } = c.var;
        if (tenantId !== undefined) await access.requireTenant(tenantId);
        if (computerId !== undefined) await access.requireVisible('computer', computerId, () => deps.catalog.getComputer(computerId));
        if (runId !== undefined) return c.json(await listRunSessions(deps, access, { runId, computerId, status, tenantId, limit, cursor }), 200);
        const tenantIds = tenantId === undefined ? await access.tenantIds() : [tenantId];
        const request = {
          ...(tenantIds === undefined ? {} : { tenantIds }),
          ...(computerId === undefined ? {} : { computerId }),
          ...(from === undefined ? {} : { from }),
          ...(to === undefined ? {} : { to }),
          ...(cursor === undefined ? {} : { cursor }),
        };
        const [page, counts] = await fieldsUnder('query', () =>
          Promise.all([listSessions(deps, { ...request, ...(status === undefined ? {} : { status }), limit }), countSessions(deps, request)]),
        );
        return c.json({ items: [...page.items], counts, ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }) }, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/sessions',
        tags: ['Sessions'],
        summary: 'Start a session for a computer now (detection, then execution as its options say)',
        middleware: [requires('operate')],
        request: { headers: idempotencyHeaders, body: jsonBody(startBody) },
        responses: startResponses,
      }),
      async (c) => {
        const { computerId, options, supersede } = c.req.valid('json');
        const key = c.req.valid('header')['idempotency-key'];
        const { deps, access } = c.var;
        await access.requireVisible('computer', computerId, () => deps.catalog.getComputer(computerId));
        const sessionId = sessionIdFor(deps, access, 'start', key);
        const result = await fieldsUnder('body', () =>
          startSession(deps, { computerId, options: options ?? sessionOptionsSchema.parse({}), supersede, by: access.by, ...(sessionId === undefined ? {} : { sessionId }) }),
        );
        return result.created ? c.json(result, 201) : c.json(result, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/sessions/{sessionId}',
        tags: ['Sessions'],
        summary: 'What the session did: status, per-action results and why, in words',
        request: { params: sessionIdParams },
        responses: { 200: json('The session report', reportSchema), ...READ_ERROR_RESPONSES },
      }),
      async (c) => {
        const { sessionId } = c.req.valid('param');
        const { deps, access } = c.var;
        await access.requireVisible('session', sessionId, () => deps.sessions.getSession(sessionId));
        return c.json(await getSessionReport(deps, sessionId, c.var.pricing), 200);
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/sessions/{sessionId}/log',
        tags: ['Sessions'],
        summary: "A page of the session's log, oldest first; readable while it runs (pass the cursor back for what came after)",
        request: { params: sessionIdParams, query: logQuery },
        responses: { 200: json('Log entries and the cursor to read on from', logPageSchema), ...READ_ERROR_RESPONSES },
      }),
      async (c) => {
        const { sessionId } = c.req.valid('param');
        const { cursor, limit } = c.req.valid('query');
        const { deps, access } = c.var;
        // a cursor is bound to its session: a made-up or borrowed one is refused by name, not by the table
        const problem = cursor === undefined ? undefined : logCursorProblem(sessionId, cursor);
        if (problem !== undefined) throw new ValidationError('request', [{ field: 'query.cursor', problem }]);
        await access.requireVisible('session', sessionId, () => deps.sessions.getSession(sessionId));
        return c.json(await deps.sessionLog.read(sessionId, { limit, ...(cursor === undefined ? {} : { cursor }) }), 200);
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/sessions/{sessionId}/run-now',
        tags: ['Sessions'],
        summary: 'Move the maintenance to now (a waiting or postponed session executes at once)',
        middleware: [requires('operate')],
        request: { params: sessionIdParams },
        responses: { 200: json('When execution starts', z.object({ executeAt: z.string() })), ...ERROR_RESPONSES },
      }),
      async (c) => {
        const { sessionId } = c.req.valid('param');
        const { deps, access } = c.var;
        await access.requireVisible('session', sessionId, () => deps.sessions.getSession(sessionId));
        return c.json(await runSessionNow(deps, { sessionId, by: access.by }), 200);
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/sessions/{sessionId}/postpone',
        tags: ['Sessions'],
        summary: "Postpone the maintenance by the session's delay, or to the time given, within its count and deadline",
        middleware: [requires('operate')],
        request: { params: sessionIdParams, body: { content: { 'application/json': { schema: postponeBody } }, required: false } },
        responses: { 200: json('When execution now starts, and how many postpones are left', z.object({ executeAt: z.string(), postponesLeft: z.number() })), ...ERROR_RESPONSES },
      }),
      async (c) => {
        const { sessionId } = c.req.valid('param');
        const { deps, access } = c.var;
        const { until } = c.req.valid('json');
        await access.requireVisible('session', sessionId, () => deps.sessions.getSession(sessionId));
        return c.json(await fieldsUnder('body', () => postponeSession(deps, { sessionId, by: access.by, ...(until === undefined ? {} : { until }) })), 200);
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/sessions/{sessionId}/cancel',
        tags: ['Sessions'],
        summary: 'Cancel the session: before execution nothing is touched; during it the running command is cancelled and nothing else starts',
        middleware: [requires('operate')],
        request: { params: sessionIdParams },
        responses: { 200: json('Cancelled', z.object({ status: z.literal('Cancelled') })), ...ERROR_RESPONSES },
      }),
      async (c) => {
        const { sessionId } = c.req.valid('param');
        const { deps, access } = c.var;
        await access.requireVisible('session', sessionId, () => deps.sessions.getSession(sessionId));
        return c.json(await cancelSession(deps, { sessionId, by: access.by }), 200);
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/sessions/{sessionId}/rerun',
        tags: ['Sessions'],
        summary: "A new session for the same computer with the same options (the original's instants left out)",
        middleware: [requires('operate')],
        request: { params: sessionIdParams, headers: idempotencyHeaders },
        responses: startResponses,
      }),
      async (c) => {
        const { sessionId } = c.req.valid('param');
        const key = c.req.valid('header')['idempotency-key'];
        const { deps, access } = c.var;
        const original = await visibleSession(deps, access, sessionId);
        const newId = sessionIdFor(deps, access, `rerun/${sessionId}`, key);
        const result = await startSession(deps, { computerId: original.computerId, options: rerunOptions(original.options), by: access.by, ...(newId === undefined ? {} : { sessionId: newId }) });
        return result.created ? c.json(result, 201) : c.json(result, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/sessions/{sessionId}/actions/{actionId}/rerun',
        tags: ['Sessions'],
        summary: "A new session for the same computer limited to the action's item (and what it needs)",
        middleware: [requires('operate')],
        request: { params: actionParams, headers: idempotencyHeaders },
        responses: startResponses,
      }),
      async (c) => {
        const { sessionId, actionId } = c.req.valid('param');
        const key = c.req.valid('header')['idempotency-key'];
        const { deps, access } = c.var;
        const original = await visibleSession(deps, access, sessionId);
        const action = await deps.sessions.getAction(sessionId, actionId);
        if (!action) throw new NotFoundError('action', `${sessionId}/${actionId}`);
        if (action.itemKey === 'computer:restart') throw new RequestRefusedError('a restart is not an item of the catalog: rerun the whole session instead');
        const newId = sessionIdFor(deps, access, `rerun/${sessionId}/${actionId}`, key);
        const result = await startSession(deps, {
          computerId: original.computerId,
          options: { ...rerunOptions(original.options), limitTo: action.itemKey },
          by: access.by,
          ...(newId === undefined ? {} : { sessionId: newId }),
        });
        return result.created ? c.json(result, 201) : c.json(result, 200);
      },
    );
}
