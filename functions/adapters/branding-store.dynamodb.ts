import { ConflictError, NotFoundError } from '../core/errors.js';
import type { Branding, BrandingOwner } from '../core/model/branding.js';
import type { BrandingStore } from '../core/ports/branding-store.port.js';
import { toEntity, type DynamoTable } from './dynamodb-table.js';

/** One partition per owner: the MSP's brandings, or one tenant's; a branding per sort key. */
const ownerPk = (owner: BrandingOwner): string => (owner.kind === 'Msp' ? 'BRANDING#MSP' : `BRANDING#TENANT#${owner.tenantId}`);
const brandingSk = (id: string): string => `BRANDING#${id}`;
const describe = (owner: BrandingOwner, id: string): string => `${owner.kind === 'Msp' ? 'the MSP' : `tenant ${owner.tenantId}`}'s branding ${id}`;

export class DynamoBrandingStore implements BrandingStore {
  constructor(private readonly table: DynamoTable) {}

  async list(owner: BrandingOwner): Promise<Branding[]> {
    const items = await this.table.query({ pk: ownerPk(owner), skPrefix: 'BRANDING#' });
    return items.map((item) => toEntity<Branding>(item));
  }

  async get(owner: BrandingOwner, id: string): Promise<Branding | undefined> {
    const item = await this.table.get(ownerPk(owner), brandingSk(id));
    return item ? toEntity<Branding>(item) : undefined;
  }

  async put(branding: Branding, expectedVersion: number): Promise<void> {
    const written = await this.table.putIf(
      { PK: ownerPk(branding.owner), SK: brandingSk(branding.id), entity: 'Branding', ...branding },
      expectedVersion === 0 ? 'attribute_not_exists(PK)' : '#version = :version',
      expectedVersion === 0 ? {} : { names: { '#version': 'version' }, values: { ':version': expectedVersion } },
    );
    if (!written) throw new ConflictError(`${describe(branding.owner, branding.id)} was changed by someone else (it is no longer at version ${String(expectedVersion)}); read it again`);
  }

  async delete(owner: BrandingOwner, id: string, expectedVersion: number): Promise<void> {
    await this.table
      .deleteIf(
        { PK: ownerPk(owner), SK: brandingSk(id) },
        {
          condition: 'attribute_exists(PK) AND #version = :version',
          conditionNames: { '#version': 'version' },
          conditionValues: { ':version': expectedVersion },
          conflict: `${describe(owner, id)} was changed by someone else (it is no longer at version ${String(expectedVersion)}); read it again`,
        },
      )
      .catch(async (error: unknown) => {
        if (error instanceof ConflictError && !(await this.get(owner, id))) throw new NotFoundError('branding', id);
        throw error;
      });
  }
}
