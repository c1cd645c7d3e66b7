import type { Clock } from '../core/ports/clock.port.js';
import type { DeliveryProblem, DeliveryProblemRecorded, EmailRecord, LinkOutcome, NotificationStore } from '../core/ports/notification-store.port.js';
import { toEntity, type DynamoTable } from './dynamodb-table.js';
import { expiryAfter } from './session-store.dynamodb.js';
import { TABLE_DEFINITION } from './table-definition.js';

const sessionPk = (sessionId: string): string => `SESSION#${sessionId}`;
const emailSk = (key: string): string => `EMAIL#${key}`;
const linkSk = (tokenId: string): string => `LINK#${tokenId}`;

/**
 * Delivery reports one email keeps the ids of (to tell a redelivered report
 * apart): far more than an email's recipients and SES's delay reports make,
 * and a bound on the item all the same.
 */
const MAX_DELIVERY_REPORTS = 100;

/** Send records and link outcomes live beside their session and expire with it. */
export class DynamoNotificationStore implements NotificationStore {
  constructor(
    private readonly table: DynamoTable,
    private readonly options: { readonly retentionDays: number; readonly clock: Clock },
  ) {}

  private expiry(): Record<string, number> {
    return { [TABLE_DEFINITION.timeToLiveAttribute]: expiryAfter(this.options.clock.now(), this.options.retentionDays) };
  }

  async claimEmail(sessionId: string, key: string, now: string, leaseUntil: string): Promise<{ claimed: boolean; record: EmailRecord }> {
    const record: EmailRecord = { sessionId, key, status: 'Sending', claimedAt: now, leaseUntil };
    // a first claim, or the take-over of one whose sender died before it could send (its lease ran out)
    const claimed = await this.table.putIf(
      { PK: sessionPk(sessionId), SK: emailSk(key), entity: 'Email', ...this.expiry(), ...record },
      'attribute_not_exists(PK) OR (#status = :sending AND #leaseUntil < :now)',
      { names: { '#status': 'status', '#leaseUntil': 'leaseUntil' }, values: { ':sending': 'Sending', ':now': now } },
    );
    if (claimed) return { claimed, record };
    const stored = await this.table.get(sessionPk(sessionId), emailSk(key));
    return { claimed: false, record: stored ? toEntity<EmailRecord>(stored) : record };
  }

  async markEmailSent(sessionId: string, key: string, sent: { at: string; messageId: string; recipients: readonly string[] }): Promise<void> {
    // unconditional on the lease: the mail is out, so the record must say so even if the lease ran out meanwhile
    await this.table.update({
      key: { PK: sessionPk(sessionId), SK: emailSk(key) },
      set: { status: 'Sent', sentAt: sent.at, messageId: sent.messageId, recipients: [...sent.recipients] },
      condition: 'attribute_exists(PK)',
      conflict: `the send record of email ${key} of session ${sessionId} is gone`,
    });
  }

  async releaseEmail(sessionId: string, key: string, claimedAt: string): Promise<void> {
    await this.table.deleteIf(
      { PK: sessionPk(sessionId), SK: emailSk(key) },
      {
        condition: '#status = :sending AND #claimedAt = :claimedAt',
        conditionNames: { '#status': 'status', '#claimedAt': 'claimedAt' },
        conditionValues: { ':sending': 'Sending', ':claimedAt': claimedAt },
        conflict: `email ${key} of session ${sessionId} was taken over or sent`,
      },
    );
  }

  async listEmails(sessionId: string): Promise<EmailRecord[]> {
    const items = await this.table.query({ pk: sessionPk(sessionId), skPrefix: 'EMAIL#' });
    // the report ids are the write's own bookkeeping, not part of the record
    return items.map(({ deliveryReports: _reports, ...item }) => toEntity<EmailRecord>(item));
  }

  async recordDeliveryProblem(sessionId: string, key: string, problem: DeliveryProblem): Promise<DeliveryProblemRecorded> {
    const written = await this.table.updateWith({
      key: { PK: sessionPk(sessionId), SK: emailSk(key) },
      expression: 'SET #problem = :problem ADD #reports :report',
      condition: 'attribute_exists(PK) AND NOT contains(#reports, :id) AND (attribute_not_exists(#reports) OR size(#reports) < :max)',
      names: { '#problem': 'deliveryProblem', '#reports': 'deliveryReports' },
      values: { ':problem': problem, ':report': new Set([problem.reportId]), ':id': problem.reportId, ':max': MAX_DELIVERY_REPORTS },
    });
    if (written) return { recorded: true };
    // refused: a rare path, read to say why
    const stored = await this.table.get(sessionPk(sessionId), emailSk(key));
    if (!stored) return { recorded: false, reason: 'NoSuchEmail' };
    const reports = stored.deliveryReports;
    return { recorded: false, reason: reports instanceof Set && reports.has(problem.reportId) ? 'Repeated' : 'TooMany' };
  }

  async recordLinkOutcome(outcome: LinkOutcome): Promise<{ recorded: boolean; outcome: LinkOutcome }> {
    const recorded = await this.table.putIf(
      { PK: sessionPk(outcome.sessionId), SK: linkSk(outcome.tokenId), entity: 'LinkOutcome', ...this.expiry(), ...outcome },
      'attribute_not_exists(PK)',
    );
    if (recorded) return { recorded, outcome };
    const first = await this.getLinkOutcome(outcome.sessionId, outcome.tokenId);
    return { recorded: false, outcome: first ?? outcome };
  }

  async getLinkOutcome(sessionId: string, tokenId: string): Promise<LinkOutcome | undefined> {
    const item = await this.table.get(sessionPk(sessionId), linkSk(tokenId));
    return item ? toEntity<LinkOutcome>(item) : undefined;
  }
}
