import { describe, expect, it, vi } from 'vitest';
import { InMemoryMetrics } from '../../functions/adapters/metrics.memory.js';
import { ConfigurationError, NotFoundError, TransientError } from '../../functions/core/errors.js';
import { NIGHTSHIFT_BRANDING, type Branding } from '../../functions/core/model/branding.js';
import { notifyOptionsSchema, sessionOptionsSchema, type Requester, type Session } from '../../functions/core/model/session.js';
import type { Renderer } from '../../functions/core/ports/renderer.port.js';
import type { Dependencies } from '../../functions/core/use-cases/dependencies.js';
import { brandingFor, notifySession, sendSessionEmail, sendSessionEmailQuietly, tenantChain } from '../../functions/core/use-cases/session-emails.js';
import { computer, tenant } from '../support/domain.js';
import { RecordingMailer } from '../support/mail.js';
import { useCaseHarness, type Harness } from './harness.js';

/**
 * The rules of sending a session's end-user email (dynalite, the real
 * templates, a recording mailer): whose branding and which tenants, which
 * links and until when, what the outgoing message carries, the keys that
 * tell confirmations apart, and what a failure leaves behind (a log line, a
 * metric, a released claim) whichever step it happens in.
 */

const NOW = '2026-11-23T18:00:00.000Z';
const WINDOW = '2026-11-23T22:00:00.000Z';
const DAY_MS = 86_400_000;
const ENGINEER: Requester = { kind: 'Operator', name: 'ops@msp.example' };
const END_USER: Requester = { kind: 'EndUser', name: 'ana@example.com' };

const options = (overrides: Record<string, unknown> = {}, notify: Record<string, unknown> = {}) =>
  sessionOptionsSchema.parse({ executeAt: WINDOW, notify: { ...notifyOptionsSchema.parse({}), ...notify }, ...overrides });

const tenantBranding = (tenantId: string, fields: Partial<Branding>): Branding => ({ owner: { kind: 'Tenant', tenantId }, id: 'default', version: 1, updatedAt: NOW, ...fields });

describe('sending session emails: the rules', () => {
  const harness = useCaseHarness();
  let n = 0;

  interface Setup {
    h: Harness;
    deps: Dependencies;
    mailer: RecordingMailer;
    metrics: InMemoryMetrics;
    tenantId: string;
    session: Session;
  }

  /** A tenant, a computer in Lisbon whose primary user is Ana, and a session waiting for its window with one update to make. */
  async function setup(overrides: Partial<Session> = {}, computerOverrides: Record<string, unknown> = {}): Promise<Setup> {
    const h = harness();
    h.clock.advance(Date.parse(NOW) - h.clock.now().getTime());
    const mailer = new RecordingMailer();
    const metrics = new InMemoryMetrics();
    const deps: Dependencies = { ...h.deps, mailer, metrics };
    const tenantId = `em${String(++n)}${Date.now().toString(36)}`;
    await h.catalog.putTenant(tenant(tenantId));
    const computerId = `pc-${tenantId}`;
    await h.catalog.putComputer(computer(computerId, { tenantId, name: 'Laptop', timeZone: 'Europe/Lisbon', primaryUser: { name: 'Ana Pereira', email: 'Ana@Example.com' }, ...computerOverrides }));
    const session = await h.session({ computerId, computerName: 'Laptop', tenantId, executeAt: WINDOW, options: options(), ...overrides });
    await h.actions(session.id, [{ actionId: '001', itemName: 'Firefox', type: 'Update', fromVersion: '128.0', toVersion: '145.0' }]);
    return { h, deps, mailer, metrics, tenantId, session };
  }

  describe('a tenant’s chain and branding', () => {
    it('follows a tenant’s parents outermost first, stopping at a missing parent, a loop, or eight tenants', async () => {
      const { h, deps } = await setup();
      const id = `chain${String(++n)}${Date.now().toString(36)}`;
      const ids = Array.from({ length: 10 }, (_, index) => `${id}-${String(index)}`);
      // 0 is the root; each next one is the child of the one before
      for (const [index, tenantId] of ids.entries()) await h.catalog.putTenant(tenant(tenantId, index === 0 ? {} : { parentTenantId: ids[index - 1] }));
      const reads = vi.spyOn(deps.catalog, 'getTenant');
      expect((await tenantChain(deps, ids[2] ?? '')).map((t) => t.id)).toEqual(ids.slice(0, 3));
      // the root has no parent to read
      expect(reads.mock.calls).toEqual([[ids[2]], [ids[1]], [ids[0]]]);
      expect((await tenantChain(deps, ids[9] ?? '')).map((t) => t.id)).toEqual(ids.slice(2));
      await h.catalog.putTenant(tenant(`${id}-orphan`, { parentTenantId: `${id}-gone` }));
      expect((await tenantChain(deps, `${id}-orphan`)).map((t) => t.id)).toEqual([`${id}-orphan`]);
      await h.catalog.putTenant(tenant(`${id}-x`, { parentTenantId: `${id}-y` }));
      await h.catalog.putTenant(tenant(`${id}-y`, { parentTenantId: `${id}-x` }));
      expect((await tenantChain(deps, `${id}-x`)).map((t) => t.id)).toEqual([`${id}-y`, `${id}-x`]);
      expect(await tenantChain(deps, `${id}-nobody`)).toEqual([]);
    });

    it('brands with a tenant’s override over its parent’s, and with Nightshift’s own for no tenant', async () => {
      const { h, deps, tenantId } = await setup();
      const child = `${tenantId}-child`;
      await h.catalog.putTenant(tenant(child, { parentTenantId: tenantId }));
      await deps.branding.put(tenantBranding(tenantId, { companyName: 'Parent Co', fromName: 'Parent IT' }), 0);
      await deps.branding.put(tenantBranding(child, { fromName: 'Child IT' }), 0);
      const list = vi.spyOn(deps.branding, 'list');
      expect(await brandingFor(deps, child, new Date(NOW), 'UTC')).toMatchObject({ companyName: 'Parent Co', fromName: 'Child IT' });
      expect(list.mock.calls).toEqual([[{ kind: 'Msp' }], [{ kind: 'Tenant', tenantId }], [{ kind: 'Tenant', tenantId: child }]]);
      list.mockClear();
      expect(await brandingFor(deps, undefined, new Date(NOW), 'UTC')).toEqual(NIGHTSHIFT_BRANDING);
      expect(list.mock.calls).toEqual([[{ kind: 'Msp' }]]);
    });
  });

  describe('the message', () => {
    it('goes from the tenant’s sender, with its copy and reply-to address, tagged with the session and kind, and is counted and logged', async () => {
      const { deps, mailer, metrics, tenantId, session, h } = await setup();
      await deps.branding.put(tenantBranding(tenantId, { fromAddress: 'it@tenant.example', fromName: 'Tenant IT', bccAddress: 'records@tenant.example', supportEmail: 'help@tenant.example' }), 0);
      const outcome = await sendSessionEmail(deps, { sessionId: session.id, kind: 'Detection' });
      expect(outcome).toEqual({ sent: true, messageId: 'msg-1', recipients: ['ana@example.com'] });
      expect(mailer.sent[0]).toMatchObject({
        from: { address: 'it@tenant.example', name: 'Tenant IT' },
        to: ['ana@example.com'],
        bcc: ['records@tenant.example'],
        replyTo: 'help@tenant.example',
        tags: { session: session.id, kind: 'Detection' },
      });
      expect(mailer.sent[0]?.text).toContain('Hello Ana,');
      expect(metrics.total('EmailsSent')).toBe(1);
      const [record] = await deps.notifications.listEmails(session.id);
      expect(record).toMatchObject({ key: 'Detection', status: 'Sent', messageId: 'msg-1', recipients: ['ana@example.com'] });
      expect(h.lines.filter((line) => line.kind === 'Email').map((line) => line.message)).toEqual(['detection email sent to ana@example.com']);
    });

    it('claims the email for two minutes before it sends, under its kind', async () => {
      const { deps, session } = await setup();
      const claim = vi.spyOn(deps.notifications, 'claimEmail');
      await sendSessionEmail(deps, { sessionId: session.id, kind: 'Detection' });
      expect(claim.mock.calls).toEqual([[session.id, 'Detection', NOW, new Date(Date.parse(NOW) + 120_000).toISOString()]]);
    });

    it('has no copy and no reply-to where the branding names neither', async () => {
      const { deps, mailer, session } = await setup();
      await sendSessionEmail(deps, { sessionId: session.id, kind: 'Detection' });
      expect(mailer.sent[0]?.bcc).toEqual([]);
      expect(mailer.sent[0]).not.toHaveProperty('replyTo');
    });

    it('signs run-now, postpone and cancel links valid until the window, or for a day when the window has passed or there is none', async () => {
      const issued = async (executeAt: string | undefined) => {
        const { deps, session } = await setup(executeAt === undefined ? { options: options({ executeAt: undefined }) } : { executeAt });
        const issue = vi.spyOn(deps.linkKeys, 'issue');
        await sendSessionEmail(deps, { sessionId: session.id, kind: 'Detection' });
        expect(issue.mock.calls.every(([claims]) => claims.tokenId.startsWith('lnk_'))).toBe(true);
        return issue.mock.calls.map(([claims]) => [claims.sessionId === session.id, claims.purpose, claims.expiresAt]);
      };
      expect(await issued(WINDOW)).toEqual([
        [true, 'RunNow', WINDOW],
        [true, 'Postpone', WINDOW],
        [true, 'Cancel', WINDOW],
      ]);
      const aDayOn = new Date(Date.parse(NOW) + DAY_MS).toISOString();
      expect((await issued('2026-11-23T17:00:00.000Z')).map(([, , expiresAt]) => expiresAt)).toEqual([aDayOn, aDayOn, aDayOn]);
      // the window opening this very moment is no later than now
      expect((await issued(NOW)).map(([, , expiresAt]) => expiresAt)).toEqual([aDayOn, aDayOn, aDayOn]);
    });

    it('offers no links in a follow-up, and logs it as a follow-up', async () => {
      const { deps, session, h } = await setup({ status: 'Passed' });
      const issue = vi.spyOn(deps.linkKeys, 'issue');
      expect(await sendSessionEmail(deps, { sessionId: session.id, kind: 'FollowUp' })).toMatchObject({ sent: true });
      expect(issue).not.toHaveBeenCalled();
      expect(h.lines.filter((line) => line.kind === 'Email').map((line) => line.message)).toEqual(['follow-up email sent to ana@example.com']);
    });

    it('reads times in UTC and names no one when the computer is gone, sending to the people the schedule names', async () => {
      const { deps, mailer, h } = await setup();
      const session = await h.session({ computerId: 'gone-pc', computerName: 'Gone', executeAt: WINDOW, options: options({}, { additionalRecipients: ['office@example.com'] }) });
      await h.actions(session.id, [{ actionId: '001' }]);
      expect(await sendSessionEmail(deps, { sessionId: session.id, kind: 'Detection' })).toMatchObject({ sent: true, recipients: ['office@example.com'] });
      expect(mailer.sent[0]?.text).toMatch(/10:00\sPM \(UTC\)/);
      expect(mailer.sent[0]?.text).toContain('Hello there,');
    });
  });

  describe('confirmations', () => {
    it('confirms a postponement only to someone told of the maintenance, once per variant, naming who postponed, with links again', async () => {
      const { deps, mailer, session, h } = await setup();
      expect(await sendSessionEmail(deps, { sessionId: session.id, kind: 'Postponed', variant: 'p1', by: END_USER })).toEqual({ sent: false, reason: 'NeverTold' });
      // a detection email still being sent has told no one yet
      const now = h.clock.now();
      await deps.notifications.claimEmail(session.id, 'Detection', now.toISOString(), new Date(now.getTime() + 60_000).toISOString());
      expect(await sendSessionEmail(deps, { sessionId: session.id, kind: 'Cancelled', by: END_USER })).toEqual({ sent: false, reason: 'NeverTold' });
      h.clock.advance(61_000);
      await sendSessionEmail(deps, { sessionId: session.id, kind: 'Detection' });

      const issue = vi.spyOn(deps.linkKeys, 'issue');
      expect(await sendSessionEmail(deps, { sessionId: session.id, kind: 'Postponed', variant: 'p1', by: END_USER })).toMatchObject({ sent: true });
      expect(issue).toHaveBeenCalledTimes(3);
      expect(await sendSessionEmail(deps, { sessionId: session.id, kind: 'Postponed', variant: 'p1', by: END_USER })).toEqual({ sent: false, reason: 'AlreadySent' });
      expect(await sendSessionEmail(deps, { sessionId: session.id, kind: 'Postponed', variant: 'p2', by: ENGINEER })).toMatchObject({ sent: true });
      expect((await deps.notifications.listEmails(session.id)).map((record) => record.key).sort()).toEqual(['Detection', 'Postponed#p1', 'Postponed#p2']);
      expect(mailer.sent[1]?.text).toMatch(/postponed by you to /);
      expect(mailer.sent[2]?.text).toContain('postponed by your IT team');
      expect(h.lines.filter((line) => line.kind === 'Email').map((line) => line.message)).toContain('postponed email sent to ana@example.com');
    });

    it('counts only a sent detection email as having told the user', async () => {
      const { deps, session, h } = await setup({ status: 'Passed' });
      const now = h.clock.now().toISOString();
      await deps.notifications.claimEmail(session.id, 'FollowUp', now, new Date(Date.parse(now) + 60_000).toISOString());
      await deps.notifications.markEmailSent(session.id, 'FollowUp', { at: now, messageId: 'msg-0', recipients: ['ana@example.com'] });
      expect(await sendSessionEmail(deps, { sessionId: session.id, kind: 'Cancelled', by: ENGINEER })).toEqual({ sent: false, reason: 'NeverTold' });
    });

    it('confirms a cancellation without links, naming the IT team when no one is named', async () => {
      const { deps, mailer, session } = await setup();
      await sendSessionEmail(deps, { sessionId: session.id, kind: 'Detection' });
      const issue = vi.spyOn(deps.linkKeys, 'issue');
      expect(await sendSessionEmail(deps, { sessionId: session.id, kind: 'Cancelled' })).toMatchObject({ sent: true });
      expect(issue).not.toHaveBeenCalled();
      expect(mailer.sent[1]?.text).toContain('cancelled by your IT team');
    });
  });

  describe('failures', () => {
    it('refuses a session that does not exist', async () => {
      const { deps } = await setup();
      await expect(sendSessionEmail(deps, { sessionId: 'no-such-session', kind: 'Detection' })).rejects.toThrow(new NotFoundError('session', 'no-such-session'));
      await expect(notifySession(deps, 'no-such-session')).rejects.toBeInstanceOf(NotFoundError);
    });

    it('marks a sent email after a failed attempt or two, and after three says so but still answers it sent', async () => {
      const { deps, session, h } = await setup();
      const mark = vi.spyOn(deps.notifications, 'markEmailSent');
      mark.mockRejectedValueOnce(new Error('throttled')).mockRejectedValueOnce(new Error('throttled'));
      expect(await sendSessionEmail(deps, { sessionId: session.id, kind: 'Detection' })).toMatchObject({ sent: true });
      expect(mark).toHaveBeenCalledTimes(3);
      expect((await deps.notifications.listEmails(session.id))[0]?.status).toBe('Sent');
      expect(h.logged.filter((line) => line.level === 'warn')).toEqual([]);

      const other = await setup({ status: 'Passed' });
      const failing = vi.spyOn(other.deps.notifications, 'markEmailSent').mockRejectedValue(new Error('table gone'));
      expect(await sendSessionEmail(other.deps, { sessionId: other.session.id, kind: 'FollowUp' })).toMatchObject({ sent: true, messageId: 'msg-1' });
      expect(failing).toHaveBeenCalledTimes(3);
      expect(other.h.logged).toContainEqual({
        level: 'warn',
        message: 'email sent but not marked sent: a retry after the lease may send it again',
        fields: { sessionId: other.session.id, key: 'FollowUp', messageId: 'msg-1', error: 'table gone' },
      });
    });

    it('answers a sent email sent though its log line could not be written', async () => {
      const { deps, session } = await setup();
      const broken: Dependencies = { ...deps, sessionLog: { append: () => Promise.reject(new Error('log gone')), read: () => Promise.resolve({ entries: [] }) } };
      expect(await sendSessionEmail(broken, { sessionId: session.id, kind: 'Detection' })).toMatchObject({ sent: true });
    });

    it('gives its claim back when the render fails, and throws the render’s error even when the release fails too', async () => {
      const { deps, session, mailer } = await setup();
      const release = vi.spyOn(deps.notifications, 'releaseEmail');
      const broken: Dependencies = { ...deps, renderer: { ...deps.renderer, renderEmail: () => Promise.reject(new Error('template broke')) } };
      await expect(sendSessionEmail(broken, { sessionId: session.id, kind: 'Detection' })).rejects.toThrow('template broke');
      const [claimed] = release.mock.calls;
      expect(claimed?.[0]).toBe(session.id);
      expect(claimed?.[1]).toBe('Detection');
      expect(claimed?.[2]).toBe(NOW);
      expect(await deps.notifications.listEmails(session.id)).toEqual([]);
      release.mockRejectedValueOnce(new Error('release failed'));
      await expect(sendSessionEmail(broken, { sessionId: session.id, kind: 'Detection' })).rejects.toThrow('template broke');
      expect(mailer.sent).toEqual([]);
    });

    it('quietly: counts the failure, logs it for the operator and on the session, by kind', async () => {
      const { deps, session, mailer, metrics, h } = await setup();
      await sendSessionEmail(deps, { sessionId: session.id, kind: 'Detection' });
      mailer.fail = new ConfigurationError('sender not verified');
      expect(await sendSessionEmailQuietly(deps, { sessionId: session.id, kind: 'Postponed', variant: 'p1', by: END_USER })).toBeUndefined();
      expect(metrics.total('EmailsFailed')).toBe(1);
      expect(h.logged).toContainEqual({ level: 'error', message: 'session email not sent', fields: { sessionId: session.id, kind: 'Postponed', error: 'sender not verified' } });
      expect(h.lines.filter((line) => line.kind === 'Problem').map((line) => line.message)).toEqual(['the postponed email could not be sent: sender not verified']);
      mailer.fail = undefined;
      expect(await sendSessionEmailQuietly(deps, { sessionId: session.id, kind: 'Postponed', variant: 'p1', by: END_USER })).toMatchObject({ sent: true });
    });

    it('quietly: a failure that is not an Error is told as its text, and a log that cannot be written does not throw', async () => {
      const { deps, session, h } = await setup({ status: 'Passed' });
      const broken: Dependencies = { ...deps, renderer: { ...deps.renderer, renderEmail: vi.fn<Renderer['renderEmail']>().mockRejectedValue('renderer gone') } };
      expect(await sendSessionEmailQuietly(broken, { sessionId: session.id, kind: 'FollowUp' })).toBeUndefined();
      expect(h.lines.filter((line) => line.kind === 'Problem').map((line) => line.message)).toEqual(['the follow-up email could not be sent: renderer gone']);
      const noLog: Dependencies = { ...broken, sessionLog: { append: () => Promise.reject(new Error('log gone')), read: () => Promise.resolve({ entries: [] }) } };
      expect(await sendSessionEmailQuietly(noLog, { sessionId: session.id, kind: 'FollowUp' })).toBeUndefined();
    });

    it('the Notify step: a refused send is counted and logged with the session; a reason other than no recipient adds no line', async () => {
      const { deps, session, mailer, metrics, h } = await setup();
      mailer.fail = new ConfigurationError('sender not verified');
      expect(await notifySession(deps, session.id)).toEqual({ sent: false, reason: 'Failed' });
      expect(metrics.total('EmailsFailed')).toBe(1);
      expect(h.logged).toContainEqual({ level: 'error', message: 'detection email not sent', fields: { sessionId: session.id, error: 'sender not verified' } });

      const quiet = await setup({ options: options({}, { detectionEmail: false }) });
      expect(await notifySession(quiet.deps, quiet.session.id)).toEqual({ sent: false, reason: 'NotRequested' });
      expect(quiet.h.lines.filter((line) => line.kind === 'Email')).toEqual([]);
      const throttled = await setup();
      throttled.mailer.fail = new TransientError('throttled');
      await expect(notifySession(throttled.deps, throttled.session.id)).rejects.toBeInstanceOf(TransientError);
      expect(throttled.metrics.total('EmailsFailed')).toBe(0);
    });

    it('the Notify step: a failure that is not an Error is logged as its text', async () => {
      const { deps, session, h } = await setup();
      const broken: Dependencies = { ...deps, renderer: { ...deps.renderer, renderEmail: vi.fn<Renderer['renderEmail']>().mockRejectedValue('renderer gone') } };
      expect(await notifySession(broken, session.id)).toEqual({ sent: false, reason: 'Failed' });
      expect(h.lines.filter((line) => line.kind === 'Problem').map((line) => line.message)).toEqual(['the detection email could not be sent: renderer gone']);
    });
  });
});
