import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComputerExplanation } from '../../functions/core/use-cases/explain-computer.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { deploySoftware, software } from '../support/domain.js';
import { runtimeWithFleet, testComputer } from '../support/fleet.js';

const by = { kind: 'Operator', name: 'ops@msp.example' } as const;

describe('the catalog handlers', () => {
  let runtime: LocalRuntime;
  beforeAll(async () => {
    runtime = await runtimeWithFleet({ software: [], deployments: [], machines: [{ computer: testComputer('pc-1', 'i-0000000000000e001', { deviceClass: 'Server' }) }] });
  });
  afterAll(() => runtime.close());

  it('save-catalog stores valid entities and refuses bad ones by field, storing nothing', async () => {
    expect(await runtime.invoke('save-catalog', { kind: 'Software', by, entity: software('chrome', { name: 'Chrome' }) })).toMatchObject({ kind: 'Software', entity: { id: 'chrome' } });
    expect(await runtime.invoke('save-catalog', { kind: 'Deployment', by, entity: deploySoftware('d1', 'nope') })).toEqual({
      error: { code: 'VALIDATION_FAILED', message: 'invalid deployment d1: softwareId: software nope does not exist', field: 'softwareId' },
    });
    expect(await runtime.invoke('save-catalog', { kind: 'Gadget', by, entity: {} })).toMatchObject({ error: { code: 'VALIDATION_FAILED', field: 'kind' } });
    expect(await runtime.deps.catalog.getDeployment('d1')).toBeUndefined();
  });

  it('save-catalog refuses an entity that is not an object, naming entity, and stores nothing (proves no unnamed error)', async () => {
    const before = await runtime.deps.catalog.listTenants();
    for (const entity of [null, 'acme', ['acme'], 7, undefined]) {
      expect(await runtime.invoke('save-catalog', { kind: 'Tenant', by, entity })).toEqual({
        error: { code: 'VALIDATION_FAILED', message: "invalid save-catalog input: entity: must be an object holding the entity's fields", field: 'entity' },
      });
    }
    expect(await runtime.deps.catalog.listTenants()).toEqual(before);
  });

  it('explain-computer answers "why is Chrome being uninstalled here?"', async () => {
    await runtime.invoke('save-catalog', { kind: 'Deployment', by, entity: deploySoftware('chrome-all', 'chrome') });
    await runtime.invoke('save-catalog', { kind: 'Deployment', by, entity: deploySoftware('no-chrome-servers', 'chrome', { desiredState: 'NotPresent', deviceClasses: ['Server'] }) });
    const answer = (await runtime.invoke('explain-computer', { computerId: 'pc-1' })) as ComputerExplanation;
    expect(answer.items).toHaveLength(1);
    expect(answer.items[0]).toMatchObject({
      key: 'software:chrome',
      wants: 'NotPresent',
      explanation: {
        winner: 'no-chrome-servers',
        rule: 'DeviceClassFilter',
        summary: 'Chrome: NotPresent from deployment no-chrome-servers (all tenants), over chrome-all, because its device-class filter is more specific',
      },
    });
  });
});
