import { createRoute, z } from '@hono/zod-openapi';
import { NotFoundError, ValidationError } from '../../core/errors.js';
import { AUDITED_RESOURCES } from '../../core/model/audit.js';
import { entityIdSchema } from '../../core/model/catalog.js';
import { fieldsUnder } from '../errors.js';
import { newRouter } from '../router.js';
import { cursorSchema, json, limitSchema, pageOfSchema, READ_ERROR_RESPONSES, auditEntrySchema } from '../schemas.js';

/**
 * Who changed what, when: per resource (every change, oldest first) or per
 * tenant (newest first, paged). Entries carry the tenant their resource
 * belongs to, so a Viewer reads exactly its tenants' entries; one for a
 * resource it cannot see is answered as no resource at all.
 */


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
      summary: "Changes per resource (`resource` and `resourceId`: all of them, oldest first) or per tenant (newest first, paged)",
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
        const scope = await access.scope();
        const entries = (await deps.audit.list(resource, resourceId)).filter((entry) => scope.all || (entry.tenantId !== undefined && scope.tenantIds.has(entry.tenantId)));
        if (!scope.all && entries.length === 0) throw new NotFoundError(resource.toLowerCase(), resourceId);
        return c.json({ items: entries }, 200);
      }
      if (tenantId !== undefined) await access.requireTenant(tenantId);
      // a Viewer's default is its own tenant: the all-tenant listing is the MSP's
      const listed = tenantId ?? (access.principal.role === 'Viewer' ? access.principal.tenantId : undefined);
      const page = await fieldsUnder('query', () => deps.audit.listByTenant(listed, { limit, ...(cursor === undefined ? {} : { cursor }) }));
      return c.json({ items: [...page.items], ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }) }, 200);
    },
  );
}
