import { describe, expect, it } from 'vitest';
import { NIGHTSHIFT_BRANDING, type ResolvedBranding } from '../../functions/core/model/branding.js';
import { newStages, notifyOptionsSchema, sessionOptionsSchema, type Action, type Session } from '../../functions/core/model/session.js';
import {
  EMAIL_KINDS,
  actionOutcome,
  actionTitle,
  changesComputer,
  confirmationEmail,
  detectionEmail,
  emailDecision,
  followUpEmail,
  formatInstant,
  recipientsOf,
  type EmailContext,
} from '../../functions/core/notifications/emails.js';
import { actionRecord, sessionRecord } from '../support/domain.js';

const NOW = '2026-11-23T18:00:00.000Z';
const WINDOW = '2026-11-23T22:00:00.000Z';
const BRANDING: ResolvedBranding = { ...NIGHTSHIFT_BRANDING, companyName: 'Contoso IT', locale: 'en-GB', dateStyle: 'medium', timeStyle: 'short' };
const WHEN = '23 Nov 2026, 22:00 (UTC)';
const LINKS = { RunNow: 'https://x.example/l/run', Postpone: 'https://x.example/l/postpone', Cancel: 'https://x.example/l/cancel' };

type Notify = NonNullable<Session['options']['notify']>;
const optionsWith = (notify: Partial<Notify> | undefined, rest: Record<string, unknown> = {}): Session['options'] =>
  sessionOptionsSchema.parse({ executeAt: WINDOW, ...(notify ? { notify: { ...notifyOptionsSchema.parse({}), ...notify } } : {}), ...rest });
const session = (overrides: Partial<Session> = {}): Session =>
  sessionRecord('s', { computerName: 'PC-7', executeAt: WINDOW, options: optionsWith({}), ...overrides });
const install = actionRecord('s', '001', { itemName: 'Firefox', toVersion: '145.0' });
const update = actionRecord('s', '002', { type: 'Update', itemName: 'Zoom', fromVersion: '6.0', toVersion: '6.2' });
const audit = actionRecord('s', '003', { type: 'TaskAudit', itemName: 'Firewall on' });
const reboot = actionRecord('s', '004', { type: 'Reboot', itemName: 'reboot' });
const context = (overrides: Partial<EmailContext> = {}): EmailContext => ({
  session: session(),
  actions: [install, audit],
  branding: BRANDING,
  recipientName: 'Ana  Maria Pereira',
  timeZone: 'UTC',
  links: LINKS,
  now: NOW,
  ...overrides,
});

describe('email rules: which email goes out', () => {
  it('counts installs, updates, downgrades, removals, repairs, enforced settings and restarts as changes; checks are not', () => {
    const changing = (['Install', 'Update', 'Downgrade', 'Uninstall', 'Reinstall', 'TaskEnforce', 'Reboot', 'TaskAudit', 'TaskMonitor'] as const).filter((type) =>
      changesComputer({ type }),
    );
    expect(changing).toEqual(['Install', 'Update', 'Downgrade', 'Uninstall', 'Reinstall', 'TaskEnforce', 'Reboot']);
  });

  it('sends no detection email the schedule did not ask for', () => {
    expect(emailDecision('Detection', session({ options: optionsWith({ detectionEmail: false }) }), [install])).toEqual({ send: false, reason: 'NotRequested' });
  });

  it('sends a postponed or cancelled confirmation only to someone the detection email was for', () => {
    for (const kind of ['Postponed', 'Cancelled'] as const) {
      expect(emailDecision(kind, session(), [install])).toEqual({ send: true });
      expect(emailDecision(kind, session({ options: optionsWith({ detectionEmail: false }) }), [install])).toEqual({ send: false, reason: 'NotRequested' });
      expect(emailDecision(kind, session({ options: optionsWith(undefined) }), [install])).toEqual({ send: false, reason: 'NotRequested' });
    }
    expect(EMAIL_KINDS).toEqual(['Detection', 'FollowUp', 'Postponed', 'Cancelled']);
  });

  it('sends a follow-up for a failed session even when nothing changed, if the schedule does not limit it to changes', () => {
    const always = session({ status: 'Failed', options: optionsWith({ followUpOnlyIfActionNeeded: false }) });
    expect(emailDecision('FollowUp', always, [])).toEqual({ send: true });
    expect(emailDecision('FollowUp', session({ status: 'Passed' }), [update])).toEqual({ send: true });
  });

  it('addresses the primary user (in lower case) and the additional people, each once', () => {
    const notify = notifyOptionsSchema.parse({ additionalRecipients: ['office@example.com', 'ana@example.com'] });
    expect(recipientsOf('Ana@Example.com', notify)).toEqual(['ana@example.com', 'office@example.com']);
    expect(recipientsOf(undefined, notify)).toEqual(['office@example.com', 'ana@example.com']);
    expect(recipientsOf('', undefined)).toEqual([]);
    expect(recipientsOf('ana@example.com', undefined)).toEqual(['ana@example.com']);
  });
});

describe('email rules: words', () => {
  it('formats a moment in the branding style and the recipient zone, naming the zone', () => {
    expect(formatInstant(WINDOW, BRANDING, 'UTC')).toBe(WHEN);
    expect(formatInstant(WINDOW, BRANDING, 'Asia/Tokyo')).toMatch(/^24 Nov 2026, 07:00 \(.+\)$/);
  });

  it('titles each action in plain words, with the versions it knows', () => {
    const title = (overrides: Partial<Action>): string => actionTitle({ ...install, fromVersion: undefined, toVersion: undefined, ...overrides });
    expect(title({ type: 'Install', toVersion: '145.0' })).toBe('Install Firefox 145.0');
    expect(title({ type: 'Install' })).toBe('Install Firefox');
    expect(title({ type: 'Update', fromVersion: '6.0', toVersion: '6.2' })).toBe('Update Firefox from 6.0 to 6.2');
    expect(title({ type: 'Update' })).toBe('Update Firefox');
    expect(title({ type: 'Downgrade', toVersion: '1.2' })).toBe('Change Firefox to version 1.2');
    expect(title({ type: 'Downgrade' })).toBe('Change Firefox to version required');
    expect(title({ type: 'Uninstall' })).toBe('Remove Firefox');
    expect(title({ type: 'Reinstall', toVersion: '3' })).toBe('Repair Firefox (reinstall 3)');
    expect(title({ type: 'Reinstall' })).toBe('Repair Firefox (reinstall)');
    expect(title({ type: 'TaskEnforce' })).toBe('Apply the setting "Firefox"');
    expect(title({ type: 'TaskAudit' })).toBe('Check "Firefox"');
    expect(title({ type: 'TaskMonitor' })).toBe('Check "Firefox"');
    expect(title({ type: 'Reboot' })).toBe('Restart the computer');
  });

  it('says how an action went, keeping failure details with the IT team', () => {
    expect(actionOutcome({ status: 'Cancelled', result: 'Pending' })).toEqual({ outcome: 'Cancelled', outcomeText: 'Not done: the maintenance was cancelled' });
    expect(actionOutcome({ status: 'Complete', result: 'Cancelled' })).toEqual({ outcome: 'Cancelled', outcomeText: 'Not done: the maintenance was cancelled' });
    expect(actionOutcome({ status: 'Skipped', result: 'Pending' })).toEqual({ outcome: 'Skipped', outcomeText: 'Not done this time: something it needs did not work' });
    expect(actionOutcome({ status: 'Complete', result: 'Success' })).toEqual({ outcome: 'Done', outcomeText: 'Done' });
    expect(actionOutcome({ status: 'Complete', result: 'Failed' })).toEqual({ outcome: 'Failed', outcomeText: 'Did not work; your IT team has the details and will follow up' });
    expect(actionOutcome({ status: 'Complete', result: 'Indeterminable' })).toEqual({ outcome: 'Unknown', outcomeText: 'Could not be confirmed; your IT team will check' });
  });
});

describe('email rules: the detection email', () => {
  it('plans the maintenance for its window while it is ahead: words, buttons in order, the postpones left, the changes only', () => {
    const view = detectionEmail(context({ session: session({ postponements: [{ at: NOW, by: { kind: 'EndUser', name: 'Ana' }, from: NOW, to: WINDOW }] }) }));
    expect(view).toEqual({
      kind: 'Detection',
      branding: BRANDING,
      subject: `Maintenance on PC-7: 1 change(s) on ${WHEN}`,
      preheader: `Maintenance is planned for PC-7 on ${WHEN}. Please leave the computer on; save your work before then.`,
      greeting: 'Hello Ana,',
      headline: 'Planned maintenance',
      paragraphs: [
        `Maintenance is planned for PC-7 on ${WHEN}. Please leave the computer on; save your work before then.`,
        'If the time does not suit you, you can postpone it by 60 minutes (1 time(s) left).',
      ],
      computerName: 'PC-7',
      footer: 'This message was sent by Contoso IT because this computer is maintained by them.',
      windowOpensAt: WHEN,
      actions: [{ title: 'Install Firefox 145.0' }],
      buttons: [
        { purpose: 'RunNow', label: 'Run it now', url: LINKS.RunNow },
        { purpose: 'Postpone', label: 'Postpone', url: LINKS.Postpone },
        { purpose: 'Cancel', label: 'Cancel', url: LINKS.Cancel },
      ],
    });
  });

  it('offers no postpone once the postpones are used up, and no button the schedule hides or no link was made for', () => {
    const used = { at: NOW, by: { kind: 'EndUser', name: 'Ana' }, from: NOW, to: WINDOW } as const;
    const spent = detectionEmail(context({ session: session({ postponements: [used, used] }) }));
    expect(spent.buttons.map((b) => b.purpose)).toEqual(['RunNow', 'Cancel']);
    expect(spent.paragraphs).toHaveLength(1);
    const hidden = detectionEmail(context({ session: session({ options: optionsWith({ showRunNowButton: false, showCancelButton: false }) }) }));
    expect(hidden.buttons.map((b) => b.purpose)).toEqual(['Postpone']);
    const noPostponeButton = detectionEmail(context({ session: session({ options: optionsWith({ showPostponeButton: false }) }) }));
    expect(noPostponeButton.buttons.map((b) => b.purpose)).toEqual(['RunNow', 'Cancel']);
    expect(noPostponeButton.paragraphs).toHaveLength(1);
    expect(detectionEmail(context({ links: { Cancel: LINKS.Cancel } })).buttons.map((b) => b.purpose)).toEqual(['Cancel']);
  });

  it('says the maintenance starts now, with no buttons and no window, once its window has come', () => {
    const view = detectionEmail(context({ now: WINDOW }));
    expect(view.paragraphs).toEqual(['Maintenance is starting now on PC-7. You can keep working; save your work in case a restart is needed.']);
    expect(view.subject).toBe('Maintenance on PC-7: 1 change(s)');
    expect(view.buttons).toEqual([]);
    expect(view).not.toHaveProperty('windowOpensAt');
    const atOnce = detectionEmail(context({ session: session({ executeAt: undefined }) }));
    expect(atOnce.paragraphs[0]).toMatch(/^Maintenance is starting now/);
    expect(atOnce.buttons).toEqual([]);
  });

  it('tells a detection-only check what is due, planning nothing and offering nothing', () => {
    const view = detectionEmail(context({ session: session({ options: optionsWith({}, { mode: 'DetectionOnly' }) }) }));
    expect(view.paragraphs).toEqual(['We checked PC-7. 1 change(s) are due; nothing will be done in this check, your IT team will plan them.']);
    expect(view.subject).toBe('Maintenance on PC-7: 1 change(s)');
    expect(view.buttons).toEqual([]);
    expect(view).not.toHaveProperty('windowOpensAt');
  });

  it('says an up-to-date computer is up to date, with no buttons', () => {
    const view = detectionEmail(context({ actions: [audit] }));
    expect(view).toMatchObject({
      subject: 'PC-7 is up to date',
      headline: 'Your computer is up to date',
      paragraphs: ['We checked PC-7 and everything is up to date. Nothing will change.'],
      actions: [],
      buttons: [],
    });
  });

  it('warns of a restart when one is planned or forced, greets an unnamed reader, names the support address, and hides the list when asked', () => {
    expect(detectionEmail(context({ actions: [install, reboot] })).rebootNotice).toBe('The computer will restart during the maintenance. Save your work before it starts.');
    expect(detectionEmail(context({ session: session({ options: optionsWith({}, { reboot: 'Force' }) }) })).rebootNotice).toMatch(/will restart/);
    expect(detectionEmail(context())).not.toHaveProperty('rebootNotice');
    expect(detectionEmail(context({ recipientName: undefined })).greeting).toBe('Hello there,');
    expect(detectionEmail(context({ branding: { ...BRANDING, supportEmail: 'help@contoso.example' } })).footer).toBe(
      'This message was sent by Contoso IT because this computer is maintained by them. Questions? Write to help@contoso.example.',
    );
    expect(detectionEmail(context({ session: session({ options: optionsWith({ showActionList: false }) }) })).actions).toEqual([]);
  });
});

describe('email rules: the follow-up email', () => {
  const done = (action: Action, result: Action['result']): Action => ({ ...action, status: 'Complete', result });

  it('reports every change done', () => {
    const view = followUpEmail(context({ session: session({ status: 'Passed' }), actions: [done(install, 'Success'), done(update, 'Success'), audit] }));
    expect(view).toMatchObject({
      kind: 'FollowUp',
      subject: 'Maintenance complete: PC-7',
      headline: 'Maintenance complete',
      paragraphs: ['All 2 change(s) on PC-7 are done.'],
      actions: [
        { title: 'Install Firefox 145.0', outcome: 'Done', outcomeText: 'Done' },
        { title: 'Update Zoom from 6.0 to 6.2', outcome: 'Done', outcomeText: 'Done' },
      ],
      buttons: [],
    });
    expect(view).not.toHaveProperty('rebootNotice');
  });

  it('reports a partial or failed maintenance as such, an unconfirmed change as not done', () => {
    const partly = followUpEmail(context({ actions: [done(install, 'Success'), done(update, 'Indeterminable')] }));
    expect(partly.headline).toBe('Maintenance partly complete');
    expect(partly.paragraphs).toEqual(['1 of 2 change(s) on PC-7 are done. Your IT team has been told about the rest and will follow up; there is nothing you need to do.']);
    expect(followUpEmail(context({ actions: [done(install, 'Failed')] })).headline).toBe('Maintenance did not complete');
  });

  it('says a failed session with nothing planned could not be completed, and a passed one that nothing needed to change', () => {
    const failed = followUpEmail(context({ session: session({ status: 'Failed' }), actions: [] }));
    expect(failed.headline).toBe('Maintenance could not be completed');
    expect(failed.paragraphs[0]).toBe('The maintenance of PC-7 could not be completed. Your IT team has been told and will follow up; there is nothing you need to do.');
    const nothing = followUpEmail(context({ session: session({ status: 'Passed' }), actions: [audit] }));
    expect(nothing.headline).toBe('Maintenance complete');
    expect(nothing.paragraphs).toEqual(['We checked PC-7; nothing needed to change.']);
  });

  it('never tells the user nothing needed to change when part of the check failed (an item could not be read, an audit failed)', () => {
    const partly = followUpEmail(context({ session: session({ status: 'PartialPassed' }), actions: [audit] }));
    expect(partly).toMatchObject({ subject: 'Maintenance checked, with a problem: PC-7', headline: 'Maintenance checked, with a problem' });
    expect(partly.paragraphs).toEqual(['We checked PC-7 and changed nothing, but part of the check could not be finished. Your IT team has been told and will follow up; there is nothing you need to do.']);
    // a change that was made still reads as a change: the status word is only for a follow-up with none
    expect(followUpEmail(context({ session: session({ status: 'PartialPassed' }), actions: [done(install, 'Success'), audit] })).headline).toBe('Maintenance complete');
  });

  it('asks for a restart still pending, and hides the list when asked', () => {
    expect(followUpEmail(context({ session: session({ rebootPending: true }) })).rebootNotice).toBe('Please restart your computer when convenient to finish the maintenance.');
    expect(followUpEmail(context({ session: session({ options: optionsWith({ showActionList: false }) }) })).actions).toEqual([]);
  });
});

describe('email rules: confirmations', () => {
  it('confirms a postpone with the new time, the changes and the buttons while the new time is ahead', () => {
    const view = confirmationEmail('Postponed', context(), 'Ana');
    expect(view).toMatchObject({
      kind: 'Postponed',
      subject: 'Maintenance postponed: PC-7',
      headline: 'Maintenance postponed',
      paragraphs: [`The maintenance of PC-7 was postponed by Ana to ${WHEN}.`],
      windowOpensAt: WHEN,
      actions: [{ title: 'Install Firefox 145.0' }],
    });
    expect(view.buttons.map((b) => b.purpose)).toEqual(['RunNow', 'Postpone', 'Cancel']);
    expect(confirmationEmail('Postponed', context({ now: WINDOW }), 'Ana').buttons).toEqual([]);
    const noTime = confirmationEmail('Postponed', context({ session: session({ executeAt: undefined }) }), 'Ana');
    expect(noTime.paragraphs).toEqual(['The maintenance of PC-7 was postponed by Ana.']);
    expect(noTime).not.toHaveProperty('windowOpensAt');
    expect(noTime.buttons).toEqual([]);
    expect(confirmationEmail('Postponed', context({ session: session({ options: optionsWith({ showActionList: false }) }) }), 'Ana').actions).toEqual([]);
  });

  it('confirms a cancel before the maintenance started as nothing changing, and one while it ran as the rest not done; no list, no buttons, no time', () => {
    const before = confirmationEmail('Cancelled', context(), 'the IT team');
    expect(before).toMatchObject({
      kind: 'Cancelled',
      subject: 'Maintenance cancelled: PC-7',
      headline: 'Maintenance cancelled',
      paragraphs: ['The maintenance of PC-7 was cancelled by the IT team. Nothing will change on the computer this time.'],
      actions: [],
      buttons: [],
    });
    expect(before).not.toHaveProperty('windowOpensAt');
    const stages = { ...newStages(), Execution: { ...newStages().Execution, status: 'Running' as const } };
    expect(confirmationEmail('Cancelled', context({ session: session({ stages }) }), 'Ana').paragraphs).toEqual([
      'The maintenance of PC-7 was stopped by Ana while it ran. What was already done stays; the rest will not be done this time.',
    ]);
  });
});
