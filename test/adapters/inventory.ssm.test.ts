import { DescribeInstanceInformationCommand, SSMClient, ThrottlingException } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { SsmManagedNodeInventory } from '../../functions/adapters/inventory.ssm.js';
import { TransientError } from '../../functions/core/errors.js';

const ssm = mockClient(SSMClient);
const inventory = new SsmManagedNodeInventory(new SSMClient({ region: 'eu-west-1' }));

describe('the SSM managed-node inventory: SSM matches the tag, Nightshift reads pages', () => {
  beforeEach(() => ssm.reset());

  it('asks SSM for the tag (no per-node tag reads), follows every page, and maps platform and connectivity', async () => {
    ssm
      .on(DescribeInstanceInformationCommand)
      .resolvesOnce({
        InstanceInformationList: [
          { InstanceId: 'i-0000000000000a001', ComputerName: 'web-01.contoso.local', PlatformType: 'Linux', PingStatus: 'Online' },
          { InstanceId: 'mi-0000000000000a002', ComputerName: 'RECEPTION', PlatformType: 'Windows', PingStatus: 'ConnectionLost' },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({ InstanceInformationList: [{ InstanceId: 'i-0000000000000a003', PlatformType: 'MacOS', PingStatus: 'Online' }] });

    const answer = await inventory.listByTag('Customer', 'contoso', 100);

    expect(answer).toEqual({
      truncated: false,
      nodes: [
        { agentId: 'i-0000000000000a001', computerName: 'web-01.contoso.local', platform: 'linux', online: true },
        { agentId: 'mi-0000000000000a002', computerName: 'RECEPTION', platform: 'windows', online: false },
        // macOS is listed without a platform: the import skips it by name rather than pretending it is Linux
        { agentId: 'i-0000000000000a003', online: true },
      ],
    });
    expect(ssm).toHaveReceivedCommandTimes(DescribeInstanceInformationCommand, 2);
    expect(ssm).toHaveReceivedNthCommandWith(DescribeInstanceInformationCommand, 1, { Filters: [{ Key: 'tag:Customer', Values: ['contoso'] }], MaxResults: 50 });
    expect(ssm).toHaveReceivedNthCommandWith(DescribeInstanceInformationCommand, 2, { Filters: [{ Key: 'tag:Customer', Values: ['contoso'] }], MaxResults: 50, NextToken: 'page-2' });
  });

  it('stops at the limit and says more exist, without reading further pages', async () => {
    ssm.on(DescribeInstanceInformationCommand).resolves({
      InstanceInformationList: [1, 2, 3].map((n) => ({ InstanceId: `i-000000000000000${n}`, PlatformType: 'Linux', PingStatus: 'Online' })),
      NextToken: 'more',
    });
    const answer = await inventory.listByTag('Customer', 'contoso', 2);
    expect(answer.truncated).toBe(true);
    expect(answer.nodes.map((n) => n.agentId)).toEqual(['i-0000000000000001', 'i-0000000000000002']);
    expect(ssm).toHaveReceivedCommandTimes(DescribeInstanceInformationCommand, 1);
  });

  it('a throttled SSM is a TransientError naming what was being done, so the caller can try again', async () => {
    ssm.on(DescribeInstanceInformationCommand).rejects(new ThrottlingException({ Message: 'Rate exceeded', message: 'Rate exceeded', $metadata: {} }));
    const error = await inventory.listByTag('Customer', 'contoso', 10).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toContain('listing the managed nodes tagged Customer=contoso');
  });
});
