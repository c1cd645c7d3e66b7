import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_DIST_DIR, startApiServer, type ApiServer } from '../../local/api-server.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { CHROMIUM_PATH, hasChromium, launchChromium, screenshotPath } from '../support/browser.js';
import { everywhere, runtimeWithFleet, testComputer, testSoftware } from '../support/fleet.js';
import { until } from '../support/wait.js';

/**
 * The console's Schedules, Run and Audit pages in a real browser (Debian's
 * chromium through playwright-core) against the local runtime and the local
 * server serving the built console (npm run build:console). Screenshots land
 * in reports/screenshots/console-schedules*.png, console-run*.png and
 * console-audit*.png.
 */

const BROWSER_TIMEOUT_MS = 20_000;
const LOCALE = 'en-GB';
const TIME_ZONE = 'Europe/Berlin';
const SCHEDULE_ID = 'nightly-rollout';
const isBuilt = existsSync(path.join(CONSOLE_DIST_DIR, 'index.html'));
const skipReason = !hasChromium ? `${CHROMIUM_PATH} is not installed` : 'the console is not built (npm run build:console)';

/** `HH:MM` in UTC, `hours` from now: a window that cannot open while the test runs. */
const utcTimeIn = (hours: number): string => new Date(Date.now() + hours * 3_600_000).toISOString().slice(11, 16);

/** Two rings over four computers: the canary's two sessions detect at once and wait hours for their window, so the run stays in progress. */
const SCHEDULE = {
  name: 'Nightly rollout',
  tenantId: 'tenant-a',
  target: { kind: 'AllComputers' },
  recurrence: { kind: 'Weekly', days: ['TUE', 'THU'] },
  detectionTime: utcTimeIn(1),
  maintenanceTime: utcTimeIn(4),
  timeZone: 'UTC',
  rollout: { rings: [{ name: 'canary', percent: 50 }, { name: 'everyone', percent: 100 }] },
};

async function newConsoleContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: LOCALE, timezoneId: TIME_ZONE });
  context.setDefaultTimeout(BROWSER_TIMEOUT_MS);
  return context;
}

describe.skipIf(!hasChromium || !isBuilt)(`the console's schedules, runs and audit in a real browser (skipped when ${skipReason})`, () => {
  let runtime: LocalRuntime | undefined;
  let server: ApiServer | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  let runId = '';
  const browserErrors: string[] = [];

  const rt = () => {
    if (!runtime || !server || !page || !browser) throw new Error('the runtime, server or browser did not start');
    return { runtime, server, page, browser };
  };

  beforeAll(async () => {
    runtime = await runtimeWithFleet(
      {
        software: [testSoftware('editor', '2.0')],
        deployments: [everywhere('editor')],
        machines: ['desk-1', 'desk-2', 'desk-3', 'desk-4'].map((id, index) => ({ computer: testComputer(id, `i-${String(index + 1).padStart(17, '0')}`, { name: `Desk ${id}` }) })),
      },
      { timerPollMs: 10, agentPollMs: 10 },
    );
    server = await startApiServer(runtime, { port: 0 });
    const created = await fetch(`${server.url}/v1/schedules`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.devToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ scheduleId: SCHEDULE_ID, schedule: SCHEDULE }),
    });
    expect(created.status).toBe(201);
    browser = await launchChromium();
    context = await newConsoleContext(browser);
    page = await context.newPage();
    page.on('console', (message) => {
      // a refused request is the API's answer under test (the invalid cron), shown on the page; anything else is a fault
      if (message.type() === 'error' && !/status of 400/.test(message.text())) browserErrors.push(message.text());
    });
    page.on('pageerror', (error) => browserErrors.push(error.message));
    await page.goto(server.consoleUrl);
    await page.getByRole('heading', { name: 'Sessions', level: 1 }).waitFor();
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
    await runtime?.close();
  });

  it('lists the schedule with its tenant, next fire in the viewer’s zone and recurrence in words', async () => {
    const { page } = rt();
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Schedules' }).click();
    await page.getByRole('heading', { name: 'Schedules', level: 1 }).waitFor();
    const row = page.locator('table.data-table tbody tr').filter({ hasText: 'Nightly rollout' });
    await row.waitFor();
    const cells = (await row.innerText()).split('\t').map((cell) => cell.trim());
    expect(cells.slice(0, 3)).toEqual(['Nightly rollout', 'On', 'Tenant A']);
    expect(cells[3]).toMatch(/\d{2}:\d{2}$/);
    expect(cells[4]).toBe(`Every Tuesday and Thursday at ${SCHEDULE.detectionTime} (UTC)`);
    await page.screenshot({ path: await screenshotPath('console-schedules'), fullPage: true });
  });

  it('edits the schedule with an invalid cron: the API’s message is shown on the cron field, which is marked and focused, and nothing is stored', async () => {
    const { runtime, page } = rt();
    await page.getByRole('link', { name: 'Nightly rollout' }).click();
    await page.getByRole('heading', { name: /^Nightly rollout/, level: 1 }).waitFor();
    await page.getByRole('table', { name: /Computers at the next fire \(4\)/ }).waitFor();
    await page.screenshot({ path: await screenshotPath('console-schedules-detail'), fullPage: true });
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByRole('heading', { name: 'Edit Nightly rollout' }).waitFor();
    await page.getByLabel('Repeats').selectOption('Cron');
    const cron = page.getByLabel('Cron expression');
    await cron.fill('0 25 * * *');
    await page.getByLabel('Time zone').fill('Mars/Olympus_Mons');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => cron.getAttribute('aria-invalid')).toBe('true');
    // the message sits in the cron field's own box, and the input names it as its description
    const problem = page.locator('.field', { has: cron }).locator('.field-problem');
    expect(await problem.textContent()).toMatch(/^Cron expression hour "25" must be/);
    expect((await cron.getAttribute('aria-describedby'))?.split(' ')).toContain(await problem.getAttribute('id'));
    // the focus moves in the frame after the problem is drawn
    await expect.poll(() => page.evaluate('document.activeElement?.getAttribute("name")')).toBe('recurrence.expression');
    // every field the API refused shows its own problem at once, not only the first
    const zone = page.getByLabel('Time zone');
    expect(await zone.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('.field', { has: zone }).locator('.field-problem').textContent()).toMatch(/^Time zone /);
    expect(await page.locator('form .problem').count()).toBe(0);
    await page.screenshot({ path: await screenshotPath('console-schedules-invalid-cron'), fullPage: true });
    expect((await runtime.deps.schedules.getSchedule(SCHEDULE_ID))?.version).toBe(1);
  });

  it('saves a valid edit, back on the schedule page with the new name', async () => {
    const { runtime, page } = rt();
    await page.getByLabel('Repeats').selectOption('Weekly');
    await page.getByLabel('Time zone').fill('UTC');
    await page.getByLabel('Name').fill('Nightly rollout (canary first)');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: /^Nightly rollout \(canary first\)/, level: 1 }).waitFor();
    const stored = await runtime.deps.schedules.getSchedule(SCHEDULE_ID);
    expect(stored?.version).toBe(2);
    expect(stored?.recurrence).toEqual({ kind: 'Weekly', days: ['TUE', 'THU'] });
    // the form sends back what it does not show as it was: the change is the name alone
    const changes = (await runtime.deps.audit.list('Schedule', SCHEDULE_ID)).at(-1)?.changes.map((change) => change.field);
    expect(changes).toEqual(['name']);
  });

  it('edits the reboot prompt, the postpone policy and the follow-up email: an out-of-range delay is shown on its field, then the edit is stored', async () => {
    const { runtime, page } = rt();
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByRole('heading', { name: 'Edit Nightly rollout (canary first)' }).waitFor();
    await page.getByLabel('Reboots').selectOption('Prompt');
    await page.getByLabel('Wait for an answer (minutes)').fill('30');
    await page.getByLabel('When nobody answers').selectOption('Suppress');
    await page.getByLabel('Postpones allowed').fill('0');
    await page.getByLabel('Follow-up email').uncheck();
    const delay = page.getByLabel('Each postpone delays by (minutes)');
    await delay.fill('2');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => delay.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('.field', { has: delay }).locator('.field-problem').textContent()).toMatch(/^Each postpone delays by \(minutes\) .*>=\s?5/);
    // the focus moves in the next frame
    await expect.poll(() => page.evaluate('document.activeElement?.getAttribute("name")')).toBe('postpone.delayMinutes');
    expect((await runtime.deps.schedules.getSchedule(SCHEDULE_ID))?.version).toBe(2);
    await page.screenshot({ path: await screenshotPath('console-schedules-invalid-postpone'), fullPage: true });
    await delay.fill('45');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: /^Nightly rollout \(canary first\)/, level: 1 }).waitFor();
    await until(async () => (await runtime.deps.schedules.getSchedule(SCHEDULE_ID))?.version === 3);
    const stored = await runtime.deps.schedules.getSchedule(SCHEDULE_ID);
    expect(stored?.reboot).toEqual({ preference: 'Prompt', promptTimeoutMinutes: 30, timeoutAction: 'Suppress' });
    expect(stored?.postpone).toEqual({ delayMinutes: 45, maxCount: 0, maxDelayHours: 24 });
    expect(stored?.email).toMatchObject({ followUpEmail: false, detectionEmail: true, followUpOnlyIfActionNeeded: true });
    // the fields left alone go back as they were
    expect(stored).toMatchObject({ deviceClasses: [], useComputerTimeZone: false, executeAfterActiveHours: false, flexibleWindowMinutes: 0, recurrence: { kind: 'Weekly', days: ['TUE', 'THU'] } });
    expect(stored?.limitTo).toBeUndefined();
    const changes = (await runtime.deps.audit.list('Schedule', SCHEDULE_ID)).at(-1)?.changes.map((change) => change.field);
    expect(changes).toEqual(['email', 'postpone', 'reboot']);
    await page.screenshot({ path: await screenshotPath('console-schedules-reboot-postpone'), fullPage: true });
  });

  it('creates a schedule from the form after previewing its targets and their windows in the viewer’s zone', async () => {
    const { runtime, page } = rt();
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Schedules' }).click();
    await page.getByRole('link', { name: 'New schedule' }).click();
    await page.getByRole('heading', { name: 'New schedule', level: 1 }).waitFor();
    await page.getByLabel('Name').fill('Weekend patching');
    await page.getByLabel('Tenant').selectOption('tenant-a');
    await page.getByLabel('Repeats').selectOption('Weekly');
    await page.getByLabel('Days').fill('SAT, SUN');
    await page.getByLabel('Detection at').fill('09:00');
    await page.getByLabel('Maintenance window opens at').fill('21:30');
    await page.getByLabel('Time zone').fill('America/New_York');
    await page.getByRole('button', { name: 'Preview' }).click();
    const preview = page.getByRole('table', { name: /Computers at the next fire \(4\)/ });
    await preview.waitFor();
    // the customer by its name, as the technician knows it (the API gives its id)
    await expect.poll(async () => new Set((await preview.locator('tbody tr').allInnerTexts()).map((row) => row.split('\t')[1]?.trim()))).toEqual(new Set(['Tenant A']));
    const firstFire = await page.getByRole('region', { name: 'Preview' }).locator('p time').first().getAttribute('datetime');
    // 09:00 in New York, shown in the viewer's Berlin time
    expect(new Intl.DateTimeFormat(LOCALE, { timeZone: 'America/New_York', hour: '2-digit', minute: '2-digit' }).format(new Date(firstFire ?? 0))).toBe('09:00');
    const inBerlin = new Intl.DateTimeFormat(LOCALE, { timeZone: TIME_ZONE, dateStyle: 'medium', timeStyle: 'short' }).format(new Date(firstFire ?? 0));
    expect(await page.getByRole('region', { name: 'Preview' }).locator('p time').first().textContent()).toBe(inBerlin);
    await page.screenshot({ path: await screenshotPath('console-schedules-new-preview'), fullPage: true });
    await page.getByRole('button', { name: 'Create schedule' }).click();
    await page.getByRole('heading', { name: /^Weekend patching/, level: 1 }).waitFor();
    const created = (await runtime.deps.schedules.listSchedules()).find((schedule) => schedule.name === 'Weekend patching');
    expect(created).toMatchObject({ tenantId: 'tenant-a', recurrence: { kind: 'Weekly', days: ['SAT', 'SUN'] }, detectionTime: '09:00', maintenanceTime: '21:30', timeZone: 'America/New_York' });
    await page.goto(`${rt().server.url}/schedules/${SCHEDULE_ID}`);
    await page.getByRole('heading', { name: /^Nightly rollout/, level: 1 }).waitFor();
  });

  it('runs the schedule now, then halts its run in progress and sees it Halted', async () => {
    const { runtime, page } = rt();
    await page.getByRole('button', { name: 'Run now' }).click();
    await page.getByRole('heading', { name: /^Run of Nightly rollout/ }).waitFor();
    runId = decodeURIComponent(new URL(page.url()).pathname.split('/').at(-1) ?? '');
    const counts = page.getByRole('region', { name: 'Counts' });
    await expect.poll(() => counts.locator('.count').filter({ hasText: 'Targeted' }).locator('dd').textContent()).toBe('4');
    await expect.poll(() => counts.locator('.count').filter({ hasText: 'Started' }).locator('dd').textContent()).toBe('2');
    const rings = page.getByRole('navigation', { name: 'Rings' }).locator('li');
    expect(await rings.allTextContents()).toEqual(['canary (50 %) now', 'everyone (100 %) not yet']);
    // two targets have sessions, each linked; two wait for the next ring
    const targets = page.getByRole('table', { name: /The run's computers/ });
    await expect.poll(() => targets.getByRole('link', { name: /the session of Desk/ }).count()).toBe(2);
    expect(await targets.getByText('Queued').count()).toBe(2);
    await page.screenshot({ path: await screenshotPath('console-run'), fullPage: true });
    const halt = page.getByRole('button', { name: 'Halt' });
    await expect.poll(() => halt.isEnabled()).toBe(true);
    await halt.click();
    await page.getByRole('heading', { name: /Halted$/ }).waitFor();
    await page.getByRole('status').filter({ hasText: 'The run is halted' }).waitFor();
    await until(async () => (await runtime.deps.schedules.getRun(runId))?.status === 'Halted');
    await page.getByRole('button', { name: 'Resume' }).waitFor();
    expect(await page.getByRole('note').textContent()).toMatch(/halted by admin@nightshift\.local/);
    await page.screenshot({ path: await screenshotPath('console-run-halted'), fullPage: true });
  });

  it('shows the schedule’s changes on the audit page, newest first, and by resource', async () => {
    const { runtime, page } = rt();
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('heading', { name: 'Audit', level: 1 }).waitFor();
    const rows = page.locator('table.data-table tbody tr');
    await expect.poll(() => rows.count()).toBe(6);
    const cells = (await rows.allInnerTexts()).map((row) => row.split('\t').map((cell) => cell.trim()));
    // newest first: the run halted and started by hand, the schedule made with the form, the two edits, the first schedule's creation
    expect(cells.map((row) => row.slice(2, 4))).toEqual([
      ['Halted', `Run ${runId}`],
      ['Started', `Run ${runId}`],
      ['Created', `Schedule ${(await runtime.deps.schedules.listSchedules()).find((schedule) => schedule.name === 'Weekend patching')?.id ?? '?'}`],
      ['Updated', `Schedule ${SCHEDULE_ID}`],
      ['Updated', `Schedule ${SCHEDULE_ID}`],
      ['Created', `Schedule ${SCHEDULE_ID}`],
    ]);
    expect(cells[4]?.slice(1, 2)).toEqual(['admin@nightshift.local (operator)']);
    expect(cells[4]?.[5]).toBe('name: Nightly rollout → Nightly rollout (canary first)');
    await page.screenshot({ path: await screenshotPath('console-audit'), fullPage: true });
    await page.getByLabel('Resource kind').selectOption('Schedule');
    await page.getByLabel('Resource id').fill(SCHEDULE_ID);
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => page.locator('table.data-table caption').textContent()).toMatch(`of Schedule ${SCHEDULE_ID}, newest first`);
    expect(new URL(page.url()).searchParams.get('resourceId')).toBe(SCHEDULE_ID);
    await expect.poll(async () => (await rows.allInnerTexts()).map((row) => row.split('\t')[2]?.trim())).toEqual(['Updated', 'Updated', 'Created']);
    await page.screenshot({ path: await screenshotPath('console-audit-schedule'), fullPage: true });
  });

  it('ran every page above without an error in the browser', () => {
    expect(browserErrors).toEqual([]);
  });

  it('offers a tenant viewer the schedule and the run to read, with nothing to change', async () => {
    const { server, browser } = rt();
    const viewerContext = await newConsoleContext(browser);
    try {
      const viewer = await viewerContext.newPage();
      await viewer.goto(`${server.url}/runs/${encodeURIComponent(runId)}`);
      await viewer.getByLabel('Or paste a bearer token').fill(await server.mintDevToken({ role: 'Viewer', tenantId: 'tenant-a' }));
      await viewer.getByRole('button', { name: 'Sign in with this token' }).click();
      await viewer.getByRole('heading', { name: /^Run of Nightly rollout.*Halted$/ }).waitFor();
      await viewer.getByRole('region', { name: 'Counts' }).waitFor();
      for (const name of ['Halt', 'Resume', 'Promote to the next ring', 'Cancel run']) expect(await viewer.getByRole('button', { name }).count()).toBe(0);
      await viewer.goto(`${server.url}/schedules/${SCHEDULE_ID}`);
      await viewer.getByRole('heading', { name: /^Nightly rollout/, level: 1 }).waitFor();
      await viewer.getByRole('table', { name: /latest runs/ }).waitFor();
      expect(await viewer.getByRole('button', { name: 'Run now' }).count()).toBe(0);
      expect(await viewer.getByRole('link', { name: 'Edit' }).count()).toBe(0);
    } finally {
      await viewerContext.close();
    }
  });
});
