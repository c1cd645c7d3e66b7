import { RequestRefusedError, ValidationError } from '../errors.js';
import type { ResolvedBranding } from '../model/branding.js';
import { NIGHTSHIFT_BRANDING } from '../model/branding.js';
import { isFinalSessionStatus, type Requester, type Session } from '../model/session.js';
import { actionTitle, changesComputer, formatInstant } from '../notifications/emails.js';
import { LINK_WORDS, type LinkClaims, type LinkPageView, type LinkPurpose } from '../notifications/links.js';
import type { LinkOutcome } from '../ports/notification-store.port.js';
import type { Dependencies } from './dependencies.js';
import { brandingFor } from './session-emails.js';
import { cancelSession, decideCancel, decidePostpone, decideRunNow, postponeDeadline, postponeSession, runSessionNow } from './session-requests.js';

/**
 * The end user's side of the email buttons. A GET (or HEAD: a mail scanner
 * fetching every link) only ever shows a page: what the button would do, or
 * why it cannot. Only the POST of that page's form acts, once per link: a
 * repeated POST shows what the first one did. Every way a link can be wrong
 * (forged, expired, revoked, for another purpose or session) is a page in
 * words, never an error, and changes nothing.
 */

type LinkDeps = Dependencies;

/** The path of a link's page, under the link base URL; the form posts back to it. */
export const linkPath = (token: string): string => `/l/${token}`;

const invalidPage = (title: string, message: string, branding: ResolvedBranding = NIGHTSHIFT_BRANDING): LinkPageView => ({ branding, tone: 'Invalid', title, message, actions: [] });

const DONE_WORDS: Readonly<Record<LinkPurpose, string>> = {
  Postpone: 'postponed',
  Cancel: 'cancelled',
  RunNow: 'started early',
};

interface Resolved {
  readonly claims: LinkClaims;
  readonly session: Session;
  readonly branding: ResolvedBranding;
  readonly timeZone: string;
  readonly requester: Requester;
  readonly base: Pick<LinkPageView, 'branding' | 'computerName' | 'windowOpensAt' | 'actions'>;
}

/** The token checked and its session found, or the page that says why not. */
async function resolve(deps: LinkDeps, token: string): Promise<Resolved | LinkPageView> {
  const check = await deps.linkKeys.check(token);
  if (!check.valid) {
    return check.reason === 'Revoked'
      ? invalidPage('This link is no longer valid', 'The link was withdrawn. If you still need to change the maintenance, contact your IT team.')
      : invalidPage('This link is not valid', 'The link may have been cut or changed when it was copied. Open it from the email again, or contact your IT team.');
  }
  const { claims } = check;
  const session = await deps.sessions.getSession(claims.sessionId);
  if (!session) return invalidPage('This maintenance no longer exists', 'There is nothing to change. If you have questions, contact your IT team.');
  const computer = await deps.catalog.getComputer(session.computerId);
  const timeZone = computer?.timeZone ?? 'UTC';
  const branding = await brandingFor(deps, session.tenantId, deps.clock.now(), timeZone);
  const actions = (await deps.sessions.getActions(session.id)).filter(changesComputer);
  const requester: Requester = { kind: 'EndUser', name: computer?.primaryUser?.email ?? 'end user (email link)' };
  return {
    claims,
    session,
    branding,
    timeZone,
    requester,
    base: {
      branding,
      computerName: session.computerName,
      ...(session.executeAt && !isFinalSessionStatus(session.status) ? { windowOpensAt: formatInstant(session.executeAt, branding, timeZone) } : {}),
      actions: actions.map((action) => ({ title: actionTitle(action) })),
    },
  };
}

/** What the first POST of the link did, as a page. */
function outcomePage(resolved: Resolved, outcome: LinkOutcome, again: boolean): LinkPageView {
  const when = formatInstant(outcome.at, resolved.branding, resolved.timeZone);
  if (outcome.result === 'Refused') {
    return { ...resolved.base, tone: 'Refused', title: 'The maintenance was not changed', message: again ? `When this link was used on ${when}: ${outcome.message}` : outcome.message };
  }
  return {
    ...resolved.base,
    tone: again ? 'AlreadyDone' : 'Done',
    title: LINK_WORDS[outcome.purpose].done,
    message: again ? `This link was already used on ${when}: the maintenance was ${DONE_WORDS[outcome.purpose]}. ${outcome.message}` : outcome.message,
  };
}

/**
 * Why the link cannot act now, in words for the person who clicked it (never
 * the operator's: no instants in ISO, no engine terms); undefined when it can.
 * The same rules the request applies are asked without writing.
 */
function refusal(resolved: Resolved, now: Date): string | undefined {
  const { claims, session, branding, timeZone } = resolved;
  if (isFinalSessionStatus(session.status)) {
    return session.status === 'Cancelled' ? 'This maintenance was already cancelled. Nothing will change on the computer.' : 'This maintenance has already finished.';
  }
  // once it runs, an end user's link no longer stops it: a half-done maintenance is worse than either
  if (session.stages.Execution.status !== 'Unstarted') return 'The maintenance has already started, so it can no longer be changed from this email.';
  if (Date.parse(claims.expiresAt) <= now.getTime()) return 'This link has expired. Use the buttons in the most recent email about this maintenance, or contact your IT team.';
  if (claims.purpose === 'Postpone') {
    const { maxCount } = session.options.postpone;
    if (session.postponements.length >= maxCount && !session.postponements.some((postponement) => postponement.ref === claims.tokenId)) {
      return maxCount === 0 ? 'This maintenance cannot be postponed.' : `The maintenance can no longer be postponed: it was already postponed ${maxCount === 1 ? 'once' : `${maxCount} times`}, the most allowed.`;
    }
  }
  try {
    if (claims.purpose === 'Postpone') decidePostpone(session, now, resolved.requester, undefined, claims.tokenId);
    else if (claims.purpose === 'Cancel') decideCancel(session, now, resolved.requester);
    else decideRunNow(session, now);
  } catch (error) {
    if (!(error instanceof RequestRefusedError || error instanceof ValidationError)) throw error;
    if (claims.purpose === 'Postpone') {
      const latest = postponeDeadline(session);
      return `The maintenance can no longer be postponed${latest ? `: it cannot move past ${formatInstant(latest, branding, timeZone)}` : ''}.`;
    }
    return `The maintenance can no longer be ${DONE_WORDS[claims.purpose]}.`;
  }
  return undefined;
}

function confirmPage(resolved: Resolved, token: string): LinkPageView {
  const { claims, session } = resolved;
  const words = LINK_WORDS[claims.purpose];
  const message =
    claims.purpose === 'Postpone'
      ? `The maintenance of ${session.computerName} will move ${session.options.postpone.delayMinutes} minutes later. This is postpone ${session.postponements.length + 1} of the ${session.options.postpone.maxCount} allowed.`
      : claims.purpose === 'Cancel'
        ? `The maintenance of ${session.computerName} will not happen this time. Your IT team will be told.`
        : `The maintenance of ${session.computerName} will start now instead of at its planned time. Save your work first.`;
  return { ...resolved.base, tone: 'Confirm', title: words.confirm, message, form: { action: linkPath(token), buttonLabel: words.button, csrfToken: claims.tokenId } };
}

/** GET and HEAD: a page that says what the button does, or why it cannot; never a change. */
export async function viewLink(deps: LinkDeps, token: string): Promise<LinkPageView> {
  const resolved = await resolve(deps, token);
  if (!('claims' in resolved)) return resolved;
  const earlier = await deps.notifications.getLinkOutcome(resolved.session.id, resolved.claims.tokenId);
  if (earlier) return outcomePage(resolved, earlier, true);
  const refused = refusal(resolved, deps.clock.now());
  if (refused) return { ...resolved.base, tone: 'Refused', title: 'This link cannot be used', message: refused };
  return confirmPage(resolved, token);
}

/** The confirmation form's POST: acts once per link and says what happened. */
export async function followLink(deps: LinkDeps, token: string, csrfToken: string | undefined): Promise<LinkPageView> {
  const resolved = await resolve(deps, token);
  if (!('claims' in resolved)) return resolved;
  const { claims, session, requester } = resolved;
  const earlier = await deps.notifications.getLinkOutcome(session.id, claims.tokenId);
  if (earlier) return outcomePage(resolved, earlier, true);
  // the form's hidden field names the link it came from: a post built elsewhere lacks it
  if (csrfToken !== claims.tokenId) {
    return { ...resolved.base, tone: 'Refused', title: 'Please confirm from the page', message: 'Open the link from your email again and press the button on the page that opens.' };
  }
  const now = deps.clock.now();
  const refused = refusal(resolved, now);
  if (refused) return { ...resolved.base, tone: 'Refused', title: 'This link cannot be used', message: refused };

  let message: string;
  try {
    if (claims.purpose === 'Postpone') {
      const result = await postponeSession(deps, { sessionId: session.id, by: requester, ref: claims.tokenId });
      message = `It now starts on ${formatInstant(result.executeAt, resolved.branding, resolved.timeZone)}.${result.postponesLeft > 0 ? ` You can postpone it ${result.postponesLeft} more time(s).` : ' It cannot be postponed again.'}`;
    } else if (claims.purpose === 'Cancel') {
      await cancelSession(deps, { sessionId: session.id, by: requester });
      message = 'Nothing will change on the computer this time. Your IT team has been told.';
    } else {
      await runSessionNow(deps, { sessionId: session.id, by: requester });
      message = 'The maintenance is starting now. You will get an email when it is done.';
    }
  } catch (error) {
    if (!(error instanceof RequestRefusedError || error instanceof ValidationError)) throw error;
    // the session moved between the page's check and the write (another link, an operator): say so, and keep the link
    // for what the session allows next, rather than recording a refusal against it
    const current = await deps.sessions.getSession(session.id);
    const why = current ? refusal({ ...resolved, session: current }, deps.clock.now()) : undefined;
    return { ...resolved.base, tone: 'Refused', title: 'This link cannot be used', message: why ?? 'The maintenance changed while you were deciding. Open the link again to see where it stands.' };
  }
  deps.metrics.count('EndUserDecisions', 1);
  const recorded = await deps.notifications.recordLinkOutcome({ sessionId: session.id, tokenId: claims.tokenId, purpose: claims.purpose, at: now.toISOString(), by: requester, result: 'Done', message });
  return outcomePage(resolved, recorded.outcome, !recorded.recorded);
}
