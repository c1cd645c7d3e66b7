import { TransientError } from '../errors.js';
import { emailKindWords } from '../notifications/emails.js';
import type { DeliveryProblem, DeliveryProblemKind, EmailRecord } from '../ports/notification-store.port.js';
import { excerpt } from '../validation.js';
import type { Dependencies } from './dependencies.js';

/**
 * SES's reports on end-user email after it took it: a bounce, a spam report,
 * a rejection, a delay. Each is said in the session's log and recorded on the
 * session's send record of that email, once per report, so an operator who
 * reads "detection email sent" also reads that it never arrived, to whom, and
 * what to correct.
 */

/** One SES delivery report, as the handler parsed it from the event bus. */
export interface MailEvent {
  /** SES's feedback id for a bounce or a spam report; the event's id on the bus otherwise. A redelivered report carries the same. */
  readonly reportId: string;
  readonly kind: DeliveryProblemKind;
  readonly at: string;
  /** SES's id of the message: the one `Mailer.send` answered. */
  readonly messageId: string;
  /** The message's `session` tag: absent for mail that no session sent (a branding test email). */
  readonly sessionId?: string;
  /** The message's `kind` tag: the email kind (Detection, FollowUp, Postponed, Cancelled). */
  readonly emailKind?: string;
  /** Bounce: Permanent, Transient or Undetermined. */
  readonly bounceType?: string;
  /**
   * Bounce: SES's subtype (General, MailboxFull, Suppressed,
   * OnAccountSuppressionList, …). Complaint: OnAccountSuppressionList when
   * SES did not send at all, else the spam report's type. Delay: its type.
   */
  readonly subtype?: string;
  /** The addresses concerned, each with the receiving server's answer where SES has one; may be empty (then the email's own recipients are meant). */
  readonly recipients: readonly { readonly address: string; readonly diagnostic?: string }[];
  /** Reject: SES's reason. */
  readonly reason?: string;
  /** Delay: until when SES keeps trying. */
  readonly expiresAt?: string;
}

export type MailEventOutcome =
  | { readonly recorded: true; readonly sessionId: string; readonly key: string }
  | { readonly recorded: false; readonly reason: 'NotSessionMail' | 'NoSuchEmail' | 'Repeated' | 'TooMany' };

/** What of the receiving server's answer goes into a log line: enough to name the problem, never a whole bounce message. */
const MAX_DIAGNOSTIC_CHARS = 200;
const MAX_DETAIL_CHARS = 500;

/** The subtypes for mail SES never sent because the address is suppressed: the account's list, and SES's global one. */
const ON_ACCOUNT_LIST = 'OnAccountSuppressionList';
const ON_GLOBAL_LIST = 'Suppressed';

/** Control characters (a multi-line SMTP answer) become spaces: a log line is one line. */
// eslint-disable-next-line no-control-regex -- matching them is the point
const oneLine = (text: string): string => text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();

/** A send record's key is its kind, then `#` and what tells repeats of the kind apart. */
const emailWords = (key: string): string => emailKindWords(key.split('#')[0] ?? key);

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** Whether SES counts the report as mail that did not arrive (a delay may still arrive; an unclassified reply usually did). */
export const isUndelivered = (event: MailEvent): boolean =>
  event.kind === 'Reject' || event.kind === 'Complaint' || (event.kind === 'Bounce' && event.bounceType !== 'Undetermined');

/** The session log's line for a report: what happened to the email, to whom, and what the operator can correct. */
export function mailEventMessage(event: MailEvent, sent: Pick<EmailRecord, 'key' | 'recipients'>): string {
  const kind = emailWords(sent.key);
  const sentTo = sent.recipients ?? [];
  const named = event.recipients.map((recipient) => recipient.address);
  // an event without recipients (a rejection, some unclassified replies) concerns the whole email
  const concerned = named.length > 0 ? named : sentTo;
  // the addresses the email was sent to are its recipients; any other is the branding's BCC copy
  const bccOnly = concerned.length > 0 && concerned.every((address) => !sentTo.some((to) => same(to, address)));
  const email = bccOnly ? `the BCC copy of the ${kind} email` : `the ${kind} email`;
  const to = concerned.length > 0 ? concerned.join(', ') : 'its recipients';
  const answers = [...new Set(event.recipients.flatMap((recipient) => (recipient.diagnostic ? [excerpt(oneLine(recipient.diagnostic), MAX_DIAGNOSTIC_CHARS)] : [])))];
  const diagnostic = answers.length === 0 ? '' : ` (${answers.join('; ')})`;
  const correct = bccOnly ? "Correct the branding's BCC address" : "Correct the address (the computer's primary user, or the schedule's people to notify)";
  const nobodyTold = !bccOnly && sentTo.length > 0 && sentTo.every((address) => concerned.some((each) => same(each, address)));
  const told = nobodyTold && isUndelivered(event) ? '; nobody it was for got it' : '';

  if (event.subtype === ON_ACCOUNT_LIST)
    return `${email} was not sent to ${to}: the address is on the account's suppression list after an earlier bounce or spam report${told}. ${correct}, or take it off the account's suppression list in SES once it takes mail again`;
  if (event.subtype === ON_GLOBAL_LIST) return `${email} was not sent to ${to}: SES's global suppression list holds the address, which bounced for many senders${told}. ${correct}`;
  switch (event.kind) {
    case 'Bounce':
      if (event.bounceType === 'Permanent')
        return `${email} bounced at ${to}${diagnostic}: the address does not take mail${told}. ${correct}; SES sends it nothing more while it is on the account's suppression list`;
      if (event.bounceType === 'Transient') return `${email} could not be delivered to ${to}${event.subtype ? `, ${event.subtype}` : ''}${diagnostic}${told}`;
      return `SES got a reply to ${email} from ${to} that it could not classify (often an out-of-office answer)${diagnostic}`;
    case 'Complaint':
      return `${to} reported ${email} as spam${event.subtype ? ` (${event.subtype})` : ''}. SES sends the address nothing more while it is on the account's suppression list: ask the user, then take it off the list in SES if they want these emails`;
    case 'Reject':
      return `SES rejected ${email} and sent it to no one${event.reason ? ` (${excerpt(oneLine(event.reason), MAX_DIAGNOSTIC_CHARS)})` : ''}`;
    case 'DeliveryDelay':
      return `${email} to ${to} is delayed${event.subtype ? `, ${event.subtype}` : ''}${diagnostic}; SES keeps trying${event.expiresAt ? ` until ${event.expiresAt}` : ''}`;
  }
}

function problemOf(event: MailEvent): DeliveryProblem {
  const detail = [event.bounceType, event.subtype, event.reason, ...event.recipients.flatMap((recipient) => (recipient.diagnostic ? [recipient.diagnostic] : []))].filter(
    (part): part is string => part !== undefined && part !== '',
  );
  return {
    reportId: event.reportId,
    kind: event.kind,
    at: event.at,
    recipients: event.recipients.map((recipient) => recipient.address),
    detail: excerpt(oneLine(detail.join('; ')), MAX_DETAIL_CHARS),
  };
}

/** A send of this kind claimed and not yet marked sent, whose sender may still be recording it. */
const stillRecording = (emails: readonly EmailRecord[], event: MailEvent, nowMs: number): boolean =>
  emails.some(
    (record) =>
      record.status === 'Sending' &&
      (event.emailKind === undefined || record.key === event.emailKind || record.key.startsWith(`${event.emailKind}#`)) &&
      Date.parse(record.leaseUntil) > nowMs,
  );

/**
 * Says a delivery report in the session's log and records it on the session
 * email it is about, once. The line comes first, keyed by the report (so a
 * retry after a crash in between finds it written and writes no second one);
 * the record's conditional write then decides whether this delivery counts
 * in `EmailsUndelivered`, which the dashboard shows beside the sends.
 */
export async function recordMailEvent(deps: Pick<Dependencies, 'notifications' | 'sessionLog' | 'metrics' | 'logger' | 'clock'>, event: MailEvent): Promise<MailEventOutcome> {
  if (event.sessionId === undefined) {
    deps.logger.info('SES reported on an email no session sent', { messageId: excerpt(event.messageId), kind: event.kind });
    return { recorded: false, reason: 'NotSessionMail' };
  }
  const sessionId = event.sessionId;
  const emails = await deps.notifications.listEmails(sessionId);
  const email = emails.find((record) => record.messageId === event.messageId);
  if (!email) {
    // SES answered the send, and reported on it, before the sender marked it sent: the event's retry finds it
    if (stillRecording(emails, event, deps.clock.now().getTime())) throw new TransientError(`session ${sessionId} is still recording the send of message ${excerpt(event.messageId)}`);
    // an expired session, or a send whose record never said sent: nothing of ours to put it on
    deps.logger.warn('SES reported on an email this session has no record of', { sessionId, messageId: excerpt(event.messageId), kind: event.kind });
    return { recorded: false, reason: 'NoSuchEmail' };
  }
  const undelivered = isUndelivered(event);
  await deps.sessionLog.append(
    { sessionId, at: event.at, kind: undelivered ? 'Problem' : 'Email', message: mailEventMessage(event, email) },
    { once: `ses-report:${event.reportId}` },
  );
  const written = await deps.notifications.recordDeliveryProblem(sessionId, email.key, problemOf(event));
  if (!written.recorded) return written;
  if (undelivered) deps.metrics.count('EmailsUndelivered', 1);
  return { recorded: true, sessionId, key: email.key };
}
