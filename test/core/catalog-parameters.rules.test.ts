import { describe, expect, it } from 'vitest';
import { parameterValue, validateParameters } from '../../functions/core/catalog/parameters.js';
import { MAX_SECRET_BYTES, SECRET_MARKER, isSecretParameter, secretReference, separateSecrets } from '../../functions/core/catalog/secrets.js';
import type { MaintenanceTask } from '../../functions/core/model/catalog.js';
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

describe('secret parameters (pure)', () => {
  const licensed = withParameters({ name: 'user', type: 'string', required: false }, { name: 'password', type: 'secret', required: false }, { name: 'key', type: 'secret', required: false });

  it('stores each secret under a name of its deployment and parameter, in a standard SSM parameter', () => {
    expect(secretReference('lic-1', 'password')).toBe('/nightshift/secrets/lic-1/password');
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
    const changes = separateSecrets(deployment, licensed, undefined);
    expect(changes).toEqual({
      stored: { ...deployment, parameters: { user: 'admin', password: SECRET_MARKER, key: SECRET_MARKER } },
      writes: [
        { reference: '/nightshift/secrets/lic-1/password', value: 'hunter2' },
        { reference: '/nightshift/secrets/lic-1/key', value: 'AAAA-BBBB' },
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
    expect(separateSecrets(deployment, licensed, previous)).toEqual({ stored: deployment, writes: [], deletions: [], problems: [] });
  });

  it('refuses the marker for a secret that was never stored', () => {
    const deployment = deployTask('lic-1', 'audit', { parameters: { password: SECRET_MARKER } });
    const expected = [{ field: 'parameters.password', problem: 'is "(secret)", which keeps the stored secret, but deployment lic-1 has none stored; give the value' }];
    expect(separateSecrets(deployment, licensed, undefined).problems).toEqual(expected);
    expect(separateSecrets(deployment, licensed, deployTask('lic-1', 'audit', { parameters: { password: 'plain' } })).problems).toEqual(expected);
    expect(separateSecrets(deployment, licensed, deploySoftware('lic-1', 'app')).problems).toEqual(expected);
  });

  it('refuses an empty secret, and one too large for a standard SSM parameter (counted in UTF-8 bytes)', () => {
    const atLimit = 'x'.repeat(4_096);
    expect(separateSecrets(deployTask('d', 'audit', { parameters: { password: atLimit } }), licensed, undefined).problems).toEqual([]);
    const changes = separateSecrets(deployTask('d', 'audit', { parameters: { password: '', key: 'é'.repeat(2_049) } }), licensed, undefined);
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
    expect(separateSecrets(deployment, licensed, previous).deletions).toEqual(['/nightshift/secrets/lic-1/old', '/nightshift/secrets/lic-1/key']);
    expect(separateSecrets(deployTask('lic-1', 'audit'), licensed, undefined).deletions).toEqual(['/nightshift/secrets/lic-1/password', '/nightshift/secrets/lic-1/key']);
  });

  it('leaves a value that is not text to the type check: not stored as a secret, not written', () => {
    const deployment = deployTask('lic-1', 'audit', { parameters: { password: 42 } });
    const changes = separateSecrets(deployment, licensed, undefined);
    expect(changes.stored).toEqual(deployment);
    expect(changes.writes).toEqual([]);
    expect(changes.problems).toEqual([]);
  });

  it('has nothing to separate for software, or for a task it does not know', () => {
    const software = deploySoftware('app-1', 'app');
    expect(separateSecrets(software, licensed, undefined)).toEqual({ stored: software, writes: [], deletions: [], problems: [] });
    const unknownTask = deployTask('lic-1', 'audit', { parameters: { password: 'hunter2' } });
    expect(separateSecrets(unknownTask, undefined, undefined)).toEqual({ stored: unknownTask, writes: [], deletions: [], problems: [] });
    // a previous task deployment's stored secrets are still cleaned up when the item stops being a task
    expect(separateSecrets(software, licensed, deployTask('app-1', 'audit', { parameters: { password: SECRET_MARKER } })).deletions).toEqual([
      '/nightshift/secrets/app-1/password',
    ]);
  });
});
