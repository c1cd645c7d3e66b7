import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newLinkKeyRing } from '../../functions/adapters/link-tokens.hmac.js';
import { notifyOptionsSchema, type SessionOptions } from '../../functions/core/model/session.js';
import type { LinkPurpose } from '../../functions/core/notifications/links.js';
import { postponeSession } from '../../functions/core/use-cases/session-requests.js';
import { startApiServer, type ApiServer } from '../../local/api-server.js';
import { localKeyRingFile } from '../../local/link-keys.local.js';
import type { StoredEmail } from '../../local/mailbox.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { documentOf, emailUrls, htmlLinks, linkClaims, linkIn, linkToken, purposesIn, textUrls } from '../support/browser.js';
import { everywhere, manualClock, runtimeWithFleet, testComputer, testSoftware } from '../support/fleet.js';
import { until } from '../support/wait.js';

/**
 * The end user's email links against the real runtime and the real local
 * HTTP server: the emails the runtime mailed (read back from the local SES),
 * their links fetched as a mail scanner and posted as the link page's form.
 * The sessions wait for a window three hours ahead on a manual clock, so
 * nothing here waits hours.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const NOTIFY = notifyOptionsSchema.parse({});
const SOFTWARE = [testSoftware('editor', '2.0'), testSoftware('viewer', '3.1')];
const OPERATOR = { kind: 'Operator', name: 'ops@msp.example' } as const;

/** What each email kind's subject starts with (`functions/core/notifications/emails.ts`). */
const SUBJECT = { Detection: 'Maintenance on ', Postponed: 'Maintenance postponed: ', Cancelled: 'Maintenance cancelled: ', FollowUp: 'Maintenance complete: ' } as const;

interface Lab {
  readonly runtime: LocalRuntime;
  readonly server: ApiServer;
  readonly clock: ReturnType<typeof manualClock>;
}

const deskOf = (computerId: string): string => `Desk ${computerId}`;

/** A runtime with one machine per id (each with a primary user to mail), and the local server its links point at. */
async function openLab(computerIds: readonly string[]): Promise<Lab> {
  const clock = manualClock(new Date('2026-11-23T09:00:00Z'));
  const runtime = await runtimeWithFleet(
    {
      software: SOFTWARE,
      deployments: SOFTWARE.map((software) => everywhere(software.id)),
      machines: computerIds.map((id, index) => ({
        computer: testComputer(id, `i-${String(index + 1).padStart(17, '0')}`, { name: deskOf(id), primaryUser: { name: `Robin ${id}`, email: `${id}@contoso.example` } }),
      })),
    },
    { clock, timerPollMs: 10, agentPollMs: 10 },
  );
  const server = await startApiServer(runtime, { port: 0 });
  return { runtime, server, clock };
}

async function closeLab(lab: Lab | undefined): Promise<void> {
  await lab?.server.close();
  await lab?.runtime.close();
}

/** The computer's emails of one kind, oldest first. */
async function mailOf(lab: Lab, computerId: string, kind: keyof typeof SUBJECT): Promise<StoredEmail[]> {
  return (await lab.runtime.mailbox.messages()).filter((email) => email.subject.startsWith(SUBJECT[kind]) && email.subject.includes(deskOf(computerId)));
}

async function waitForMail(lab: Lab, computerId: string, kind: keyof typeof SUBJECT): Promise<StoredEmail> {
  let found: StoredEmail | undefined;
  await until(async () => {
    found = (await mailOf(lab, computerId, kind))[0];
    return found !== undefined;
  });
  if (found === undefined) throw new Error(`no ${kind} email for ${computerId}`);
  return found;
}

interface Parked {
  readonly sessionId: string;
  readonly executeAt: string;
  readonly detection: StoredEmail;
}

/** Starts a notified session whose window opens `aheadMs` from now, and waits for its gate to park and its detection email to arrive. */
async function startParked(lab: Lab, computerId: string, options: Partial<SessionOptions> = {}, aheadMs = 3 * HOUR): Promise<Parked> {
  const executeAt = new Date(lab.clock.now().getTime() + aheadMs).toISOString();
  const { sessionId } = await lab.runtime.startSession(computerId, undefined, { executeAt, notify: NOTIFY, ...options });
  await until(
    async () => (await lab.runtime.deps.sessions.getSession(sessionId))?.windowWait !== undefined && lab.runtime.timers.armed().some((timer) => timer.sessionId === sessionId),
  );
  return { sessionId, executeAt, detection: await waitForMail(lab, computerId, 'Detection') };
}

const tokenIdOf = (url: string): string => {
  const claims = linkClaims(url);
  if (!claims) throw new Error(`${url} carries no link claims`);
  return claims.tokenId;
};

/**
 * Everything a link could change, for the sessions and links named: the
 * session record's decision fields, link outcomes, audit entries, Request
 * log lines and the emails sent. Two equal observations: nothing acted.
 */
async function observe(lab: Lab, sessionIds: readonly string[], tokenIds: readonly string[]) {
  const deps = lab.runtime.deps;
  return {
    sessions: await Promise.all(
      sessionIds.map(async (id) => {
        const session = await deps.sessions.getSession(id);
        return session && { id, version: session.version, status: session.status, executeAt: session.executeAt, postponements: session.postponements };
      }),
    ),
    outcomes: (await Promise.all(sessionIds.flatMap((id) => tokenIds.map((tokenId) => deps.notifications.getLinkOutcome(id, tokenId))))).filter((outcome) => outcome !== undefined),
    audit: (await Promise.all(sessionIds.map((id) => deps.audit.list('Session', id)))).flat(),
    requests: (await Promise.all(sessionIds.map(async (id) => (await deps.sessionLog.read(id, { limit: 1_000 })).entries.filter((entry) => entry.kind === 'Request')))).flat(),
    emails: (await Promise.all(sessionIds.map(async (id) => (await deps.notifications.listEmails(id)).map((email) => `${id} ${email.key} ${email.status}`)))).flat(),
  };
}

interface LinkPage {
  readonly status: number;
  readonly contentType: string;
  readonly cacheControl: string;
  readonly html: string;
  /** The page's heading, from its `<title>` (`<heading> · <company>`). */
  readonly title: string;
  /** The page's first paragraph: what happened or what the button does. */
  readonly message: string;
  readonly form?: { readonly action: string; readonly csrf: string };
}

async function readPage(response: Response): Promise<LinkPage> {
  const html = await response.text();
  const document = documentOf(html);
  const action = document.querySelector('form[method="post"]')?.getAttribute('action');
  const csrf = document.querySelector('form[method="post"] input[name="csrf"]')?.getAttribute('value');
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    cacheControl: response.headers.get('cache-control') ?? '',
    html,
    title: (document.querySelector('title')?.textContent ?? '').split(' · ')[0] ?? '',
    message: document.querySelector('main p')?.textContent ?? '',
    ...(action && csrf ? { form: { action, csrf } } : {}),
  };
}

const fetchPage = async (url: string, method: 'GET' | 'HEAD' = 'GET'): Promise<Response> => fetch(url, { method, redirect: 'follow' });

/** What a browser sends with the link page's own form (Chrome adds both on a same-origin POST to 127.0.0.1 or https). */
const sameOrigin = (lab: Lab): Record<string, string> => ({ origin: new URL(lab.server.url).origin, 'sec-fetch-site': 'same-origin' });

const postForm = (url: string, fields: Record<string, string>, headers: Record<string, string>): Promise<Response> =>
  fetch(url, { method: 'POST', redirect: 'follow', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() });

/** The end user opens the link and presses the page's button. */
async function openAndConfirm(lab: Lab, url: string): Promise<LinkPage> {
  const shown = await readPage(await fetchPage(url));
  expect(shown.status, shown.message).toBe(200);
  if (!shown.form) throw new Error(`the page of ${url} has no form: ${shown.title}: ${shown.message}`);
  return readPage(await postForm(new URL(shown.form.action, url).href, { csrf: shown.form.csrf }, sameOrigin(lab)));
}

/** Whatever a server error would leak: a stack frame, a source path, an error class, a JSON envelope. */
const INTERNALS = /\n\s+at\s|\bat\s+\S+\s+\(|node_modules|\.tsx?:\d+|\b(?:Type|Range|Reference|Syntax|Zod)?Error\b|"error"\s*:/;
/** A sentence a person reads: starts with a capital, four words or more, ends with a full stop. */
const HUMAN_SENTENCE = /^[A-Z][^\s]*(?:\s+\S+){3,}[.!?]$/;

function expectRefusalPage(page: LinkPage, label: string): void {
  expect.soft(page.status, `${label}: status`).toBeGreaterThanOrEqual(400);
  expect.soft(page.status, `${label}: status`).toBeLessThan(500);
  expect.soft(page.contentType, `${label}: content type`).toMatch(/^text\/html/);
  expect.soft(page.html.slice(0, 15).toLowerCase(), `${label}: an HTML document`).toBe('<!doctype html>');
  expect.soft(page.html, `${label}: no internals`).not.toMatch(INTERNALS);
  expect.soft(page.message, `${label}: a sentence in words`).toMatch(HUMAN_SENTENCE);
  expect.soft(page.form, `${label}: no form to act with`).toBeUndefined();
  expect.soft(page.cacheControl, `${label}: never cached`).toBe('no-store');
}

function expectRefusalHead(response: Response, label: string): void {
  expect.soft(response.status, `${label}: HEAD status`).toBeGreaterThanOrEqual(400);
  expect.soft(response.status, `${label}: HEAD status`).toBeLessThan(500);
  expect.soft(response.headers.get('content-type') ?? '', `${label}: HEAD content type`).toMatch(/^text\/html/);
}

describe('end-user email links on the real runtime and local server', () => {
  // one runtime for these tests, one machine (and session) each: none of them moves the clock or the key ring
  let shared: Lab | undefined;
  const labOpen = (): Lab => {
    if (!shared) throw new Error('the lab did not start');
    return shared;
  };
  beforeAll(async () => {
    shared = await openLab(['scan', 'repeat', 'bounded', 'cancel', 'runnow']);
  });
  afterAll(async () => {
    await closeLab(shared);
  });

  it('a mail scanner fetching every link of every email (GET and HEAD, again and again) changes nothing; the page form POST does', async () => {
    const lab = labOpen();
    const { sessionId, detection } = await startParked(lab, 'scan');
    // the text part offers the same links as the buttons: a scanner reading either reaches all three
    expect(new Set(textUrls(detection.body.text ?? ''))).toEqual(new Set(htmlLinks(detection.body.html ?? '')));
    expect(purposesIn(detection).sort()).toEqual(['Cancel', 'Postpone', 'RunNow']);

    const mailbox = await lab.runtime.mailbox.messages();
    const urls = [...new Set(mailbox.flatMap(emailUrls))];
    // a scanner on another site's link cannot touch this runtime (and this test has no network): ours are the link pages
    const ours = urls.filter((url) => url.startsWith(`${lab.server.url}/`));
    expect(ours.length).toBeGreaterThanOrEqual(3);
    const sessionIds = [...new Set(ours.flatMap((url) => linkClaims(url)?.sessionId ?? []))];
    const tokenIds = ours.flatMap((url) => linkClaims(url)?.tokenId ?? []);
    expect(sessionIds).toContain(sessionId);

    const before = await observe(lab, sessionIds, tokenIds);
    for (let round = 0; round < 3; round++) {
      const responses = await Promise.all(ours.flatMap((url) => (['GET', 'HEAD'] as const).map(async (method) => ({ url, method, response: await fetchPage(url, method) }))));
      for (const { url, method, response } of responses) {
        expect(response.status, `${method} ${url}`).toBe(200);
        expect(response.redirected).toBe(false);
        expect(response.headers.get('cache-control')).toBe('no-store');
        if (method === 'GET') {
          // the page only shows what the button would do, and a form to do it
          const page = await readPage(response);
          expect(page.form?.csrf).toBe(tokenIdOf(url));
        }
      }
    }
    expect(await observe(lab, sessionIds, tokenIds)).toEqual(before);
    const scanned = await lab.runtime.deps.sessions.getSession(sessionId);
    expect(scanned?.postponements).toEqual([]);
    expect(await lab.runtime.deps.audit.list('Session', sessionId)).toEqual([]);

    // the same observation does see a change: the page's own form POST postpones
    const done = await openAndConfirm(lab, linkIn(detection, 'Postpone'));
    expect(done.status).toBe(200);
    expect(done.title).toBe('Maintenance postponed');
    const after = await observe(lab, sessionIds, tokenIds);
    expect(after).not.toEqual(before);
    const postponed = await lab.runtime.deps.sessions.getSession(sessionId);
    expect(postponed?.version).toBeGreaterThan(scanned?.version ?? Infinity);
    expect(postponed?.postponements).toHaveLength(1);
    expect(after.outcomes.filter((outcome) => outcome.sessionId === sessionId)).toHaveLength(1);
    expect(after.audit.filter((entry) => entry.resourceId === sessionId).map((entry) => entry.action)).toEqual(['Postponed']);
    const requestLines = (observed: typeof before) => observed.requests.filter((entry) => entry.sessionId === sessionId).map((entry) => entry.message);
    expect(requestLines(after)).toEqual([...requestLines(before), expect.stringMatching(/^maintenance postponed to /)]);
  });

  it('a Postpone link acts once: 5 concurrent POSTs and 2 repeats postpone once, audit once, mail one confirmation, and the repeats say it was already done', async () => {
    const lab = labOpen();
    const { sessionId, executeAt, detection } = await startParked(lab, 'repeat');
    const url = linkIn(detection, 'Postpone');
    const shown = await readPage(await fetchPage(url));
    if (!shown.form) throw new Error(`no form: ${shown.message}`);
    const target = new URL(shown.form.action, url).href;
    const csrf = shown.form.csrf;

    const concurrent = await Promise.all(Array.from({ length: 5 }, async () => readPage(await postForm(target, { csrf }, sameOrigin(lab)))));
    const repeats = [await readPage(await postForm(target, { csrf }, sameOrigin(lab))), await readPage(await postForm(target, { csrf }, sameOrigin(lab)))];
    for (const page of [...concurrent, ...repeats]) {
      expect(page.status, page.message).toBe(200);
      expect(page.title).toBe('Maintenance postponed');
    }
    const firsts = concurrent.filter((page) => !page.message.includes('already used'));
    expect(firsts, concurrent.map((page) => page.message).join('\n')).toHaveLength(1);
    for (const page of repeats) expect(page.message).toMatch(/^This link was already used on .+: the maintenance was postponed\./);
    // and the link's page, opened again, says the same instead of offering the button again
    const reopened = await readPage(await fetchPage(url));
    expect(reopened.message).toMatch(/already used/);
    expect(reopened.form).toBeUndefined();

    const session = await lab.runtime.deps.sessions.getSession(sessionId);
    expect(session?.status).toBe('Postponed');
    expect(session?.postponements).toHaveLength(1);
    expect(session?.executeAt).toBe(new Date(Date.parse(executeAt) + 60 * MINUTE).toISOString());
    const audit = await lab.runtime.deps.audit.list('Session', sessionId);
    expect(audit.map((entry) => [entry.resource, entry.action, entry.by.kind])).toEqual([['Session', 'Postponed', 'EndUser']]);
    expect(await mailOf(lab, 'repeat', 'Postponed')).toHaveLength(1);
    expect(lab.runtime.timers.armed().filter((timer) => timer.sessionId === sessionId)).toEqual([{ sessionId, at: session?.executeAt }]);
  });

  it('a session postponed as often as allowed: the next Postpone link says it can no longer be postponed, and its POST changes nothing', async () => {
    const lab = labOpen();
    const { sessionId, detection } = await startParked(lab, 'bounded', { postpone: { delayMinutes: 60, maxCount: 1 } });
    expect(purposesIn(detection)).toContain('Postpone');
    // the one postpone allowed, by the operator, after the detection email went out with its Postpone link
    await postponeSession(lab.runtime.deps, { sessionId, by: OPERATOR });
    const confirmation = await waitForMail(lab, 'bounded', 'Postponed');
    // the confirmation carries fresh links, but no Postpone: there is none left to offer
    expect(purposesIn(confirmation).sort()).toEqual(['Cancel', 'RunNow']);

    const url = linkIn(detection, 'Postpone');
    const tokenIds = [...purposesIn(detection).map((purpose) => tokenIdOf(linkIn(detection, purpose))), ...purposesIn(confirmation).map((purpose) => tokenIdOf(linkIn(confirmation, purpose)))];
    const before = await observe(lab, [sessionId], tokenIds);
    const shown = await readPage(await fetchPage(url));
    expect(shown.status).toBe(409);
    expect(shown.title).toBe('This link cannot be used');
    expect(shown.message).toBe('The maintenance can no longer be postponed: it was already postponed once, the most allowed.');
    expect(shown.form).toBeUndefined();
    const posted = await readPage(await postForm(url, { csrf: tokenIdOf(url) }, sameOrigin(lab)));
    expect(posted.status).toBe(409);
    expect(posted.message).toMatch(/can no longer be postponed/);
    expect(await observe(lab, [sessionId], tokenIds)).toEqual(before);
    expect((await lab.runtime.deps.sessions.getSession(sessionId))?.postponements).toHaveLength(1);
  });

  it('the Cancel link cancels at once: the gate wakes, the session ends Cancelled, a Cancelled confirmation goes out and no follow-up', async () => {
    const lab = labOpen();
    const { sessionId, detection } = await startParked(lab, 'cancel');
    const done = await openAndConfirm(lab, linkIn(detection, 'Cancel'));
    expect(done.status).toBe(200);
    expect(done.title).toBe('Maintenance cancelled');

    // the clock has not moved: only the link can have woken the gate
    const outcome = await lab.runtime.waitForSession(sessionId);
    expect(outcome.session.status).toBe('Cancelled');
    expect(outcome.session.cancelled?.by.kind).toBe('EndUser');
    expect(outcome.agentRoundTrips).toBe(1);
    expect(lab.runtime.timers.armed().filter((timer) => timer.sessionId === sessionId)).toEqual([]);
    expect((await lab.runtime.deps.notifications.listEmails(sessionId)).map((email) => email.key).sort()).toEqual(['Cancelled', 'Detection']);
    expect(await mailOf(lab, 'cancel', 'Cancelled')).toHaveLength(1);
    const deskMail = (await lab.runtime.mailbox.messages()).filter((email) => email.subject.includes(deskOf('cancel')));
    expect(deskMail.map((email) => email.subject.split(':')[0])).toEqual(['Maintenance on Desk cancel', 'Maintenance cancelled']);
    expect((await lab.runtime.deps.audit.list('Session', sessionId)).map((entry) => entry.action)).toEqual(['Cancelled']);
  });

  it('the Run-now link starts the maintenance at once: the session passes and the follow-up email lists each action with its result', async () => {
    const lab = labOpen();
    const { sessionId, detection } = await startParked(lab, 'runnow');
    const done = await openAndConfirm(lab, linkIn(detection, 'RunNow'));
    expect(done.status).toBe(200);
    expect(done.title).toBe('Maintenance starting now');

    const outcome = await lab.runtime.waitForSession(sessionId);
    expect(outcome.session.status).toBe('Passed');
    expect(outcome.actions.map((action) => action.result)).toEqual(['Success', 'Success']);
    const followUp = await waitForMail(lab, 'runnow', 'FollowUp');
    expect(followUp.subject).toBe(`Maintenance complete: ${deskOf('runnow')}`);
    const rows = [...documentOf(followUp.body.html ?? '').querySelectorAll('table tbody tr')].map((row) => (row.textContent ?? '').trim());
    expect(rows).toEqual(expect.arrayContaining(['Install App editor 2.0✓ Done', 'Install App viewer 3.1✓ Done']));
    expect(followUp.body.text).toMatch(/Install App editor 2\.0\s+.*Done/);
    expect(followUp.body.text).toMatch(/Install App viewer 3\.1\s+.*Done/);
    // the maintenance is over: the follow-up offers no buttons
    expect(htmlLinks(followUp.body.html ?? '')).toEqual([]);
    expect((await lab.runtime.deps.audit.list('Session', sessionId)).map((entry) => entry.action)).toEqual(['MovedToNow']);
  });
});

interface ForgeryCase {
  readonly name: string;
  /** The request path, already encoded as it goes on the wire. */
  readonly path: string;
  /** The form's csrf field; absent: no field at all. */
  readonly csrf?: string;
  /** The POST's headers besides the content type; default: a same-origin browser's. */
  readonly headers?: Record<string, string>;
  readonly contentType?: string;
  /** The link itself is valid (only the POST is wrong): its GET shows the real confirmation page. */
  readonly validLink?: boolean;
  /** What the refusal page says. */
  readonly says?: RegExp;
}

const pathOf = (token: string): string => `/l/${encodeURIComponent(token)}`;
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const unb64 = (part: string): Record<string, unknown> => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
/** Replaces one character with a different base64url character. */
const flip = (text: string, index: number): string => `${text.slice(0, index)}${text[index] === 'A' ? 'B' : 'A'}${text.slice(index + 1)}`;

function splitToken(url: string): { token: string; payload: string; signature: string } {
  const token = linkToken(url);
  const [payload, signature] = token?.split('.') ?? [];
  if (token === undefined || payload === undefined || signature === undefined) throw new Error(`${url} is not a link`);
  return { token, payload, signature };
}

describe('forged, replayed and cross-site link requests: a 4xx page in words for GET, HEAD and POST, and nothing changes', () => {
  interface Fixture {
    readonly lab: Lab;
    readonly a: Parked;
    readonly b: Parked;
    readonly aLinks: Record<LinkPurpose, string>;
    readonly bPostpone: string;
    readonly sessionIds: readonly string[];
    readonly tokenIds: readonly string[];
  }
  let fixture: Fixture | undefined;
  const opened = (): Fixture => {
    if (!fixture) throw new Error('the fixture did not start');
    return fixture;
  };
  beforeAll(async () => {
    const lab = await openLab(['fa', 'fb']);
    // a's window opens first; b's after every clock move below, so b's links stay valid until their key is retired
    const [a, b] = await Promise.all([startParked(lab, 'fa'), startParked(lab, 'fb', {}, 6 * HOUR)]);
    const linksOf = (parked: Parked) => Object.fromEntries((['Postpone', 'Cancel', 'RunNow'] as const).map((purpose) => [purpose, linkIn(parked.detection, purpose)])) as Record<LinkPurpose, string>;
    const aLinks = linksOf(a);
    const bLinks = linksOf(b);
    fixture = { lab, a, b, aLinks, bPostpone: bLinks.Postpone, sessionIds: [a.sessionId, b.sessionId], tokenIds: [...Object.values(aLinks), ...Object.values(bLinks)].map(tokenIdOf) };
  });
  afterAll(async () => {
    await closeLab(fixture?.lab);
  });

  /** Sends the case's GET, HEAD and POST and checks every answer and that nothing changed. */
  async function attempt(forgery: ForgeryCase): Promise<void> {
    const { lab, sessionIds, tokenIds } = opened();
    const before = await observe(lab, sessionIds, tokenIds);
    const url = `${lab.server.url}${forgery.path}`;
    const shown = await readPage(await fetchPage(url));
    const head = await fetchPage(url, 'HEAD');
    if (forgery.validLink) {
      expect.soft(shown.status, `${forgery.name}: GET of the valid link`).toBe(200);
    } else {
      expectRefusalPage(shown, `${forgery.name}: GET`);
      expectRefusalHead(head, forgery.name);
    }
    const fields: Record<string, string> = forgery.csrf === undefined ? {} : { csrf: forgery.csrf };
    const response =
      forgery.contentType === 'application/json'
        ? await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...sameOrigin(lab) }, body: JSON.stringify(fields) })
        : await postForm(url, fields, forgery.headers ?? sameOrigin(lab));
    const posted = await readPage(response);
    expectRefusalPage(posted, `${forgery.name}: POST`);
    if (forgery.says) expect.soft(`${posted.title}. ${posted.message}`, `${forgery.name}: what the page says`).toMatch(forgery.says);
    expect.soft(await observe(lab, sessionIds, tokenIds), `${forgery.name}: nothing changed`).toEqual(before);
  }

  it('tampered tokens, path tricks, wrong csrf values and cross-site posts', async () => {
    const { a, b, aLinks, bPostpone } = opened();
    const postpone = splitToken(aLinks.Postpone);
    const cancel = splitToken(aLinks.Cancel);
    const claims = unb64(postpone.payload);
    const csrf = tokenIdOf(aLinks.Postpone);
    /** The Postpone link's claims changed and encoded again, with its old signature (no key to sign them). */
    const tampered = (changes: Record<string, unknown>): string => pathOf(`${b64({ ...claims, ...changes })}.${postpone.signature}`);
    const valid = pathOf(postpone.token);
    const cases: ForgeryCase[] = [
      { name: 'a payload character flipped', path: pathOf(`${flip(postpone.payload, 12)}.${postpone.signature}`), csrf },
      { name: 'a signature character flipped', path: pathOf(`${postpone.payload}.${flip(postpone.signature, 7)}`), csrf, says: /not valid/ },
      { name: 'truncated by one character', path: pathOf(postpone.token.slice(0, -1)), csrf },
      { name: 'cut in half', path: pathOf(postpone.token.slice(0, Math.floor(postpone.token.length / 2))), csrf },
      { name: 'extended by one character', path: pathOf(`${postpone.token}A`), csrf },
      { name: "the Cancel link's payload with the Postpone link's signature", path: pathOf(`${cancel.payload}.${postpone.signature}`), csrf: tokenIdOf(aLinks.Cancel) },
      { name: 'purpose changed to Cancel in the payload, not re-signed', path: tampered({ purpose: 'Cancel' }), csrf },
      { name: 'sessionId changed to another real session', path: tampered({ sessionId: b.sessionId }), csrf },
      { name: 'expiresAt extended by a week', path: tampered({ expiresAt: new Date(Date.parse(a.executeAt) + 7 * 24 * HOUR).toISOString() }), csrf },
      { name: 'tokenId changed (and the csrf value with it)', path: tampered({ tokenId: 'lnk_forged_0001' }), csrf: 'lnk_forged_0001' },
      { name: 'keyId changed', path: tampered({ keyId: 'k2' }), csrf },
      { name: '1,500 characters', path: pathOf(`${postpone.token}${'A'.repeat(1_500 - postpone.token.length)}`), csrf },
      { name: 'standard base64 characters (+ and /)', path: pathOf(`${postpone.payload.slice(0, 10)}+/${postpone.payload.slice(12)}.${postpone.signature}`), csrf },
      { name: 'characters outside base64', path: pathOf(`${postpone.payload}!*.${postpone.signature}~`), csrf },
      { name: 'a NUL byte', path: `/l/${postpone.payload}%00.${postpone.signature}`, csrf },
      { name: 'a path climbing to the operator API', path: '/l/..%2f..%2fv1%2fme', csrf },
      { name: 'the token followed by an encoded climb', path: `/l/${postpone.token}%2f..%2f..%2fv1%2fsessions`, csrf },
      { name: 'an encoded climb before the token', path: `/l/..%2f${postpone.token}`, csrf },
      { name: 'an encoded dot-dot segment', path: '/l/%2e%2e%2fv1%2fme', csrf },
      { name: "a valid link of another session posted with this link's csrf value", path: pathOf(splitToken(bPostpone).token), csrf, validLink: true, says: /confirm from the page/ },
      { name: 'a POST without the csrf field', path: valid, validLink: true, says: /confirm from the page/ },
      { name: 'a POST with a wrong csrf value', path: valid, csrf: 'lnk_0000_wrong', validLink: true, says: /confirm from the page/ },
      { name: "a POST with the csrf value of the same session's Cancel link", path: valid, csrf: tokenIdOf(aLinks.Cancel), validLink: true, says: /confirm from the page/ },
      { name: 'a POST with Origin: https://evil.example', path: valid, csrf, headers: { origin: 'https://evil.example' }, validLink: true, says: /confirm from the page/ },
      { name: 'a POST with Sec-Fetch-Site: cross-site', path: valid, csrf, headers: { 'sec-fetch-site': 'cross-site' }, validLink: true, says: /confirm from the page/ },
      { name: 'a cross-site form POST as a browser sends it', path: valid, csrf, headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }, validLink: true, says: /confirm from the page/ },
      { name: 'a POST with neither Origin nor Sec-Fetch-Site (a script, not a browser)', path: valid, csrf, headers: {}, validLink: true, says: /confirm from the page/ },
      { name: 'a POST of JSON instead of the form', path: valid, csrf, contentType: 'application/json', validLink: true, says: /confirm from the page/ },
    ];
    for (const forgery of cases) await attempt(forgery);
  });

  // the app's not-found handler answers a link cut short with the link pages' page, not the API's JSON
  it('an empty token (a link cut right after /l/)', async () => {
    await attempt({ name: 'empty', path: '/l/', csrf: tokenIdOf(opened().aLinks.Postpone) });
  });

  // runs last: it moves the clock past a's window and retires the key every link so far was signed with
  it('an expired link, and a link whose signing key was retired', async () => {
    const { lab, a, b, aLinks, bPostpone } = opened();
    // the maintenance was moved (by the operator) and the window the first email was for has opened:
    // the session waits for its new window, and the first email's Cancel link must no longer cancel it
    await postponeSession(lab.runtime.deps, { sessionId: a.sessionId, by: OPERATOR });
    lab.clock.advance(Date.parse(a.executeAt) - lab.clock.now().getTime() + MINUTE);
    await attempt({ name: 'an expired link', path: pathOf(splitToken(aLinks.Cancel).token), csrf: tokenIdOf(aLinks.Cancel), says: /expired/ });
    expect((await lab.runtime.deps.sessions.getSession(a.sessionId))?.status).toBe('Postponed');

    // b's link verifies until its key leaves the ring and the ring the runtime cached (5 minutes) expires
    expect((await fetchPage(bPostpone)).status).toBe(200);
    await writeFile(localKeyRingFile(lab.runtime.dataDir), `${JSON.stringify(newLinkKeyRing(randomBytes, 'k2'))}\n`, { mode: 0o600 });
    lab.clock.advance(6 * MINUTE);
    await attempt({ name: 'a link whose key was retired', path: pathOf(splitToken(bPostpone).token), csrf: tokenIdOf(bPostpone), says: /no longer valid/ });
    // the runtime signs with the new key from then on, and its links work
    const fresh = await lab.runtime.deps.linkKeys.issue({ sessionId: b.sessionId, purpose: 'Postpone', expiresAt: b.executeAt, tokenId: 'lnk_after_rotation' });
    expect((await fetchPage(`${lab.server.url}${pathOf(fresh)}`)).status).toBe(200);
  });
});
