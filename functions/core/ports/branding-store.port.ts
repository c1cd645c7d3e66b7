import type { Branding, BrandingOwner } from '../model/branding.js';

/** The MSP's brandings and each tenant's (a default and any seasonal ones). */
export interface BrandingStore {
  /** Every branding of the owner, default and seasonal. */
  list(owner: BrandingOwner): Promise<Branding[]>;
  get(owner: BrandingOwner, id: string): Promise<Branding | undefined>;
  /** Writes it if the stored version is `expectedVersion` (0: none stored); `ConflictError` otherwise. */
  put(branding: Branding, expectedVersion: number): Promise<void>;
  /** Deletes it if the stored version is `expectedVersion`; `ConflictError` otherwise. */
  delete(owner: BrandingOwner, id: string, expectedVersion: number): Promise<void>;
}
