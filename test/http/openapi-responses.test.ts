import { z } from '@hono/zod-openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testComputer } from '../support/fleet.js';
import { API_FLEET, apiHarness, type ApiHarness, type Caller } from './support.js';

/**
 * The answers the OpenAPI document describes are the answers the routes
 * give. Responses are not validated when they are sent, so nothing else
 * would notice a response schema that lies: here each route whose answer
 * used to be an opaque object is called once over a real runtime, and its
 * real JSON body is parsed with the zod schema the route itself declares
 * (taken from the app's OpenAPI registry, not imported beside it). Parsing
 * must succeed and must give back the body unchanged: a field the schema
 * does not know would be stripped, and one it invents would be added by a
 * default, so either shows as a difference.
 */

let api: ApiHarness;
beforeAll(async () => {
  api = await apiHarness({
    fleet: {
      ...API_FLEET,
      machines: [
        ...API_FLEET.machines,
        // tagged as SSM nodes are: one rule takes this one in, two rules that disagree skip the other
        { computer: testComputer('tagged', 'i-0000000000000b001', { tenantId: 'acme' }), ssmTags: { Customer: 'acme' } },
        { computer: testComputer('disputed', 'i-0000000000000b002', { tenantId: 'acme' }), ssmTags: { Customer: 'acme', Owner: 'globex' } },
      ],
    },
  });
}, 60_000);
afterAll(async () => {
  await api.close();
});

interface RouteDefinition {
  readonly type: string;
  readonly route?: { readonly method: string; readonly path: string; readonly responses: Record<string, { readonly content?: Record<string, { readonly schema?: unknown }> }> };
}

/** The schema `method path` declares for a `status` answer, as registered for the document. */
function declaredSchema(method: string, path: string, status: number): z.ZodType {
  const definitions = api.app.openAPIRegistry.definitions as readonly RouteDefinition[];
  const route = definitions.find((definition) => definition.type === 'route' && definition.route?.method === method && definition.route.path === path)?.route;
  const schema = route?.responses[String(status)]?.content?.['application/json']?.schema;
  if (!(schema instanceof z.ZodType)) throw new Error(`${method.toUpperCase()} ${path} declares no zod schema for ${status}`);
  return schema;
}

/**
 * Calls the route as `caller` and checks its answer against its declared
 * schema; answers the body for the next call. `template` is the documented
 * path (`/v1/runs/{runId}`), `params` fill it in.
 */
async function answer(caller: Caller, method: string, template: string, options: { params?: Record<string, string>; query?: string; body?: unknown; headers?: Record<string, string>; status: number }): Promise<unknown> {
  const path = template.replace(/\{(\w+)\}/g, (_whole, name: string) => encodeURIComponent(options.params?.[name] ?? `(no ${name})`)) + (options.query ?? '');
  const response = await api.call(caller, method.toUpperCase(), path, options.body, options.headers);
  expect(response.status, `${method.toUpperCase()} ${path}: ${JSON.stringify(response.body)}`).toBe(options.status);
  const parsed = declaredSchema(method, template, options.status).safeParse(response.body);
  expect(parsed.error?.issues, `${method.toUpperCase()} ${template}`).toBeUndefined();
  expect(parsed.data, `${method.toUpperCase()} ${template}: the schema would change the body`).toEqual(response.body);
  return response.body;
}

const SCHEDULE = {
  name: 'Nightly',
  tenantId: 'acme',
  includeChildTenants: true,
  target: { kind: 'AllComputers' },
  recurrence: { kind: 'Daily' },
  detectionTime: '14:00',
  maintenanceTime: '22:00',
  offline: {},
  reboot: {},
  email: {},
  rollout: { rings: [{ name: 'canary', percent: 50 }, { name: 'rest', percent: 100 }] },
};

describe('the documented answers are the real ones', () => {
  it('sessions: start (new and repeated), list, list by run, report with cost, log (proves SessionSummary, SessionStatusCounts, StartSessionResult, SessionReport and SessionLogPage)', async () => {
    const key = { 'idempotency-key': 'openapi-responses' };
    const started = (await answer('Admin', 'post', '/v1/sessions', { body: { computerId: 'pc-globex' }, headers: key, status: 201 })) as { sessionId: string };
    await answer('Admin', 'post', '/v1/sessions', { body: { computerId: 'pc-globex' }, headers: key, status: 200 });
    await api.runtime.waitForSession(started.sessionId);

    const report = (await answer('Admin', 'get', '/v1/sessions/{sessionId}', { params: { sessionId: started.sessionId }, status: 200 })) as { rows: unknown[]; cost?: unknown };
    // a finished install: the rows and the cost are there to be checked, not just the envelope
    expect(report.rows).toHaveLength(1);
    expect(report.cost).toBeDefined();
    const log = (await answer('Admin', 'get', '/v1/sessions/{sessionId}/log', { params: { sessionId: started.sessionId }, status: 200 })) as { entries: { by?: unknown }[] };
    expect(log.entries.some((entry) => entry.by !== undefined)).toBe(true);
    const list = (await answer('Admin', 'get', '/v1/sessions', { status: 200 })) as { items: unknown[] };
    expect(list.items.length).toBeGreaterThan(0);
  });

  it('branding: the MSP\'s default and a tenant\'s seasonal override, saved and listed (proves Branding)', async () => {
    await answer('Admin', 'put', '/v1/branding/{brandingId}', { params: { brandingId: 'default' }, body: { branding: { companyName: 'Northwind IT', tableHeaderColour: '#1f3a5f' }, expectedVersion: 0 }, status: 200 });
    await answer('Admin', 'put', '/v1/tenants/{tenantId}/branding/{brandingId}', {
      params: { tenantId: 'acme', brandingId: 'winter' },
      body: { branding: { companyName: 'Acme IT', dateRange: { from: '2026-12-01', to: '2026-12-31' } }, expectedVersion: 0 },
      status: 200,
    });
    const msp = (await answer('Admin', 'get', '/v1/branding', { status: 200 })) as { items: unknown[] };
    expect(msp.items).toHaveLength(1);
    const tenant = (await answer('Admin', 'get', '/v1/tenants/{tenantId}/branding', { params: { tenantId: 'acme' }, status: 200 })) as { items: unknown[] };
    expect(tenant.items).toHaveLength(1);
  });

  it('catalog: an import dry run with an imported and a skipped node, and an explanation (proves ComputerImportReport and ComputerExplanation)', async () => {
    const rules = [
      { tag: { key: 'Customer', value: 'acme' }, tenantId: 'acme' },
      { tag: { key: 'Owner', value: 'globex' }, tenantId: 'globex' },
    ];
    const report = (await answer('Technician', 'post', '/v1/computers/import', { body: { rules, dryRun: true }, status: 200 })) as { computers: unknown[]; skipped: unknown[] };
    expect(report.computers).toHaveLength(1);
    expect(report.skipped).toHaveLength(1);
    const explanation = (await answer('Admin', 'get', '/v1/computers/{computerId}/explain', { params: { computerId: 'pc-acme' }, status: 200 })) as { items: unknown[] };
    expect(explanation.items).toHaveLength(1);
  });

  it('catalog revisions: software, a task with a secret and a deployment of it created, changed, read, listed and deleted (proves StoredSoftware, StoredMaintenanceTask and StoredDeployment)', async () => {
    const software = { id: 'doc-editor', name: 'Doc editor', platform: 'linux', detection: { method: 'PackageName', value: 'doc-editor' }, installScript: 'true', uninstallScript: 'true', latestVersion: '1.0' };
    expect(await answer('Admin', 'post', '/v1/software', { body: software, status: 201 })).toMatchObject({ revision: 1 });
    expect(await answer('Admin', 'put', '/v1/software/{softwareId}', { params: { softwareId: 'doc-editor' }, body: { ...software, latestVersion: '1.1', expectedRevision: 1 }, status: 200 })).toMatchObject({ revision: 2 });
    await answer('Technician', 'get', '/v1/software/{softwareId}', { params: { softwareId: 'doc-editor' }, status: 200 });
    await answer('Technician', 'get', '/v1/software', { status: 200 });

    const task = { id: 'doc-licence', name: 'Licence', platform: 'linux', scripts: { style: 'Separate', test: 'exit 0', set: 'exit 0' }, parameters: [{ name: 'key', type: 'secret' }] };
    await answer('Admin', 'post', '/v1/tasks', { body: task, status: 201 });
    await answer('Admin', 'put', '/v1/tasks/{taskId}', { params: { taskId: 'doc-licence' }, body: { ...task, name: 'Licence key', expectedRevision: 1 }, status: 200 });
    await answer('Technician', 'get', '/v1/tasks/{taskId}', { params: { taskId: 'doc-licence' }, status: 200 });
    await answer('Technician', 'get', '/v1/tasks', { status: 200 });

    const deployment = { id: 'doc-licence-acme', itemKind: 'Task', taskId: 'doc-licence', mode: 'Enforce', target: { kind: 'Tenant', tenantId: 'acme' }, parameters: { key: 'S3cr3t' } };
    expect(await answer('Technician', 'post', '/v1/deployments', { body: deployment, status: 201 })).toMatchObject({ revision: 1, parameters: { key: '(secret)' } });
    await answer('Technician', 'put', '/v1/deployments/{deploymentId}', { params: { deploymentId: 'doc-licence-acme' }, body: { ...deployment, mode: 'Audit', parameters: { key: '(secret)' }, expectedRevision: 1 }, status: 200 });
    await answer('ViewerAcme', 'get', '/v1/deployments/{deploymentId}', { params: { deploymentId: 'doc-licence-acme' }, status: 200 });
    await answer('ViewerAcme', 'get', '/v1/deployments', { status: 200 });
    await answer('Technician', 'delete', '/v1/deployments/{deploymentId}', { params: { deploymentId: 'doc-licence-acme' }, query: '?expectedRevision=2', status: 200 });
  });

  it('schedules and runs: previews, run-now, runs, run with cost, targets, halt, history, audit, sessions of a run (proves SchedulePreview, ScheduleRun, ScheduleRunWithCost, RunTarget and AuditEntry)', async () => {
    expect((await api.call('Admin', 'POST', '/v1/schedules', { scheduleId: 'nightly', schedule: SCHEDULE })).status).toBe(201);
    const preview = (await answer('Admin', 'post', '/v1/schedules/preview', { body: { schedule: SCHEDULE, fires: 2 }, status: 200 })) as { targets: unknown[] };
    expect(preview.targets.length).toBeGreaterThan(0);
    await answer('ViewerAcme', 'get', '/v1/schedules/{scheduleId}/preview', { params: { scheduleId: 'nightly' }, status: 200 });

    const fired = (await answer('Technician', 'post', '/v1/schedules/{scheduleId}/run-now', { params: { scheduleId: 'nightly' }, status: 202 })) as { run: { id: string } };
    const runId = fired.run.id;
    await api.runtime.runWork.idle();
    const run = (await answer('Admin', 'get', '/v1/runs/{runId}', { params: { runId }, status: 200 })) as { targeted: number };
    expect(run.targeted).toBeGreaterThan(1);
    await answer('ViewerAcme', 'get', '/v1/schedules/{scheduleId}/runs', { params: { scheduleId: 'nightly' }, status: 200 });
    const targets = (await answer('Admin', 'get', '/v1/runs/{runId}/targets', { params: { runId }, status: 200 })) as { items: { sessionId?: string }[] };
    // the canary ring has started: a target with its session and window, and one still waiting for its ring
    expect(targets.items.some((target) => target.sessionId !== undefined)).toBe(true);
    const ofRun = (await answer('Admin', 'get', '/v1/sessions', { query: `?runId=${encodeURIComponent(runId)}`, status: 200 })) as { items: unknown[] };
    expect(ofRun.items.length).toBeGreaterThan(0);
    await answer('Technician', 'post', '/v1/runs/{runId}/halt', { params: { runId }, body: { reason: 'checking the document' }, status: 200 });

    const history = (await answer('Admin', 'get', '/v1/schedules/{scheduleId}/history', { params: { scheduleId: 'nightly' }, status: 200 })) as { items: unknown[] };
    expect(history.items).toHaveLength(1);
    const audit = (await answer('Admin', 'get', '/v1/audit', { status: 200 })) as { items: unknown[] };
    expect(audit.items.length).toBeGreaterThan(1);
    // its sessions wait for a window hours away: the run ends here
    expect((await api.call('Admin', 'POST', `/v1/runs/${runId}/cancel`, {})).status).toBe(200);
  });
});
