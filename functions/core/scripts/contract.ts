/**
 * What every script generator (bash, PowerShell) produces and every parser
 * reads: the shapes of detection entries and action scripts, and the tagged
 * record lines scripts print. One contract, so the SSM and sandbox agents
 * and both platforms agree.
 */

export const ITEM_RECORD_TAG = 'NIGHTSHIFT-ITEM';
export const RESULT_RECORD_TAG = 'NIGHTSHIFT-RESULT';
/** A script prints this line when the computer must restart to finish. */
export const REBOOT_MARKER = 'NIGHTSHIFT-REBOOT-REQUIRED';

export interface DetectionEntry {
  /** The item key (`software:firefox`), reported back in the record. */
  readonly key: string;
  /** Prints a version (software) or exits 0/1 (task test). */
  readonly script: string;
  /** Software health check, run only when a version was found. */
  readonly testScript?: string;
  /** Exported to the item's scripts (never interpolated). Names must be identifiers. */
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
}

export interface ActionStep {
  /** Shown in the output, reduced to safe characters. */
  readonly label: string;
  readonly script: string;
}

export interface ActionScript {
  /** Shown in the header comment only, reduced to safe characters. */
  readonly description: string;
  readonly steps: readonly ActionStep[];
  /** Exported to every step (never interpolated). Names must be identifiers. */
  readonly environment: Readonly<Record<string, string>>;
}

export function assertIdentifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) throw new Error(`not a shell identifier: ${JSON.stringify(name)}`);
  return name;
}

export function assertNonce(nonce: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(nonce)) throw new Error(`not a safe nonce: ${JSON.stringify(nonce)}`);
  return nonce;
}

export function positiveSeconds(value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`not a positive whole number of seconds: ${value}`);
  return value;
}
