import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../functions/core/model/audit.js';
import type { Branding } from '../../functions/core/model/branding.js';
import { apiHarness, type ApiHarness } from './support.js';

/**
 * Branding through the API over real HTTP to the local server: saved by an
 * Admin with the contrast and date-range rules named by field, read and
 * previewed within the caller's tenants, drawn by the real templates, and a
 * test email that really reaches the local SES mailbox.
 */

let api: ApiHarness;
let acmeSessionId: string;

beforeAll(async () => {
  api = await apiHarness({ http: true });
  acmeSessionId = (await api.runtime.startSession('pc-acme', undefined, { mode: 'DetectionOnly' })).sessionId;
  await api.runtime.waitForSession(acmeSessionId);
}, 60_000);

afterAll(async () => {
  await api.close();
});

const MSP_BRANDING = {
  fromAddress: 'Maintenance@Contoso-IT.example',
  fromName: 'Contoso IT',
  companyName: 'Contoso IT',
  logoUri: 'https://cdn.contoso-it.example/logo.png',
  logoAltText: 'Contoso IT logo',
  tableHeaderColour: '#12355B',
  tableHeaderTextColour: '#ffffff',
  supportEmail: 'help@contoso-it.example',
};

/** A dark red no other branding here uses, so the preview can only carry it from acme's override. */
const ACME_HEADER = '#7a1f1f';

type Refusal = { error: { code: string; message: string; field?: string } };
const items = (body: unknown): Branding[] => (body as { items: Branding[] }).items;

describe('saving the MSP branding and a tenant override', () => {
  it('saves the MSP default, then an acme override that inherits the rest: the preview shows acme colour and the MSP logo (proves the merge the end user gets)', async () => {
    const msp = await api.call('Admin', 'PUT', '/v1/branding/default', { branding: MSP_BRANDING, expectedVersion: 0 });
    expect(msp.status, JSON.stringify(msp.body)).toBe(200);
    expect(msp.body).toMatchObject({ owner: { kind: 'Msp' }, id: 'default', version: 1, fromAddress: 'maintenance@contoso-it.example', tableHeaderColour: '#12355b' });

    const acme = await api.call('Admin', 'PUT', '/v1/tenants/acme/branding/default', { branding: { tableHeaderColour: ACME_HEADER }, expectedVersion: 0 });
    expect(acme.status, JSON.stringify(acme.body)).toBe(200);
    expect(acme.body).toMatchObject({ owner: { kind: 'Tenant', tenantId: 'acme' }, id: 'default', version: 1 });
    expect(acme.body).not.toHaveProperty('logoUri');

    const preview = await api.call('Admin', 'POST', '/v1/branding/preview', { kind: 'Detection', tenantId: 'acme' });
    expect(preview.status, JSON.stringify(preview.body)).toBe(200);
    const { subject, html, text } = preview.body as { subject: string; html: string; text: string };
    expect(subject).toMatch(/^Maintenance on /);
    expect(html.toLowerCase()).toContain(ACME_HEADER);
    expect(html).toContain('Contoso IT logo');
    expect(html).toContain(MSP_BRANDING.logoUri);
    expect(html.toLowerCase()).not.toContain('#12355b');
    expect(text).toContain('Contoso IT');

    // the MSP's own preview keeps its own header colour: the override is acme's only
    const mspPreview = await api.call('Admin', 'POST', '/v1/branding/preview', { kind: 'FollowUp' });
    expect(mspPreview.status).toBe(200);
    expect((mspPreview.body as { html: string }).html.toLowerCase()).toContain('#12355b');

    expect(items((await api.call('Admin', 'GET', '/v1/branding')).body).map((b) => [b.id, b.version])).toEqual([['default', 1]]);
    expect(items((await api.call('Admin', 'GET', '/v1/tenants/acme/branding')).body)).toEqual([acme.body]);
  });

  it('refuses text colours below WCAG AA, counting what the tenant inherits, naming body.branding.<field> (proves nothing unreadable is stored)', async () => {
    const pale = await api.call('Admin', 'PUT', '/v1/tenants/acme-east/branding/default', { branding: { textColour: '#cccccc' }, expectedVersion: 0 });
    expect(pale.status).toBe(400);
    expect(pale.body).toMatchObject({ error: { code: 'VALIDATION_FAILED', field: 'body.branding.textColour' } });
    expect((pale.body as Refusal).error.message).toMatch(/contrast/);

    // only the fill changed: the fill is what the operator has to fix
    const dark = await api.call('Admin', 'PUT', '/v1/tenants/acme-east/branding/default', { branding: { tableHeaderColour: '#eeeeee' }, expectedVersion: 0 });
    expect(dark.body).toMatchObject({ error: { code: 'VALIDATION_FAILED', field: 'body.branding.tableHeaderColour' } });
    expect(items((await api.call('Admin', 'GET', '/v1/tenants/acme-east/branding')).body)).toEqual([]);
  });

  it('refuses a javascript: logo, a seasonal branding without dates and a default with dates, each by field (proves the schema and the season rules)', async () => {
    const script = await api.call('Admin', 'PUT', '/v1/branding/default', { branding: { ...MSP_BRANDING, logoUri: 'javascript:alert(1)' }, expectedVersion: 1 });
    expect(script).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED', field: 'body.branding.logoUri' } } });

    const undated = await api.call('Admin', 'PUT', '/v1/branding/winter', { branding: { backgroundColour: '#dde8f0' }, expectedVersion: 0 });
    expect(undated).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED', field: 'body.branding.dateRange' } } });
    const datedDefault = await api.call('Admin', 'PUT', '/v1/branding/default', { branding: { ...MSP_BRANDING, dateRange: { from: '2026-12-01', to: '2026-12-31' } }, expectedVersion: 1 });
    expect(datedDefault).toMatchObject({ status: 400, body: { error: { field: 'body.branding.dateRange' } } });
    const badId = await api.call('Admin', 'PUT', '/v1/branding/Winter%20Sale', { branding: {}, expectedVersion: 0 });
    expect(badId).toMatchObject({ status: 400, body: { error: { field: 'path.brandingId' } } });

    const seasonal = await api.call('Admin', 'PUT', '/v1/branding/winter', { branding: { backgroundColour: '#dde8f0', dateRange: { from: '2026-12-01', to: '2027-01-06' } }, expectedVersion: 0 });
    expect(seasonal).toMatchObject({ status: 200, body: { id: 'winter', dateRange: { from: '2026-12-01', to: '2027-01-06' } } });
    expect(await api.call('Admin', 'DELETE', '/v1/branding/winter?expectedVersion=1')).toEqual({ status: 200, body: { deleted: 'winter' } });
  });

  it('refuses a stale version and a create over an existing branding with 409, and deletes at its version (proves no lost update)', async () => {
    const stale = await api.call('Admin', 'PUT', '/v1/tenants/acme/branding/default', { branding: { tableHeaderColour: '#123456' }, expectedVersion: 0 });
    expect(stale).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT' } } });
    expect((await api.call('Admin', 'DELETE', '/v1/tenants/globex/branding/default?expectedVersion=1')).status).toBe(404);

    const globex = await api.call('Admin', 'PUT', '/v1/tenants/globex/branding/default', { branding: { companyName: 'Globex IT' }, expectedVersion: 0 });
    expect(globex.status).toBe(200);
    expect((await api.call('Admin', 'DELETE', '/v1/tenants/globex/branding/default?expectedVersion=7')).status).toBe(409);
    expect(await api.call('Admin', 'DELETE', '/v1/tenants/globex/branding/default?expectedVersion=1')).toEqual({ status: 200, body: { deleted: 'default' } });
    expect(items((await api.call('Admin', 'GET', '/v1/tenants/globex/branding')).body)).toEqual([]);
    expect((await api.call('Admin', 'GET', '/v1/tenants/nowhere/branding')).status).toBe(404);
  });

  it('records every change in the audit trail with the token person, per owner (proves branding changes are audited)', async () => {
    const msp = await api.call('Admin', 'GET', `/v1/audit?resource=Branding&resourceId=${encodeURIComponent('msp/default')}`);
    expect(msp.status).toBe(200);
    expect((msp.body as { items: AuditEntry[] }).items.map((entry) => [entry.action, entry.version, entry.by.name])).toEqual([['Created', 1, 'admin@nightshift.local']]);
    const globex = await api.call('Admin', 'GET', `/v1/audit?resource=Branding&resourceId=${encodeURIComponent('tenant/globex/default')}`);
    expect((globex.body as { items: AuditEntry[] }).items.map((entry) => [entry.action, entry.tenantId])).toEqual([
      ['Created', 'globex'],
      ['Deleted', 'globex'],
    ]);
    // acme's viewer reads acme's branding trail, not the MSP's
    expect((await api.call('ViewerAcme', 'GET', `/v1/audit?resource=Branding&resourceId=${encodeURIComponent('tenant/acme/default')}`)).status).toBe(200);
    expect((await api.call('ViewerAcme', 'GET', `/v1/audit?resource=Branding&resourceId=${encodeURIComponent('msp/default')}`)).status).toBe(404);
  });
});

describe('who may do what with branding', () => {
  it('lets only an Admin change branding: a Technician and a Viewer are told 403 (proves issue 12: no branding changes for technicians)', async () => {
    for (const caller of ['Technician', 'ViewerAcme'] as const) {
      const put = await api.call(caller, 'PUT', '/v1/tenants/acme/branding/default', { branding: { tableHeaderColour: '#123456' }, expectedVersion: 1 });
      expect(put, caller).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
      expect((await api.call(caller, 'DELETE', '/v1/branding/default?expectedVersion=1')).status, caller).toBe(403);
    }
    expect((await api.call('Technician', 'GET', '/v1/branding')).status).toBe(200);
    expect((await api.call('Technician', 'POST', '/v1/branding/preview', { kind: 'Postponed', tenantId: 'globex' })).status).toBe(200);
  });

  it("shows a Viewer its tenants' branding and previews, and nothing of another tenant's or the MSP's (proves 404 outside the tenant tree)", async () => {
    expect((await api.call('ViewerAcme', 'GET', '/v1/tenants/acme/branding')).status).toBe(200);
    expect((await api.call('ViewerAcme', 'GET', '/v1/tenants/acme-east/branding')).status).toBe(200);
    expect(await api.call('ViewerGlobex', 'GET', '/v1/tenants/acme/branding')).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    expect((await api.call('ViewerEast', 'GET', '/v1/tenants/acme/branding')).status).toBe(404);
    expect((await api.call('ViewerAcme', 'GET', '/v1/branding')).status).toBe(404);

    expect((await api.call('ViewerAcme', 'POST', '/v1/branding/preview', { kind: 'Detection', tenantId: 'acme' })).status).toBe(200);
    expect((await api.call('ViewerGlobex', 'POST', '/v1/branding/preview', { kind: 'Detection', tenantId: 'acme' })).status).toBe(404);
    expect((await api.call('ViewerAcme', 'POST', '/v1/branding/preview', { kind: 'Detection' })).status).toBe(404);
  });

  it("previews a real session in its tenant's branding for whoever sees the session, and as missing for a Viewer of another tenant (proves the session routes' visibility)", async () => {
    const own = await api.call('ViewerAcme', 'POST', '/v1/branding/preview', { kind: 'FollowUp', sessionId: acmeSessionId });
    expect(own.status, JSON.stringify(own.body)).toBe(200);
    expect((own.body as { html: string }).html.toLowerCase()).toContain(ACME_HEADER);
    expect((own.body as { text: string }).text).toContain('pc-acme');

    const foreign = await api.call('ViewerGlobex', 'POST', '/v1/branding/preview', { kind: 'FollowUp', sessionId: acmeSessionId });
    const missing = await api.call('ViewerGlobex', 'POST', '/v1/branding/preview', { kind: 'FollowUp', sessionId: 'ses_missing' });
    expect(foreign).toEqual({ status: 404, body: { error: { code: 'NOT_FOUND', message: `session ${acmeSessionId} does not exist` } } });
    expect(missing.status).toBe(404);
    // a session named with another tenant is not that tenant's session
    expect((await api.call('Admin', 'POST', '/v1/branding/preview', { kind: 'FollowUp', sessionId: acmeSessionId, tenantId: 'globex' })).status).toBe(404);
    expect(await api.call('Admin', 'POST', '/v1/branding/preview', { kind: 'Reminder' })).toMatchObject({ status: 400, body: { error: { field: 'body.kind' } } });
  });
});

describe('sending a test email', () => {
  it('delivers the branded preview to the one address, marked [Test], through the local SES; a Viewer may not send one (proves the mail really goes out)', async () => {
    const sent = await api.call('Technician', 'POST', '/v1/branding/test-email', { kind: 'Detection', tenantId: 'acme', to: 'tech@contoso-it.example' });
    expect(sent.status, JSON.stringify(sent.body)).toBe(200);
    const { messageId } = sent.body as { messageId: string };
    expect(messageId).toBeTruthy();

    const mail = (await api.runtime.mailbox.messages()).find((message) => message.messageId === messageId);
    expect(mail).toBeDefined();
    expect(mail?.destination.to).toEqual(['tech@contoso-it.example']);
    expect(mail?.subject).toMatch(/^\[Test\] Maintenance on /);
    expect(mail?.from).toContain('maintenance@contoso-it.example');
    expect(mail?.body.html?.toLowerCase()).toContain(ACME_HEADER);
    expect(mail?.body.text).toContain('Contoso IT');

    expect(await api.call('ViewerAcme', 'POST', '/v1/branding/test-email', { kind: 'Detection', tenantId: 'acme', to: 'viewer@acme.example' })).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    expect(await api.call('Admin', 'POST', '/v1/branding/test-email', { kind: 'Detection', to: 'not an address' })).toMatchObject({ status: 400, body: { error: { field: 'body.to' } } });
  });
});

type Preview = { subject: string; html: string; text: string; inherited: Record<string, string | undefined>; problems: { field: string; problem: string }[] };

describe('previewing an unsaved branding (what the console draws while an operator types)', () => {
  it("draws a tenant's draft over what it inherits, says what that is, and stores nothing (proves the preview is the save's merge, without the save)", async () => {
    const before = items((await api.call('Admin', 'GET', '/v1/tenants/acme/branding')).body);
    const draft = await api.call('Admin', 'POST', '/v1/branding/preview', { kind: 'Detection', tenantId: 'acme', branding: { tableHeaderColour: '#0B3D2E', companyName: 'Acme Helpdesk' } });
    expect(draft.status, JSON.stringify(draft.body)).toBe(200);
    const { html, text, inherited, problems } = draft.body as Preview;
    expect(html.toLowerCase()).toContain('#0b3d2e');
    // the draft replaces acme's stored override: its header colour is gone, the MSP's logo still comes through
    expect(html.toLowerCase()).not.toContain(ACME_HEADER);
    expect(html).toContain(MSP_BRANDING.logoUri);
    expect(text).toContain('Acme Helpdesk');
    // what acme falls back to is the MSP's, not acme's own stored override
    expect(inherited).toMatchObject({ companyName: 'Contoso IT', tableHeaderColour: '#12355b', logoUri: MSP_BRANDING.logoUri, textColour: '#1d1d1f' });
    expect(problems).toEqual([]);
    expect(items((await api.call('Admin', 'GET', '/v1/tenants/acme/branding')).body)).toEqual(before);
  });

  it("answers a draft's contrast problems with the field a save refuses, and refuses a draft the schema refuses (proves the console can show both before saving)", async () => {
    const pale = await api.call('Admin', 'POST', '/v1/branding/preview', { kind: 'FollowUp', tenantId: 'acme-east', branding: { textColour: '#cccccc' } });
    expect(pale.status, JSON.stringify(pale.body)).toBe(200);
    const { problems, html } = pale.body as Preview;
    expect(problems.map((problem) => problem.field)).toEqual(['body.branding.textColour', 'body.branding.textColour']);
    expect(problems[0]?.problem).toMatch(/contrast of 1\.\d\d:1; WCAG AA needs at least 4\.5:1/);
    expect(html.toLowerCase()).toContain('#cccccc');
    const saved = await api.call('Admin', 'PUT', '/v1/tenants/acme-east/branding/default', { branding: { textColour: '#cccccc' }, expectedVersion: 0 });
    expect(saved.body).toMatchObject({ error: { field: problems[0]?.field } });

    expect(await api.call('Admin', 'POST', '/v1/branding/preview', { kind: 'Detection', branding: { logoUri: 'javascript:alert(1)' } })).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED', field: 'body.branding.logoUri' } } });
    expect(await api.call('Admin', 'POST', '/v1/branding/preview', { kind: 'Detection', branding: { headerColour: '#000000' } })).toMatchObject({ status: 400, body: { error: { field: 'body.branding.headerColour' } } });
  });

  it("draws a seasonal draft on its first day over the owner's default, and an MSP draft under a tenant's own override on its real session (proves each owner's place in the merge)", async () => {
    const winter = await api.call('Admin', 'POST', '/v1/branding/preview', { kind: 'Detection', branding: { backgroundColour: '#dde8f0', dateRange: { from: '2026-12-01', to: '2027-01-06' } } });
    expect(winter.status, JSON.stringify(winter.body)).toBe(200);
    const seasonal = winter.body as Preview;
    expect(seasonal.html.toLowerCase()).toContain('#dde8f0');
    expect(seasonal.html.toLowerCase()).toContain('#12355b');
    // a seasonal branding inherits its owner's default
    expect(seasonal.inherited).toMatchObject({ companyName: 'Contoso IT', backgroundColour: '#f4f5f7' });

    const mspDraft = await api.call('Admin', 'POST', '/v1/branding/preview', { kind: 'FollowUp', sessionId: acmeSessionId, branding: { companyName: 'Contoso Managed IT', tableHeaderColour: '#202020' } });
    expect(mspDraft.status, JSON.stringify(mspDraft.body)).toBe(200);
    const onSession = mspDraft.body as Preview;
    expect(onSession.text).toContain('Contoso Managed IT');
    // acme's stored header colour still wins over the MSP's draft on acme's session
    expect(onSession.html.toLowerCase()).toContain(ACME_HEADER);
    expect(onSession.html.toLowerCase()).not.toContain('#202020');
    // the MSP inherits only Nightshift's plain look
    expect(onSession.inherited).toMatchObject({ companyName: 'Your IT team', tableHeaderColour: '#1f3a5f' });
  });

  it("tells a Viewer what its tenant inherits but not the MSP's BCC address (proves the preview leaks nothing the MSP routes hide)", async () => {
    expect((await api.call('Admin', 'PUT', '/v1/branding/default', { branding: { ...MSP_BRANDING, bccAddress: 'records@contoso-it.example' }, expectedVersion: 1 })).status).toBe(200);
    const admin = await api.call('Admin', 'POST', '/v1/branding/preview', { kind: 'Detection', tenantId: 'acme' });
    expect((admin.body as Preview).inherited).toMatchObject({ bccAddress: 'records@contoso-it.example', supportEmail: MSP_BRANDING.supportEmail });
    const viewer = await api.call('ViewerAcme', 'POST', '/v1/branding/preview', { kind: 'Detection', tenantId: 'acme', branding: { companyName: 'Acme IT' } });
    expect(viewer.status, JSON.stringify(viewer.body)).toBe(200);
    expect((viewer.body as Preview).inherited).toMatchObject({ companyName: 'Contoso IT', supportEmail: MSP_BRANDING.supportEmail });
    expect((viewer.body as Preview).inherited).not.toHaveProperty('bccAddress');
  });

  it('sends a test of the unsaved draft, stored nowhere (proves the test email is what the editor shows)', async () => {
    const sent = await api.call('Admin', 'POST', '/v1/branding/test-email', { kind: 'Postponed', tenantId: 'globex', to: 'admin@contoso-it.example', branding: { tableHeaderColour: '#3b1f5f', fromName: 'Globex Desk' } });
    expect(sent.status, JSON.stringify(sent.body)).toBe(200);
    const mail = (await api.runtime.mailbox.messages()).find((message) => message.messageId === (sent.body as { messageId: string }).messageId);
    expect(mail?.body.html?.toLowerCase()).toContain('#3b1f5f');
    expect(mail?.from).toContain('Globex Desk');
    expect(items((await api.call('Admin', 'GET', '/v1/tenants/globex/branding')).body)).toEqual([]);
  });
});
