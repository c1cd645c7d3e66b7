import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportReport } from '../../functions/core/model/inventory.js';
import { testComputer } from '../support/fleet.js';
import { API_FLEET, apiHarness, type ApiHarness } from './support.js';

/** Computers from the managed-node inventory, through the API: locally the sandbox machines, tagged as SSM nodes would be. */

let api: ApiHarness;
beforeAll(async () => {
  api = await apiHarness({
    fleet: {
      ...API_FLEET,
      machines: [
        ...API_FLEET.machines,
        // registered with the agent service and tagged, but not in the catalog yet
        { computer: testComputer('new-acme', 'i-0000000000000b001', { tenantId: 'acme' }), ssmTags: { Customer: 'acme' } },
        { computer: testComputer('new-globex', 'i-0000000000000b002', { tenantId: 'globex' }), ssmTags: { Customer: 'globex' } },
      ],
    },
  });
  // the fleet helper catalogs every machine it images; these two entries are pointed at another agent, so their nodes are unknown to the catalog
  for (const id of ['new-acme', 'new-globex']) await api.runtime.deps.catalog.putComputer({ ...testComputer(id, 'i-000000000000ffff0'), tenantId: 'acme' });
}, 60_000);
afterAll(async () => {
  await api.close();
});

const rules = [
  { tag: { key: 'Customer', value: 'acme' }, tenantId: 'acme', deviceClass: 'Server' },
  { tag: { key: 'Customer', value: 'globex' }, tenantId: 'globex' },
];

describe('importing computers from the managed-node inventory', () => {
  it('a dry run answers the report and changes nothing; the real import creates each node in its tagged tenant, as the token person (proves the route, the use case and the local inventory)', async () => {
    const dry = await api.call('Technician', 'POST', '/v1/computers/import', { rules, dryRun: true });
    expect(dry.status).toBe(200);
    expect((dry.body as ImportReport).counts).toMatchObject({ Created: 2 });
    expect((await api.call('Admin', 'GET', '/v1/computers/i-0000000000000b001')).status).toBe(404);

    const real = await api.call('Technician', 'POST', '/v1/computers/import', { rules });
    expect(real.status).toBe(200);
    expect((real.body as ImportReport).computers.map((c) => [c.computerId, c.tenantId, c.outcome])).toEqual([
      ['i-0000000000000b001', 'acme', 'Created'],
      ['i-0000000000000b002', 'globex', 'Created'],
    ]);
    expect((await api.call('ViewerGlobex', 'GET', '/v1/computers/i-0000000000000b002')).body).toMatchObject({ name: 'new-globex', tenantId: 'globex', deviceClass: 'Workstation' });
    expect((await api.call('Admin', 'GET', '/v1/computers/i-0000000000000b001')).body).toMatchObject({ tenantId: 'acme', deviceClass: 'Server' });
    const audit = await api.call('Admin', 'GET', '/v1/audit?resource=Computer&resourceId=i-0000000000000b001');
    expect((audit.body as { items: { by: { name: string } }[] }).items.map((entry) => entry.by.name)).toEqual(['technician@nightshift.local']);
    // once more: nothing to change
    expect(((await api.call('Admin', 'POST', '/v1/computers/import', { rules })).body as ImportReport).counts).toMatchObject({ Created: 0, Unchanged: 2 });
  });

  it('names the rule whose tenant does not exist, and a Viewer may not import (proves the refusals)', async () => {
    expect(await api.call('Admin', 'POST', '/v1/computers/import', { rules: [{ tag: { key: 'Customer', value: 'x' }, tenantId: 'nobody' }] })).toMatchObject({
      status: 400,
      body: { error: { code: 'VALIDATION_FAILED', field: 'body.rules.0.tenantId' } },
    });
    expect(await api.call('Admin', 'POST', '/v1/computers/import', { rules: [] })).toMatchObject({ status: 400, body: { error: { field: 'body.rules' } } });
    expect((await api.call('ViewerAcme', 'POST', '/v1/computers/import', { rules })).status).toBe(403);
  });
});
