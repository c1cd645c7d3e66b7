import type { DetectedItem } from '../model/session.js';
import { parseVersion } from '../versions.js';
import { ITEM_RECORD_TAG, PARAMETER_NAME, REBOOT_MARKER, RESULT_RECORD_TAG, SECRET_UNRESOLVED_EXIT_CODE, SECRET_UNRESOLVED_TAG } from './contract.js';
import { decodeBase64 } from './encoding.js';

/** Exit codes `timeout` uses for a killed detection (124 on TERM, 137 after KILL). */
const TIMEOUT_EXIT_CODES = new Set([124, 137]);

const lastLine = (text: string): string =>
  text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .at(-1) ?? '';

export interface ExpectedItem {
  readonly key: string;
  readonly kind: 'Software' | 'Task';
}

interface ItemRecord {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly testExitCode?: number;
  readonly testOutput: string;
}

function parseRecord(fields: readonly string[]): { key?: string; record?: ItemRecord } {
  const [keyField, rcField, outField = '', errField = '', testRcField = '-', testOutField = ''] = fields;
  const key = keyField === undefined ? undefined : decodeBase64(keyField);
  const exitCode = rcField !== undefined && /^\d{1,3}$/.test(rcField) ? Number(rcField) : undefined;
  const stdout = decodeBase64(outField);
  const stderr = decodeBase64(errField);
  const testOutput = decodeBase64(testOutField);
  const testOk = testRcField === '-' || /^\d{1,3}$/.test(testRcField);
  if (key === undefined || exitCode === undefined || stdout === undefined || stderr === undefined || testOutput === undefined || !testOk || fields.length > 6) {
    return key === undefined ? {} : { key };
  }
  return {
    key,
    record: { exitCode, stdout, stderr, testOutput, ...(testRcField === '-' ? {} : { testExitCode: Number(testRcField) }) },
  };
}

/**
 * Reads the records of a batched detection. Lines that are not records of
 * this command (script chatter, records with another nonce) are ignored;
 * every expected item without a well-formed record is `Undetermined`, with why.
 */
export function parseDetectionOutput(
  stdout: string,
  nonce: string,
  expected: readonly ExpectedItem[],
  options: { truncated?: boolean } = {},
): Record<string, DetectedItem> {
  const found = new Map<string, ItemRecord>();
  const garbled = new Set<string>();
  const prefix = `${ITEM_RECORD_TAG} ${nonce} `;
  for (const line of stdout.split(/\r?\n/)) {
    if (!line.startsWith(prefix)) continue;
    const { key, record } = parseRecord(line.slice(prefix.length).trim().split(' '));
    if (key === undefined) continue;
    if (!record) garbled.add(key);
    else if (!found.has(key)) found.set(key, record);
  }
  const result: Record<string, DetectedItem> = {};
  for (const item of expected) {
    const record = found.get(item.key);
    result[item.key] = record
      ? item.kind === 'Software'
        ? interpretSoftware(record)
        : interpretTask(record)
      : {
          state: 'Undetermined',
          reason: garbled.has(item.key)
            ? 'the detection record was garbled'
            : options.truncated
              ? 'the detection output was cut off before this item reported'
              : 'the detection reported nothing for this item',
        };
  }
  return result;
}

/**
 * Why an item's secret could not be resolved, when that is why it ended:
 * the scripts then exit 78 with their own line on the item's stderr, before
 * the catalog script ran.
 */
function secretProblem(record: ItemRecord): string | undefined {
  if (record.exitCode !== SECRET_UNRESOLVED_EXIT_CODE) return undefined;
  return /^nightshift: ((?:secret parameter |NIGHTSHIFT_SECRET_REFS_JSON ).*)$/.exec(lastLine(record.stderr))?.[1];
}

function failure(what: string, record: ItemRecord): DetectedItem {
  if (TIMEOUT_EXIT_CODES.has(record.exitCode)) return { state: 'Undetermined', reason: `the ${what} timed out` };
  const secret = secretProblem(record);
  if (secret) return { state: 'Undetermined', reason: `the ${what} did not run: ${secret.slice(0, 200)}` };
  const detail = lastLine(record.stderr) || lastLine(record.stdout);
  return { state: 'Undetermined', reason: `the ${what} exited ${record.exitCode}${detail ? `: ${detail.slice(0, 200)}` : ''}` };
}

function interpretSoftware(record: ItemRecord): DetectedItem {
  if (record.exitCode !== 0) return failure('detection script', record);
  const printed = lastLine(record.stdout);
  if (printed === '') return { state: 'Absent' };
  if (!parseVersion(printed)) {
    return { state: 'Undetermined', reason: `the detection script printed "${printed.slice(0, 80)}", which is not a version` };
  }
  if (record.testExitCode === undefined) return { state: 'Present', version: printed };
  return { state: 'Present', version: printed, test: record.testExitCode === 0 ? 'Passed' : 'Failed' };
}

/** A task's test: exit 0 compliant, exit 1 not compliant, anything else "could not tell". */
function interpretTask(record: ItemRecord): DetectedItem {
  const detail = lastLine(record.stdout).slice(0, 200);
  if (record.exitCode === 0) return detail ? { state: 'Compliant', detail } : { state: 'Compliant' };
  if (record.exitCode === 1) return detail ? { state: 'NotCompliant', detail } : { state: 'NotCompliant' };
  return failure('task test', record);
}

export interface ActionOutput {
  readonly exitCode: number;
  readonly durationMs?: number;
  /** 1-based index of the step that failed, when one did. */
  readonly failedStep?: number;
  readonly rebootRequired: boolean;
  /** The last lines the script printed, without Nightshift's own records. */
  readonly outputTail: string;
  /** The secret parameter that could not be resolved on the computer, when that is why the failed step did not run. */
  readonly unresolvedSecret?: string;
}

const OUTPUT_TAIL_CHARS = 2_000;
/** Windows installers ask for a restart with these exit codes (success, reboot required / initiated). */
const WINDOWS_REBOOT_EXIT_CODES = new Set([3010, 1641]);

/** Reads an action's result; falls back to the agent's exit code when the record is missing (killed, cut off). */
export function parseActionOutput(stdout: string, stderr: string, nonce: string, agentExitCode: number): ActionOutput {
  const prefix = `${RESULT_RECORD_TAG} ${nonce} `;
  const secretPrefix = `${SECRET_UNRESOLVED_TAG} ${nonce} `;
  let exitCode = agentExitCode;
  let durationMs: number | undefined;
  let failedStep: number | undefined;
  let unresolvedSecret: string | undefined;
  const kept: string[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    if (line.startsWith(secretPrefix)) {
      const name = line.slice(secretPrefix.length).trim();
      if (PARAMETER_NAME.test(name)) unresolvedSecret = name;
      continue;
    }
    if (line.startsWith(prefix)) {
      const [rc, ms, step] = line.slice(prefix.length).trim().split(' ');
      if (rc !== undefined && /^-?\d{1,10}$/.test(rc)) exitCode = Number(rc);
      if (ms !== undefined && /^\d+$/.test(ms)) durationMs = Number(ms);
      if (step !== undefined && /^\d+$/.test(step)) failedStep = Number(step);
      continue;
    }
    kept.push(line);
  }
  const rebootByCode = WINDOWS_REBOOT_EXIT_CODES.has(exitCode);
  const text = [kept.join('\n').trimEnd(), stderr.trimEnd()].filter(Boolean).join('\n');
  return {
    // a reboot request is a success that needs a restart, not a failure
    exitCode: rebootByCode ? 0 : exitCode,
    ...(durationMs === undefined ? {} : { durationMs }),
    ...(failedStep === undefined ? {} : { failedStep }),
    ...(unresolvedSecret === undefined ? {} : { unresolvedSecret }),
    rebootRequired: rebootByCode || kept.some((line) => line.trim() === REBOOT_MARKER),
    outputTail: text.slice(-OUTPUT_TAIL_CHARS),
  };
}
