import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../functions/core/model/audit.js';
import type { Computer, Tenant } from '../../functions/core/model/catalog.js';
import type { ComputerExplanation } from '../../functions/core/use-cases/explain-computer.js';
import { testComputer, testSoftware } from '../support/fleet.js';
import { apiHarness, type ApiHarness } from './support.js';

/** Tenants, computers, the catalog and deployments through the API, and the request-level refusals every route shares. */

let api: ApiHarness;
beforeAll(async () => {
  api = await apiHarness();
});
afterAll(async () => {
  await api.close();
});

describe('tenants and computers', () => {
  it('creates a child tenant and a computer in it, which the parent tenant viewer then sees, and records both changes with who made them (proves save-catalog behind PUT)', async () => {
    const tenant = { id: 'acme-west', name: 'Acme West', parentTenantId: 'acme' };
    expect(await api.call('Admin', 'PUT', '/v1/tenants/acme-west', tenant)).toEqual({ status: 200, body: { ...tenant, excludeFromCrossTenant: false } });
    const computer = testComputer('pc-west', 'i-0000000000000b001', { tenantId: 'acme-west' });
    expect((await api.call('Technician', 'PUT', '/v1/computers/pc-west', computer)).status).toBe(200);
    expect((await api.call('ViewerAcme', 'GET', '/v1/computers/pc-west')).body).toMatchObject({ id: 'pc-west', tenantId: 'acme-west' });
    expect((await api.call('ViewerGlobex', 'GET', '/v1/computers/pc-west')).status).toBe(404);
    const history = await api.call('ViewerAcme', 'GET', '/v1/audit?resource=Computer&resourceId=pc-west');
    expect((history.body as { items: AuditEntry[] }).items.map((entry) => [entry.action, entry.by.name])).toEqual([['Created', 'technician@nightshift.local']]);
  });

  it('refuses a body whose id is not the path’s, a missing parent, a loop of parents and a computer of no tenant, by field (proves references are checked before anything is stored)', async () => {
    expect(await api.call('Admin', 'PUT', '/v1/tenants/acme', { id: 'globex', name: 'Swap' })).toMatchObject({ status: 400, body: { error: { field: 'body.id' } } });
    expect(await api.call('Admin', 'PUT', '/v1/tenants/orphan', { id: 'orphan', name: 'Orphan', parentTenantId: 'nowhere' })).toMatchObject({ status: 400, body: { error: { field: 'body.parentTenantId' } } });
    expect(await api.call('Admin', 'PUT', '/v1/tenants/acme', { id: 'acme', name: 'Acme', parentTenantId: 'acme-east' })).toMatchObject({ status: 400, body: { error: { field: 'body.parentTenantId' } } });
    expect(await api.call('Admin', 'PUT', '/v1/computers/pc-x', testComputer('pc-x', 'i-0000000000000b002', { tenantId: 'nowhere' }))).toMatchObject({ status: 400, body: { error: { field: 'body.tenantId' } } });
    expect((await api.call('Admin', 'GET', '/v1/tenants/orphan')).status).toBe(404);
  });

  it('pages computers with opaque cursors, filters by tenant, and refuses a bad cursor, limit or unknown parameter by field (proves list paging)', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await api.call('Admin', 'GET', `/v1/computers?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      const body = page.body as { items: Computer[]; nextCursor?: string };
      seen.push(...body.items.map((computer) => computer.id));
      cursor = body.nextCursor;
    } while (cursor !== undefined);
    expect(seen).toEqual([...seen].sort());
    expect(seen).toEqual(expect.arrayContaining(['pc-acme', 'pc-east', 'pc-globex']));
    const acme = await api.call('Admin', 'GET', '/v1/computers?tenantId=acme');
    expect((acme.body as { items: Computer[] }).items.map((computer) => computer.id)).toEqual(['pc-acme']);
    expect(await api.call('Admin', 'GET', '/v1/computers?cursor=bm9wZQ')).toMatchObject({ status: 400, body: { error: { field: 'query.cursor' } } });
    expect(await api.call('Admin', 'GET', '/v1/computers?limit=201')).toMatchObject({ status: 400, body: { error: { field: 'query.limit' } } });
    expect(await api.call('Admin', 'GET', '/v1/computers?tenant=acme')).toMatchObject({ status: 400, body: { error: { field: 'query.tenant' } } });
    const tenants = await api.call('ViewerEast', 'GET', '/v1/tenants');
    expect((tenants.body as { items: Tenant[] }).items.map((tenant) => tenant.id)).toEqual(['acme-east']);
  });

  it('explains what a computer gets and why (proves the explain route)', async () => {
    const explained = await api.call('ViewerAcme', 'GET', '/v1/computers/pc-acme/explain');
    expect(explained.status).toBe(200);
    expect((explained.body as ComputerExplanation).items).toEqual([expect.objectContaining({ key: 'software:app', origin: 'Deployed', wants: 'LatestVersion' })]);
  });
});

describe('the software and task catalog', () => {
  it('lets an Admin change software, refuses a Technician with 403 whatever the body, and keeps it from Viewers (proves the catalog is the MSP’s)', async () => {
    const software = testSoftware('editor', '1.0.0');
    expect(await api.call('Admin', 'POST', '/v1/software', software)).toMatchObject({ status: 201, body: { id: 'editor', revision: 1 } });
    expect(await api.call('Technician', 'POST', '/v1/software', testSoftware('sneaky', '1.0.0'))).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    expect(await api.call('Technician', 'PUT', '/v1/software/editor', { ...software, expectedRevision: 1 })).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    expect(await api.call('Technician', 'PUT', '/v1/software/editor', { nonsense: true })).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    expect(await api.call('Technician', 'DELETE', '/v1/software/editor?expectedRevision=1')).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    expect((await api.call('Technician', 'GET', '/v1/software/editor')).body).toMatchObject({ id: 'editor', latestVersion: '1.0.0', revision: 1 });
    expect((await api.call('ViewerAcme', 'GET', '/v1/software/editor')).status).toBe(403);
    expect((await api.call('Admin', 'GET', '/v1/software/missing')).status).toBe(404);
  });

  it('changes software only at the revision read: a stale one is a 409 saying the stored one, one left out is refused by field, a create of a taken id is a 409 (proves no change is overwritten unseen)', async () => {
    const software = testSoftware('player', '1.0.0');
    expect((await api.call('Admin', 'POST', '/v1/software', software)).status).toBe(201);
    const changed = await api.call('Admin', 'PUT', '/v1/software/player', { ...software, latestVersion: '1.1.0', expectedRevision: 1 });
    expect(changed).toMatchObject({ status: 200, body: { latestVersion: '1.1.0', revision: 2 } });
    // the answer of a read, sent back with its revision as the expected one, is a change too
    const read = (await api.call('Admin', 'GET', '/v1/software/player')).body as { revision: number };
    expect((await api.call('Admin', 'PUT', '/v1/software/player', { ...read, latestVersion: '1.2.0', expectedRevision: read.revision })).body).toMatchObject({ revision: 3 });

    const stale = await api.call('Admin', 'PUT', '/v1/software/player', { ...software, latestVersion: '9.9.9', expectedRevision: 2 });
    expect(stale).toEqual({ status: 409, body: { error: { code: 'CONFLICT', message: 'software player is at revision 3, not 2: someone else changed it since it was read; read it again' } } });
    for (const id of ['player', 'brand-new']) {
      const missing = await api.call('Admin', 'PUT', `/v1/software/${id}`, testSoftware(id, '9.9.9'));
      expect(missing).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED', field: 'body.expectedRevision' } } });
      expect((missing.body as { error: { message: string } }).error.message).toContain('is required: the revision the change was decided on');
    }
    expect(await api.call('Admin', 'PUT', '/v1/software/brand-new', { ...testSoftware('brand-new', '1.0.0'), expectedRevision: 1 })).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    expect(await api.call('Admin', 'POST', '/v1/software', { ...software, name: 'Another player' })).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT', message: expect.stringContaining('software player exists already') as string } } });
    expect((await api.call('Admin', 'GET', '/v1/software/player')).body).toMatchObject({ latestVersion: '1.2.0', revision: 3, name: software.name });
    const history = await api.call('Admin', 'GET', '/v1/audit?resource=Software&resourceId=player');
    expect((history.body as { items: AuditEntry[] }).items.map((entry) => [entry.version, entry.action])).toEqual([
      [1, 'Created'],
      [2, 'Updated'],
      [3, 'Updated'],
    ]);
  });

  it('deletes software and tasks at the revision read, refused while deployments or other software use them, naming those (proves no deployment of nothing)', async () => {
    expect((await api.call('Admin', 'POST', '/v1/tasks', { id: 'tidy', name: 'Tidy', platform: 'linux', scripts: { style: 'Combined', script: 'exit 0' } })).status).toBe(201);
    expect((await api.call('Technician', 'POST', '/v1/deployments', { id: 'deploy-tidy', itemKind: 'Task', taskId: 'tidy', mode: 'Audit', target: { kind: 'Tenant', tenantId: 'acme' } })).status).toBe(201);
    expect(await api.call('Admin', 'DELETE', '/v1/tasks/tidy?expectedRevision=1')).toEqual({
      status: 409,
      body: { error: { code: 'CONFLICT', message: 'maintenance task tidy is still used by deployment deploy-tidy; change or delete those first' } },
    });
    expect((await api.call('Admin', 'DELETE', '/v1/software/app?expectedRevision=1')).body).toMatchObject({ error: { code: 'CONFLICT', message: expect.stringContaining('still used by deployment deploy-app') as string } });
    expect(await api.call('Technician', 'DELETE', '/v1/deployments/deploy-tidy?expectedRevision=2')).toMatchObject({ status: 409, body: { error: { message: expect.stringContaining('at revision 1, not 2') as string } } });
    expect(await api.call('ViewerAcme', 'DELETE', '/v1/deployments/deploy-tidy?expectedRevision=1')).toMatchObject({ status: 403 });
    expect(await api.call('Technician', 'DELETE', '/v1/deployments/deploy-tidy?expectedRevision=1')).toEqual({ status: 200, body: { deleted: 'deploy-tidy' } });
    expect(await api.call('Admin', 'DELETE', '/v1/tasks/tidy?expectedRevision=1')).toEqual({ status: 200, body: { deleted: 'tidy' } });
    expect((await api.call('Admin', 'GET', '/v1/tasks/tidy')).status).toBe(404);
    // the same deletion again (its answer lost) is answered as done; any other finds nothing
    expect(await api.call('Admin', 'DELETE', '/v1/tasks/tidy?expectedRevision=1')).toEqual({ status: 200, body: { deleted: 'tidy' } });
    expect(await api.call('Admin', 'DELETE', '/v1/tasks/tidy?expectedRevision=2')).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    expect(await api.call('Admin', 'DELETE', '/v1/tasks/tidy')).toMatchObject({ status: 400, body: { error: { field: 'query.expectedRevision' } } });
    const history = await api.call('Admin', 'GET', '/v1/audit?resource=Deployment&resourceId=deploy-tidy');
    expect((history.body as { items: AuditEntry[] }).items.map((entry) => [entry.version, entry.action, entry.tenantId, entry.by.name])).toEqual([
      [1, 'Created', 'acme', 'technician@nightshift.local'],
      [2, 'Deleted', 'acme', 'technician@nightshift.local'],
    ]);
  });

  it('answers 404 for deleted software and tasks and leaves them out of the lists, refuses a deployment naming one, and lets a POST create the id again after its history (proves deletion hides the tombstone from the API)', async () => {
    const listed = async (path: string) => ((await api.call('Admin', 'GET', `${path}?limit=200`)).body as { items: { id: string }[] }).items.map((item) => item.id);
    expect((await api.call('Admin', 'POST', '/v1/software', testSoftware('scratch', '1.0'))).status).toBe(201);
    expect(await listed('/v1/software')).toContain('scratch');
    expect(await api.call('Admin', 'DELETE', '/v1/software/scratch?expectedRevision=1')).toEqual({ status: 200, body: { deleted: 'scratch' } });
    expect(await api.call('Admin', 'GET', '/v1/software/scratch')).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    expect(await listed('/v1/software')).not.toContain('scratch');
    // the task deleted above is gone from its list too
    expect(await listed('/v1/tasks')).not.toContain('tidy');
    expect(await api.call('Technician', 'POST', '/v1/deployments', { id: 'deploy-scratch', itemKind: 'Software', softwareId: 'scratch', desiredState: 'LatestVersion', target: { kind: 'Tenant', tenantId: 'acme' } })).toMatchObject({
      status: 400,
      body: { error: { field: 'body.softwareId', message: expect.stringContaining('software scratch does not exist') as string } },
    });
    expect(await api.call('Admin', 'PUT', '/v1/software/scratch', { ...testSoftware('scratch', '1.1'), expectedRevision: 2 })).toMatchObject({ status: 404 });
    // created again: revision 3, after its creation (1) and deletion (2)
    expect(await api.call('Admin', 'POST', '/v1/software', testSoftware('scratch', '2.0'))).toMatchObject({ status: 201, body: { id: 'scratch', revision: 3 } });
    expect(await api.call('Admin', 'GET', '/v1/software/scratch')).toMatchObject({ status: 200, body: { latestVersion: '2.0', revision: 3 } });
    expect(await listed('/v1/software')).toContain('scratch');
  });

  it('lists software and tasks by id, paged, to those who may read the catalog (proves the list routes)', async () => {
    await api.call('Admin', 'POST', '/v1/software', testSoftware('zip', '3.0.0'));
    const first = await api.call('Technician', 'GET', '/v1/software?limit=1');
    expect(first.status).toBe(200);
    const page = first.body as { items: { id: string; revision: number }[]; nextCursor?: string };
    expect(page.items).toHaveLength(1);
    const rest = await api.call('Technician', 'GET', `/v1/software?limit=200&cursor=${encodeURIComponent(page.nextCursor ?? '')}`);
    const items = [...page.items, ...(rest.body as { items: { id: string; revision: number }[] }).items];
    const ids = items.map((item) => item.id);
    expect(ids).toEqual([...ids].sort());
    expect(ids).toEqual(expect.arrayContaining(['app', 'zip']));
    expect(items.every((item) => item.revision >= 1)).toBe(true);
    expect((await api.call('Admin', 'GET', '/v1/tasks')).status).toBe(200);
    expect((await api.call('ViewerAcme', 'GET', '/v1/software')).status).toBe(403);
  });

  it('refuses a deployment of software that does not exist, naming the field (proves deployments go through save-catalog)', async () => {
    const deployment = { id: 'deploy-ghost', itemKind: 'Software', softwareId: 'ghost', desiredState: 'LatestVersion', target: { kind: 'Tenant', tenantId: 'acme' } };
    expect(await api.call('Technician', 'POST', '/v1/deployments', deployment)).toMatchObject({ status: 400, body: { error: { field: 'body.softwareId' } } });
    expect(await api.call('Technician', 'PUT', '/v1/deployments/deploy-app', { ...deployment, id: 'deploy-app', expectedRevision: 1 })).toMatchObject({ status: 400, body: { error: { field: 'body.softwareId' } } });
  });
});

describe('refusals every route shares', () => {
  it('answers bad JSON, a non-JSON body, a body over 256 KiB, NUL characters and __proto__ keys with the envelope naming where (proves the request checks come before any route)', async () => {
    expect(await api.call('Admin', 'PUT', '/v1/tenants/acme', '{"id":')).toEqual({ status: 400, body: { error: { code: 'VALIDATION_FAILED', message: 'invalid request: body: is not valid JSON', field: 'body' } } });
    expect(await api.call('Admin', 'PUT', '/v1/tenants/acme', 'id=acme', { 'content-type': 'text/plain' })).toMatchObject({ status: 415, body: { error: { code: 'UNSUPPORTED_MEDIA_TYPE' } } });
    expect(await api.call('Admin', 'PUT', '/v1/tenants/acme', { id: 'acme', name: 'x'.repeat(300 * 1024) })).toMatchObject({ status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE' } } });
    expect(await api.call('Admin', 'PUT', '/v1/tenants/acme', { id: 'acme', name: 'Ac\u0000me' })).toMatchObject({ status: 400, body: { error: { field: 'body.name' } } });
    expect(await api.call('Admin', 'PUT', '/v1/tenants/acme', '{"id":"acme","name":"Acme","__proto__":{"admin":true}}')).toMatchObject({ status: 400, body: { error: { field: 'body.__proto__' } } });
  });

  it('answers an unknown route or method with the 404 envelope (proves there is no bare framework answer)', async () => {
    expect(await api.call('Admin', 'GET', '/v1/nothing-here')).toEqual({ status: 404, body: { error: { code: 'NOT_FOUND', message: 'no route GET /v1/nothing-here' } } });
    expect(await api.call('Admin', 'PATCH', '/v1/tenants/acme', {})).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    expect(await api.call(undefined, 'GET', '/elsewhere')).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
  });
});
