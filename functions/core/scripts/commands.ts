import { ConfigurationError } from '../errors.js';
import type { MaintenanceTask, ParameterValue, Platform, Software, SoftwareDetection } from '../model/catalog.js';
import type { ActionType } from '../model/session.js';
import { buildBashActionScript, buildBashDetectionScript, buildBashRebootScript } from './bash.js';
import {
  PARAMETERS_JSON_VARIABLE,
  PARAMETER_VARIABLE_PREFIX,
  SECRET_REFS_VARIABLE,
  SECRETS_REGION_VARIABLE,
  secretReferencesJson,
  type ActionScript,
  type ActionStep,
  type DetectionEntry,
} from './contract.js';
import { buildPowerShellActionScript, buildPowerShellDetectionScript, buildPowerShellRebootScript, windowsDetection } from './powershell.js';

/**
 * Turns catalog items into the platform-neutral script shapes of
 * `contract.ts`, then into the platform's script. The fixed detection bodies
 * below are ours; everything that comes from the catalog (match text,
 * package names, parameter values) reaches them through the environment.
 */

/** Detection by package database. Upstream version only: Debian epochs, revisions and repack suffixes are not the vendor's version. */
const LINUX_PACKAGE_DETECTION = [
  'pkg_rows() {',
  '  if command -v dpkg-query >/dev/null 2>&1 && [ -d "$NIGHTSHIFT_ROOT/var/lib/dpkg" ]; then',
  '    dpkg-query --admindir="$NIGHTSHIFT_ROOT/var/lib/dpkg" -W -f=\'${db:Status-Abbrev}\\t${Package}\\t${Version}\\n\' 2>/dev/null \\',
  '      | awk -F\'\\t\' \'$1 ~ /^ii/ { v = $3; sub(/^[0-9]+:/, "", v); sub(/-[^-]*$/, "", v); sub(/[.+~](dfsg|ds|repack)[0-9.]*$/, "", v); print $2 "\\t" v }\'',
  '  elif command -v rpm >/dev/null 2>&1; then',
  '    rpm --root "${NIGHTSHIFT_ROOT:-/}" -qa --qf \'%{NAME}\\t%{VERSION}\\n\' 2>/dev/null',
  '  fi',
  '}',
  'want="$NIGHTSHIFT_DETECT_VALUE"',
  'mode="$NIGHTSHIFT_DETECT_MODE"',
  'pkg_rows | while IFS=$\'\\t\' read -r name version; do',
  '  case "$mode" in',
  '    Exact) [ "$name" = "$want" ] || continue ;;',
  '    Regex) [[ "$name" =~ $want ]] || continue ;;',
  '    *) [[ "${name,,}" == *"${want,,}"* ]] || continue ;;',
  '  esac',
  '  printf \'%s\\n\' "$version"',
  '  break',
  'done',
  '',
].join('\n');

function linuxDetection(detection: SoftwareDetection): { script: string; environment: Record<string, string> } {
  switch (detection.method) {
    case 'Script':
      return { script: detection.script, environment: {} };
    case 'PackageName':
      return { script: LINUX_PACKAGE_DETECTION, environment: { NIGHTSHIFT_DETECT_MODE: 'Exact', NIGHTSHIFT_DETECT_VALUE: detection.value } };
    case 'DisplayName':
      return { script: LINUX_PACKAGE_DETECTION, environment: { NIGHTSHIFT_DETECT_MODE: detection.match, NIGHTSHIFT_DETECT_VALUE: detection.value } };
  }
}

/**
 * Parameters reach task scripts as `NIGHTSHIFT_PARAM_<name>` and all together
 * as `NIGHTSHIFT_PARAMETERS_JSON`. A secret parameter travels only as its
 * reference, in `NIGHTSHIFT_SECRET_REFS_JSON` (parameter name → SSM parameter
 * name): the script reads the value on the computer, adds it to both for the
 * step's own process, and masks it in what it prints. So the command, and
 * everything that records it, never holds the value.
 */
export function parameterEnvironment(
  parameters: Readonly<Record<string, ParameterValue>>,
  secretReferences: Readonly<Record<string, string>> = {},
  secretsRegion?: string,
): Record<string, string> {
  // a secret's frozen value is only the marker: its reference takes its place
  const plain = Object.fromEntries(Object.entries(parameters).filter(([name]) => !Object.hasOwn(secretReferences, name)));
  const environment: Record<string, string> = { [PARAMETERS_JSON_VARIABLE]: JSON.stringify(plain) };
  for (const [name, value] of Object.entries(plain)) environment[`${PARAMETER_VARIABLE_PREFIX}${name}`] = String(value);
  // only when there are secrets: a task without any is sent exactly as before
  if (Object.keys(secretReferences).length > 0) {
    environment[SECRET_REFS_VARIABLE] = secretReferencesJson(secretReferences);
    if (secretsRegion !== undefined) environment[SECRETS_REGION_VARIABLE] = secretsRegion;
  }
  return environment;
}

type TaskMethod = 'test' | 'get' | 'set';

/** The script for one method of a task, and the method name it is told (combined scripts branch on it). */
function taskScript(task: MaintenanceTask, method: TaskMethod): string | undefined {
  if (task.scripts.style === 'Combined') return task.scripts.script;
  return task.scripts[method];
}

export interface DetectionItem {
  readonly key: string;
  readonly platform: Platform;
  readonly software?: Software;
  readonly task?: MaintenanceTask;
  readonly parameters?: Readonly<Record<string, ParameterValue>>;
  /** Secret parameters by reference (see `parameterEnvironment`). */
  readonly secretReferences?: Readonly<Record<string, string>>;
  /** Where the computer reads them (see `AgentSettings.secretsRegion`). */
  readonly secretsRegion?: string;
}

export function detectionEntry(item: DetectionItem, timeoutSeconds: number): DetectionEntry {
  if (item.software) {
    const { script, environment } = item.platform === 'windows' ? windowsDetection(item.software.detection) : linuxDetection(item.software.detection);
    return {
      key: item.key,
      script,
      environment,
      ...(item.software.testScript === undefined ? {} : { testScript: item.software.testScript }),
      timeoutSeconds,
    };
  }
  if (item.task) {
    return {
      key: item.key,
      script: taskScript(item.task, 'test') ?? 'exit 2',
      environment: { NIGHTSHIFT_TASK_METHOD: 'test', ...parameterEnvironment(item.parameters ?? {}, item.secretReferences, item.secretsRegion) },
      timeoutSeconds,
    };
  }
  throw new Error(`detection item ${item.key} has neither software nor task`);
}

export function buildDetectionScript(platform: Platform, entries: readonly DetectionEntry[], nonce: string): string {
  return platform === 'windows' ? buildPowerShellDetectionScript(entries, nonce) : buildBashDetectionScript(entries, nonce);
}

export interface SoftwareActionInput {
  readonly type: ActionType;
  readonly software: Software;
  readonly toVersion?: string;
  readonly fromVersion?: string;
}

/** The steps an action takes: a downgrade or repair removes first, then installs. */
export function softwareSteps(input: SoftwareActionInput): ActionStep[] {
  const { software } = input;
  const install: ActionStep = { label: `install ${software.name}`, script: software.installScript };
  const uninstall: ActionStep = { label: `uninstall ${software.name}`, script: software.uninstallScript };
  switch (input.type) {
    case 'Install':
      return [install];
    case 'Update':
      return [software.upgradeScript ? { label: `upgrade ${software.name}`, script: software.upgradeScript } : install];
    case 'Uninstall':
      return [uninstall];
    case 'Downgrade':
    case 'Reinstall':
      return [uninstall, install];
    default:
      throw new Error(`${input.type} is not a software action`);
  }
}

export function taskSteps(type: ActionType, task: MaintenanceTask): { steps: ActionStep[]; method: TaskMethod } {
  if (type === 'TaskEnforce') {
    const script = taskScript(task, 'set');
    if (script === undefined) throw new ConfigurationError(`task ${task.id} has no set script, so it cannot be enforced`);
    return { steps: [{ label: `set ${task.name}`, script }], method: 'set' };
  }
  if (type === 'TaskAudit') {
    // an audit reads: the get method when there is one, otherwise the test
    const get = taskScript(task, 'get');
    if (get !== undefined) return { steps: [{ label: `get ${task.name}`, script: get }], method: 'get' };
    return { steps: [{ label: `test ${task.name}`, script: taskScript(task, 'test') ?? 'exit 2' }], method: 'test' };
  }
  throw new Error(`${type} is not a task action that runs`);
}

export function buildActionScript(platform: Platform, action: ActionScript, nonce: string): string {
  return platform === 'windows' ? buildPowerShellActionScript(action, nonce) : buildBashActionScript(action, nonce);
}

export function buildRebootScript(platform: Platform, nonce: string): string {
  return platform === 'windows' ? buildPowerShellRebootScript(nonce) : buildBashRebootScript(nonce);
}
