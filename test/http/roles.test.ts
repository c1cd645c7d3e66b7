import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MaintenanceTask } from '../../functions/core/model/catalog.js';
import type { ScheduleRun } from '../../functions/core/model/schedule-run.js';
import { until } from '../support/wait.js';
import { apiHarness, API_FLEET, TENANTS, type ApiHarness, type Caller } from './support.js';
import { testComputer, testSoftware } from '../support/fleet.js';

/**
 * Role × route × expected status, over real HTTP to the local server: every
 * route, as an Admin, a Technician, a Viewer of the resource's tenant (acme)
 * and a Viewer of another tenant (globex). Writes use bodies that change
 * nothing (the same entity again, a stale version), so each row leaves the
 * fixture as it found it and a 409 proves the request got past the checks.
 */

const TASK: MaintenanceTask = { id: 'tidy', name: 'Tidy temp', platform: 'linux', scripts: { style: 'Combined', script: 'exit 0\n' }, parameters: [] };
const ACME_DEPLOYMENT = { id: 'deploy-acme', itemKind: 'Task' as const, taskId: 'tidy', target: { kind: 'Tenant' as const, tenantId: 'acme', includeChildTenants: false }, mode: 'Audit' as const, parameters: {}, enabled: true, critical: true, orderingHint: 'Unordered' as const };

const SCHEDULE = {
  name: 'Nightly',
  tenantId: 'acme',
  includeChildTenants: true,
  target: { kind: 'Computers', computerIds: ['pc-east'] },
  recurrence: { kind: 'Daily' },
  detectionTime: '03:00',
  executeImmediatelyAfterDetection: true,
  offline: {},
  reboot: {},
  email: {},
  rollout: {},
};

let api: ApiHarness;
let sessionId: string;
let globexSessionId: string;
let runId: string;

beforeAll(async () => {
  api = await apiHarness({
    http: true,
    fleet: {
      ...API_FLEET,
      tasks: [TASK],
      deployments: [...API_FLEET.deployments, ACME_DEPLOYMENT],
      software: [testSoftware('app', '2.0.0')],
      machines: [...API_FLEET.machines, { computer: testComputer('pc-spare', 'i-0000000000000a004', { tenantId: 'acme' }) }],
    },
  });
  const created = await api.call('Admin', 'POST', '/v1/schedules', { scheduleId: 'nightly', schedule: SCHEDULE });
  expect(created.status).toBe(201);
  expect((await api.call('Admin', 'POST', '/v1/schedules', { scheduleId: 'globex-weekly', schedule: { ...SCHEDULE, tenantId: 'globex', includeChildTenants: false, target: { kind: 'AllComputers' } } })).status).toBe(201);
  // a branding of each owner, so a stale delete reaches the version check (409) rather than a missing branding (404)
  expect((await api.call('Admin', 'PUT', '/v1/branding/default', { branding: { companyName: 'Contoso IT' }, expectedVersion: 0 })).status).toBe(200);
  expect((await api.call('Admin', 'PUT', '/v1/tenants/acme/branding/default', { branding: { companyName: 'Acme IT' }, expectedVersion: 0 })).status).toBe(200);
  const fired = await api.call('Admin', 'POST', '/v1/schedules/nightly/run-now');
  expect(fired.status).toBe(202);
  runId = (fired.body as { run: ScheduleRun }).run.id;
  const started = await api.runtime.startSession('pc-acme');
  const globex = await api.runtime.startSession('pc-globex', undefined, { mode: 'DetectionOnly' });
  sessionId = started.sessionId;
  globexSessionId = globex.sessionId;
  await api.runtime.waitForSession(sessionId);
  await api.runtime.waitForSession(globexSessionId);
  await until(async () => (await api.runtime.deps.schedules.listRunTargets(runId)).every((target) => target.sessionId !== undefined || target.skipped !== undefined));
  for (const target of await api.runtime.deps.schedules.listRunTargets(runId)) if (target.sessionId) await api.runtime.waitForSession(target.sessionId);
  // the run's controller (a minute's schedule in AWS) records that every session ended
  await until(async () => {
    await api.runtime.invoke('advance-runs', {});
    return (await api.runtime.deps.schedules.getRun(runId))?.status === 'Completed';
  });
}, 60_000);

afterAll(async () => {
  await api.close();
});

type Expected = number | 'ok' | readonly number[];
interface Row {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: () => string;
  readonly body?: (caller: Caller) => unknown;
  /** Admin, Technician, Viewer of acme, Viewer of globex. */
  readonly expect: readonly [Expected, Expected, Expected, Expected];
}

const CALLERS = ['Admin', 'Technician', 'ViewerAcme', 'ViewerGlobex'] as const satisfies readonly Caller[];
const OK = 'ok';
const ALL_OK = [OK, OK, OK, OK] as const;
const READ_OWN = [OK, OK, OK, 404] as const;
const OPERATE = [OK, OK, 403, 403] as const;
const STALE = [409, 409, 403, 403] as const;
/** Only an Admin changes the software and task catalog; a taken id or a stale revision proves the Admin got past the checks. */
const CATALOG_STALE = [409, 403, 403, 403] as const;
const CATALOG_READ = [OK, OK, 403, 403] as const;
/** Only an Admin changes branding; a stale version proves the Admin got past the checks. */
const BRANDING_STALE = [409, 403, 403, 403] as const;
/** The MSP's own branding spans every tenant: it does not exist for a Viewer. */
const MSP_ONLY = [OK, OK, 404, 404] as const;
const acme = TENANTS[0];
const pcAcme = API_FLEET.machines[0]?.computer;
const appSoftware = testSoftware('app', '2.0.0');
const stale = { expectedVersion: 999 };
const staleRevision = { expectedRevision: 999 };

const ROWS: readonly Row[] = [
  { method: 'GET', path: () => '/v1/me', expect: ALL_OK },
  { method: 'GET', path: () => '/v1/tenants', expect: ALL_OK },
  { method: 'GET', path: () => '/v1/tenants/acme', expect: READ_OWN },
  { method: 'PUT', path: () => '/v1/tenants/acme', body: () => acme, expect: OPERATE },
  { method: 'GET', path: () => '/v1/computers', expect: ALL_OK },
  { method: 'GET', path: () => '/v1/computers?tenantId=acme', expect: READ_OWN },
  { method: 'GET', path: () => '/v1/computers/pc-acme', expect: READ_OWN },
  { method: 'PUT', path: () => '/v1/computers/pc-acme', body: () => pcAcme, expect: OPERATE },
  { method: 'GET', path: () => '/v1/computers/pc-acme/explain', expect: READ_OWN },
  { method: 'GET', path: () => '/v1/computers/pc-acme/compliance', expect: READ_OWN },
  // a dry run: the role check is what this row is about, not the catalog
  { method: 'POST', path: () => '/v1/computers/import', body: () => ({ rules: [{ tag: { key: 'Customer', value: 'acme' }, tenantId: 'acme' }], dryRun: true }), expect: OPERATE },
  { method: 'GET', path: () => '/v1/software', expect: CATALOG_READ },
  { method: 'GET', path: () => '/v1/software/app', expect: CATALOG_READ },
  { method: 'GET', path: () => '/v1/tasks', expect: CATALOG_READ },
  // a create of a taken id, a stale revision: refused by the catalog once the role check lets the request through
  { method: 'POST', path: () => '/v1/software', body: () => ({ ...appSoftware, name: 'Another app' }), expect: CATALOG_STALE },
  { method: 'PUT', path: () => '/v1/software/app', body: () => ({ ...appSoftware, ...staleRevision }), expect: CATALOG_STALE },
  { method: 'DELETE', path: () => '/v1/software/app?expectedRevision=999', expect: CATALOG_STALE },
  { method: 'GET', path: () => '/v1/tasks/tidy', expect: CATALOG_READ },
  { method: 'POST', path: () => '/v1/tasks', body: () => ({ ...TASK, name: 'Another tidy' }), expect: CATALOG_STALE },
  { method: 'PUT', path: () => '/v1/tasks/tidy', body: () => ({ ...TASK, ...staleRevision }), expect: CATALOG_STALE },
  { method: 'DELETE', path: () => '/v1/tasks/tidy?expectedRevision=999', expect: CATALOG_STALE },
  { method: 'GET', path: () => '/v1/deployments', expect: ALL_OK },
  { method: 'GET', path: () => '/v1/deployments/deploy-acme', expect: READ_OWN },
  // a deployment to every tenant is the MSP's, not a tenant's
  { method: 'GET', path: () => '/v1/deployments/deploy-app', expect: [OK, OK, 404, 404] },
  { method: 'POST', path: () => '/v1/deployments', body: () => ({ ...ACME_DEPLOYMENT, mode: 'Monitor' }), expect: STALE },
  { method: 'PUT', path: () => '/v1/deployments/deploy-acme', body: () => ({ ...ACME_DEPLOYMENT, ...staleRevision }), expect: STALE },
  { method: 'DELETE', path: () => '/v1/deployments/deploy-acme?expectedRevision=999', expect: STALE },
  { method: 'GET', path: () => '/v1/sessions', expect: ALL_OK },
  { method: 'GET', path: () => '/v1/sessions?computerId=pc-acme', expect: READ_OWN },
  { method: 'GET', path: () => `/v1/sessions?runId=${runId}`, expect: READ_OWN },
  { method: 'POST', path: () => '/v1/sessions', body: () => ({ computerId: 'pc-spare', options: { mode: 'DetectionOnly' } }), expect: OPERATE },
  { method: 'GET', path: () => `/v1/sessions/${sessionId}`, expect: READ_OWN },
  { method: 'GET', path: () => `/v1/sessions/${sessionId}/log`, expect: READ_OWN },
  // the session has ended: its rules refuse, after the role and tenant checks let the request through
  { method: 'POST', path: () => `/v1/sessions/${sessionId}/run-now`, expect: STALE },
  { method: 'POST', path: () => `/v1/sessions/${sessionId}/postpone`, expect: STALE },
  { method: 'POST', path: () => `/v1/sessions/${sessionId}/cancel`, expect: STALE },
  { method: 'POST', path: () => `/v1/sessions/${sessionId}/rerun`, expect: OPERATE },
  { method: 'POST', path: () => `/v1/sessions/${sessionId}/actions/001/rerun`, expect: OPERATE },
  { method: 'GET', path: () => '/v1/schedules', expect: ALL_OK },
  { method: 'POST', path: () => '/v1/schedules', body: (caller) => ({ scheduleId: `made-by-${caller.toLowerCase()}`, schedule: { ...SCHEDULE, enabled: false } }), expect: [201, 201, 403, 403] },
  { method: 'POST', path: () => '/v1/schedules/preview', body: () => ({ schedule: SCHEDULE }), expect: OPERATE },
  { method: 'GET', path: () => '/v1/schedules/nightly', expect: READ_OWN },
  { method: 'PUT', path: () => '/v1/schedules/nightly', body: () => ({ ...stale, schedule: SCHEDULE }), expect: STALE },
  { method: 'DELETE', path: () => '/v1/schedules/nightly?expectedVersion=999', expect: STALE },
  { method: 'POST', path: () => '/v1/schedules/nightly/enable', body: () => stale, expect: STALE },
  { method: 'POST', path: () => '/v1/schedules/nightly/disable', body: () => stale, expect: STALE },
  { method: 'POST', path: () => '/v1/schedules/nightly/duplicate', body: (caller) => ({ newScheduleId: `copy-by-${caller.toLowerCase()}` }), expect: [201, 201, 403, 403] },
  { method: 'POST', path: () => '/v1/schedules/globex-weekly/run-now', expect: [202, 202, 403, 403] },
  { method: 'GET', path: () => '/v1/schedules/nightly/preview', expect: READ_OWN },
  { method: 'GET', path: () => '/v1/schedules/nightly/history', expect: READ_OWN },
  { method: 'GET', path: () => '/v1/schedules/nightly/runs', expect: READ_OWN },
  { method: 'GET', path: () => `/v1/runs/${runId}`, expect: READ_OWN },
  { method: 'GET', path: () => `/v1/runs/${runId}/targets`, expect: READ_OWN },
  // the run has completed: steering it is refused by its rules, once the checks let the request through
  { method: 'POST', path: () => `/v1/runs/${runId}/halt`, body: () => ({ reason: 'checking' }), expect: STALE },
  { method: 'POST', path: () => `/v1/runs/${runId}/resume`, body: () => ({}), expect: STALE },
  { method: 'POST', path: () => `/v1/runs/${runId}/promote`, body: () => ({}), expect: STALE },
  { method: 'POST', path: () => `/v1/runs/${runId}/cancel`, body: () => ({}), expect: STALE },
  { method: 'GET', path: () => '/v1/audit', expect: ALL_OK },
  { method: 'GET', path: () => '/v1/audit?tenantId=acme', expect: READ_OWN },
  { method: 'GET', path: () => '/v1/audit?resource=Schedule&resourceId=nightly', expect: READ_OWN },
  { method: 'GET', path: () => '/v1/branding', expect: MSP_ONLY },
  { method: 'GET', path: () => '/v1/tenants/acme/branding', expect: READ_OWN },
  { method: 'PUT', path: () => '/v1/branding/default', body: () => ({ branding: {}, ...stale }), expect: BRANDING_STALE },
  { method: 'PUT', path: () => '/v1/tenants/acme/branding/default', body: () => ({ branding: {}, ...stale }), expect: BRANDING_STALE },
  { method: 'DELETE', path: () => '/v1/branding/default?expectedVersion=999', expect: BRANDING_STALE },
  { method: 'DELETE', path: () => '/v1/tenants/acme/branding/default?expectedVersion=999', expect: BRANDING_STALE },
  { method: 'POST', path: () => '/v1/branding/preview', body: () => ({ kind: 'Detection', tenantId: 'acme' }), expect: READ_OWN },
  // a test email reaches a real inbox: not for a read-only role
  { method: 'POST', path: () => '/v1/branding/test-email', body: () => ({ kind: 'Detection', tenantId: 'acme', to: 'roles@nightshift.test' }), expect: OPERATE },
];

const matches = (expected: Expected, status: number): boolean =>
  expected === OK ? status >= 200 && status < 300 : typeof expected === 'number' ? status === expected : expected.includes(status);

describe('role × route × expected status, over real HTTP', () => {
  it('covers every route the app serves (proves the table cannot fall behind the routes)', () => {
    const covered = new Set(ROWS.map((row) => `${row.method} ${row.path().split('?')[0]?.replace(sessionId, '{sessionId}').replace(runId, '{runId}')}`));
    const served = api.app.routes
      .filter((route) => route.method !== 'ALL' && route.path.startsWith('/v1/'))
      .map((route) => `${route.method} ${route.path.replace(/:([A-Za-z]+)/g, '{$1}')}`)
      .map((route) =>
        route
          .replace('{tenantId}', 'acme')
          .replace('{computerId}', 'pc-acme')
          .replace('{softwareId}', 'app')
          .replace('{taskId}', 'tidy')
          .replace('{scheduleId}', route.includes('run-now') ? 'globex-weekly' : 'nightly')
          .replace('{actionId}', '001')
          .replace('{brandingId}', 'default'),
      );
    const missing = served.filter((route) => !covered.has(route) && !covered.has(route.replace('deploy-acme', '{deploymentId}')) && !(route.includes('{deploymentId}') && covered.has(route.replace('{deploymentId}', 'deploy-acme'))));
    expect(missing).toEqual([]);
  });

  it.each(ROWS.map((row) => [`${row.method} ${row.path.toString().replace(/^\(\) => /, '')}`, row] as const))('%s', async (_name, row) => {
    const seen: string[] = [];
    for (const [index, caller] of CALLERS.entries()) {
      const expected = row.expect[index] ?? OK;
      const answer = await api.call(caller, row.method, row.path(), row.body?.(caller));
      if (!matches(expected, answer.status)) seen.push(`${caller}: expected ${String(expected)}, got ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
      if (answer.status >= 400) {
        // every refusal is the one envelope
        expect(answer.body).toEqual({ error: expect.objectContaining({ code: expect.any(String) as string, message: expect.any(String) as string }) as unknown });
        expect(Object.keys((answer.body as { error: object }).error).every((key) => ['code', 'message', 'field'].includes(key))).toBe(true);
      }
    }
    expect(seen).toEqual([]);
  });
});

describe('tenant visibility: a viewer sees its tenant and the tenants below it, and nothing else exists for it', () => {
  it('lets a parent tenant viewer see a child tenant computer and session lists, and a child viewer not the parent (proves the tree, one way)', async () => {
    expect((await api.call('ViewerAcme', 'GET', '/v1/computers/pc-east')).status).toBe(200);
    expect((await api.call('ViewerEast', 'GET', '/v1/computers/pc-east')).status).toBe(200);
    expect((await api.call('ViewerEast', 'GET', '/v1/computers/pc-acme')).status).toBe(404);
    expect((await api.call('ViewerEast', 'GET', '/v1/tenants/acme')).status).toBe(404);
    const listed = await api.call('ViewerAcme', 'GET', '/v1/computers');
    expect((listed.body as { items: { id: string }[] }).items.map((computer) => computer.id).sort()).toEqual(['pc-acme', 'pc-east', 'pc-spare']);
  });

  it("answers another tenant's session, computer and schedule exactly as missing ones (proves ids cannot be probed)", async () => {
    const foreign = await api.call('ViewerGlobex', 'GET', `/v1/sessions/${sessionId}`);
    const missing = await api.call('ViewerGlobex', 'GET', '/v1/sessions/ses_missing');
    expect(foreign.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(foreign.body).toEqual({ error: { code: 'NOT_FOUND', message: `session ${sessionId} does not exist` } });
    expect((await api.call('ViewerGlobex', 'GET', `/v1/sessions/${globexSessionId}`)).status).toBe(200);
    expect((await api.call('ViewerAcme', 'GET', `/v1/sessions/${globexSessionId}`)).status).toBe(404);
    expect((await api.call('ViewerAcme', 'GET', '/v1/computers/pc-globex')).body).toEqual({ error: { code: 'NOT_FOUND', message: 'computer pc-globex does not exist' } });
    expect((await api.call('ViewerAcme', 'GET', '/v1/schedules/globex-weekly')).status).toBe(404);
  });

  it('lists only visible sessions and schedules for a viewer (proves lists are filtered, not just lookups)', async () => {
    const schedules = await api.call('ViewerGlobex', 'GET', '/v1/schedules');
    expect((schedules.body as { items: { id: string }[] }).items.map((schedule) => schedule.id)).toEqual(['globex-weekly']);
    const sessions = await api.call('ViewerGlobex', 'GET', '/v1/sessions');
    expect(sessions.status).toBe(200);
    const items = (sessions.body as { items: { tenantId: string }[] }).items;
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((item) => item.tenantId === 'globex')).toBe(true);
  });
});
