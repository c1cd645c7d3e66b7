import type { Computer, Deployment, MaintenanceTask, Software, StoredDeployment, StoredSoftware, StoredTask, Tenant } from '../model/catalog.js';

/**
 * The configuration an MSP engineer maintains. Entities arrive here already
 * validated (schema and references, see `save-catalog`). Tenants and
 * computers are written whole (repeating a write is harmless).
 *
 * Software items, tasks and deployments carry a revision (`Revised`), and
 * each of their writes is one conditional single-item write on what is
 * stored under the id: `expectedRevision` 0 when nothing may be (a create),
 * else the revision the stored one must still be at. Such a write answers
 * false, writing nothing, when the stored one is not as expected.
 *
 * An item stored before revisions were kept has none: it reads, and is
 * written over or deleted, as revision 1 (`LEGACY_REVISION`), so every
 * stored one says a revision of at least 1, as a new one does.
 */
export interface CatalogStore {
  putTenant(tenant: Tenant): Promise<void>;
  getTenant(tenantId: string): Promise<Tenant | undefined>;
  listTenants(): Promise<Tenant[]>;

  putComputer(computer: Computer): Promise<void>;
  getComputer(computerId: string): Promise<Computer | undefined>;
  listComputers(): Promise<Computer[]>;

  /** Writes the software at its `revision` if the stored one is at `expectedRevision` (0: none is). */
  putSoftware(software: StoredSoftware, expectedRevision: number): Promise<boolean>;
  /**
   * Without an expected revision (seeding a fleet, tests): creates the
   * software or replaces whatever is stored, at the revision after it; still
   * conditional on the revision it read, so a write racing it is not lost.
   */
  putSoftware(software: Software): Promise<boolean>;
  /** The software with these ids that exist (missing ids are simply absent from the answer). */
  getSoftware(softwareIds: readonly string[]): Promise<StoredSoftware[]>;
  /** Every software item, by name. */
  listSoftware(): Promise<StoredSoftware[]>;
  /** Deletes the software if it is at `expectedRevision`. */
  deleteSoftware(softwareId: string, expectedRevision: number): Promise<boolean>;

  putTask(task: StoredTask, expectedRevision: number): Promise<boolean>;
  putTask(task: MaintenanceTask): Promise<boolean>;
  getTasks(taskIds: readonly string[]): Promise<StoredTask[]>;
  /** Every maintenance task, by name. */
  listTasks(): Promise<StoredTask[]>;
  deleteTask(taskId: string, expectedRevision: number): Promise<boolean>;

  putDeployment(deployment: StoredDeployment, expectedRevision: number): Promise<boolean>;
  putDeployment(deployment: Deployment): Promise<boolean>;
  getDeployment(deploymentId: string): Promise<StoredDeployment | undefined>;
  listDeployments(): Promise<StoredDeployment[]>;
  deleteDeployment(deploymentId: string, expectedRevision: number): Promise<boolean>;
}

/** What an item stored before revisions were kept reads as (see `CatalogStore`). */
export const LEGACY_REVISION = 1;
