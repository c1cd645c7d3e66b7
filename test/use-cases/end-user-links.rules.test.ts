import { describe, expect, it } from 'vitest';
import { createHmacLinkTokens } from '../../functions/adapters/link-tokens.hmac.js';
import { InMemoryMetrics } from '../../functions/adapters/metrics.memory.js';
import { NIGHTSHIFT_BRANDING } from '../../functions/core/model/branding.js';
import { newStages, notifyOptionsSchema, sessionOptionsSchema, type Session } from '../../functions/core/model/session.js';
import { formatInstant } from '../../functions/core/notifications/emails.js';
import type { LinkPurpose } from '../../functions/core/notifications/links.js';
import type { Dependencies } from '../../functions/core/use-cases/dependencies.js';
import { followLink, linkPath, viewLink } from '../../functions/core/use-cases/end-user-links.js';
import { computer } from '../support/domain.js';
import { useCaseHarness, type Harness } from './harness.js';

/**
 * The end user's email buttons, rule by rule (dynalite): which page a link
 * shows, what its POST does once, and every way it is refused in words
 * without changing the session.
 */

const NOW = '2026-11-23T18:00:00.000Z';
const WINDOW = '2026-11-23T22:00:00.000Z';
const EXPIRES = '2026-11-24T06:00:00.000Z';
const options = (postpone: Partial<Session['options']['postpone']> = {}, extra: Record<string, unknown> = {}) =>
  sessionOptionsSchema.parse({ executeAt: WINDOW, notify: notifyOptionsSchema.parse({}), postpone: { delayMinutes: 60, maxCount: 2, ...postpone }, ...extra });

describe('an end user’s email link, rule by rule (dynalite)', () => {
  const harness = useCaseHarness();
  let h: Harness;
  let deps: Dependencies;

  /** A session waiting for its window on a computer in `timeZone` whose user is Ana (no computer at all for `null`). */
  const waiting = async (overrides: Partial<Session> = {}, timeZone: string | null = 'UTC'): Promise<Session> => {
    h = harness();
    deps = h.deps;
    h.clock.advance(Date.parse(NOW) - h.clock.now().getTime());
    const computerId = `pc-${h.nextId()}`;
    if (timeZone !== null) await h.catalog.putComputer(computer(computerId, { timeZone, primaryUser: { name: 'Ana Pereira', email: 'ana@example.com' } }));
    const session = await h.session({ computerId, computerName: 'ANA-LAPTOP', executeAt: WINDOW, options: options(), ...overrides });
    await h.actions(session.id, [
      { actionId: '001', type: 'Update', itemName: 'Firefox', fromVersion: '1.0', toVersion: '2.0' },
      { actionId: '002', type: 'TaskAudit', itemName: 'Disk check' },
    ]);
    return session;
  };
  const link = (session: Session, purpose: LinkPurpose, expiresAt = EXPIRES) => deps.linkKeys.issue({ sessionId: session.id, purpose, expiresAt, tokenId: `lnk-${purpose}` });
  const when = (at: string, timeZone = 'UTC') => formatInstant(at, NIGHTSHIFT_BRANDING, timeZone);

  describe('a link that cannot be checked or whose session is gone', () => {
    it('says a link whose key was withdrawn is no longer valid, in the plain branding, with nothing to do', async () => {
      const session = await waiting();
      const otherRing = createHmacLinkTokens(() => Promise.resolve({ current: 'k9', keys: { k9: Buffer.alloc(32, 9).toString('base64') } }), () => Date.parse(NOW));
      const token = await otherRing.issue({ sessionId: session.id, purpose: 'Cancel', expiresAt: EXPIRES, tokenId: 'lnk-old-key' });
      const page = { branding: NIGHTSHIFT_BRANDING, tone: 'Invalid', title: 'This link is no longer valid', message: 'The link was withdrawn. If you still need to change the maintenance, contact your IT team.', actions: [] };
      expect(await viewLink(deps, token)).toEqual(page);
      expect(await followLink(deps, token, 'lnk-old-key')).toEqual(page);
      expect((await deps.sessions.getSession(session.id))?.status).toBe('Running');
    });

    it('says a forged or cut link is not valid', async () => {
      const session = await waiting();
      const token = await link(session, 'Cancel');
      const forged = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
      expect(await viewLink(deps, forged)).toEqual({
        branding: NIGHTSHIFT_BRANDING,
        tone: 'Invalid',
        title: 'This link is not valid',
        message: 'The link may have been cut or changed when it was copied. Open it from the email again, or contact your IT team.',
        actions: [],
      });
      expect((await viewLink(deps, 'not-a-token')).title).toBe('This link is not valid');
    });

    it('says a session that no longer exists has nothing to change', async () => {
      h = harness();
      deps = h.deps;
      const token = await deps.linkKeys.issue({ sessionId: 'ses-gone', purpose: 'Cancel', expiresAt: EXPIRES, tokenId: 'lnk-gone' });
      expect(await viewLink(deps, token)).toEqual({
        branding: NIGHTSHIFT_BRANDING,
        tone: 'Invalid',
        title: 'This maintenance no longer exists',
        message: 'There is nothing to change. If you have questions, contact your IT team.',
        actions: [],
      });
    });
  });

  describe('the confirmation page', () => {
    it('shows the computer, its window in the computer’s time zone and only the actions that change it, with a form that posts back to the link', async () => {
      const session = await waiting({}, 'Europe/Lisbon');
      const token = await link(session, 'Cancel');
      expect(await viewLink(deps, token)).toEqual({
        branding: NIGHTSHIFT_BRANDING,
        computerName: 'ANA-LAPTOP',
        windowOpensAt: when(WINDOW, 'Europe/Lisbon'),
        actions: [{ title: 'Update Firefox from 1.0 to 2.0' }],
        tone: 'Confirm',
        title: 'Cancel the maintenance',
        message: 'The maintenance of ANA-LAPTOP will not happen this time. Your IT team will be told.',
        form: { action: linkPath(token), buttonLabel: 'Cancel', csrfToken: 'lnk-Cancel' },
      });
      expect(linkPath('abc')).toBe('/l/abc');
    });

    it('reads the window in UTC when the computer is no longer in the catalog', async () => {
      const session = await waiting({}, null);
      const page = await viewLink(deps, await link(session, 'RunNow'));
      expect(page).toMatchObject({
        tone: 'Confirm',
        title: 'Start the maintenance now',
        windowOpensAt: when(WINDOW),
        message: 'The maintenance of ANA-LAPTOP will start now instead of at its planned time. Save your work first.',
        form: { buttonLabel: 'Run it now', csrfToken: 'lnk-RunNow' },
      });
    });

    it('counts the postpone being confirmed against the allowed ones', async () => {
      const session = await waiting({ options: options({ delayMinutes: 90, maxCount: 3 }) });
      const page = await viewLink(deps, await link(session, 'Postpone'));
      expect(page).toMatchObject({
        tone: 'Confirm',
        title: 'Postpone the maintenance',
        message: 'The maintenance of ANA-LAPTOP will move 90 minutes later. This is postpone 1 of the 3 allowed.',
        form: { buttonLabel: 'Postpone' },
      });
    });

    it('shows no window for a session without one', async () => {
      const session = await waiting({ executeAt: undefined as never });
      const page = await viewLink(deps, await link(session, 'Cancel'));
      expect(page.tone).toBe('Confirm');
      expect(page).not.toHaveProperty('windowOpensAt');
    });
  });

  describe('why a link cannot act now', () => {
    const refusedWith = async (session: Session, purpose: LinkPurpose, message: string, expiresAt = EXPIRES) => {
      const token = await link(session, purpose, expiresAt);
      const page = await viewLink(deps, token);
      expect(page).toMatchObject({ tone: 'Refused', title: 'This link cannot be used', message });
      expect(page).not.toHaveProperty('form');
      const posted = await followLink(deps, token, `lnk-${purpose}`);
      expect(posted).toMatchObject({ tone: 'Refused', title: 'This link cannot be used', message });
      const after = await deps.sessions.getSession(session.id);
      expect([after?.status, after?.version, after?.executeAt]).toEqual([session.status, session.version, session.executeAt]);
      expect(await deps.notifications.getLinkOutcome(session.id, `lnk-${purpose}`)).toBeUndefined();
      return page;
    };

    it('says a cancelled maintenance was already cancelled, and shows no window for it', async () => {
      const page = await refusedWith(await waiting({ status: 'Cancelled' }), 'Postpone', 'This maintenance was already cancelled. Nothing will change on the computer.');
      expect(page).not.toHaveProperty('windowOpensAt');
    });

    it('says a maintenance that ended otherwise has already finished', async () => {
      await refusedWith(await waiting({ status: 'Passed' }), 'Cancel', 'This maintenance has already finished.');
    });

    it('says a maintenance that started can no longer be changed from the email', async () => {
      await refusedWith(await waiting({ stages: { ...newStages(), Execution: { status: 'Running', startedAt: NOW } } }), 'RunNow', 'The maintenance has already started, so it can no longer be changed from this email.');
    });

    it('says a link expired at the very instant it expires', async () => {
      await refusedWith(await waiting(), 'Cancel', 'This link has expired. Use the buttons in the most recent email about this maintenance, or contact your IT team.', NOW);
    });

    it('says how often it was postponed once the count is used up, in words for none, once and several times', async () => {
      const postponement = (ref: string) => ({ at: NOW, by: { kind: 'EndUser' as const, name: 'ana@example.com' }, from: WINDOW, to: WINDOW, ref });
      await refusedWith(await waiting({ options: options({ maxCount: 0 }) }), 'Postpone', 'This maintenance cannot be postponed.');
      await refusedWith(await waiting({ options: options({ maxCount: 1 }), postponements: [postponement('lnk-a')] }), 'Postpone', 'The maintenance can no longer be postponed: it was already postponed once, the most allowed.');
      await refusedWith(
        await waiting({ options: options({ maxCount: 2 }), postponements: [postponement('lnk-a'), postponement('lnk-b')] }),
        'Postpone',
        'The maintenance can no longer be postponed: it was already postponed 2 times, the most allowed.',
      );
    });

    it('lets the link that made the last postpone through the count (its own postpone is not held against it)', async () => {
      const session = await waiting({ options: options({ maxCount: 1 }), postponements: [{ at: NOW, by: { kind: 'EndUser', name: 'ana@example.com' }, from: WINDOW, to: WINDOW, ref: 'lnk-Postpone' }] });
      expect((await viewLink(deps, await link(session, 'Postpone'))).tone).toBe('Confirm');
    });

    it('says a postpone the session’s rules refuse cannot happen, naming the latest it could move to when it has a deadline', async () => {
      const deadline = '2026-11-23T22:30:00.000Z';
      await refusedWith(await waiting({ options: options({ deadline }) }), 'Postpone', `The maintenance can no longer be postponed: it cannot move past ${when(deadline)}.`);
      await refusedWith(await waiting({ status: 'Created' }), 'Postpone', 'The maintenance can no longer be postponed.');
    });

    it('says a run-now the session’s rules refuse cannot happen (a detection-only session)', async () => {
      await refusedWith(await waiting({ options: options({}, { mode: 'DetectionOnly' }) }), 'RunNow', 'The maintenance can no longer be started early.');
    });
    it('holds a Cancel link only to the cancel rule: no postpone left, a session not started yet or one that only detects can still be cancelled', async () => {
      for (const overrides of [{ options: options({ maxCount: 0 }) }, { status: 'Created' as const }, { options: options({}, { mode: 'DetectionOnly' }) }]) {
        const session = await waiting(overrides);
        expect((await viewLink(deps, await link(session, 'Cancel'))).tone).toBe('Confirm');
      }
    });
  });

  describe('the form’s POST', () => {
    it('refuses a post without the link’s own form field, and changes nothing', async () => {
      const session = await waiting();
      const token = await link(session, 'Cancel');
      for (const csrf of [undefined, 'lnk-other']) {
        expect(await followLink(deps, token, csrf)).toMatchObject({ tone: 'Refused', title: 'Please confirm from the page', message: 'Open the link from your email again and press the button on the page that opens.' });
      }
      expect((await deps.sessions.getSession(session.id))?.status).toBe('Running');
    });

    it('postpones once, by the computer’s user, says when it now starts and how many are left, and shows the first outcome to every later view and post', async () => {
      const session = await waiting();
      const token = await link(session, 'Postpone');
      const moved = '2026-11-23T23:00:00.000Z';
      const done = await followLink(deps, token, 'lnk-Postpone');
      const message = `It now starts on ${when(moved)}. You can postpone it 1 more time(s).`;
      expect(done).toEqual({ branding: NIGHTSHIFT_BRANDING, computerName: 'ANA-LAPTOP', windowOpensAt: when(WINDOW), actions: [{ title: 'Update Firefox from 1.0 to 2.0' }], tone: 'Done', title: 'Maintenance postponed', message });
      const after = await deps.sessions.getSession(session.id);
      expect(after?.executeAt).toBe(moved);
      expect(after?.postponements.map((p) => [p.by, p.ref])).toEqual([[{ kind: 'EndUser', name: 'ana@example.com' }, 'lnk-Postpone']]);
      expect(await deps.notifications.getLinkOutcome(session.id, 'lnk-Postpone')).toEqual({ sessionId: session.id, tokenId: 'lnk-Postpone', purpose: 'Postpone', at: NOW, by: { kind: 'EndUser', name: 'ana@example.com' }, result: 'Done', message });

      h.clock.advance(60_000);
      const again = `This link was already used on ${when(NOW)}: the maintenance was postponed. ${message}`;
      expect(await viewLink(deps, token)).toMatchObject({ tone: 'AlreadyDone', title: 'Maintenance postponed', message: again });
      expect(await followLink(deps, token, 'lnk-Postpone')).toMatchObject({ tone: 'AlreadyDone', message: again });
      expect((await deps.sessions.getSession(session.id))?.postponements).toHaveLength(1);
    });

    it('says the last allowed postpone cannot be repeated', async () => {
      const session = await waiting({ options: options({ maxCount: 1 }) });
      const done = await followLink(deps, await link(session, 'Postpone'), 'lnk-Postpone');
      expect(done.message).toBe(`It now starts on ${when('2026-11-23T23:00:00.000Z')}. It cannot be postponed again.`);
    });

    it('acts as the end user when the computer has no primary user', async () => {
      const session = await waiting();
      await h.catalog.putComputer(computer(session.computerId, { timeZone: 'UTC' }));
      await followLink(deps, await link(session, 'Cancel'), 'lnk-Cancel');
      expect((await deps.sessions.getSession(session.id))?.cancelled?.by).toEqual({ kind: 'EndUser', name: 'end user (email link)' });
    });

    it('cancels, as the end user of an unknown computer when the catalog no longer has it, and counts the decision', async () => {
      const session = await waiting({}, null);
      const page = await followLink(deps, await link(session, 'Cancel'), 'lnk-Cancel');
      expect(page).toMatchObject({ tone: 'Done', title: 'Maintenance cancelled', message: 'Nothing will change on the computer this time. Your IT team has been told.' });
      const after = await deps.sessions.getSession(session.id);
      expect(after?.status).toBe('Cancelled');
      expect(after?.cancelled?.by).toEqual({ kind: 'EndUser', name: 'end user (email link)' });
      expect((await deps.notifications.getLinkOutcome(session.id, 'lnk-Cancel'))?.message).toBe('Nothing will change on the computer this time. Your IT team has been told.');
      expect(await viewLink(deps, await link(session, 'Cancel'))).toMatchObject({ tone: 'AlreadyDone', message: expect.stringContaining('the maintenance was cancelled.') as unknown });
    });

    it('starts the maintenance now', async () => {
      const session = await waiting();
      const page = await followLink(deps, await link(session, 'RunNow'), 'lnk-RunNow');
      expect(page).toMatchObject({ tone: 'Done', title: 'Maintenance starting now', message: 'The maintenance is starting now. You will get an email when it is done.' });
      expect((await deps.sessions.getSession(session.id))?.executeAt).toBe(NOW);
      expect(await viewLink(deps, await link(session, 'RunNow'))).toMatchObject({ tone: 'AlreadyDone', message: expect.stringContaining('the maintenance was started early.') as unknown });
    });

    it('counts each decision once', async () => {
      const session = await waiting();
      const token = await link(session, 'RunNow');
      const counted = () => {
        const metrics = h.deps.metrics;
        if (!(metrics instanceof InMemoryMetrics)) throw new Error('the harness counts in memory');
        return metrics.total('EndUserDecisions');
      };
      await followLink(deps, token, 'lnk-RunNow');
      await followLink(deps, token, 'lnk-RunNow');
      expect(counted()).toBe(1);
    });

    it('shows a refusal recorded for the link with when it was used', async () => {
      const session = await waiting();
      const token = await link(session, 'Cancel');
      await deps.notifications.recordLinkOutcome({ sessionId: session.id, tokenId: 'lnk-Cancel', purpose: 'Cancel', at: NOW, by: { kind: 'EndUser', name: 'ana@example.com' }, result: 'Refused', message: 'it had started' });
      expect(await viewLink(deps, token)).toMatchObject({ tone: 'Refused', title: 'The maintenance was not changed', message: `When this link was used on ${when(NOW)}: it had started` });
    });
  });

  describe('a session that moves between the page and the POST', () => {
    /** The sessions store answering `stale` for the first read (the page's check), then the store's own; with `gone`, nothing after the write's read. */
    const movedAfterFirstRead = (stale: Session, then: 'store' | 'gone') => {
      let reads = 0;
      const sessions = deps.sessions;
      deps = {
        ...deps,
        sessions: Object.assign(Object.create(sessions) as typeof sessions, {
          getSession: (id: string) => {
            reads += 1;
            if (reads === 1) return Promise.resolve(stale);
            // the write's own read sees the store; the read after its refusal finds nothing when the session is gone
            return then === 'gone' && reads > 2 ? Promise.resolve(undefined) : sessions.getSession(id);
          },
        }),
      };
    };

    it('says why from the session as it is now, and records nothing against the link', async () => {
      const session = await waiting();
      await deps.sessions.updateSession(session.id, session.version, { status: 'Cancelled' }, NOW);
      movedAfterFirstRead(session, 'store');
      const page = await followLink(deps, await link(session, 'Postpone'), 'lnk-Postpone');
      expect(page).toMatchObject({ tone: 'Refused', title: 'This link cannot be used', message: 'This maintenance was already cancelled. Nothing will change on the computer.' });
      expect(await deps.notifications.getLinkOutcome(session.id, 'lnk-Postpone')).toBeUndefined();
    });

    it('says the maintenance changed when the session can no longer be read', async () => {
      const session = await waiting();
      await deps.sessions.updateSession(session.id, session.version, { status: 'Cancelled' }, NOW);
      movedAfterFirstRead(session, 'gone');
      const page = await followLink(deps, await link(session, 'Postpone'), 'lnk-Postpone');
      expect(page).toMatchObject({ tone: 'Refused', message: 'The maintenance changed while you were deciding. Open the link again to see where it stands.' });
    });

    it('passes on a failure that is not a refusal (the store down), recording nothing', async () => {
      const session = await waiting();
      const sessions = deps.sessions;
      deps = { ...deps, sessions: Object.assign(Object.create(sessions) as typeof sessions, { updateSession: () => Promise.reject(new Error('table unavailable')) }) };
      await expect(followLink(deps, await link(session, 'Cancel'), 'lnk-Cancel')).rejects.toThrow('table unavailable');
      expect(await deps.notifications.getLinkOutcome(session.id, 'lnk-Cancel')).toBeUndefined();
    });
  });
});
