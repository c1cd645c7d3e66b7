import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_DIST_DIR, startApiServer, type ApiServer } from '../../local/api-server.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { CHROMIUM_PATH, hasChromium, launchChromium, screenshotPath } from '../support/browser.js';
import { everywhere, runtimeWithFleet, testComputer, testSoftware } from '../support/fleet.js';
import { until } from '../support/wait.js';

/**
 * Bulk cancel and rerun on the console's Sessions page, in a real browser
 * (Debian's chromium through playwright-core) against the local runtime and
 * the local server serving the built console (npm run build:console): rows
 * selected with TanStack Table's row selection, one confirmation for the
 * lot, the API's per-session requests, and what became of each session.
 * Screenshots land in reports/screenshots/console-bulk*.png.
 */

const BROWSER_TIMEOUT_MS = 20_000;
const LOCALE = 'en-GB';
const TIME_ZONE = 'Europe/Berlin';
const HOUR_MS = 3_600_000;
const isBuilt = existsSync(path.join(CONSOLE_DIST_DIR, 'index.html'));
const skipReason = !hasChromium ? `${CHROMIUM_PATH} is not installed` : 'the console is not built (npm run build:console)';

/** desk-1…desk-4 wait for a window hours away; desk-5 and desk-6 have passed. */
const WAITING = ['desk-1', 'desk-2', 'desk-3', 'desk-4'] as const;
const ENDED = ['desk-5', 'desk-6'] as const;
const MACHINES = [...WAITING, ...ENDED];

async function newConsoleContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, locale: LOCALE, timezoneId: TIME_ZONE });
  context.setDefaultTimeout(BROWSER_TIMEOUT_MS);
  return context;
}

/** A page's value once it has settled: as patient as the browser's own waits (the machine may be busy), not expect.poll's second. */
const eventually = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: BROWSER_TIMEOUT_MS });

const checkboxOf = (page: Page, sessionId: string, computerId: string): Locator => page.getByRole('checkbox', { name: `Select session ${sessionId} on Desk ${computerId}`, exact: true });
/** The status a session's row shows. */
const shownStatus = (page: Page, sessionId: string): Promise<string | null> =>
  page.locator('table.data-table tbody tr').filter({ has: page.getByRole('link', { name: new RegExp(`session ${sessionId} on `) }) }).locator('.badge').textContent();
const bulkStatus = (page: Page): Locator => page.locator('.bulk-status');
const reportLine = (page: Page, computerId: string): Locator => page.getByRole('list', { name: 'What became of each session' }).getByRole('listitem').filter({ hasText: `Desk ${computerId} ` });

describe.skipIf(!hasChromium || !isBuilt)(`bulk cancel and rerun on the Sessions page in a real browser (skipped when ${skipReason})`, () => {
  let runtime: LocalRuntime | undefined;
  let server: ApiServer | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  /** Each computer's first session. */
  const sessions = new Map<string, string>();
  const browserErrors: string[] = [];

  const rt = () => {
    if (!runtime || !server || !page) throw new Error('the runtime, server or browser did not start');
    return { runtime, server, page };
  };
  const sessionOf = (computerId: string): string => {
    const sessionId = sessions.get(computerId);
    if (sessionId === undefined) throw new Error(`no session for ${computerId}`);
    return sessionId;
  };
  const statusInStore = async (sessionId: string) => (await rt().runtime.deps.sessions.getSession(sessionId))?.status;

  beforeAll(async () => {
    runtime = await runtimeWithFleet(
      {
        software: [testSoftware('editor', '2.0')],
        deployments: [everywhere('editor')],
        machines: MACHINES.map((id, index) => ({ computer: testComputer(id, `i-${String(index + 1).padStart(17, '0')}`, { name: `Desk ${id}` }) })),
      },
      { timerPollMs: 10, agentPollMs: 10 },
    );
    server = await startApiServer(runtime, { port: 0 });
    const rtm = runtime;
    for (const computerId of ENDED) sessions.set(computerId, (await rtm.startSession(computerId)).sessionId);
    for (const computerId of ENDED) expect((await rtm.waitForSession(sessionOf(computerId))).session.status).toBe('Passed');
    for (const computerId of WAITING) sessions.set(computerId, (await rtm.startSession(computerId, undefined, { executeAt: new Date(Date.now() + 3 * HOUR_MS).toISOString() })).sessionId);
    for (const computerId of WAITING) await until(async () => (await rtm.deps.sessions.getSession(sessionOf(computerId)))?.windowWait !== undefined);
    browser = await launchChromium();
    context = await newConsoleContext(browser);
    page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') browserErrors.push(message.text());
    });
    page.on('pageerror', (error) => browserErrors.push(error.message));
  }, 60_000);
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
    await runtime?.close();
  });

  it('offers an admin a checkbox per session, labelled with its session and computer, and one for the page that shows "some"', async () => {
    const { server, page } = rt();
    await page.goto(server.consoleUrl);
    await page.getByRole('heading', { name: 'Sessions', level: 1 }).waitFor();
    await eventually(() => page.locator('table.data-table tbody tr').count()).toBe(MACHINES.length);
    for (const computerId of MACHINES) await checkboxOf(page, sessionOf(computerId), computerId).waitFor();
    const all = page.getByRole('checkbox', { name: `Select all ${MACHINES.length} sessions on this page` });
    expect(await all.isChecked()).toBe(false);
    // by keyboard: Space ticks a row, and the page's checkbox says some (not all) are selected
    await checkboxOf(page, sessionOf('desk-1'), 'desk-1').focus();
    await page.keyboard.press('Space');
    expect(await checkboxOf(page, sessionOf('desk-1'), 'desk-1').isChecked()).toBe(true);
    await eventually(() => all.evaluate((input: { indeterminate?: boolean }) => input.indeterminate === true)).toBe(true);
    await page.getByText('1 session selected').waitFor();
    // the page's checkbox selects every row, then none
    await all.focus();
    await page.keyboard.press('Space');
    await page.getByText(`${MACHINES.length} sessions selected`).waitFor();
    expect(await all.evaluate((input: { indeterminate?: boolean }) => input.indeterminate === true)).toBe(false);
    await page.getByRole('button', { name: `Cancel ${WAITING.length} sessions` }).waitFor();
    await page.getByRole('button', { name: `Rerun ${ENDED.length} sessions` }).waitFor();
    await all.press('Space');
    await page.getByText('Select sessions with the checkboxes to cancel or rerun several at once.').waitFor();
    expect(await page.getByRole('checkbox', { checked: true }).count()).toBe(0);
  });

  it('cancels two waiting sessions and skips the ended one selected with them, saying so before and after', async () => {
    const { page } = rt();
    for (const computerId of ['desk-1', 'desk-2', 'desk-5']) await checkboxOf(page, sessionOf(computerId), computerId).check();
    await page.getByText('3 sessions selected').waitFor();
    expect(await page.locator('.bulk-bar').textContent()).toContain('1 session of the selection has already ended and is skipped.');
    await page.getByRole('button', { name: 'Cancel 2 sessions' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel 2 sessions?' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('1 session of the selection has already ended and is skipped.');
    await page.screenshot({ path: await screenshotPath('console-bulk-cancel-confirm') });
    await dialog.getByRole('button', { name: 'Yes, cancel 2 sessions' }).click();
    await eventually(() => bulkStatus(page).textContent()).toBe('Cancel 2 sessions: 2 cancelled, 1 skipped.');
    for (const computerId of ['desk-1', 'desk-2']) {
      expect(await reportLine(page, computerId).textContent()).toBe(`Desk ${computerId} Cancelled`);
      await until(async () => (await statusInStore(sessionOf(computerId))) === 'Cancelled');
    }
    expect(await reportLine(page, 'desk-5').textContent()).toBe('Desk desk-5 Skipped: it has already ended (Passed)');
    expect(await statusInStore(sessionOf('desk-5'))).toBe('Passed');
    expect(await statusInStore(sessionOf('desk-3'))).not.toBe('Cancelled');
    // the keyboard is where the report is; the list and its counts are read again; nothing stays selected
    expect(await page.locator('.bulk-report h3:focus').textContent()).toBe('Cancel 2 sessions');
    for (const computerId of ['desk-1', 'desk-2']) await eventually(() => shownStatus(page, sessionOf(computerId))).toBe('Cancelled');
    await eventually(() => page.getByRole('group', { name: 'Filter by status' }).getByRole('button', { name: /^Cancelled/ }).textContent()).toBe('Cancelled 2');
    expect(await page.getByRole('checkbox', { checked: true }).count()).toBe(0);
    await page.screenshot({ path: await screenshotPath('console-bulk-cancelled'), fullPage: true });
  });

  it('reruns the ended sessions selected: a new session each, listed once the request is done', async () => {
    const { runtime, page } = rt();
    const keys: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && new URL(request.url()).pathname.endsWith('/rerun')) keys.push(request.headers()['idempotency-key'] ?? '');
    });
    for (const computerId of ENDED) await checkboxOf(page, sessionOf(computerId), computerId).check();
    await checkboxOf(page, sessionOf('desk-3'), 'desk-3').check();
    expect(await page.locator('.bulk-bar').textContent()).toContain('1 session of the selection has not ended yet and is skipped.');
    await page.getByRole('button', { name: 'Rerun 2 sessions' }).click();
    const dialog = page.getByRole('dialog', { name: 'Rerun 2 sessions?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Yes, rerun 2 sessions' }).click();
    await eventually(() => bulkStatus(page).textContent()).toBe('Rerun 2 sessions: 2 rerun, 1 skipped.');
    // and the live region, which outlives the list read again after a rerun, says the same to a screen reader
    await page.getByRole('status').filter({ hasText: 'Rerun 2 sessions: 2 rerun, 1 skipped.' }).waitFor({ state: 'attached' });
    const rerunIds: string[] = [];
    for (const computerId of ENDED) {
      const line = reportLine(page, computerId);
      expect(await line.textContent()).toMatch(new RegExp(`^Desk ${computerId} Rerun as ses_\\w+$`));
      const rerunId = (await line.getByRole('link').last().textContent()) ?? '';
      rerunIds.push(rerunId);
      const rerun = await runtime.deps.sessions.getSession(rerunId);
      expect(rerun?.computerId).toBe(computerId);
      // the new session is in the list, which was read again for sessions newer than it had
      await page.getByRole('link', { name: `Session ${rerunId} on Desk ${computerId}` }).waitFor();
    }
    expect(new Set(rerunIds).size).toBe(2);
    // one request per session, each with a key of its own (a retry of the same request would send the same one)
    expect(keys).toHaveLength(2);
    expect(new Set(keys).size).toBe(2);
    for (const key of keys) expect(key).toMatch(/^[0-9a-f-]{36}$/);
    expect(await reportLine(page, 'desk-3').textContent()).toMatch(/^Desk desk-3 Skipped: it has not ended yet/);
    await eventually(() => page.locator('table.data-table tbody tr').count()).toBe(MACHINES.length + 2);
    for (const rerunId of rerunIds) await runtime.waitForSession(rerunId);
    await page.screenshot({ path: await screenshotPath('console-bulk-rerun'), fullPage: true });
  });

  it('ran every page above without an error in the browser (nothing refused by the security policy, no script error)', () => {
    expect(browserErrors).toEqual([]);
  });

  it('reports a session the API refuses with its reason, goes on with the others, and tries the refused one again on request', async () => {
    const { page } = rt();
    const refusedId = sessionOf('desk-3');
    // the API's refusal for one session, as it answers a session that ended between the list's read and the request
    // (a race a test cannot stage): this one response is stubbed in the browser, everything else is the real API
    await page.route(`**/v1/sessions/${refusedId}/cancel`, (route) =>
      route.fulfill({ status: 409, contentType: 'application/json', body: JSON.stringify({ error: { code: 'REQUEST_REFUSED', message: 'the session has already ended (Passed)' } }) }),
    );
    for (const computerId of ['desk-3', 'desk-4']) await checkboxOf(page, sessionOf(computerId), computerId).check();
    await page.getByRole('button', { name: 'Cancel 2 sessions' }).click();
    await page.getByRole('dialog', { name: 'Cancel 2 sessions?' }).getByRole('button', { name: 'Yes, cancel 2 sessions' }).click();
    await eventually(() => bulkStatus(page).textContent()).toBe('Cancel 2 sessions: 1 cancelled, 1 refused.');
    expect(await reportLine(page, 'desk-3').textContent()).toBe('Desk desk-3 Refused: the session has already ended (Passed) (REQUEST_REFUSED)');
    expect(await reportLine(page, 'desk-4').textContent()).toBe('Desk desk-4 Cancelled');
    await until(async () => (await statusInStore(sessionOf('desk-4'))) === 'Cancelled');
    expect(await statusInStore(refusedId)).not.toBe('Cancelled');
    await page.screenshot({ path: await screenshotPath('console-bulk-refused'), fullPage: true });
    await page.unroute(`**/v1/sessions/${refusedId}/cancel`);
    await page.getByRole('button', { name: 'Try again: 1 session refused' }).click();
    await eventually(() => bulkStatus(page).textContent()).toBe('Cancel 2 sessions: 2 cancelled.');
    await until(async () => (await statusInStore(refusedId)) === 'Cancelled');
  });

  it('offers a tenant viewer no checkboxes and no bulk requests', async () => {
    const { server } = rt();
    if (!browser) throw new Error('no browser');
    const viewerContext = await newConsoleContext(browser);
    try {
      const viewer = await viewerContext.newPage();
      await viewer.goto(`${server.url}/sessions`);
      await viewer.getByLabel('Or paste a bearer token').fill(await server.mintDevToken({ role: 'Viewer', tenantId: 'tenant-a' }));
      await viewer.getByRole('button', { name: 'Sign in with this token' }).click();
      await viewer.getByRole('heading', { name: 'Sessions', level: 1 }).waitFor();
      await eventually(() => viewer.locator('header .who').textContent()).toContain('Tenant viewer of tenant-a');
      await eventually(() => viewer.locator('table.data-table tbody tr').count()).toBe(MACHINES.length + 2);
      expect(await viewer.getByRole('checkbox').count()).toBe(0);
      expect(await viewer.getByRole('region', { name: 'Selected sessions' }).count()).toBe(0);
      expect(await viewer.getByRole('button', { name: /^(Cancel|Rerun) / }).count()).toBe(0);
      await viewer.screenshot({ path: await screenshotPath('console-bulk-viewer'), fullPage: true });
    } finally {
      await viewerContext.close();
    }
  });
});
