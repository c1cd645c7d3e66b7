import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComputerCompliance } from '../../functions/core/use-cases/computer-compliance.js';
import { CONSOLE_DIST_DIR, startApiServer, type ApiServer } from '../../local/api-server.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { CHROMIUM_PATH, hasChromium, launchChromium, screenshotPath } from '../support/browser.js';
import { deploySoftware } from '../support/domain.js';
import { everywhere, runtimeWithFleet, testComputer, testSoftware } from '../support/fleet.js';

/**
 * The console's Computer page, and the schedule page's Duplicate and Delete,
 * in a real browser (Debian's chromium through playwright-core) against the
 * local runtime and the local server serving the built console (npm run
 * build:console). Screenshots land in reports/screenshots/console-computer*.png.
 */

const BROWSER_TIMEOUT_MS = 20_000;
/** The viewer's locale and zone: the console shows times in them, whatever the server's. */
const LOCALE = 'en-GB';
const TIME_ZONE = 'Europe/Berlin';
const SCHEDULE_ID = 'nightly';
const isBuilt = existsSync(path.join(CONSOLE_DIST_DIR, 'index.html'));
const skipReason = !hasChromium ? `${CHROMIUM_PATH} is not installed` : 'the console is not built (npm run build:console)';

/**
 * desk-1 has editor 1.0 and a toolbar it must not have, and lacks notes.
 * Its own deployment pins editor at 1.0 and beats the one for every tenant,
 * so one detection finds an item compliant, one installed that must not be,
 * and one missing.
 */
const FLEET = {
  software: [testSoftware('editor', '2.0'), testSoftware('toolbar', '4.0'), testSoftware('notes', '3.0')],
  deployments: [
    everywhere('editor'),
    deploySoftware('deploy-editor-desk-1', 'editor', { target: { kind: 'Computer', computerId: 'desk-1' }, desiredState: 'ThisVersion', version: '1.0' }),
    everywhere('toolbar', { desiredState: 'NotPresent' }),
    everywhere('notes'),
  ],
  machines: [
    { computer: testComputer('desk-1', 'i-00000000000000001', { name: 'Desk desk-1', tags: ['reception'], timeZone: 'Europe/Berlin' }), image: { editor: '1.0', toolbar: '3.1' } },
    { computer: testComputer('desk-2', 'i-00000000000000002', { name: 'Desk desk-2' }) },
  ],
};

const SCHEDULE = { name: 'Nightly', tenantId: 'tenant-a', target: { kind: 'AllComputers' }, recurrence: { kind: 'Daily' }, detectionTime: '03:00', executeImmediatelyAfterDetection: true, enabled: false };

async function newConsoleContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: LOCALE, timezoneId: TIME_ZONE });
  context.setDefaultTimeout(BROWSER_TIMEOUT_MS);
  return context;
}

/** A table's body rows, each as its cells' text (a row's rendered text separates cells by tabs). */
async function rowsOf(page: Page, caption: RegExp): Promise<string[][]> {
  const rows = await page.getByRole('table', { name: caption }).locator('tbody tr').allInnerTexts();
  return rows.map((row) => row.split('\t').map((cell) => cell.trim()));
}

/** An instant as the viewer sees it: the console's format, in the viewer's locale and zone. */
const asViewerSees = (iso: string): string => new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium', timeStyle: 'short', timeZone: TIME_ZONE }).format(new Date(iso));

describe.skipIf(!hasChromium || !isBuilt)(`the console's Computer page and schedule copies in a real browser (skipped when ${skipReason})`, () => {
  let runtime: LocalRuntime | undefined;
  let server: ApiServer | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  let detectionId = '';
  const browserErrors: string[] = [];

  const rt = () => {
    if (!runtime || !server || !page || !browser) throw new Error('the runtime, server or browser did not start');
    return { runtime, server, page, browser };
  };

  const asAdmin = async (method: string, url: string, body?: unknown): Promise<{ status: number; body: unknown }> => {
    if (!server) throw new Error('the server did not start');
    const response = await fetch(`${server.url}${url}`, {
      method,
      headers: { authorization: `Bearer ${server.devToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: await response.json() };
  };

  beforeAll(async () => {
    runtime = await runtimeWithFleet(FLEET, { timerPollMs: 10, agentPollMs: 10 });
    server = await startApiServer(runtime, { port: 0 });
    detectionId = (await runtime.startSession('desk-1', undefined, { mode: 'DetectionOnly' })).sessionId;
    expect((await runtime.waitForSession(detectionId)).session.status).toBe('Passed');
    // another computer's session: the Sessions tab must leave it out
    const other = (await runtime.startSession('desk-2', undefined, { mode: 'DetectionOnly' })).sessionId;
    await runtime.waitForSession(other);
    expect(await asAdmin('POST', '/v1/schedules', { scheduleId: SCHEDULE_ID, schedule: SCHEDULE })).toMatchObject({ status: 201 });
    browser = await launchChromium();
    context = await newConsoleContext(browser);
    page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') browserErrors.push(message.text());
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

  it('lists the computers from the navigation, each a link to its page', async () => {
    const { page } = rt();
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Computers' }).click();
    await page.getByRole('heading', { name: 'Computers', level: 1 }).waitFor();
    const caption = /^Computers, by id/;
    await expect.poll(async () => (await rowsOf(page, caption)).length).toBe(2);
    expect(await rowsOf(page, caption)).toEqual([
      ['Desk desk-1', 'desk-1', 'Tenant A', 'Linux', 'Workstation', 'Online'],
      ['Desk desk-2', 'desk-2', 'Tenant A', 'Linux', 'Workstation', 'Online'],
    ]);
    expect(await page.getByRole('link', { name: 'Desk desk-2' }).getAttribute('href')).toBe('/computers/desk-2');
    await page.screenshot({ path: await screenshotPath('console-computer-list'), fullPage: true });
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Sessions' }).click();
    await page.getByRole('heading', { name: 'Sessions', level: 1 }).waitFor();
  });

  it('links each computer name in the sessions list to its page, and keeps a link to each session', async () => {
    const { page } = rt();
    const computerLink = page.getByRole('link', { name: 'Desk desk-1', exact: true });
    await computerLink.waitFor();
    expect(await computerLink.getAttribute('href')).toBe('/computers/desk-1');
    expect(await page.getByRole('link', { name: `Session ${detectionId} on Desk desk-1` }).getAttribute('href')).toBe(`/sessions/${detectionId}`);
  });

  it('opens the computer from a session: its details, and per item its compliance as last detected, with when (in the viewer’s zone) and by which session', async () => {
    const { server, page } = rt();
    await page.goto(`${server.url}/sessions/${detectionId}`);
    await page.getByRole('heading', { name: /^Session on Desk desk-1/ }).waitFor();
    await page.getByRole('link', { name: 'Desk desk-1', exact: true }).click();
    await page.getByRole('heading', { name: /^Desk desk-1/, level: 1 }).waitFor();
    expect(page.url()).toBe(`${server.url}/computers/desk-1`);
    expect(await page.title()).toBe('Desk desk-1 · Nightshift');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Desk desk-1 Online');
    const names = await page.locator('dl.facts dt').allTextContents();
    const values = await page.locator('dl.facts dd').allTextContents();
    const facts = Object.fromEntries(names.map((name, index) => [name, values[index]]));
    expect(facts).toMatchObject({ Computer: 'desk-1', Tenant: 'Tenant A', Platform: 'Linux', 'Device class': 'Workstation', Agent: 'i-00000000000000001', 'Time zone': 'Europe/Berlin', Tags: 'reception' });

    expect(await page.getByRole('tab', { name: 'Compliance' }).getAttribute('aria-selected')).toBe('true');
    const caption = /^Compliance per item/;
    await expect.poll(async () => (await rowsOf(page, caption)).length).toBe(3);
    const compliance = (await asAdmin('GET', '/v1/computers/desk-1/compliance')).body as ComputerCompliance;
    const detectedAt = compliance.items[0]?.detected?.detectedAt ?? '';
    const detectedBy = `${asViewerSees(detectedAt)}, by the detection of session ${detectionId}`;
    expect(await rowsOf(page, caption)).toEqual([
      ['App editor', 'Exactly version 1.0', 'Compliant', '1.0', 'up to date', detectedBy],
      ['App notes', 'Latest version', 'Not compliant', 'absent', 'missing', detectedBy],
      ['App toolbar', 'Not installed', 'Not compliant', '3.1', 'installed, must not be', detectedBy],
    ]);
    expect(await page.locator('dl.counts dt').allTextContents()).toEqual(['Not compliant', 'Could not tell', 'Not detected', 'Compliant', 'Not enforced']);
    expect(await page.locator('dl.counts dd').allTextContents()).toEqual(['2', '0', '0', '1', '0']);
    expect(await page.getByRole('link', { name: `detection of session ${detectionId}` }).first().getAttribute('href')).toBe(`/sessions/${detectionId}`);
    await page.screenshot({ path: await screenshotPath('console-computer'), fullPage: true });
  });

  it('shows the desired state per item with why (the winning deployment and the one it beat), reached from the tabs by keyboard', async () => {
    const { server, page } = rt();
    await page.getByRole('tab', { name: 'Compliance' }).focus();
    await page.keyboard.press('ArrowRight');
    const desired = page.getByRole('tab', { name: 'Desired state' });
    expect(await desired.getAttribute('aria-selected')).toBe('true');
    expect(await page.evaluate('document.activeElement?.id')).toBe('computer-tab-desired');
    expect(page.url()).toBe(`${server.url}/computers/desk-1?tab=desired`);
    await page.getByRole('tabpanel', { name: 'Desired state' }).waitFor();
    const caption = /^Desired state per item/;
    await expect.poll(async () => (await rowsOf(page, caption)).length).toBe(3);
    const [editor, notes, toolbar] = await rowsOf(page, caption);
    expect(editor?.slice(0, 4)).toEqual(['App editor', 'Exactly version 1.0', 'Deployed', 'deploy-editor-desk-1']);
    expect(editor?.[4]).toMatch(/^App editor: ThisVersion 1\.0 from deployment deploy-editor-desk-1 .*because it targets the computer more narrowly/);
    expect(editor?.[4]).toContain('deploy-editor (all tenants) wants Latest version: lost, its target is wider');
    expect(notes?.slice(0, 4)).toEqual(['App notes', 'Latest version', 'Deployed', 'deploy-notes']);
    expect(toolbar?.slice(0, 4)).toEqual(['App toolbar', 'Not installed', 'Deployed', 'deploy-toolbar']);
    await page.screenshot({ path: await screenshotPath('console-computer-desired'), fullPage: true });
  });

  it('lists the computer’s sessions in its Sessions tab, each a link to the session, and only its own', async () => {
    const { server, page } = rt();
    await page.keyboard.press('ArrowRight');
    expect(await page.getByRole('tab', { name: 'Sessions' }).getAttribute('aria-selected')).toBe('true');
    expect(page.url()).toBe(`${server.url}/computers/desk-1?tab=sessions`);
    const caption = /^Sessions of this computer/;
    await expect.poll(async () => (await rowsOf(page, caption)).length).toBe(1);
    const [row] = await rowsOf(page, caption);
    expect(row?.slice(1, 5)).toEqual(['Started by hand', 'local runtime (operator)', 'Detection', 'Passed']);
    expect(await page.getByRole('link', { name: `Session ${detectionId}` }).getAttribute('href')).toBe(`/sessions/${detectionId}`);
    expect(await page.getByRole('link', { name: /^Earlier sessions/ }).getAttribute('href')).toBe('/sessions?computerId=desk-1');
    await page.screenshot({ path: await screenshotPath('console-computer-sessions'), fullPage: true });
  });

  it('detects again on request: a detection-only session whose result the compliance then rests on', async () => {
    const { runtime, server, page } = rt();
    await page.goto(`${server.url}/computers/desk-1`);
    await page.getByRole('button', { name: 'Detect now' }).click();
    await page.getByRole('heading', { name: /^Session on Desk desk-1/ }).waitFor();
    const sessionId = new URL(page.url()).pathname.split('/').at(-1) ?? '';
    expect(sessionId).not.toBe(detectionId);
    expect((await runtime.waitForSession(sessionId)).session).toMatchObject({ status: 'Passed', options: { mode: 'DetectionOnly' } });
    await page.getByRole('link', { name: 'Desk desk-1', exact: true }).click();
    await expect.poll(() => page.getByRole('link', { name: `detection of session ${sessionId}` }).count()).toBe(3);
  });

  it('duplicates a schedule as a disabled copy, then deletes the copy after asking, leaving the original', async () => {
    const { server, page } = rt();
    await page.goto(`${server.url}/schedules/${SCHEDULE_ID}`);
    await page.getByRole('heading', { name: /^Nightly/, level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Duplicate' }).click();
    await page.getByRole('heading', { name: 'Nightly (copy) Disabled', level: 1 }).waitFor();
    const copyId = new URL(page.url()).pathname.split('/').at(-1) ?? '';
    expect(copyId).not.toBe(SCHEDULE_ID);
    expect((await asAdmin('GET', `/v1/schedules/${copyId}`)).body).toMatchObject({ name: 'Nightly (copy)', enabled: false, tenantId: 'tenant-a' });
    await page.screenshot({ path: await screenshotPath('console-computer-schedule-copy'), fullPage: true });

    await page.getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete this schedule?' });
    await dialog.waitFor();
    // the safe answer is the one focused: Enter or Escape keeps the schedule
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Keep it');
    await page.screenshot({ path: await screenshotPath('console-computer-schedule-delete'), fullPage: true });
    await dialog.getByRole('button', { name: 'Delete schedule' }).click();
    await page.getByRole('heading', { name: 'Schedules', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'Nightly', exact: true }).waitFor();
    expect(await page.getByRole('link', { name: 'Nightly (copy)' }).count()).toBe(0);
    expect((await asAdmin('GET', `/v1/schedules/${copyId}`)).status).toBe(404);
    expect((await asAdmin('GET', `/v1/schedules/${SCHEDULE_ID}`)).status).toBe(200);
  });

  it('offers a tenant viewer none of what it may not do: no Detect now, no Duplicate or Delete', async () => {
    const { server, browser } = rt();
    const viewerContext = await newConsoleContext(browser);
    try {
      const viewer = await viewerContext.newPage();
      await viewer.goto(`${server.url}/computers/desk-1`);
      await viewer.getByLabel('Or paste a bearer token').fill(await server.mintDevToken({ role: 'Viewer', tenantId: 'tenant-a' }));
      await viewer.getByRole('button', { name: 'Sign in with this token' }).click();
      await viewer.getByRole('heading', { name: /^Desk desk-1/, level: 1 }).waitFor();
      await viewer.getByRole('table', { name: /^Compliance per item/ }).locator('tbody tr').nth(2).waitFor();
      expect(await viewer.getByRole('button', { name: 'Detect now' }).count()).toBe(0);
      await viewer.goto(`${server.url}/schedules/${SCHEDULE_ID}`);
      await viewer.getByRole('heading', { name: /^Nightly/, level: 1 }).waitFor();
      for (const name of ['Duplicate', 'Delete', 'Run now']) expect(await viewer.getByRole('button', { name }).count()).toBe(0);
    } finally {
      await viewerContext.close();
    }
  });

  it('logged no errors in the browser', () => {
    expect(browserErrors).toEqual([]);
  });
});
