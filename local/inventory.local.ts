import type { ManagedNode } from '../functions/core/model/inventory.js';
import type { ManagedNodeInventory } from '../functions/core/ports/inventory.port.js';
import type { SandboxAgent } from './sandbox-agent.js';

/** The sandbox machines as SSM's managed-node list would show them: the same tag match, the same limit. */
export class SandboxManagedNodeInventory implements ManagedNodeInventory {
  constructor(private readonly agent: Pick<SandboxAgent, 'describeMachines'>) {}

  async listByTag(key: string, value: string, limit: number): Promise<{ nodes: ManagedNode[]; truncated: boolean }> {
    const tagged = (await this.agent.describeMachines())
      .filter((machine) => machine.tags !== undefined && Object.hasOwn(machine.tags, key) && machine.tags[key] === value)
      .sort((a, b) => a.agentId.localeCompare(b.agentId));
    const nodes = tagged.slice(0, limit).map((machine) => ({ agentId: machine.agentId, computerName: machine.name, platform: machine.platform, online: machine.online }));
    return { nodes, truncated: tagged.length > limit };
  }
}
