import type { Computer, Deployment, MaintenanceTask, Software, Tenant } from '../model/catalog.js';

/**
 * The configuration an MSP engineer maintains. Entities arrive here already
 * validated (schema and references, see `save-catalog`); writes are
 * whole-entity upserts, so repeating one is harmless.
 */
export interface CatalogStore {
  putTenant(tenant: Tenant): Promise<void>;
  getTenant(tenantId: string): Promise<Tenant | undefined>;
  listTenants(): Promise<Tenant[]>;

  putComputer(computer: Computer): Promise<void>;
  getComputer(computerId: string): Promise<Computer | undefined>;
  listComputers(): Promise<Computer[]>;

  putSoftware(software: Software): Promise<void>;
  /** The software with these ids that exist (missing ids are simply absent from the answer). */
  getSoftware(softwareIds: readonly string[]): Promise<Software[]>;
  /** Every software item, by name. */
  listSoftware(): Promise<Software[]>;

  putTask(task: MaintenanceTask): Promise<void>;
  getTasks(taskIds: readonly string[]): Promise<MaintenanceTask[]>;
  /** Every maintenance task, by name. */
  listTasks(): Promise<MaintenanceTask[]>;

  putDeployment(deployment: Deployment): Promise<void>;
  getDeployment(deploymentId: string): Promise<Deployment | undefined>;
  listDeployments(): Promise<Deployment[]>;
}
