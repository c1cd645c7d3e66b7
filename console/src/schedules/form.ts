import type { ScheduleInput } from './words.js';

/**
 * The schedule form's values to the API's input and back, and the API's
 * field paths (`body.schedule.recurrence.expression`) to the form's inputs,
 * whose `name`s are those same paths inside `body.schedule`.
 */

type Recurrence = ScheduleInput['recurrence'];
type Target = ScheduleInput['target'];
type Ring = ScheduleInput['rollout']['rings'][number];
type Weekday = Extract<Recurrence, { kind: 'Weekly' }>['days'][number];
type DeviceClass = ScheduleInput['deviceClasses'][number];
type Reboot = ScheduleInput['reboot'];
type Email = ScheduleInput['email'];

/** The device classes the form offers, in its order; each is a checkbox named `deviceClasses.<class>`. */
export const DEVICE_CLASSES: readonly DeviceClass[] = ['Workstation', 'Portable', 'Server', 'DomainController'];
export const REBOOT_PREFERENCES: readonly Reboot['preference'][] = ['Normal', 'Suppress', 'Force', 'Prompt'];
const TIMEOUT_ACTIONS: readonly Reboot['timeoutAction'][] = ['Reboot', 'Suppress'];
/** The end-user email switches, each a checkbox named `email.<switch>`. */
export const EMAIL_SWITCHES = [
  'detectionEmail',
  'detectionEmailWhenCompliant',
  'followUpEmail',
  'followUpOnlyIfActionNeeded',
  'showRunNowButton',
  'showPostponeButton',
  'showCancelButton',
  'showActionList',
] as const satisfies readonly (keyof Email)[];

/** The form's inputs, in the order they are shown (the first at fault takes the focus); each `name` is its API path inside `body.schedule`. */
export const SCHEDULE_FIELDS = [
  'name',
  'enabled',
  'tenantId',
  'target.kind',
  'target.tag',
  'target.computerIds',
  'deviceClasses.Workstation',
  'deviceClasses.Portable',
  'deviceClasses.Server',
  'deviceClasses.DomainController',
  'limitTo',
  'recurrence.kind',
  'recurrence.days',
  'recurrence.expression',
  'detectionTime',
  'maintenanceTime',
  'executeImmediatelyAfterDetection',
  'detectionOnly',
  'timeZone',
  'offline.behaviour',
  'offline.waitHours',
  'useComputerTimeZone',
  'executeAfterActiveHours',
  'flexibleWindowMinutes',
  'reboot.preference',
  'reboot.promptTimeoutMinutes',
  'reboot.timeoutAction',
  'email.detectionEmail',
  'email.detectionEmailWhenCompliant',
  'email.followUpEmail',
  'email.followUpOnlyIfActionNeeded',
  'email.showRunNowButton',
  'email.showPostponeButton',
  'email.showCancelButton',
  'email.showActionList',
  'email.additionalRecipients',
  'postpone.delayMinutes',
  'postpone.maxCount',
  'postpone.maxDelayHours',
  'rollout.rings',
  'rollout.maxConcurrent',
  'rollout.errorBudget',
] as const;

/** What a new schedule starts from: the API's defaults, spelled out (the generated input type names them all). */
export const NEW_SCHEDULE: ScheduleInput = {
  name: '',
  enabled: true,
  includeChildTenants: false,
  target: { kind: 'AllComputers' },
  deviceClasses: [],
  recurrence: { kind: 'Weekly', days: ['TUE'] },
  detectionTime: '14:00',
  maintenanceTime: '22:00',
  executeImmediatelyAfterDetection: false,
  useComputerTimeZone: false,
  executeAfterActiveHours: false,
  offline: { behaviour: 'ApplyOnConnect', waitHours: 24 },
  reboot: { preference: 'Normal', promptTimeoutMinutes: 60, timeoutAction: 'Reboot' },
  email: {
    detectionEmail: true,
    detectionEmailWhenCompliant: false,
    followUpEmail: true,
    followUpOnlyIfActionNeeded: true,
    showRunNowButton: true,
    showPostponeButton: true,
    showCancelButton: true,
    showActionList: true,
    additionalRecipients: [],
  },
  postpone: { delayMinutes: 60, maxCount: 2, maxDelayHours: 24 },
  detectionOnly: false,
  flexibleWindowMinutes: 0,
  rollout: { rings: [] },
};

const list = (text: string): string[] =>
  text
    .split(/[\s,]+/)
    .map((part) => part.trim())
    .filter((part) => part !== '');

const text = (form: FormData, name: string): string => {
  const value = form.get(name);
  return typeof value === 'string' ? value.trim() : '';
};

/** "canary 10" per line, optionally "must pass 95 soak 60": a ring's name, the share it reaches, its threshold and soak. */
export function ringsFrom(value: string): Ring[] {
  return value
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const [name = '', percent = '', threshold, soak] = line.split(/\s+/);
      // numbers the API checks: what does not read as one goes as is, for the API to name
      return { name, percent: Number(percent.replace('%', '')), successThresholdPercent: threshold === undefined ? 95 : Number(threshold.replace('%', '')), soakMinutes: soak === undefined ? 60 : Number(soak) };
    });
}

export const ringsText = (rings: readonly Ring[]): string => rings.map((ring) => `${ring.name} ${ring.percent} ${ring.successThresholdPercent} ${ring.soakMinutes}`).join('\n');

function recurrenceFrom(form: FormData): Recurrence {
  const kind = text(form, 'recurrence.kind');
  const days = list(text(form, 'recurrence.days'));
  switch (kind) {
    case 'Daily':
      return { kind: 'Daily' };
    case 'Monthly':
      return { kind: 'Monthly', days: days.map((day) => (day.toLowerCase() === 'last' ? 'Last' : Number(day))) };
    case 'Cron':
      return { kind: 'Cron', expression: text(form, 'recurrence.expression') };
    default:
      return { kind: 'Weekly', days: days.map((day) => day.toUpperCase() as Weekday) };
  }
}

function targetFrom(form: FormData): Target {
  switch (text(form, 'target.kind')) {
    case 'Tag':
      return { kind: 'Tag', tag: text(form, 'target.tag') };
    case 'Computers':
      return { kind: 'Computers', computerIds: list(text(form, 'target.computerIds')) };
    default:
      return { kind: 'AllComputers' };
  }
}

type Amount = NonNullable<ScheduleInput['rollout']['maxConcurrent']>;

/** "10" is a count, "10%" a share; empty is no limit. What does not read as a number goes as is, for the API to name. */
export function amountFrom(value: string): Amount | undefined {
  if (value === '') return undefined;
  const percent = value.endsWith('%');
  const number = Number(percent ? value.slice(0, -1).trim() : value);
  return { kind: percent ? 'Percent' : 'Count', value: number };
}

export const amountText = (amount: Amount | undefined): string => (amount === undefined ? '' : amount.kind === 'Percent' ? `${amount.value}%` : String(amount.value));

const checked = (form: FormData, name: string): boolean => form.get(name) === 'on';

/** A number input's value; a field the form does not show (absent) keeps `kept`. */
function numberFrom(form: FormData, name: string, kept: number): number {
  if (typeof form.get(name) !== 'string') return kept;
  const value = text(form, name);
  // an emptied field is no number: sent as null (JSON has no NaN), for the API to name
  return value === '' ? Number.NaN : Number(value);
}

/** A select's value among `allowed`; a select the form does not show keeps `kept`. */
const oneOf = <T extends string>(value: string, allowed: readonly T[], kept: T): T => allowed.find((one) => one === value) ?? kept;

/** The ticked classes, in the order `base` has them (an untouched set goes back exactly as stored), new ones after. */
export function deviceClassesFrom(form: FormData, base: readonly DeviceClass[]): DeviceClass[] {
  const ticked = DEVICE_CLASSES.filter((deviceClass) => checked(form, `deviceClasses.${deviceClass}`));
  return [...base.filter((deviceClass) => ticked.includes(deviceClass)), ...ticked.filter((deviceClass) => !base.includes(deviceClass))];
}

function rebootFrom(form: FormData, base: Reboot): Reboot {
  return {
    preference: oneOf(text(form, 'reboot.preference'), REBOOT_PREFERENCES, base.preference),
    promptTimeoutMinutes: numberFrom(form, 'reboot.promptTimeoutMinutes', base.promptTimeoutMinutes),
    timeoutAction: oneOf(text(form, 'reboot.timeoutAction'), TIMEOUT_ACTIONS, base.timeoutAction),
  };
}

function emailFrom(form: FormData, base: Email): Email {
  const switches = Object.fromEntries(EMAIL_SWITCHES.map((name) => [name, checked(form, `email.${name}`)])) as Record<(typeof EMAIL_SWITCHES)[number], boolean>;
  return { ...base, ...switches, additionalRecipients: list(text(form, 'email.additionalRecipients')) };
}

const optional = <K extends string>(key: K, value: string): Partial<Record<K, string>> => (value === '' ? {} : ({ [key]: value } as Record<K, string>));

function rolloutFrom(form: FormData, base: ScheduleInput['rollout']): ScheduleInput['rollout'] {
  const { maxConcurrent: _maxConcurrent, errorBudget: _errorBudget, ...rest } = base;
  const maxConcurrent = amountFrom(text(form, 'rollout.maxConcurrent'));
  const errorBudget = amountFrom(text(form, 'rollout.errorBudget'));
  return { ...rest, rings: ringsFrom(text(form, 'rollout.rings')), ...(maxConcurrent === undefined ? {} : { maxConcurrent }), ...(errorBudget === undefined ? {} : { errorBudget }) };
}

/** The input the form says, over `base` (what it does not show is kept as it was). */
export function inputFrom(form: FormData, base: ScheduleInput): ScheduleInput {
  const recurrence = recurrenceFrom(form);
  const executeImmediatelyAfterDetection = checked(form, 'executeImmediatelyAfterDetection');
  const detectionOnly = checked(form, 'detectionOnly');
  const { tenantId: _tenantId, timeZone: _timeZone, detectionTime: _detectionTime, maintenanceTime: _maintenanceTime, limitTo: _limitTo, ...rest } = base;
  return {
    ...rest,
    name: text(form, 'name'),
    enabled: form.get('enabled') === 'on',
    ...optional('tenantId', text(form, 'tenantId')),
    target: targetFrom(form),
    deviceClasses: deviceClassesFrom(form, base.deviceClasses),
    ...optional('limitTo', text(form, 'limitTo')),
    recurrence,
    // a cron expression carries its own time; a hidden field sends nothing
    ...(recurrence.kind === 'Cron' ? {} : optional('detectionTime', text(form, 'detectionTime'))),
    ...(executeImmediatelyAfterDetection || detectionOnly ? {} : optional('maintenanceTime', text(form, 'maintenanceTime'))),
    executeImmediatelyAfterDetection,
    detectionOnly,
    ...optional('timeZone', text(form, 'timeZone')),
    useComputerTimeZone: checked(form, 'useComputerTimeZone'),
    executeAfterActiveHours: checked(form, 'executeAfterActiveHours'),
    offline: { behaviour: text(form, 'offline.behaviour') === 'Skip' ? 'Skip' : 'ApplyOnConnect', waitHours: numberFrom(form, 'offline.waitHours', base.offline.waitHours) },
    reboot: rebootFrom(form, base.reboot),
    email: emailFrom(form, base.email),
    postpone: {
      ...base.postpone,
      delayMinutes: numberFrom(form, 'postpone.delayMinutes', base.postpone.delayMinutes),
      maxCount: numberFrom(form, 'postpone.maxCount', base.postpone.maxCount),
      maxDelayHours: numberFrom(form, 'postpone.maxDelayHours', base.postpone.maxDelayHours),
    },
    flexibleWindowMinutes: numberFrom(form, 'flexibleWindowMinutes', base.flexibleWindowMinutes),
    rollout: rolloutFrom(form, base.rollout),
  };
}

/** The form's input that shows the problem with `field` (an API path): the input of that path, or the nearest one that holds it. */
export function inputNameFor(field: string | undefined, names: readonly string[]): string | undefined {
  if (field === undefined) return undefined;
  const path = field.replace(/^body\.schedule\.?/, '');
  if (path === '' || path === field) return undefined;
  const holding = names.filter((name) => path === name || path.startsWith(`${name}.`)).sort((a, b) => b.length - a.length)[0];
  return holding ?? names.find((name) => name.startsWith(`${path}.`));
}

export interface FieldProblem {
  readonly field: string;
  readonly problem: string;
}

const FIELD_START = /(?:^|; )((?:body|query|path|header)(?:\.[\w-]+)*): /g;

/**
 * Each field's problem in a `VALIDATION_FAILED` message. The envelope's
 * `field` names the first; the message (`invalid request: body.schedule.x:
 * problem; body.schedule.y: problem`) names them all, so every one can be
 * shown on its own input at once. A message in another shape is one problem
 * with `field`.
 */
export function fieldProblemsOf(message: string, field: string | undefined): FieldProblem[] {
  const body = message.replace(/^invalid [^:]*: /, '');
  const starts = [...body.matchAll(FIELD_START)];
  if (starts.length === 0) return field === undefined ? [] : [{ field, problem: body }];
  return starts.map((start, index) => {
    const from = start.index + start[0].length;
    const to = starts[index + 1]?.index ?? body.length;
    return { field: start[1] ?? '', problem: body.slice(from, to) };
  });
}
