import type { Computer, Deployment, Software } from '../core/model/catalog.js';
import type { CatalogStore } from '../core/ports/catalog-store.port.js';
import { toEntity, type DynamoTable } from './dynamodb-table.js';

/** Catalog entities are validated before they get here; writes are whole-entity upserts, so repeating one is harmless. */
export class DynamoCatalogStore implements CatalogStore {
  constructor(private readonly table: DynamoTable) {}

  async putComputer(computer: Computer): Promise<void> {
    await this.table.putIf(
      {
        PK: `COMPUTER#${computer.id}`,
        SK: 'COMPUTER',
        entity: 'Computer',
        GSI1PK: 'COMPUTERS',
        GSI1SK: `${computer.tenantId}#${computer.name}#${computer.id}`,
        ...computer,
      },
      undefined,
    );
  }

  async getComputer(computerId: string): Promise<Computer | undefined> {
    const item = await this.table.get(`COMPUTER#${computerId}`, 'COMPUTER');
    return item ? toEntity<Computer>(item) : undefined;
  }

  async listComputers(): Promise<Computer[]> {
    return (await this.table.query({ pk: 'COMPUTERS', index: 'GSI1' })).map((item) => toEntity<Computer>(item));
  }

  async putSoftware(software: Software): Promise<void> {
    await this.table.putIf(
      {
        PK: `SOFTWARE#${software.id}`,
        SK: 'SOFTWARE',
        entity: 'Software',
        GSI1PK: 'SOFTWARE',
        GSI1SK: `${software.name}#${software.id}`,
        ...software,
      },
      undefined,
    );
  }

  async getSoftware(softwareIds: readonly string[]): Promise<Software[]> {
    const items = await this.table.batchGet([...new Set(softwareIds)].map((id) => ({ PK: `SOFTWARE#${id}`, SK: 'SOFTWARE' })));
    return items.map((item) => toEntity<Software>(item));
  }

  async putDeployment(deployment: Deployment): Promise<void> {
    await this.table.putIf(
      {
        PK: `DEPLOYMENT#${deployment.id}`,
        SK: 'DEPLOYMENT',
        entity: 'Deployment',
        GSI1PK: 'DEPLOYMENTS',
        GSI1SK: deployment.id,
        ...deployment,
      },
      undefined,
    );
  }

  async listDeployments(): Promise<Deployment[]> {
    return (await this.table.query({ pk: 'DEPLOYMENTS', index: 'GSI1' })).map((item) => toEntity<Deployment>(item));
  }
}
