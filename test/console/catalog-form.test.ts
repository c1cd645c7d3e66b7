import { describe, expect, it } from 'vitest';
import {
  DEPLOYMENT_FIELDS,
  deploymentFieldNames,
  deploymentFrom,
  dependenciesFrom,
  inputNameFor,
  NEW_DEPLOYMENT,
  NEW_SOFTWARE,
  NEW_TASK,
  SOFTWARE_FIELDS,
  softwareFrom,
  TASK_FIELDS,
  taskFrom,
} from '../../console/src/catalog/form.js';
import type { Deployment, MaintenanceTask, Software, StoredDeployment, StoredSoftware, StoredTask } from '../../console/src/catalog/words.js';
import { SECRET_MARKER as CORE_SECRET_MARKER } from '../../functions/core/catalog/secrets.js';
import { SECRET_MARKER } from '../../console/src/catalog/words.js';
import { deploymentSchema, maintenanceTaskSchema, softwareSchema } from '../../functions/core/model/catalog.js';

/**
 * The catalog forms: what each sends the API (its entity, as typed, for the
 * API to judge), what happens to a secret the form never shows, and where
 * each of the API's refusals is shown.
 */

const form = (values: Record<string, string | readonly string[]>): FormData => {
  const data = new FormData();
  for (const [name, value] of Object.entries(values)) for (const one of typeof value === 'string' ? [value] : value) data.append(name, one);
  return data;
};

const WIFI: MaintenanceTask = {
  id: 'wifi',
  name: 'Wi-Fi',
  platform: 'windows',
  scripts: { style: 'Combined', script: 'exit 0' },
  parameters: [
    { name: 'ssid', type: 'string', required: true },
    { name: 'passphrase', type: 'secret', required: true },
    { name: 'channel', type: 'number', required: false },
    { name: 'hidden', type: 'boolean', required: false },
  ],
};

const STORED_WIFI: Deployment = {
  id: 'deploy-wifi',
  itemKind: 'Task',
  taskId: 'wifi',
  mode: 'Enforce',
  target: { kind: 'Tenant', tenantId: 'acme', includeChildTenants: false },
  parameters: { ssid: 'Office', passphrase: SECRET_MARKER, retired: 'x' },
  enabled: true,
  critical: true,
  orderingHint: 'Unordered',
};

const wifiForm = (overrides: Record<string, string | readonly string[]> = {}) =>
  form({ itemKind: 'Task', taskId: 'wifi', mode: 'Audit', 'target.kind': 'Tenant', 'target.tenantId': 'acme', enabled: 'on', critical: 'on', orderingHint: 'End', 'parameters.ssid': 'Office', ...overrides });

describe('the deployment form', () => {
  it('uses the API’s own marker for a secret it keeps (proves the console and the API mean the same "(secret)")', () => {
    expect(SECRET_MARKER).toBe(CORE_SECRET_MARKER);
  });

  it('has an input for every field of a deployment the API accepts (proves a new deployment field cannot be missed)', () => {
    const fields = new Set<string>(DEPLOYMENT_FIELDS);
    for (const option of deploymentSchema.options) for (const key of Object.keys(option.shape)) expect(fields, key).toContain(key === 'target' ? 'target.kind' : key);
  });

  it('keeps a stored secret when its box is left empty, replaces it when typed, and drops it when removed; never sends the marker for a secret never stored', () => {
    expect(deploymentFrom(wifiForm(), STORED_WIFI, true, WIFI)).toEqual({
      id: 'deploy-wifi',
      itemKind: 'Task',
      taskId: 'wifi',
      mode: 'Audit',
      target: { kind: 'Tenant', tenantId: 'acme', includeChildTenants: false },
      // a value for a parameter the task no longer has goes as it was, for the API to name
      parameters: { ssid: 'Office', passphrase: SECRET_MARKER, retired: 'x' },
      enabled: true,
      critical: true,
      orderingHint: 'End',
    });
    expect(deploymentFrom(wifiForm({ 'parameters.passphrase': ' new one ' }), STORED_WIFI, true, WIFI)).toMatchObject({ parameters: { passphrase: ' new one ' } });
    expect(deploymentFrom(wifiForm({ 'parameters.passphrase': 'typed', 'parameters.passphrase.remove': 'on' }), STORED_WIFI, true, WIFI)).not.toHaveProperty('parameters.passphrase');
    expect(deploymentFrom(wifiForm(), { ...STORED_WIFI, parameters: {} }, true, WIFI)).not.toHaveProperty('parameters.passphrase');
  });

  it('types each value by its parameter: numbers and yes/no as such, what does not read as a number as typed (for the API to name), an empty box as not set', () => {
    const values = (overrides: Record<string, string>) => {
      const deployment = deploymentFrom(wifiForm(overrides), STORED_WIFI, true, WIFI);
      return deployment.itemKind === 'Task' ? deployment.parameters : undefined;
    };
    expect(values({ 'parameters.channel': '11', 'parameters.hidden': 'false' })).toMatchObject({ channel: 11, hidden: false });
    expect(values({ 'parameters.channel': 'eleven' })).toMatchObject({ channel: 'eleven' });
    expect(values({ 'parameters.channel': '', 'parameters.hidden': '' })).not.toHaveProperty('channel');
  });

  it('keeps the stored values while the task is not read, and starts another task from none', () => {
    expect(deploymentFrom(wifiForm(), STORED_WIFI, true, undefined)).toMatchObject({ parameters: { ssid: 'Office', passphrase: SECRET_MARKER, retired: 'x' } });
    expect(deploymentFrom(wifiForm({ taskId: 'printer' }), STORED_WIFI, true, undefined)).toMatchObject({ taskId: 'printer', parameters: {} });
  });

  it('sends a version only with a desired state that takes one, device classes in the API’s order or not at all, and the id typed only when creating', () => {
    const software = (overrides: Record<string, string | readonly string[]>, editing = false) =>
      deploymentFrom(form({ id: ' new-id ', itemKind: 'Software', softwareId: 'chrome', desiredState: 'LatestVersion', version: '1.2', 'target.kind': 'Tag', 'target.tag': 'kiosk', 'target.tenantId': '', ...overrides }), { ...NEW_DEPLOYMENT, id: 'stored-id' }, editing, undefined);
    expect(software({})).toEqual({ id: 'new-id', itemKind: 'Software', softwareId: 'chrome', desiredState: 'LatestVersion', target: { kind: 'Tag', tag: 'kiosk' }, enabled: false, critical: false, orderingHint: 'Unordered' });
    expect(software({ desiredState: 'ThisVersion', deviceClasses: ['Server', 'Workstation'] })).toMatchObject({ version: '1.2', deviceClasses: ['Workstation', 'Server'] });
    expect(software({ desiredState: 'ThisVersion', version: '' })).not.toHaveProperty('version');
    expect(software({}, true)).toMatchObject({ id: 'stored-id' });
  });

  it('gives a deployment the form starts from that the API accepts once it names its item and id', () => {
    expect(deploymentSchema.safeParse({ ...NEW_DEPLOYMENT, id: 'd', softwareId: 's' }).success).toBe(true);
  });

  it('shows each refusal on the input of its field, a parameter’s on its own input, and a path id on the id', () => {
    const names = deploymentFieldNames(WIFI);
    expect(inputNameFor('body.target.tag', names)).toBe('target.tag');
    expect(inputNameFor('body.parameters.passphrase', names)).toBe('parameters.passphrase');
    expect(inputNameFor('body.parameters.retired', names)).toBe('parameters');
    expect(inputNameFor('body.deviceClasses.0', names)).toBe('deviceClasses');
    expect(inputNameFor('path.deploymentId', names)).toBe('id');
    expect(inputNameFor('body.target', names)).toBe('target.kind');
    expect(inputNameFor('body', names)).toBeUndefined();
    expect(inputNameFor('query.limit', names)).toBeUndefined();
  });
});

describe('the software form', () => {
  const typed = { name: ' Chrome ', platform: 'linux', latestVersion: '124.0', versions: '123.0, 124.0', 'detection.method': 'PackageName', 'detection.value': 'google-chrome', installScript: '  apt-get install -y chrome  \n\n', uninstallScript: 'apt-get remove chrome', upgradeScript: '', testScript: '   ', dependencies: 'libfoo Installed\n\nold-chrome absent\n' };

  it('sends each script as typed but for trailing blank space, leaves out empty optional scripts, and reads one dependency per line', () => {
    const stored: Software = { ...NEW_SOFTWARE, id: 'chrome' };
    expect(softwareFrom(form(typed), stored, true)).toEqual({
      id: 'chrome',
      name: 'Chrome',
      platform: 'linux',
      detection: { method: 'PackageName', value: 'google-chrome' },
      installScript: '  apt-get install -y chrome',
      uninstallScript: 'apt-get remove chrome',
      versions: ['123.0', '124.0'],
      latestVersion: '124.0',
      dependencies: [
        { softwareId: 'libfoo', requires: 'Installed' },
        { softwareId: 'old-chrome', requires: 'Absent' },
      ],
    });
    expect(softwareSchema.safeParse(softwareFrom(form(typed), stored, true)).success).toBe(true);
    expect(dependenciesFrom('a\nb, absent')).toEqual([{ softwareId: 'a', requires: 'Installed' }, { softwareId: 'b', requires: 'Absent' }]);
  });

  it('has an input for every field of a software item the API accepts', () => {
    for (const key of Object.keys(softwareSchema.shape)) expect(SOFTWARE_FIELDS.some((name) => name === key || name.startsWith(`${key}.`)), key).toBe(true);
  });
});

describe('the task form', () => {
  it('reads the parameters’ JSON as written, and refuses JSON that does not parse on the parameters field, before any request', () => {
    const typed = { id: 'wifi', name: 'Wi-Fi', platform: 'windows', 'scripts.style': 'Separate', 'scripts.test': 'exit 1', 'scripts.set': 'exit 0', 'scripts.get': '' };
    expect(taskFrom(form({ ...typed, parameters: '[{"name":"ssid","type":"string"}]' }), NEW_TASK, false)).toEqual({
      task: { id: 'wifi', name: 'Wi-Fi', platform: 'windows', scripts: { style: 'Separate', test: 'exit 1', set: 'exit 0' }, parameters: [{ name: 'ssid', type: 'string' }] },
    });
    expect(taskFrom(form({ ...typed, parameters: '[{"name":' }), NEW_TASK, false)).toMatchObject({ problem: { field: 'body.parameters', problem: expect.stringMatching(/^is not valid JSON/) as unknown } });
    expect(inputNameFor('body.parameters.0.default', TASK_FIELDS)).toBe('parameters');
    expect(inputNameFor('body.scripts.test', TASK_FIELDS)).toBe('scripts.test');
  });

  it('has an input for every field of a task the API accepts', () => {
    for (const key of Object.keys(maintenanceTaskSchema.shape)) expect(TASK_FIELDS.some((name) => name === key || name.startsWith(`${key}.`)), key).toBe(true);
  });
});

describe('what a form sends', () => {
  it('never sends the revision it read as a field of the entity: the change names it apart, as expectedRevision', () => {
    const software: StoredSoftware = { ...NEW_SOFTWARE, id: 'editor', name: 'Editor', latestVersion: '1.0', revision: 3 };
    expect(softwareFrom(form({ name: 'Editor', latestVersion: '1.1' }), software, true)).not.toHaveProperty('revision');
    const stored: StoredTask = { ...NEW_TASK, id: 'tidy', revision: 2 };
    const task = taskFrom(form({ name: 'Tidy', 'scripts.style': 'Combined', 'scripts.script': 'true', parameters: '[]' }), stored, true);
    expect('task' in task ? task.task : task).not.toHaveProperty('revision');
    const deployment: StoredDeployment = { ...NEW_DEPLOYMENT, id: 'd', revision: 4 };
    expect(deploymentFrom(form({ itemKind: 'Software', softwareId: 'editor', 'target.kind': 'AllTenants' }), deployment, true, undefined)).not.toHaveProperty('revision');
  });
});
