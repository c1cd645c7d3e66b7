import { createHash } from 'node:crypto';
import { ValidationError } from '../core/errors.js';
import {
  auditCursorPosition,
  auditListingKey,
  encodeAuditCursor,
  encodeResourceAuditCursor,
  resourceAuditCursorPosition,
  type AuditEntry,
  type AuditedResource,
  type AuditPage,
  type AuditPageRequest,
} from '../core/model/audit.js';
import { NewestFirstMerge, type MergeRead, type MergeReadResult, type MergeSource } from '../core/newest-first-merge.js';
import type { AuditStore } from '../core/ports/audit.port.js';
import { toEntity, type DynamoTable } from './dynamodb-table.js';
import type { IndexName } from './table-definition.js';

/**
 * Keys (the table definition's table has them with every other item):
 *
 * | item  | PK                    | SK                     | index entries                                                          |
 * |-------|-----------------------|------------------------|------------------------------------------------------------------------|
 * | audit | AUDIT#<resource>#<id> | V#<version, 10 digits> | GSI1: AUDIT#TENANT#<tenantId> / <at>#<resource>#<id>#V#<version> (only with a tenant) |
 * |       |                       |                        | GSI2: AUDIT#ALL#<shard of 4> / the same sort key                        |
 *
 * Keyed by the version the change produced: recording a change twice keeps
 * one entry, and a resource's changes page oldest first through its own
 * partition, each page ending at a version. GSI1 answers "every change in
 * this tenant, newest first" from one partition (people make changes, a few
 * a minute, far below what a partition takes); GSI2 answers "every change",
 * spread over 4 shards by a hash of the resource (an import of 2,000
 * computers writes 2,000 entries at once), merged newest first like the
 * session listing.
 */
const auditPk = (resource: AuditedResource, resourceId: string): string => `AUDIT#${resource}#${resourceId}`;
const versionSk = (version: number): string => `V#${String(version).padStart(10, '0')}`;
const tenantPk = (tenantId: string): string => `AUDIT#TENANT#${tenantId}`;
export const AUDIT_SHARD_COUNT = 4;
const allShardPk = (shard: number): string => `AUDIT#ALL#${shard}`;
const shardOf = (resource: AuditedResource, resourceId: string): number =>
  createHash('sha256').update(`${resource}#${resourceId}`).digest().readUInt32BE(0) % AUDIT_SHARD_COUNT;

export class DynamoAuditStore implements AuditStore {
  constructor(private readonly table: DynamoTable) {}

  async record(entry: AuditEntry): Promise<boolean> {
    const listingKey = auditListingKey(entry);
    // a false answer is an entry for this version written before: a retry of this one, or another change that took the version
    return this.table.putIf(
      {
        PK: auditPk(entry.resource, entry.resourceId),
        SK: versionSk(entry.version),
        entity: 'AuditEntry',
        ...(entry.tenantId === undefined ? {} : { GSI1PK: tenantPk(entry.tenantId), GSI1SK: listingKey }),
        GSI2PK: allShardPk(shardOf(entry.resource, entry.resourceId)),
        GSI2SK: listingKey,
        ...entry,
      },
      'attribute_not_exists(PK)',
    );
  }

  list(resource: AuditedResource, resourceId: string, options?: { readonly latest?: number }): Promise<AuditEntry[]>;
  list(resource: AuditedResource, resourceId: string, page: AuditPageRequest): Promise<AuditPage>;
  async list(resource: AuditedResource, resourceId: string, options: { readonly latest?: number } | AuditPageRequest = {}): Promise<AuditEntry[] | AuditPage> {
    if ('limit' in options) return this.resourcePage(resource, resourceId, options);
    const latest = options.latest;
    const items =
      latest === undefined
        ? await this.table.query({ pk: auditPk(resource, resourceId), skPrefix: 'V#' })
        : (await this.table.query({ pk: auditPk(resource, resourceId), skPrefix: 'V#', newestFirst: true, limit: latest })).reverse();
    return items.map((item) => toEntity<AuditEntry>(item));
  }

  /**
   * One Query of the resource's partition after the cursor's version. It asks
   * for one entry more than the page holds, so the last page says it is the
   * last; a page DynamoDB ended at its 1 MB (entries run to ~260 KB) is short,
   * with a cursor after its last entry.
   */
  private async resourcePage(resource: AuditedResource, resourceId: string, page: AuditPageRequest): Promise<AuditPage> {
    let after: string | undefined;
    if (page.cursor !== undefined) {
      const found = resourceAuditCursorPosition(resource, resourceId, page.cursor);
      if ('problem' in found) throw new ValidationError('audit page request', [{ field: 'cursor', problem: found.problem }]);
      after = found.position;
    }
    if (!Number.isInteger(page.limit) || page.limit < 1) throw new ValidationError('audit page request', [{ field: 'limit', problem: 'must be a whole number of at least 1' }]);
    const pk = auditPk(resource, resourceId);
    const found = await this.table.page({ pk, skPrefix: 'V#', limit: page.limit + 1, ...(after === undefined ? {} : { startAfter: { PK: pk, SK: after } }) });
    const items = found.items.slice(0, page.limit).map((item) => toEntity<AuditEntry>(item));
    const last = items.at(-1);
    const more = found.items.length > page.limit || found.lastKey !== undefined;
    return { items, ...(more && last ? { nextCursor: encodeResourceAuditCursor(resource, resourceId, versionSk(last.version)) } : {}) };
  }

  async listByTenant(tenantId: string | undefined, page: { readonly limit: number; readonly cursor?: string }): Promise<AuditPage> {
    let below: string | undefined;
    if (page.cursor !== undefined) {
      const found = auditCursorPosition(tenantId, page.cursor);
      if ('problem' in found) throw new ValidationError('audit page request', [{ field: 'cursor', problem: found.problem }]);
      below = found.position;
    }
    if (!Number.isInteger(page.limit) || page.limit < 1) throw new ValidationError('audit page request', [{ field: 'limit', problem: 'must be a whole number of at least 1' }]);
    const index: IndexName = tenantId === undefined ? 'GSI2' : 'GSI1';
    const sortKey = tenantId === undefined ? 'GSI2SK' : 'GSI1SK';
    const sources: MergeSource[] =
      tenantId === undefined ? Array.from({ length: AUDIT_SHARD_COUNT }, (_, shard) => ({ id: allShardPk(shard) })) : [{ id: tenantPk(tenantId) }];
    const merge = new NewestFirstMerge<AuditEntry>(sources, { limit: page.limit, ...(below === undefined ? {} : { below }) });
    for (let reads = merge.reads(); reads.length > 0; reads = merge.reads()) {
      const results = await Promise.all(reads.map((read) => this.read(index, sortKey, read)));
      reads.forEach((read, position) => {
        const result = results[position];
        if (result) merge.add(read, result);
      });
    }
    const merged = merge.page();
    return { items: merged.items, ...(merged.next === undefined ? {} : { nextCursor: encodeAuditCursor(tenantId, merged.next) }) };
  }

  private async read(index: IndexName, sortKey: string, read: MergeRead): Promise<MergeReadResult<AuditEntry>> {
    const found = await this.table.rangePage({ pk: read.sourceId, index, ...(read.below === undefined ? {} : { below: read.below }), newestFirst: true, limit: read.count });
    const resumeBelow = found.lastKey?.[sortKey];
    return {
      items: found.items.map((item) => ({ key: String(item[sortKey]), value: toEntity<AuditEntry>(item) })),
      ...(typeof resumeBelow === 'string' ? { resumeBelow } : {}),
      evaluated: found.scanned,
    };
  }
}
