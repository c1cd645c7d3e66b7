import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Software } from '../../functions/core/model/catalog.js';
import type { SessionStatus } from '../../functions/core/model/session.js';
import { CONSOLE_DIST_DIR, startApiServer, type ApiServer } from '../../local/api-server.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { CHROMIUM_PATH, hasChromium, launchChromium, screenshotPath } from '../support/browser.js';
import { sessionRecord } from '../support/domain.js';
import { everywhere, runtimeWithFleet, testComputer, testSoftware } from '../support/fleet.js';
import { until } from '../support/wait.js';

/**
 * The operator console in a real browser (Debian's chromium through
 * playwright-core) against the local runtime and the local server, which
 * serves the built console (console/dist, `npm run build:console`) beside
 * the API. Screenshots of each page land in reports/screenshots/console-*.png.
 */

const BROWSER_TIMEOUT_MS = 20_000;
/** The viewer's locale and zone: the console shows times in them, whatever the server's. */
const LOCALE = 'en-GB';
const TIME_ZONE = 'Europe/Berlin';
const isBuilt = existsSync(path.join(CONSOLE_DIST_DIR, 'index.html'));
const skipReason = !hasChromium ? `${CHROMIUM_PATH} is not installed` : 'the console is not built (npm run build:console)';

/** An application whose install takes a while and says so line by line: a session that runs long enough to watch. */
function slowSoftware(id: string): Software {
  const software = testSoftware(id, '1.0');
  return { ...software, installScript: `echo "unpacking ${id}"\nsleep 1\necho "configuring ${id}"\nsleep 1\n${software.installScript}` };
}

const SOFTWARE = [testSoftware('editor', '2.0'), slowSoftware('suite-a'), slowSoftware('suite-b'), slowSoftware('suite-c'), testSoftware('broken', '1.0', { failInstall: true })];

async function newConsoleContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: LOCALE, timezoneId: TIME_ZONE });
  context.setDefaultTimeout(BROWSER_TIMEOUT_MS);
  return context;
}

/** The rows of the sessions table, each as its cells' text (a row's rendered text separates cells by tabs). */
async function sessionRows(page: Page): Promise<string[][]> {
  const rows = await page.locator('table.data-table tbody tr').allInnerTexts();
  return rows.map((row) => row.split('\t').map((cell) => cell.trim()));
}

describe.skipIf(!hasChromium || !isBuilt)(`the operator console in a real browser (skipped when ${skipReason})`, () => {
  let runtime: LocalRuntime | undefined;
  let server: ApiServer | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  const started: Partial<Record<'passed' | 'failed' | 'waiting', string>> = {};
  /** What the page logged as errors: a refused script or style (the CSP), a React error, a failed request. */
  const browserErrors: string[] = [];

  const rt = () => {
    if (!runtime || !server || !page) throw new Error('the runtime, server or browser did not start');
    return { runtime, server, page };
  };

  beforeAll(async () => {
    runtime = await runtimeWithFleet(
      {
        software: SOFTWARE,
        // desk-4's three slow installs make a session that runs long enough to watch; desk-2's broken one fails
        deployments: [
          everywhere('editor'),
          everywhere('broken', { target: { kind: 'Computer', computerId: 'desk-2' } }),
          ...['suite-a', 'suite-b', 'suite-c'].map((id) => everywhere(id, { target: { kind: 'Computer', computerId: 'desk-4' } })),
        ],
        machines: ['desk-1', 'desk-2', 'desk-3', 'desk-4'].map((id, index) => ({ computer: testComputer(id, `i-${String(index + 1).padStart(17, '0')}`, { name: `Desk ${id}` }) })),
      },
      { timerPollMs: 10, agentPollMs: 10 },
    );
    server = await startApiServer(runtime, { port: 0 });
    // a few sessions before the console opens: one passed, one failed, one waiting for tonight's window
    started.passed = (await runtime.startSession('desk-1')).sessionId;
    started.failed = (await runtime.startSession('desk-2', undefined, { limitTo: 'software:broken' })).sessionId;
    started.waiting = (await runtime.startSession('desk-3', undefined, { executeAt: new Date(Date.now() + 3 * 3_600_000).toISOString() })).sessionId;
    const rtm = runtime;
    expect((await rtm.waitForSession(started.passed)).session.status).toBe('Passed');
    await until(async () => (await rtm.deps.sessions.getSession(started.waiting ?? ''))?.windowWait !== undefined);
    browser = await launchChromium();
    context = await newConsoleContext(browser);
    page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') browserErrors.push(message.text());
    });
    page.on('pageerror', (error) => browserErrors.push(error.message));
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
    await runtime?.close();
  });

  it('signs in by opening the printed console URL: no prompt, the code gone from the address bar, the admin named', async () => {
    const { server, page } = rt();
    await page.goto(server.consoleUrl);
    await page.getByRole('heading', { name: 'Sessions', level: 1 }).waitFor();
    expect(new URL(page.url()).hash).toBe('');
    expect(page.url()).toBe(`${server.url}/sessions`);
    await expect.poll(() => page.locator('header .who').textContent()).toContain('MSP admin');
    expect(await page.title()).toBe('Sessions · Nightshift');
  });

  it('lists the sessions newest first with counts per status, times in the viewer’s locale and zone', async () => {
    const { runtime, page } = rt();
    const failed = started.failed ?? '';
    expect((await runtime.waitForSession(failed)).session.status).toBe('Failed');
    await page.getByRole('button', { name: 'Refresh' }).click();
    await expect.poll(async () => (await sessionRows(page)).length).toBe(3);
    const rows = await sessionRows(page);
    expect(rows.map((cells) => cells[0])).toEqual(['Desk desk-3', 'Desk desk-2', 'Desk desk-1']);
    const chips = page.getByRole('group', { name: 'Filter by status' });
    await expect.poll(() => chips.getByRole('button', { name: /^All/ }).textContent()).toBe('All 3');
    expect(await chips.getByRole('button', { name: /^Failed/ }).textContent()).toBe('Failed 1');
    const session = await runtime.deps.sessions.getSession(started.passed ?? '');
    const shown = new Intl.DateTimeFormat(LOCALE, { timeZone: TIME_ZONE, dateStyle: 'medium', timeStyle: 'short' }).format(new Date(session?.createdAt ?? 0));
    // the visible time, then the words only a screen reader says (which session the link opens)
    expect(rows[2]?.[6]?.split('\n')[0]).toBe(shown);
    expect(rows[2]?.[6]).toContain(`session ${started.passed ?? ''} on Desk desk-1`);
    await page.screenshot({ path: await screenshotPath('console-sessions'), fullPage: true });
  });

  it('filters by status with a chip: the URL says so and only that status is listed', async () => {
    const { page } = rt();
    const chips = page.getByRole('group', { name: 'Filter by status' });
    // by keyboard: from the filter form's last button, Tab walks the chips in order (All, then each status); Enter presses one
    await page.getByRole('button', { name: 'Clear' }).focus();
    for (let step = 0; step < 8; step++) await page.keyboard.press('Tab');
    expect(await page.locator('button:focus-visible').textContent()).toBe('Failed 1');
    expect(await page.evaluate('getComputedStyle(document.activeElement).outlineStyle')).toBe('solid');
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await sessionRows(page)).map((cells) => cells[0])).toEqual(['Desk desk-2']);
    expect(new URL(page.url()).searchParams.get('status')).toBe('Failed');
    expect(await chips.getByRole('button', { name: /^Failed/ }).getAttribute('aria-pressed')).toBe('true');
    // the counts are over every status still: a chip is a filter, not a new count
    expect(await chips.getByRole('button', { name: /^All/ }).textContent()).toBe('All 3');
    await page.screenshot({ path: await screenshotPath('console-sessions-failed'), fullPage: true });
    await chips.getByRole('button', { name: /^All/ }).click();
    await expect.poll(async () => (await sessionRows(page)).length).toBe(3);
  });

  it('opens a running session from the list and watches its log grow, with no reload, until it passes', async () => {
    const { runtime, page } = rt();
    const { sessionId } = await runtime.startSession('desk-4');
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByRole('link', { name: `Session ${sessionId} on Desk desk-4` }).click();
    await page.getByRole('heading', { name: /^Session on Desk desk-4/ }).waitFor();
    let navigations = 0;
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations++;
    });
    const log = page.getByRole('log', { name: 'Session log' });
    await log.waitFor();
    const linesAtFirst = await log.locator('li').count();
    await expect.poll(() => log.locator('li').count(), { timeout: 30_000 }).toBeGreaterThan(linesAtFirst);
    await page.screenshot({ path: await screenshotPath('console-session-running'), fullPage: true });
    await page.getByRole('heading', { name: /Passed$/ }).waitFor({ timeout: 60_000 });
    expect((await runtime.deps.sessions.getSession(sessionId))?.status).toBe('Passed');
    await expect.poll(() => log.textContent()).toMatch(/session ended Passed/);
    expect(navigations).toBe(0);
    const steps = page.getByRole('navigation', { name: 'Session steps' }).locator('li');
    // it executed right after detection: there was no window to wait for
    expect(await steps.allTextContents()).toEqual(['Resolve done', 'Detect done', 'Plan done', 'Notify skipped', 'Window skipped', 'Execute done', 'Verify done', 'Report done']);
    await page.getByRole('table', { name: /Planned and performed actions/ }).waitFor();
    await page.screenshot({ path: await screenshotPath('console-session-passed'), fullPage: true });
  });

  it("says per action which deployment won, and reruns one action's item alone in a new session", async () => {
    const { runtime, page } = rt();
    const actions = page.getByRole('table', { name: /Planned and performed actions/ });
    const suiteRow = actions.locator('tbody tr').filter({ hasText: 'suite-a' });
    // the deployment that put suite-a on desk-4, linked, and the resolution in a sentence
    const won = suiteRow.getByRole('link', { name: /suite-a/ });
    expect(await won.getAttribute('href')).toMatch(/^\/deployments\//);
    expect(await suiteRow.locator('.decided-by').textContent()).toMatch(/\S/);
    const before = page.url();
    await suiteRow.getByRole('button', { name: /^Rerun .*suite-a in a new session$/ }).click();
    await expect.poll(() => page.url()).not.toBe(before);
    const rerunId = decodeURIComponent(new URL(page.url()).pathname.split('/').at(-1) ?? '');
    const rerun = await runtime.deps.sessions.getSession(rerunId);
    expect(rerun).toMatchObject({ computerId: 'desk-4', options: { limitTo: 'software:suite-a' } });
    await runtime.waitForSession(rerunId);
  });

  it('cancels a session waiting for its window: asks first, then shows it Cancelled with who decided', async () => {
    const { runtime, page, server } = rt();
    const sessionId = started.waiting ?? '';
    await page.goto(`${server.url}/sessions/${sessionId}`);
    await page.getByRole('heading', { name: /^Session on Desk desk-3/ }).waitFor();
    const current = page.getByRole('navigation', { name: 'Session steps' }).locator('[aria-current="step"]');
    expect(await current.textContent()).toBe('Window now');
    await page.getByRole('button', { name: 'Cancel session' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel this session?' });
    await dialog.waitFor();
    await page.screenshot({ path: await screenshotPath('console-session-cancel-confirm') });
    await dialog.getByRole('button', { name: 'Yes, cancel it' }).click();
    await page.getByRole('heading', { name: /Cancelled$/ }).waitFor();
    await page.getByRole('status').filter({ hasText: 'The session is cancelled.' }).waitFor();
    await until(async () => (await runtime.deps.sessions.getSession(sessionId))?.status === 'Cancelled');
    await page.getByRole('region', { name: 'Decisions' }).getByText(/session cancelled — admin@nightshift\.local \(operator\)/).waitFor();
    expect(await page.getByRole('button', { name: 'Cancel session' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Rerun', exact: true }).waitFor();
    await page.screenshot({ path: await screenshotPath('console-session-cancelled'), fullPage: true });
  });

  it('ran every page above without an error in the browser (nothing refused by the security policy, no script error)', () => {
    expect(browserErrors).toEqual([]);
  });

  it('offers a tenant viewer, signed in with a pasted token, no cancel, postpone, run-now or rerun', async () => {
    const { server } = rt();
    if (!browser) throw new Error('no browser');
    const viewerContext = await newConsoleContext(browser);
    try {
      const viewer = await viewerContext.newPage();
      await viewer.goto(`${server.url}/sessions/${started.failed ?? ''}`);
      await viewer.getByRole('heading', { name: 'Sign in to Nightshift' }).waitFor();
      await viewer.screenshot({ path: await screenshotPath('console-sign-in'), fullPage: true });
      await viewer.getByLabel('Or paste a bearer token').fill(await server.mintDevToken({ role: 'Viewer', tenantId: 'tenant-a' }));
      await viewer.getByRole('button', { name: 'Sign in with this token' }).click();
      // back on the page asked for, as the viewer
      await viewer.getByRole('heading', { name: /^Session on Desk desk-2/ }).waitFor();
      await expect.poll(() => viewer.locator('header .who').textContent()).toContain('Tenant viewer of tenant-a');
      await viewer.getByRole('region', { name: 'Decisions' }).waitFor();
      for (const name of ['Cancel session', 'Postpone', 'Run now', 'Rerun']) expect(await viewer.getByRole('button', { name }).count()).toBe(0);
    } finally {
      await viewerContext.close();
    }
  });
});

/** Sessions in the store at once for the fleet test: a day of a 10,000-computer MSP. */
const FLEET_SESSIONS = 10_000;
const STATUSES: readonly SessionStatus[] = ['Passed', 'Passed', 'Passed', 'Passed', 'PartialPassed', 'Failed', 'Cancelled', 'Running'];

describe.skipIf(!hasChromium || !isBuilt)(`the Sessions page over 10,000 sessions a day (skipped when ${skipReason})`, () => {
  let runtime: LocalRuntime | undefined;
  let server: ApiServer | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    runtime = await runtimeWithFleet({ software: [], deployments: [], machines: [] });
    const sessions = runtime.deps.sessions;
    const now = Date.now();
    const seedStarted = performance.now();
    // summaries straight into the store (a session's one write, its listing entries included), 32 at a time
    const ids = Array.from({ length: FLEET_SESSIONS }, (_, index) => index);
    for (let start = 0; start < ids.length; start += 32) {
      await Promise.all(
        ids.slice(start, start + 32).map((index) => {
          const createdAt = new Date(now - 60_000 - Math.floor((index / FLEET_SESSIONS) * 23 * 3_600_000)).toISOString();
          const status = STATUSES[index % STATUSES.length] ?? 'Passed';
          const computerId = `pc-${String(index).padStart(5, '0')}`;
          return sessions.createSession(sessionRecord(`ses_fleet_${String(index).padStart(5, '0')}`, { computerId, computerName: computerId, tenantId: 'tenant-a', status, createdAt, updatedAt: createdAt, ...(status === 'Running' ? {} : { endedAt: createdAt }) }));
        }),
      );
    }
    process.stdout.write(`seeded ${FLEET_SESSIONS} sessions in ${Math.round(performance.now() - seedStarted)} ms\n`);
    server = await startApiServer(runtime, { port: 0 });
    browser = await launchChromium();
  }, 600_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await runtime?.close();
  });

  it('renders the first page of 50 quickly, with exact counts, from one request for one page', async () => {
    if (!server || !browser) throw new Error('the server or browser did not start');
    const context = await newConsoleContext(browser);
    try {
      const page = await context.newPage();
      const listRequests: Request[] = [];
      page.on('request', (request) => {
        if (new URL(request.url()).pathname === '/v1/sessions') listRequests.push(request);
      });
      const opened = performance.now();
      await page.goto(server.consoleUrl);
      await expect.poll(async () => (await sessionRows(page)).length, { timeout: 60_000 }).toBe(50);
      const renderedMs = Math.round(performance.now() - opened);
      const chips = page.getByRole('group', { name: 'Filter by status' });
      await expect.poll(() => chips.getByRole('button', { name: /^All/ }).textContent()).toBe(`All ${new Intl.NumberFormat(LOCALE).format(FLEET_SESSIONS)}`);
      process.stdout.write(`the Sessions page showed its first 50 of ${FLEET_SESSIONS} sessions ${renderedMs} ms after the console URL was opened\n`);
      await page.screenshot({ path: await screenshotPath('console-sessions-10k') });
      expect(listRequests).toHaveLength(1);
      expect(new URL(listRequests[0]?.url() ?? '').searchParams.get('limit')).toBe('50');
      expect(renderedMs).toBeLessThan(15_000);
    } finally {
      await context.close();
    }
  });
});
