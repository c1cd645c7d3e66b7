import { describe, expect, it } from 'vitest';
import { newStages, notifyOptionsSchema, sessionOptionsSchema, type Session } from '../../functions/core/model/session.js';
import { followUpEmail } from '../../functions/core/notifications/emails.js';
import { NIGHTSHIFT_BRANDING } from '../../functions/core/model/branding.js';
import { followLink, viewLink } from '../../functions/core/use-cases/end-user-links.js';
import { sendSessionEmail } from '../../functions/core/use-cases/session-emails.js';
import type { Dependencies } from '../../functions/core/use-cases/dependencies.js';
import { actionRecord, computer, sessionRecord } from '../support/domain.js';
import { RecordingMailer } from '../support/mail.js';
import { useCaseHarness, type Harness } from './harness.js';

const WINDOW = '2026-11-23T22:00:00.000Z';
const options = sessionOptionsSchema.parse({ executeAt: WINDOW, notify: notifyOptionsSchema.parse({}) });

describe('what an end user may still do from an email (dynalite)', () => {
  const harness = useCaseHarness();
  let h: Harness;
  let deps: Dependencies;
  let mailer: RecordingMailer;

  const waiting = async (overrides: Partial<Session> = {}): Promise<Session> => {
    h = harness();
    mailer = new RecordingMailer();
    deps = { ...h.deps, mailer };
    h.clock.advance(Date.parse('2026-11-23T18:00:00.000Z') - h.clock.now().getTime());
    const computerId = `pc-${h.nextId()}`;
    await h.catalog.putComputer(computer(computerId, { primaryUser: { name: 'Ana Pereira', email: 'ana@example.com' } }));
    const session = await h.session({ computerId, executeAt: WINDOW, options, ...overrides });
    await h.actions(session.id, [{ actionId: '001', type: 'Update', itemName: 'Firefox' }]);
    return session;
  };
  const link = (session: Session, purpose: 'Cancel' | 'Postpone' | 'RunNow', tokenId = `lnk-${purpose}`) =>
    deps.linkKeys.issue({ sessionId: session.id, purpose, expiresAt: WINDOW, tokenId });

  it('refuses a Cancel link once the maintenance runs (after Run now, or an operator), and changes nothing', async () => {
    const session = await waiting({ stages: { ...newStages(), Execution: { status: 'Running', startedAt: '2026-11-23T18:00:00.000Z' } } });
    const token = await link(session, 'Cancel');
    const page = await viewLink(deps, token);
    expect(page).toMatchObject({ tone: 'Refused', message: 'The maintenance has already started, so it can no longer be changed from this email.' });
    expect((await followLink(deps, token, 'lnk-Cancel')).tone).toBe('Refused');
    const after = await deps.sessions.getSession(session.id);
    expect([after?.status, after?.version]).toEqual([session.status, session.version]);
    expect(await deps.notifications.getLinkOutcome(session.id, 'lnk-Cancel')).toBeUndefined();
  });

  it("counts the postpone being confirmed on the page ('postpone 1 of the 2 allowed')", async () => {
    const session = await waiting();
    const page = await viewLink(deps, await link(session, 'Postpone'));
    expect(page.tone).toBe('Confirm');
    expect(page.message).toContain('This is postpone 1 of the 2 allowed.');
  });

  it('sends no "cancelled" to someone never told (no detection email went out), and one to someone told', async () => {
    const untold = await waiting();
    expect(await sendSessionEmail(deps, { sessionId: untold.id, kind: 'Cancelled', by: { kind: 'Operator', name: 'ops' } })).toEqual({ sent: false, reason: 'NeverTold' });
    expect(mailer.sent).toHaveLength(0);
    await sendSessionEmail(deps, { sessionId: untold.id, kind: 'Detection' });
    expect(await sendSessionEmail(deps, { sessionId: untold.id, kind: 'Cancelled', by: { kind: 'Operator', name: 'ops' } })).toMatchObject({ sent: true });
    expect(mailer.sent.map((email) => email.subject)).toEqual([expect.stringMatching(/^Maintenance on /), expect.stringMatching(/^Maintenance cancelled: /)]);
  });
});

describe('the follow-up in words (pure)', () => {
  const context = (session: Session, results: Array<'Success' | 'Failed' | 'Indeterminable'>) => ({
    session,
    actions: results.map((result, index) => actionRecord(session.id, String(index + 1).padStart(3, '0'), { status: 'Complete', result })),
    branding: NIGHTSHIFT_BRANDING,
    timeZone: 'UTC',
    links: {},
    now: WINDOW,
  });

  it('counts only confirmed results as done: an undetermined one is not "done"', () => {
    const view = followUpEmail(context(sessionRecord('s', { status: 'Passed', options }), ['Success', 'Indeterminable']));
    expect(view.headline).toBe('Maintenance partly complete');
    expect(view.paragraphs[0]).toMatch(/^1 of 2 change\(s\)/);
  });

  it('says a failed session with nothing done could not be completed, not that nothing needed to change', () => {
    const view = followUpEmail(context(sessionRecord('s', { status: 'Failed', options }), []));
    expect(view.headline).toBe('Maintenance could not be completed');
    expect(view.paragraphs[0]).toMatch(/could not be completed/);
  });
});
