import { createRoute, z } from '@hono/zod-openapi';
import { inScope } from '../../core/access/policy.js';
import { NotFoundError, ValidationError } from '../../core/errors.js';
import { AUDITED_RESOURCES, type AuditedResource, type AuditPage, type AuditPageRequest } from '../../core/model/audit.js';
import { entityIdSchema } from '../../core/model/catalog.js';
import type { Dependencies } from '../../core/use-cases/dependencies.js';
import type { RequestAccess } from '../access.js';
import { fieldsUnder } from '../errors.js';
import { newRouter } from '../router.js';
import { cursorSchema, json, limitSchema, pageOfSchema, READ_ERROR_RESPONSES, auditEntrySchema } from '../schemas.js';

/**
 * Who changed what, when: per resource (oldest first) or per tenant (newest
 * first), both paged. Entries carry the tenant their resource belonged to
 * when each was written, so a Viewer reads exactly its tenants' entries; one
 * for a resource it cannot see is answered as no resource at all.
 */

/**
 * A page of one resource's changes, oldest first, keeping the entries whose
 * tenant the caller sees: a resource that moved tenants shows each side its
 * own changes. A page holds at most `limit` entries and may hold fewer; one
 * with none visible is skipped (the next is read in its place), so an empty
 * page is the last. A first page with nothing visible is a 404 unless
 * `seesResourceNow` (a resource the caller sees, with no change of its own
 * yet); a later page is never a 404, whatever its cursor names, so a cursor
 * tells nothing of a resource the caller cannot see.
 */
export async function visibleResourceChanges(
  vars: { readonly deps: Pick<Dependencies, 'audit'>; readonly access: RequestAccess },
  resource: AuditedResource,
  resourceId: string,
  page: AuditPageRequest,
  seesResourceNow: () => Promise<boolean>,
): Promise<AuditPage> {
  const scope = await vars.access.scope();
  let cursor = page.cursor;
  for (;;) {
    const request = { limit: page.limit, ...(cursor === undefined ? {} : { cursor }) };
    const found = await fieldsUnder('query', () => vars.deps.audit.list(resource, resourceId, request));
    const items = found.items.filter((entry) => inScope(scope, entry.tenantId));
    if (items.length === 0 && found.nextCursor !== undefined) {
      cursor = found.nextCursor;
      continue;
    }
    if (items.length === 0 && page.cursor === undefined && !scope.all && !(await seesResourceNow())) throw new NotFoundError(resource.toLowerCase(), resourceId);
    return { items, ...(found.nextCursor === undefined ? {} : { nextCursor: found.nextCursor }) };
  }
}

const auditQuery = z
  .object({
    tenantId: entityIdSchema.optional().meta({ description: "One tenant's changes; default: every tenant the caller sees (a Viewer: its own tenant's)" }),
    resource: z.enum(AUDITED_RESOURCES).optional(),
    resourceId: z.string().min(1).max(128).optional(),
    limit: limitSchema,
    cursor: cursorSchema,
  })
  .strict();

export function auditRoutes() {
  return newRouter().openapi(
    createRoute({
      method: 'get',
      path: '/audit',
      tags: ['Audit'],
      summary: 'Changes per resource (`resource` and `resourceId`: oldest first) or per tenant (newest first), paged',
      request: { query: auditQuery },
      responses: { 200: json('Audit entries', pageOfSchema(auditEntrySchema)), ...READ_ERROR_RESPONSES },
    }),
    async (c) => {
      const { tenantId, resource, resourceId, limit, cursor } = c.req.valid('query');
      const { deps, access } = c.var;
      if (resource !== undefined || resourceId !== undefined) {
        if (resource === undefined || resourceId === undefined) {
          throw new ValidationError('request', [{ field: resource === undefined ? 'query.resource' : 'query.resourceId', problem: 'is required with the other (a resource is named by both)' }]);
        }
        // a resource is seen through its changes: none visible is no resource
        const page = await visibleResourceChanges(c.var, resource, resourceId, { limit, ...(cursor === undefined ? {} : { cursor }) }, () => Promise.resolve(false));
        return c.json({ items: [...page.items], ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }) }, 200);
      }
      if (tenantId !== undefined) await access.requireTenant(tenantId);
      // a Viewer's default is its own tenant: the all-tenant listing is the MSP's
      const listed = tenantId ?? (access.principal.role === 'Viewer' ? access.principal.tenantId : undefined);
      const page = await fieldsUnder('query', () => deps.audit.listByTenant(listed, { limit, ...(cursor === undefined ? {} : { cursor }) }));
      return c.json({ items: [...page.items], ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }) }, 200);
    },
  );
}
