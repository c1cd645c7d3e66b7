import { existsSync } from 'node:fs';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScheduleRun } from '../../functions/core/model/schedule-run.js';
import { CONSOLE_DIST_DIR, startApiServer, type ApiServer } from '../../local/api-server.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { CHROMIUM_PATH, hasChromium, launchChromium } from '../support/browser.js';
import { everywhere, runtimeWithFleet, testComputer, testSoftware } from '../support/fleet.js';
import { until } from '../support/wait.js';

/**
 * Every page of the console through axe-core (the engine behind Lighthouse's
 * and most audits' accessibility checks), as a technician on a laptop screen
 * would open it: WCAG 2.1 A and AA rules, contrast included. A page with a
 * violation fails with the rule, the element and axe's help text, so the fix
 * is named. The branding preview's frame is left out: it is the end user's
 * email, checked by the emails' own tests, and its sandbox lets no script in.
 */

const BROWSER_TIMEOUT_MS = 20_000;
const isBuilt = existsSync(path.join(CONSOLE_DIST_DIR, 'index.html'));
const skipReason = !hasChromium ? `${CHROMIUM_PATH} is not installed` : 'the console is not built (npm run build:console)';
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

const utcTimeIn = (hours: number): string => new Date(Date.now() + hours * 3_600_000).toISOString().slice(11, 16);

/** One line per violation and element: what to fix, where. */
const described = (violations: Awaited<ReturnType<AxeBuilder['analyze']>>['violations']): string[] =>
  violations.flatMap((violation) => violation.nodes.map((node) => `${violation.id} (${violation.impact ?? 'unknown'}): ${violation.help} at ${node.target.join(' ')}`));

describe.skipIf(!hasChromium || !isBuilt)(`the console's pages meet WCAG 2.1 AA as axe-core checks them (skipped when ${skipReason})`, () => {
  let runtime: LocalRuntime | undefined;
  let server: ApiServer | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  const ids = { session: '', run: '' };

  const rt = () => {
    if (!runtime || !server || !page) throw new Error('the runtime, server or browser did not start');
    return { runtime, server, page };
  };

  beforeAll(async () => {
    runtime = await runtimeWithFleet(
      {
        software: [testSoftware('editor', '2.0'), testSoftware('broken', '1.0', { failInstall: true })],
        deployments: [everywhere('editor'), everywhere('broken', { target: { kind: 'Computer', computerId: 'desk-2' } })],
        machines: ['desk-1', 'desk-2'].map((id, index) => ({ computer: testComputer(id, `i-${String(index + 1).padStart(17, '0')}`, { name: `Desk ${id}` }) })),
      },
      { timerPollMs: 10, agentPollMs: 10 },
    );
    server = await startApiServer(runtime, { port: 0 });
    ids.session = (await runtime.startSession('desk-1')).sessionId;
    await runtime.waitForSession(ids.session);
    await runtime.waitForSession((await runtime.startSession('desk-2')).sessionId);
    const call = (method: string, route: string, body?: unknown) =>
      fetch(`${server?.url ?? ''}${route}`, {
        method,
        headers: { authorization: `Bearer ${server?.devToken ?? ''}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const schedule = { name: 'Nightly', tenantId: 'tenant-a', target: { kind: 'AllComputers' }, recurrence: { kind: 'Daily' }, detectionTime: utcTimeIn(1), maintenanceTime: utcTimeIn(4), timeZone: 'UTC' };
    expect((await call('POST', '/v1/schedules', { scheduleId: 'nightly', schedule })).status).toBe(201);
    const ran = (await (await call('POST', '/v1/schedules/nightly/run-now')).json()) as { run?: ScheduleRun };
    if (!ran.run) throw new Error(`run-now answered ${JSON.stringify(ran)}`);
    ids.run = ran.run.id;
    await runtime.runWork.idle();
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'en-GB', timezoneId: 'Europe/Berlin' });
    context.setDefaultTimeout(BROWSER_TIMEOUT_MS);
    page = await context.newPage();
    await page.goto(server.consoleUrl);
    await page.getByRole('heading', { name: 'Sessions', level: 1 }).waitFor();
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
    await runtime?.close();
  });

  /** Opens `route`, waits for its heading and for every list on it to have loaded, and runs axe over it. */
  async function violationsOn(route: string, heading: RegExp): Promise<string[]> {
    const { server, page } = rt();
    await page.goto(`${server.url}${route}`);
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
    await until(async () => (await page.locator('[aria-busy="true"]').count()) === 0);
    const results = await new AxeBuilder({ page }).withTags(WCAG_TAGS).exclude('iframe').analyze();
    return described(results.violations);
  }

  it.each([
    ['/sessions', /^Sessions$/],
    ['/computers', /^Computers$/],
    ['/computers/desk-2', /Desk desk-2/],
    ['/schedules', /^Schedules$/],
    ['/schedules/new', /schedule/i],
    ['/schedules/nightly', /Nightly/],
    ['/schedules/nightly/edit', /Nightly/],
    ['/audit', /^Audit/],
    ['/branding', /^Branding$/],
    ['/deployments', /^Deployments$/],
    ['/software', /^Software$/],
    ['/tasks', /^Maintenance tasks$/],
  ])('%s has no WCAG 2.1 AA violation', async (route, heading) => {
    expect(await violationsOn(route, heading)).toEqual([]);
  });

  it("a session's page and a run's page have no WCAG 2.1 AA violation", async () => {
    expect(await violationsOn(`/sessions/${ids.session}`, /Desk desk-1|Session/)).toEqual([]);
    expect(await violationsOn(`/runs/${ids.run}`, /Nightly|Run/)).toEqual([]);
  });

  it('finds a violation when one is there (proves the check is not blind): an image without a text alternative', async () => {
    const { page } = rt();
    // a string: the project compiles without the DOM's types
    await page.evaluate("document.querySelector('main')?.append(Object.assign(document.createElement('img'), { src: 'data:image/gif;base64,R0lGODlhAQABAAAAACw=' }))");
    const results = await new AxeBuilder({ page }).withTags(WCAG_TAGS).analyze();
    expect(results.violations.map((violation) => violation.id)).toContain('image-alt');
  });
});
