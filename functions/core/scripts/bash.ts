import { encodeBase64 } from './encoding.js';

/**
 * Generated bash for Linux computers (`AWS-RunShellScript`, or the sandbox agent).
 *
 * Nothing user-supplied is ever spliced into script text: catalog scripts and
 * parameter values travel base64-encoded (an alphabet that is inert inside
 * single quotes) and are decoded by the script itself at run time.
 *
 * Every script honours `NIGHTSHIFT_ROOT` (empty in AWS, the machine folder in
 * the sandbox) so the same catalog scripts run in both places.
 */

export const ITEM_RECORD_TAG = 'NIGHTSHIFT-ITEM';
export const RESULT_RECORD_TAG = 'NIGHTSHIFT-RESULT';
export const REBOOT_MARKER = 'NIGHTSHIFT-REBOOT-REQUIRED';

export interface DetectionEntry {
  readonly itemId: string;
  readonly script: string;
  readonly timeoutSeconds: number;
}

const PRELUDE = [
  'set -u',
  'export LC_ALL=C',
  'NIGHTSHIFT_ROOT="${NIGHTSHIFT_ROOT-}"',
  'export NIGHTSHIFT_ROOT',
  '__ns_work="$(mktemp -d "${TMPDIR:-/tmp}/nightshift.XXXXXX")" || { echo "nightshift: cannot create a work folder" >&2; exit 70; }',
  "trap 'rm -rf \"$__ns_work\"' EXIT",
  "__ns_b64() { base64 | tr -d '\\n'; }",
  '# Decodes $2 into variable $1 verbatim: the trailing "x" keeps command substitution from eating final newlines.',
  '__ns_set() { local __v; __v="$(printf \'%s\' "$2" | base64 -d; printf x)"; printf -v "$1" \'%s\' "${__v%x}"; export "$1"; }',
].join('\n');

/**
 * One command that detects every item. Each item runs in its own bash process
 * with its own time limit, so a hung or crashing detection cannot hide the
 * others; each reports one record line tagged with the command's nonce, which
 * the output of a detection script cannot forge.
 */
export function buildBashDetectionScript(entries: readonly DetectionEntry[], nonce: string): string {
  const lines = [
    '#!/usr/bin/env bash',
    `# Nightshift detection of ${entries.length} item(s). Generated; read-only; safe to re-run.`,
    PRELUDE,
    `__ns_nonce='${assertToken(nonce)}'`,
    [
      '__ns_detect() {',
      '  printf \'%s\' "$3" | base64 -d > "$__ns_work/item.sh"',
      '  ( cd "${NIGHTSHIFT_ROOT:-/}" && exec timeout --kill-after=5 "$2" bash "$__ns_work/item.sh" ) > "$__ns_work/out" 2> "$__ns_work/err" < /dev/null',
      '  local rc=$?',
      `  printf '\\n%s %s %s %s %s %s\\n' '${ITEM_RECORD_TAG}' "$__ns_nonce" "$1" "$rc" "$(tail -c 4096 "$__ns_work/out" | __ns_b64)" "$(tail -c 2048 "$__ns_work/err" | __ns_b64)"`,
      '}',
    ].join('\n'),
    ...entries.map(
      (entry) =>
        `__ns_detect '${encodeBase64(entry.itemId)}' ${positiveInteger(entry.timeoutSeconds)} '${encodeBase64(entry.script)}'`,
    ),
    'exit 0',
    '',
  ];
  return lines.join('\n');
}

export interface ActionScriptInput {
  /** Shown in the header comment only, after being reduced to safe characters. */
  readonly description: string;
  readonly script: string;
  /** Exported to the script as environment variables, decoded verbatim. Names must be identifiers. */
  readonly environment: Readonly<Record<string, string>>;
}

/**
 * One command per action. Reports the exit code and duration on a tagged
 * record line and exits with the script's own code, so SSM's status agrees.
 * Idempotent as long as the catalog script is (SSM re-runs a command after a
 * reboot it requested).
 */
export function buildBashActionScript(input: ActionScriptInput, nonce: string): string {
  const lines = [
    '#!/usr/bin/env bash',
    `# Nightshift action: ${input.description.replace(/[^A-Za-z0-9 ._#:()+-]/g, '?')}. Generated.`,
    PRELUDE,
    `__ns_nonce='${assertToken(nonce)}'`,
    ...Object.entries(input.environment).map(
      ([name, value]) => `__ns_set ${assertIdentifier(name)} '${encodeBase64(value)}'`,
    ),
    `printf '%s' '${encodeBase64(input.script)}' | base64 -d > "$__ns_work/action.sh"`,
    '__ns_start=$(date +%s%3N)',
    '( cd "${NIGHTSHIFT_ROOT:-/}" && exec bash "$__ns_work/action.sh" ) < /dev/null',
    '__ns_rc=$?',
    '__ns_end=$(date +%s%3N)',
    `printf '\\n%s %s %s %s\\n' '${RESULT_RECORD_TAG}' "$__ns_nonce" "$__ns_rc" "$((__ns_end - __ns_start))"`,
    'exit "$__ns_rc"',
    '',
  ];
  return lines.join('\n');
}

function assertIdentifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) throw new Error(`not a shell identifier: ${JSON.stringify(name)}`);
  return name;
}

function assertToken(token: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(token)) throw new Error(`not a safe nonce: ${JSON.stringify(token)}`);
  return token;
}

function positiveInteger(value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`not a positive whole number of seconds: ${value}`);
  return value;
}
