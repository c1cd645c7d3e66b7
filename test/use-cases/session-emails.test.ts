import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, TransientError } from '../../functions/core/errors.js';
import { notifyOptionsSchema, sessionOptionsSchema, type Session } from '../../functions/core/model/session.js';
import { emailDecision } from '../../functions/core/notifications/emails.js';
import { recordExecutionEnded } from '../../functions/core/use-cases/record-failure.js';
import { notifySession, sendSessionEmail, sendSessionEmailQuietly } from '../../functions/core/use-cases/session-emails.js';
import type { Dependencies } from '../../functions/core/use-cases/dependencies.js';
import { actionRecord, computer, sessionRecord } from '../support/domain.js';
import { RecordingMailer, TEST_LINK_BASE_URL } from '../support/mail.js';
import { useCaseHarness, type Harness } from './harness.js';

const NOTIFY = notifyOptionsSchema.parse({});
const WINDOW = '2026-11-23T22:00:00.000Z';
const options = (overrides: Partial<Session['options']['notify']> = {}) => sessionOptionsSchema.parse({ executeAt: WINDOW, notify: { ...NOTIFY, ...overrides } });

describe('which email goes out (pure)', () => {
  const session = (overrides: Partial<Session> = {}): Session => sessionRecord('s', { executeAt: WINDOW, options: options(), ...overrides });
  const install = actionRecord('s', '001');
  const audit = actionRecord('s', '002', { type: 'TaskAudit' });

  it('sends nothing to a session started without end-user email', () => {
    expect(emailDecision('Detection', session({ options: sessionOptionsSchema.parse({}) }), [install])).toEqual({ send: false, reason: 'NotRequested' });
  });

  it('sends the detection email when something changes; when nothing does, only if the schedule asks for it', () => {
    expect(emailDecision('Detection', session(), [install])).toEqual({ send: true });
    expect(emailDecision('Detection', session(), [audit])).toEqual({ send: false, reason: 'NothingToDo' });
    expect(emailDecision('Detection', session({ options: options({ detectionEmailWhenCompliant: true }) }), [audit])).toEqual({ send: true });
    expect(emailDecision('Detection', session({ status: 'Cancelled' }), [install])).toEqual({ send: false, reason: 'SessionCancelled' });
  });

  it('sends the follow-up only when asked, not for a cancelled session, and (by default) only when something changed', () => {
    expect(emailDecision('FollowUp', session({ status: 'Passed' }), [install])).toEqual({ send: true });
    expect(emailDecision('FollowUp', session({ status: 'Passed' }), [audit])).toEqual({ send: false, reason: 'NoActionNeeded' });
    expect(emailDecision('FollowUp', session({ status: 'Passed', options: options({ followUpOnlyIfActionNeeded: false }) }), [audit])).toEqual({ send: true });
    expect(emailDecision('FollowUp', session({ status: 'Cancelled' }), [install])).toEqual({ send: false, reason: 'SessionCancelled' });
    expect(emailDecision('FollowUp', session({ options: options({ followUpEmail: false }) }), [install])).toEqual({ send: false, reason: 'NotRequested' });
    // a detection-only session did nothing: its detection email already said what is due
    expect(emailDecision('FollowUp', session({ status: 'Passed', options: { ...options(), mode: 'DetectionOnly' } }), [install])).toEqual({ send: false, reason: 'DetectionOnly' });
  });
});

describe('sending a session email (dynalite, the real templates)', () => {
  const harness = useCaseHarness();
  let h: Harness;
  let mailer: RecordingMailer;
  let deps: Dependencies;

  const waitingSession = async (overrides: Partial<Session> = {}): Promise<Session> => {
    h = harness();
    mailer = new RecordingMailer();
    deps = { ...h.deps, mailer };
    h.clock.advance(Date.parse('2026-11-23T18:00:00.000Z') - h.clock.now().getTime());
    const computerId = `pc-${h.nextId()}`;
    await h.catalog.putComputer(computer(computerId, { name: "Ana's <b>laptop</b>", timeZone: 'Europe/Lisbon', primaryUser: { name: 'Ana Pereira', email: 'ana@example.com' } }));
    const session = await h.session({ computerId, computerName: "Ana's <b>laptop</b>", executeAt: WINDOW, options: options({ additionalRecipients: ['office@example.com'] }), ...overrides });
    await h.actions(session.id, [{ actionId: '001', itemName: 'Firefox', type: 'Update', fromVersion: '128.0', toVersion: '145.0' }]);
    return session;
  };

  it('sends the detection email once to the primary user and the additional people, with signed links that expire at the window', async () => {
    const session = await waitingSession();
    const first = await sendSessionEmail(deps, { sessionId: session.id, kind: 'Detection' });
    expect(first).toMatchObject({ sent: true, recipients: ['ana@example.com', 'office@example.com'] });
    // a retried step, and one racing it, send nothing more
    expect(await sendSessionEmail(deps, { sessionId: session.id, kind: 'Detection' })).toEqual({ sent: false, reason: 'AlreadySent' });
    expect(mailer.sent).toHaveLength(1);

    const [email] = mailer.sent;
    expect(email?.subject).toContain("Ana's <b>laptop</b>");
    const { document } = parseHTML(email?.html ?? '') as unknown as { document: { querySelector(selector: string): unknown; querySelectorAll(selector: string): Iterable<{ getAttribute(name: string): string | null }> } };
    expect(document.querySelector('b')).toBeNull();
    const hrefs = [...document.querySelectorAll('a')].map((a) => a.getAttribute('href') ?? '').filter((href) => href.startsWith(TEST_LINK_BASE_URL));
    expect(hrefs).toHaveLength(3);
    for (const href of hrefs) {
      const check = await deps.linkKeys.check(href.slice(`${TEST_LINK_BASE_URL}/l/`.length));
      expect(check.valid && check.claims.sessionId === session.id && check.claims.expiresAt === WINDOW, href).toBe(true);
    }
    // the window in the recipient's zone (Lisbon is UTC+0 in November), with the zone named
    expect(email?.text).toMatch(/Monday, November 23, 2026 at 10:00\sPM \(GMT\+0\)/);
    expect((await deps.notifications.listEmails(session.id)).map((record) => [record.key, record.status, record.messageId])).toEqual([['Detection', 'Sent', 'msg-1']]);
    expect(h.lines.filter((line) => line.kind === 'Email').map((line) => line.message)).toEqual(['detection email sent to ana@example.com, office@example.com']);
  });

  it('gives its claim back when the send fails, so the retried step sends at once (no duplicate, no loss)', async () => {
    const session = await waitingSession();
    mailer.fail = new TransientError('SES throttled');
    await expect(sendSessionEmail(deps, { sessionId: session.id, kind: 'Detection' })).rejects.toThrow(TransientError);
    expect(await deps.notifications.listEmails(session.id)).toEqual([]);
    mailer.fail = undefined;
    expect(await sendSessionEmail(deps, { sessionId: session.id, kind: 'Detection' })).toMatchObject({ sent: true });
    expect(mailer.sent).toHaveLength(1);
  });

  it('takes over a claim whose sender died (its lease ran out), and not before', async () => {
    const session = await waitingSession();
    const now = h.clock.now();
    await deps.notifications.claimEmail(session.id, 'Detection', now.toISOString(), new Date(now.getTime() + 120_000).toISOString());
    expect(await sendSessionEmail(deps, { sessionId: session.id, kind: 'Detection' })).toEqual({ sent: false, reason: 'BeingSent' });
    h.clock.advance(121_000);
    expect(await sendSessionEmail(deps, { sessionId: session.id, kind: 'Detection' })).toMatchObject({ sent: true });
    expect(mailer.sent).toHaveLength(1);
  });

  it('sends nothing to a computer without a primary user or other recipients', async () => {
    await waitingSession();
    const computerId = `bare-${h.nextId()}`;
    await h.catalog.putComputer(computer(computerId));
    const bare = await h.session({ computerId, executeAt: WINDOW, options: options() });
    await h.actions(bare.id, [{ actionId: '001' }]);
    expect(await sendSessionEmail(deps, { sessionId: bare.id, kind: 'Detection' })).toEqual({ sent: false, reason: 'NoRecipient' });
    expect(mailer.sent).toHaveLength(0);
    // the Notify step says why on the session, for the operator
    await notifySession(deps, bare.id);
    expect(h.lines.filter((line) => line.sessionId === bare.id && line.kind === 'Email').map((line) => line.message)).toEqual(['no detection email: the computer has no primary user and the schedule names no one else']);
  });

  it('the Notify step: a refused message is logged on the session and the maintenance goes on; a throttled SES is thrown to be retried', async () => {
    const session = await waitingSession();
    mailer.fail = new ConfigurationError('the sender is not verified in SES');
    expect(await notifySession(deps, session.id)).toEqual({ sent: false, reason: 'Failed' });
    expect(h.lines.filter((line) => line.kind === 'Problem').map((line) => line.message)).toEqual(['the detection email could not be sent: the sender is not verified in SES']);
    mailer.fail = new TransientError('throttled');
    await expect(notifySession(deps, session.id)).rejects.toThrow(TransientError);
  });

  it('a step that must not fail for mail (the report) gets undefined and a log line, never the error', async () => {
    const session = await waitingSession({ status: 'Passed' });
    mailer.fail = new TransientError('SES is down');
    expect(await sendSessionEmailQuietly(deps, { sessionId: session.id, kind: 'FollowUp' })).toBeUndefined();
    expect(h.lines.some((line) => line.kind === 'Problem' && line.message.includes('follow-up email could not be sent'))).toBe(true);
  });

  it("tells the user when the engine itself failed the session (its workflow died, not a step's Catch): one follow-up saying it did not complete", async () => {
    const session = await waitingSession({ status: 'Running' });
    await sendSessionEmail(deps, { sessionId: session.id, kind: 'Detection' });
    expect(await recordExecutionEnded(deps, { sessionId: session.id, status: 'TIMED_OUT' })).toEqual({ recorded: true });
    // the event delivered again: the session has ended already, so nothing more goes out
    expect(await recordExecutionEnded(deps, { sessionId: session.id, status: 'TIMED_OUT' })).toEqual({ recorded: false });
    expect(mailer.sent.map((email) => email.subject)).toEqual([expect.stringMatching(/^Maintenance/), "Maintenance did not complete: Ana's <b>laptop</b>"]);
    expect(mailer.sent[1]?.text).toMatch(/Your IT team has been told about the rest and will follow up/);
  });

  it('refuses to make links without a base URL, naming the setting', async () => {
    const session = await waitingSession();
    await expect(sendSessionEmail({ ...deps, notifySettings: { linkBaseUrl: '' } }, { sessionId: session.id, kind: 'Detection' })).rejects.toThrow(/LINK_BASE_URL/);
    expect(mailer.sent).toHaveLength(0);
  });
});
