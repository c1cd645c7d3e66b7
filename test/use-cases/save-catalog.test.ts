import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoCatalogStore } from '../../functions/adapters/catalog-store.dynamodb.js';
import { ValidationError } from '../../functions/core/errors.js';
import { saveCatalogEntity, type CatalogEntityInput } from '../../functions/core/use-cases/save-catalog.js';
import { computer, deploySoftware, deployTask, software, task, tenant } from '../support/domain.js';
import { dynamoTable } from '../support/dynamo.js';

describe('saving catalog entities: bad configuration is rejected, named, and never stored', () => {
  let catalog: DynamoCatalogStore;
  let close: () => Promise<void>;
  const save = (input: CatalogEntityInput) => saveCatalogEntity({ catalog }, input);
  const rejection = async (input: CatalogEntityInput) => {
    const error: unknown = await save(input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  };

  beforeAll(async () => {
    const dynamo = await dynamoTable();
    catalog = new DynamoCatalogStore(dynamo.table);
    close = dynamo.close;
    await save({ kind: 'Tenant', entity: tenant('t1') });
    await save({ kind: 'Computer', entity: computer('pc1') });
    await save({ kind: 'Software', entity: software('runtime') });
    await save({ kind: 'Software', entity: software('app', { dependencies: [{ softwareId: 'runtime', requires: 'Installed' }] }) });
    await save({
      kind: 'Task',
      entity: task('fw', {
        parameters: [
          { name: 'level', type: 'enum', values: ['low', 'high'], required: true },
          { name: 'port', type: 'number', min: 1, max: 65_535, required: false },
          { name: 'on', type: 'boolean', required: false },
          { name: 'label', type: 'string', pattern: '^[a-z]+$', required: false },
        ],
      }),
    });
  });
  afterAll(() => close());

  it('accepts a consistent entity and stores it', async () => {
    await save({ kind: 'Deployment', entity: deployTask('fw-all', 'fw', { parameters: { level: 'high', port: 443, on: true, label: 'web' } }) });
    expect(await catalog.getDeployment('fw-all')).toMatchObject({ taskId: 'fw', parameters: { level: 'high', port: 443 } });
  });

  it('rejects a deployment of unknown software, naming the field', async () => {
    const error = await rejection({ kind: 'Deployment', entity: deploySoftware('d1', 'nope') });
    expect(error.message).toBe('invalid deployment d1: softwareId: software nope does not exist');
    expect(await catalog.getDeployment('d1')).toBeUndefined();
  });

  it('rejects a deployment of an unknown task, and targets that do not exist', async () => {
    expect((await rejection({ kind: 'Deployment', entity: deployTask('d2', 'ghost') })).problems).toEqual([
      { field: 'taskId', problem: 'maintenance task ghost does not exist' },
    ]);
    const targets = await rejection({ kind: 'Deployment', entity: deploySoftware('d3', 'app', { target: { kind: 'Computer', computerId: 'pc9' } }) });
    expect(targets.problems).toEqual([{ field: 'target.computerId', problem: 'computer pc9 does not exist' }]);
    const tenants = await rejection({ kind: 'Deployment', entity: deploySoftware('d4', 'app', { target: { kind: 'Tag', tag: 'x', tenantId: 'tz' } }) });
    expect(tenants.problems).toEqual([{ field: 'target.tenantId', problem: 'tenant tz does not exist' }]);
  });

  it('rejects ThisVersion without a version (and a version where it means nothing)', async () => {
    const missing = await rejection({ kind: 'Deployment', entity: { ...deploySoftware('d5', 'app'), desiredState: 'ThisVersion' } });
    expect(missing.problems).toEqual([{ field: 'version', problem: 'is required when desiredState is ThisVersion' }]);
    const pointless = await rejection({ kind: 'Deployment', entity: { ...deploySoftware('d6', 'app'), version: '1.0' } });
    expect(pointless.problems[0]?.field).toBe('version');
  });

  it('rejects parameters of the wrong type, unknown parameters, and missing required ones', async () => {
    const error = await rejection({
      kind: 'Deployment',
      entity: deployTask('d7', 'fw', { parameters: { level: 'extreme', port: '443', on: 'yes', label: 'NOT lower', extra: 1 } }),
    });
    expect(error.problems).toEqual([
      { field: 'parameters.extra', problem: 'task fw has no parameter extra (it has: level, port, on, label)' },
      { field: 'parameters.level', problem: 'must be one of low, high' },
      { field: 'parameters.port', problem: 'must be a number, not string' },
      { field: 'parameters.on', problem: 'must be true or false, not string' },
      { field: 'parameters.label', problem: 'must match ^[a-z]+$' },
    ]);
    expect((await rejection({ kind: 'Deployment', entity: deployTask('d8', 'fw') })).problems).toEqual([{ field: 'parameters.level', problem: 'is required' }]);
    expect(await catalog.getDeployment('d7')).toBeUndefined();
  });

  it('rejects enforcing a task that has nothing to enforce with', async () => {
    await save({ kind: 'Task', entity: task('probe', { scripts: { style: 'Separate', test: 'exit 0' } }) });
    expect((await rejection({ kind: 'Deployment', entity: deployTask('enforce-probe', 'probe') })).problems).toEqual([
      { field: 'mode', problem: 'task probe has no set script, so it can be audited or monitored but not enforced' },
    ]);
    await save({ kind: 'Deployment', entity: deployTask('audit-probe', 'probe', { mode: 'Audit' }) });
  });

  it('rejects a dependency on unknown software, and a dependency cycle naming every item in it', async () => {
    expect((await rejection({ kind: 'Software', entity: software('x', { dependencies: [{ softwareId: 'nope', requires: 'Installed' }] }) })).problems).toEqual([
      { field: 'dependencies.0.softwareId', problem: 'software nope does not exist' },
    ]);
    // runtime → app → runtime
    const cycle = await rejection({ kind: 'Software', entity: software('runtime', { dependencies: [{ softwareId: 'app', requires: 'Installed' }] }) });
    expect(cycle.problems).toEqual([{ field: 'dependencies', problem: 'would make a dependency cycle: app, runtime depend on each other' }]);
    expect((await catalog.getSoftware(['runtime']))[0]?.dependencies).toEqual([]);
  });

  it('rejects a computer of an unknown tenant and a loop of parent tenants', async () => {
    expect((await rejection({ kind: 'Computer', entity: computer('pc2', { tenantId: 'nope' }) })).problems).toEqual([{ field: 'tenantId', problem: 'tenant nope does not exist' }]);
    await save({ kind: 'Tenant', entity: tenant('child', { parentTenantId: 't1' }) });
    const loop = await rejection({ kind: 'Tenant', entity: tenant('t1', { parentTenantId: 'child' }) });
    expect(loop.problems).toEqual([{ field: 'parentTenantId', problem: 'would make a loop of parents: t1 → child → t1' }]);
    expect((await catalog.getTenant('t1'))?.parentTenantId).toBeUndefined();
  });

  it('rejects malformed entities by schema, naming the field', async () => {
    expect((await rejection({ kind: 'Computer', entity: { ...computer('pc3'), agentId: 'server-1' } })).problems).toEqual([
      { field: 'agentId', problem: 'must be an SSM managed instance id (i-… or mi-…)' },
    ]);
    expect((await rejection({ kind: 'Computer', entity: { ...computer('pc3'), timeZone: 'Mars/Olympus' } })).problems[0]?.field).toBe('timeZone');
    expect((await rejection({ kind: 'Task', entity: task('t', { parameters: [{ name: 'p', type: 'enum', values: ['a'], default: 'b', required: false }] }) })).problems).toEqual([
      { field: 'parameters.0.default', problem: 'must be one of a' },
    ]);
  });
});
