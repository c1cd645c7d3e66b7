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
    expect((await api.call('Admin', 'PUT', '/v1/software/editor', software)).status).toBe(200);
    expect(await api.call('Technician', 'PUT', '/v1/software/editor', software)).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    expect(await api.call('Technician', 'PUT', '/v1/software/editor', { nonsense: true })).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    expect((await api.call('Technician', 'GET', '/v1/software/editor')).body).toMatchObject({ id: 'editor', latestVersion: '1.0.0' });
    expect((await api.call('ViewerAcme', 'GET', '/v1/software/editor')).status).toBe(403);
    expect((await api.call('Admin', 'GET', '/v1/software/missing')).status).toBe(404);
  });

  it('lists software and tasks by id, paged, to those who may read the catalog (proves the list routes)', async () => {
    await api.call('Admin', 'PUT', '/v1/software/zip', testSoftware('zip', '3.0.0'));
    const first = await api.call('Technician', 'GET', '/v1/software?limit=1');
    expect(first.status).toBe(200);
    const page = first.body as { items: { id: string }[]; nextCursor?: string };
    expect(page.items).toHaveLength(1);
    const rest = await api.call('Technician', 'GET', `/v1/software?limit=200&cursor=${encodeURIComponent(page.nextCursor ?? '')}`);
    const ids = [...page.items, ...(rest.body as { items: { id: string }[] }).items].map((item) => item.id);
    expect(ids).toEqual([...ids].sort());
    expect(ids).toEqual(expect.arrayContaining(['app', 'zip']));
    expect((await api.call('Admin', 'GET', '/v1/tasks')).status).toBe(200);
    expect((await api.call('ViewerAcme', 'GET', '/v1/software')).status).toBe(403);
  });

  it('refuses a deployment of software that does not exist, naming the field (proves deployments go through save-catalog)', async () => {
    const deployment = { id: 'deploy-ghost', itemKind: 'Software', softwareId: 'ghost', desiredState: 'LatestVersion', target: { kind: 'Tenant', tenantId: 'acme' } };
    expect(await api.call('Technician', 'PUT', '/v1/deployments/deploy-ghost', deployment)).toMatchObject({ status: 400, body: { error: { field: 'body.softwareId' } } });
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
