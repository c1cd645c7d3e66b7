import type { Schemas } from '../api/types.js';

/** The catalog (software, maintenance tasks) and deployments in the words an MSP engineer uses. */

/** An entity as a create or a change sends it; `Stored…` as the API answers it, with its revision. */
export type Software = Schemas['Software'];
export type StoredSoftware = Schemas['StoredSoftware'];
export type MaintenanceTask = Schemas['MaintenanceTask'];
export type StoredTask = Schemas['StoredMaintenanceTask'];
export type TaskParameter = MaintenanceTask['parameters'][number];
export type Deployment = Schemas['Deployment'];
export type StoredDeployment = Schemas['StoredDeployment'];
export type DeploymentTarget = Deployment['target'];
export type TaskDeployment = Extract<Deployment, { itemKind: 'Task' }>;
export type SoftwareDeployment = Extract<Deployment, { itemKind: 'Software' }>;
export type DesiredState = SoftwareDeployment['desiredState'];
export type TaskMode = TaskDeployment['mode'];
export type DeviceClass = NonNullable<Deployment['deviceClasses']>[number];
export type OrderingHint = Deployment['orderingHint'];

/** What the API shows in place of a secret parameter's value (functions/core/catalog/secrets.ts): its value never leaves the secret store. */
export const SECRET_MARKER = '(secret)';

export const DESIRED_STATE_LABELS: Readonly<Record<DesiredState, string>> = {
  LatestVersion: 'Latest version',
  ThisVersion: 'Exactly this version',
  AnyVersion: 'Any version',
  NewerOrEqualVersion: 'This version or newer',
  UpdateIfFound: 'Update if installed',
  NotPresent: 'Not installed (uninstall)',
  Ignored: 'Ignored',
};
export const DESIRED_STATES = Object.keys(DESIRED_STATE_LABELS) as readonly DesiredState[];

/** The desired states that name a version; any other leaves it out. */
export const needsVersion = (state: string): boolean => state === 'ThisVersion' || state === 'NewerOrEqualVersion';

export const TASK_MODE_LABELS: Readonly<Record<TaskMode, string>> = {
  Enforce: 'Enforce (test, then set)',
  Audit: 'Audit (test and report)',
  Monitor: 'Monitor (get and record)',
  Ignore: 'Ignored',
};
export const TASK_MODES = Object.keys(TASK_MODE_LABELS) as readonly TaskMode[];

export const DEVICE_CLASS_WORDS: Readonly<Record<DeviceClass, string>> = {
  Workstation: 'Workstation',
  Portable: 'Laptop',
  Server: 'Server',
  DomainController: 'Domain controller',
};
export const DEVICE_CLASSES = Object.keys(DEVICE_CLASS_WORDS) as readonly DeviceClass[];

export const ORDERING_LABELS: Readonly<Record<OrderingHint, string>> = { Beginning: 'First', Unordered: 'Any order', End: 'Last' };
export const ORDERING_HINTS = Object.keys(ORDERING_LABELS) as readonly OrderingHint[];

export const TARGET_KIND_LABELS: Readonly<Record<DeploymentTarget['kind'], string>> = {
  AllTenants: 'All tenants',
  Tenant: 'One tenant',
  Tag: 'Computers with a tag',
  Computer: 'One computer',
  Person: "One person's computers",
};
export const TARGET_KINDS = Object.keys(TARGET_KIND_LABELS) as readonly DeploymentTarget['kind'][];

export const PLATFORM_WORDS: Readonly<Record<Software['platform'], string>> = { linux: 'Linux', windows: 'Windows' };

export const PARAMETER_TYPE_WORDS: Readonly<Record<TaskParameter['type'], string>> = { string: 'Text', number: 'Number', boolean: 'Yes / no', enum: 'One of a list', secret: 'Secret' };

/** "Latest version", "Exactly this version 1.2.3", "Audit (test and report)". */
export function wantsWords(deployment: Deployment): string {
  if (deployment.itemKind === 'Task') return TASK_MODE_LABELS[deployment.mode];
  const state = DESIRED_STATE_LABELS[deployment.desiredState];
  return deployment.version === undefined ? state : `${state} ${deployment.version}`;
}

/** The target in words; `tenantName` turns a tenant id into its name. A computer target is linked by the caller. */
export function targetWords(target: DeploymentTarget, tenantName: (id: string) => string): string {
  switch (target.kind) {
    case 'AllTenants':
      return 'All tenants';
    case 'Tenant':
      return `Every computer of ${tenantName(target.tenantId)}${target.includeChildTenants ? ' and its child tenants' : ''}`;
    case 'Tag':
      return `Computers tagged ${target.tag} ${target.tenantId === undefined ? 'in every tenant' : `in ${tenantName(target.tenantId)}`}`;
    case 'Computer':
      return `Computer ${target.computerId}`;
    case 'Person':
      return `Computers of ${target.email}`;
  }
}

export function detectionWords(detection: Software['detection']): string {
  switch (detection.method) {
    case 'DisplayName':
      return detection.match === 'Regex' ? `Display name matches /${detection.value}/` : `Display name contains “${detection.value}”`;
    case 'PackageName':
      return `Package ${detection.value}`;
    case 'Script':
      return 'Detection script';
  }
}

export function scriptsWords(scripts: MaintenanceTask['scripts']): string {
  if (scripts.style === 'Combined') return 'One script (told test, get or set)';
  return ['test', ...(scripts.get === undefined ? [] : ['get']), ...(scripts.set === undefined ? [] : ['set'])].join(', ');
}

/** A parameter's rule in words: its pattern, bounds or values. */
export function parameterRuleWords(parameter: TaskParameter): string {
  switch (parameter.type) {
    case 'string':
      return parameter.pattern === undefined ? '' : `matches ${parameter.pattern}`;
    case 'number':
      return [parameter.min === undefined ? undefined : `at least ${parameter.min}`, parameter.max === undefined ? undefined : `at most ${parameter.max}`].filter((part) => part !== undefined).join(', ');
    case 'enum':
      return parameter.values.join(', ');
    default:
      return '';
  }
}

/** A parameter's default as shown; a secret has none. */
export function parameterDefaultWords(parameter: TaskParameter): string {
  if (parameter.type === 'secret' || parameter.default === undefined) return '—';
  return String(parameter.default);
}

/** "12 lines": how big a script is, without showing it. */
export const linesWords = (script: string): string => {
  const lines = script.replace(/\n$/, '').split('\n').length;
  return `${lines} line${lines === 1 ? '' : 's'}`;
};
