import { canonicalJson } from '../canonical-json.js';
import { canonicalInstant, CURSOR_NOT_OURS, CURSOR_OF_ANOTHER_QUERY, decodeListCursor, encodeListCursor, isCanonicalInstant, listQueryFingerprint } from '../list-cursor.js';
import { utf8Length } from '../validation.js';
import type { Requester } from './session.js';

/**
 * The kinds of resource whose every change is recorded. For a session, the
 * decisions people take about it (postpone, cancel, run now: an end user's
 * through an email link, an operator's through the API) are recorded; the
 * engine's own steps are in its log. For a run, likewise the operator's hand
 * on it (start by run-now, halt, resume, promote, cancel); its rollout's own
 * promotions and halts are on the run and in its events.
 */
export const AUDITED_RESOURCES = ['Schedule', 'Tenant', 'Computer', 'Software', 'Task', 'Deployment', 'Branding', 'Session', 'Run'] as const;
export type AuditedResource = (typeof AUDITED_RESOURCES)[number];

export type AuditAction =
  | 'Created'
  | 'Updated'
  | 'Enabled'
  | 'Disabled'
  | 'Deleted'
  | 'Postponed'
  | 'Cancelled'
  | 'MovedToNow'
  | 'Started'
  | 'Halted'
  | 'Resumed'
  | 'Promoted';

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

/** A page of changes: a tenant's (or every tenant's), newest first; or one resource's, oldest first. */
export interface AuditPage {
  readonly items: readonly AuditEntry[];
  /** Present while more may follow. */
  readonly nextCursor?: string;
}

/**
 * An entry is one item, and an item holds at most 400 KB: a change to a
 * catalog entry near its own 350 KB limit would not fit with both its before
 * and after. The largest values give way first, to a note of their size: the
 * fields that changed are always named, and every value that fits is kept.
 */
export const MAX_AUDIT_CHANGE_BYTES = 256 * 1024;

const jsonBytes = (value: unknown): number => (value === undefined ? 0 : utf8Length(JSON.stringify(value)));

/** `changes` with the largest values replaced by a note until the whole fits in `maxBytes` of JSON. */
export function fitChanges(changes: readonly FieldChange[], maxBytes = MAX_AUDIT_CHANGE_BYTES): FieldChange[] {
  const fitted: { field: string; before?: unknown; after?: unknown }[] = changes.map((change) => ({ ...change }));
  const values = fitted
    .flatMap((change) => (['before', 'after'] as const).filter((side) => side in change).map((side) => ({ change, side, bytes: jsonBytes(change[side]) })))
    .sort((a, b) => b.bytes - a.bytes);
  let total = jsonBytes(fitted);
  for (const value of values) {
    if (total <= maxBytes) break;
    const note = `(${Math.ceil(value.bytes / 1024)} KB, too large to keep in the audit trail)`;
    total -= value.bytes - jsonBytes(note);
    value.change[value.side] = note;
  }
  return fitted;
}

/**
 * Where an entry sorts in the per-tenant and all-tenant listings:
 * `<at>#<resource>#<id>#V#<version, 10 digits>`, unique per entry, and by
 * time first, so that newest first is descending key order.
 */
export const auditListingKey = (entry: Pick<AuditEntry, 'at' | 'resource' | 'resourceId' | 'version'>): string =>
  `${canonicalInstant(entry.at)}#${entry.resource}#${entry.resourceId}#V#${String(entry.version).padStart(10, '0')}`;

const AUDIT_POSITION = new RegExp(`^(\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z)#(${AUDITED_RESOURCES.join('|')})#[\\x21-\\x7e]{1,128}#V#\\d{10}$`);

const auditFingerprint = (tenantId: string | undefined): string => listQueryFingerprint({ list: 'audit', tenantId: tenantId ?? null });

/** The cursor of the page after the entry at `position` in the listing of `tenantId` (undefined: every tenant). */
export const encodeAuditCursor = (tenantId: string | undefined, position: string): string =>
  encodeListCursor({ query: auditFingerprint(tenantId), position });

/** Where the page `cursor` asks for starts in the listing of `tenantId`, or the problem with it. */
export function auditCursorPosition(tenantId: string | undefined, cursor: string): { position: string } | { problem: string } {
  const decoded = decodeListCursor(cursor);
  const at = decoded === undefined ? undefined : AUDIT_POSITION.exec(decoded.position)?.[1];
  if (!decoded || decoded.range !== undefined || at === undefined || !isCanonicalInstant(at)) return { problem: CURSOR_NOT_OURS };
  if (decoded.query !== auditFingerprint(tenantId)) return { problem: CURSOR_OF_ANOTHER_QUERY };
  return { position: decoded.position };
}

/** What a page of one resource's changes asks for: `cursor` from the page before, of the same resource. */
export interface AuditPageRequest {
  readonly limit: number;
  readonly cursor?: string;
}

/** A resource's entry key, `V#<version, 10 digits>`: version order is the order the changes were made. */
const RESOURCE_AUDIT_POSITION = /^V#\d{10}$/;

const resourceAuditFingerprint = (resource: AuditedResource, resourceId: string): string => listQueryFingerprint({ list: 'audit-resource', resource, resourceId });

/**
 * The cursor of the page after the entry keyed `position` in one resource's
 * changes. Oldest first, so unlike the newest-first lists the page it opens
 * holds the keys strictly above `position`.
 */
export const encodeResourceAuditCursor = (resource: AuditedResource, resourceId: string, position: string): string =>
  encodeListCursor({ query: resourceAuditFingerprint(resource, resourceId), position });

/** The key after which the page `cursor` asks for starts in the resource's changes, or the problem with it. */
export function resourceAuditCursorPosition(resource: AuditedResource, resourceId: string, cursor: string): { position: string } | { problem: string } {
  const decoded = decodeListCursor(cursor);
  if (!decoded || decoded.range !== undefined || !RESOURCE_AUDIT_POSITION.test(decoded.position)) return { problem: CURSOR_NOT_OURS };
  if (decoded.query !== resourceAuditFingerprint(resource, resourceId)) return { problem: CURSOR_OF_ANOTHER_QUERY };
  return { position: decoded.position };
}
