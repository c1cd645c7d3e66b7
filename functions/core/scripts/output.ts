import type { DetectedItem } from '../model/session.js';
import { parseVersion } from '../versions.js';
import { ITEM_RECORD_TAG, REBOOT_MARKER, RESULT_RECORD_TAG } from './bash.js';
import { decodeBase64 } from './encoding.js';

/** Exit codes `timeout` uses for a killed detection (124 on TERM, 137 after KILL). */
const TIMEOUT_EXIT_CODES = new Set([124, 137]);

const lastLine = (text: string): string =>
  text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .at(-1) ?? '';

/**
 * Reads the records of a batched detection. Lines that are not records of
 * this command (script chatter, records with another nonce) are ignored;
 * every expected item without a well-formed record is `Undetermined`, with why.
 */
export function parseDetectionOutput(
  stdout: string,
  nonce: string,
  expectedItemIds: readonly string[],
  options: { truncated?: boolean } = {},
): Record<string, DetectedItem> {
  const found = new Map<string, DetectedItem>();
  const garbled: string[] = [];
  const prefix = `${ITEM_RECORD_TAG} ${nonce} `;
  for (const line of stdout.split(/\r?\n/)) {
    if (!line.startsWith(prefix)) continue;
    const fields = line.slice(prefix.length).trim().split(' ');
    const [idField, rcField, outField = '', errField = ''] = fields;
    const itemId = idField === undefined ? undefined : decodeBase64(idField);
    const exitCode = rcField !== undefined && /^\d{1,3}$/.test(rcField) ? Number(rcField) : undefined;
    const out = decodeBase64(outField);
    const err = decodeBase64(errField);
    if (itemId === undefined || exitCode === undefined || out === undefined || err === undefined || fields.length > 4) {
      if (itemId !== undefined) garbled.push(itemId);
      continue;
    }
    if (!found.has(itemId)) found.set(itemId, interpretDetection(exitCode, out, err));
  }
  const result: Record<string, DetectedItem> = {};
  for (const itemId of expectedItemIds) {
    result[itemId] =
      found.get(itemId) ??
      ({
        state: 'Undetermined',
        reason: garbled.includes(itemId)
          ? 'the detection record was garbled'
          : options.truncated
            ? 'the detection output was cut off before this item reported'
            : 'the detection reported nothing for this item',
      } as const);
  }
  return result;
}

function interpretDetection(exitCode: number, stdout: string, stderr: string): DetectedItem {
  if (TIMEOUT_EXIT_CODES.has(exitCode)) return { state: 'Undetermined', reason: 'the detection script timed out' };
  if (exitCode !== 0) {
    const detail = lastLine(stderr) || lastLine(stdout);
    return {
      state: 'Undetermined',
      reason: `the detection script exited ${exitCode}${detail ? `: ${detail.slice(0, 200)}` : ''}`,
    };
  }
  const printed = lastLine(stdout);
  if (printed === '') return { state: 'Absent' };
  if (!parseVersion(printed)) {
    return { state: 'Undetermined', reason: `the detection script printed "${printed.slice(0, 80)}", which is not a version` };
  }
  return { state: 'Present', version: printed };
}

export interface ActionOutput {
  readonly exitCode: number;
  readonly durationMs?: number;
  readonly rebootRequired: boolean;
  /** The last lines the script printed, without Nightshift's own records. */
  readonly outputTail: string;
}

const OUTPUT_TAIL_CHARS = 2_000;

/** Reads an action's result; falls back to the agent's exit code when the record is missing (killed, cut off). */
export function parseActionOutput(stdout: string, stderr: string, nonce: string, agentExitCode: number): ActionOutput {
  const prefix = `${RESULT_RECORD_TAG} ${nonce} `;
  let exitCode = agentExitCode;
  let durationMs: number | undefined;
  const kept: string[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    if (line.startsWith(prefix)) {
      const [rc, ms] = line.slice(prefix.length).trim().split(' ');
      if (rc !== undefined && /^\d{1,3}$/.test(rc)) exitCode = Number(rc);
      if (ms !== undefined && /^\d+$/.test(ms)) durationMs = Number(ms);
      continue;
    }
    kept.push(line);
  }
  const text = [kept.join('\n').trimEnd(), stderr.trimEnd()].filter(Boolean).join('\n');
  return {
    exitCode,
    ...(durationMs === undefined ? {} : { durationMs }),
    rebootRequired: kept.some((line) => line.trim() === REBOOT_MARKER),
    outputTail: text.slice(-OUTPUT_TAIL_CHARS),
  };
}
