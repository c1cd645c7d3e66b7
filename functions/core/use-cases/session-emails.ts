import { ConfigurationError, NotFoundError, TransientError } from '../errors.js';
import { dayIn, resolveBranding, type Branding, type ResolvedBranding } from '../model/branding.js';
import type { Computer, Tenant } from '../model/catalog.js';
import type { Action, Requester, Session } from '../model/session.js';
import { confirmationEmail, detectionEmail, emailDecision, emailKindWords, followUpEmail, recipientsOf, type EmailContext, type EmailKind, type EmailSkipReason } from '../notifications/emails.js';
import type { LinkPurpose } from '../notifications/links.js';
import type { Dependencies } from './dependencies.js';
import { log } from './session-updates.js';
import { DAY_MS } from '../durations.js';

/**
 * Sends a session's end-user emails: each once per session and kind (a
 * claim with a lease before the send, marked sent after), so a retried step
 * or a repeated request never mails twice, and a sender that died mid-way is
 * taken over once its lease has passed.
 */

/** Long enough for a render and an SES call with retries; a dead sender's claim is taken over after it. */
const SEND_LEASE_SECONDS = 120;
/** A tenant's parents are followed this far up (a loop in bad data must not spin). */
const MAX_TENANT_DEPTH = 8;

export type EmailOutcome =
  | { readonly sent: true; readonly messageId: string; readonly recipients: readonly string[] }
  | { readonly sent: false; readonly reason: EmailSkipReason | 'AlreadySent' | 'BeingSent' };

type EmailDeps = Pick<Dependencies, 'sessions' | 'sessionLog' | 'catalog' | 'branding' | 'notifications' | 'mailer' | 'linkKeys' | 'renderer' | 'notifySettings' | 'clock' | 'ids' | 'metrics' | 'logger'>;

/** The tenant and its parents, outermost first. */
export async function tenantChain(deps: Pick<Dependencies, 'catalog'>, tenantId: string): Promise<Tenant[]> {
  const chain: Tenant[] = [];
  for (let id: string | undefined = tenantId; id !== undefined && chain.length < MAX_TENANT_DEPTH; ) {
    const tenant = await deps.catalog.getTenant(id);
    if (!tenant || chain.some((known) => known.id === tenant.id)) break;
    chain.unshift(tenant);
    id = tenant.parentTenantId;
  }
  return chain;
}

/** The branding a tenant's end users see on the day `at` falls on in `timeZone` (`undefined`: the MSP's own). */
export async function brandingFor(deps: Pick<Dependencies, 'catalog' | 'branding'>, tenantId: string | undefined, at: Date, timeZone: string): Promise<ResolvedBranding> {
  // Stryker disable next-line ConditionalExpression: the chain of no tenant is empty either way; this skips the call
  const chain = tenantId === undefined ? [] : await tenantChain(deps, tenantId);
  const [msp, tenants] = await Promise.all([
    deps.branding.list({ kind: 'Msp' }),
    Promise.all(chain.map((tenant): Promise<Branding[]> => deps.branding.list({ kind: 'Tenant', tenantId: tenant.id }))),
  ]);
  return resolveBranding(msp, tenants, dayIn(at, timeZone));
}

/** A signed link per purpose, valid until the window opens (or a day, for a session executing at once). */
async function linksFor(deps: EmailDeps, session: Session, purposes: readonly LinkPurpose[]): Promise<Partial<Record<LinkPurpose, string>>> {
  if (deps.notifySettings.linkBaseUrl === '') throw new ConfigurationError('end-user links have no base URL: set LINK_BASE_URL (the API URL or the MSP domain for it)');
  const now = deps.clock.now();
  const expiresAt = session.executeAt && Date.parse(session.executeAt) > now.getTime() ? session.executeAt : new Date(now.getTime() + DAY_MS).toISOString();
  const links: Partial<Record<LinkPurpose, string>> = {};
  for (const purpose of purposes) {
    const token = await deps.linkKeys.issue({ sessionId: session.id, purpose, expiresAt: new Date(expiresAt).toISOString(), tokenId: deps.ids.next('lnk') });
    links[purpose] = `${deps.notifySettings.linkBaseUrl}/l/${token}`;
  }
  return links;
}

/** Attempts at marking a sent email; after them the claim's lease is what stands between the email and a second copy. */
const MARK_SENT_ATTEMPTS = 3;

async function markSent(deps: Pick<Dependencies, 'notifications' | 'logger'>, sessionId: string, key: string, sent: { at: string; messageId: string; recipients: readonly string[] }): Promise<void> {
  for (let attempt = 1; attempt <= MARK_SENT_ATTEMPTS; attempt++) {
    try {
      await deps.notifications.markEmailSent(sessionId, key, sent);
      return;
    } catch (error) {
      if (attempt === MARK_SENT_ATTEMPTS) {
        deps.logger.warn('email sent but not marked sent: a retry after the lease may send it again', { sessionId, key, messageId: sent.messageId, error: error instanceof Error ? error.message : String(error) });
      }
    }
  }
}

/** How the requester reads in an email sent to the end user. */
const requesterWords = (by: Requester | undefined): string => (by?.kind === 'EndUser' ? 'you' : 'your IT team');

export interface SendEmailRequest {
  readonly sessionId: string;
  readonly kind: EmailKind;
  /** Tells repeats of a kind apart: the postponement a confirmation is for. */
  readonly variant?: string;
  /** For confirmations: who postponed or cancelled. */
  readonly by?: Requester;
  /**
   * The session and its actions as the caller has them from its own final
   * writes (the report): not read again. Without it, both are read.
   */
  readonly current?: { readonly session: Session; readonly actions: readonly Action[] };
}

async function readSessionAndActions(deps: EmailDeps, sessionId: string): Promise<{ session: Session; actions: readonly Action[] }> {
  const [session, actions] = await Promise.all([deps.sessions.getSession(sessionId), deps.sessions.getActions(sessionId)]);
  if (!session) throw new NotFoundError('session', sessionId);
  return { session, actions };
}

/** Sends the email if the session's options, state and recipients call for it, at most once per session, kind and variant. */
export async function sendSessionEmail(deps: EmailDeps, request: SendEmailRequest): Promise<EmailOutcome> {
  const { session, actions } = request.current ?? (await readSessionAndActions(deps, request.sessionId));
  const decision = emailDecision(request.kind, session, actions);
  if (!decision.send) return { sent: false, reason: decision.reason };
  if (request.kind === 'Postponed' || request.kind === 'Cancelled') {
    const told = (await deps.notifications.listEmails(session.id)).some((email) => email.key === 'Detection' && email.status === 'Sent');
    if (!told) return { sent: false, reason: 'NeverTold' };
  }
  const computer: Computer | undefined = await deps.catalog.getComputer(session.computerId);
  const recipients = recipientsOf(computer?.primaryUser?.email, session.options.notify);
  if (recipients.length === 0) return { sent: false, reason: 'NoRecipient' };

  const now = deps.clock.now();
  const key = request.variant === undefined ? request.kind : `${request.kind}#${request.variant}`;
  const claim = await deps.notifications.claimEmail(session.id, key, now.toISOString(), new Date(now.getTime() + SEND_LEASE_SECONDS * 1000).toISOString());
  if (!claim.claimed) return { sent: false, reason: claim.record.status === 'Sent' ? 'AlreadySent' : 'BeingSent' };

  let messageId: string;
  try {
    const timeZone = computer?.timeZone ?? 'UTC';
    const branding = await brandingFor(deps, session.tenantId, now, timeZone);
    const offersLinks = request.kind === 'Detection' || request.kind === 'Postponed';
    const context: EmailContext = {
      session,
      actions,
      branding,
      ...(computer?.primaryUser ? { recipientName: computer.primaryUser.name } : {}),
      timeZone,
      links: offersLinks ? await linksFor(deps, session, ['RunNow', 'Postpone', 'Cancel']) : {},
      now: now.toISOString(),
    };
    const view =
      request.kind === 'Detection'
        ? detectionEmail(context)
        : request.kind === 'FollowUp'
          ? followUpEmail(context)
          : confirmationEmail(request.kind, context, requesterWords(request.by));
    const rendered = await deps.renderer.renderEmail(view);
    ({ messageId } = await deps.mailer.send({
      from: { address: branding.fromAddress, name: branding.fromName },
      to: recipients,
      bcc: branding.bccAddress ? [branding.bccAddress] : [],
      ...(branding.supportEmail ? { replyTo: branding.supportEmail } : {}),
      subject: rendered.subject,
      html: rendered.html,
      text: rendered.text,
      tags: { session: session.id, kind: request.kind },
    }));
  } catch (error) {
    // nothing went out: the next attempt may send at once instead of waiting for the lease
    await deps.notifications.releaseEmail(session.id, key, claim.record.claimedAt).catch(() => undefined);
    throw error;
  }
  // the mail is out: from here nothing may report it unsent, or a retry would send it again
  deps.metrics.count('EmailsSent', 1);
  const sentAt = deps.clock.now().toISOString();
  await markSent(deps, session.id, key, { at: sentAt, messageId, recipients });
  await log(deps, session.id, 'Email', `${emailKindWords(request.kind)} email sent to ${recipients.join(', ')}`).catch(() => undefined);
  return { sent: true, messageId, recipients };
}

/**
 * For steps whose own work must not fail because of mail (the report, a
 * postpone): sends, and on failure logs the problem on the session and counts
 * it. The claim's lease lets a later attempt send it.
 */
export async function sendSessionEmailQuietly(deps: EmailDeps & Pick<Dependencies, 'logger'>, request: SendEmailRequest): Promise<EmailOutcome | undefined> {
  try {
    return await sendSessionEmail(deps, request);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    deps.metrics.count('EmailsFailed', 1);
    deps.logger.error('session email not sent', { sessionId: request.sessionId, kind: request.kind, error: message });
    await log(deps, request.sessionId, 'Problem', `the ${emailKindWords(request.kind)} email could not be sent: ${message}`).catch(() => undefined);
    return undefined;
  }
}

/**
 * The Notify step: the detection email. A throttled or unreachable SES is
 * thrown for the workflow to retry; anything else is logged on the session
 * and the maintenance goes on without the email.
 */
export async function notifySession(deps: EmailDeps & Pick<Dependencies, 'logger'>, sessionId: string): Promise<EmailOutcome | { readonly sent: false; readonly reason: 'Failed' }> {
  try {
    const outcome = await sendSessionEmail(deps, { sessionId, kind: 'Detection' });
    // the schedule asked for an email nobody can get: the operator should see why the user was not told
    if (!outcome.sent && outcome.reason === 'NoRecipient') await log(deps, sessionId, 'Email', 'no detection email: the computer has no primary user and the schedule names no one else');
    return outcome;
  } catch (error) {
    if (error instanceof TransientError || error instanceof NotFoundError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    deps.metrics.count('EmailsFailed', 1);
    deps.logger.error('detection email not sent', { sessionId, error: message });
    await log(deps, sessionId, 'Problem', `the detection email could not be sent: ${message}`);
    return { sent: false, reason: 'Failed' };
  }
}
