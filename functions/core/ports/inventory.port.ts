import type { ManagedNode } from '../model/inventory.js';

/** The managed nodes the agent service knows (SSM Fleet Manager), read by tag. */
export interface ManagedNodeInventory {
  /**
   * Every managed node carrying tag `key` with `value`, at most `limit`;
   * `truncated` says more exist, so an import never maps half a fleet silently.
   */
  listByTag(key: string, value: string, limit: number): Promise<{ nodes: ManagedNode[]; truncated: boolean }>;
}
