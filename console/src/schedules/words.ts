import type { Schemas } from '../api/types.js';

/** Schedules in words, as an operator would say them ("every Tuesday and Thursday at 14:00"). */

export type Schedule = Schemas['Schedule'];
export type ScheduleInput = Schemas['ScheduleInput'];

const DAY_WORDS: Readonly<Record<string, string>> = { MON: 'Monday', TUE: 'Tuesday', WED: 'Wednesday', THU: 'Thursday', FRI: 'Friday', SAT: 'Saturday', SUN: 'Sunday' };

const and = (parts: readonly string[]): string => new Intl.ListFormat('en', { type: 'conjunction' }).format(parts);
const ORDINAL_SUFFIXES: Partial<Record<Intl.LDMLPluralRule, string>> = { one: 'st', two: 'nd', few: 'rd' };
const ordinal = (day: number): string => {
  const rule = new Intl.PluralRules('en', { type: 'ordinal' }).select(day);
  return `${day}${ORDINAL_SUFFIXES[rule] ?? 'th'}`;
};

export function recurrenceWords(schedule: Pick<Schedule, 'recurrence' | 'detectionTime'>): string {
  const at = schedule.detectionTime === undefined ? '' : ` at ${schedule.detectionTime}`;
  const recurrence = schedule.recurrence;
  switch (recurrence.kind) {
    case 'Daily':
      return `Every day${at}`;
    case 'Weekly':
      return `Every ${and(recurrence.days.map((day) => DAY_WORDS[day] ?? day))}${at}`;
    case 'Monthly':
      return `Monthly on the ${and(recurrence.days.map((day) => (day === 'Last' ? 'last day' : ordinal(day))))}${at}`;
    case 'Cron':
      return `Cron ${recurrence.expression}`;
  }
}

export function targetWords(target: Schedule['target']): string {
  switch (target.kind) {
    case 'AllComputers':
      return 'All computers';
    case 'Tag':
      return `Computers tagged ${target.tag}`;
    case 'Computers':
      return `${target.computerIds.length} named computer(s)`;
  }
}

export function executionWords(schedule: Pick<Schedule, 'detectionOnly' | 'executeImmediatelyAfterDetection' | 'maintenanceTime' | 'useComputerTimeZone'>): string {
  if (schedule.detectionOnly) return 'Detection only';
  if (schedule.executeImmediatelyAfterDetection) return 'Right after detection';
  if (schedule.maintenanceTime === undefined) return '—';
  return schedule.useComputerTimeZone ? `${schedule.maintenanceTime} in each computer's zone` : schedule.maintenanceTime;
}

type DeviceClass = ScheduleInput['deviceClasses'][number];
type Reboot = ScheduleInput['reboot'];

export const DEVICE_CLASS_WORDS: Readonly<Record<DeviceClass, string>> = { Workstation: 'Workstations', Portable: 'Portables', Server: 'Servers', DomainController: 'Domain controllers' };

export const REBOOT_WORDS: Readonly<Record<Reboot['preference'], string>> = {
  Normal: 'When an action needs one',
  Suppress: 'Never',
  Force: 'Always, after maintenance',
  Prompt: 'Ask the user first',
};

export const deviceClassesWords = (deviceClasses: readonly DeviceClass[]): string => (deviceClasses.length === 0 ? 'Every class' : and(deviceClasses.map((deviceClass) => DEVICE_CLASS_WORDS[deviceClass])));

export function rebootWords(reboot: Reboot): string {
  if (reboot.preference !== 'Prompt') return REBOOT_WORDS[reboot.preference];
  return `Ask the user first; after ${reboot.promptTimeoutMinutes} min without an answer, ${reboot.timeoutAction === 'Reboot' ? 'reboot' : 'do not reboot'}`;
}

export const postponeWords = (postpone: ScheduleInput['postpone']): string =>
  postpone.maxCount === 0 ? 'Not allowed' : `Up to ${postpone.maxCount} time(s), ${postpone.delayMinutes} min each, at most ${postpone.maxDelayHours} h past the window`;

/** What an edit sends back: the stored schedule without its identity and bookkeeping. */
export function inputOf(schedule: Schedule): ScheduleInput {
  const { id: _id, version: _version, createdAt: _createdAt, createdBy: _createdBy, updatedAt: _updatedAt, updatedBy: _updatedBy, ...input } = schedule;
  return input;
}
