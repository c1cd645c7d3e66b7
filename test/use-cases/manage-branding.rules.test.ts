import { describe, expect, it } from 'vitest';
import { InMemoryMetrics } from '../../functions/adapters/metrics.memory.js';
import { templateRenderer } from '../../functions/adapters/renderer.templates.js';
import { NotFoundError, ValidationError } from '../../functions/core/errors.js';
import { NIGHTSHIFT_BRANDING, type BrandingOwner } from '../../functions/core/model/branding.js';
import { newStages, type Requester } from '../../functions/core/model/session.js';
import type { EmailView } from '../../functions/core/notifications/emails.js';
import type { Dependencies } from '../../functions/core/use-cases/dependencies.js';
import { deleteBranding, listBrandings, previewEmail, sampleSession, saveBranding, sendTestEmail } from '../../functions/core/use-cases/manage-branding.js';
import { computer, tenant } from '../support/domain.js';
import { RecordingMailer } from '../support/mail.js';
import { useCaseHarness, type Harness } from './harness.js';

/**
 * The MSP's branding and each tenant's override, rule by rule (dynalite):
 * what a save refuses and records, what a preview draws (and with which
 * branding), and what a test email carries.
 */

const BY: Requester = { kind: 'Operator', name: 'ops@msp.example' };
const MSP: BrandingOwner = { kind: 'Msp' };
const tenantOwner = (tenantId: string): BrandingOwner => ({ kind: 'Tenant', tenantId });
const BLACK = '#000000';
const WHITE = '#ffffff';
const DARK = '#111111';

/** The ValidationError a promise rejects with. */
async function refusal(promise: Promise<unknown>): Promise<ValidationError> {
  const error: unknown = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof ValidationError)) throw new Error(`expected a ValidationError, got ${String(error)}`);
  return error;
}

/**
 * One table per describe (the MSP's brandings are the table's): a test that
 * saves the MSP's gets a describe of its own. `h` is the test's harness.
 */
function savingKit() {
  const harness = useCaseHarness();
  const kit = {
    h: undefined as unknown as Harness,
    n: 0,
    start(): Harness {
      kit.h = harness();
      return kit.h;
    },
    /** A fresh tenant (under `parentTenantId`), so tests do not see each other's brandings. */
    async freshTenant(parentTenantId?: string): Promise<string> {
      const id = `t-${String(++kit.n)}-${kit.h.nextId()}`;
      await kit.h.catalog.putTenant(tenant(id, parentTenantId === undefined ? {} : { parentTenantId }));
      return id;
    },
  };
  return kit;
}

describe('saving and deleting a branding (dynalite)', () => {
  const kit = savingKit();
  let h: Harness;
  const freshTenant = (parentTenantId?: string) => kit.freshTenant(parentTenantId);
  const harness = () => kit.start();
  const deps = () => h.deps;

  it('refuses a default with a date range and a seasonal one without, naming the field', async () => {
    h = harness();
    const withRange = await refusal(saveBranding(deps(), { owner: MSP, id: 'default', branding: { dateRange: { from: '2026-12-01', to: '2026-12-31' } }, expectedVersion: 0, by: BY }));
    expect(withRange.problems).toEqual([{ field: 'dateRange', problem: 'the default branding applies all year; save a seasonal one under its own id' }]);
    const without = await refusal(saveBranding(deps(), { owner: MSP, id: 'winter', branding: { companyName: 'Acme' }, expectedVersion: 0, by: BY }));
    expect(without.problems).toEqual([{ field: 'dateRange', problem: 'is required for a seasonal branding (any id but "default")' }]);
    const schema = await refusal(saveBranding(deps(), { owner: MSP, id: 'default', branding: { textColour: 'red' }, expectedVersion: 0, by: BY }));
    expect(schema.problems.map((p) => p.field)).toEqual(['textColour']);
    expect([withRange, without, schema].map((error) => error.entity)).toEqual(['branding', 'branding', 'branding']);
    expect(await h.deps.branding.list(MSP)).toEqual([]);
  });

  it('refuses a tenant that does not exist as not found', async () => {
    h = harness();
    await expect(saveBranding(deps(), { owner: tenantOwner('t-nowhere'), id: 'default', branding: {}, expectedVersion: 0, by: BY })).rejects.toThrow(new NotFoundError('tenant', 't-nowhere'));
    await expect(listBrandings(deps(), tenantOwner('t-nowhere'))).rejects.toBeInstanceOf(NotFoundError);
  });

  it('saves a tenant’s branding at the next version with the clock’s time, and audits its creation then its update field by field', async () => {
    h = harness();
    const t = await freshTenant();
    const created = await saveBranding(deps(), { owner: tenantOwner(t), id: 'default', branding: { companyName: 'Acme', fromName: 'Acme IT' }, expectedVersion: 0, by: BY });
    const at = h.clock.now().toISOString();
    expect(created).toEqual({ companyName: 'Acme', fromName: 'Acme IT', owner: tenantOwner(t), id: 'default', version: 1, updatedAt: at });
    expect(await listBrandings(deps(), tenantOwner(t))).toEqual([created]);

    h.clock.advance(60_000);
    const updated = await saveBranding(deps(), { owner: tenantOwner(t), id: 'default', branding: { companyName: 'Acme Ltd', fromName: 'Acme IT' }, expectedVersion: 1, by: BY });
    expect(updated.version).toBe(2);
    expect(await h.deps.audit.list('Branding', `tenant/${t}/default`)).toEqual([
      { resource: 'Branding', resourceId: `tenant/${t}/default`, tenantId: t, version: 1, at, by: BY, action: 'Created', changes: [{ field: 'companyName', after: 'Acme' }, { field: 'fromName', after: 'Acme IT' }] },
      { resource: 'Branding', resourceId: `tenant/${t}/default`, tenantId: t, version: 2, at: h.clock.now().toISOString(), by: BY, action: 'Updated', changes: [{ field: 'companyName', before: 'Acme', after: 'Acme Ltd' }] },
    ]);
  });


  it('refuses text below WCAG AA against what it inherits, naming the field the save changed (the fill when only the fill changed)', async () => {
    h = harness();
    const t = await freshTenant();
    const text = await refusal(saveBranding(deps(), { owner: tenantOwner(t), id: 'default', branding: { textColour: '#eeeeee' }, expectedVersion: 0, by: BY }));
    expect(text.problems.map((p) => p.field)).toEqual(['textColour', 'textColour']);
    const fill = await refusal(saveBranding(deps(), { owner: tenantOwner(t), id: 'default', branding: { tableHeaderColour: WHITE }, expectedVersion: 0, by: BY }));
    expect(fill.problems.map((p) => p.field)).toEqual(['tableHeaderColour']);
    expect(fill.entity).toBe('branding');
    expect(await h.deps.branding.list(tenantOwner(t))).toEqual([]);
  });

  it('checks a tenant’s save against its parent tenants, but not against the default it replaces', async () => {
    h = harness();
    const parent = await freshTenant();
    const child = await freshTenant(parent);
    // the parent draws on black: the child's dark text would be unreadable there
    await saveBranding(deps(), { owner: tenantOwner(parent), id: 'default', branding: { foregroundColour: BLACK, backgroundColour: BLACK, textColour: WHITE }, expectedVersion: 0, by: BY });
    const dark = await refusal(saveBranding(deps(), { owner: tenantOwner(child), id: 'default', branding: { textColour: DARK }, expectedVersion: 0, by: BY }));
    expect(dark.problems.map((p) => p.field)).toEqual(['textColour', 'textColour']);

    // the child's own stored default (white text) is what this save replaces: it does not rescue black fills
    const own = await freshTenant();
    await saveBranding(deps(), { owner: tenantOwner(own), id: 'default', branding: { textColour: WHITE, foregroundColour: '#333333', backgroundColour: '#333333' }, expectedVersion: 0, by: BY });
    const replaced = await refusal(saveBranding(deps(), { owner: tenantOwner(own), id: 'default', branding: { foregroundColour: BLACK, backgroundColour: BLACK }, expectedVersion: 1, by: BY }));
    expect(replaced.problems.map((p) => p.field)).toEqual(['foregroundColour', 'backgroundColour']);
  });

  it('checks a seasonal save against its owner’s own default', async () => {
    h = harness();
    const t = await freshTenant();
    await saveBranding(deps(), { owner: tenantOwner(t), id: 'default', branding: { foregroundColour: BLACK, backgroundColour: BLACK, textColour: WHITE }, expectedVersion: 0, by: BY });
    const dateRange = { from: '2026-12-01', to: '2026-12-31' };
    const seasonal = await refusal(saveBranding(deps(), { owner: tenantOwner(t), id: 'winter', branding: { dateRange, textColour: DARK }, expectedVersion: 0, by: BY }));
    expect(seasonal.problems.map((p) => p.field)).toEqual(['textColour', 'textColour']);
    await expect(saveBranding(deps(), { owner: tenantOwner(t), id: 'winter', branding: { dateRange, textColour: '#eeeeee' }, expectedVersion: 0, by: BY })).resolves.toMatchObject({ id: 'winter', version: 1 });
  });


});

describe('saving the MSP’s branding (dynalite, a table of its own)', () => {
  const kit = savingKit();
  let h: Harness;
  const harness = () => kit.start();
  const deps = () => h.deps;

  it('audits the MSP’s branding under its own id, with no tenant', async () => {
    h = harness();
    const recorded: object[] = [];
    const audit = h.deps.audit;
    h.deps = { ...h.deps, audit: Object.assign(Object.create(audit) as typeof audit, { record: (entry: Parameters<typeof audit.record>[0]) => (recorded.push(entry), audit.record(entry)) }) };
    await saveBranding(deps(), { owner: MSP, id: 'default', branding: { companyName: 'MSP' }, expectedVersion: 0, by: BY });
    const [entry] = await h.deps.audit.list('Branding', 'msp/default');
    expect(entry).toMatchObject({ resourceId: 'msp/default', version: 1, action: 'Created' });
    expect(entry).not.toHaveProperty('tenantId');
    expect(await listBrandings(deps(), MSP)).toHaveLength(1);
    await deleteBranding(deps(), { owner: MSP, id: 'default', expectedVersion: 1, by: BY });
    // as handed to the store, not only as read back: no tenantId key at all
    expect(recorded.map((written) => Object.keys(written).includes('tenantId'))).toEqual([false, false]);
  });
});

describe('saving the MSP’s branding (dynalite, a table of its own)', () => {
  const kit = savingKit();
  let h: Harness;
  const freshTenant = (parentTenantId?: string) => kit.freshTenant(parentTenantId);
  const harness = () => kit.start();
  const deps = () => h.deps;

  it('checks a save against the MSP’s seasonal branding of today', async () => {
    h = harness();
    const today = h.clock.now().toISOString().slice(0, 10);
    await saveBranding(deps(), { owner: MSP, id: 'default', branding: { companyName: 'MSP' }, expectedVersion: 0, by: BY });
    await saveBranding(deps(), { owner: MSP, id: 'today', branding: { dateRange: { from: today, to: today }, foregroundColour: BLACK, backgroundColour: BLACK, textColour: WHITE }, expectedVersion: 0, by: BY });
    const t = await freshTenant();
    const dark = await refusal(saveBranding(deps(), { owner: tenantOwner(t), id: 'default', branding: { textColour: DARK }, expectedVersion: 0, by: BY }));
    expect(dark.problems).toHaveLength(2);
    // and the MSP's own seasonal save sits on the MSP's default
    await saveBranding(deps(), { owner: MSP, id: 'default', branding: { foregroundColour: BLACK, backgroundColour: BLACK, textColour: WHITE }, expectedVersion: 1, by: BY });
    const mspSeasonal = await refusal(saveBranding(deps(), { owner: MSP, id: 'winter', branding: { dateRange: { from: '2027-01-01', to: '2027-01-31' }, textColour: DARK }, expectedVersion: 0, by: BY }));
    expect(mspSeasonal.problems).toHaveLength(2);
  });
});

describe('saving the MSP’s branding (dynalite, a table of its own)', () => {
  const kit = savingKit();
  let h: Harness;
  const freshTenant = (parentTenantId?: string) => kit.freshTenant(parentTenantId);
  const harness = () => kit.start();
  const deps = () => h.deps;

  it('deletes a branding at its version and audits every field it had; refuses one that does not exist', async () => {
    h = harness();
    const t = await freshTenant();
    await saveBranding(deps(), { owner: tenantOwner(t), id: 'default', branding: { companyName: 'Acme' }, expectedVersion: 0, by: BY });
    h.clock.advance(1_000);
    await deleteBranding(deps(), { owner: tenantOwner(t), id: 'default', expectedVersion: 1, by: BY });
    expect(await h.deps.branding.get(tenantOwner(t), 'default')).toBeUndefined();
    const entries = await h.deps.audit.list('Branding', `tenant/${t}/default`);
    expect(entries[1]).toEqual({ resource: 'Branding', resourceId: `tenant/${t}/default`, tenantId: t, version: 2, at: h.clock.now().toISOString(), by: BY, action: 'Deleted', changes: [{ field: 'companyName', before: 'Acme' }] });
    await expect(deleteBranding(deps(), { owner: tenantOwner(t), id: 'default', expectedVersion: 2, by: BY })).rejects.toThrow(new NotFoundError('branding', 'default'));

    await saveBranding(deps(), { owner: MSP, id: 'default', branding: { companyName: 'MSP' }, expectedVersion: 0, by: BY });
    await deleteBranding(deps(), { owner: MSP, id: 'default', expectedVersion: 1, by: BY });
    const [, deleted] = await h.deps.audit.list('Branding', 'msp/default');
    expect(deleted).toMatchObject({ resourceId: 'msp/default', action: 'Deleted', version: 2 });
    expect(deleted).not.toHaveProperty('tenantId');
  });
});

describe('the sample session a preview shows', () => {
  it('is an evening’s maintenance six hours from now, with an update done, an install done and an update failed', () => {
    const now = new Date('2026-11-23T12:00:00.000Z');
    const { session, actions } = sampleSession(now, 't1');
    expect(session).toEqual({
      id: 'ses-sample',
      computerId: 'sample-laptop',
      computerName: "Alex Morgan's laptop",
      agentId: 'i-0123456789abcdef0',
      platform: 'windows',
      tenantId: 't1',
      status: 'Passed',
      version: 1,
      createdAt: '2026-11-23T12:00:00.000Z',
      updatedAt: '2026-11-23T12:00:00.000Z',
      stages: newStages(),
      items: [],
      options: {
        mode: 'Full',
        executeAt: '2026-11-23T18:00:00.000Z',
        reboot: 'IfNecessary',
        offline: 'ApplyOnConnect',
        postpone: { delayMinutes: 60, maxCount: 2 },
        notify: {
          detectionEmail: true,
          detectionEmailWhenCompliant: false,
          followUpEmail: true,
          followUpOnlyIfActionNeeded: true,
          showRunNowButton: true,
          showPostponeButton: true,
          showCancelButton: true,
          showActionList: true,
          additionalRecipients: [],
        },
      },
      executeAt: '2026-11-23T18:00:00.000Z',
      postponements: [],
      rebootPending: true,
    });
    const common = { sessionId: 'ses-sample', reason: 'UpdateAvailable', dependsOn: [], critical: true, status: 'Complete' };
    expect(actions).toEqual([
      { ...common, actionId: '001', itemKey: 'software:mozilla-firefox', itemId: 'mozilla-firefox', itemName: 'Mozilla Firefox', type: 'Update', result: 'Success', fromVersion: '128.0.3', toVersion: '145.0.1' },
      { ...common, actionId: '002', itemKey: 'software:7-zip', itemId: '7-zip', itemName: '7-Zip', type: 'Install', result: 'Success', toVersion: '23.01' },
      { ...common, actionId: '003', itemKey: 'software:zoom-workplace', itemId: 'zoom-workplace', itemName: 'Zoom Workplace', type: 'Update', result: 'Failed', fromVersion: '6.0.2', toVersion: '6.2.0' },
    ]);
  });
});

/** A preview's setting: a harness per test whose renderer keeps the view it drew, with a fresh tenant; one table per describe. */
function previewKit() {
  const harness = useCaseHarness();
  let h: Harness;
  let views: EmailView[];
  let deps: Dependencies;
  let mailer: RecordingMailer;
  let n = 0;

  /** A harness whose renderer keeps the view it drew, and a fresh tenant in it. */
  const fresh = async (linkBaseUrl = 'https://links.msp.example'): Promise<string> => {
    h = harness();
    views = [];
    mailer = new RecordingMailer();
    deps = {
      ...h.deps,
      mailer,
      notifySettings: { linkBaseUrl },
      renderer: {
        ...templateRenderer,
        renderEmail: (view) => {
          views.push(view);
          return templateRenderer.renderEmail(view);
        },
      },
    };
    const id = `t-${String(++n)}-${h.nextId()}`;
    await h.catalog.putTenant(tenant(id));
    return id;
  };
  const view = (): EmailView => {
    const drawn = views.at(-1);
    if (!drawn) throw new Error('nothing was drawn');
    return drawn;
  };
  return { fresh, view, h: () => h, deps: () => deps, mailer: () => mailer };
}

describe('previewing and sending a test email (dynalite)', () => {
  const kit = previewKit();
  const { fresh, view } = kit;
  it('draws the sample session for the MSP with buttons that go nowhere, and answers the branding, what it inherits and no problems', async () => {
    await fresh();
    const preview = await previewEmail(kit.deps(), { kind: 'Detection' });
    expect(view()).toMatchObject({ kind: 'Detection', computerName: "Alex Morgan's laptop", greeting: 'Hello Alex,' });
    expect(view().buttons.map((button) => button.url)).toEqual(['https://links.msp.example/l/preview', 'https://links.msp.example/l/preview', 'https://links.msp.example/l/preview']);
    expect(preview).toMatchObject({ branding: NIGHTSHIFT_BRANDING, inherited: NIGHTSHIFT_BRANDING, problems: [] });
    expect(preview.subject).toBe(view().subject);
    expect(preview.html).toContain('<');
    expect(preview.text.length).toBeGreaterThan(0);
  });

  it('uses an address that cannot work for the buttons when no link base is configured', async () => {
    await fresh('');
    await previewEmail(kit.deps(), { kind: 'Detection' });
    expect(view().buttons[0]?.url).toBe('https://example.invalid/l/preview');
  });

  it('draws each kind of email with its own template (the cancellation as cancelled)', async () => {
    await fresh();
    await previewEmail(kit.deps(), { kind: 'FollowUp' });
    expect(view()).toMatchObject({ kind: 'FollowUp', headline: 'Maintenance partly complete' });
    await previewEmail(kit.deps(), { kind: 'Postponed' });
    expect(view()).toMatchObject({ kind: 'Postponed', headline: 'Maintenance postponed', paragraphs: [expect.stringContaining('was postponed by you') as unknown] });
    await previewEmail(kit.deps(), { kind: 'Cancelled' });
    expect(view()).toMatchObject({ kind: 'Cancelled', headline: 'Maintenance cancelled', paragraphs: [expect.stringContaining('was cancelled by you') as unknown] });
  });


  it('draws a real session with its actions, its user and its computer’s time zone, in its own tenant’s branding; refuses one of another tenant or none', async () => {
    const t = await fresh();
    await saveBranding(kit.deps(), { owner: tenantOwner(t), id: 'default', branding: { companyName: 'Acme' }, expectedVersion: 0, by: BY });
    const computerId = `pc-${kit.h().nextId()}`;
    await kit.h().catalog.putComputer(computer(computerId, { tenantId: t, timeZone: 'Asia/Tokyo', primaryUser: { name: 'Kenji Sato', email: 'kenji@example.com' } }));
    const session = await kit.h().session({ computerId, computerName: 'KENJI-PC', tenantId: t, executeAt: '2026-11-23T22:00:00.000Z' });
    await kit.h().actions(session.id, [{ actionId: '001', type: 'Install', itemName: 'Slack', toVersion: '4.0' }]);

    const preview = await previewEmail(kit.deps(), { kind: 'Detection', sessionId: session.id });
    expect(view()).toMatchObject({ computerName: 'KENJI-PC', greeting: 'Hello Kenji,', actions: [{ title: 'Install Slack 4.0' }] });
    expect(view().windowOpensAt).toContain('GMT+9');
    expect(preview.branding.companyName).toBe('Acme');
    // the MSP's view of it: the owner is the MSP, the session's tenant still draws it
    expect(preview.inherited).toEqual(NIGHTSHIFT_BRANDING);

    await expect(previewEmail(kit.deps(), { kind: 'Detection', sessionId: session.id, tenantId: 'other' })).rejects.toThrow(new NotFoundError('session', session.id));
    await expect(previewEmail(kit.deps(), { kind: 'Detection', sessionId: 'ses-nowhere' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(previewEmail(kit.deps(), { kind: 'Detection', sessionId: session.id, tenantId: t })).resolves.toMatchObject({ branding: { companyName: 'Acme' } });
  });

  it('greets a real session’s reader by the sample name and reads UTC when its computer is gone', async () => {
    await fresh();
    const session = await kit.h().session({ computerId: `pc-gone-${kit.h().nextId()}`, executeAt: '2026-11-23T22:00:00.000Z' });
    await previewEmail(kit.deps(), { kind: 'Detection', sessionId: session.id });
    expect(view().greeting).toBe('Hello Alex,');
    expect(view().windowOpensAt).toContain('UTC');
  });

  it('draws an unsaved draft in place of the stored branding, and answers its contrast problems instead of refusing them', async () => {
    const t = await fresh();
    await saveBranding(kit.deps(), { owner: tenantOwner(t), id: 'default', branding: { companyName: 'Stored' }, expectedVersion: 0, by: BY });
    const preview = await previewEmail(kit.deps(), { kind: 'Detection', tenantId: t, draft: { fromName: 'Draft IT', textColour: '#eeeeee' } });
    expect(preview.branding).toMatchObject({ fromName: 'Draft IT', textColour: '#eeeeee', companyName: NIGHTSHIFT_BRANDING.companyName });
    expect(preview.problems.map((p) => p.field)).toEqual(['textColour', 'textColour']);
    expect(preview.inherited).toEqual(NIGHTSHIFT_BRANDING);
  });

  it('draws a seasonal draft on its first day over the owner’s stored default, and says the default is what it inherits', async () => {
    const t = await fresh();
    await saveBranding(kit.deps(), { owner: tenantOwner(t), id: 'default', branding: { companyName: 'Stored' }, expectedVersion: 0, by: BY });
    const preview = await previewEmail(kit.deps(), { kind: 'Detection', tenantId: t, draft: { dateRange: { from: '2026-12-24', to: '2026-12-26' }, fromName: 'Xmas IT' } });
    expect(preview.branding).toMatchObject({ fromName: 'Xmas IT', companyName: 'Stored' });
    expect(preview.inherited).toMatchObject({ companyName: 'Stored', fromName: NIGHTSHIFT_BRANDING.fromName });
    expect(preview.problems).toEqual([]);
  });

  it('draws an MSP draft for the MSP, leaving a tenant’s own override above it', async () => {
    const t = await fresh();
    await saveBranding(kit.deps(), { owner: tenantOwner(t), id: 'default', branding: { fromName: 'Acme IT' }, expectedVersion: 0, by: BY });
    const msp = await previewEmail(kit.deps(), { kind: 'Detection', draft: { companyName: 'Draft MSP', fromName: 'Draft' } });
    expect(msp.branding).toMatchObject({ companyName: 'Draft MSP', fromName: 'Draft' });
    const computerId = `pc-${kit.h().nextId()}`;
    await kit.h().catalog.putComputer(computer(computerId, { tenantId: t }));
    const session = await kit.h().session({ computerId, tenantId: t });
    const drawnForTenant = await previewEmail(kit.deps(), { kind: 'Detection', sessionId: session.id, draft: { companyName: 'Draft MSP', fromName: 'Draft' } });
    expect(drawnForTenant.branding).toMatchObject({ companyName: 'Draft MSP', fromName: 'Acme IT' });
  });

  it('draws a child tenant’s draft over its parent’s branding, and says the parent’s is what it inherits', async () => {
    const parent = await fresh();
    const child = `${parent}-child`;
    await kit.h().catalog.putTenant(tenant(child, { parentTenantId: parent }));
    await saveBranding(kit.deps(), { owner: tenantOwner(parent), id: 'default', branding: { fromName: 'Parent IT' }, expectedVersion: 0, by: BY });
    const preview = await previewEmail(kit.deps(), { kind: 'Detection', tenantId: child, draft: { companyName: 'Child' } });
    expect(preview.branding).toMatchObject({ companyName: 'Child', fromName: 'Parent IT' });
    expect(preview.inherited).toMatchObject({ companyName: NIGHTSHIFT_BRANDING.companyName, fromName: 'Parent IT' });
  });

  it('draws a seasonal draft in place of the owner’s stored seasonal brandings', async () => {
    const t = await fresh();
    await saveBranding(kit.deps(), { owner: tenantOwner(t), id: 'a-xmas', branding: { dateRange: { from: '2026-12-24', to: '2026-12-26' }, fromName: 'Old Xmas' }, expectedVersion: 0, by: BY });
    const preview = await previewEmail(kit.deps(), { kind: 'Detection', tenantId: t, draft: { dateRange: { from: '2026-12-24', to: '2026-12-25' }, fromName: 'New Xmas' } });
    expect(preview.branding.fromName).toBe('New Xmas');
  });

  it('refuses a draft the schema refuses, naming its fields where the request carries it', async () => {
    await fresh();
    const field = await refusal(previewEmail(kit.deps(), { kind: 'Detection', draft: { textColour: 'red' } }));
    expect(field.problems.map((p) => p.field)).toEqual(['branding.textColour']);
    expect(field.entity).toBe('branding');
    expect(field.cause).toBeInstanceOf(ValidationError);
    const whole = await refusal(previewEmail(kit.deps(), { kind: 'Detection', draft: 'not an object' }));
    expect(whole.problems.map((p) => p.field)).toEqual(['branding']);
  });

  it('sends the preview to one address as a test, from the branding’s sender, and counts it', async () => {
    const t = await fresh();
    await saveBranding(kit.deps(), { owner: tenantOwner(t), id: 'default', branding: { fromAddress: 'it@acme.example', fromName: 'Acme IT' }, expectedVersion: 0, by: BY });
    const sent = await sendTestEmail(kit.deps(), { kind: 'FollowUp', tenantId: t, to: 'me@msp.example' });
    expect(sent).toEqual({ messageId: 'msg-1' });
    const [email] = kit.mailer().sent;
    const preview = await previewEmail(kit.deps(), { kind: 'FollowUp', tenantId: t });
    expect(email).toEqual({ from: { address: 'it@acme.example', name: 'Acme IT' }, to: ['me@msp.example'], bcc: [], subject: `[Test] ${preview.subject}`, html: preview.html, text: preview.text, tags: { kind: 'TestFollowUp' } });
    const metrics = kit.deps().metrics;
    expect(metrics instanceof InMemoryMetrics && metrics.total('EmailsSent')).toBe(1);
  });
});

describe('previewing a tenant’s branding over the MSP’s (dynalite, a table of its own)', () => {
  const kit = previewKit();
  const { fresh, view } = kit;

  it('draws a tenant’s branding as its end users get it today, and refuses a tenant that does not exist', async () => {
    const t = await fresh();
    await saveBranding(kit.deps(), { owner: MSP, id: 'default', branding: { companyName: 'MSP' }, expectedVersion: 0, by: BY });
    await saveBranding(kit.deps(), { owner: tenantOwner(t), id: 'default', branding: { fromName: 'Acme IT' }, expectedVersion: 0, by: BY });
    const preview = await previewEmail(kit.deps(), { kind: 'Detection', tenantId: t });
    expect(preview.branding).toMatchObject({ companyName: 'MSP', fromName: 'Acme IT' });
    expect(preview.inherited).toMatchObject({ companyName: 'MSP', fromName: NIGHTSHIFT_BRANDING.fromName });
    expect(view().branding).toEqual(preview.branding);
    await expect(previewEmail(kit.deps(), { kind: 'Detection', tenantId: 't-nowhere' })).rejects.toThrow(new NotFoundError('tenant', 't-nowhere'));
    // a tenant's draft is drawn over the MSP's stored branding
    expect((await previewEmail(kit.deps(), { kind: 'Detection', tenantId: t, draft: { fromName: 'Draft' } })).branding).toMatchObject({ companyName: 'MSP', fromName: 'Draft' });
  });
});
