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

/**
 * Items one detection command runs side by side, on both platforms: enough to
 * hide process start-up, few enough not to crowd a busy computer. A batch
 * takes about ceil(items / this) times the slowest item.
 */
export const DETECTION_CONCURRENCY = 4;

/*
 * Secret parameters. The command never carries a secret value, only where the
 * computer fetches it from: `NIGHTSHIFT_SECRET_REFS_JSON` maps each secret
 * parameter's name to its SSM parameter name (SecureString). The script
 * resolves each reference on the computer before a step or an item's test,
 * hands the value to that step's process only (as `NIGHTSHIFT_PARAM_<name>`
 * and inside `NIGHTSHIFT_PARAMETERS_JSON`), and masks every resolved value in
 * the output it prints, which is what SSM and S3 keep.
 */
export const SECRET_REFS_VARIABLE = 'NIGHTSHIFT_SECRET_REFS_JSON';
/** Optional: the region of the secret parameters, for computers whose AWS CLI or Tools have no default region. */
export const SECRETS_REGION_VARIABLE = 'NIGHTSHIFT_SECRETS_REGION';
export const PARAMETERS_JSON_VARIABLE = 'NIGHTSHIFT_PARAMETERS_JSON';
export const PARAMETER_VARIABLE_PREFIX = 'NIGHTSHIFT_PARAM_';
/** What a resolved secret becomes in every output the script prints. */
export const SECRET_MASK = '***';
/** A step or item whose secret could not be resolved ends with this code (sysexits' EX_CONFIG) before its script runs. */
export const SECRET_UNRESOLVED_EXIT_CODE = 78;
/** An action prints `NIGHTSHIFT-SECRET-UNRESOLVED <nonce> <parameter name>` when a step's secret could not be resolved. */
export const SECRET_UNRESOLVED_TAG = 'NIGHTSHIFT-SECRET-UNRESOLVED';
/** One fetch of one secret; a computer that cannot reach SSM in this time cannot run the step. */
export const SECRET_RESOLVE_TIMEOUT_SECONDS = 60;

/** Task parameter names (the catalog's grammar); a reference's name must be one, as it becomes part of a variable name. */
export const PARAMETER_NAME = /^[A-Za-z][A-Za-z0-9_]{0,47}$/;
/** SSM parameter names: the scripts parse references with this alphabet only, so nothing else may reach them. */
const SSM_PARAMETER_NAME = /^[A-Za-z0-9_./-]{1,2048}$/;

/**
 * The `NIGHTSHIFT_SECRET_REFS_JSON` value for parameter name → SSM parameter
 * name. Throws for a name or reference the scripts could not parse, so a bad
 * reference fails when the command is built rather than on the computer.
 */
export function secretReferencesJson(references: Readonly<Record<string, string>>): string {
  for (const [name, reference] of Object.entries(references)) {
    if (!PARAMETER_NAME.test(name)) throw new Error(`not a parameter name: ${JSON.stringify(name)}`);
    if (!SSM_PARAMETER_NAME.test(reference)) throw new Error(`not an SSM parameter name: ${JSON.stringify(reference)}`);
  }
  return JSON.stringify(references);
}

/** Checks a command environment's secret references before they are placed in a script (they travel base64 like any value). */
export function assertSecretReferences(environment: Readonly<Record<string, string>>): void {
  const json = environment[SECRET_REFS_VARIABLE];
  if (json === undefined) return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error(`${SECRET_REFS_VARIABLE} is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !Object.values(parsed).every((value) => typeof value === 'string')) {
    throw new Error(`${SECRET_REFS_VARIABLE} must map parameter names to SSM parameter names`);
  }
  const references = parsed as Record<string, string>;
  secretReferencesJson(references);
  // The script adds each secret to the parameters itself; one that also arrived in clear would be both in the command and twice in the JSON.
  let parameters: unknown = {};
  try {
    parameters = JSON.parse(environment[PARAMETERS_JSON_VARIABLE] ?? '{}');
  } catch {
    throw new Error(`${PARAMETERS_JSON_VARIABLE} is not JSON`);
  }
  for (const name of Object.keys(references)) {
    const inJson = typeof parameters === 'object' && parameters !== null && Object.keys(parameters).some((key) => key.toLowerCase() === name.toLowerCase());
    const inVariable = Object.keys(environment).some((key) => key.toLowerCase() === `${PARAMETER_VARIABLE_PREFIX}${name}`.toLowerCase());
    if (inJson || inVariable) throw new Error(`secret parameter ${name} must arrive only as a reference, not also in clear`);
  }
}

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

/** Room for the longest name a catalog allows (48) behind the longest prefix (`NIGHTSHIFT_PARAM_`). */
export function assertIdentifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,79}$/.test(name)) throw new Error(`not a shell identifier: ${JSON.stringify(name)}`);
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
