import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notifyOptionsSchema } from '../../functions/core/model/session.js';
import { startApiServer, type ApiServer } from '../../local/api-server.js';
import type { StoredEmail } from '../../local/mailbox.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { CHROMIUM_PATH, hasChromium, launchChromium, screenshotPath } from '../support/browser.js';
import { everywhere, manualClock, runtimeWithFleet, testComputer, testSoftware } from '../support/fleet.js';
import { until } from '../support/wait.js';

/**
 * The demo's end-user story in a real browser: the detection email opened
 * from the local mailbox's web page, its Postpone button clicked, the
 * confirmation page's button pressed. Screenshots of both emails and the
 * pages land in `reports/screenshots/`.
 */

const HOUR = 3_600_000;
const NOTIFY = notifyOptionsSchema.parse({});
const SOFTWARE = [testSoftware('editor', '2.0'), testSoftware('viewer', '3.1')];
/** Generous for two cores shared with other test files, but bounded: a page that never comes fails the test. */
const BROWSER_TIMEOUT_MS = 15_000;

const machine = (id: string, index: number) => ({
  computer: testComputer(id, `i-${String(index + 1).padStart(17, '0')}`, { name: `Desk ${id}`, primaryUser: { name: `Robin ${id}`, email: `${id}@contoso.example` } }),
});

async function waitForMail(runtime: LocalRuntime, subjectStart: string): Promise<StoredEmail> {
  let found: StoredEmail | undefined;
  await until(async () => {
    found = (await runtime.mailbox.messages()).find((email) => email.subject.startsWith(subjectStart));
    return found !== undefined;
  });
  if (found === undefined) throw new Error(`no email "${subjectStart}…"`);
  return found;
}

/** The email's card on the mailbox page, its HTML view opened (the viewer draws the HTML in an iframe). */
async function openInMailbox(mailbox: Page, email: StoredEmail): Promise<Locator> {
  const card = mailbox.locator('.email', { hasText: email.subject });
  await card.getByRole('button', { name: 'Toggle HTML view' }).click();
  const iframe = card.locator('iframe');
  await iframe.waitFor({ state: 'visible' });
  return iframe;
}

describe.skipIf(!hasChromium)(`email links in a real browser (skipped when ${CHROMIUM_PATH} is not installed)`, () => {
  let runtime: LocalRuntime | undefined;
  let server: ApiServer | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  const clock = manualClock(new Date('2026-11-23T09:00:00Z'));

  beforeAll(async () => {
    runtime = await runtimeWithFleet(
      { software: SOFTWARE, deployments: SOFTWARE.map((software) => everywhere(software.id)), machines: [machine('tonight', 0), machine('done', 1)] },
      { clock, timerPollMs: 10, agentPollMs: 10 },
    );
    server = await startApiServer(runtime, { port: 0 });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1000, height: 1000 } });
    context.setDefaultTimeout(BROWSER_TIMEOUT_MS);
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
    await runtime?.close();
  });

  it('opens the detection email from the local mailbox, clicks Postpone, confirms on the page, and the session is postponed by its delay', async () => {
    if (!runtime || !context) throw new Error('the runtime or the browser did not start');
    const rt = runtime;
    // one session runs at once (for its follow-up email), one waits for tonight's window
    const done = await rt.startSession('done', undefined, { notify: NOTIFY });
    const executeAt = new Date(clock.now().getTime() + 3 * HOUR).toISOString();
    const { sessionId } = await rt.startSession('tonight', undefined, { executeAt, notify: NOTIFY });
    expect((await rt.waitForSession(done.sessionId)).session.status).toBe('Passed');
    await until(async () => (await rt.deps.sessions.getSession(sessionId))?.windowWait !== undefined);
    const detection = await waitForMail(rt, 'Maintenance on Desk tonight');
    const followUp = await waitForMail(rt, 'Maintenance complete: Desk done');

    // the mailbox web page, as the demo's reader opens it: both emails drawn and photographed, then the detection email acted on
    const mailbox = await context.newPage();
    await mailbox.goto(rt.mailbox.url);
    const detectionView = await openInMailbox(mailbox, detection);
    const postpone = detectionView.contentFrame().getByRole('link', { name: 'Postpone' });
    await postpone.waitFor();
    await detectionView.screenshot({ path: await screenshotPath('detection-email'), animations: 'disabled' });
    const followUpView = await openInMailbox(mailbox, followUp);
    await followUpView.contentFrame().getByRole('heading', { name: 'Maintenance complete' }).waitFor();
    await followUpView.screenshot({ path: await screenshotPath('follow-up-email'), animations: 'disabled' });

    // the email's buttons open in a new tab, as in a mail client
    const [linkPage] = await Promise.all([context.waitForEvent('page'), postpone.click()]);
    await linkPage.getByRole('heading', { name: 'Postpone the maintenance' }).waitFor();
    expect(await linkPage.locator('main p').first().textContent()).toMatch(/will move 60 minutes later/);
    await linkPage.screenshot({ path: await screenshotPath('link-confirmation'), fullPage: true });
    // the page's GET changed nothing
    expect((await rt.deps.sessions.getSession(sessionId))?.postponements).toEqual([]);

    const postRequest = linkPage.waitForRequest((request) => request.method() === 'POST');
    await linkPage.getByRole('button', { name: 'Postpone' }).click();
    await linkPage.getByRole('heading', { name: 'Maintenance postponed' }).waitFor();
    expect(await linkPage.locator('main p').first().textContent()).toMatch(/^It now starts on /);
    await linkPage.screenshot({ path: await screenshotPath('link-postponed'), fullPage: true });
    // the page's no-referrer policy makes the form's Origin "null": Sec-Fetch-Site is what lets it past the cross-site check
    expect(await (await postRequest).allHeaders()).toMatchObject({ 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' });

    const session = await rt.deps.sessions.getSession(sessionId);
    expect(session?.status).toBe('Postponed');
    expect(session?.executeAt).toBe(new Date(Date.parse(executeAt) + 60 * 60_000).toISOString());
    expect(session?.postponements.map((postponement) => postponement.by.kind)).toEqual(['EndUser']);
    expect(rt.timers.armed().filter((timer) => timer.sessionId === sessionId)).toEqual([{ sessionId, at: session?.executeAt }]);

    // and the mailbox page shows the confirmation the postpone mailed
    await mailbox.locator('.email', { hasText: 'Maintenance postponed: Desk tonight' }).waitFor();
  });
});
