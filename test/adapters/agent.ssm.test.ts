import { readFileSync } from 'node:fs';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import {
  GetCommandInvocationCommand,
  InvalidInstanceId,
  InvalidPluginName,
  InvocationDoesNotExist,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient,
  ThrottlingException,
  UnsupportedPlatformType,
  type GetCommandInvocationCommandOutput,
} from '@aws-sdk/client-ssm';
import { sdkStreamMixin } from '@smithy/util-stream';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { SsmAgent, invocationStatus, parseS3Url } from '../../functions/adapters/agent.ssm.js';
import { AgentFailedError, AgentUnreachableError, ConfigurationError, TransientError } from '../../functions/core/errors.js';
import { MAX_DELIVERY_TIMEOUT_SECONDS, MAX_EXECUTION_TIMEOUT_SECONDS, OUTPUT_TAIL_BYTES } from '../../functions/core/model/agent.js';
import type { Platform } from '../../functions/core/model/catalog.js';
import { buildActionCommand, buildDetectionCommand, detectionTimeoutSeconds } from '../../functions/core/use-cases/agent-commands.js';
import type { Dependencies } from '../../functions/core/use-cases/dependencies.js';
import { sessionRecord, software, softwareItem } from '../support/domain.js';

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

const body = (text: string) => sdkStreamMixin(Readable.from([Buffer.from(text)]));
/** What S3 answers a reader that may not list the bucket, for a forbidden object and for a missing one alike. */
const accessDenied = () => new S3ServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'Access Denied' });

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

  it('calls a computer SSM does not manage unreachable, and one that cannot run the platform reached but refused', async () => {
    ssm
      .on(SendCommandCommand)
      .rejectsOnce(new InvalidInstanceId({ message: 'not valid', $metadata: {} }))
      .rejectsOnce(new UnsupportedPlatformType({ message: 'wrong platform', $metadata: {} }));
    await expect(agent.send(command)).rejects.toBeInstanceOf(AgentUnreachableError);
    await expect(agent.send(command)).rejects.toBeInstanceOf(AgentFailedError);
  });

  it("calls a computer IAM will not let Nightshift reach (no managed-node tag) unreachable, saying which tag, not IAM's text", async () => {
    const denied = Object.assign(new Error('User: arn:aws:sts::123456789012:assumed-role/x is not authorized to perform: ssm:SendCommand'), { name: 'AccessDeniedException' });
    ssm.on(SendCommandCommand).rejects(denied);
    const refusal = agent.send(command);
    await expect(refusal).rejects.toBeInstanceOf(AgentUnreachableError);
    await expect(refusal).rejects.toThrow(/managed-node tag \(nightshift:managed=true by default\)/);
    await expect(refusal).rejects.not.toThrow(/arn:aws/);
  });

  it.each([
    ['executionTimeoutSeconds', { executionTimeoutSeconds: MAX_EXECUTION_TIMEOUT_SECONDS + 1 }],
    ['executionTimeoutSeconds', { executionTimeoutSeconds: 0 }],
    ['deliveryTimeoutSeconds', { deliveryTimeoutSeconds: 29 }],
    ['deliveryTimeoutSeconds', { deliveryTimeoutSeconds: MAX_DELIVERY_TIMEOUT_SECONDS + 1 }],
  ] as const)('refuses a command whose %s SSM would refuse, naming it, before anything goes out (%o)', async (field, limits) => {
    const refusal = agent.send({ ...command, ...limits });
    await expect(refusal).rejects.toBeInstanceOf(ConfigurationError);
    await expect(refusal).rejects.toThrow(field);
    expect(ssm).not.toHaveReceivedCommand(SendCommandCommand);
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
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

/**
 * Each document has its own step names, and a staged script's document runs
 * one of two platform steps while the other is skipped (and still answers
 * Success). The mocked SSM below answers only the step the command really
 * ran, so reading any other step, or guessing, fails these tests.
 */
describe('reading a result from the step that ran the script, for every document', () => {
  const agentId = 'i-0123456789abcdef0';
  const staging = new SsmAgent(new SSMClient({ region: 'eu-west-1' }), new S3Client({ region: 'eu-west-1' }), {
    outputBucket: 'out',
    outputPrefix: 'commands/',
    region: 'eu-west-1',
    inlineScriptLimitBytes: 1_000,
  });
  const ran: Partial<GetCommandInvocationCommandOutput> = {
    Status: 'Failed',
    StatusDetails: 'Failed',
    ResponseCode: 5,
    StandardOutputContent: 'the script ran\n',
    Comment: 'nightshift/ses_1/Detect/n1',
  };
  /** What SSM answers for the step a precondition skipped. */
  const skipped: Partial<GetCommandInvocationCommandOutput> = {
    Status: 'Success',
    StatusDetails: 'Success',
    ResponseCode: 0,
    StandardOutputContent: "Step execution skipped due to unsatisfied preconditions: 'StringEquals: [platformType, Linux]'",
    Comment: 'nightshift/ses_1/Detect/n1',
  };

  beforeEach(() => {
    ssm.reset();
    s3.reset();
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
    s3.on(PutObjectCommand).resolves({});
  });

  it("gives the computer the staged script's URL in the stack's partition (amazonaws.com, amazonaws.com.cn in China)", async () => {
    for (const [urlSuffix, expected] of [
      [undefined, 'https://out.s3.eu-west-1.amazonaws.com/staged-scripts/'],
      ['amazonaws.com.cn', 'https://out.s3.cn-north-1.amazonaws.com.cn/staged-scripts/'],
    ] as const) {
      ssm.resetHistory();
      const agent = new SsmAgent(new SSMClient({ region: 'eu-west-1' }), new S3Client({ region: 'eu-west-1' }), {
        outputBucket: 'out',
        outputPrefix: 'commands/',
        region: urlSuffix ? 'cn-north-1' : 'eu-west-1',
        inlineScriptLimitBytes: 1_000,
        ...(urlSuffix ? { urlSuffix } : {}),
      });
      await agent.send({ agentId, platform: 'linux', script: `#${'x'.repeat(2_000)}\n`, comment: 'nightshift/ses_1/Detect/n1', deliveryTimeoutSeconds: 60, executionTimeoutSeconds: 60 });
      const sourceInfo = ssm.commandCalls(SendCommandCommand)[0]?.args[0].input.Parameters?.sourceInfo?.[0] ?? '{}';
      expect((JSON.parse(sourceInfo) as { path?: string }).path).toMatch(new RegExp(`^${expected.replace(/\./g, '\\.')}`));
    }
  });

  /** Sends for real through the adapter, then has SSM list the command exactly as it was sent. */
  async function sendAndList(platform: Platform, script: string) {
    await staging.send({ agentId, platform, script, comment: 'nightshift/ses_1/Detect/n1', deliveryTimeoutSeconds: 60, executionTimeoutSeconds: 60 });
    const sent = ssm.commandCalls(SendCommandCommand)[0]?.args[0].input;
    ssm.on(ListCommandsCommand, { CommandId: 'cmd-1' }).resolves({
      Commands: [{ CommandId: 'cmd-1', DocumentName: sent?.DocumentName, Parameters: sent?.Parameters, Comment: sent?.Comment, Status: 'Failed' }],
    });
    return sent?.DocumentName;
  }

  it.each([
    ['linux', 'AWS-RunShellScript'],
    ['windows', 'AWS-RunPowerShellScript'],
  ] as const)('%s, inline (%s): the one step, without naming it, in one call', async (platform, document) => {
    expect(await sendAndList(platform, 'echo small')).toBe(document);
    ssm.on(GetCommandInvocationCommand, { CommandId: 'cmd-1', InstanceId: agentId }).resolves(ran);
    expect(await staging.getInvocation('cmd-1', agentId)).toMatchObject({ status: 'Failed', responseCode: 5, stdout: 'the script ran\n' });
    expect(ssm).toHaveReceivedCommandTimes(GetCommandInvocationCommand, 1);
    expect(ssm.commandCalls(GetCommandInvocationCommand)[0]?.args[0].input.PluginName).toBeUndefined();
    expect(ssm).not.toHaveReceivedCommand(ListCommandsCommand);
  });

  it.each([
    ['linux', 'runShellScript', 'runPowerShellScript', '.sh'],
    ['windows', 'runPowerShellScript', 'runShellScript', '.ps1'],
  ] as const)('%s, staged (AWS-RunRemoteScript): its %s step, never the skipped %s', async (platform, runStep, skippedStep, extension) => {
    expect(await sendAndList(platform, `# large\n${'#'.repeat(2_000)}\n`)).toBe('AWS-RunRemoteScript');
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input.Key?.endsWith(extension)).toBe(true);
    ssm
      .on(GetCommandInvocationCommand, { CommandId: 'cmd-1', InstanceId: agentId })
      .rejects(new InvalidPluginName({ message: 'name the step', $metadata: {} }))
      .on(GetCommandInvocationCommand, { CommandId: 'cmd-1', InstanceId: agentId, PluginName: runStep })
      .resolves(ran)
      .on(GetCommandInvocationCommand, { CommandId: 'cmd-1', InstanceId: agentId, PluginName: skippedStep })
      .resolves(skipped);
    expect(await staging.getInvocation('cmd-1', agentId)).toMatchObject({ status: 'Failed', responseCode: 5, stdout: 'the script ran\n' });
    expect(ssm).toHaveReceivedCommandWith(GetCommandInvocationCommand, { PluginName: runStep });
    expect(ssm.commandCalls(GetCommandInvocationCommand).map((call) => call.args[0].input.PluginName)).not.toContain(skippedStep);
  });

  it("hands back someone else's command of several steps with its own comment, so the completion can tell it is not ours", async () => {
    ssm
      .on(GetCommandInvocationCommand)
      .rejects(new InvalidPluginName({ message: 'name the step', $metadata: {} }))
      .on(ListCommandsCommand, { CommandId: 'cmd-9' })
      .resolves({ Commands: [{ CommandId: 'cmd-9', DocumentName: 'AWS-RunPatchBaseline', Comment: 'nightly patching', Status: 'Success' }] });
    expect(await staging.getInvocation('cmd-9', agentId)).toMatchObject({ comment: 'nightly patching', status: 'Success' });
    expect(ssm).toHaveReceivedCommandTimes(GetCommandInvocationCommand, 1);
  });
});

/**
 * SSM keeps 24,000 characters of stdout (8,000 of stderr) inline and the
 * whole in S3, which the computer uploads itself. What the reader cannot get
 * from S3 must never cost the command its result.
 */
describe('output too long to keep inline', () => {
  const agentId = 'mi-0123456789abcdef0';
  const stdoutKey = 'commands/cmd-1/mi-0123456789abcdef0/awsrunPowerShellScript/0.awsrunPowerShellScript/stdout';
  const inline = `${'x'.repeat(23_978)}---Output truncated---`;
  const cut = (extra: Partial<GetCommandInvocationCommandOutput> = {}): Partial<GetCommandInvocationCommandOutput> => ({
    Status: 'Success',
    StatusDetails: 'Success',
    ResponseCode: 0,
    StandardOutputContent: inline,
    StandardOutputUrl: `https://s3.eu-west-1.amazonaws.com/nightshift-output/${stdoutKey}`,
    Comment: 'nightshift/ses_1/Detect',
    ...extra,
  });

  beforeEach(() => {
    ssm.reset();
    s3.reset();
  });

  it('reads the full output from S3, asking only for its last OUTPUT_TAIL_BYTES', async () => {
    ssm.on(GetCommandInvocationCommand).resolves(cut());
    s3.on(GetObjectCommand).resolves({ Body: body(`${'x'.repeat(30_000)}tail`), ContentRange: 'bytes 0-30003/30004' });
    const invocation = await agent.getInvocation('cmd-1', agentId);
    expect(invocation).toMatchObject({ status: 'Success', responseCode: 0, stdoutTruncated: false, comment: 'nightshift/ses_1/Detect' });
    expect(invocation.stdout).toBe(`${'x'.repeat(30_000)}tail`);
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: 'nightshift-output', Key: stdoutKey, Range: `bytes=-${OUTPUT_TAIL_BYTES}` });
  });

  it.each([
    ['AccessDenied', accessDenied],
    ['NoSuchKey', () => new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } })],
  ])('falls back to the inline part with a visible note when S3 answers %s, and still reports the status', async (name, error) => {
    ssm.on(GetCommandInvocationCommand).resolves(cut());
    s3.on(GetObjectCommand).rejects(error());
    const invocation = await agent.getInvocation('cmd-1', agentId);
    expect(invocation).toMatchObject({ status: 'Success', responseCode: 0, stdoutTruncated: true });
    expect(invocation.stdout).toBe(
      `${inline}\n[output truncated by SSM at 24,000 characters; the full output could not be read from s3://nightshift-output/${stdoutKey}: ${name}]\n`,
    );
  });

  it('keeps the end of stderr too: read from S3 past its 8,000 inline characters, the inline part with a note when that fails', async () => {
    const stderrUrl = 'https://s3.eu-west-1.amazonaws.com/nightshift-output/commands/cmd-1/i/stderr';
    ssm.on(GetCommandInvocationCommand).resolves(
      cut({ StandardOutputContent: 'short', StandardErrorContent: 'e'.repeat(8_000), StandardErrorUrl: stderrUrl }),
    );
    s3.on(GetObjectCommand).resolvesOnce({ Body: body(`${'e'.repeat(9_000)}the last error line`) });
    expect((await agent.getInvocation('cmd-1', agentId)).stderr.endsWith('the last error line')).toBe(true);
    s3.on(GetObjectCommand).rejects(accessDenied());
    const fallback = await agent.getInvocation('cmd-1', agentId);
    expect(fallback.stderr).toMatch(/^e{8000}\n\[output truncated by SSM at 8,000 characters; .*: AccessDenied\]\n$/);
    // only stdout's cut changes how detection records are read
    expect(fallback).toMatchObject({ stdout: 'short', stdoutTruncated: false });
  });

  it('keeps only the last OUTPUT_TAIL_BYTES of an output longer than that, from its first whole line, behind a note', async () => {
    ssm.on(GetCommandInvocationCommand).resolves(cut());
    const totalBytes = OUTPUT_TAIL_BYTES * 3;
    s3.on(GetObjectCommand).resolves({ Body: body(`rtial line\nNIGHTSHIFT-ITEM n1 a 0 b c - \n`), ContentRange: `bytes ${totalBytes - 36}-${totalBytes - 1}/${totalBytes}` });
    const invocation = await agent.getInvocation('cmd-1', agentId);
    expect(invocation.stdoutTruncated).toBe(true);
    expect(invocation.stdout).toBe(`[output truncated: only the last 10,485,760 of its 31,457,280 bytes were kept]\nNIGHTSHIFT-ITEM n1 a 0 b c - \n`);
  });
});

/**
 * SSM allows 172,800 s with the inline documents but 28,800 s with
 * AWS-RunRemoteScript, which carries the largest detections; every command
 * keeps to the smaller, computed in one place.
 */
describe('execution timeouts within what SSM allows', () => {
  const settings = { deliveryTimeoutSeconds: 600, detectionItemTimeoutSeconds: 120, actionTimeoutSeconds: 3_600, skipOfflineAfterSeconds: 60 };
  const dependencies = (agentSettings = settings): Dependencies =>
    // only what building a command reads: the catalog's software and the agent settings
    ({
      catalog: {
        getSoftware: (ids: readonly string[]) => Promise.resolve(ids.map((id) => software(id))),
        getTasks: () => Promise.resolve([]),
      },
      agentSettings,
    }) as unknown as Dependencies;
  const detectionOf = (items: number) =>
    buildDetectionCommand(dependencies(), sessionRecord('ses_1', { items: Array.from({ length: items }, (_, i) => softwareItem(`app${i}`)) }), 'Detect', 'n1');

  beforeEach(() => {
    ssm.reset();
    s3.reset();
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
    s3.on(PutObjectCommand).resolves({});
  });

  it('gives a detection of 120 items the turns of its concurrent slots (30 turns of 250 s, plus 30 s), well inside the limit', async () => {
    const detection = await detectionOf(120);
    // each item: a detection and a test of 120 s, each with 5 s to die; four at a time
    expect(detection.executionTimeoutSeconds).toBe(30 * 250 + 30);
    await staging().send(detection);
    expect(ssm).toHaveReceivedCommandWith(SendCommandCommand, { Parameters: expect.objectContaining({ executionTimeout: ['7530'] }) as Record<string, string[]> });
  });

  it('caps a detection of 999 items at 28,800 s, and SSM gets the capped value with the staged document', async () => {
    const detection = await detectionOf(999);
    expect(detection.executionTimeoutSeconds).toBe(MAX_EXECUTION_TIMEOUT_SECONDS);
    await staging().send(detection);
    expect(ssm).toHaveReceivedCommandWith(SendCommandCommand, {
      DocumentName: 'AWS-RunRemoteScript',
      Parameters: expect.objectContaining({ executionTimeout: ['28800'] }) as Record<string, string[]>,
    });
  });

  it('counts an item\'s secret look-ups in its worst case', () => {
    const entry = { key: 'task:t', script: 'exit 0', timeoutSeconds: 10, environment: { NIGHTSHIFT_SECRET_REFS_JSON: '{"a":"/x","b":"/y"}' } };
    // two look-ups of 60 s (+5 s each to die), a test and a detection of 10 s (+5 s each): one turn, plus slack
    expect(detectionTimeoutSeconds([entry])).toBe(2 * 65 + 2 * 15 + 30);
    expect(detectionTimeoutSeconds([{ ...entry, environment: {} }])).toBe(60);
  });

  it('caps a long action the same way', async () => {
    const session = sessionRecord('ses_1', { items: [softwareItem('app')] });
    const action = { sessionId: 'ses_1', actionId: '001', itemKey: 'software:app', itemId: 'app', itemName: 'App', type: 'Reinstall', reason: 'OlderVersionRequired', dependsOn: [], critical: true, status: 'NotStarted', result: 'Pending' } as const;
    const built = await buildActionCommand(dependencies({ ...settings, actionTimeoutSeconds: 20_000 }), session, action, 'Action#001', 'n1', { software: software('app') });
    expect(built.executionTimeoutSeconds).toBe(MAX_EXECUTION_TIMEOUT_SECONDS);
  });

  it('lets SSM end every command (delivery and execution timeouts at their largest) before the workflow step waiting for it gives up', () => {
    interface State {
      readonly Parameters?: { readonly FunctionName?: string };
      readonly TimeoutSeconds?: number;
      readonly ItemProcessor?: { readonly States: Record<string, State> };
      readonly Iterator?: { readonly States: Record<string, State> };
    }
    const asl = JSON.parse(readFileSync(new URL('../../statemachines/session.asl.json', import.meta.url), 'utf8')) as { States: Record<string, State> };
    const commandWaits = (states: Record<string, State>): (number | undefined)[] =>
      Object.values(states).flatMap((state) => [
        ...(state.Parameters?.FunctionName === '${DispatchCommandFunctionArn}' ? [state.TimeoutSeconds] : []),
        ...commandWaits((state.ItemProcessor ?? state.Iterator)?.States ?? {}),
      ]);
    const waits = commandWaits(asl.States);
    // Detect, each action, the restart, Verify
    expect(waits).toHaveLength(4);
    for (const seconds of waits) expect(seconds).toBeGreaterThan(MAX_DELIVERY_TIMEOUT_SECONDS + MAX_EXECUTION_TIMEOUT_SECONDS);
  });

  function staging(): SsmAgent {
    return new SsmAgent(new SSMClient({ region: 'eu-west-1' }), new S3Client({ region: 'eu-west-1' }), { outputBucket: 'out', outputPrefix: 'commands/', region: 'eu-west-1' });
  }
});

