import type { paths } from '../api/schema.js';

export type AuditedResource = NonNullable<NonNullable<paths['/v1/audit']['get']['parameters']['query']>['resource']>;

/**
 * Every kind of resource the API audits, in the console's order. A record
 * over the API's own enum: a kind the API adds fails to compile here until
 * it is listed (the core's list is not imported: its module brings zod).
 */
const RESOURCE_KINDS: Readonly<Record<AuditedResource, true>> = { Schedule: true, Run: true, Deployment: true, Software: true, Task: true, Computer: true, Tenant: true, Branding: true, Session: true };
export const AUDITED_RESOURCES = Object.keys(RESOURCE_KINDS) as readonly AuditedResource[];

/** The Audit page's filters, as they stand in its URL. */
export interface AuditFilters {
  readonly tenantId?: string;
  readonly resource?: AuditedResource;
  readonly resourceId?: string;
}

const ID = /^[\x21-\x7e]{1,128}$/;
const isResource = (value: unknown): value is AuditedResource => typeof value === 'string' && Object.hasOwn(RESOURCE_KINDS, value);

/** The filters in a URL's search; anything malformed is dropped rather than sent to the API. */
export function auditFiltersFrom(search: Record<string, unknown>): AuditFilters {
  const text = (name: string): string | undefined => {
    const value = search[name];
    return typeof value === 'string' && ID.test(value) ? value : undefined;
  };
  const tenantId = text('tenantId');
  const resourceId = text('resourceId');
  const resource = search.resource;
  return {
    ...(tenantId === undefined ? {} : { tenantId }),
    ...(isResource(resource) ? { resource } : {}),
    ...(resourceId === undefined ? {} : { resourceId }),
  };
}
