import { describe, expect, it } from 'vitest';
import { deviceClassesFrom, inputFrom, inputNameFor, NEW_SCHEDULE, SCHEDULE_FIELDS } from '../../console/src/schedules/form.js';
import type { ScheduleInput } from '../../console/src/schedules/words.js';
import { scheduleInputSchema } from '../../functions/core/model/schedule.js';

/**
 * The schedule form's computers, reboot, email, postpone and timing fields:
 * what each sends the API, that a stored schedule comes back unchanged when
 * nothing is edited, and where each of the API's refusals is shown.
 */

const form = (values: Record<string, string | readonly string[]>): FormData => {
  const data = new FormData();
  for (const [name, value] of Object.entries(values)) for (const one of typeof value === 'string' ? [value] : value) data.append(name, one);
  return data;
};

/** A stored schedule with every new field away from its default. */
const STORED: ScheduleInput = {
  ...NEW_SCHEDULE,
  name: 'Servers at night',
  deviceClasses: ['Server', 'DomainController'],
  limitTo: 'software:editor',
  useComputerTimeZone: true,
  executeAfterActiveHours: true,
  reboot: { preference: 'Prompt', promptTimeoutMinutes: 30, timeoutAction: 'Suppress' },
  email: { ...NEW_SCHEDULE.email, detectionEmailWhenCompliant: true, followUpEmail: false, showCancelButton: false, additionalRecipients: ['office@contoso.example', 'it@contoso.example'] },
  postpone: { delayMinutes: 120, maxCount: 0, maxDelayHours: 48 },
  flexibleWindowMinutes: 15,
};

/** What the rendered form of STORED submits untouched: unticked checkboxes are absent, as a browser sends them. */
const STORED_FORM = {
  name: 'Servers at night',
  enabled: 'on',
  tenantId: '',
  'target.kind': 'AllComputers',
  'recurrence.kind': 'Weekly',
  'recurrence.days': 'TUE',
  detectionTime: '14:00',
  maintenanceTime: '22:00',
  'offline.behaviour': 'ApplyOnConnect',
  'offline.waitHours': '24',
  timeZone: '',
  'deviceClasses.Server': 'on',
  'deviceClasses.DomainController': 'on',
  limitTo: 'software:editor',
  useComputerTimeZone: 'on',
  executeAfterActiveHours: 'on',
  flexibleWindowMinutes: '15',
  'reboot.preference': 'Prompt',
  'reboot.promptTimeoutMinutes': '30',
  'reboot.timeoutAction': 'Suppress',
  'email.detectionEmail': 'on',
  'email.detectionEmailWhenCompliant': 'on',
  'email.followUpOnlyIfActionNeeded': 'on',
  'email.showRunNowButton': 'on',
  'email.showPostponeButton': 'on',
  'email.showActionList': 'on',
  'email.additionalRecipients': 'office@contoso.example, it@contoso.example',
  'postpone.delayMinutes': '120',
  'postpone.maxCount': '0',
  'postpone.maxDelayHours': '48',
  'rollout.rings': '',
  'rollout.maxConcurrent': '',
  'rollout.errorBudget': '',
};

describe('the schedule form', () => {
  it('sends a stored schedule back unchanged when nothing is edited, and the API accepts it', () => {
    const input = inputFrom(form(STORED_FORM), STORED);
    expect(input).toEqual(STORED);
    expect(scheduleInputSchema.parse(input)).toEqual(STORED);
  });

  it('keeps the reboot prompt’s timeout and action as stored while their fields are hidden (another preference chosen, then back)', () => {
    const { 'reboot.promptTimeoutMinutes': _timeout, 'reboot.timeoutAction': _action, ...values } = STORED_FORM;
    expect(inputFrom(form({ ...values, 'reboot.preference': 'Force' }), STORED).reboot).toEqual({ preference: 'Force', promptTimeoutMinutes: 30, timeoutAction: 'Suppress' });
  });

  it('reads the edited fields: no limit, switches off, recipients, numbers', () => {
    const input = inputFrom(
      form({ ...STORED_FORM, limitTo: '', 'email.detectionEmail': [], 'email.additionalRecipients': 'a@b.example\nc@d.example', 'postpone.maxCount': '3', flexibleWindowMinutes: '0', 'offline.waitHours': '8' }),
      STORED,
    );
    expect(input.limitTo).toBeUndefined();
    expect('limitTo' in input).toBe(false);
    expect(input.email).toMatchObject({ detectionEmail: false, additionalRecipients: ['a@b.example', 'c@d.example'] });
    expect(input.postpone.maxCount).toBe(3);
    expect(input.flexibleWindowMinutes).toBe(0);
    expect(input.offline).toEqual({ behaviour: 'ApplyOnConnect', waitHours: 8 });
  });

  it('sends an emptied or unreadable number for the API to name, never a silent 0 or the stored value', () => {
    const input = inputFrom(form({ ...STORED_FORM, 'postpone.delayMinutes': '', 'postpone.maxDelayHours': 'soon' }), STORED);
    expect(JSON.parse(JSON.stringify(input.postpone))).toEqual({ delayMinutes: null, maxCount: 0, maxDelayHours: null });
    const refused = scheduleInputSchema.safeParse(input);
    expect(refused.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['postpone.delayMinutes', 'postpone.maxDelayHours']);
  });

  it('keeps the stored order of the device classes still ticked, and adds new ones after them', () => {
    const ticked = (...classes: string[]) => form(Object.fromEntries(classes.map((deviceClass) => [`deviceClasses.${deviceClass}`, 'on'])));
    expect(deviceClassesFrom(ticked('Server', 'Workstation'), ['Server', 'Workstation'])).toEqual(['Server', 'Workstation']);
    expect(deviceClassesFrom(ticked('Server', 'Workstation', 'Portable'), ['Server'])).toEqual(['Server', 'Workstation', 'Portable']);
    expect(deviceClassesFrom(ticked(), ['Server'])).toEqual([]);
  });

  it('shows each refusal of a new field on its input', () => {
    expect(inputNameFor('body.schedule.postpone.delayMinutes', SCHEDULE_FIELDS)).toBe('postpone.delayMinutes');
    expect(inputNameFor('body.schedule.reboot.promptTimeoutMinutes', SCHEDULE_FIELDS)).toBe('reboot.promptTimeoutMinutes');
    expect(inputNameFor('body.schedule.email.additionalRecipients.1', SCHEDULE_FIELDS)).toBe('email.additionalRecipients');
    expect(inputNameFor('body.schedule.flexibleWindowMinutes', SCHEDULE_FIELDS)).toBe('flexibleWindowMinutes');
    expect(inputNameFor('body.schedule.limitTo', SCHEDULE_FIELDS)).toBe('limitTo');
    // the class list as a whole, or one of its entries: the first checkbox
    expect(inputNameFor('body.schedule.deviceClasses', SCHEDULE_FIELDS)).toBe('deviceClasses.Workstation');
  });
});
