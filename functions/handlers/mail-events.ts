import { z } from 'zod';
import { recordMailEvent, type MailEvent } from '../core/use-cases/mail-events.js';
import { cloudDependencies } from './cloud.js';
import { defineHandler } from './handler-kit.js';
import { sessionIdSchema } from './schemas.js';
import { excerpt } from '../core/validation.js';

/**
 * SES's sending events on the default bus (`source: aws.ses`), as much of
 * them as is needed: the event record SES publishes is the `detail`. What a
 * receiving server wrote (a diagnostic, a reason) is cut short rather than
 * refused: a report dropped over a long SMTP answer would be a report lost.
 */
const cut = (max: number) => z.string().transform((value) => excerpt(value, max));
const id = z.string().min(1).max(256);
const address = z.string().max(320);
const tagValues = z.array(cut(256)).max(50);
/** An email's recipients are a handful; what is past this many is not named in a log line anyway. */
const MAX_RECIPIENTS = 50;
const recipients = <T extends z.ZodType>(recipient: T) => z.array(recipient).transform((all) => all.slice(0, MAX_RECIPIENTS));
const time = z.iso.datetime({ offset: true });

/** A recipient SES names with the receiving server's answer (bounces, delays). */
const answeredRecipient = z
  .object({ emailAddress: address, diagnosticCode: cut(1_000).nullish() })
  .transform((recipient) => ({ address: recipient.emailAddress, ...(recipient.diagnosticCode ? { diagnostic: recipient.diagnosticCode } : {}) }));

const mailSchema = z.object({
  messageId: id,
  destination: recipients(address).default([]),
  tags: z.object({ session: tagValues.optional(), kind: tagValues.optional() }).default({}),
});

const detailSchema = z.discriminatedUnion('eventType', [
  z.object({
    eventType: z.literal('Bounce'),
    mail: mailSchema,
    bounce: z.object({ bounceType: cut(64), bounceSubType: cut(64).nullish(), bouncedRecipients: recipients(answeredRecipient).default([]), feedbackId: id.nullish(), timestamp: time.nullish() }),
  }),
  z.object({
    eventType: z.literal('Complaint'),
    mail: mailSchema,
    complaint: z.object({
      complainedRecipients: recipients(z.object({ emailAddress: address })).default([]),
      complaintSubType: cut(64).nullish(),
      complaintFeedbackType: cut(64).nullish(),
      feedbackId: id.nullish(),
      timestamp: time.nullish(),
    }),
  }),
  z.object({ eventType: z.literal('Reject'), mail: mailSchema, reject: z.object({ reason: cut(512).nullish() }).default({}) }),
  z.object({
    eventType: z.literal('DeliveryDelay'),
    mail: mailSchema,
    deliveryDelay: z.object({
      delayType: cut(64).nullish(),
      delayedRecipients: recipients(answeredRecipient).default([]),
      expirationTime: time.nullish(),
      timestamp: time.nullish(),
    }),
  }),
]);

export const mailEventSchema = z.object({
  id,
  time,
  detail: detailSchema,
});

type SesEvent = z.output<typeof mailEventSchema>;

/** The session a message was sent for: its `session` tag (mail a session did not send, a branding test, has none). */
function sessionTag(event: SesEvent): string | undefined {
  const tagged = event.detail.mail.tags.session?.[0];
  return tagged !== undefined && sessionIdSchema.safeParse(tagged).success ? tagged : undefined;
}

const iso = (at: string): string => new Date(at).toISOString();

/** The SES event in the use case's terms. */
export function mailEventOf(event: SesEvent): MailEvent {
  const detail = event.detail;
  const sessionId = sessionTag(event);
  const emailKind = detail.mail.tags.kind?.[0];
  const common = {
    messageId: detail.mail.messageId,
    ...(sessionId === undefined ? {} : { sessionId }),
    ...(emailKind === undefined ? {} : { emailKind }),
  };
  switch (detail.eventType) {
    case 'Bounce':
      return {
        ...common,
        reportId: detail.bounce.feedbackId ?? event.id,
        kind: 'Bounce',
        at: iso(detail.bounce.timestamp ?? event.time),
        bounceType: detail.bounce.bounceType,
        ...(detail.bounce.bounceSubType ? { subtype: detail.bounce.bounceSubType } : {}),
        recipients: detail.bounce.bouncedRecipients,
      };
    case 'Complaint': {
      // a "complaint" on the account's suppression list is SES declining to send, not a spam report
      const subtype = detail.complaint.complaintSubType ?? detail.complaint.complaintFeedbackType;
      return {
        ...common,
        reportId: detail.complaint.feedbackId ?? event.id,
        kind: 'Complaint',
        at: iso(detail.complaint.timestamp ?? event.time),
        ...(subtype ? { subtype } : {}),
        recipients: detail.complaint.complainedRecipients.map((recipient) => ({ address: recipient.emailAddress })),
      };
    }
    case 'Reject':
      return {
        ...common,
        reportId: event.id,
        kind: 'Reject',
        at: iso(event.time),
        ...(detail.reject.reason ? { reason: detail.reject.reason } : {}),
        recipients: detail.mail.destination.map((to) => ({ address: to })),
      };
    case 'DeliveryDelay':
      return {
        ...common,
        reportId: event.id,
        kind: 'DeliveryDelay',
        at: iso(detail.deliveryDelay.timestamp ?? event.time),
        ...(detail.deliveryDelay.delayType ? { subtype: detail.deliveryDelay.delayType } : {}),
        ...(detail.deliveryDelay.expirationTime ? { expiresAt: iso(detail.deliveryDelay.expirationTime) } : {}),
        recipients: detail.deliveryDelay.delayedRecipients,
      };
  }
}

/**
 * SES could not deliver an end-user email (bounce, spam report, rejection)
 * or is still trying (delay): recorded on the session's send record of it
 * and said in the session's log, once per event.
 */
export const createHandler = defineHandler('mail-events', mailEventSchema, (deps, event) => recordMailEvent(deps, mailEventOf(event)), {
  logKeys: (event) => {
    const sessionId = sessionTag(event);
    return sessionId === undefined ? {} : { sessionId };
  },
});

export const handler = createHandler(cloudDependencies);
