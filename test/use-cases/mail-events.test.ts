import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryMetrics } from '../../functions/adapters/metrics.memory.js';
import { DynamoNotificationStore } from '../../functions/adapters/notification-store.dynamodb.js';
import { DynamoSessionLog } from '../../functions/adapters/session-log.dynamodb.js';
import type { DynamoTable } from '../../functions/adapters/dynamodb-table.js';
import { TransientError } from '../../functions/core/errors.js';
import type { SessionLogEntry } from '../../functions/core/model/session.js';
import type { EmailRecord } from '../../functions/core/ports/notification-store.port.js';
import type { Dependencies } from '../../functions/core/use-cases/dependencies.js';
import { mailEventMessage, recordMailEvent, type MailEvent } from '../../functions/core/use-cases/mail-events.js';
import { mailEventOf, mailEventSchema } from '../../functions/handlers/mail-events.js';
import { dynamoTable } from '../support/dynamo.js';
import { manualClock } from '../support/fleet.js';

/**
 * SES's delivery reports on session emails, on dynalite with the real send
 * records and the real session log: said in the log and recorded once per
 * report, whatever EventBridge redelivers or wherever a delivery died;
 * reports on mail no session sent, or not yet marked sent, told apart.
 */

const BOUNCE: Omit<MailEvent, 'sessionId' | 'messageId'> = {
  reportId: 'feedback-1',
  kind: 'Bounce',
  at: '2026-11-23T18:05:00.000Z',
  emailKind: 'Detection',
  bounceType: 'Permanent',
  subtype: 'General',
  recipients: [{ address: 'ana@example.com', diagnostic: 'smtp; 550 5.1.1 user unknown' }],
};

type Deps = Pick<Dependencies, 'notifications' | 'sessionLog' | 'metrics' | 'logger' | 'clock'>;

describe('recording a delivery report on the session email it is about (dynalite)', () => {
  let table: { table: DynamoTable; close: () => Promise<void> };
  let n = 0;
  beforeAll(async () => {
    table = await dynamoTable();
  });
  afterAll(() => table.close());

  function parts(): { deps: Deps; metrics: InMemoryMetrics; sessionId: string; lines: () => Promise<readonly SessionLogEntry[]> } {
    const clock = manualClock(new Date('2026-11-23T18:00:00.000Z'));
    const metrics = new InMemoryMetrics();
    const sessionLog = new DynamoSessionLog(table.table, 90);
    const sessionId = `mail-${String(++n)}`;
    const deps: Deps = {
      notifications: new DynamoNotificationStore(table.table, { retentionDays: 90, clock }),
      sessionLog,
      metrics,
      clock,
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    };
    return { deps, metrics, sessionId, lines: async () => (await sessionLog.read(sessionId, { limit: 100 })).entries };
  }

  /** The session's email `key`, sent as message `messageId` to `recipients`. */
  async function sent(deps: Deps, sessionId: string, key = 'Detection', messageId = 'msg-1', recipients = ['ana@example.com']): Promise<void> {
    const now = deps.clock.now();
    await deps.notifications.claimEmail(sessionId, key, now.toISOString(), new Date(now.getTime() + 120_000).toISOString());
    await deps.notifications.markEmailSent(sessionId, key, { at: now.toISOString(), messageId, recipients });
  }

  it('says a bounce once in the session log, records it on the send record, and changes nothing when EventBridge delivers it again', async () => {
    const { deps, metrics, sessionId, lines } = parts();
    await sent(deps, sessionId);
    const event: MailEvent = { ...BOUNCE, sessionId, messageId: 'msg-1' };
    expect(await recordMailEvent(deps, event)).toEqual({ recorded: true, sessionId, key: 'Detection' });
    expect(await recordMailEvent(deps, event)).toEqual({ recorded: false, reason: 'Repeated' });
    expect((await lines()).map((line) => [line.at, line.kind, line.message])).toEqual([
      [
        BOUNCE.at,
        'Problem',
        "the detection email bounced at ana@example.com (smtp; 550 5.1.1 user unknown): the address does not take mail; nobody it was for got it. Correct the address (the computer's primary user, or the schedule's people to notify); SES sends it nothing more while it is on the account's suppression list",
      ],
    ]);
    expect(metrics.total('EmailsUndelivered')).toBe(1);
    const [record] = await deps.notifications.listEmails(sessionId);
    expect(record?.deliveryProblem).toEqual({ reportId: 'feedback-1', kind: 'Bounce', at: BOUNCE.at, recipients: ['ana@example.com'], detail: 'Permanent; General; smtp; 550 5.1.1 user unknown' });
    // the ids that tell a repeat apart are the write's bookkeeping, not the record's
    expect(Object.keys(record ?? {})).not.toContain('deliveryReports');
  });

  it('writes the line once when a delivery died between the line and the record, and counts it when the retry records it', async () => {
    const { deps, metrics, sessionId, lines } = parts();
    await sent(deps, sessionId);
    const event: MailEvent = { ...BOUNCE, sessionId, messageId: 'msg-1' };
    const dying: Deps = { ...deps, notifications: { ...deps.notifications, listEmails: (id) => deps.notifications.listEmails(id), recordDeliveryProblem: () => Promise.reject(new TransientError('throttled')) } };
    await expect(recordMailEvent(dying, event)).rejects.toThrow(TransientError);
    expect(metrics.total('EmailsUndelivered')).toBe(0);
    expect(await recordMailEvent(deps, event)).toMatchObject({ recorded: true });
    expect(await lines()).toHaveLength(1);
    expect(metrics.total('EmailsUndelivered')).toBe(1);
  });

  it('says each report of one email (a delay, then the bounce it became), and counts only what did not arrive', async () => {
    const { deps, metrics, sessionId, lines } = parts();
    await sent(deps, sessionId, 'Postponed#1', 'msg-7', ['ana@example.com', 'office@example.com']);
    const delay: MailEvent = { reportId: 'evt-d', kind: 'DeliveryDelay', at: BOUNCE.at, sessionId, messageId: 'msg-7', subtype: 'MailboxFull', recipients: [{ address: 'ana@example.com' }], expiresAt: '2026-11-24T18:00:00.000Z' };
    expect(await recordMailEvent(deps, delay)).toMatchObject({ recorded: true, key: 'Postponed#1' });
    const soft: MailEvent = { ...BOUNCE, reportId: 'feedback-b', at: '2026-11-24T18:00:01.000Z', bounceType: 'Transient', subtype: 'MailboxFull', sessionId, messageId: 'msg-7', recipients: [{ address: 'ana@example.com' }] };
    expect(await recordMailEvent(deps, soft)).toMatchObject({ recorded: true });
    expect((await lines()).map((line) => [line.kind, line.message])).toEqual([
      ['Email', 'the postponed email to ana@example.com is delayed, MailboxFull; SES keeps trying until 2026-11-24T18:00:00.000Z'],
      // office@ got it: only the address that failed is named, and nobody-got-it is not said
      ['Problem', 'the postponed email could not be delivered to ana@example.com, MailboxFull'],
    ]);
    expect(metrics.total('EmailsUndelivered')).toBe(1);
    expect((await deps.notifications.listEmails(sessionId))[0]?.deliveryProblem?.reportId).toBe('feedback-b');
  });

  it('throws a TransientError for a report that arrives before its send is marked sent, so the retried event finds it', async () => {
    const { deps, sessionId, lines } = parts();
    const now = deps.clock.now();
    await deps.notifications.claimEmail(sessionId, 'Detection', now.toISOString(), new Date(now.getTime() + 120_000).toISOString());
    const event: MailEvent = { ...BOUNCE, sessionId, messageId: 'msg-1' };
    await expect(recordMailEvent(deps, event)).rejects.toThrow(TransientError);
    await deps.notifications.markEmailSent(sessionId, 'Detection', { at: now.toISOString(), messageId: 'msg-1', recipients: ['ana@example.com'] });
    expect(await recordMailEvent(deps, event)).toMatchObject({ recorded: true });
    expect(await lines()).toHaveLength(1);
  });

  it('answers NoSuchEmail, not a retry, when only another kind is being sent or the claim was abandoned', async () => {
    const { deps, sessionId, lines } = parts();
    const now = deps.clock.now();
    await deps.notifications.claimEmail(sessionId, 'FollowUp', now.toISOString(), new Date(now.getTime() + 120_000).toISOString());
    expect(await recordMailEvent(deps, { ...BOUNCE, sessionId, messageId: 'msg-9' })).toEqual({ recorded: false, reason: 'NoSuchEmail' });
    await deps.notifications.claimEmail(sessionId, 'Detection', now.toISOString(), new Date(now.getTime() + 120_000).toISOString());
    (deps.clock as ReturnType<typeof manualClock>).advance(121_000);
    expect(await recordMailEvent(deps, { ...BOUNCE, sessionId, messageId: 'msg-9' })).toEqual({ recorded: false, reason: 'NoSuchEmail' });
    expect(await lines()).toEqual([]);
  });

  it('writes nothing for a report on mail no session sent, or on a message the session has no record of', async () => {
    const { deps, metrics, sessionId, lines } = parts();
    await sent(deps, sessionId);
    expect(await recordMailEvent(deps, { ...BOUNCE, messageId: 'msg-test-email' })).toEqual({ recorded: false, reason: 'NotSessionMail' });
    expect(await recordMailEvent(deps, { ...BOUNCE, sessionId, messageId: 'msg-other' })).toEqual({ recorded: false, reason: 'NoSuchEmail' });
    expect(await recordMailEvent(deps, { ...BOUNCE, sessionId: 'expired-session', messageId: 'msg-1' })).toEqual({ recorded: false, reason: 'NoSuchEmail' });
    expect(await lines()).toEqual([]);
    expect(metrics.total('EmailsUndelivered')).toBe(0);
    expect((await deps.notifications.listEmails(sessionId))[0]?.deliveryProblem).toBeUndefined();
  });

  it('keeps at most 100 reports per email: the item stays bounded, and what is past it is told apart from a repeat', async () => {
    const { deps, sessionId } = parts();
    await sent(deps, sessionId);
    for (let k = 0; k < 100; k++) {
      expect(await deps.notifications.recordDeliveryProblem(sessionId, 'Detection', { reportId: `evt-${String(k)}`, kind: 'DeliveryDelay', at: BOUNCE.at, recipients: ['ana@example.com'], detail: '' })).toEqual({
        recorded: true,
      });
    }
    expect(await recordMailEvent(deps, { ...BOUNCE, reportId: 'evt-100', sessionId, messageId: 'msg-1' })).toEqual({ recorded: false, reason: 'TooMany' });
    expect(await recordMailEvent(deps, { ...BOUNCE, reportId: 'evt-99', sessionId, messageId: 'msg-1' })).toEqual({ recorded: false, reason: 'Repeated' });
  });
});

describe('what the session log says of each report (pure)', () => {
  const event = (overrides: Partial<MailEvent>): MailEvent => ({ ...BOUNCE, sessionId: 's', messageId: 'm', ...overrides });
  const toAna: Pick<EmailRecord, 'key' | 'recipients'> = { key: 'Detection', recipients: ['ana@example.com'] };

  it("tells the account's suppression list from SES's global one, for a bounce and for a 'complaint' SES never sent", () => {
    expect(mailEventMessage(event({ subtype: 'OnAccountSuppressionList' }), toAna)).toMatch(
      /^the detection email was not sent to ana@example\.com: the address is on the account's suppression list after an earlier bounce or spam report; nobody it was for got it\. Correct the address .*, or take it off the account's suppression list in SES/,
    );
    expect(mailEventMessage(event({ kind: 'Complaint', subtype: 'OnAccountSuppressionList', recipients: [{ address: 'ana@example.com' }] }), toAna)).toMatch(/^the detection email was not sent to ana@example\.com: the address is on the account's suppression list/);
    expect(mailEventMessage(event({ subtype: 'Suppressed' }), toAna)).toMatch(/^the detection email was not sent to ana@example\.com: SES's global suppression list holds the address/);
  });

  it('says who reported the email as spam, what a rejection was, and an unclassified reply as probably arrived', () => {
    expect(mailEventMessage(event({ kind: 'Complaint', subtype: 'abuse', recipients: [{ address: 'ana@example.com' }] }), { key: 'FollowUp', recipients: ['ana@example.com'] })).toMatch(
      /^ana@example\.com reported the follow-up email as spam \(abuse\)\. SES sends the address nothing more/,
    );
    expect(mailEventMessage(event({ kind: 'Reject', reason: 'Bad content', recipients: [] }), { key: 'Cancelled#2', recipients: ['ana@example.com'] })).toBe('SES rejected the cancelled email and sent it to no one (Bad content)');
    expect(mailEventMessage(event({ bounceType: 'Undetermined', subtype: 'Undetermined', recipients: [] }), toAna)).toBe(
      'SES got a reply to the detection email from ana@example.com that it could not classify (often an out-of-office answer)',
    );
  });

  it("names the branding's BCC copy as such, and leaves the end user out of it", () => {
    const message = mailEventMessage(event({ recipients: [{ address: 'archive@msp.example', diagnostic: 'smtp; 550 no such user' }] }), toAna);
    expect(message).toBe(
      "the BCC copy of the detection email bounced at archive@msp.example (smtp; 550 no such user): the address does not take mail. Correct the branding's BCC address; SES sends it nothing more while it is on the account's suppression list",
    );
  });

  it("quotes a receiving server's answer on one line and in a short excerpt, once however many recipients share it", () => {
    const long = `smtp; 550 mailbox unavailable\r\n550-${'x'.repeat(5_000)}`;
    const message = mailEventMessage(event({ recipients: [{ address: 'a@example.com', diagnostic: long }, { address: 'b@example.com', diagnostic: long }] }), { key: 'Detection', recipients: ['a@example.com', 'b@example.com'] });
    expect(message.length).toBeLessThan(600);
    expect(message).toContain('a@example.com, b@example.com (smtp; 550 mailbox unavailable 550-xxx');
    expect(message).not.toMatch(/[\r\n]/);
    expect(message.match(/smtp; 550/g)).toHaveLength(1);
  });
});

describe("SES's EventBridge events in the use case's terms", () => {
  const envelope = { version: '0', id: 'b8a8e7c2-1d7c-4a6e-9f3e-000000000001', source: 'aws.ses', account: '111111111111', time: '2026-11-23T18:05:03Z', region: 'eu-west-1', resources: [] };
  const mail = {
    timestamp: '2026-11-23T18:05:00.000Z',
    source: 'Contoso IT <it@msp.example>',
    messageId: '0102019a-msg',
    destination: ['ana@example.com', 'office@example.com'],
    headersTruncated: false,
    tags: { 'ses:configuration-set': ['NightshiftMail'], session: ['ses_2026-11-23'], kind: ['Detection'] },
  };
  const parse = (event: unknown): MailEvent => mailEventOf(mailEventSchema.parse(event));

  it("reads a bounce as SES publishes it: SES's feedback id, the session and kind from the tags, each recipient with its answer", () => {
    const bounce = {
      ...envelope,
      'detail-type': 'Email Bounced',
      detail: {
        eventType: 'Bounce',
        mail,
        bounce: {
          feedbackId: '0102019a-feedback',
          bounceType: 'Permanent',
          bounceSubType: 'General',
          bouncedRecipients: [{ emailAddress: 'ana@example.com', action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }],
          timestamp: '2026-11-23T18:05:02.669Z',
          reportingMTA: 'dsn; a1-2.smtp-out.eu-west-1.amazonses.com',
        },
      },
    };
    expect(parse(bounce)).toEqual({
      reportId: '0102019a-feedback',
      messageId: '0102019a-msg',
      sessionId: 'ses_2026-11-23',
      emailKind: 'Detection',
      kind: 'Bounce',
      at: '2026-11-23T18:05:02.669Z',
      bounceType: 'Permanent',
      subtype: 'General',
      recipients: [{ address: 'ana@example.com', diagnostic: 'smtp; 550 5.1.1 user unknown' }],
    });
    // a receiving server's long answer is cut, not a reason to drop the report
    const chatty = structuredClone(bounce);
    chatty.detail.bounce.bouncedRecipients[0] = { ...bounce.detail.bounce.bouncedRecipients[0], diagnosticCode: 'y'.repeat(100_000) } as (typeof chatty.detail.bounce.bouncedRecipients)[0];
    expect(parse(chatty).recipients[0]?.diagnostic?.length).toBeLessThanOrEqual(1_000);
  });

  it('reads a spam report with its type, and one on the suppression list as SES declining to send', () => {
    const complaint = (complaint: Record<string, unknown>) => ({ ...envelope, 'detail-type': 'Email Complaint Received', detail: { eventType: 'Complaint', mail, complaint } });
    const base = { feedbackId: 'fb-2', complainedRecipients: [{ emailAddress: 'ana@example.com' }], timestamp: '2026-11-24T08:00:00.000Z' };
    expect(parse(complaint({ ...base, complaintSubType: null, complaintFeedbackType: 'abuse', userAgent: 'Yahoo!-Mail-Feedback/2.0' }))).toMatchObject({
      reportId: 'fb-2',
      kind: 'Complaint',
      at: '2026-11-24T08:00:00.000Z',
      subtype: 'abuse',
      recipients: [{ address: 'ana@example.com' }],
    });
    expect(parse(complaint({ ...base, complaintSubType: 'OnAccountSuppressionList' }))).toMatchObject({ subtype: 'OnAccountSuppressionList' });
  });

  it('reads a delay with its type and deadline, a rejection as every recipient, and mail without a session tag as no session', () => {
    const delay = {
      ...envelope,
      'detail-type': 'Email Delivery Delayed',
      detail: {
        eventType: 'DeliveryDelay',
        mail,
        deliveryDelay: {
          timestamp: '2026-11-23T19:00:00.000Z',
          delayType: 'MailboxFull',
          expirationTime: '2026-11-24T18:05:00Z',
          delayedRecipients: [{ emailAddress: 'ana@example.com', status: '4.2.2', diagnosticCode: 'smtp; 452 4.2.2 mailbox full' }],
        },
      },
    };
    expect(parse(delay)).toMatchObject({
      reportId: envelope.id,
      kind: 'DeliveryDelay',
      subtype: 'MailboxFull',
      expiresAt: '2026-11-24T18:05:00.000Z',
      recipients: [{ address: 'ana@example.com', diagnostic: 'smtp; 452 4.2.2 mailbox full' }],
    });
    const reject = { ...envelope, 'detail-type': 'Email Rejected', detail: { eventType: 'Reject', mail: { ...mail, tags: { 'ses:configuration-set': ['NightshiftMail'] } }, reject: { reason: 'Bad content' } } };
    expect(parse(reject)).toEqual({
      reportId: envelope.id,
      messageId: '0102019a-msg',
      kind: 'Reject',
      at: '2026-11-23T18:05:03.000Z',
      reason: 'Bad content',
      recipients: [{ address: 'ana@example.com' }, { address: 'office@example.com' }],
    });
  });
});
