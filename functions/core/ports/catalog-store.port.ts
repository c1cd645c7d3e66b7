import type { Computer, Deployment, Software } from '../model/catalog.js';

/** The configuration an MSP engineer maintains. Writes are idempotent upserts of validated entities. */
export interface CatalogStore {
  putComputer(computer: Computer): Promise<void>;
  getComputer(computerId: string): Promise<Computer | undefined>;
  listComputers(): Promise<Computer[]>;

  putSoftware(software: Software): Promise<void>;
  getSoftware(softwareIds: readonly string[]): Promise<Software[]>;

  putDeployment(deployment: Deployment): Promise<void>;
  listDeployments(): Promise<Deployment[]>;
}
