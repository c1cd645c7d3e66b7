import type { AuditEntry, AuditedResource, AuditPage, AuditPageRequest } from '../model/audit.js';

/** The append-only record of changes. */
export interface AuditStore {
  /**
   * Records the entry once: an entry for the same resource and version that
   * exists already is left as it is. True when this call wrote it; false when
   * that version was there already (a retry, or a concurrent change that took
   * the version first: the caller tells which by reading it).
   */
  record(entry: AuditEntry): Promise<boolean>;
  /**
   * A resource's changes, oldest first: every one, or with `latest` only that
   * many of the most recent (a save needs the last one, not the history).
   */
  list(resource: AuditedResource, resourceId: string, options?: { readonly latest?: number }): Promise<AuditEntry[]>;
  /**
   * One page of a resource's changes, oldest first: what a reader that shows
   * them pages through. `cursor` comes from the page before, of the same
   * resource; anything else is a `ValidationError` naming `cursor`, raised
   * before the table is read.
   */
  list(resource: AuditedResource, resourceId: string, page: AuditPageRequest): Promise<AuditPage>;
  /**
   * One page of a tenant's changes (`undefined`: every change, of every
   * tenant and of none), newest first. `cursor` comes from the page before,
   * of the same tenant; anything else is a `ValidationError` naming `cursor`,
   * raised before the table is read.
   */
  listByTenant(tenantId: string | undefined, page: { readonly limit: number; readonly cursor?: string }): Promise<AuditPage>;
}
