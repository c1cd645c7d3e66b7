import { encodeBase64 } from './encoding.js';
import type { ActionScript, DetectionEntry } from './contract.js';
import { ITEM_RECORD_TAG, RESULT_RECORD_TAG, assertIdentifier, assertNonce, positiveSeconds } from './contract.js';

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
  '# Sets every NAME=base64 pair given as arguments.',
  '__ns_env() { local __pair; for __pair in "$@"; do __ns_set "${__pair%%=*}" "${__pair#*=}"; done; }',
].join('\n');

const envArguments = (environment: Readonly<Record<string, string>>): string =>
  Object.entries(environment)
    .map(([name, value]) => `'${assertIdentifier(name)}=${encodeBase64(value)}'`)
    .join(' ');

/**
 * One command that detects every item. Each item runs in its own bash process
 * with its own time limit and its own environment, so a hung or crashing
 * detection cannot hide the others; each reports one record line tagged with
 * the command's nonce, which nothing a detection script prints can forge.
 *
 * Record: `NIGHTSHIFT-ITEM <nonce> <key> <rc> <stdout> <stderr> <test rc|-> <test output>`
 * (key and outputs base64; the test runs only when detection found a version).
 */
export function buildBashDetectionScript(entries: readonly DetectionEntry[], nonce: string): string {
  const lines = [
    '#!/usr/bin/env bash',
    `# Nightshift detection of ${entries.length} item(s). Generated; read-only; safe to re-run.`,
    PRELUDE,
    `__ns_nonce='${assertNonce(nonce)}'`,
    [
      '# $1 key (b64), $2 seconds, $3 detection script (b64), $4 test script (b64, or empty), then NAME=b64 environment',
      '__ns_detect() {',
      '  local key="$1" limit="$2" main="$3" test="$4"; shift 4',
      '  printf \'%s\' "$main" | base64 -d > "$__ns_work/item.sh"',
      '  ( __ns_env "$@"; cd "${NIGHTSHIFT_ROOT:-/}" && exec timeout --kill-after=5 "$limit" bash "$__ns_work/item.sh" ) > "$__ns_work/out" 2> "$__ns_work/err" < /dev/null',
      '  local rc=$? trc=- tout=',
      '  if [ "$rc" -eq 0 ] && [ -n "$test" ] && grep -q "[^[:space:]]" "$__ns_work/out"; then',
      '    printf \'%s\' "$test" | base64 -d > "$__ns_work/test.sh"',
      '    ( __ns_env "$@"; cd "${NIGHTSHIFT_ROOT:-/}" && exec timeout --kill-after=5 "$limit" bash "$__ns_work/test.sh" ) > "$__ns_work/tout" 2>&1 < /dev/null',
      '    trc=$?',
      '    tout="$(tail -c 1024 "$__ns_work/tout" | __ns_b64)"',
      '  fi',
      `  printf '\\n%s %s %s %s %s %s %s %s\\n' '${ITEM_RECORD_TAG}' "$__ns_nonce" "$key" "$rc" "$(tail -c 4096 "$__ns_work/out" | __ns_b64)" "$(tail -c 2048 "$__ns_work/err" | __ns_b64)" "$trc" "$tout"`,
      '}',
    ].join('\n'),
    ...entries.map((entry) =>
      [
        `__ns_detect '${encodeBase64(entry.key)}' ${positiveSeconds(entry.timeoutSeconds)}`,
        `'${encodeBase64(entry.script)}'`,
        `'${entry.testScript === undefined ? '' : encodeBase64(entry.testScript)}'`,
        envArguments(entry.environment),
      ]
        .filter(Boolean)
        .join(' '),
    ),
    'exit 0',
    '',
  ];
  return lines.join('\n');
}

/**
 * One command per action: its steps run in order (an uninstall before the
 * reinstall, say) and the first failing step stops the rest. Reports the exit
 * code, duration and the failed step on a tagged record line and exits with
 * the script's own code, so SSM's status agrees. Idempotent as long as the
 * catalog scripts are (SSM re-runs a command after a reboot it requested).
 *
 * Record: `NIGHTSHIFT-RESULT <nonce> <rc> <duration ms> <failed step|->`
 */
export function buildBashActionScript(action: ActionScript, nonce: string): string {
  const lines = [
    '#!/usr/bin/env bash',
    `# Nightshift action: ${action.description.replace(/[^A-Za-z0-9 ._#:()+-]/g, '?')}. Generated.`,
    PRELUDE,
    `__ns_nonce='${assertNonce(nonce)}'`,
    Object.keys(action.environment).length ? `__ns_env ${envArguments(action.environment)}` : '',
    '__ns_start=$(date +%s%3N)',
    '__ns_rc=0',
    '__ns_failed=-',
    ...action.steps.flatMap((step, index) => [
      `if [ "$__ns_rc" -eq 0 ]; then`,
      `  echo "nightshift: step ${index + 1} of ${action.steps.length}: ${step.label.replace(/[^A-Za-z0-9 ._-]/g, '?')}"`,
      `  printf '%s' '${encodeBase64(step.script)}' | base64 -d > "$__ns_work/step.sh"`,
      '  ( cd "${NIGHTSHIFT_ROOT:-/}" && exec bash "$__ns_work/step.sh" ) < /dev/null',
      `  __ns_rc=$?; [ "$__ns_rc" -eq 0 ] || __ns_failed=${index + 1}`,
      'fi',
    ]),
    '__ns_end=$(date +%s%3N)',
    `printf '\\n%s %s %s %s %s\\n' '${RESULT_RECORD_TAG}' "$__ns_nonce" "$__ns_rc" "$((__ns_end - __ns_start))" "$__ns_failed"`,
    'exit "$__ns_rc"',
    '',
  ].filter((line) => line !== '');
  return lines.join('\n');
}
