import { canonicalJson } from '../canonical-json.js';
import type { Requester } from './session.js';

/** The kinds of resource whose every change is recorded. */
export type AuditedResource = 'Schedule';

export type AuditAction = 'Created' | 'Updated' | 'Enabled' | 'Disabled' | 'Deleted';

/** One field that changed: its value before and after (absent when the field was absent). */
export interface FieldChange {
  readonly field: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

/**
 * One change to one resource: who, when, what. Keyed by the resource's
 * version after the change, so recording it twice (a retry) keeps one entry.
 */
export interface AuditEntry {
  readonly resource: AuditedResource;
  readonly resourceId: string;
  /** The tenant the resource belongs to; absent for one that spans every tenant. */
  readonly tenantId?: string;
  /** The resource's version this change produced (a deletion: the version it deleted, plus one). */
  readonly version: number;
  readonly at: string;
  readonly by: Requester;
  readonly action: AuditAction;
  readonly changes: readonly FieldChange[];
}

// DynamoDB does not keep a map's key order: a value read back must compare equal to the one written
const same = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);

/**
 * The top-level fields that differ between two versions of a resource,
 * sorted by name; bookkeeping fields (`version`, `updatedAt`, …) are not
 * changes anyone made. Nested values are compared and shown whole.
 */
export function fieldChanges<T extends object>(before: T | undefined, after: T | undefined, ignore: readonly string[] = []): FieldChange[] {
  const b = (before ?? {}) as Record<string, unknown>;
  const a = (after ?? {}) as Record<string, unknown>;
  const fields = [...new Set([...Object.keys(b), ...Object.keys(a)])].filter((field) => !ignore.includes(field)).sort();
  return fields
    .filter((field) => !same(b[field], a[field]))
    .map((field) => ({ field, ...(b[field] === undefined ? {} : { before: b[field] }), ...(a[field] === undefined ? {} : { after: a[field] }) }));
}
