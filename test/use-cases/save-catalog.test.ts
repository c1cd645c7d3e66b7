import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAuditStore } from '../../functions/adapters/audit-store.dynamodb.js';
import { DynamoCatalogStore } from '../../functions/adapters/catalog-store.dynamodb.js';
import { secretReference } from '../../functions/core/catalog/secrets.js';
import { RETIRED_SECRETS_KEPT_DAYS, type RetiredSecrets } from '../../functions/core/ports/catalog-store.port.js';
import type { SecretStore } from '../../functions/core/ports/secret-store.port.js';
import { retireDueSecrets } from '../../functions/core/use-cases/retire-secrets.js';
import { LocalSecretStore } from '../../local/secret-store.local.js';
import { ValidationError } from '../../functions/core/errors.js';
import { validateParameters } from '../../functions/core/catalog/parameters.js';
import type { StoredDeployment } from '../../functions/core/model/catalog.js';
import { catalogEntitySchema, saveCatalogEntity, type CatalogEntityInput } from '../../functions/core/use-cases/save-catalog.js';
import { parseInput } from '../../functions/core/validation.js';
import { computer, deploySoftware, deployTask, software, task, tenant } from '../support/domain.js';
import { dynamoTable } from '../support/dynamo.js';
import { manualClock } from '../support/fleet.js';

const BY = { kind: 'Operator', name: 'ops@msp.example' } as const;

describe('saving catalog entities: bad configuration is rejected, named, and never stored', () => {
  let catalog: DynamoCatalogStore;
  let audit: DynamoAuditStore;
  const clock = manualClock();
  let secrets: LocalSecretStore;
  let close: () => Promise<void>;
  const save = (input: CatalogEntityInput) => saveCatalogEntity({ catalog, secrets, audit, clock }, input, BY);
  const rejection = async (input: CatalogEntityInput) => {
    const error: unknown = await save(input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  };

  beforeAll(async () => {
    const dynamo = await dynamoTable();
    catalog = new DynamoCatalogStore(dynamo.table);
    audit = new DynamoAuditStore(dynamo.table);
    const folder = await mkdtemp(path.join(tmpdir(), 'nightshift-save-catalog-'));
    secrets = await LocalSecretStore.open(path.join(folder, 'secrets'), path.join(folder, 'machines'));
    close = async () => {
      await dynamo.close();
      await rm(folder, { recursive: true, force: true });
    };
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

  it('refuses an entity that is not an object, naming the field entity (proves no unnamed error for null, text, arrays or numbers)', () => {
    for (const entity of [null, 'tenant', ['t9'], 42, true]) {
      const error: unknown = (() => {
        try {
          return parseInput(catalogEntitySchema, { kind: 'Tenant', entity }, 'save-catalog input');
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).problems).toEqual([{ field: 'entity', problem: "must be an object holding the entity's fields" }]);
    }
  });

  it('bounds every stored field and names the one that makes an entity too large for one DynamoDB item (proves no raw 400 KB failure)', async () => {
    const script = await rejection({ kind: 'Software', entity: software('fat', { installScript: '€'.repeat(20_000) }) });
    expect(script.problems).toEqual([{ field: 'installScript', problem: 'must be at most 32 KB (UTF-8)' }]);
    const parameters = Array.from({ length: 50 }, (_, i) => ({ name: `p${i}`, type: 'string' as const, required: false, default: 'é'.repeat(16_384) }));
    const huge = await rejection({ kind: 'Task', entity: task('huge', { parameters }) });
    expect(huge.problems).toEqual([
      { field: 'parameters', problem: expect.stringMatching(/^is \d+ KB and makes the maintenance task \d+ KB; a maintenance task is stored whole and may be at most 350 KB$/) as string },
    ]);
    expect(await catalog.getTasks(['huge'])).toEqual([]);
    const name = await rejection({ kind: 'Tenant', entity: tenant('long', { name: 'x'.repeat(256) }) });
    expect(name.problems).toEqual([{ field: 'name', problem: 'must be at most 255 characters' }]);
  });

  it('refuses NUL characters in any field (proves they are not silently dropped)', async () => {
    expect((await rejection({ kind: 'Tenant', entity: tenant('nul', { name: 'Dental\u0000 Clinic' }) })).problems).toEqual([
      { field: 'name', problem: 'must not contain NUL characters (\\0)' },
    ]);
    expect(await catalog.getTenant('nul')).toBeUndefined();
  });

  it('accepts only versions the comparison can order (proves one version grammar)', async () => {
    expect((await rejection({ kind: 'Software', entity: software('beta', { latestVersion: '1.0 beta' }) })).problems.map((p) => p.field)).toEqual(['latestVersion']);
    expect((await rejection({ kind: 'Software', entity: software('beta', { versions: ['1.0', 'next'] }) })).problems.map((p) => p.field)).toEqual(['versions.1']);
    const pinned = await rejection({ kind: 'Deployment', entity: deploySoftware('pin', 'app', { desiredState: 'ThisVersion', version: '<script>' }) });
    expect(pinned.problems.map((p) => p.field)).toEqual(['version']);
  });

  it('checks a catastrophic pattern in linear time: ^(a+)+$ against 31 a and a ! is refused in under 10 ms (proves no ReDoS)', async () => {
    const guarded = task('guarded', { parameters: [{ name: 'word', type: 'string', pattern: '^(a+)+$', required: true }] });
    await save({ kind: 'Task', entity: guarded });
    const hostile = `${'a'.repeat(31)}!`;
    expect(validateParameters(guarded, { word: hostile }, 'parameters')).toEqual([{ field: 'parameters.word', problem: 'must match ^(a+)+$' }]);
    // the fastest of a few runs: the machine is shared, and one slow run says more about the neighbours than the matcher
    const runs = Array.from({ length: 5 }, () => {
      const start = performance.now();
      validateParameters(guarded, { word: hostile }, 'parameters');
      return performance.now() - start;
    });
    expect(Math.min(...runs)).toBeLessThan(10);
    expect((await rejection({ kind: 'Deployment', entity: deployTask('redos', 'guarded', { parameters: { word: hostile } }) })).problems).toEqual([
      { field: 'parameters.word', problem: 'must match ^(a+)+$' },
    ]);
    await save({ kind: 'Deployment', entity: deployTask('fine', 'guarded', { parameters: { word: 'aaaa' } }) });
  });

  it('refuses at save time a pattern no automaton can match, and a default that breaks its own pattern', async () => {
    const backreference = await rejection({ kind: 'Task', entity: task('br', { parameters: [{ name: 'p', type: 'string', pattern: '^(a)\\1$', required: false }] }) });
    expect(backreference.problems).toEqual([{ field: 'parameters.0.pattern', problem: 'cannot be used: backreferences (\\1, \\2, …) are not supported' }]);
    const lookahead = await rejection({ kind: 'Task', entity: task('la', { parameters: [{ name: 'p', type: 'string', pattern: '^(?=a)', required: false }] }) });
    expect(lookahead.problems[0]?.field).toBe('parameters.0.pattern');
    const badDefault = await rejection({ kind: 'Task', entity: task('bd', { parameters: [{ name: 'p', type: 'string', pattern: '^[a-z]+$', default: 'UPPER', required: false }] }) });
    expect(badDefault.problems).toEqual([{ field: 'parameters.0.default', problem: "must match the parameter's pattern" }]);
  });

  it('looks parameters up as own properties only: constructor and toString do not find Object.prototype (proves no prototype-chain lookup)', async () => {
    const proto = task('proto', {
      parameters: [
        { name: 'constructor', type: 'string', required: false },
        { name: 'toString', type: 'number', required: false },
        { name: 'hasOwnProperty', type: 'string', required: true },
      ],
    });
    expect(validateParameters(proto, {}, 'parameters')).toEqual([{ field: 'parameters.hasOwnProperty', problem: 'is required' }]);
    await save({ kind: 'Task', entity: proto });
    await save({ kind: 'Deployment', entity: deployTask('proto-all', 'proto', { parameters: { hasOwnProperty: 'yes' } }) });
    expect(await catalog.getDeployment('proto-all')).toMatchObject({ parameters: { hasOwnProperty: 'yes' } });
    expect((await rejection({ kind: 'Deployment', entity: deployTask('proto-bad', 'proto', { parameters: { constructor: 7 } }) })).problems).toEqual([
      { field: 'parameters.constructor', problem: 'must be text, not number' },
      { field: 'parameters.hasOwnProperty', problem: 'is required' },
    ]);
  });
});

describe('saving a deployment with secret parameters: the value goes to the secret store only', () => {
  let catalog: DynamoCatalogStore;
  let audit: DynamoAuditStore;
  const clock = manualClock();
  let secrets: LocalSecretStore;
  let close: () => Promise<void>;
  const calls: string[] = [];
  /** The real stores, each call recorded in order; `failing` makes one method refuse. */
  const recording = (failing?: 'put' | 'delete' | 'retire') => {
    const store: SecretStore = {
      put: (reference, value) => {
        calls.push(`secrets.put ${reference}`);
        return failing === 'put' ? Promise.reject(new Error('SSM said no')) : secrets.put(reference, value);
      },
      delete: (references) => {
        calls.push(`secrets.delete ${references.join(',')}`);
        return failing === 'delete' ? Promise.reject(new Error('SSM said no')) : secrets.delete(references);
      },
    };
    const catalogView = Object.create(catalog, {
      putDeployment: {
        value: (deployment: StoredDeployment, expectedRevision: number) => {
          calls.push(`catalog.putDeployment ${JSON.stringify(deployment.itemKind === 'Task' ? deployment.parameters : {})}`);
          return catalog.putDeployment(deployment, expectedRevision);
        },
      },
      retireSecrets: {
        value: (retired: RetiredSecrets) => {
          calls.push(`catalog.retireSecrets ${retired.references.join(',')}`);
          return failing === 'retire' ? Promise.reject(new Error('the table said no')) : catalog.retireSecrets(retired);
        },
      },
    }) as DynamoCatalogStore;
    return { catalog: catalogView, secrets: store, audit, clock };
  };
  const save = (input: CatalogEntityInput, failing?: 'put' | 'delete' | 'retire') => saveCatalogEntity(recording(failing), input, BY);
  const silentLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
  /** Moves the clock to when everything retired so far is due, and runs the retirement as its scheduled handler does. */
  const retireDue = async () => {
    clock.advance(RETIRED_SECRETS_KEPT_DAYS * 86_400_000);
    return retireDueSecrets({ catalog, secrets: recording().secrets, clock, logger: silentLogger }, { limit: 100 });
  };
  const licence = (id: string, parameters: Record<string, string>) => ({ kind: 'Deployment' as const, entity: deployTask(id, 'licensed', { parameters: { edition: 'pro', ...parameters } }) });
  const stored = async (id: string) => ((await catalog.getDeployment(id)) as { parameters?: Record<string, unknown> } | undefined)?.parameters;

  beforeAll(async () => {
    const dynamo = await dynamoTable();
    catalog = new DynamoCatalogStore(dynamo.table);
    audit = new DynamoAuditStore(dynamo.table);
    const folder = await mkdtemp(path.join(tmpdir(), 'nightshift-secrets-'));
    secrets = await LocalSecretStore.open(path.join(folder, 'secrets'), path.join(folder, 'machines'));
    close = async () => {
      await dynamo.close();
      await rm(folder, { recursive: true, force: true });
    };
    await save({
      kind: 'Task',
      entity: task('licensed', {
        parameters: [
          { name: 'edition', type: 'string', required: true },
          { name: 'licenceKey', type: 'secret', required: false },
          { name: 'adminPassword', type: 'secret', required: false },
        ],
      }),
    });
  });
  afterAll(() => close());

  it('stores each secret of a deployment that spans tenants under /nightshift/secrets/shared/<deployment>/<parameter> and only "(secret)" in the item and the answer (proves the value never reaches DynamoDB)', async () => {
    calls.length = 0;
    const answer = await save(licence('lic-1', { licenceKey: 'S3cr3t-one', adminPassword: 'hunter2-pw' }));
    expect(answer).toMatchObject({ kind: 'Deployment', entity: { parameters: { edition: 'pro', licenceKey: '(secret)', adminPassword: '(secret)' } } });
    expect(await stored('lic-1')).toEqual({ edition: 'pro', licenceKey: '(secret)', adminPassword: '(secret)' });
    expect(JSON.stringify(await catalog.listDeployments())).not.toMatch(/S3cr3t-one|hunter2-pw/);
    expect(await secrets.get(secretReference({ kind: 'Shared' }, 'lic-1', 'licenceKey'))).toBe('S3cr3t-one');
    expect(await secrets.get('/nightshift/secrets/shared/lic-1/adminPassword')).toBe('hunter2-pw');
    // the values first, then the item that names them
    expect(calls.slice(0, 3).sort()).toEqual([
      'catalog.putDeployment {"edition":"pro","licenceKey":"(secret)","adminPassword":"(secret)"}',
      'secrets.put /nightshift/secrets/shared/lic-1/adminPassword',
      'secrets.put /nightshift/secrets/shared/lic-1/licenceKey',
    ]);
    expect(calls[2]).toMatch(/^catalog\.putDeployment/);
  });

  it('saving the "(secret)" it read back keeps the stored value; a new value overwrites it; leaving it out retires it after the item no longer names it: kept for the sessions under way, deleted when due', async () => {
    await save(licence('lic-2', { licenceKey: 'S3cr3t-two', adminPassword: 'pw-two' }));
    calls.length = 0;
    await save(licence('lic-2', { licenceKey: '(secret)', adminPassword: 'pw-two-b' }));
    expect(await secrets.get(secretReference({ kind: 'Shared' }, 'lic-2', 'licenceKey'))).toBe('S3cr3t-two');
    expect(await secrets.get(secretReference({ kind: 'Shared' }, 'lic-2', 'adminPassword'))).toBe('pw-two-b');
    expect(calls).toEqual(['secrets.put /nightshift/secrets/shared/lic-2/adminPassword', 'catalog.putDeployment {"edition":"pro","licenceKey":"(secret)","adminPassword":"(secret)"}']);

    calls.length = 0;
    await save(licence('lic-2', { licenceKey: '(secret)' }));
    expect(calls).toEqual(['catalog.putDeployment {"edition":"pro","licenceKey":"(secret)"}', 'catalog.retireSecrets /nightshift/secrets/shared/lic-2/adminPassword']);
    expect(await secrets.get(secretReference({ kind: 'Shared' }, 'lic-2', 'adminPassword'))).toBe('pw-two-b');
    calls.length = 0;
    await retireDue();
    expect(calls).toContain('secrets.delete /nightshift/secrets/shared/lic-2/adminPassword');
    expect(await secrets.get(secretReference({ kind: 'Shared' }, 'lic-2', 'adminPassword'))).toBeUndefined();
    expect(await secrets.get(secretReference({ kind: 'Shared' }, 'lic-2', 'licenceKey'))).toBe('S3cr3t-two');
    expect(await stored('lic-2')).toEqual({ edition: 'pro', licenceKey: '(secret)' });
  });

  it('refuses "(secret)" where nothing is stored, an empty secret and one over 4 KB, naming the field, quoting no value and storing nothing', async () => {
    const marker = await saveCatalogEntity(recording(), licence('lic-3', { licenceKey: '(secret)' }), BY).catch((e: unknown) => e);
    expect(marker).toBeInstanceOf(ValidationError);
    expect((marker as ValidationError).problems).toEqual([
      { field: 'parameters.licenceKey', problem: 'is "(secret)", which keeps the stored secret, but deployment lic-3 has none stored; give the value' },
    ]);
    const big = `S3cr3t-${'x'.repeat(4_096)}`;
    const sizes = (await save(licence('lic-3', { licenceKey: '', adminPassword: big })).catch((e: unknown) => e)) as ValidationError;
    expect(sizes.problems).toEqual([
      { field: 'parameters.licenceKey', problem: 'must not be empty; leave the parameter out to store no secret' },
      { field: 'parameters.adminPassword', problem: 'must be at most 4 KB: secrets are stored as SSM SecureString parameters' },
    ]);
    expect(sizes.message).not.toContain('S3cr3t');
    expect(await catalog.getDeployment('lic-3')).toBeUndefined();
    expect(await secrets.get(secretReference({ kind: 'Shared' }, 'lic-3', 'adminPassword'))).toBeUndefined();
  });

  it('a secret store that refuses the value leaves the item as it was (proves no item names a secret that was never written)', async () => {
    await save(licence('lic-4', {}));
    await expect(save(licence('lic-4', { licenceKey: 'S3cr3t-four' }), 'put')).rejects.toThrow('SSM said no');
    expect(await stored('lic-4')).toEqual({ edition: 'pro' });
  });

  it('a save that died after storing the item and before retiring is finished by saving again (proves a retry retires what the item no longer names)', async () => {
    await save(licence('lic-5', { licenceKey: 'S3cr3t-five' }));
    await expect(save(licence('lic-5', {}), 'retire')).rejects.toThrow('the table said no');
    expect(await stored('lic-5')).toEqual({ edition: 'pro' });
    await retireDue();
    expect(await secrets.get(secretReference({ kind: 'Shared' }, 'lic-5', 'licenceKey'))).toBe('S3cr3t-five');
    await save(licence('lic-5', {}));
    await retireDue();
    expect(await secrets.get(secretReference({ kind: 'Shared' }, 'lic-5', 'licenceKey'))).toBeUndefined();
  });

  it('a retirement run that died deleting is carried out by the next run (proves a retirement is forgotten only after its deletions)', async () => {
    await save(licence('lic-7', { licenceKey: 'S3cr3t-seven' }));
    await save(licence('lic-7', {}));
    clock.advance(RETIRED_SECRETS_KEPT_DAYS * 86_400_000);
    await expect(retireDueSecrets({ catalog, secrets: recording('delete').secrets, clock, logger: silentLogger }, { limit: 100 })).rejects.toThrow('SSM said no');
    expect(await secrets.get(secretReference({ kind: 'Shared' }, 'lic-7', 'licenceKey'))).toBe('S3cr3t-seven');
    await retireDue();
    expect(await secrets.get(secretReference({ kind: 'Shared' }, 'lic-7', 'licenceKey'))).toBeUndefined();
  });

  it('refuses to make a parameter secret, or no longer secret, while a deployment sets it, naming the field (proves no clear value left in the table and no "(secret)" sent as a value)', async () => {
    await save(licence('lic-type', { licenceKey: 'S3cr3t-type' }));
    const withTypes = (licenceKey: 'secret' | 'string', edition: 'secret' | 'string') =>
      save({
        kind: 'Task',
        entity: task('licensed', {
          parameters: [
            { name: 'edition', type: edition, required: edition === 'string' },
            { name: 'licenceKey', type: licenceKey, required: false },
            { name: 'adminPassword', type: 'secret', required: false },
          ],
        }),
      });
    await expect(withTypes('string', 'string')).rejects.toMatchObject({ problems: [{ field: 'parameters.1.type', problem: expect.stringContaining('cannot stop being secret while deployment(s)') as unknown }] });
    await expect(withTypes('secret', 'secret')).rejects.toMatchObject({ problems: [{ field: 'parameters.0.type', problem: expect.stringContaining('cannot become secret') as unknown }] });
    // nothing changed: the task still has its types
    const [stored] = await catalog.getTasks(['licensed']);
    expect(stored?.parameters.map((p) => p.type)).toEqual(['string', 'secret', 'secret']);
  });

  it('a deployment saved over with one of software removes the secrets the task deployment had', async () => {
    await save({ kind: 'Software', entity: software('editor') });
    await save(licence('lic-6', { adminPassword: 'pw-six' }));
    await save({ kind: 'Deployment', entity: deploySoftware('lic-6', 'editor') });
    await retireDue();
    expect(await secrets.get(secretReference({ kind: 'Shared' }, 'lic-6', 'adminPassword'))).toBeUndefined();
  });
});
