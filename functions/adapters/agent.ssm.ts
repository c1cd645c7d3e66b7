import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  CancelCommandCommand,
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  InvalidInstanceId,
  InvalidPluginName,
  InvocationDoesNotExist,
  ListCommandsCommand,
  SendCommandCommand,
  UnsupportedPlatformType,
  type Command,
  type GetCommandInvocationCommandOutput,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { AgentFailedError, AgentUnreachableError, TransientError } from '../core/errors.js';
import {
  OUTPUT_TAIL_BYTES,
  OUTPUT_TRUNCATED_PREFIX,
  assertCommandLimits,
  isInvocationStatus,
  keptTail,
  type AgentCommand,
  type AgentInvocation,
  type InvocationStatus,
} from '../core/model/agent.js';
import type { Platform } from '../core/model/catalog.js';
import type { AgentPort } from '../core/ports/agent.port.js';
import { errorName, translateAwsError } from './aws-errors.js';

export interface SsmAgentOptions {
  /** Full command output lands here; SSM keeps only 24,000 characters inline. */
  readonly outputBucket: string;
  readonly outputPrefix: string;
  /** The bucket's region, for the script URLs AWS-RunRemoteScript downloads from. */
  readonly region: string;
  /** The partition's domain: `amazonaws.com`, or `amazonaws.com.cn` in the China Regions. @default amazonaws.com */
  readonly urlSuffix?: string;
  /** Scripts larger than this many bytes are staged in the bucket instead of sent inline. */
  readonly inlineScriptLimitBytes?: number;
}

/** SSM caps a command's parameters at 64 KB; the rest of the request needs room too. */
export const DEFAULT_INLINE_SCRIPT_LIMIT_BYTES = 60_000;
/** Staged scripts live under this prefix; instance profiles need s3:GetObject on it. */
export const STAGED_SCRIPT_PREFIX = 'staged-scripts/';

/**
 * How a command goes out on each platform: inline, with the platform's
 * one-step document; or, too large for SSM's 64 KB of parameters, staged in
 * the bucket and run by AWS-RunRemoteScript. That document downloads the file
 * and then has one run step per platform, each behind a platform
 * precondition; the other one is skipped and still answers Success, so its
 * result must never be read for the script's.
 */
const DOCUMENTS = {
  linux: { inline: 'AWS-RunShellScript', stagedRunStep: 'runShellScript', stagedExtension: 'sh' },
  windows: { inline: 'AWS-RunPowerShellScript', stagedRunStep: 'runPowerShellScript', stagedExtension: 'ps1' },
} as const satisfies Record<Platform, { inline: string; stagedRunStep: string; stagedExtension: string }>;
const STAGED_DOCUMENT = 'AWS-RunRemoteScript';

/** What SSM keeps of each stream in the invocation itself; the whole goes to the output bucket. */
const INLINE_LIMIT_CHARS = { stdout: 24_000, stderr: 8_000 } as const;

/** What follows the inline part of a stream when the whole cannot be had; `why` says where it was and what went wrong. */
const inlineOnlyNote = (inlineLimitChars: number, why: string): string =>
  `\n${OUTPUT_TRUNCATED_PREFIX} by SSM at ${inlineLimitChars.toLocaleString('en-US')} characters; ${why}]\n`;

/** `StatusDetails` is finer than `Status` (DeliveryTimedOut vs TimedOut); prefer it when we know the word. */
export function invocationStatus(status: string | undefined, details: string | undefined): InvocationStatus {
  const detail = details?.replace(/\s+/g, '');
  if (detail && isInvocationStatus(detail)) return detail;
  if (status && isInvocationStatus(status)) return status;
  return 'Pending';
}

/** How far before the claim a command is looked for: clock skew between Lambda and SSM, with room to spare. */
const FIND_COMMAND_CLOCK_MARGIN_MS = 5 * 60_000;

type InvocationResult = Pick<
  GetCommandInvocationCommandOutput,
  'Status' | 'StatusDetails' | 'ResponseCode' | 'StandardOutputContent' | 'StandardOutputUrl' | 'StandardErrorContent' | 'StandardErrorUrl' | 'Comment'
>;

export class SsmAgent implements AgentPort {
  constructor(
    private readonly ssm: SSMClient,
    private readonly s3: S3Client,
    private readonly options: SsmAgentOptions,
  ) {}

  async send(command: AgentCommand): Promise<{ commandId: string }> {
    assertCommandLimits(command);
    const limit = this.options.inlineScriptLimitBytes ?? DEFAULT_INLINE_SCRIPT_LIMIT_BYTES;
    const staged = Buffer.byteLength(command.script, 'utf8') > limit ? await this.stage(command) : undefined;
    try {
      const result = await this.ssm.send(
        new SendCommandCommand({
          InstanceIds: [command.agentId],
          DocumentName: staged ? STAGED_DOCUMENT : DOCUMENTS[command.platform].inline,
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
      // the same words the sandbox agent uses: a computer SSM does not manage (or a stopped instance) is unreachable;
      // one that cannot run the document's platform was reached, and refused it
      if (error instanceof InvalidInstanceId) {
        throw new AgentUnreachableError(`${command.agentId} is not a computer SSM can send commands to now (InvalidInstanceId)`, { cause: error });
      }
      if (error instanceof Error && error.name === 'AccessDeniedException') {
        // the IAM condition on SendCommand admits only computers carrying the managed-node tag
        throw new AgentUnreachableError(
          `Nightshift may not send commands to ${command.agentId}: tag it with the stack's managed-node tag (nightshift:managed=true by default)`,
          { cause: error },
        );
      }
      if (error instanceof UnsupportedPlatformType) {
        throw new AgentFailedError(`${command.agentId} cannot run a ${command.platform} command (UnsupportedPlatformType)`, { cause: error });
      }
      throw translateAwsError(error, `sending a command to ${command.agentId}`);
    }
  }

  /**
   * A script too large to send inline goes to the bucket, named by its
   * content (a retry uploads the same object again) with its platform's
   * extension (which is how reading the result finds the step that ran it),
   * and the computer's agent downloads it with AWS-RunRemoteScript.
   */
  private async stage(command: AgentCommand): Promise<{ url: string; commandLine: string }> {
    const file = `nightshift-${createHash('sha256').update(command.script).digest('hex').slice(0, 32)}.${DOCUMENTS[command.platform].stagedExtension}`;
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
      url: `https://${this.options.outputBucket}.s3.${this.options.region}.${this.options.urlSuffix ?? 'amazonaws.com'}/${key}`,
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
    let result: InvocationResult;
    try {
      result = await this.readInvocation(commandId, agentId);
    } catch (error) {
      // Right after SendCommand the invocation may not be visible yet; the event is retried.
      if (error instanceof InvocationDoesNotExist) {
        throw new TransientError(`invocation ${commandId} on ${agentId} is not visible yet`, { cause: error });
      }
      throw translateAwsError(error, `reading command ${commandId}`);
    }
    const [stdout, stderr] = await Promise.all([
      this.wholeOutput(result.StandardOutputContent ?? '', INLINE_LIMIT_CHARS.stdout, result.StandardOutputUrl),
      this.wholeOutput(result.StandardErrorContent ?? '', INLINE_LIMIT_CHARS.stderr, result.StandardErrorUrl),
    ]);
    return {
      commandId,
      agentId,
      status: invocationStatus(result.Status, result.StatusDetails),
      responseCode: result.ResponseCode ?? -1,
      stdout: stdout.text,
      stderr: stderr.text,
      stdoutTruncated: stdout.truncated,
      comment: result.Comment ?? '',
    };
  }

  /**
   * The result of the step that ran the script. SSM reads the one step of
   * the inline documents without a name, and answers InvalidPluginName for a
   * document of several: then the command is one we staged, and its run step
   * is its platform's, which the staged file's extension says. No step is
   * tried on the chance that it ran.
   */
  private async readInvocation(commandId: string, agentId: string): Promise<InvocationResult> {
    try {
      return await this.ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: agentId }));
    } catch (error) {
      if (!(error instanceof InvalidPluginName)) throw error;
    }
    const sent = (await this.ssm.send(new ListCommandsCommand({ CommandId: commandId }))).Commands?.[0];
    const runStep = sent ? stagedRunStep(sent) : undefined;
    // someone else's document of several steps: its comment (not ours) is all the completion needs
    if (!sent || !runStep) return { Status: sent?.Status, Comment: sent?.Comment };
    return this.ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: agentId, PluginName: runStep }));
  }

  /**
   * A stream whole, or as much of it as can be had, never more than its last
   * OUTPUT_TAIL_BYTES. SSM keeps the first characters inline and the whole in
   * the bucket, uploaded by the computer itself: an upload that failed (its
   * instance profile may not write there) or a read that is refused must not
   * cost the command its result, so the inline part stands in, with a note.
   */
  private async wholeOutput(inline: string, inlineLimitChars: number, url: string | undefined): Promise<{ text: string; truncated: boolean }> {
    if (inline.length < inlineLimitChars) return { text: inline, truncated: false };
    const location = url ? parseS3Url(url) : undefined;
    if (!location) return { text: `${inline}${inlineOnlyNote(inlineLimitChars, 'no full copy was kept in S3')}`, truncated: true };
    try {
      // only the end: it holds the records, and a script that printed gigabytes costs no more than this
      const object = await this.s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key, Range: `bytes=-${OUTPUT_TAIL_BYTES}` }));
      const tail = object.Body ? await object.Body.transformToString('utf-8') : '';
      return keptTail(tail, totalBytes(object.ContentRange) ?? Buffer.byteLength(tail, 'utf8'));
    } catch (error) {
      // S3 answers AccessDenied for a missing object when the reader may not list the bucket, as this function may not
      const why = `the full output could not be read from s3://${location.bucket}/${location.key}: ${errorName(error)}`;
      return { text: `${inline}${inlineOnlyNote(inlineLimitChars, why)}`, truncated: true };
    }
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
}

/** The run step of a command we staged, from the extension `stage` gave its file; undefined for any other command. */
function stagedRunStep(command: Pick<Command, 'DocumentName' | 'Parameters'>): string | undefined {
  if (command.DocumentName !== STAGED_DOCUMENT) return undefined;
  let path: unknown;
  try {
    path = (JSON.parse(command.Parameters?.sourceInfo?.[0] ?? '{}') as { path?: unknown }).path;
  } catch {
    return undefined;
  }
  if (typeof path !== 'string' || !path.includes(`/${STAGED_SCRIPT_PREFIX}`)) return undefined;
  return Object.values(DOCUMENTS).find((document) => path.endsWith(`.${document.stagedExtension}`))?.stagedRunStep;
}

/** The object's whole size from `Content-Range: bytes 100-199/200`; undefined when S3 did not say. */
function totalBytes(contentRange: string | undefined): number | undefined {
  const total = contentRange ? /\/(\d+)$/.exec(contentRange)?.[1] : undefined;
  return total === undefined ? undefined : Number(total);
}

/** `https://s3.<region>.amazonaws.com/<bucket>/<key>` or the virtual-hosted form. Undefined if unreadable. */
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
