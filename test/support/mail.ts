import { createHmacLinkTokens, type LinkKeyRing } from '../../functions/adapters/link-tokens.hmac.js';
import { DynamoBrandingStore } from '../../functions/adapters/branding-store.dynamodb.js';
import type { DynamoTable } from '../../functions/adapters/dynamodb-table.js';
import { DynamoNotificationStore } from '../../functions/adapters/notification-store.dynamodb.js';
import { templateRenderer } from '../../functions/adapters/renderer.templates.js';
import { systemClock } from '../../functions/adapters/system.js';
import type { Clock } from '../../functions/core/ports/clock.port.js';
import type { Mailer, OutgoingEmail } from '../../functions/core/ports/mailer.port.js';
import type { Dependencies } from '../../functions/core/use-cases/dependencies.js';

/** A fixed key ring: tests sign and check links without a secret store. */
export const TEST_KEY_RING: LinkKeyRing = { current: 'k1', keys: { k1: Buffer.alloc(32, 7).toString('base64') } };

export const TEST_LINK_BASE_URL = 'https://links.nightshift.test';

/** Keeps what it was asked to send, in order; `fail` makes the next sends throw. */
export class RecordingMailer implements Mailer {
  readonly sent: OutgoingEmail[] = [];
  fail: Error | undefined;

  send(email: OutgoingEmail): Promise<{ messageId: string }> {
    if (this.fail) return Promise.reject(this.fail);
    this.sent.push(email);
    return Promise.resolve({ messageId: `msg-${String(this.sent.length)}` });
  }
}

/** The end-user mail ports on the test's table, with a recording mailer and the real templates. */
export function mailParts(
  table: DynamoTable,
  mailer: Mailer = new RecordingMailer(),
  clock: Clock = systemClock,
): Pick<Dependencies, 'notifications' | 'branding' | 'mailer' | 'linkKeys' | 'renderer' | 'notifySettings'> {
  return {
    notifications: new DynamoNotificationStore(table, { retentionDays: 90, clock }),
    branding: new DynamoBrandingStore(table),
    mailer,
    linkKeys: createHmacLinkTokens(() => Promise.resolve(TEST_KEY_RING), () => clock.now().getTime()),
    renderer: templateRenderer,
    notifySettings: { linkBaseUrl: TEST_LINK_BASE_URL },
  };
}
