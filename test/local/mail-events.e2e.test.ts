import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notifyOptionsSchema, type SessionLogEntry } from '../../functions/core/model/session.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { everywhere, runtimeWithFleet, testComputer, testSoftware } from '../support/fleet.js';

/**
 * SES's reports on end-user email, end to end on the local runtime: sessions
 * mail users at SES's mailbox-simulator addresses, the runtime's twin of SES
 * raises the event SES would put on the bus, and the same `mail-events`
 * handler the stack's rule targets puts it in the session's log.
 */

const NOTIFY = notifyOptionsSchema.parse({});

describe('bounces and spam reports reach the session that sent the email (local runtime, SES mailbox simulator)', () => {
  let runtime: LocalRuntime;
  beforeAll(async () => {
    runtime = await runtimeWithFleet(
      {
        software: [testSoftware('editor', '2.0')],
        deployments: [everywhere('editor')],
        machines: [
          { computer: testComputer('pc-gone', 'i-00000000000000m01', { name: 'Desk gone', primaryUser: { name: 'Left Company', email: 'bounce@simulator.amazonses.com' } }) },
          { computer: testComputer('pc-spam', 'i-00000000000000m02', { name: 'Desk spam', primaryUser: { name: 'Annoyed User', email: 'complaint@simulator.amazonses.com' } }) },
          { computer: testComputer('pc-listed', 'i-00000000000000m04', { name: 'Desk listed', primaryUser: { name: 'Listed User', email: 'suppressionlist@simulator.amazonses.com' } }) },
          { computer: testComputer('pc-ok', 'i-00000000000000m03', { name: 'Desk ok', primaryUser: { name: 'Happy User', email: 'happy@contoso.example' } }) },
        ],
      },
      { linkBaseUrl: 'http://127.0.0.1:9' },
    );
  });
  afterAll(() => runtime.close());

  const linesOf = async (sessionId: string): Promise<readonly SessionLogEntry[]> => (await runtime.deps.sessionLog.read(sessionId, { limit: 500 })).entries;

  /** Runs a notified session to its end, then waits for SES's reports on its emails to be handled. */
  async function notifiedSession(computerId: string): Promise<string> {
    const { sessionId } = await runtime.startSession(computerId, undefined, { notify: NOTIFY });
    await runtime.waitForSession(sessionId);
    await runtime.mailEvents.idle();
    return sessionId;
  }

  it('says in the session log that the detection and follow-up emails bounced, with the server\'s answer, and counts each once', async () => {
    const sessionId = await notifiedSession('pc-gone');
    const lines = await linesOf(sessionId);
    const problems = lines.filter((line) => line.kind === 'Problem').map((line) => line.message);
    expect(problems).toEqual([
      expect.stringMatching(/^the detection email bounced at bounce@simulator\.amazonses\.com \(smtp; 550 5\.1\.1 user unknown\): the address does not take mail; nobody it was for got it\. Correct the address/),
      expect.stringMatching(/^the follow-up email bounced at bounce@simulator\.amazonses\.com/),
    ]);
    // the send lines stay (SES took the emails), and the report follows them
    expect(lines.filter((line) => line.kind === 'Email').map((line) => line.message)).toEqual([
      'detection email sent to bounce@simulator.amazonses.com',
      'follow-up email sent to bounce@simulator.amazonses.com',
    ]);
    const records = await runtime.deps.notifications.listEmails(sessionId);
    expect(records.map((record) => [record.key, record.deliveryProblem?.kind, record.deliveryProblem?.recipients])).toEqual([
      ['Detection', 'Bounce', ['bounce@simulator.amazonses.com']],
      ['FollowUp', 'Bounce', ['bounce@simulator.amazonses.com']],
    ]);
    expect(runtime.metrics.total('EmailsUndelivered')).toBe(2);
  });

  it('says who reported the email as spam and which address SES would not send to, and raises nothing for an address that takes mail', async () => {
    const before = runtime.metrics.total('EmailsUndelivered');
    const spam = await notifiedSession('pc-spam');
    expect((await linesOf(spam)).filter((line) => line.kind === 'Problem').map((line) => line.message)).toEqual([
      expect.stringMatching(/^complaint@simulator\.amazonses\.com reported the detection email as spam \(abuse\)/),
      expect.stringMatching(/^complaint@simulator\.amazonses\.com reported the follow-up email as spam/),
    ]);

    const listed = await notifiedSession('pc-listed');
    expect((await linesOf(listed)).filter((line) => line.kind === 'Problem').map((line) => line.message)).toEqual([
      expect.stringMatching(/^the detection email was not sent to suppressionlist@simulator\.amazonses\.com: SES's global suppression list holds the address/),
      expect.stringMatching(/^the follow-up email was not sent to suppressionlist@simulator\.amazonses\.com/),
    ]);

    const ok = await notifiedSession('pc-ok');
    const okLines = await linesOf(ok);
    expect(okLines.filter((line) => line.kind === 'Email')).toHaveLength(2);
    expect(okLines.filter((line) => line.kind === 'Problem')).toEqual([]);
    expect((await runtime.deps.notifications.listEmails(ok)).map((record) => record.deliveryProblem)).toEqual([undefined, undefined]);
    expect(runtime.metrics.total('EmailsUndelivered')).toBe(before + 4);
  });
});
