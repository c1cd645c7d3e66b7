import type { AuditEntry, AuditedResource } from '../model/audit.js';

/** The append-only record of changes. */
export interface AuditStore {
  /** Records the entry once: an entry for the same resource and version that exists already is left as it is. */
  record(entry: AuditEntry): Promise<void>;
  /** A resource's changes, oldest first. */
  list(resource: AuditedResource, resourceId: string): Promise<AuditEntry[]>;
}
