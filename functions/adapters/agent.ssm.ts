import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  CancelCommandCommand,
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  InvalidPluginName,
  InvocationDoesNotExist,
  ListCommandsCommand,
  SendCommandCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { TransientError } from '../core/errors.js';
import { isInvocationStatus, type AgentCommand, type AgentInvocation, type InvocationStatus } from '../core/model/agent.js';
import type { AgentPort } from '../core/ports/agent.port.js';
import { translateAwsError } from './aws-errors.js';

export interface SsmAgentOptions {
  /** Full command output lands here; SSM keeps only 24,000 characters inline. */
  readonly outputBucket: string;
  readonly outputPrefix: string;
  /** The bucket's region, for the script URLs AWS-RunRemoteScript downloads from. */
  readonly region: string;
  /** Scripts larger than this many bytes are staged in the bucket instead of sent inline. */
  readonly inlineScriptLimitBytes?: number;
}

/** SSM caps a command's parameters at 64 KB; the rest of the request needs room too. */
export const DEFAULT_INLINE_SCRIPT_LIMIT_BYTES = 60_000;
/** Staged scripts live under this prefix; instance profiles need s3:GetObject on it. */
export const STAGED_SCRIPT_PREFIX = 'staged-scripts/';
/** The run steps of AWS-RunRemoteScript; which one ran depends on the platform. */
const REMOTE_SCRIPT_RUN_STEPS = ['runShellScript', 'runPowerShellScript'] as const;

/** SSM cuts inline output at this many characters. */
const INLINE_OUTPUT_LIMIT = 24_000;

const DOCUMENTS = { linux: 'AWS-RunShellScript', windows: 'AWS-RunPowerShellScript' } as const;


/** `StatusDetails` is finer than `Status` (DeliveryTimedOut vs TimedOut); prefer it when we know the word. */
export function invocationStatus(status: string | undefined, details: string | undefined): InvocationStatus {
  const detail = details?.replace(/\s+/g, '');
  if (detail && isInvocationStatus(detail)) return detail;
  if (status && isInvocationStatus(status)) return status;
  return 'Pending';
}

/** How far before the claim a command is looked for: clock skew between Lambda and SSM, with room to spare. */
const FIND_COMMAND_CLOCK_MARGIN_MS = 5 * 60_000;

export class SsmAgent implements AgentPort {
  constructor(
    private readonly ssm: SSMClient,
    private readonly s3: S3Client,
    private readonly options: SsmAgentOptions,
  ) {}

  async send(command: AgentCommand): Promise<{ commandId: string }> {
    const limit = this.options.inlineScriptLimitBytes ?? DEFAULT_INLINE_SCRIPT_LIMIT_BYTES;
    const staged = Buffer.byteLength(command.script, 'utf8') > limit ? await this.stage(command) : undefined;
    try {
      const result = await this.ssm.send(
        new SendCommandCommand({
          InstanceIds: [command.agentId],
          DocumentName: staged ? 'AWS-RunRemoteScript' : DOCUMENTS[command.platform],
          Comment: command.comment,
          TimeoutSeconds: command.deliveryTimeoutSeconds,
          Parameters: staged
            ? {
                sourceType: ['S3'],
                sourceInfo: [JSON.stringify({ path: staged.url })],
                commandLine: [staged.commandLine],
                executionTimeout: [String(command.executionTimeoutSeconds)],
              }
            : {
                commands: [command.script],
                executionTimeout: [String(command.executionTimeoutSeconds)],
              },
          OutputS3BucketName: this.options.outputBucket,
          OutputS3KeyPrefix: this.options.outputPrefix,
        }),
      );
      const commandId = result.Command?.CommandId;
      if (!commandId) throw new TransientError('SSM accepted the command but returned no command id');
      return { commandId };
    } catch (error) {
      throw translateAwsError(error, `sending a command to ${command.agentId}`);
    }
  }

  /**
   * A script too large to send inline goes to the bucket, named by its
   * content (a retry uploads the same object again), and the computer's agent
   * downloads it with AWS-RunRemoteScript.
   */
  private async stage(command: AgentCommand): Promise<{ url: string; commandLine: string }> {
    const extension = command.platform === 'windows' ? 'ps1' : 'sh';
    const file = `nightshift-${createHash('sha256').update(command.script).digest('hex').slice(0, 32)}.${extension}`;
    const key = `${STAGED_SCRIPT_PREFIX}${file}`;
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.options.outputBucket,
          Key: key,
          // a byte order mark keeps Windows PowerShell from reading the file in the ANSI code page
          Body: command.platform === 'windows' ? `\uFEFF${command.script}` : command.script,
          ContentType: 'text/plain; charset=utf-8',
        }),
      );
    } catch (error) {
      throw translateAwsError(error, `staging a ${Buffer.byteLength(command.script, 'utf8')}-byte script`);
    }
    return {
      url: `https://${this.options.outputBucket}.s3.${this.options.region}.amazonaws.com/${key}`,
      commandLine: command.platform === 'windows' ? `powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File ${file}` : `bash ${file}`,
    };
  }

  async isOnline(agentId: string): Promise<boolean> {
    try {
      const result = await this.ssm.send(
        new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [agentId] }] }),
      );
      return result.InstanceInformationList?.[0]?.PingStatus === 'Online';
    } catch (error) {
      throw translateAwsError(error, `asking whether ${agentId} is online`);
    }
  }

  async cancel(commandId: string, agentId: string): Promise<void> {
    try {
      await this.ssm.send(new CancelCommandCommand({ CommandId: commandId, InstanceIds: [agentId] }));
    } catch (error) {
      // an unknown or finished command, or a deregistered computer: nothing left to cancel
      if (error instanceof Error && (error.name === 'InvalidCommandId' || error.name === 'InvalidInstanceId')) return;
      throw translateAwsError(error, `cancelling command ${commandId}`);
    }
  }

  async getInvocation(commandId: string, agentId: string): Promise<AgentInvocation> {
    try {
      const result = await this.readInvocation(commandId, agentId);
      const inline = result.StandardOutputContent ?? '';
      const truncated = inline.length >= INLINE_OUTPUT_LIMIT;
      const full = truncated && result.StandardOutputUrl ? await this.readS3Url(result.StandardOutputUrl) : undefined;
      return {
        commandId,
        agentId,
        status: invocationStatus(result.Status, result.StatusDetails),
        responseCode: result.ResponseCode ?? -1,
        stdout: full ?? inline,
        stderr: result.StandardErrorContent ?? '',
        stdoutTruncated: truncated && full === undefined,
        comment: result.Comment ?? '',
      };
    } catch (error) {
      // Right after SendCommand the invocation may not be visible yet; the event is retried.
      if (error instanceof InvocationDoesNotExist) {
        throw new TransientError(`invocation ${commandId} on ${agentId} is not visible yet`, { cause: error });
      }
      throw translateAwsError(error, `reading command ${commandId}`);
    }
  }

  /**
   * A staged script runs under AWS-RunRemoteScript, a document of several
   * steps; SSM then wants the step (plugin) named, and answers
   * InvalidPluginName without one. Its run step is one of two, by platform.
   */
  private async readInvocation(commandId: string, agentId: string) {
    for (const pluginName of [undefined, ...REMOTE_SCRIPT_RUN_STEPS]) {
      try {
        return await this.ssm.send(
          new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: agentId, ...(pluginName ? { PluginName: pluginName } : {}) }),
        );
      } catch (error) {
        if (!(error instanceof InvalidPluginName) || pluginName === REMOTE_SCRIPT_RUN_STEPS.at(-1)) throw error;
      }
    }
    throw new Error('unreachable: the last plugin name either answers or throws');
  }

  async findCommand(agentId: string, comment: string, sentAfter: Date): Promise<string | undefined> {
    // `sentAfter` is this function's clock, one table write before the send; SSM stamps the command with its own.
    // The comment is unique (it names the claim's nonce), so a wide margin costs a longer page, never a wrong match.
    const invokedAfter = new Date(Math.floor((sentAfter.getTime() - FIND_COMMAND_CLOCK_MARGIN_MS) / 1000) * 1000);
    try {
      let nextToken: string | undefined;
      do {
        const page = await this.ssm.send(
          new ListCommandsCommand({
            InstanceId: agentId,
            Filters: [{ key: 'InvokedAfter', value: invokedAfter.toISOString() }],
            ...(nextToken ? { NextToken: nextToken } : {}),
          }),
        );
        const match = page.Commands?.find((c) => c.Comment === comment);
        if (match?.CommandId) return match.CommandId;
        nextToken = page.NextToken;
      } while (nextToken);
      return undefined;
    } catch (error) {
      throw translateAwsError(error, `listing commands of ${agentId}`);
    }
  }

  /** `https://s3.<region>.amazonaws.com/<bucket>/<key>` or the virtual-hosted form. Undefined if unreadable. */
  private async readS3Url(url: string): Promise<string | undefined> {
    const location = parseS3Url(url);
    if (!location) return undefined;
    const object = await this.s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }));
    return object.Body ? await object.Body.transformToString('utf-8') : undefined;
  }
}

export function parseS3Url(url: string): { bucket: string; key: string } | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const path = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  const virtualHosted = /^(.+)\.s3[.-]/.exec(parsed.hostname);
  if (virtualHosted?.[1]) return path ? { bucket: virtualHosted[1], key: path } : undefined;
  const [bucket, ...key] = path.split('/');
  return bucket && key.length > 0 ? { bucket, key: key.join('/') } : undefined;
}
