import {
  DEVICE_CLASSES,
  DESIRED_STATES,
  needsVersion,
  ORDERING_HINTS,
  SECRET_MARKER,
  TASK_MODES,
  type Deployment,
  type DeploymentTarget,
  type MaintenanceTask,
  type Software,
  type TaskParameter,
} from './words.js';

/**
 * The catalog forms' values to the API's entities and back, and the API's
 * field paths (`body.target.tag`, `path.deploymentId`) to the forms' inputs,
 * whose `name`s are those same paths inside the body. What does not read as
 * the type the API wants goes as typed, for the API to name: the API is the
 * one judge of what is valid. Pure: the console's tests run it in Node.
 */

export interface FieldProblem {
  readonly field: string;
  readonly problem: string;
}

const text = (form: FormData, name: string): string => {
  const value = form.get(name);
  return typeof value === 'string' ? value.trim() : '';
};

/** A script as typed: only trailing blank space goes (a script's own leading spaces may matter). */
const script = (form: FormData, name: string): string => {
  const value = form.get(name);
  return typeof value === 'string' ? value.replace(/\s+$/, '') : '';
};

const checked = (form: FormData, name: string): boolean => form.get(name) === 'on';

const optional = <K extends string, V>(key: K, value: V | undefined | ''): Partial<Record<K, V>> => (value === undefined || value === '' ? {} : ({ [key]: value } as Record<K, V>));

const oneOf = <T extends string>(values: readonly T[], value: string, fallback: T): T => (values as readonly string[]).includes(value) ? (value as T) : fallback;

const list = (value: string): string[] =>
  value
    .split(/[\s,]+/)
    .map((part) => part.trim())
    .filter((part) => part !== '');

// ---- the API's answers, placed on inputs

/**
 * The form's input that shows the problem with `field` (an API path): the
 * input of that path, or the nearest one that holds it. The path's id
 * (`path.softwareId`) is the form's id input.
 */
export function inputNameFor(field: string | undefined, names: readonly string[]): string | undefined {
  if (field === undefined) return undefined;
  if (/^path\.\w+Id$/.test(field)) return names.includes('id') ? 'id' : undefined;
  const path = field.replace(/^body\.?/, '');
  if (path === '' || path === field) return undefined;
  const holding = names.filter((name) => path === name || path.startsWith(`${name}.`)).sort((a, b) => b.length - a.length)[0];
  return holding ?? names.find((name) => name.startsWith(`${path}.`));
}

// ---- software

export const SOFTWARE_FIELDS = [
  'id',
  'name',
  'platform',
  'latestVersion',
  'versions',
  'detection.method',
  'detection.match',
  'detection.value',
  'detection.script',
  'installScript',
  'uninstallScript',
  'upgradeScript',
  'testScript',
  'dependencies',
] as const;

export const NEW_SOFTWARE: Software = {
  id: '',
  name: '',
  platform: 'windows',
  detection: { method: 'DisplayName', match: 'Contains', value: '' },
  installScript: '',
  uninstallScript: '',
  versions: [],
  latestVersion: '',
  dependencies: [],
};

/** One dependency per line: the software's id, then `Installed` (a prerequisite) or `Absent` (must be removed first). */
export const dependenciesText = (dependencies: Software['dependencies']): string => dependencies.map((d) => `${d.softwareId} ${d.requires}`).join('\n');

export function dependenciesFrom(value: string): Software['dependencies'] {
  return value
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const [softwareId = '', requires = 'Installed'] = line.split(/[\s,]+/);
      // anything but "absent" is a prerequisite, the usual case; the API checks the id
      return { softwareId, requires: requires.toLowerCase() === 'absent' ? 'Absent' : 'Installed' };
    });
}

function detectionFrom(form: FormData): Software['detection'] {
  switch (text(form, 'detection.method')) {
    case 'PackageName':
      return { method: 'PackageName', value: text(form, 'detection.value') };
    case 'Script':
      return { method: 'Script', script: script(form, 'detection.script') };
    default:
      return { method: 'DisplayName', match: text(form, 'detection.match') === 'Regex' ? 'Regex' : 'Contains', value: text(form, 'detection.value') };
  }
}

/** The software the form says; its id is the stored one's when editing. */
export function softwareFrom(form: FormData, base: Software, editing: boolean): Software {
  return {
    id: editing ? base.id : text(form, 'id'),
    name: text(form, 'name'),
    platform: text(form, 'platform') === 'linux' ? 'linux' : 'windows',
    detection: detectionFrom(form),
    installScript: script(form, 'installScript'),
    uninstallScript: script(form, 'uninstallScript'),
    ...optional('upgradeScript', script(form, 'upgradeScript')),
    ...optional('testScript', script(form, 'testScript')),
    versions: list(text(form, 'versions')),
    latestVersion: text(form, 'latestVersion'),
    dependencies: dependenciesFrom(text(form, 'dependencies')),
  };
}

// ---- maintenance tasks

export const TASK_FIELDS = ['id', 'name', 'platform', 'scripts.style', 'scripts.script', 'scripts.test', 'scripts.get', 'scripts.set', 'parameters'] as const;

export const NEW_TASK: MaintenanceTask = { id: '', name: '', platform: 'windows', scripts: { style: 'Combined', script: '' }, parameters: [] };

export const parametersText = (parameters: readonly TaskParameter[]): string => (parameters.length === 0 ? '[]' : JSON.stringify(parameters, null, 2));

function scriptsFrom(form: FormData): MaintenanceTask['scripts'] {
  if (text(form, 'scripts.style') === 'Separate') {
    return { style: 'Separate', test: script(form, 'scripts.test'), ...optional('get', script(form, 'scripts.get')), ...optional('set', script(form, 'scripts.set')) };
  }
  return { style: 'Combined', script: script(form, 'scripts.script') };
}

/**
 * The task the form says, or the problem with its parameters' JSON: the one
 * thing the form itself must refuse, since there is no request to send
 * without it. Its shape is the API's to judge.
 */
export function taskFrom(form: FormData, base: MaintenanceTask, editing: boolean): { readonly task: MaintenanceTask } | { readonly problem: FieldProblem } {
  const parametersJson = text(form, 'parameters');
  let parameters: unknown = [];
  if (parametersJson !== '') {
    try {
      parameters = JSON.parse(parametersJson);
    } catch (error) {
      return { problem: { field: 'body.parameters', problem: `is not valid JSON (${error instanceof Error ? error.message : 'unreadable'})` } };
    }
  }
  return {
    task: {
      id: editing ? base.id : text(form, 'id'),
      name: text(form, 'name'),
      platform: text(form, 'platform') === 'linux' ? 'linux' : 'windows',
      scripts: scriptsFrom(form),
      // as written: a list of parameters the API checks one by one, naming the index at fault
      parameters: parameters as TaskParameter[],
    },
  };
}

// ---- deployments

export const DEPLOYMENT_FIELDS = [
  'id',
  'itemKind',
  'softwareId',
  'taskId',
  'desiredState',
  'version',
  'mode',
  'target.kind',
  'target.tenantId',
  'target.includeChildTenants',
  'target.tag',
  'target.computerId',
  'target.email',
  'deviceClasses',
  'enabled',
  'critical',
  'orderingHint',
  'parameters',
] as const;

/** The input of a task parameter's value, and the box that removes a stored secret. */
export const parameterInputName = (name: string): string => `parameters.${name}`;
export const removeSecretInputName = (name: string): string => `parameters.${name}.remove`;

/** Every input the deployment form has: its fixed fields, and one per parameter of the task it deploys. */
export const deploymentFieldNames = (task: MaintenanceTask | undefined): readonly string[] => [...DEPLOYMENT_FIELDS, ...(task?.parameters ?? []).map((parameter) => parameterInputName(parameter.name))];

export const NEW_DEPLOYMENT: Deployment = {
  id: '',
  itemKind: 'Software',
  softwareId: '',
  desiredState: 'LatestVersion',
  target: { kind: 'AllTenants' },
  enabled: true,
  critical: true,
  orderingHint: 'Unordered',
};

function targetFrom(form: FormData): DeploymentTarget {
  const tenantId = text(form, 'target.tenantId');
  switch (text(form, 'target.kind')) {
    case 'Tenant':
      return { kind: 'Tenant', tenantId, includeChildTenants: checked(form, 'target.includeChildTenants') };
    case 'Tag':
      return { kind: 'Tag', tag: text(form, 'target.tag'), ...optional('tenantId', tenantId) };
    case 'Computer':
      return { kind: 'Computer', computerId: text(form, 'target.computerId') };
    case 'Person':
      return { kind: 'Person', email: text(form, 'target.email') };
    default:
      return { kind: 'AllTenants' };
  }
}

type ParameterValue = string | number | boolean;

/** One parameter's value as the form says it, by the parameter's type; undefined: not set (its default applies). */
function parameterFrom(form: FormData, parameter: TaskParameter, stored: ParameterValue | undefined): ParameterValue | undefined {
  const typed = text(form, parameterInputName(parameter.name));
  switch (parameter.type) {
    case 'secret': {
      if (checked(form, removeSecretInputName(parameter.name))) return undefined;
      // a secret is never shown, so an empty box keeps the one stored (the API's marker says "keep it")
      const raw = form.get(parameterInputName(parameter.name));
      if (typeof raw === 'string' && raw !== '') return raw;
      return stored === SECRET_MARKER ? SECRET_MARKER : undefined;
    }
    case 'number': {
      if (typed === '') return undefined;
      const number = Number(typed);
      return Number.isFinite(number) ? number : typed;
    }
    case 'boolean':
      return typed === '' ? undefined : typed === 'true';
    default:
      return typed === '' ? undefined : typed;
  }
}

/**
 * The parameter values the form says. Without the task's definition (not
 * found, or not read yet) the stored values are kept as they were; values
 * of parameters the task no longer has are kept too, for the API to name.
 */
function parametersFrom(form: FormData, task: MaintenanceTask | undefined, stored: Readonly<Record<string, ParameterValue>>): Record<string, ParameterValue> {
  if (task === undefined) return { ...stored };
  const known = new Set(task.parameters.map((parameter) => parameter.name));
  const values: Record<string, ParameterValue> = Object.fromEntries(Object.entries(stored).filter(([name]) => !known.has(name)));
  for (const parameter of task.parameters) {
    const value = parameterFrom(form, parameter, Object.hasOwn(stored, parameter.name) ? stored[parameter.name] : undefined);
    if (value !== undefined) values[parameter.name] = value;
  }
  return values;
}

/**
 * The deployment the form says. `task` is the definition of the task it
 * deploys (for its parameters' types), when it names one that was found.
 */
export function deploymentFrom(form: FormData, base: Deployment, editing: boolean, task: MaintenanceTask | undefined): Deployment {
  const classes = form.getAll('deviceClasses').filter((value): value is string => typeof value === 'string');
  const common = {
    id: editing ? base.id : text(form, 'id'),
    target: targetFrom(form),
    // none ticked is every class: the API's way of saying so is to leave the list out
    ...(classes.length === 0 ? {} : { deviceClasses: DEVICE_CLASSES.filter((deviceClass) => classes.includes(deviceClass)) }),
    enabled: checked(form, 'enabled'),
    critical: checked(form, 'critical'),
    orderingHint: oneOf(ORDERING_HINTS, text(form, 'orderingHint'), 'Unordered'),
  };
  if (text(form, 'itemKind') === 'Task') {
    const taskId = text(form, 'taskId');
    // stored values belong to the task they were set for; another task starts from none
    const stored = base.itemKind === 'Task' && base.taskId === taskId ? base.parameters : {};
    return { ...common, itemKind: 'Task', taskId, mode: oneOf(TASK_MODES, text(form, 'mode'), 'Enforce'), parameters: parametersFrom(form, task, stored) };
  }
  const desiredState = oneOf(DESIRED_STATES, text(form, 'desiredState'), 'LatestVersion');
  // a version is asked for only by the states that name one; a hidden box sends nothing
  return { ...common, itemKind: 'Software', softwareId: text(form, 'softwareId'), desiredState, ...(needsVersion(desiredState) ? optional('version', text(form, 'version')) : {}) };
}
