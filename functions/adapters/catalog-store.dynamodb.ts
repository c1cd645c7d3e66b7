import type { Computer, Deployment, ItemKey, MaintenanceTask, Software, Tenant } from '../core/model/catalog.js';
import type { CatalogStore } from '../core/ports/catalog-store.port.js';
import { toEntity, type DynamoTable } from './dynamodb-table.js';

/** Where the catalog keeps an item's entity; the session store reads it beside an action's own records. */
export const catalogEntryKey = (itemKey: ItemKey): { PK: string; SK: string } => {
  const [kind, id] = itemKey.startsWith('software:') ? ['SOFTWARE', itemKey.slice('software:'.length)] : ['TASK', itemKey.slice('task:'.length)];
  return { PK: `${kind}#${id}`, SK: kind };
};

/** Catalog entities are validated before they get here; writes are whole-entity upserts, so repeating one is harmless. */
export class DynamoCatalogStore implements CatalogStore {
  constructor(private readonly table: DynamoTable) {}

  private async put(pk: string, sk: string, listPartition: string, listSort: string, entity: string, value: object): Promise<void> {
    await this.table.putIf({ PK: pk, SK: sk, entity, GSI1PK: listPartition, GSI1SK: listSort, ...value }, undefined);
  }

  private async getMany<T>(prefix: string, sk: string, ids: readonly string[]): Promise<T[]> {
    const items = await this.table.batchGet([...new Set(ids)].map((id) => ({ PK: `${prefix}#${id}`, SK: sk })));
    return items.map((item) => toEntity<T>(item));
  }

  async putTenant(tenant: Tenant): Promise<void> {
    await this.put(`TENANT#${tenant.id}`, 'TENANT', 'TENANTS', `${tenant.name}#${tenant.id}`, 'Tenant', tenant);
  }

  async getTenant(tenantId: string): Promise<Tenant | undefined> {
    const item = await this.table.get(`TENANT#${tenantId}`, 'TENANT');
    return item ? toEntity<Tenant>(item) : undefined;
  }

  async listTenants(): Promise<Tenant[]> {
    return (await this.table.query({ pk: 'TENANTS', index: 'GSI1' })).map((item) => toEntity<Tenant>(item));
  }

  async putComputer(computer: Computer): Promise<void> {
    await this.put(`COMPUTER#${computer.id}`, 'COMPUTER', 'COMPUTERS', `${computer.tenantId}#${computer.name}#${computer.id}`, 'Computer', computer);
  }

  async getComputer(computerId: string): Promise<Computer | undefined> {
    const item = await this.table.get(`COMPUTER#${computerId}`, 'COMPUTER');
    return item ? toEntity<Computer>(item) : undefined;
  }

  async listComputers(): Promise<Computer[]> {
    return (await this.table.query({ pk: 'COMPUTERS', index: 'GSI1' })).map((item) => toEntity<Computer>(item));
  }

  async putSoftware(software: Software): Promise<void> {
    await this.put(`SOFTWARE#${software.id}`, 'SOFTWARE', 'SOFTWARE', `${software.name}#${software.id}`, 'Software', software);
  }

  getSoftware(softwareIds: readonly string[]): Promise<Software[]> {
    return this.getMany<Software>('SOFTWARE', 'SOFTWARE', softwareIds);
  }

  async listSoftware(): Promise<Software[]> {
    return (await this.table.query({ pk: 'SOFTWARE', index: 'GSI1' })).map((item) => toEntity<Software>(item));
  }

  async putTask(task: MaintenanceTask): Promise<void> {
    await this.put(`TASK#${task.id}`, 'TASK', 'TASKS', `${task.name}#${task.id}`, 'Task', task);
  }

  getTasks(taskIds: readonly string[]): Promise<MaintenanceTask[]> {
    return this.getMany<MaintenanceTask>('TASK', 'TASK', taskIds);
  }

  async listTasks(): Promise<MaintenanceTask[]> {
    return (await this.table.query({ pk: 'TASKS', index: 'GSI1' })).map((item) => toEntity<MaintenanceTask>(item));
  }

  async putDeployment(deployment: Deployment): Promise<void> {
    await this.put(`DEPLOYMENT#${deployment.id}`, 'DEPLOYMENT', 'DEPLOYMENTS', deployment.id, 'Deployment', deployment);
  }

  async getDeployment(deploymentId: string): Promise<Deployment | undefined> {
    const item = await this.table.get(`DEPLOYMENT#${deploymentId}`, 'DEPLOYMENT');
    return item ? toEntity<Deployment>(item) : undefined;
  }

  async listDeployments(): Promise<Deployment[]> {
    return (await this.table.query({ pk: 'DEPLOYMENTS', index: 'GSI1' })).map((item) => toEntity<Deployment>(item));
  }
}
