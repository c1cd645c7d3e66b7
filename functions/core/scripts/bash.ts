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

/** Items detected side by side; enough to hide process start-up, few enough not to crowd a busy computer. */
const DETECTION_PARALLELISM = 4;

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
    `__ns_parallel=${DETECTION_PARALLELISM}`,
    [
      '# $1 slot, $2 key (b64), $3 seconds, $4 detection script (b64), $5 test script (b64, or empty), then NAME=b64 environment.',
      '# Each item has its own files, so items can run side by side; its record goes to a file, printed in order at the end.',
      '__ns_detect() {',
      '  local slot="$1" key="$2" limit="$3" main="$4" test="$5"; shift 5',
      '  local dir="$__ns_work/$slot"',
      '  mkdir "$dir"',
      '  printf \'%s\' "$main" | base64 -d > "$dir/item.sh"',
      '  ( __ns_env "$@"; cd "${NIGHTSHIFT_ROOT:-/}" && exec timeout --kill-after=5 "$limit" bash "$dir/item.sh" ) > "$dir/out" 2> "$dir/err" < /dev/null',
      '  local rc=$? trc=- tout=',
      '  if [ "$rc" -eq 0 ] && [ -n "$test" ] && grep -q "[^[:space:]]" "$dir/out"; then',
      '    printf \'%s\' "$test" | base64 -d > "$dir/test.sh"',
      '    ( __ns_env "$@"; cd "${NIGHTSHIFT_ROOT:-/}" && exec timeout --kill-after=5 "$limit" bash "$dir/test.sh" ) > "$dir/tout" 2>&1 < /dev/null',
      '    trc=$?',
      '    tout="$(tail -c 1024 "$dir/tout" | __ns_b64)"',
      '  fi',
      `  printf '\\n%s %s %s %s %s %s %s %s\\n' '${ITEM_RECORD_TAG}' "$__ns_nonce" "$key" "$rc" "$(tail -c 4096 "$dir/out" | __ns_b64)" "$(tail -c 2048 "$dir/err" | __ns_b64)" "$trc" "$tout" > "$dir/record"`,
      '}',
      '# At most $__ns_parallel items at once: detection is read-only, and spawning is most of its time.',
      '__ns_running=0',
      '__ns_spawn() {',
      '  if [ "$__ns_running" -ge "$__ns_parallel" ]; then wait -n; __ns_running=$((__ns_running - 1)); fi',
      '  __ns_detect "$@" &',
      '  __ns_running=$((__ns_running + 1))',
      '}',
    ].join('\n'),
    ...entries.map((entry, index) =>
      [
        `__ns_spawn ${index + 1} '${encodeBase64(entry.key)}' ${positiveSeconds(entry.timeoutSeconds)}`,
        `'${encodeBase64(entry.script)}'`,
        `'${entry.testScript === undefined ? '' : encodeBase64(entry.testScript)}'`,
        envArguments(entry.environment),
      ]
        .filter(Boolean)
        .join(' '),
    ),
    'wait',
    `for __ns_slot in $(seq 1 ${entries.length}); do [ -f "$__ns_work/$__ns_slot/record" ] && cat "$__ns_work/$__ns_slot/record"; done`,
    'exit 0',
    '',
  ];
  return lines.join('\n');
}

/**
 * One command per action: its steps run in order (an uninstall before the
 * reinstall, say) and the first failing step stops the rest. Reports the exit
 * code, duration and the failed step on a tagged record line and exits with
 * the script's own code, so SSM's status agrees.
 *
 * Idempotent across restarts: SSM runs the whole command again after a
 * script exits 194 (restart and run again), so each finished step leaves a
 * marker under /var/lib/nightshift and is not run twice; the markers go once
 * the command really ends.
 *
 * Record: `NIGHTSHIFT-RESULT <nonce> <rc> <duration ms> <failed step|->`
 */
export function buildBashActionScript(action: ActionScript, nonce: string): string {
  const count = action.steps.length;
  const lines = [
    '#!/usr/bin/env bash',
    `# Nightshift action: ${action.description.replace(/[^A-Za-z0-9 ._#:()+-]/g, '?')}. Generated.`,
    PRELUDE,
    `__ns_nonce='${assertNonce(nonce)}'`,
    Object.keys(action.environment).length ? `__ns_env ${envArguments(action.environment)}` : '',
    '__ns_state="$NIGHTSHIFT_ROOT/var/lib/nightshift/commands/$__ns_nonce"',
    'mkdir -p "$__ns_state" || { echo "nightshift: cannot create $__ns_state" >&2; exit 70; }',
    '__ns_start=$(date +%s%3N)',
    '__ns_rc=0',
    '__ns_failed=-',
    ...action.steps.flatMap((step, index) => {
      const label = `step ${index + 1} of ${count}: ${step.label.replace(/[^A-Za-z0-9 ._-]/g, '?')}`;
      return [
        `if [ "$__ns_rc" -eq 0 ] && [ -f "$__ns_state/step-${index + 1}.done" ]; then`,
        `  echo "nightshift: ${label} (finished before a restart)"`,
        `elif [ "$__ns_rc" -eq 0 ]; then`,
        `  echo "nightshift: ${label}"`,
        `  printf '%s' '${encodeBase64(step.script)}' | base64 -d > "$__ns_work/step.sh"`,
        '  ( cd "${NIGHTSHIFT_ROOT:-/}" && exec bash "$__ns_work/step.sh" ) < /dev/null',
        '  __ns_rc=$?',
        `  if [ "$__ns_rc" -eq 0 ]; then : > "$__ns_state/step-${index + 1}.done"; else __ns_failed=${index + 1}; fi`,
        'fi',
      ];
    }),
    '# 194 asks SSM to restart and run the command again: keep the markers for that run',
    '[ "$__ns_rc" -eq 194 ] || rm -rf "$__ns_state"',
    '__ns_end=$(date +%s%3N)',
    `printf '\\n%s %s %s %s %s\\n' '${RESULT_RECORD_TAG}' "$__ns_nonce" "$__ns_rc" "$((__ns_end - __ns_start))" "$__ns_failed"`,
    'exit "$__ns_rc"',
    '',
  ].filter((line) => line !== '');
  return lines.join('\n');
}

/**
 * Restarts the computer the SSM way: exit 194 makes the agent restart it and
 * run the command again, and the second run finds its marker and reports
 * success, so the command completes only once the computer is back.
 */
export function buildBashRebootScript(nonce: string): string {
  return [
    '#!/usr/bin/env bash',
    '# Nightshift restart. Generated.',
    'set -u',
    'NIGHTSHIFT_ROOT="${NIGHTSHIFT_ROOT-}"',
    `__ns_nonce='${assertNonce(nonce)}'`,
    '__ns_state="$NIGHTSHIFT_ROOT/var/lib/nightshift/commands/$__ns_nonce"',
    'if [ -f "$__ns_state/restarted" ]; then',
    '  rm -rf "$__ns_state"',
    '  echo "nightshift: the computer restarted"',
    `  printf '\\n%s %s 0 0 -\\n' '${RESULT_RECORD_TAG}' "$__ns_nonce"`,
    '  exit 0',
    'fi',
    'mkdir -p "$__ns_state" && : > "$__ns_state/restarted" || { echo "nightshift: cannot record the restart" >&2; exit 70; }',
    'echo "nightshift: restarting the computer"',
    'exit 194',
    '',
  ].join('\n');
}
