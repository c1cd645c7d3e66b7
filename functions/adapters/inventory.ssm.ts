import { paginateDescribeInstanceInformation, type InstanceInformation, type SSMClient } from '@aws-sdk/client-ssm';
import type { ManagedNode } from '../core/model/inventory.js';
import type { ManagedNodeInventory } from '../core/ports/inventory.port.js';
import { translateAwsError } from './aws-errors.js';

/** DescribeInstanceInformation's largest page. */
const PAGE_SIZE = 50;

/**
 * Managed nodes from SSM by tag. The tag filter runs in SSM, so an import
 * needs only `ssm:DescribeInstanceInformation` — no tag reads per node, no
 * EC2 permissions — and works the same for EC2 instances and hybrid
 * activations (`mi-…`). Stopped and terminated nodes are not listed by SSM.
 */
export class SsmManagedNodeInventory implements ManagedNodeInventory {
  constructor(private readonly ssm: SSMClient) {}

  async listByTag(key: string, value: string, limit: number): Promise<{ nodes: ManagedNode[]; truncated: boolean }> {
    const nodes: ManagedNode[] = [];
    try {
      const pages = paginateDescribeInstanceInformation(
        { client: this.ssm, pageSize: PAGE_SIZE },
        { Filters: [{ Key: `tag:${key}`, Values: [value] }] },
      );
      for await (const page of pages) {
        for (const information of page.InstanceInformationList ?? []) {
          const node = toNode(information);
          if (!node) continue;
          if (nodes.length === limit) return { nodes, truncated: true };
          nodes.push(node);
        }
      }
    } catch (error) {
      throw translateAwsError(error, `listing the managed nodes tagged ${key}=${value}`);
    }
    return { nodes, truncated: false };
  }
}

function toNode(information: InstanceInformation): ManagedNode | undefined {
  const agentId = information.InstanceId;
  if (!agentId) return undefined;
  const platform = information.PlatformType === 'Linux' ? 'linux' : information.PlatformType === 'Windows' ? 'windows' : undefined;
  return {
    agentId,
    ...(information.ComputerName ? { computerName: information.ComputerName } : {}),
    ...(platform ? { platform } : {}),
    online: information.PingStatus === 'Online',
  };
}
