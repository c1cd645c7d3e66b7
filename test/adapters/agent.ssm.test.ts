import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  GetCommandInvocationCommand,
  InvocationDoesNotExist,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient,
  ThrottlingException,
} from '@aws-sdk/client-ssm';
import { sdkStreamMixin } from '@smithy/util-stream';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { SsmAgent, invocationStatus, parseS3Url } from '../../functions/adapters/agent.ssm.js';
import { TransientError } from '../../functions/core/errors.js';

const ssm = mockClient(SSMClient);
const s3 = mockClient(S3Client);
const agent = new SsmAgent(new SSMClient({ region: 'eu-west-1' }), new S3Client({ region: 'eu-west-1' }), {
  outputBucket: 'nightshift-output',
  outputPrefix: 'commands/',
  region: 'eu-west-1',
});

const command = {
  agentId: 'mi-0123456789abcdef0',
  platform: 'windows' as const,
  script: 'Write-Output 1',
  comment: 'nightshift/ses_1/Detect',
  deliveryTimeoutSeconds: 172_800,
  executionTimeoutSeconds: 600,
};

describe('the SSM agent adapter (SDK mocked: SSM has no local twin)', () => {
  beforeEach(() => {
    ssm.reset();
    s3.reset();
  });

  it('sends one command with the platform document, both timeouts, the comment and the output bucket', async () => {
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
    expect(await agent.send(command)).toEqual({ commandId: 'cmd-1' });
    expect(ssm).toHaveReceivedCommandWith(SendCommandCommand, {
      InstanceIds: ['mi-0123456789abcdef0'],
      DocumentName: 'AWS-RunPowerShellScript',
      TimeoutSeconds: 172_800,
      Comment: 'nightshift/ses_1/Detect',
      Parameters: { commands: ['Write-Output 1'], executionTimeout: ['600'] },
      OutputS3BucketName: 'nightshift-output',
      OutputS3KeyPrefix: 'commands/',
    });
  });

  it('turns throttling into a TransientError the state machine retries', async () => {
    ssm.on(SendCommandCommand).rejects(new ThrottlingException({ message: 'Rate exceeded', Message: 'Rate exceeded', $metadata: {} }));
    await expect(agent.send({ ...command, platform: 'linux' })).rejects.toBeInstanceOf(TransientError);
  });

  it('reads the full output from S3 when the inline output was cut at 24,000 characters', async () => {
    const inline = 'x'.repeat(24_000);
    ssm.on(GetCommandInvocationCommand).resolves({
      Status: 'Success',
      StatusDetails: 'Success',
      ResponseCode: 0,
      StandardOutputContent: inline,
      StandardOutputUrl: 'https://s3.eu-west-1.amazonaws.com/nightshift-output/commands/cmd-1/mi-0123456789abcdef0/awsrunPowerShellScript/0.awsrunPowerShellScript/stdout',
      Comment: 'nightshift/ses_1/Detect',
    });
    s3.on(GetObjectCommand).resolves({ Body: sdkStreamMixin(Readable.from([Buffer.from(`${inline}tail`)])) });
    const invocation = await agent.getInvocation('cmd-1', 'mi-0123456789abcdef0');
    expect(invocation).toMatchObject({ status: 'Success', responseCode: 0, stdoutTruncated: false, comment: 'nightshift/ses_1/Detect' });
    expect(invocation.stdout.endsWith('tail')).toBe(true);
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, {
      Bucket: 'nightshift-output',
      Key: 'commands/cmd-1/mi-0123456789abcdef0/awsrunPowerShellScript/0.awsrunPowerShellScript/stdout',
    });
  });

  it('retries later when the invocation is not visible yet', async () => {
    ssm.on(GetCommandInvocationCommand).rejects(new InvocationDoesNotExist({ message: 'no', $metadata: {} }));
    await expect(agent.getInvocation('cmd-2', 'i-0123456789abcdef0')).rejects.toBeInstanceOf(TransientError);
  });

  it('finds an earlier command by its comment across pages, looking from 5 minutes before the claim (clock skew)', async () => {
    ssm
      .on(ListCommandsCommand)
      .resolvesOnce({ Commands: [{ CommandId: 'other', Comment: 'nightshift/ses_1/Verify/n_1' }], NextToken: 'page-2' })
      .resolvesOnce({ Commands: [{ CommandId: 'cmd-3', Comment: 'nightshift/ses_1/Detect/n_1' }] });
    expect(await agent.findCommand('i-0123456789abcdef0', 'nightshift/ses_1/Detect/n_1', new Date('2026-11-23T09:00:00.250Z'))).toBe('cmd-3');
    expect(ssm).toHaveReceivedCommandWith(ListCommandsCommand, {
      InstanceId: 'i-0123456789abcdef0',
      Filters: [{ key: 'InvokedAfter', value: '2026-11-23T08:55:00.000Z' }],
    });
  });

  it.each([
    ['Success', 'Success', 'Success'],
    ['Failed', 'Failed', 'Failed'],
    ['TimedOut', 'Delivery Timed Out', 'DeliveryTimedOut'],
    ['TimedOut', 'Execution Timed Out', 'ExecutionTimedOut'],
    ['Failed', 'Undeliverable', 'Undeliverable'],
    ['Failed', 'InvalidPlatform', 'InvalidPlatform'],
    ['Cancelled', 'Cancelled', 'Cancelled'],
    ['InProgress', 'InProgress', 'InProgress'],
  ])('maps Status %s / StatusDetails %s to %s', (status, details, expected) => {
    expect(invocationStatus(status, details)).toBe(expected);
  });

  it.each([
    ['https://s3.eu-west-1.amazonaws.com/bucket/a/b/stdout', { bucket: 'bucket', key: 'a/b/stdout' }],
    ['https://bucket.s3.eu-west-1.amazonaws.com/a/b/stdout', { bucket: 'bucket', key: 'a/b/stdout' }],
    ['not a url', undefined],
  ])('parses the S3 output URL %s', (url, expected) => {
    expect(parseS3Url(url)).toEqual(expected);
  });
});
