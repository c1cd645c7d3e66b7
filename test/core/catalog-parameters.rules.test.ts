import { describe, expect, it } from 'vitest';
import { parameterValue, validateParameters } from '../../functions/core/catalog/parameters.js';
import { MAX_SECRET_BYTES, SECRET_MARKER, isSecretParameter, keepsSecretsPerTenant, secretReference, separateSecrets } from '../../functions/core/catalog/secrets.js';
import type { Deployment, MaintenanceTask } from '../../functions/core/model/catalog.js';
import { deploySoftware, deployTask, task } from '../support/domain.js';

type Parameter = MaintenanceTask['parameters'][number];
const withParameters = (...parameters: Parameter[]): MaintenanceTask => task('audit', { parameters });
const problemsOf = (parameters: Parameter[], values: Record<string, string | number | boolean>) => validateParameters(withParameters(...parameters), values, 'parameters');

describe('parameter values (pure)', () => {
  it("reads a deployment's own values only, never Object's", () => {
    expect(parameterValue({ level: 3 }, 'level')).toBe(3);
    expect(parameterValue({ flag: false }, 'flag')).toBe(false);
    expect(parameterValue({}, 'constructor')).toBeUndefined();
    expect(parameterValue({}, 'toString')).toBeUndefined();
  });

  it('names a value for a parameter the task does not have, listing the ones it has', () => {
    expect(problemsOf([{ name: 'path', type: 'string', required: false }, { name: 'depth', type: 'number', required: false }], { colour: 'red' })).toEqual([
      { field: 'parameters.colour', problem: 'task audit has no parameter colour (it has: path, depth)' },
    ]);
    expect(problemsOf([], { colour: 'red' })).toEqual([{ field: 'parameters.colour', problem: 'task audit has no parameter colour (it has: none)' }]);
  });

  it('cuts a long list of the parameters the task has', () => {
    const many = Array.from({ length: 40 }, (_, i): Parameter => ({ name: `parameter${String(i).padStart(2, '0')}`, type: 'boolean', required: false }));
    const [problem] = problemsOf(many, { colour: 'red' });
    expect(problem?.problem).toMatch(/^task audit has no parameter colour \(it has: parameter00, parameter01, .*…\)$/);
    expect(problem?.problem.length).toBeLessThan(260);
  });

  it('requires a required parameter that has neither a value nor a default', () => {
    expect(problemsOf([{ name: 'path', type: 'string', required: true }], {})).toEqual([{ field: 'parameters.path', problem: 'is required' }]);
    expect(problemsOf([{ name: 'path', type: 'string', required: true, default: undefined }], {})).toEqual([{ field: 'parameters.path', problem: 'is required' }]);
    expect(problemsOf([{ name: 'toString', type: 'secret', required: true }], {})).toEqual([{ field: 'parameters.toString', problem: 'is required' }]);
    expect(problemsOf([{ name: 'path', type: 'string', required: true, default: '' }], {})).toEqual([]);
    expect(problemsOf([{ name: 'depth', type: 'number', required: true, default: 0 }], {})).toEqual([]);
    expect(problemsOf([{ name: 'path', type: 'string', required: false }], {})).toEqual([]);
  });

  it('takes text for text and secret parameters', () => {
    expect(problemsOf([{ name: 'path', type: 'string', required: false }], { path: '/var' })).toEqual([]);
    expect(problemsOf([{ name: 'path', type: 'string', required: false }], { path: 3 })).toEqual([{ field: 'parameters.path', problem: 'must be text, not number' }]);
    expect(problemsOf([{ name: 'password', type: 'secret', required: false }], { password: true })).toEqual([
      { field: 'parameters.password', problem: 'must be text, not boolean' },
    ]);
  });

  it("checks text against the parameter's pattern", () => {
    const host: Parameter = { name: 'host', type: 'string', required: false, pattern: '^[a-z]+$' };
    expect(problemsOf([host], { host: 'server' })).toEqual([]);
    expect(problemsOf([host], { host: 'Server 1' })).toEqual([{ field: 'parameters.host', problem: 'must match ^[a-z]+$' }]);
    // compiled once, the same answer the second time
    expect(problemsOf([host], { host: 'Server 1' })).toEqual([{ field: 'parameters.host', problem: 'must match ^[a-z]+$' }]);
  });

  it('never checks a secret against a pattern', () => {
    const secretWithPattern = { name: 'password', type: 'secret', required: false, pattern: '^[a-z]+$' } as const;
    expect(problemsOf([secretWithPattern], { password: 'S3cret!' })).toEqual([]);
  });

  it('refuses to let a value through unchecked when the stored pattern is no longer accepted', () => {
    expect(problemsOf([{ name: 'host', type: 'string', required: false, pattern: '(?=a)a' }], { host: 'a' })).toEqual([
      { field: 'parameters.host', problem: 'cannot be checked: task audit has a pattern that is no longer accepted; save the task again' },
    ]);
  });

  it('says when a value is too costly to check against its pattern', () => {
    expect(problemsOf([{ name: 'note', type: 'string', required: false, pattern: '[\\s\\S]{0,480}!' }], { note: 'a'.repeat(16_384) })).toEqual([
      { field: 'parameters.note', problem: 'is too long to check against [\\s\\S]{0,480}!; shorten it or simplify the pattern' },
    ]);
  });

  it('takes finite numbers within the bounds, the bounds included', () => {
    const depth: Parameter = { name: 'depth', type: 'number', required: false, min: 1, max: 10 };
    expect(problemsOf([depth], { depth: 1 })).toEqual([]);
    expect(problemsOf([depth], { depth: 10 })).toEqual([]);
    expect(problemsOf([depth], { depth: 0.5 })).toEqual([{ field: 'parameters.depth', problem: 'must be at least 1' }]);
    expect(problemsOf([depth], { depth: 10.5 })).toEqual([{ field: 'parameters.depth', problem: 'must be at most 10' }]);
    expect(problemsOf([depth], { depth: '5' })).toEqual([{ field: 'parameters.depth', problem: 'must be a number, not string' }]);
    expect(problemsOf([depth], { depth: Number.NaN })).toEqual([{ field: 'parameters.depth', problem: 'must be a number, not number' }]);
    expect(problemsOf([depth], { depth: Number.POSITIVE_INFINITY })).toEqual([{ field: 'parameters.depth', problem: 'must be a number, not number' }]);
    expect(problemsOf([{ name: 'depth', type: 'number', required: false }], { depth: -1e9 })).toEqual([]);
  });

  it('takes true or false for a boolean', () => {
    expect(problemsOf([{ name: 'force', type: 'boolean', required: false }], { force: false })).toEqual([]);
    expect(problemsOf([{ name: 'force', type: 'boolean', required: false }], { force: 'yes' })).toEqual([{ field: 'parameters.force', problem: 'must be true or false, not string' }]);
  });

  it('takes one of the listed values for an enum', () => {
    const level: Parameter = { name: 'level', type: 'enum', required: false, values: ['low', 'high'] };
    expect(problemsOf([level], { level: 'high' })).toEqual([]);
    expect(problemsOf([level], { level: 'medium' })).toEqual([{ field: 'parameters.level', problem: 'must be one of low, high' }]);
    expect(problemsOf([level], { level: 1 })).toEqual([{ field: 'parameters.level', problem: 'must be one of low, high' }]);
    const long: Parameter = { name: 'level', type: 'enum', required: false, values: Array.from({ length: 50 }, (_, i) => `value${String(i)}`) };
    expect(problemsOf([long], { level: 'none' })[0]?.problem).toMatch(/^must be one of value0, value1, .*…$/);
  });

  it('names every problem, under the field prefix it was given', () => {
    const problems = validateParameters(
      withParameters({ name: 'depth', type: 'number', required: true }, { name: 'force', type: 'boolean', required: false }),
      { force: 1, extra: 'x' },
      'deployments.3.parameters',
    );
    expect(problems).toEqual([
      { field: 'deployments.3.parameters.extra', problem: 'task audit has no parameter extra (it has: depth, force)' },
      { field: 'deployments.3.parameters.depth', problem: 'is required' },
      { field: 'deployments.3.parameters.force', problem: 'must be true or false, not number' },
    ]);
  });
});

const SHARED = { kind: 'Shared' } as const;

describe('secret parameters (pure)', () => {
  const licensed = withParameters({ name: 'user', type: 'string', required: false }, { name: 'password', type: 'secret', required: false }, { name: 'key', type: 'secret', required: false });

  /** The rules without a move between scopes: everything shared, as a deployment to all tenants keeps them. */
  const separate = (deployment: Deployment, task: MaintenanceTask | undefined, previous: Deployment | undefined) =>
    separateSecrets(deployment, task, SHARED, previous === undefined ? undefined : { deployment: previous, scope: SHARED });

  it('stores each secret under a name of its scope, deployment and parameter, in a standard SSM parameter', () => {
    expect(secretReference(SHARED, 'lic-1', 'password')).toBe('/nightshift/secrets/shared/lic-1/password');
    expect(secretReference({ kind: 'Tenant', tenantId: 'acme' }, 'lic-1', 'password')).toBe('/nightshift/secrets/tenants/acme/lic-1/password');
    expect(MAX_SECRET_BYTES).toBe(4_096);
    expect(SECRET_MARKER).toBe('(secret)');
  });

  it('knows which of a task’s parameters are secret', () => {
    expect(isSecretParameter(licensed, 'password')).toBe(true);
    expect(isSecretParameter(licensed, 'user')).toBe(false);
    expect(isSecretParameter(licensed, 'missing')).toBe(false);
  });

  it('takes new secret values out of what is stored, to be written to the secret store', () => {
    const deployment = deployTask('lic-1', 'audit', { parameters: { user: 'admin', password: 'hunter2', key: 'AAAA-BBBB' } });
    const changes = separate(deployment, licensed, undefined);
    expect(changes).toEqual({
      stored: { ...deployment, parameters: { user: 'admin', password: SECRET_MARKER, key: SECRET_MARKER } },
      writes: [
        { reference: '/nightshift/secrets/shared/lic-1/password', value: 'hunter2' },
        { reference: '/nightshift/secrets/shared/lic-1/key', value: 'AAAA-BBBB' },
      ],
      deletions: [],
      problems: [],
    });
    // the caller's deployment is left as it was
    expect(deployment.parameters.password).toBe('hunter2');
  });

  it('keeps a stored secret when the marker comes back, writing and deleting nothing', () => {
    const previous = deployTask('lic-1', 'audit', { parameters: { password: SECRET_MARKER, key: SECRET_MARKER } });
    const deployment = deployTask('lic-1', 'audit', { parameters: { password: SECRET_MARKER, key: SECRET_MARKER } });
    expect(separate(deployment, licensed, previous)).toEqual({ stored: deployment, writes: [], deletions: [], problems: [] });
  });

  it('refuses the marker for a secret that was never stored', () => {
    const deployment = deployTask('lic-1', 'audit', { parameters: { password: SECRET_MARKER } });
    const expected = [{ field: 'parameters.password', problem: 'is "(secret)", which keeps the stored secret, but deployment lic-1 has none stored; give the value' }];
    expect(separate(deployment, licensed, undefined).problems).toEqual(expected);
    expect(separate(deployment, licensed, deployTask('lic-1', 'audit', { parameters: { password: 'plain' } })).problems).toEqual(expected);
    expect(separate(deployment, licensed, deploySoftware('lic-1', 'app')).problems).toEqual(expected);
  });

  it('refuses an empty secret, and one too large for a standard SSM parameter (counted in UTF-8 bytes)', () => {
    const atLimit = 'x'.repeat(4_096);
    expect(separate(deployTask('d', 'audit', { parameters: { password: atLimit } }), licensed, undefined).problems).toEqual([]);
    const changes = separate(deployTask('d', 'audit', { parameters: { password: '', key: 'é'.repeat(2_049) } }), licensed, undefined);
    expect(changes.problems).toEqual([
      { field: 'parameters.password', problem: 'must not be empty; leave the parameter out to store no secret' },
      { field: 'parameters.key', problem: 'must be at most 4 KB: secrets are stored as SSM SecureString parameters' },
    ]);
    expect(changes.writes).toEqual([]);
    // a refused value is not stored in the clear either
    expect(changes.stored.itemKind === 'Task' && changes.stored.parameters).toEqual({ password: SECRET_MARKER, key: SECRET_MARKER });
  });

  it('deletes the secrets a save no longer names, including a secret parameter not set at all, once each', () => {
    const previous = deployTask('lic-1', 'audit', { parameters: { password: SECRET_MARKER, old: SECRET_MARKER, key: SECRET_MARKER } });
    const deployment = deployTask('lic-1', 'audit', { parameters: { password: SECRET_MARKER } });
    expect(separate(deployment, licensed, previous).deletions).toEqual(['/nightshift/secrets/shared/lic-1/old', '/nightshift/secrets/shared/lic-1/key']);
    expect(separate(deployTask('lic-1', 'audit'), licensed, undefined).deletions).toEqual(['/nightshift/secrets/shared/lic-1/password', '/nightshift/secrets/shared/lic-1/key']);
  });

  it('leaves a value that is not text to the type check: not stored as a secret, not written', () => {
    const deployment = deployTask('lic-1', 'audit', { parameters: { password: 42 } });
    const changes = separate(deployment, licensed, undefined);
    expect(changes.stored).toEqual(deployment);
    expect(changes.writes).toEqual([]);
    expect(changes.problems).toEqual([]);
  });

  it('has nothing to separate for software, or for a task it does not know', () => {
    const software = deploySoftware('app-1', 'app');
    expect(separate(software, licensed, undefined)).toEqual({ stored: software, writes: [], deletions: [], problems: [] });
    const unknownTask = deployTask('lic-1', 'audit', { parameters: { password: 'hunter2' } });
    expect(separate(unknownTask, undefined, undefined)).toEqual({ stored: unknownTask, writes: [], deletions: [], problems: [] });
    // a previous task deployment's stored secrets are still cleaned up when the item stops being a task
    expect(separate(software, licensed, deployTask('app-1', 'audit', { parameters: { password: SECRET_MARKER } })).deletions).toEqual([
      '/nightshift/secrets/shared/app-1/password',
    ]);
  });
});

describe('secrets kept per tenant (pure)', () => {
  const licensed = withParameters({ name: 'password', type: 'secret', required: false }, { name: 'key', type: 'secret', required: false });
  const ACME = { kind: 'Tenant', tenantId: 'acme' } as const;
  const GLOBEX = { kind: 'Tenant', tenantId: 'globex' } as const;

  it('keeps them per tenant exactly when the deployment reaches one tenant\'s computers only', () => {
    expect(keepsSecretsPerTenant({ kind: 'Tenant', tenantId: 'acme', includeChildTenants: false })).toBe(true);
    expect(keepsSecretsPerTenant({ kind: 'Tag', tag: 'kiosk', tenantId: 'acme' })).toBe(true);
    expect(keepsSecretsPerTenant({ kind: 'Computer', computerId: 'pc-1' })).toBe(true);
    // these reach several tenants' computers: every node may read them
    expect(keepsSecretsPerTenant({ kind: 'Tenant', tenantId: 'acme', includeChildTenants: true })).toBe(false);
    expect(keepsSecretsPerTenant({ kind: 'Tag', tag: 'kiosk' })).toBe(false);
    expect(keepsSecretsPerTenant({ kind: 'AllTenants' })).toBe(false);
    expect(keepsSecretsPerTenant({ kind: 'Person', email: 'ana@contoso.example' })).toBe(false);
  });

  it('writes a new value under the scope it is given', () => {
    const changes = separateSecrets(deployTask('lic-1', 'audit', { parameters: { password: 'hunter2' } }), licensed, ACME, undefined);
    expect(changes.writes).toEqual([{ reference: '/nightshift/secrets/tenants/acme/lic-1/password', value: 'hunter2' }]);
    expect(changes.deletions).toEqual(['/nightshift/secrets/tenants/acme/lic-1/key']);
  });

  it('keeps a stored secret by its marker only in the same scope: a move needs the value again, naming both scopes', () => {
    const previous = deployTask('lic-1', 'audit', { parameters: { password: SECRET_MARKER } });
    const same = separateSecrets(previous, licensed, ACME, { deployment: previous, scope: ACME });
    expect(same.problems).toEqual([]);
    expect(same.deletions).toEqual(['/nightshift/secrets/tenants/acme/lic-1/key']);
    for (const [from, to, words] of [
      [ACME, GLOBEX, 'from tenant acme to tenant globex'],
      [ACME, SHARED, 'from tenant acme to every tenant'],
      [SHARED, ACME, 'from every tenant to tenant acme'],
    ] as const) {
      expect(separateSecrets(previous, licensed, to, { deployment: previous, scope: from }).problems).toEqual([
        { field: 'parameters.password', problem: `give the value again: the new target moves deployment lic-1's secrets ${words}, and Nightshift never reads a secret back` },
      ]);
    }
  });

  it('after a move with the values given, writes them in the new scope and deletes every secret of the old one', () => {
    const previous = deployTask('lic-1', 'audit', { parameters: { password: SECRET_MARKER, key: SECRET_MARKER } });
    const moved = separateSecrets(deployTask('lic-1', 'audit', { parameters: { password: 'new-pw' } }), licensed, GLOBEX, { deployment: previous, scope: ACME });
    expect(moved.problems).toEqual([]);
    expect(moved.writes).toEqual([{ reference: '/nightshift/secrets/tenants/globex/lic-1/password', value: 'new-pw' }]);
    expect(moved.deletions).toEqual(['/nightshift/secrets/tenants/acme/lic-1/password', '/nightshift/secrets/tenants/acme/lic-1/key', '/nightshift/secrets/tenants/globex/lic-1/key']);
  });
});
