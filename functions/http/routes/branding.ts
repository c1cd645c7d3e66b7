import { createRoute, z } from '@hono/zod-openapi';
import { NotFoundError } from '../../core/errors.js';
import { brandingFieldsSchema, type BrandingFields, type BrandingOwner, type ResolvedBranding } from '../../core/model/branding.js';
import type { Dependencies } from '../../core/use-cases/dependencies.js';
import { deleteBranding, listBrandings, previewEmail, saveBranding, sendTestEmail, type BrandingPreview, type PreviewRequest } from '../../core/use-cases/manage-branding.js';
import { requires, type RequestAccess } from '../access.js';
import { fieldIn, fieldsUnder } from '../errors.js';
import { newRouter } from '../router.js';
import {
  brandingIdParams,
  brandingInputRef,
  brandingPreviewBodySchema,
  brandingRef,
  brandingSaveBodySchema,
  brandingTestEmailBodySchema,
  ERROR_RESPONSES,
  idParams,
  json,
  jsonBody,
  READ_ERROR_RESPONSES,
  renderedEmailSchema,
  tenantBrandingParams,
  versionSchema,
} from '../schemas.js';

/**
 * What the end user's emails and link pages look like: the MSP's branding and
 * each tenant's override, through the manage-branding use cases (versioned,
 * contrast-checked, audited). Only an Admin changes branding; a Technician
 * reads, previews and sends a test to itself; a Viewer reads and previews its
 * own tenants' only. The MSP's own branding spans every tenant, so, like
 * every resource of the MSP's, it does not exist for a Viewer.
 */

const MSP: BrandingOwner = { kind: 'Msp' };
const tenantOwner = (tenantId: string): BrandingOwner => ({ kind: 'Tenant', tenantId });

const listSchema = z.object({ items: z.array(brandingRef) });
const deleteQuery = z.object({ expectedVersion: versionSchema.meta({ description: 'The version the deletion was decided on' }) }).strict();
const deletedSchema = z.object({ deleted: z.string() });
const sentSchema = z.object({ messageId: z.string().meta({ description: "The mail service's id of the test email" }) });

const draftField = {
  branding: brandingInputRef.optional().meta({
    description:
      "An unsaved branding of whoever `tenantId` names (absent: the MSP), drawn in place of its stored one: its default, or, with a `dateRange`, a seasonal one on its first day. Checked as a save checks it; its contrast problems are answered in `problems`, not refused",
  }),
};
const previewBodySchema = brandingPreviewBodySchema.extend(draftField);
const testEmailBodySchema = brandingTestEmailBodySchema.extend(draftField);

const FIELD_NAMES = Object.keys(brandingFieldsSchema.shape) as (keyof BrandingFields)[];
const inheritedSchema = z
  .object(Object.fromEntries(FIELD_NAMES.map((name) => [name, z.string().optional()])) as Record<keyof BrandingFields, z.ZodOptional<z.ZodString>>)
  .meta({
    id: 'InheritedBranding',
    description: "What the branding's owner falls back to for each field it leaves out: Nightshift's plain look under the MSP's branding and any parent tenants' (and, for a seasonal one, under the owner's own default)",
  });
const previewSchema = renderedEmailSchema
  .extend({
    inherited: inheritedSchema,
    problems: z
      .array(z.object({ field: z.string().meta({ description: 'The field as a save names it: `body.branding.<field>`' }), problem: z.string() }))
      .meta({ description: "The draft's text colours below WCAG AA: a save of it would be refused with these; empty without a draft" }),
  })
  .meta({ id: 'BrandingPreview' });

/** The owner a route names, refused as not found when the caller cannot see it. */
async function visibleOwner(access: RequestAccess, tenantId: string | undefined): Promise<BrandingOwner> {
  if (tenantId !== undefined) {
    await access.requireTenant(tenantId);
    return tenantOwner(tenantId);
  }
  if (!(await access.sees(undefined))) throw new NotFoundError('branding', 'of the MSP');
  return MSP;
}

/**
 * What a preview or test draws, checked as the session routes check: a
 * session in a tenant the caller cannot see is not found, and so is a tenant
 * outside its scope; neither named means the MSP's branding.
 */
async function visiblePreview(deps: Dependencies, access: RequestAccess, request: PreviewRequest): Promise<PreviewRequest> {
  const { sessionId, tenantId } = request;
  if (sessionId !== undefined) await access.requireVisible('session', sessionId, () => deps.sessions.getSession(sessionId));
  if (tenantId !== undefined) await access.requireTenant(tenantId);
  if (sessionId === undefined && tenantId === undefined) await visibleOwner(access, undefined);
  return request;
}

const previewRequest = (body: { kind: PreviewRequest['kind']; tenantId?: string | undefined; sessionId?: string | undefined; branding?: unknown }): PreviewRequest => ({
  kind: body.kind,
  ...(body.tenantId === undefined ? {} : { tenantId: body.tenantId }),
  ...(body.sessionId === undefined ? {} : { sessionId: body.sessionId }),
  ...(body.branding === undefined ? {} : { draft: body.branding }),
});

/**
 * The preview as answered: the MSP's BCC address is the MSP's own business,
 * so a caller who cannot see the MSP (a Viewer) is not told the one it inherits.
 */
async function previewAnswer(access: RequestAccess, preview: BrandingPreview) {
  const { bccAddress, ...visible }: ResolvedBranding = preview.inherited;
  const inherited = bccAddress !== undefined && (await access.sees(undefined)) ? { ...visible, bccAddress } : visible;
  const problems = preview.problems.map(({ field, problem }) => ({ field: fieldIn('body.branding', field), problem }));
  return { subject: preview.subject, html: preview.html, text: preview.text, inherited, problems };
}

const saveRoute = <P extends string, R extends typeof brandingIdParams | typeof tenantBrandingParams>(path: P, params: R, summary: string) =>
  createRoute({
    method: 'put',
    path,
    tags: ['Branding'],
    summary,
    middleware: [requires('editBranding')],
    request: { params, body: jsonBody(brandingSaveBodySchema) },
    responses: { 200: json('The branding as stored', brandingRef), ...ERROR_RESPONSES },
  });

const deleteRoute = <P extends string, R extends typeof brandingIdParams | typeof tenantBrandingParams>(path: P, params: R, summary: string) =>
  createRoute({
    method: 'delete',
    path,
    tags: ['Branding'],
    summary,
    middleware: [requires('editBranding')],
    request: { params, query: deleteQuery },
    responses: { 200: json('What was deleted', deletedSchema), ...ERROR_RESPONSES },
  });

export function brandingRoutes() {
  return newRouter()
    .openapi(
      createRoute({
        method: 'get',
        path: '/branding',
        tags: ['Branding'],
        summary: "The MSP's brandings: its default and any seasonal ones",
        responses: { 200: json('Every branding of the MSP', listSchema), ...READ_ERROR_RESPONSES },
      }),
      async (c) => {
        const { deps, access } = c.var;
        return c.json({ items: await listBrandings(deps, await visibleOwner(access, undefined)) }, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/tenants/{tenantId}/branding',
        tags: ['Branding'],
        summary: "A tenant's brandings: what it changes over the MSP's",
        request: { params: idParams('tenantId') },
        responses: { 200: json('Every branding of the tenant', listSchema), ...READ_ERROR_RESPONSES },
      }),
      async (c) => {
        const { tenantId } = c.req.valid('param');
        const { deps, access } = c.var;
        return c.json({ items: await listBrandings(deps, await visibleOwner(access, tenantId)) }, 200);
      },
    )
    .openapi(saveRoute('/branding/{brandingId}', brandingIdParams, "Create or replace one of the MSP's brandings (`default`, or a seasonal one with a date range)"), async (c) => {
      const { brandingId } = c.req.valid('param');
      const { branding, expectedVersion } = c.req.valid('json');
      const { deps, access } = c.var;
      const saved = await fieldsUnder('body.branding', () => saveBranding(deps, { owner: MSP, id: brandingId, branding, expectedVersion, by: access.by }));
      return c.json(saved, 200);
    })
    .openapi(saveRoute('/tenants/{tenantId}/branding/{brandingId}', tenantBrandingParams, "Create or replace one of a tenant's brandings: only the fields it changes over the MSP's"), async (c) => {
      const { tenantId, brandingId } = c.req.valid('param');
      const { branding, expectedVersion } = c.req.valid('json');
      const { deps, access } = c.var;
      const owner = await visibleOwner(access, tenantId);
      const saved = await fieldsUnder('body.branding', () => saveBranding(deps, { owner, id: brandingId, branding, expectedVersion, by: access.by }));
      return c.json(saved, 200);
    })
    .openapi(deleteRoute('/branding/{brandingId}', brandingIdParams, "Delete one of the MSP's brandings (Nightshift's plain look fills in)"), async (c) => {
      const { brandingId } = c.req.valid('param');
      const { expectedVersion } = c.req.valid('query');
      const { deps, access } = c.var;
      await deleteBranding(deps, { owner: MSP, id: brandingId, expectedVersion, by: access.by });
      return c.json({ deleted: brandingId }, 200);
    })
    .openapi(deleteRoute('/tenants/{tenantId}/branding/{brandingId}', tenantBrandingParams, "Delete one of a tenant's brandings (the MSP's applies again)"), async (c) => {
      const { tenantId, brandingId } = c.req.valid('param');
      const { expectedVersion } = c.req.valid('query');
      const { deps, access } = c.var;
      const owner = await visibleOwner(access, tenantId);
      await deleteBranding(deps, { owner, id: brandingId, expectedVersion, by: access.by });
      return c.json({ deleted: brandingId }, 200);
    })
    .openapi(
      createRoute({
        method: 'post',
        path: '/branding/preview',
        tags: ['Branding'],
        summary: 'Draw an email as the end user would get it today, or with an unsaved branding, with a sample or a real session (its buttons go nowhere)',
        request: { body: jsonBody(previewBodySchema) },
        responses: { 200: json('The email (subject, HTML and text), what its branding owner inherits, and what a save of the draft would be refused for', previewSchema), ...ERROR_RESPONSES },
      }),
      async (c) => {
        const { deps, access } = c.var;
        const request = await visiblePreview(deps, access, previewRequest(c.req.valid('json')));
        const preview = await fieldsUnder('body', () => previewEmail(deps, request));
        return c.json(await previewAnswer(access, preview), 200);
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/branding/test-email',
        tags: ['Branding'],
        summary: 'Send the preview (with an unsaved branding, if given) to one address, its subject marked [Test]',
        middleware: [requires('operate')],
        request: { body: jsonBody(testEmailBodySchema) },
        responses: { 200: json('Handed to the mail service', sentSchema), ...ERROR_RESPONSES },
      }),
      async (c) => {
        const { to, ...body } = c.req.valid('json');
        const { deps, access } = c.var;
        const request = await visiblePreview(deps, access, previewRequest(body));
        const sent = await fieldsUnder('body', () => sendTestEmail(deps, { ...request, to }));
        return c.json({ messageId: sent.messageId }, 200);
      },
    );
}
