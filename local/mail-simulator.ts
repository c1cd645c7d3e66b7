import { randomUUID } from 'node:crypto';
import { TransientError } from '../functions/core/errors.js';
import type { Clock } from '../functions/core/ports/clock.port.js';
import type { Logger } from '../functions/core/ports/logger.port.js';
import type { Mailer, OutgoingEmail } from '../functions/core/ports/mailer.port.js';

/**
 * The local twin of SES's mailbox simulator and of the sending events SES
 * puts on the default bus: mail to `bounce@simulator.amazonses.com` bounces,
 * to `complaint@…` is reported as spam, to `suppressionlist@…` bounces as an
 * address on SES's suppression list (each also with a `+label`). A moment after
 * such a send, the event SES would publish is handed to the `mail-events`
 * handler, as the stack's rule does. Every other address is delivered to the
 * local mailbox and raises nothing, as a delivered email raises nothing
 * Nightshift listens for.
 */

const SIMULATOR = /^(bounce|complaint|suppressionlist)(?:\+[^@]*)?@simulator\.amazonses\.com$/i;

/** What SES's events name the configuration set as, locally. */
const LOCAL_CONFIGURATION_SET = 'nightshift-local';

/**
 * SES reports a moment after it answered the send; by then the sender has
 * recorded it (one table write). A report that still comes too early is
 * retried, as Lambda retries an asynchronous event that failed, with backoff.
 */
const REPORT_DELAY_MS = 250;
const DELIVERY_ATTEMPTS = 5;

type Outcome = 'bounce' | 'complaint' | 'suppressionlist';

export interface MailEventDelivery {
  (event: unknown): Promise<unknown>;
}

export class SimulatedMailEvents implements Mailer {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly inner: Mailer,
    private readonly options: { readonly deliver: MailEventDelivery; readonly clock: Clock; readonly logger: Logger },
  ) {}

  async send(email: OutgoingEmail): Promise<{ readonly messageId: string }> {
    const sent = await this.inner.send(email);
    const outcomes = new Map<Outcome, string[]>();
    for (const to of [...email.to, ...email.bcc]) {
      const match = SIMULATOR.exec(to);
      const outcome = match?.[1]?.toLowerCase() as Outcome | undefined;
      if (outcome !== undefined) outcomes.set(outcome, [...(outcomes.get(outcome) ?? []), to]);
    }
    for (const [outcome, recipients] of outcomes) this.raise(this.eventFor(outcome, recipients, email, sent.messageId));
    return sent;
  }

  /** Resolves once every event raised so far was handled (or given up on). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private raise(event: unknown): void {
    const delivery = (async () => {
      await new Promise((resolve) => setTimeout(resolve, REPORT_DELAY_MS));
      for (let attempt = 1; ; attempt++) {
        try {
          await this.options.deliver(event);
          return;
        } catch (error) {
          if (!(error instanceof TransientError) || attempt === DELIVERY_ATTEMPTS) {
            this.options.logger.error('a simulated SES event was not handled', { error: error instanceof Error ? error.message : String(error) });
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, REPORT_DELAY_MS * 2 ** attempt));
        }
      }
    })();
    this.pending.add(delivery);
    void delivery.finally(() => this.pending.delete(delivery));
  }

  private eventFor(outcome: Outcome, recipients: readonly string[], email: OutgoingEmail, messageId: string): unknown {
    const at = this.options.clock.now().toISOString();
    const mail = {
      timestamp: at,
      messageId,
      destination: [...email.to, ...email.bcc],
      tags: {
        'ses:configuration-set': [LOCAL_CONFIGURATION_SET],
        ...Object.fromEntries(Object.entries(email.tags).map(([name, value]) => [name, [value]])),
      },
    };
    const envelope = { version: '0', id: randomUUID(), source: 'aws.ses', account: '000000000000', time: at, region: 'us-east-1', resources: [] };
    if (outcome === 'complaint') {
      return {
        ...envelope,
        'detail-type': 'Email Complaint Received',
        detail: { eventType: 'Complaint', mail, complaint: { complainedRecipients: recipients.map((emailAddress) => ({ emailAddress })), complaintFeedbackType: 'abuse', timestamp: at, feedbackId: randomUUID() } },
      };
    }
    const onList = outcome === 'suppressionlist';
    return {
      ...envelope,
      'detail-type': 'Email Bounced',
      detail: {
        eventType: 'Bounce',
        mail,
        bounce: {
          bounceType: 'Permanent',
          // the simulator's suppressed address stands for SES's global list (an account's own list reads OnAccountSuppressionList)
          bounceSubType: onList ? 'Suppressed' : 'General',
          bouncedRecipients: recipients.map((emailAddress) =>
            onList
              ? { emailAddress, action: 'failed', status: '5.1.1', diagnosticCode: 'Amazon SES has suppressed sending to this address because it has a recent history of bouncing as an invalid address.' }
              : { emailAddress, action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' },
          ),
          timestamp: at,
          feedbackId: randomUUID(),
          reportingMTA: 'dns; simulator.amazonses.com',
        },
      },
    };
  }
}
