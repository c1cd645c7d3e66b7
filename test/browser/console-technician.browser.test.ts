import { existsSync } from 'node:fs';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_DIST_DIR, startApiServer, type ApiServer } from '../../local/api-server.js';
import type { StoredEmail } from '../../local/mailbox.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { CHROMIUM_PATH, hasChromium, launchChromium, linkIn, screenshotPath } from '../support/browser.js';
import { sessionRecord } from '../support/domain.js';
import { everywhere, runtimeWithFleet, testComputer, testSoftware } from '../support/fleet.js';
import { until } from '../support/wait.js';

/**
 * A technician's night in the console, in a real browser (Debian's chromium
 * through playwright-core) against the local runtime: a schedule run with a
 * skipped computer halted, resumed and promoted, its sessions listed by run;
 * a session's facts (type, who, when its maintenance starts, in the viewer's
 * zone) moved by Postpone and Run now; an end user's postpone from the email
 * seen on the session and on the audit page filtered by tenant. Screenshots
 * land in reports/screenshots/console-technician-*.png.
 */

const BROWSER_TIMEOUT_MS = 20_000;
const LOCALE = 'en-GB';
const TIME_ZONE = 'Europe/Berlin';
const SCHEDULE_ID = 'nightly-rollout';
const OFFLINE_ID = 'desk-5';
const DAY_MS = 86_400_000;
const isBuilt = existsSync(path.join(CONSOLE_DIST_DIR, 'index.html'));
const skipReason = !hasChromium ? `${CHROMIUM_PATH} is not installed` : 'the console is not built (npm run build:console)';

/** `HH:MM` in UTC, `hours` from now: a window that cannot open while the test runs. */
const utcTimeIn = (hours: number): string => new Date(Date.now() + hours * 3_600_000).toISOString().slice(11, 16);

/** Two rings; offline computers are skipped, so desk-5 is a skip with its reason. Sessions detect at once and wait hours for their window. */
const SCHEDULE = {
  name: 'Nightly rollout',
  tenantId: 'tenant-a',
  target: { kind: 'AllComputers' },
  recurrence: { kind: 'Weekly', days: ['TUE', 'THU'] },
  detectionTime: utcTimeIn(1),
  maintenanceTime: utcTimeIn(4),
  timeZone: 'UTC',
  offline: { behaviour: 'Skip', waitHours: 24 },
  rollout: { rings: [{ name: 'canary', percent: 50 }, { name: 'everyone', percent: 100 }] },
};

/** What the console shows for an instant: the viewer's locale and zone, not the server's. */
const shown = (iso: string): string => new Intl.DateTimeFormat(LOCALE, { timeZone: TIME_ZONE, dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));

const machine = (id: string, index: number, online = true) => ({
  computer: testComputer(id, `i-${String(index + 1).padStart(17, '0')}`, { name: `Desk ${id}`, online, primaryUser: { name: `Robin ${id}`, email: `${id}@contoso.example` } }),
  online,
});

/** WCAG 2.1 A and AA violations on the page as it stands (axe-core), one line each: the states this file adds to what console-a11y checks. */
async function violations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return results.violations.flatMap((violation) => violation.nodes.map((node) => `${violation.id}: ${violation.help} at ${node.target.join(' ')}`));
}

/** The viewer's calendar day (`yyyy-mm-dd`, what a date input takes) of an instant. */
const viewerDay = (iso: string): string => new Intl.DateTimeFormat('en-CA', { timeZone: TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));

/** A fact of the session or run page (`<dt>` name, `<dd>` value) as its text. */
async function fact(page: Page, name: string): Promise<string | null> {
  const facts = page.locator('dl.facts > div').filter({ has: page.locator('dt', { hasText: new RegExp(`^${name}$`) }) });
  return (await facts.count()) === 0 ? null : facts.locator('dd').textContent();
}

describe.skipIf(!hasChromium || !isBuilt)(`a technician's night in the console, in a real browser (skipped when ${skipReason})`, () => {
  let runtime: LocalRuntime | undefined;
  let server: ApiServer | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  let runId = '';
  /** The session whose end user postponed it from the email. */
  let endUserSessionId = '';
  const browserErrors: string[] = [];

  const rt = () => {
    if (!runtime || !server || !page || !context) throw new Error('the runtime, server or browser did not start');
    return { runtime, server, page, context };
  };

  /** Who started the run's sessions, as the console words it: the schedule's name and the instant it fired for, in the viewer's zone. */
  async function scheduleRequester(): Promise<string> {
    const run = await rt().runtime.deps.schedules.getRun(runId);
    if (run === undefined) throw new Error(`no run ${runId}`);
    return `Nightly rollout (${shown(run.scheduledTime)}) (schedule)`;
  }

  /** The run's sessions, once each waits for its window (postpone and run now are allowed then). */
  async function waitingSessions(): Promise<string[]> {
    const { runtime } = rt();
    const targets = await runtime.deps.schedules.listRunTargets(runId);
    const ids = targets.flatMap((target) => target.sessionId ?? []);
    for (const id of ids) await until(async () => (await runtime.deps.sessions.getSession(id))?.windowWait !== undefined);
    return ids;
  }

  beforeAll(async () => {
    runtime = await runtimeWithFleet(
      {
        software: [testSoftware('editor', '2.0')],
        deployments: [everywhere('editor')],
        machines: [...['desk-1', 'desk-2', 'desk-3', 'desk-4'].map((id, index) => machine(id, index)), machine(OFFLINE_ID, 4, false)],
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
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: LOCALE, timezoneId: TIME_ZONE });
    context.setDefaultTimeout(BROWSER_TIMEOUT_MS);
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

  it('runs the schedule now: the offline computer is counted as skipped with its reason, and halt, resume and promote move the run', async () => {
    const { runtime, server, page } = rt();
    await page.goto(`${server.url}/schedules/${SCHEDULE_ID}`);
    await page.getByRole('button', { name: 'Run now' }).click();
    await page.getByRole('heading', { name: /^Run of Nightly rollout/ }).waitFor();
    runId = decodeURIComponent(new URL(page.url()).pathname.split('/').at(-1) ?? '');
    const counts = page.getByRole('region', { name: 'Counts' });
    const count = (name: string) => counts.locator('.count').filter({ has: page.locator('dt', { hasText: new RegExp(`^${name}$`) }) }).locator('dd').textContent();
    await expect.poll(() => count('Targeted')).toBe('5');
    await expect.poll(() => count('Skipped')).toBe('1');
    expect(await page.getByRole('list', { name: 'Skipped, by reason' }).textContent()).toBe('Offline: 1');
    const offlineRow = page.getByRole('table', { name: /The run's computers/ }).locator('tbody tr').filter({ hasText: `Desk ${OFFLINE_ID}` });
    await expect.poll(() => offlineRow.textContent()).toMatch(/Skipped: Offline \(Desk desk-5 is offline, and this schedule skips offline computers\)/);
    const rings = page.getByRole('navigation', { name: 'Rings' }).locator('li');
    await expect.poll(() => rings.allTextContents()).toEqual(['canary (50 %) now', 'everyone (100 %) not yet']);
    // each target's ring by the rollout's name for it, as the store placed it
    const ringOf = new Map((await runtime.deps.schedules.listRunTargets(runId)).map((target) => [target.computerId, SCHEDULE.rollout.rings[target.ring]?.name]));
    const targetRows = (await page.getByRole('table', { name: /The run's computers/ }).locator('tbody tr').allInnerTexts()).map((row) => row.split('\t').map((cell) => cell.trim()));
    expect(targetRows.map((cells) => [/\((desk-\d)\)$/.exec(cells[0] ?? '')?.[1], cells[2]])).toEqual(['desk-1', 'desk-2', 'desk-3', 'desk-4', 'desk-5'].map((id) => [id, ringOf.get(id)]));
    expect(new Set(targetRows.map((cells) => cells[2]))).toEqual(new Set(['canary', 'everyone']));
    // the customer by its name, as the technician knows it (the API gives its id)
    expect(new Set(targetRows.map((cells) => cells[1]))).toEqual(new Set(['Tenant A']));

    const halt = page.getByRole('button', { name: 'Halt' });
    await expect.poll(() => halt.isEnabled()).toBe(true);
    await halt.click();
    await page.getByRole('heading', { name: /Halted$/ }).waitFor();
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByRole('status').filter({ hasText: 'The run goes on.' }).waitFor();
    await page.getByRole('heading', { name: /Running$/ }).waitFor();
    await until(async () => (await runtime.deps.schedules.getRun(runId))?.status === 'Running');

    await page.getByRole('button', { name: 'Promote to the next ring' }).click();
    await page.getByRole('status').filter({ hasText: 'The run moved to its next ring.' }).waitFor();
    await expect.poll(() => rings.allTextContents()).toEqual(['canary (50 %) done', 'everyone (100 %) now']);
    // the last ring has no next one: promote is no longer offered
    expect(await page.getByRole('button', { name: 'Promote to the next ring' }).count()).toBe(0);
    await expect.poll(() => count('Started'), { timeout: 30_000 }).toBe('4');
    // detected and parked until their window, hours ahead: counted as waiting, not as running, from the controller's next look
    await waitingSessions();
    await runtime.invoke('advance-runs', {});
    await expect.poll(() => count('Waiting for window')).toBe('4');
    expect([await count('Running'), await count('Queued')]).toEqual(['0', '0']);
    await page.screenshot({ path: await screenshotPath('console-technician-run'), fullPage: true });
  });

  it("lists the run's sessions from its page: only that run's, with their type and who started them", async () => {
    const { page } = rt();
    await page.getByRole('link', { name: 'This run’s sessions' }).click();
    await page.getByRole('heading', { name: 'Sessions', level: 1 }).waitFor();
    expect(new URL(page.url()).searchParams.get('runId')).toBe(runId);
    await expect.poll(() => page.locator('table.data-table caption').textContent()).toMatch(new RegExp(`^Sessions of schedule run ${runId}, by computer id`));
    expect(await page.getByLabel('Schedule run id').inputValue()).toBe(runId);
    const rows = page.locator('table.data-table tbody tr');
    await expect.poll(async () => (await rows.allInnerTexts()).map((row) => row.split('\t')[0]?.trim())).toEqual(['Desk desk-1', 'Desk desk-2', 'Desk desk-3', 'Desk desk-4']);
    const cells = (await rows.allInnerTexts()).map((row) => row.split('\t').map((cell) => cell.trim()));
    // Type and Triggered by: a run now of the schedule, started by the schedule (the API's UTC instant in its name shown in the viewer's zone)
    const requester = await scheduleRequester();
    for (const row of cells) expect(row.slice(2, 4)).toEqual(['Run now', requester]);
    expect(await page.getByRole('group', { name: 'Filter by status' }).getByRole('button', { name: /^All/ }).textContent()).toBe('All 4');
    // parked until their window, hours ahead: the stage says so and until when, where "Detection" would hide the wait
    const parked = await Promise.all((await waitingSessions()).map((id) => rt().runtime.deps.sessions.getSession(id)));
    const waitUntil = new Map(parked.map((session) => [session?.computerId, session?.executeAt]));
    await page.reload();
    await expect
      .poll(async () => (await rows.allInnerTexts()).map((row) => row.split('\t').map((cell) => cell.trim())).map((row) => [row[0], row[4]]))
      .toEqual(['desk-1', 'desk-2', 'desk-3', 'desk-4'].map((id) => [`Desk ${id}`, `Waiting for its window, ${shown(waitUntil.get(id) ?? '')}`]));
    await page.screenshot({ path: await screenshotPath('console-technician-run-sessions'), fullPage: true });
    expect(await violations(page)).toEqual([]);
  });

  it("says on a session's page what started it, for whom, and when its maintenance starts; Postpone and Run now move that time", async () => {
    const { runtime, server, page } = rt();
    const [sessionId] = await waitingSessions();
    if (sessionId === undefined) throw new Error('the run started no session');
    const before = await runtime.deps.sessions.getSession(sessionId);
    if (before?.executeAt === undefined) throw new Error('the session has no maintenance time');
    await page.goto(`${server.url}/sessions/${sessionId}`);
    await page.getByRole('heading', { name: /^Session on Desk/ }).waitFor();
    expect(await fact(page, 'Tenant')).toBe('Tenant A');
    expect(await fact(page, 'Type')).toBe('Run now');
    expect(await fact(page, 'Triggered by')).toBe(await scheduleRequester());
    expect(await fact(page, 'Started')).toBe(shown(before.createdAt));
    expect(await fact(page, 'Maintenance')).toBe(shown(before.executeAt));
    expect(await fact(page, 'Ended')).toBeNull();
    // the run it belongs to, one click away: where a halt would stop the rest of its computers
    expect(await fact(page, 'Schedule run')).toBe(`${runId} of schedule ${SCHEDULE_ID}`);
    expect(await page.locator('dl.facts').getByRole('link', { name: runId }).getAttribute('href')).toBe(`/runs/${encodeURIComponent(runId)}`);
    // what it has cost so far, in US dollars as the viewer's locale writes them
    expect(await fact(page, 'Cost')).toMatch(/^US\$\d+\.\d+ so far$/);
    const editorRow = page.getByRole('table', { name: /Planned and performed actions/ }).locator('tbody tr').filter({ hasText: 'App editor' });
    expect(await editorRow.locator('.result').textContent()).toBe('Not started');

    await page.getByRole('button', { name: 'Postpone', exact: true }).click();
    await page.getByRole('status').filter({ hasText: /^Postponed to / }).waitFor();
    await until(async () => (await runtime.deps.sessions.getSession(sessionId))?.executeAt !== before.executeAt);
    const postponed = await runtime.deps.sessions.getSession(sessionId);
    expect(postponed?.status).toBe('Postponed');
    await expect.poll(() => fact(page, 'Maintenance')).toBe(shown(postponed?.executeAt ?? ''));
    expect(await fact(page, 'Maintenance')).not.toBe(shown(before.executeAt));
    await page.screenshot({ path: await screenshotPath('console-technician-session-postponed'), fullPage: true });
    expect(await violations(page)).toEqual([]);

    // to a time of the technician's choosing, typed as wall time in the viewer's zone: the session moves to that instant
    const chosen = new Date(Date.parse(postponed?.executeAt ?? '') + 137 * 60_000);
    chosen.setUTCSeconds(0, 0);
    const wallTime = await page.evaluate((iso) => {
      const at = new Date(iso);
      const pad = (n: number) => String(n).padStart(2, '0');
      return `${String(at.getFullYear())}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
    }, chosen.toISOString());
    await page.getByRole('button', { name: 'Postpone to…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Postpone to a time you choose' });
    await dialog.getByLabel('New maintenance time').fill(wallTime);
    expect(await violations(page)).toEqual([]);
    await dialog.getByRole('button', { name: 'Postpone' }).click();
    await page.getByRole('status').filter({ hasText: `Postponed to ${shown(chosen.toISOString())}` }).waitFor();
    await until(async () => (await runtime.deps.sessions.getSession(sessionId))?.executeAt === chosen.toISOString());
    await expect.poll(() => fact(page, 'Maintenance')).toBe(shown(chosen.toISOString()));

    await page.getByRole('button', { name: 'Run now' }).click();
    await page.getByRole('status').filter({ hasText: /^Maintenance moved to now/ }).waitFor();
    await page.getByRole('heading', { name: /Passed$/ }).waitFor({ timeout: 60_000 });
    const ended = await runtime.deps.sessions.getSession(sessionId);
    expect(ended?.status).toBe('Passed');
    // once it has ended, when it ended replaces when it would start
    await expect.poll(() => fact(page, 'Ended')).toBe(shown(ended?.endedAt ?? ''));
    expect(await fact(page, 'Maintenance')).toBeNull();
    const decisions = page.getByRole('region', { name: 'Decisions' }).locator('li');
    await expect.poll(() => decisions.allTextContents()).toEqual([
      expect.stringMatching(/^.+: session created for Desk .+ — Nightly rollout \(.+\) \(schedule\)$/),
      // the API's log says the new time as a UTC instant: the page says it in the viewer's zone
      expect.stringMatching(new RegExp(`maintenance postponed to ${shown(postponed?.executeAt ?? '')} — admin@nightshift\\.local \\(operator\\)$`)),
      expect.stringMatching(new RegExp(`maintenance postponed to ${shown(chosen.toISOString())} — admin@nightshift\\.local \\(operator\\)$`)),
      expect.stringMatching(/maintenance moved to now — admin@nightshift\.local \(operator\)$/),
    ]);
    expect(await decisions.first().textContent()).toContain(await scheduleRequester());
    expect(await editorRow.locator('.result').textContent()).toBe('Success');
    expect(await page.getByRole('log', { name: 'Session log' }).textContent()).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
  });

  it("shows the end user's postpone from the detection email among the session's decisions, and on the audit page of the tenant", async () => {
    const { runtime, server, page, context } = rt();
    // the first session was run now in the test above: the second still waits for its window
    const session = await runtime.deps.sessions.getSession((await waitingSessions())[1] ?? '');
    if (session === undefined) throw new Error('the run has no second session');
    endUserSessionId = session.id;
    expect(session.status).not.toBe('Passed');
    let email: StoredEmail | undefined;
    await until(async () => {
      email = (await runtime.mailbox.messages()).find((message) => message.subject.startsWith(`Maintenance on Desk ${session.computerId}`));
      return email !== undefined;
    });
    if (email === undefined) throw new Error('no detection email');
    const linkPage = await context.newPage();
    try {
      await linkPage.goto(linkIn(email, 'Postpone'));
      await linkPage.getByRole('button', { name: 'Postpone' }).click();
      await linkPage.getByRole('heading', { name: 'Maintenance postponed' }).waitFor();
    } finally {
      await linkPage.close();
    }
    await until(async () => (await runtime.deps.sessions.getSession(session.id))?.status === 'Postponed');
    const postponedAt = (await runtime.deps.sessions.getSession(session.id))?.executeAt ?? '';
    const postponedTo = shown(postponedAt);

    await page.goto(`${server.url}/sessions/${session.id}`);
    const endUser = page.getByRole('region', { name: 'Decisions' }).locator('li.by-end-user');
    await expect.poll(() => endUser.allTextContents()).toEqual([expect.stringMatching(new RegExp(`maintenance postponed to ${postponedTo} — ${session.computerId}@contoso\\.example \\(end user\\)$`))]);
    await page.screenshot({ path: await screenshotPath('console-technician-end-user-decision'), fullPage: true });

    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('heading', { name: 'Audit', level: 1 }).waitFor();
    await page.getByLabel('Tenant', { exact: true }).selectOption('tenant-a');
    await page.getByRole('button', { name: 'Apply' }).click();
    expect(new URL(page.url()).searchParams.get('tenantId')).toBe('tenant-a');
    await expect.poll(() => page.locator('table.data-table caption').textContent()).toMatch(/^Changes and decisions of tenant Tenant A, newest first/);
    const rows = page.locator('table.data-table tbody tr');
    // newest first: the end user's postpone heads the tenant's trail
    await expect.poll(async () => (await rows.first().innerText()).split('\t').map((cell) => cell.trim()).slice(1, 5)).toEqual([`${session.computerId}@contoso.example (end user)`, 'Postponed', `Session ${session.id}`, 'Tenant A']);
    // what the postpone changed, its instants in the viewer's zone as everywhere else
    expect((await rows.first().innerText()).split('\t')[5]?.trim()).toBe(`executeAt: ${shown(session.executeAt ?? '')} → ${postponedTo}`);
    await page.screenshot({ path: await screenshotPath('console-technician-audit-tenant'), fullPage: true });
  });

  it("narrows the audit page to one resource's trail, says on the field when only half of it is named, and clears back to everything", async () => {
    const { page } = rt();
    const kind = page.getByLabel('Resource kind');
    const resourceId = page.getByLabel('Resource id');
    const searchBefore = new URL(page.url()).search;
    await kind.selectOption('Session');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByRole('alert').filter({ hasText: 'Resource id is needed with the kind: a resource is named by both' }).waitFor();
    expect(await resourceId.getAttribute('aria-invalid')).toBe('true');
    // the project compiles without the DOM lib: the page is asked in a string
    expect(await page.evaluate('document.activeElement?.id')).toBe(await resourceId.getAttribute('id'));
    // nothing was asked of the API (the final test sees no refused request) and the filters stand as they were
    expect(new URL(page.url()).search).toBe(searchBefore);
    await page.screenshot({ path: await screenshotPath('console-technician-audit-half-named'), fullPage: true });
    expect(await violations(page)).toEqual([]);

    await resourceId.fill(endUserSessionId);
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => page.locator('table.data-table caption').textContent()).toBe(`Changes and decisions of Session ${endUserSessionId}, newest first`);
    const rows = page.locator('table.data-table tbody tr');
    await expect.poll(async () => (await rows.allInnerTexts()).map((row) => row.split('\t')[2]?.trim())).toEqual(['Postponed']);
    expect(await page.getByRole('alert').count()).toBe(0);

    await page.getByRole('button', { name: 'Clear' }).click();
    await expect.poll(() => new URL(page.url()).search).toBe('');
    // the form shows the filters now in force: none
    expect([await page.getByLabel('Tenant', { exact: true }).inputValue(), await kind.inputValue(), await resourceId.inputValue()]).toEqual(['', '', '']);
    await expect.poll(() => page.locator('table.data-table caption').textContent()).toMatch(/^Changes and decisions of every tenant you see/);
  });

  it('filters the sessions by tenant (any of more tenants than one API page holds), by computer and by days of the viewer’s calendar (the last 7 days unless told)', async () => {
    const { runtime, server, page } = rt();
    // 200 tenants whose ids sort between tenant-a and tenant-b (the API pages tenants by id, 200 at most): tenant-b is on the second page
    for (let index = 0; index < 200; index++) await runtime.deps.catalog.putTenant({ id: `tenant-a-${String(index).padStart(3, '0')}`, name: `Customer ${index}`, excludeFromCrossTenant: false });
    // two ended sessions from before tonight: one of another tenant 3 days ago, one of desk-3 10 days ago (outside the default week)
    const daysAgo = (days: number): string => new Date(Date.now() - days * DAY_MS).toISOString();
    await runtime.deps.catalog.putTenant({ id: 'tenant-b', name: 'Tenant B', excludeFromCrossTenant: false });
    await runtime.deps.catalog.putComputer(testComputer('desk-b1', 'i-00000000000000099', { name: 'Desk b1', tenantId: 'tenant-b' }));
    const old = (id: string, computerId: string, computerName: string, tenantId: string, at: string) =>
      runtime.deps.sessions.createSession(sessionRecord(id, { computerId, computerName, tenantId, status: 'Passed', createdAt: at, updatedAt: at, endedAt: at }));
    await old('ses_other_tenant', 'desk-b1', 'Desk b1', 'tenant-b', daysAgo(3));
    const tenDaysAgo = daysAgo(10);
    await old('ses_ten_days_ago', 'desk-3', 'Desk desk-3', 'tenant-a', tenDaysAgo);
    const sessionLink = (id: string) => page.getByRole('link', { name: new RegExp(`session ${id} on `) });
    const computers = async () => (await page.locator('table.data-table tbody tr').allInnerTexts()).map((row) => row.split('\t')[0]?.trim());

    await page.goto(`${server.url}/sessions`);
    await sessionLink('ses_other_tenant').waitFor();
    expect(await sessionLink('ses_ten_days_ago').count()).toBe(0);

    const tenantChoice = page.getByLabel('Tenant', { exact: true });
    await expect.poll(() => tenantChoice.locator('option').count()).toBe(1 + 202);
    await tenantChoice.selectOption('tenant-b');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(computers).toEqual(['Desk b1']);
    expect(new URL(page.url()).searchParams.get('tenantId')).toBe('tenant-b');

    await page.getByRole('button', { name: 'Clear' }).click();
    await page.getByLabel('Computer id').fill('desk-3');
    await page.getByLabel('From day').fill(viewerDay(tenDaysAgo));
    await page.getByLabel('To day').fill(viewerDay(tenDaysAgo));
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(async () => sessionLink('ses_ten_days_ago').count()).toBe(1);
    expect(await computers()).toEqual(['Desk desk-3']);
    expect(Object.fromEntries(new URL(page.url()).searchParams)).toEqual({ computerId: 'desk-3', from: viewerDay(tenDaysAgo), to: viewerDay(tenDaysAgo) });
    await page.screenshot({ path: await screenshotPath('console-technician-sessions-filtered'), fullPage: true });
  });

  it('ran every page above without an error in the browser (nothing refused by the security policy, no script error)', () => {
    expect(browserErrors).toEqual([]);
  });
});
