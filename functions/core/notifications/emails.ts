import type { ResolvedBranding } from '../model/branding.js';
import type { Action, ActionType, NotifyOptions, Session } from '../model/session.js';
import type { LinkPurpose } from './links.js';
import { LINK_WORDS } from './links.js';

/**
 * What the end user is told, decided here and drawn by `templates/`: which
 * email goes out when, to whom, and every sentence in it. Templates only lay
 * the view out, so the words are tested once and the same in HTML and text.
 */

export const EMAIL_KINDS = ['Detection', 'FollowUp', 'Postponed', 'Cancelled'] as const;
export type EmailKind = (typeof EMAIL_KINDS)[number];

/** How an email kind reads in the session's log: "detection", "follow-up", "postponed", "cancelled". */
export const emailKindWords = (kind: string): string => (kind === 'FollowUp' ? 'follow-up' : kind.toLowerCase());


/** One line of the action list, in words a non-technical reader follows. */
export interface EmailActionLine {
  /** e.g. "Install Mozilla Firefox 145.0.1", "Update Zoom from 6.0.2 to 6.2.0". */
  readonly title: string;
  /** After the maintenance: how it went, in words. */
  readonly outcome?: 'Done' | 'Failed' | 'Skipped' | 'Cancelled' | 'Unknown';
  readonly outcomeText?: string;
}

export interface EmailButton {
  readonly purpose: LinkPurpose;
  readonly label: string;
  readonly url: string;
}

/** Everything a template draws; every text already in its final words. */
export interface EmailView {
  readonly kind: EmailKind;
  readonly branding: ResolvedBranding;
  readonly subject: string;
  /** The inbox preview line. */
  readonly preheader: string;
  readonly greeting: string;
  readonly headline: string;
  readonly paragraphs: readonly string[];
  readonly computerName: string;
  /** When the maintenance starts, formatted in the recipient's zone with the branding's styles. */
  readonly windowOpensAt?: string;
  readonly actions: readonly EmailActionLine[];
  readonly buttons: readonly EmailButton[];
  readonly rebootNotice?: string;
  readonly footer: string;
}

/** Why an email is not sent; logged on the session so an operator can see it. */
export type EmailSkipReason = 'NotRequested' | 'NothingToDo' | 'NoActionNeeded' | 'NoRecipient' | 'SessionCancelled' | 'DetectionOnly' | 'NeverTold';

/** Actions that change the computer; observations (audit, monitor) change nothing the user would notice. */
const CHANGES: ReadonlySet<ActionType> = new Set(['Install', 'Update', 'Downgrade', 'Uninstall', 'Reinstall', 'TaskEnforce', 'Reboot']);
export const changesComputer = (action: Pick<Action, 'type'>): boolean => CHANGES.has(action.type);

/**
 * Whether the email of `kind` goes out for the session (and its planned
 * actions); a skip names its reason. Recipients are checked by the caller.
 */
export function emailDecision(kind: EmailKind, session: Session, actions: readonly Action[]): { send: true } | { send: false; reason: EmailSkipReason } {
  const options = session.options.notify;
  if (!options) return { send: false, reason: 'NotRequested' };
  const changing = actions.filter(changesComputer);
  switch (kind) {
    case 'Detection':
      if (!options.detectionEmail) return { send: false, reason: 'NotRequested' };
      if (session.status === 'Cancelled') return { send: false, reason: 'SessionCancelled' };
      if (changing.length === 0 && !options.detectionEmailWhenCompliant) return { send: false, reason: 'NothingToDo' };
      return { send: true };
    case 'FollowUp':
      if (!options.followUpEmail) return { send: false, reason: 'NotRequested' };
      if (session.status === 'Cancelled') return { send: false, reason: 'SessionCancelled' };
      // nothing was done: the detection email already said what is due
      if (session.options.mode === 'DetectionOnly') return { send: false, reason: 'DetectionOnly' };
      if (options.followUpOnlyIfActionNeeded && changing.length === 0) return { send: false, reason: 'NoActionNeeded' };
      return { send: true };
    case 'Postponed':
    case 'Cancelled':
      // a confirmation follows a detection email (the caller checks it went out): someone never told gets no "cancelled"
      if (!options.detectionEmail) return { send: false, reason: 'NotRequested' };
      return { send: true };
  }
}

/** The addresses an email goes to: the primary user and the additional people, once each. */
export function recipientsOf(primaryUserEmail: string | undefined, options: NotifyOptions | undefined): string[] {
  return [...new Set([...(primaryUserEmail ? [primaryUserEmail.toLowerCase()] : []), ...(options?.additionalRecipients ?? [])])];
}

/** The moment formatted as the branding says, in the recipient's zone, with the zone named. */
export function formatInstant(at: string, branding: Pick<ResolvedBranding, 'locale' | 'dateStyle' | 'timeStyle'>, timeZone: string): string {
  const format = new Intl.DateTimeFormat(branding.locale, { dateStyle: branding.dateStyle, timeStyle: branding.timeStyle, timeZone });
  // Stryker disable next-line OptionalChaining: a format asked for the zone name always has a timeZoneName part; the `?.` is for the types
  const zoneName = new Intl.DateTimeFormat(branding.locale, { timeZone, timeZoneName: 'short' }).formatToParts(new Date(at)).find((part) => part.type === 'timeZoneName')?.value;
  return `${format.format(new Date(at))}${zoneName ? ` (${zoneName})` : ''}`;
}

const version = (text: string | undefined): string => (text ? ` ${text}` : '');

/** What an action will do, as a title a non-technical reader follows. */
export function actionTitle(action: Pick<Action, 'type' | 'itemName' | 'fromVersion' | 'toVersion'>): string {
  switch (action.type) {
    case 'Install':
      return `Install ${action.itemName}${version(action.toVersion)}`;
    case 'Update':
      return `Update ${action.itemName}${action.fromVersion ? ` from ${action.fromVersion}` : ''}${action.toVersion ? ` to ${action.toVersion}` : ''}`;
    case 'Downgrade':
      return `Change ${action.itemName} to version ${action.toVersion ?? 'required'}`;
    case 'Uninstall':
      return `Remove ${action.itemName}`;
    case 'Reinstall':
      return `Repair ${action.itemName} (reinstall${version(action.toVersion)})`;
    case 'TaskEnforce':
      return `Apply the setting "${action.itemName}"`;
    case 'TaskAudit':
    case 'TaskMonitor':
      return `Check "${action.itemName}"`;
    case 'Reboot':
      return 'Restart the computer';
  }
}

/** How an action went, in words; failure details stay with the IT team. */
export function actionOutcome(action: Pick<Action, 'status' | 'result'>): Pick<EmailActionLine, 'outcome' | 'outcomeText'> {
  if (action.status === 'Cancelled' || action.result === 'Cancelled') return { outcome: 'Cancelled', outcomeText: 'Not done: the maintenance was cancelled' };
  if (action.status === 'Skipped') return { outcome: 'Skipped', outcomeText: 'Not done this time: something it needs did not work' };
  switch (action.result) {
    case 'Success':
      return { outcome: 'Done', outcomeText: 'Done' };
    case 'Failed':
      return { outcome: 'Failed', outcomeText: 'Did not work; your IT team has the details and will follow up' };
    default:
      return { outcome: 'Unknown', outcomeText: 'Could not be confirmed; your IT team will check' };
  }
}

export interface EmailContext {
  readonly session: Session;
  readonly actions: readonly Action[];
  readonly branding: ResolvedBranding;
  readonly recipientName?: string;
  /** The recipient's zone: the computer's. */
  readonly timeZone: string;
  /** One URL per purpose the email may offer (already signed). */
  readonly links: Partial<Record<LinkPurpose, string>>;
  readonly now: string;
}

// Stryker disable next-line Regex: only the first word is kept, and one blank or a run of them ends it alike
const greetingFor = (name: string | undefined): string => `Hello ${name ? name.split(/\s+/)[0] : 'there'},`;

function footerFor(branding: ResolvedBranding): string {
  return `This message was sent by ${branding.companyName} because this computer is maintained by them.${branding.supportEmail ? ` Questions? Write to ${branding.supportEmail}.` : ''}`;
}

/** The buttons an email offers: what the schedule allows, that a link was made for, while there is still a wait. */
function buttonsFor(context: EmailContext, waiting: boolean): EmailButton[] {
  const options = context.session.options.notify;
  if (!options || !waiting) return [];
  const allowed: Array<[LinkPurpose, boolean]> = [
    ['RunNow', options.showRunNowButton],
    ['Postpone', options.showPostponeButton && context.session.postponements.length < context.session.options.postpone.maxCount],
    ['Cancel', options.showCancelButton],
  ];
  return allowed.flatMap(([purpose, shown]) => {
    const url = context.links[purpose];
    return shown && url ? [{ purpose, label: LINK_WORDS[purpose].button, url }] : [];
  });
}

/** Whether the email lists the changes (the schedule's choice; shown unless it says not to). */
const listsActions = (session: Session): boolean => session.options.notify?.showActionList ?? true;

/** What every email has: its kind and branding, its words, whom it greets, its footer; the inbox preview is its first paragraph. */
function viewShell(
  kind: EmailKind,
  context: EmailContext,
  words: { readonly subject: string; readonly headline: string; readonly paragraphs: readonly string[] },
): Pick<EmailView, 'kind' | 'branding' | 'subject' | 'preheader' | 'greeting' | 'headline' | 'paragraphs' | 'computerName' | 'footer'> {
  return {
    kind,
    branding: context.branding,
    subject: words.subject,
    preheader: words.paragraphs[0] ?? words.subject,
    greeting: greetingFor(context.recipientName),
    headline: words.headline,
    paragraphs: words.paragraphs,
    computerName: context.session.computerName,
    footer: footerFor(context.branding),
  };
}

/** The detection email: what will change, when, and what the reader can do about it. */
export function detectionEmail(context: EmailContext): EmailView {
  const { session, actions, branding } = context;
  const changing = actions.filter(changesComputer);
  const detectionOnly = session.options.mode === 'DetectionOnly';
  const executeAt = session.executeAt;
  const waiting = !detectionOnly && executeAt !== undefined && Date.parse(executeAt) > Date.parse(context.now);
  const when = executeAt && !detectionOnly ? formatInstant(executeAt, branding, context.timeZone) : undefined;
  const paragraphs: string[] = [];
  if (changing.length === 0) {
    paragraphs.push(`We checked ${session.computerName} and everything is up to date. Nothing will change.`);
  } else if (detectionOnly) {
    paragraphs.push(`We checked ${session.computerName}. ${changing.length} change(s) are due; nothing will be done in this check, your IT team will plan them.`);
  } else if (waiting && when) {
    paragraphs.push(`Maintenance is planned for ${session.computerName} on ${when}. Please leave the computer on; save your work before then.`);
  } else {
    paragraphs.push(`Maintenance is starting now on ${session.computerName}. You can keep working; save your work in case a restart is needed.`);
  }
  const buttons = changing.length === 0 ? [] : buttonsFor(context, waiting);
  if (buttons.some((button) => button.purpose === 'Postpone')) {
    const left = session.options.postpone.maxCount - session.postponements.length;
    paragraphs.push(`If the time does not suit you, you can postpone it by ${session.options.postpone.delayMinutes} minutes (${left} time(s) left).`);
  }
  const subject =
    changing.length === 0
      ? `${session.computerName} is up to date`
      : waiting && when
        ? `Maintenance on ${session.computerName}: ${changing.length} change(s) on ${when}`
        : `Maintenance on ${session.computerName}: ${changing.length} change(s)`;
  return {
    ...viewShell('Detection', context, { subject, headline: changing.length === 0 ? 'Your computer is up to date' : 'Planned maintenance', paragraphs }),
    ...(when && waiting ? { windowOpensAt: when } : {}),
    actions: listsActions(session) ? changing.map((action) => ({ title: actionTitle(action) })) : [],
    buttons,
    ...(changing.some((action) => action.type === 'Reboot') || session.options.reboot === 'Force'
      ? { rebootNotice: 'The computer will restart during the maintenance. Save your work before it starts.' }
      : {}),
  };
}

/** The follow-up email: how each change went, and whether a restart is still needed. */
export function followUpEmail(context: EmailContext): EmailView {
  const { session, actions } = context;
  const changing = actions.filter(changesComputer);
  // done means confirmed done: a result that could not be confirmed is not counted as done
  const done = changing.filter((action) => action.result === 'Success').length;
  // with no change to report, the status alone says whether the check itself went through (an item that could not be read fails it)
  const headline =
    changing.length === 0 && session.status === 'Failed'
      ? 'Maintenance could not be completed'
      : changing.length === 0 && session.status === 'PartialPassed'
        ? 'Maintenance checked, with a problem'
        : done === changing.length
          ? 'Maintenance complete'
          : done === 0
            ? 'Maintenance did not complete'
            : 'Maintenance partly complete';
  const paragraphs = [
    changing.length === 0
      ? session.status === 'Failed'
        ? `The maintenance of ${session.computerName} could not be completed. Your IT team has been told and will follow up; there is nothing you need to do.`
        : session.status === 'PartialPassed'
          ? `We checked ${session.computerName} and changed nothing, but part of the check could not be finished. Your IT team has been told and will follow up; there is nothing you need to do.`
          : `We checked ${session.computerName}; nothing needed to change.`
      : done === changing.length
        ? `All ${changing.length} change(s) on ${session.computerName} are done.`
        : `${done} of ${changing.length} change(s) on ${session.computerName} are done. Your IT team has been told about the rest and will follow up; there is nothing you need to do.`,
  ];
  return {
    ...viewShell('FollowUp', context, { subject: `${headline}: ${session.computerName}`, headline, paragraphs }),
    actions: listsActions(session) ? changing.map((action) => ({ title: actionTitle(action), ...actionOutcome(action) })) : [],
    buttons: [],
    ...(session.rebootPending ? { rebootNotice: 'Please restart your computer when convenient to finish the maintenance.' } : {}),
  };
}

/** The confirmation after a postpone or cancel: what changed and who asked. */
export function confirmationEmail(kind: 'Postponed' | 'Cancelled', context: EmailContext, byName: string): EmailView {
  const { session, branding } = context;
  const changing = context.actions.filter(changesComputer);
  const when = session.executeAt ? formatInstant(session.executeAt, branding, context.timeZone) : undefined;
  const headline = kind === 'Postponed' ? 'Maintenance postponed' : 'Maintenance cancelled';
  const paragraphs =
    kind === 'Postponed'
      ? [`The maintenance of ${session.computerName} was postponed by ${byName}${when ? ` to ${when}` : ''}.`]
      : session.stages.Execution.status === 'Unstarted'
        ? [`The maintenance of ${session.computerName} was cancelled by ${byName}. Nothing will change on the computer this time.`]
        : [`The maintenance of ${session.computerName} was stopped by ${byName} while it ran. What was already done stays; the rest will not be done this time.`];
  // only a postpone leaves a wait to act on: a cancelled maintenance offers no button
  const waiting = kind === 'Postponed' && session.executeAt !== undefined && Date.parse(session.executeAt) > Date.parse(context.now);
  return {
    ...viewShell(kind, context, { subject: `${headline}: ${session.computerName}`, headline, paragraphs }),
    ...(kind === 'Postponed' && when ? { windowOpensAt: when } : {}),
    actions: kind === 'Postponed' && listsActions(session) ? changing.map((action) => ({ title: actionTitle(action) })) : [],
    buttons: buttonsFor(context, waiting),
  };
}
