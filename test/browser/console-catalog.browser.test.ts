import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../functions/core/access/principal.js';
import { secretReference } from '../../functions/core/catalog/secrets.js';
import { CONSOLE_DIST_DIR, startApiServer, type ApiServer } from '../../local/api-server.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { LocalSecretStore } from '../../local/secret-store.local.js';
import { CHROMIUM_PATH, hasChromium, launchChromium, screenshotPath } from '../support/browser.js';
import { deploySoftware, task } from '../support/domain.js';
import { everywhere, runtimeWithFleet, testComputer, testSoftware } from '../support/fleet.js';

/**
 * The console's Deployments, Software and Tasks pages in a real browser
 * (Debian's chromium through playwright-core) against the local runtime and
 * the local server serving the built console (npm run build:console):
 * listing through the API's cursors, editing with the API's refusals on
 * their fields, a save refused when someone else changed the deployment
 * meanwhile (the API's 409 at the revision the form was opened on), a
 * deletion asked again and refused while something uses the item, secrets
 * never shown, and each role offered only what it may do. Screenshots land
 * in reports/screenshots/console-catalog*.png.
 */

const BROWSER_TIMEOUT_MS = 20_000;
const LOCALE = 'en-GB';
const TIME_ZONE = 'Europe/Berlin';
const isBuilt = existsSync(path.join(CONSOLE_DIST_DIR, 'index.html'));
const skipReason = !hasChromium ? `${CHROMIUM_PATH} is not installed` : 'the console is not built (npm run build:console)';

/** More software than one page holds (50): the list must page through the API's cursors. */
const FILLER_SOFTWARE = Array.from({ length: 55 }, (_, index) => testSoftware(`pkg-${String(index + 1).padStart(2, '0')}`, '1.0'));
const PASSPHRASE = 'hunter2-licence-never-shown';

const WIFI_TASK = task('wifi', {
  name: 'Office Wi-Fi',
  scripts: { style: 'Separate', test: 'exit 0\n', set: 'exit 0\n' },
  parameters: [
    { name: 'ssid', type: 'string', required: true },
    { name: 'passphrase', type: 'secret', required: true },
    { name: 'band', type: 'enum', required: false, values: ['2.4', '5'], default: '5' },
  ],
});

const FLEET = {
  software: [testSoftware('editor', '2.0'), testSoftware('notes', '3.0', { dependencies: [{ softwareId: 'editor', requires: 'Installed' }] }), ...FILLER_SOFTWARE],
  tasks: [WIFI_TASK],
  deployments: [
    everywhere('editor'),
    deploySoftware('deploy-editor-desk-1', 'editor', { target: { kind: 'Computer', computerId: 'desk-1' }, desiredState: 'ThisVersion', version: '1.0' }),
    deploySoftware('deploy-notes-tenant', 'notes', { target: { kind: 'Tenant', tenantId: 'tenant-a', includeChildTenants: false } }),
  ],
  machines: [{ computer: testComputer('desk-1', 'i-00000000000000001', { name: 'Desk desk-1', tags: ['reception'] }) }],
};

/** Saved through the API, as an operator would: its secret goes to the secret store, the deployment keeps only the marker. */
const WIFI_DEPLOYMENT = {
  id: 'deploy-wifi',
  itemKind: 'Task',
  taskId: 'wifi',
  mode: 'Enforce',
  target: { kind: 'Tenant', tenantId: 'tenant-a' },
  parameters: { ssid: 'Office', passphrase: PASSPHRASE },
};

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

describe.skipIf(!hasChromium || !isBuilt)(`the console's deployments and catalog in a real browser (skipped when ${skipReason})`, () => {
  let runtime: LocalRuntime | undefined;
  let server: ApiServer | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  const browserErrors: string[] = [];
  const notFound: string[] = [];
  /** The requests the API refused with 409, as `METHOD path`: the refusals come from the API, not from a check of the console's own. */
  const conflicts: string[] = [];

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

  /** A page signed in as another role, in a context of its own (nothing the admin's page read carries over). */
  const signedInAs = async (role: Role, address: string): Promise<{ page: Page; close: () => Promise<void> }> => {
    const { server, browser } = rt();
    const roleContext = await newConsoleContext(browser);
    const rolePage = await roleContext.newPage();
    rolePage.on('pageerror', (error) => browserErrors.push(`${role}: ${error.message}`));
    await rolePage.goto(`${server.url}${address}`);
    await rolePage.getByLabel('Or paste a bearer token').fill(await server.mintDevToken(role === 'Viewer' ? { role, tenantId: 'tenant-a' } : { role }));
    await rolePage.getByRole('button', { name: 'Sign in with this token' }).click();
    return { page: rolePage, close: () => roleContext.close() };
  };

  const secretStored = async (): Promise<string | undefined> => {
    const secrets = rt().runtime.deps.secrets;
    if (!(secrets instanceof LocalSecretStore)) throw new Error('the local runtime has another secret store');
    return secrets.get(secretReference({ kind: 'Tenant', tenantId: 'tenant-a' }, 'deploy-wifi', 'passphrase'));
  };

  beforeAll(async () => {
    runtime = await runtimeWithFleet(FLEET, { timerPollMs: 10, agentPollMs: 10 });
    server = await startApiServer(runtime, { port: 0 });
    expect(await asAdmin('POST', '/v1/deployments', WIFI_DEPLOYMENT)).toMatchObject({ status: 201 });
    browser = await launchChromium();
    context = await newConsoleContext(browser);
    page = await context.newPage();
    page.on('console', (message) => {
      // a refused save (400) or a refused change or deletion (409) is the API's answer under test, shown on the page; anything else is a fault
      if (message.type() === 'error' && !/status of (400|409)/.test(message.text())) browserErrors.push(message.text());
    });
    page.on('response', (response) => {
      if (response.status() === 404) notFound.push(new URL(response.url()).pathname);
      if (response.status() === 409) conflicts.push(`${response.request().method()} ${new URL(response.url()).pathname}`);
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

  it('lists the software a page at a time through the API’s cursors, and opens one with its versions, detection and scripts', async () => {
    const { page } = rt();
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Software' }).click();
    await page.getByRole('heading', { name: 'Software', level: 1 }).waitFor();
    const firstPage = /^Software, by id \(page 1\)/;
    await expect.poll(async () => (await rowsOf(page, firstPage)).length).toBe(50);
    const rows = await rowsOf(page, firstPage);
    expect(rows[0]).toEqual(['App editor', 'editor', 'Linux', '2.0', 'Detection script', '—']);
    expect(rows[1]).toEqual(['App notes', 'notes', 'Linux', '3.0', 'Detection script', 'editor']);
    await page.screenshot({ path: await screenshotPath('console-catalog-software'), fullPage: true });
    await page.getByRole('button', { name: 'Next' }).click();
    const secondPage = /^Software, by id \(page 2\)/;
    await expect.poll(async () => (await rowsOf(page, secondPage)).map((row) => row[1])).toEqual(['pkg-49', 'pkg-50', 'pkg-51', 'pkg-52', 'pkg-53', 'pkg-54', 'pkg-55']);
    await page.getByRole('button', { name: 'Previous' }).click();
    await page.getByRole('link', { name: 'App notes' }).click();
    await page.getByRole('heading', { name: 'App notes', level: 1 }).waitFor();
    const facts = await page.locator('dl.facts').innerText();
    expect(facts).toContain('Latest version\n3.0');
    expect(facts).toContain('editor installed first');
    await page.locator('summary', { hasText: /^Install script/ }).click();
    expect(await page.locator('details[open] pre').textContent()).toContain('installed notes');
    expect(await page.getByRole('link', { name: 'Edit', exact: true }).getAttribute('href')).toBe('/software/notes/edit');
    await page.screenshot({ path: await screenshotPath('console-catalog-software-detail'), fullPage: true });
  });

  it('edits a software item: a bad version is refused on its field, a good one is saved; a task’s parameters that are not JSON are refused before any request', async () => {
    const { runtime, server, page } = rt();
    await page.getByRole('link', { name: 'Edit', exact: true }).click();
    await page.getByRole('heading', { name: 'Edit App notes', level: 1 }).waitFor();
    const latest = page.getByLabel('Latest version');
    await latest.fill('the newest');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => latest.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('.field', { has: latest }).locator('.field-problem').textContent()).toMatch(/^Latest version must be a version such as/);
    await latest.fill('3.1');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: 'App notes', exact: true, level: 1 }).waitFor();
    expect((await runtime.deps.catalog.getSoftware(['notes']))[0]).toMatchObject({ latestVersion: '3.1', dependencies: [{ softwareId: 'editor', requires: 'Installed' }] });
    await page.goto(`${server.url}/tasks/wifi/edit`);
    const parameters = page.getByLabel('Parameters (JSON)');
    expect(JSON.parse(await parameters.inputValue())).toEqual(WIFI_TASK.parameters);
    await parameters.fill('[{"name": "ssid", ');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => parameters.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('.field', { has: parameters }).locator('.field-problem').textContent()).toMatch(/^Parameters \(JSON\) is not valid JSON/);
    await page.screenshot({ path: await screenshotPath('console-catalog-task-invalid'), fullPage: true });
  });

  it('shows a task’s secret parameter as secret, and a deployment’s secret as set, never its value', async () => {
    const { page } = rt();
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Tasks' }).click();
    await page.getByRole('link', { name: 'Office Wi-Fi' }).click();
    await page.getByRole('heading', { name: 'Office Wi-Fi', level: 1 }).waitFor();
    expect(await rowsOf(page, /The task's parameters/)).toEqual([
      ['ssid', 'Text', 'Yes', '—', '—'],
      ['passphrase secret', 'Secret', 'Yes', '—', '—'],
      ['band', 'One of a list', 'No', '5', '2.4, 5'],
    ]);
    await page.screenshot({ path: await screenshotPath('console-catalog-task'), fullPage: true });
    await page.goto(`${rt().server.url}/deployments/deploy-wifi`);
    await page.getByRole('heading', { name: /^Deployment deploy-wifi/, level: 1 }).waitFor();
    const values = page.getByRole('region', { name: 'Parameter values' });
    expect(await values.innerText()).toMatch(/passphrase\nsecret, set/);
    expect(await page.content()).not.toContain(PASSPHRASE);
  });

  it('lists the deployments with item, desired state and target, a computer target linked to the computer', async () => {
    const { page } = rt();
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Deployments' }).click();
    await page.getByRole('heading', { name: 'Deployments', level: 1 }).waitFor();
    const caption = /^Deployments, by id/;
    // the items' names arrive one read each after the list
    await expect.poll(async () => (await rowsOf(page, caption)).map((row) => row[1])).toEqual(['App editor', 'App editor', 'App notes', 'Office Wi-Fi (task)']);
    expect(await rowsOf(page, caption)).toEqual([
      ['deploy-editor', 'App editor', 'Latest version', 'All tenants', 'All', 'On', 'Any order'],
      ['deploy-editor-desk-1', 'App editor', 'Exactly this version 1.0', 'Computer desk-1', 'All', 'On', 'Any order'],
      ['deploy-notes-tenant', 'App notes', 'Latest version', 'Every computer of Tenant A', 'All', 'On', 'Any order'],
      ['deploy-wifi', 'Office Wi-Fi (task)', 'Enforce (test, then set)', 'Every computer of Tenant A', 'All', 'On', 'Any order'],
    ]);
    const table = page.getByRole('table', { name: caption });
    expect(await table.getByRole('link', { name: 'desk-1', exact: true }).getAttribute('href')).toBe('/computers/desk-1');
    expect(await table.getByRole('link', { name: 'Office Wi-Fi' }).getAttribute('href')).toBe('/tasks/wifi');
    await page.screenshot({ path: await screenshotPath('console-catalog-deployments'), fullPage: true });
  });

  it('edits a deployment with an invalid version: the API’s message is on the version field, which is marked and focused, and nothing is stored', async () => {
    const { runtime, page } = rt();
    await page.getByRole('link', { name: 'deploy-editor-desk-1' }).click();
    await page.getByRole('heading', { name: /^Deployment deploy-editor-desk-1/, level: 1 }).waitFor();
    await page.getByRole('link', { name: 'Edit', exact: true }).click();
    await page.getByRole('heading', { name: 'Edit deployment deploy-editor-desk-1' }).waitFor();
    expect(await page.getByRole('link', { name: 'computer desk-1' }).getAttribute('href')).toBe('/computers/desk-1');
    const version = page.getByLabel('Version', { exact: true });
    await version.fill('one point five');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => version.getAttribute('aria-invalid')).toBe('true');
    const problem = page.locator('.field', { has: version }).locator('.field-problem');
    expect(await problem.textContent()).toMatch(/^Version must be a version such as 1\.2\.3/);
    expect((await version.getAttribute('aria-describedby'))?.split(' ')).toContain(await problem.getAttribute('id'));
    // the focus moves in the frame after the problem is drawn
    await expect.poll(() => page.evaluate('document.activeElement?.getAttribute("name")')).toBe('version');
    expect(await page.locator('form .problem').count()).toBe(0);
    await page.screenshot({ path: await screenshotPath('console-catalog-deployment-invalid'), fullPage: true });
    expect(await runtime.deps.catalog.getDeployment('deploy-editor-desk-1')).toMatchObject({ desiredState: 'ThisVersion', version: '1.0' });
  });

  it('saves a valid change and sees it in the list; the trail records only what changed', async () => {
    const { runtime, page } = rt();
    await page.getByLabel('Version', { exact: true }).fill('1.5');
    await page.getByLabel('Desired state').selectOption('NewerOrEqualVersion');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: /^Deployment deploy-editor-desk-1/, level: 1 }).waitFor();
    expect(await runtime.deps.catalog.getDeployment('deploy-editor-desk-1')).toMatchObject({ desiredState: 'NewerOrEqualVersion', version: '1.5', target: { kind: 'Computer', computerId: 'desk-1' } });
    const changes = (await runtime.deps.audit.list('Deployment', 'deploy-editor-desk-1')).at(-1)?.changes.map((change) => change.field);
    expect(changes).toEqual(['desiredState', 'version']);
    await page.getByRole('link', { name: 'Deployments', exact: true }).first().click();
    const caption = /^Deployments, by id/;
    await expect.poll(async () => (await rowsOf(page, caption)).find((row) => row[0] === 'deploy-editor-desk-1')?.[2]).toBe('This version or newer 1.5');
    await page.screenshot({ path: await screenshotPath('console-catalog-deployments-saved'), fullPage: true });
  });

  it('creates a deployment for a tag in one tenant and some device classes; an id already taken is refused on the id field', async () => {
    const { runtime, page } = rt();
    await page.getByRole('link', { name: 'New deployment' }).click();
    await page.getByRole('heading', { name: 'New deployment', level: 1 }).waitFor();
    const id = page.getByLabel('Id', { exact: true });
    await id.fill('deploy-editor');
    await page.getByLabel('Software', { exact: true }).fill('notes');
    await page.getByLabel('Targets').selectOption('Tag');
    await page.getByLabel('Tag', { exact: true }).fill('reception');
    await page.getByLabel('Tenant').selectOption('tenant-a');
    await page.getByLabel('Workstation').check();
    await page.getByLabel('Laptop').check();
    await page.getByRole('button', { name: 'Create deployment' }).click();
    await expect.poll(() => id.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('.field', { has: id }).locator('.field-problem').textContent()).toMatch(/^Id is taken: a deployment deploy-editor exists already/);
    // the create route refused it: nothing was read first, nothing was overwritten
    expect(conflicts).toEqual(['POST /v1/deployments']);
    expect(await runtime.deps.catalog.getDeployment('deploy-editor')).toMatchObject({ softwareId: 'editor', target: { kind: 'AllTenants' } });
    await id.fill('deploy-notes-reception');
    await page.getByRole('button', { name: 'Create deployment' }).click();
    await page.getByRole('heading', { name: /^Deployment deploy-notes-reception/, level: 1 }).waitFor();
    expect(await runtime.deps.catalog.getDeployment('deploy-notes-reception')).toEqual({
      revision: 1,
      id: 'deploy-notes-reception',
      itemKind: 'Software',
      softwareId: 'notes',
      desiredState: 'LatestVersion',
      target: { kind: 'Tag', tag: 'reception', tenantId: 'tenant-a' },
      deviceClasses: ['Workstation', 'Portable'],
      enabled: true,
      critical: true,
      orderingHint: 'Unordered',
    });
    expect(await page.locator('dl.facts').innerText()).toContain('Computers tagged reception in Tenant A');
  });

  it('edits a task deployment with one input per parameter: the secret box is empty, and saving leaves the stored secret as it was', async () => {
    const { runtime, server, page } = rt();
    await page.goto(`${server.url}/deployments/deploy-wifi/edit`);
    await page.getByRole('heading', { name: 'Edit deployment deploy-wifi' }).waitFor();
    const secret = page.getByLabel('passphrase (secret)');
    await secret.waitFor();
    expect(await secret.getAttribute('type')).toBe('password');
    expect(await secret.inputValue()).toBe('');
    expect(await page.getByLabel('ssid').inputValue()).toBe('Office');
    expect(await page.content()).not.toContain(PASSPHRASE);
    await page.getByLabel('band').selectOption('2.4');
    await page.getByLabel('Mode').selectOption('Audit');
    await page.screenshot({ path: await screenshotPath('console-catalog-deployment-task'), fullPage: true });
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: /^Deployment deploy-wifi/, level: 1 }).waitFor();
    expect(await runtime.deps.catalog.getDeployment('deploy-wifi')).toMatchObject({ mode: 'Audit', parameters: { ssid: 'Office', passphrase: '(secret)', band: '2.4' } });
    expect(await secretStored()).toBe(PASSPHRASE);
  });

  it('refuses a save when someone else changed the deployment since the form read it, and reloads their change on request', async () => {
    const { runtime, server, page } = rt();
    await page.goto(`${server.url}/deployments/deploy-notes-tenant/edit`);
    await page.getByRole('heading', { name: 'Edit deployment deploy-notes-tenant' }).waitFor();
    await page.getByLabel('Order in a session').waitFor();
    // another operator disables it meanwhile, at the revision both read
    expect(await asAdmin('PUT', '/v1/deployments/deploy-notes-tenant', { ...FLEET.deployments[2], enabled: false, expectedRevision: 1 })).toMatchObject({ status: 200, body: { revision: 2 } });
    await page.getByLabel('Order in a session').selectOption('End');
    await page.getByRole('button', { name: 'Save changes' }).click();
    const conflict = page.getByRole('alert').filter({ hasText: 'Someone else changed this deployment' });
    await conflict.waitFor();
    // refused by the API at the revision the form was opened on (1), not by a read of the console's own
    expect(conflicts.at(-1)).toBe('PUT /v1/deployments/deploy-notes-tenant');
    await page.screenshot({ path: await screenshotPath('console-catalog-deployment-conflict'), fullPage: true });
    expect(await runtime.deps.catalog.getDeployment('deploy-notes-tenant')).toMatchObject({ enabled: false, orderingHint: 'Unordered' });
    await conflict.getByRole('button', { name: 'Reload' }).click();
    await expect.poll(() => page.getByLabel('Enabled').isChecked()).toBe(false);
    expect(await page.getByLabel('Order in a session').inputValue()).toBe('Unordered');
    // the reloaded form is at revision 2: its save goes through
    await page.getByLabel('Order in a session').selectOption('End');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: /^Deployment deploy-notes-tenant/, level: 1 }).waitFor();
    expect(await runtime.deps.catalog.getDeployment('deploy-notes-tenant')).toMatchObject({ enabled: false, orderingHint: 'End', revision: 3 });
  });

  it('refuses a software save when someone else changed it since the form was opened, saying so and offering a reload', async () => {
    const { runtime, server, page } = rt();
    await page.goto(`${server.url}/software/pkg-01/edit`);
    const latest = page.getByLabel('Latest version');
    await latest.waitFor();
    expect(await asAdmin('PUT', '/v1/software/pkg-01', { ...testSoftware('pkg-01', '1.0'), latestVersion: '1.1', expectedRevision: 1 })).toMatchObject({ status: 200 });
    await latest.fill('2.0');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('alert').filter({ hasText: 'Someone else changed this software since you opened it' }).waitFor();
    expect(conflicts.at(-1)).toBe('PUT /v1/software/pkg-01');
    expect((await runtime.deps.catalog.getSoftware(['pkg-01']))[0]).toMatchObject({ latestVersion: '1.1', revision: 2 });
  });

  it('deletes after asking: refused with what still uses it, named; done once nothing does, and gone from its list', async () => {
    const { runtime, server, page } = rt();
    await page.goto(`${server.url}/software/editor`);
    await page.getByRole('heading', { name: 'App editor', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete software editor?' });
    await dialog.waitFor();
    // keeping it is the default: Escape closes the dialog and nothing is sent
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.screenshot({ path: await screenshotPath('console-catalog-delete-confirm'), fullPage: true });
    await dialog.getByRole('button', { name: 'Delete software' }).click();
    const refused = page.getByRole('alert').filter({ hasText: 'The software was not deleted' });
    await refused.waitFor();
    expect(await refused.innerText()).toContain('software editor is still used by deployments deploy-editor, deploy-editor-desk-1 and by software notes (a dependency); change or delete those first');
    expect(conflicts.at(-1)).toBe('DELETE /v1/software/editor');
    await page.screenshot({ path: await screenshotPath('console-catalog-delete-refused'), fullPage: true });
    expect(await runtime.deps.catalog.getSoftware(['editor'])).toHaveLength(1);

    await page.goto(`${server.url}/deployments/deploy-notes-reception`);
    await page.getByRole('heading', { name: /^Deployment deploy-notes-reception/, level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByRole('dialog', { name: 'Delete deployment deploy-notes-reception?' }).getByRole('button', { name: 'Delete deployment' }).click();
    await page.getByRole('heading', { name: 'Deployments', level: 1 }).waitFor();
    const caption = /^Deployments, by id/;
    await expect.poll(async () => (await rowsOf(page, caption)).map((row) => row[0])).not.toContain('deploy-notes-reception');
    expect(await runtime.deps.catalog.getDeployment('deploy-notes-reception')).toBeUndefined();
    expect((await runtime.deps.audit.list('Deployment', 'deploy-notes-reception')).map((entry) => [entry.version, entry.action])).toEqual([
      [1, 'Created'],
      [2, 'Deleted'],
    ]);
  });

  it('offers a technician the software to read with no Edit and no Save, and the deployments to change', async () => {
    const technician = await signedInAs('Technician', '/software/notes');
    try {
      const { page } = technician;
      await page.getByRole('heading', { name: 'App notes', level: 1 }).waitFor();
      await page.locator('dl.facts').waitFor();
      expect(await page.getByRole('link', { name: 'Edit', exact: true }).count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Delete' }).count()).toBe(0);
      await page.goto(`${rt().server.url}/software/notes/edit`);
      await page.getByText('Your role may read the software catalog, not change it.').waitFor();
      expect(await page.getByRole('button', { name: /Save/ }).count()).toBe(0);
      await page.screenshot({ path: await screenshotPath('console-catalog-technician-software'), fullPage: true });
      await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Software' }).click();
      await page.getByRole('table', { name: /^Software, by id/ }).locator('tbody tr').first().waitFor();
      expect(await page.getByRole('link', { name: 'New software' }).count()).toBe(0);
      await page.goto(`${rt().server.url}/deployments/deploy-editor`);
      await page.getByRole('button', { name: 'Delete', exact: true }).waitFor();
      await page.goto(`${rt().server.url}/deployments/deploy-editor/edit`);
      await page.getByRole('button', { name: 'Save changes' }).waitFor();
    } finally {
      await technician.close();
    }
  });

  it('offers a tenant viewer the deployments aimed at its tenant to read, with no Save, no New and no catalog', async () => {
    const viewer = await signedInAs('Viewer', '/deployments');
    try {
      const { page } = viewer;
      await page.getByRole('heading', { name: 'Deployments', level: 1 }).waitFor();
      const caption = /^Deployments, by id/;
      // the cross-tenant deployment is the MSP's; items are ids, not links to a catalog the role cannot read
      await expect.poll(async () => (await rowsOf(page, caption)).map((row) => row.slice(0, 2))).toEqual([
        ['deploy-editor-desk-1', 'editor'],
        ['deploy-notes-tenant', 'notes'],
        ['deploy-wifi', 'wifi (task)'],
      ]);
      expect(await page.getByRole('link', { name: 'New deployment' }).count()).toBe(0);
      expect(await page.getByRole('table', { name: caption }).getByRole('link', { name: 'notes', exact: true }).count()).toBe(0);
      const navigation = page.getByRole('navigation', { name: 'Console' });
      expect(await navigation.getByRole('link', { name: 'Software' }).count()).toBe(0);
      expect(await navigation.getByRole('link', { name: 'Tasks' }).count()).toBe(0);
      await page.screenshot({ path: await screenshotPath('console-catalog-viewer-deployments'), fullPage: true });
      await page.getByRole('link', { name: 'deploy-wifi' }).click();
      await page.getByRole('heading', { name: /^Deployment deploy-wifi/, level: 1 }).waitFor();
      expect(await page.getByRole('link', { name: 'Edit', exact: true }).count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Delete' }).count()).toBe(0);
      await page.goto(`${rt().server.url}/deployments/deploy-wifi/edit`);
      await page.getByText('Your role may read deployments, not change them.').waitFor();
      expect(await page.getByRole('button', { name: /Save/ }).count()).toBe(0);
    } finally {
      await viewer.close();
    }
  });

  it('ran every page without an error in the browser, and never read what it had just deleted', () => {
    expect(browserErrors).toEqual([]);
    expect(notFound).toEqual([]);
  });
});
