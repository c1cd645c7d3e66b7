import type { Requester } from '../model/session.js';
import type { LinkPurpose } from '../notifications/links.js';

/** One email of a session: claimed before it is sent, marked sent after. */
export interface EmailRecord {
  readonly sessionId: string;
  /** The kind, plus what makes a repeat of the kind a different email (the postponement it confirms). */
  readonly key: string;
  readonly status: 'Sending' | 'Sent';
  /** A claim whose sender died is taken over once this has passed. */
  readonly leaseUntil: string;
  readonly claimedAt: string;
  readonly sentAt?: string;
  readonly messageId?: string;
  readonly recipients?: readonly string[];
  /** The last report SES made on the email that was recorded (bounced, reported as spam, rejected, delayed); the session's log holds each. */
  readonly deliveryProblem?: DeliveryProblem;
}

/** SES's report that an email it took did not reach (or has not yet reached) someone. */
export interface DeliveryProblem {
  /** SES's feedback id, or the event's id on the bus: a redelivered report carries the same and is recorded once. */
  readonly reportId: string;
  readonly kind: DeliveryProblemKind;
  /** When SES saw it. */
  readonly at: string;
  /** The addresses it concerns; every recipient for a rejection. */
  readonly recipients: readonly string[];
  /** In SES's words, cut short: the bounce type and the receiving server's answer, the spam report's type, the rejection's reason. */
  readonly detail: string;
}

export type DeliveryProblemKind = 'Bounce' | 'Complaint' | 'Reject' | 'DeliveryDelay';

/** How a delivery report met the session's send records. */
export type DeliveryProblemRecorded =
  | { readonly recorded: true }
  /** Repeated: this report was recorded already. TooMany: the email holds as many reports as it keeps. NoSuchEmail: its record is gone (expired with the session). */
  | { readonly recorded: false; readonly reason: 'Repeated' | 'TooMany' | 'NoSuchEmail' };

/** What the first POST of a link did; every later POST of the same link shows it. */
export interface LinkOutcome {
  readonly sessionId: string;
  readonly tokenId: string;
  readonly purpose: LinkPurpose;
  readonly at: string;
  readonly by: Requester;
  /** Done: it took effect. Refused: the session's rules said no (the message says why). */
  readonly result: 'Done' | 'Refused';
  readonly message: string;
}

/**
 * What makes end-user email and links act once: a send record per session
 * and email, and an outcome per link token. Each write is one conditional
 * put or update on an item beside the session.
 */
export interface NotificationStore {
  /**
   * Claims the right to send the email `key` of the session until
   * `leaseUntil`. Answers the record as it stands and whether this call holds
   * the claim: false when it was sent, or another sender's lease still runs.
   */
  claimEmail(sessionId: string, key: string, now: string, leaseUntil: string): Promise<{ readonly claimed: boolean; readonly record: EmailRecord }>;
  /** Sending → Sent with the provider's id. */
  markEmailSent(sessionId: string, key: string, sent: { readonly at: string; readonly messageId: string; readonly recipients: readonly string[] }): Promise<void>;
  /** Gives up a claim whose send failed before anything went out (only the claim taken at `claimedAt`). */
  releaseEmail(sessionId: string, key: string, claimedAt: string): Promise<void>;
  listEmails(sessionId: string): Promise<EmailRecord[]>;
  /**
   * Records SES's delivery report on the sent email `key`, once per report
   * (a conditional write on the report's id), so that a redelivered event
   * changes nothing and is told apart.
   */
  recordDeliveryProblem(sessionId: string, key: string, problem: DeliveryProblem): Promise<DeliveryProblemRecorded>;
  /** Records the outcome once; answers the outcome that stands (this one, or the one recorded first). */
  recordLinkOutcome(outcome: LinkOutcome): Promise<{ readonly recorded: boolean; readonly outcome: LinkOutcome }>;
  getLinkOutcome(sessionId: string, tokenId: string): Promise<LinkOutcome | undefined>;
}
