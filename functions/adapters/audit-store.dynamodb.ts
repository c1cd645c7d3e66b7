import type { AuditEntry, AuditedResource } from '../core/model/audit.js';
import type { AuditStore } from '../core/ports/audit.port.js';
import { toEntity, type DynamoTable } from './dynamodb-table.js';

/**
 * | item  | PK                          | SK                | GSI1PK / GSI1SK                                  |
 * |-------|-----------------------------|-------------------|--------------------------------------------------|
 * | audit | AUDIT#<resource>#<id>       | V#<version, 10 digits> | AUDIT#TENANT#<tenantId or ALL> / <at>#<resource>#<id>#<version> |
 *
 * Keyed by the version the change produced: recording a change twice keeps
 * one entry. GSI1 answers "every change in this tenant, newest first".
 */
const auditPk = (resource: AuditedResource, resourceId: string): string => `AUDIT#${resource}#${resourceId}`;
const versionSk = (version: number): string => `V#${String(version).padStart(10, '0')}`;

export class DynamoAuditStore implements AuditStore {
  constructor(private readonly table: DynamoTable) {}

  async record(entry: AuditEntry): Promise<void> {
    // a false answer is the same entry written by an earlier delivery: nothing to do
    await this.table.putIf(
      {
        PK: auditPk(entry.resource, entry.resourceId),
        SK: versionSk(entry.version),
        entity: 'AuditEntry',
        GSI1PK: `AUDIT#TENANT#${entry.tenantId ?? 'ALL'}`,
        GSI1SK: `${entry.at}#${entry.resource}#${entry.resourceId}#${versionSk(entry.version)}`,
        ...entry,
      },
      'attribute_not_exists(PK)',
    );
  }

  async list(resource: AuditedResource, resourceId: string): Promise<AuditEntry[]> {
    return (await this.table.query({ pk: auditPk(resource, resourceId), skPrefix: 'V#' })).map((item) => toEntity<AuditEntry>(item));
  }
}
