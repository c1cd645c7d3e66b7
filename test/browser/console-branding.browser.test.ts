import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_DIST_DIR, startApiServer, type ApiServer } from '../../local/api-server.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { CHROMIUM_PATH, hasChromium, launchChromium, screenshotPath } from '../support/browser.js';
import { runtimeWithFleet, TEST_TENANT } from '../support/fleet.js';

/**
 * The console's Branding page in a real browser (Debian's chromium through
 * playwright-core) against the local runtime and the local server serving
 * the built console (npm run build:console): the live preview in its
 * sandboxed frame, a contrast refusal on its field, save with its version
 * (and the conflict when someone else saved first), a test email that
 * reaches the local mailbox, delete, and a tenant viewer who may change
 * nothing. Screenshots land in reports/screenshots/console-branding*.png.
 */

const BROWSER_TIMEOUT_MS = 20_000;
const isBuilt = existsSync(path.join(CONSOLE_DIST_DIR, 'index.html'));
const skipReason = !hasChromium ? `${CHROMIUM_PATH} is not installed` : 'the console is not built (npm run build:console)';

const TENANT_A = { kind: 'Tenant', tenantId: TEST_TENANT.id } as const;
/** The MSP's branding, saved before the console opens: what Tenant A inherits. */
const MSP_BRANDING = { companyName: 'Contoso IT', fromName: 'Contoso IT', fromAddress: 'maintenance@contoso-it.example', tableHeaderColour: '#12355b' };
/** A dark red nothing else uses: where the preview shows it, it came from the form. */
const PRIMARY = '#7a1f1f';

async function newConsoleContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 960 }, locale: 'en-GB', timezoneId: 'Europe/Berlin' });
  context.setDefaultTimeout(BROWSER_TIMEOUT_MS);
  return context;
}

const previewFrame = (page: Page) => page.locator('iframe.email-frame');
const srcdoc = async (page: Page): Promise<string> => (await previewFrame(page).getAttribute('srcdoc')) ?? '';

/**
 * What the operator sees, as the viewport shows it: from the top, or with
 * the input named `at` in its middle. Not the full page: the preview and the
 * Save bar are sticky, and a full-page capture draws them where the
 * viewport's edges were.
 */
async function screenshot(page: Page, name: string, at?: string): Promise<void> {
  await page.evaluate(at === undefined ? 'window.scrollTo(0, 0)' : `document.getElementsByName(${JSON.stringify(at)})[0].scrollIntoView({ block: 'center' })`);
  await page.screenshot({ path: await screenshotPath(name) });
}

describe.skipIf(!hasChromium || !isBuilt)(`the console's Branding page in a real browser (skipped when ${skipReason})`, () => {
  let runtime: LocalRuntime | undefined;
  let server: ApiServer | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  const browserErrors: string[] = [];

  const rt = () => {
    if (!runtime || !server || !page || !browser) throw new Error('the runtime, server or browser did not start');
    return { runtime, server, page, browser };
  };
  /** One API call as the local Admin, as someone else at another desk would make it. */
  const asAdmin = async (method: string, url: string, body?: unknown) => {
    if (!server) throw new Error('the server did not start');
    const response = await fetch(`${server.url}${url}`, {
      method,
      headers: { authorization: `Bearer ${server.devToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const answer: unknown = await response.json();
    return { status: response.status, body: answer };
  };

  beforeAll(async () => {
    runtime = await runtimeWithFleet({ software: [], deployments: [], machines: [] });
    server = await startApiServer(runtime, { port: 0 });
    expect((await asAdmin('PUT', '/v1/branding/default', { branding: MSP_BRANDING, expectedVersion: 0 })).status).toBe(200);
    browser = await launchChromium();
    context = await newConsoleContext(browser);
    page = await context.newPage();
    page.on('console', (message) => {
      // a refusal is the API's answer under test (a contrast, a stale version), shown on the page; anything else is a fault
      if (message.type() === 'error' && !/status of (400|409)/.test(message.text())) browserErrors.push(message.text());
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

  it('opens Branding from the navigation: the MSP’s fields, and the detection email drawn in a sandboxed frame that cannot reach the console', async () => {
    const { page } = rt();
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Branding' }).click();
    await page.getByRole('heading', { name: 'Branding', level: 1 }).waitFor();
    expect(await page.title()).toBe('Branding · Nightshift');
    await expect.poll(() => page.getByLabel('Company name', { exact: true }).inputValue()).toBe('Contoso IT');
    await expect.poll(() => srcdoc(page)).toContain('Contoso IT');
    expect(await previewFrame(page).getAttribute('sandbox')).toBe('');
    // the email lives only in the frame's own document: none of it is in the console's
    expect(await page.locator('main table').count()).toBe(0);
    const frame = await (await previewFrame(page).elementHandle()).contentFrame();
    expect(await frame?.evaluate('(() => { try { return window.parent.document.title; } catch { return "refused"; } })()')).toBe('refused');
  });

  it('chooses Tenant A, says what it inherits, and redraws the preview with a new primary colour before anything is saved', async () => {
    const { page, runtime } = rt();
    await page.getByLabel('Whose branding').selectOption(TEST_TENANT.id);
    await expect.poll(() => new URL(page.url()).searchParams.get('tenant')).toBe(TEST_TENANT.id);
    const company = page.getByLabel('Company name', { exact: true });
    await expect.poll(() => company.getAttribute('placeholder')).toBe('Contoso IT');
    expect(await company.inputValue()).toBe('');
    expect(await page.locator('.field', { has: company }).locator('.hint').textContent()).toContain('Inherited: Contoso IT.');
    await expect.poll(() => srcdoc(page)).toContain('#12355b');

    const primary = page.getByLabel('Primary colour', { exact: true });
    await primary.fill(PRIMARY);
    await expect.poll(() => srcdoc(page)).toContain(PRIMARY);
    expect(await srcdoc(page)).not.toContain('#12355b');
    expect(await page.locator('.field', { has: primary }).locator('.badge').textContent()).toBe('Set here');
    // the colour as the end user's mail client draws it: the Postpone button's fill, inside the frame
    const frame = await (await previewFrame(page).elementHandle()).contentFrame();
    const postponeFill = "getComputedStyle([...document.querySelectorAll('a')].find((link) => link.textContent.includes('Postpone'))).backgroundColor";
    await expect.poll(() => frame?.evaluate(postponeFill)).toBe('rgb(122, 31, 31)');
    expect(await page.getByRole('status').filter({ hasText: 'Unsaved changes.' }).count()).toBe(1);
    expect(await runtime.deps.branding.get(TENANT_A, 'default')).toBeUndefined();
    await screenshot(page, 'console-branding', 'tableHeaderColour');
  });

  it('shows a text colour below WCAG AA on its field as typed, again when saving (focused), and stores nothing', async () => {
    const { page, runtime } = rt();
    const text = page.getByLabel('Text colour', { exact: true });
    await text.fill('#cccccc');
    const problem = page.locator('.field', { has: text }).locator('.field-problem');
    // live, from the preview: before any save
    await expect.poll(() => problem.textContent()).toMatch(/^Text colour: text colour #cccccc on content panel #ffffff has a contrast of 1\.\d\d:1; WCAG AA needs at least 4\.5:1/);
    await page.getByRole('button', { name: 'Save branding' }).click();
    await expect.poll(() => page.evaluate('document.activeElement?.getAttribute("name")')).toBe('textColour');
    expect(await text.getAttribute('aria-invalid')).toBe('true');
    expect((await text.getAttribute('aria-describedby'))?.split(' ')).toContain(await problem.getAttribute('id'));
    expect(await problem.textContent()).toMatch(/WCAG AA/);
    await screenshot(page, 'console-branding-contrast', 'textColour');
    expect(await runtime.deps.branding.get(TENANT_A, 'default')).toBeUndefined();

    await page.getByRole('button', { name: 'Text colour: use the inherited value' }).click();
    expect(await text.inputValue()).toBe('');
    await expect.poll(() => problem.count()).toBe(0);
  });

  it('saves the override at its version: only the field it sets is stored, the rest stays inherited', async () => {
    const { page, runtime } = rt();
    await page.getByRole('button', { name: 'Save branding' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved Tenant A’s branding (version 1).' }).waitFor();
    const stored = await runtime.deps.branding.get(TENANT_A, 'default');
    expect(stored).toMatchObject({ version: 1, tableHeaderColour: PRIMARY });
    expect(stored).not.toHaveProperty('companyName');
  });

  it('refuses a save over someone else’s change with a 409 that says so, and reloads their version on request', async () => {
    const { page, runtime } = rt();
    expect((await asAdmin('PUT', `/v1/tenants/${TEST_TENANT.id}/branding/default`, { branding: { tableHeaderColour: PRIMARY, companyName: 'Tenant A IT' }, expectedVersion: 1 })).status).toBe(200);
    await page.getByLabel('Primary colour', { exact: true }).fill('#0b3d2e');
    await page.getByRole('button', { name: 'Save branding' }).click();
    const conflict = page.getByRole('alert').filter({ hasText: 'Someone else changed this branding' });
    await conflict.waitFor();
    await screenshot(page, 'console-branding-conflict');
    expect((await runtime.deps.branding.get(TENANT_A, 'default'))?.tableHeaderColour).toBe(PRIMARY);
    await conflict.getByRole('button', { name: 'Reload' }).click();
    await page.getByRole('status').filter({ hasText: 'Reloaded version 2.' }).waitFor();
    expect(await page.getByLabel('Company name', { exact: true }).inputValue()).toBe('Tenant A IT');
    expect(await page.getByLabel('Primary colour', { exact: true }).inputValue()).toBe(PRIMARY);
  });

  it('sends a test email of the preview, which arrives in the local mailbox marked [Test]', async () => {
    const { page, runtime } = rt();
    await page.getByLabel('Email', { exact: true }).selectOption('FollowUp');
    await expect.poll(() => previewFrame(page).getAttribute('title')).toBe('Preview of the follow-up (after it) email');
    await page.getByLabel('Send to').fill('ops@contoso-it.example');
    await page.getByRole('button', { name: 'Send test email' }).click();
    await page.getByRole('status').filter({ hasText: /^Sent to ops@contoso-it\.example/ }).waitFor();
    const mail = (await runtime.mailbox.messages()).find((message) => message.destination.to.includes('ops@contoso-it.example'));
    expect(mail?.subject).toMatch(/^\[Test\] /);
    expect(mail?.body.html?.toLowerCase()).toContain(PRIMARY);
    expect(mail?.body.text).toContain('Tenant A IT');
    await screenshot(page, 'console-branding-test-email', 'to');
  });

  it('deletes the override after asking: Tenant A inherits everything again', async () => {
    const { page, runtime } = rt();
    await page.getByRole('button', { name: 'Delete this tenant’s override' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete Tenant A’s branding?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Yes, delete it' }).click();
    await page.getByRole('status').filter({ hasText: 'Deleted: Tenant A now inherits everything.' }).waitFor();
    expect(await runtime.deps.branding.get(TENANT_A, 'default')).toBeUndefined();
    expect(await page.getByLabel('Company name', { exact: true }).inputValue()).toBe('');
    await expect.poll(() => srcdoc(page)).toContain('#12355b');
  });

  it('creates a seasonal branding of the MSP: nothing said against dates not typed yet, a problem withdrawn as soon as its field changes, its name and dates on their fields when refused, then saved and opened by its address', async () => {
    const { page, runtime } = rt();
    await page.getByLabel('Whose branding').selectOption('');
    await expect.poll(() => new URL(page.url()).searchParams.get('tenant')).toBeNull();
    await page.getByLabel('Which branding').selectOption({ label: 'A new seasonal branding…' });
    const name = page.getByLabel('Name of the seasonal branding');
    const from = page.getByLabel('From', { exact: true });
    const to = page.getByLabel('To (inclusive)');
    const problemOf = (input: Locator) => page.locator('.field', { has: input }).locator('.field-problem');
    // the preview draws the new form once its background is typed: by then it has judged the (empty) dates too
    await page.getByLabel('Page background', { exact: true }).fill('#dde8f0');
    await expect.poll(() => srcdoc(page)).toContain('#dde8f0');
    expect(await from.getAttribute('aria-invalid')).not.toBe('true');
    expect(await to.getAttribute('aria-invalid')).not.toBe('true');

    await from.fill('2026-12-20');
    await to.fill('2026-12-01');
    // live, from the preview: before any save
    await expect.poll(() => problemOf(to).textContent()).toBe('To (inclusive): must not end before it starts');

    await name.fill('Winter Holidays');
    await page.getByRole('button', { name: 'Create seasonal branding' }).click();
    await expect.poll(() => name.getAttribute('aria-invalid')).toBe('true');
    expect(await problemOf(name).textContent()).toMatch(/^Name of the seasonal branding: may contain only lowercase letters/);

    await name.fill('winter-holidays');
    await page.getByRole('button', { name: 'Create seasonal branding' }).click();
    // the save's refusal lands with the focus on the field at fault
    await expect.poll(() => page.evaluate('document.activeElement?.getAttribute("name")')).toBe('dateRange.to');
    expect(await to.getAttribute('aria-invalid')).toBe('true');
    expect(await problemOf(to).textContent()).toBe('To (inclusive): must not end before it starts');
    // the moment the date changes, the problem of the one before is gone: it is not left beside a value it no longer describes while the preview catches up
    await to.fill('2027-01-06');
    expect(await to.getAttribute('aria-invalid')).not.toBe('true');
    expect(await problemOf(to).count()).toBe(0);
    await page.getByRole('button', { name: 'Create seasonal branding' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('branding')).toBe('winter-holidays');
    expect(await page.getByLabel('Which branding').inputValue()).toBe('winter-holidays');
    expect(await runtime.deps.branding.get({ kind: 'Msp' }, 'winter-holidays')).toMatchObject({ version: 1, backgroundColour: '#dde8f0', dateRange: { from: '2026-12-20', to: '2027-01-06' } });
    // a seasonal branding inherits the MSP's default, and the preview draws it in season
    await expect.poll(() => page.getByLabel('Company name', { exact: true }).getAttribute('placeholder')).toBe('Contoso IT');
    await expect.poll(() => srcdoc(page)).toContain('#dde8f0');
    await screenshot(page, 'console-branding-seasonal');
  });

  it('ran every step above without an error in the browser (nothing refused by the security policy, no script error)', () => {
    expect(browserErrors).toEqual([]);
  });

  it('shows a tenant viewer its tenant’s branding and preview, read-only: no Save, no Delete, no test email', async () => {
    const { server, browser } = rt();
    const viewerContext = await newConsoleContext(browser);
    try {
      const viewer = await viewerContext.newPage();
      await viewer.goto(`${server.url}/branding`);
      await viewer.getByLabel('Or paste a bearer token').fill(await server.mintDevToken({ role: 'Viewer', tenantId: TEST_TENANT.id }));
      await viewer.getByRole('button', { name: 'Sign in with this token' }).click();
      await viewer.getByRole('heading', { name: 'Branding', level: 1 }).waitFor();
      await expect.poll(() => srcdoc(viewer)).toContain('Contoso IT');
      // the MSP's own branding is not a viewer's to open
      expect(await viewer.getByLabel('Whose branding').locator('option').allTextContents()).toEqual(['Tenant A']);
      await viewer.getByText('Your role may read and preview branding, not change it.').waitFor();
      for (const name of ['Save branding', 'Delete this tenant’s override', 'Send test email', 'Primary colour: use the inherited value']) expect(await viewer.getByRole('button', { name }).count(), name).toBe(0);
      expect(await viewer.getByLabel('Primary colour', { exact: true }).isDisabled()).toBe(true);
      await screenshot(viewer, 'console-branding-viewer');
    } finally {
      await viewerContext.close();
    }
  });
});
