import { encodeBase64 } from './encoding.js';
import type { ActionScript, DetectionEntry } from './contract.js';
import {
  DETECTION_CONCURRENCY,
  ITEM_RECORD_TAG,
  PARAMETERS_JSON_VARIABLE,
  PARAMETER_VARIABLE_PREFIX,
  RESULT_RECORD_TAG,
  SECRETS_REGION_VARIABLE,
  SECRET_MASK,
  SECRET_REFS_VARIABLE,
  SECRET_RESOLVE_TIMEOUT_SECONDS,
  SECRET_UNRESOLVED_EXIT_CODE,
  SECRET_UNRESOLVED_TAG,
  assertIdentifier,
  assertNonce,
  assertSecretReferences,
  positiveSeconds,
} from './contract.js';

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

/*
 * The fixed parts of the scripts are built when a script is, not when the
 * module loads: Stryker can then tell which tests read each line, instead of
 * rerunning every test that imports this module for each of its mutants.
 */
const prelude = (): string => [
  // Stryker disable next-line StringLiteral: a safety net; every variable the generated code reads is set or defaulted before it is read
  'set -u',
  'export LC_ALL=C',
  '# Replacement text in ${var//pattern/text} is literal, as in bash before 5.2 ("&" would otherwise insert the match).',
  // Stryker disable next-line StringLiteral: every replacement text here is quoted, and bash 5.2 leaves a quoted "&" alone; this guards an unquoted one
  'shopt -u patsub_replacement 2>/dev/null || true',
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

const envArguments = (environment: Readonly<Record<string, string>>): string => {
  assertSecretReferences(environment);
  return Object.entries(environment)
    .map(([name, value]) => `'${assertIdentifier(name)}=${encodeBase64(value)}'`)
    .join(' ');
};

/** Lines of a multi-line secret this long or longer are masked on their own too (a script may print one line of a key). */
const SECRET_LINE_MIN_CHARS = 4;

/**
 * Secret parameters, resolved on the computer (the contract is in
 * contract.ts). Values live in this script's unexported variables, reach a
 * step only through its own environment, and leave only masked: the step's
 * output is captured in the private work folder and printed with every
 * resolved value (and its JSON-escaped form, and each longer line of it)
 * replaced. Nothing here needs more than bash, coreutils and the AWS CLI.
 */
const secretFunctions = (): string => [
  // Stryker disable next-line StringLiteral: __ns_secrets_load empties these itself before anything reads them
  '__ns_secret_names=() __ns_secret_values=() __ns_secret_forms=() __ns_secret_json= __ns_secret_failed=',
  '# $1 variable, $2 text: the text as the inside of a JSON string.',
  '__ns_json_escape() {',
  '  local __t="$2" __c __o __u __i __bs=\'\\\'',
  '  __t="${__t//"$__bs"/"$__bs$__bs"}"',
  '  __t="${__t//\\"/"$__bs\\""}"',
  '  for ((__i = 1; __i < 32; __i++)); do',
  '    printf -v __o %03o "$__i"',
  '    printf -v __c "\\\\$__o"',
  '    printf -v __u \'\\\\u%04x\' "$__i"',
  '    __t="${__t//"$__c"/"$__u"}"',
  '  done',
  '  printf -v "$1" \'%s\' "$__t"',
  '}',
  `# One reference; the value on stdout. ${SECRETS_REGION_VARIABLE}, when the command sets it, wins over the CLI's own region.`,
  '__ns_secret_fetch() {',
  `  if [ -n "\${${SECRETS_REGION_VARIABLE}-}" ]; then export AWS_REGION="$${SECRETS_REGION_VARIABLE}" AWS_DEFAULT_REGION="$${SECRETS_REGION_VARIABLE}"; fi`,
  `  AWS_PAGER= timeout --kill-after=5 ${SECRET_RESOLVE_TIMEOUT_SECONDS} aws ssm get-parameter --with-decryption --name "$1" --query Parameter.Value --output text < /dev/null`,
  '}',
  `# Resolves every reference in $${SECRET_REFS_VARIABLE} ($1: a private folder for the CLI's errors). On failure says which`,
  `# parameter (never a value) on stderr, leaves its name in __ns_secret_failed and returns ${SECRET_UNRESOLVED_EXIT_CODE}.`,
  '__ns_secrets_load() {',
  `  local refs="\${${SECRET_REFS_VARIABLE}-}" re rest name ref value rc why escaped entries= json line more`,
  // Stryker disable next-line StringLiteral: each process loads once, after the line above emptied these; this keeps the function whole on its own
  '  __ns_secret_names=() __ns_secret_values=() __ns_secret_forms=() __ns_secret_json= __ns_secret_failed=',
  '  [ -n "$refs" ] || return 0',
  "  # The references are ours (contract.ts allows names and SSM parameter names only), so this much JSON is enough.",
  "  re='^[[:space:]]*\\{(.*)\\}[[:space:]]*$'",
  `  [[ $refs =~ $re ]] || { echo "nightshift: ${SECRET_REFS_VARIABLE} is not a JSON object" >&2; return ${SECRET_UNRESOLVED_EXIT_CODE}; }`,
  '  rest="${BASH_REMATCH[1]}"',
  "  re='^[[:space:]]*\"([A-Za-z][A-Za-z0-9_]{0,47})\"[[:space:]]*:[[:space:]]*\"([A-Za-z0-9_./-]+)\"[[:space:]]*(,(.*))?$'",
  "  while [[ $rest == *[![:space:]]* ]]; do",
  `    [[ $rest =~ $re ]] || { echo "nightshift: ${SECRET_REFS_VARIABLE} must map parameter names to SSM parameter names" >&2; return ${SECRET_UNRESOLVED_EXIT_CODE}; }`,
  '    name="${BASH_REMATCH[1]}" ref="${BASH_REMATCH[2]}" rest="${BASH_REMATCH[4]}"',
  '    # The trailing "x" keeps command substitution from eating the final newlines of a value; the CLI adds one.',
  '    value="$(__ns_secret_fetch "$ref" 2> "$1/secret.err"; rc=$?; printf x; exit "$rc")"',
  '    rc=$?',
  '    if [ "$rc" -ne 0 ]; then',
  "      why=\"$(tr -d '\\r' < \"$1/secret.err\" 2>/dev/null | grep -v '^[[:space:]]*$' | tail -n 1 | cut -c 1-200)\"",
  '      [ "$rc" -ne 124 ] || why="no answer within ' + `${SECRET_RESOLVE_TIMEOUT_SECONDS}` + ' seconds"',
  '      [ "$rc" -ne 127 ] || why="the AWS CLI (aws) is not installed"',
  '      echo "nightshift: secret parameter $name could not be resolved from SSM parameter $ref${why:+: $why}" >&2',
  '      __ns_secret_failed="$name"',
  `      return ${SECRET_UNRESOLVED_EXIT_CODE}`,
  '    fi',
  "    value=\"${value%x}\"",
  "    value=\"${value%$'\\n'}\"",
  '    __ns_secret_names+=("$name") __ns_secret_values+=("$value")',
  '    __ns_json_escape escaped "$value"',
  '    entries="${entries:+$entries,}\\"$name\\":\\"$escaped\\""',
  '    [ -z "$value" ] || __ns_secret_forms+=("$value")',
  '    [ "$escaped" = "$value" ] || __ns_secret_forms+=("$escaped")',
  "    if [[ $value == *$'\\n'* ]]; then",
  '      more="$value"',
  '      while [ -n "$more" ]; do',
  "        line=\"${more%%$'\\n'*}\"",
  "        if [[ $more == *$'\\n'* ]]; then more=\"${more#*$'\\n'}\"; else more=; fi",
  "        line=\"${line%$'\\r'}\"",
  `        if [ "\${#line}" -ge ${SECRET_LINE_MIN_CHARS} ] && [[ $line == *[![:space:]]* ]]; then __ns_secret_forms+=("$line"); fi`,
  '      done',
  '    fi',
  '  done',
  '  # Merged into the JSON of the other parameters, which never carries a secret\'s name (contract.ts).',
  `  json="\${${PARAMETERS_JSON_VARIABLE}-}"`,
  '  json="${json%"${json##*[![:space:]]}"}"',
  '  if [ -z "$entries" ]; then __ns_secret_json="$json"',
  "  elif [[ $json != *'}' ]]; then __ns_secret_json=\"{$entries}\"",
  '  else',
  '    json="${json%\\}}"',
  '    json="${json%"${json##*[![:space:]]}"}"',
  "    if [[ $json == *'{' ]]; then __ns_secret_json=\"$json$entries}\"; else __ns_secret_json=\"$json,$entries}\"; fi",
  '  fi',
  '}',
  '# In a subshell that is about to run a step or an item: only its process tree sees the values.',
  '__ns_secrets_export() {',
  // Stryker disable next-line StringLiteral: it runs in the subshell about to exec the step or item, so a global __i ends with it
  '  local __i',
  `  for ((__i = 0; __i < \${#__ns_secret_names[@]}; __i++)); do export "${PARAMETER_VARIABLE_PREFIX}\${__ns_secret_names[$__i]}=\${__ns_secret_values[$__i]}"; done`,
  `  if [ "\${#__ns_secret_names[@]}" -gt 0 ]; then export ${PARAMETERS_JSON_VARIABLE}="$__ns_secret_json"; fi`,
  '}',
  '# Masks every resolved value in variable $1, literally (a quoted pattern has no special characters).',
  '# (Its locals are named apart from the callers\' variables it writes through $1.)',
  '# Longest first: a secret that contains another is masked whole, never left showing around the shorter one.',
  '__ns_scrub() {',
  '  local __scrub_text="${!1}" __scrub_i __scrub_j __scrub_form',
  '  local -a __scrub_forms=("${__ns_secret_forms[@]}")',
  '  for ((__scrub_i = 1; __scrub_i < ${#__scrub_forms[@]}; __scrub_i++)); do',
  '    __scrub_form="${__scrub_forms[__scrub_i]}" __scrub_j=$((__scrub_i - 1))',
  '    while ((__scrub_j >= 0)) && ((${#__scrub_forms[__scrub_j]} < ${#__scrub_form})); do __scrub_forms[__scrub_j + 1]="${__scrub_forms[__scrub_j]}"; __scrub_j=$((__scrub_j - 1)); done',
  '    __scrub_forms[__scrub_j + 1]="$__scrub_form"',
  '  done',
  `  for ((__scrub_i = 0; __scrub_i < \${#__scrub_forms[@]}; __scrub_i++)); do __scrub_text="\${__scrub_text//"\${__scrub_forms[$__scrub_i]}"/"${SECRET_MASK}"}"; done`,
  '  printf -v "$1" \'%s\' "$__scrub_text"',
  '}',
  '# $1 file, $2 bytes: the last $2 bytes of the file, masked (masked first, so no value straddles the cut).',
  '__ns_scrubbed_tail() {',
  // Stryker disable next-line StringLiteral: nothing else in the script reads a variable named __t
  '  local __t',
  '  if [ "${#__ns_secret_forms[@]}" -eq 0 ]; then tail -c "$2" "$1" 2>/dev/null; return 0; fi',
  '  { __t="$(cat "$1"; printf x)"; } 2>/dev/null',
  '  __t="${__t%x}"',
  '  __ns_scrub __t',
  '  [ "${#__t}" -le "$2" ] || __t="${__t:${#__t}-$2}"',
  "  printf '%s' \"$__t\"",
  '}',
].join('\n');

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
    prelude(),
    `__ns_nonce='${assertNonce(nonce)}'`,
    `__ns_parallel=${DETECTION_CONCURRENCY}`,
    secretFunctions(),
    [
      '# $1 slot, $2 key (b64), $3 seconds, $4 detection script (b64), $5 test script (b64, or empty), then NAME=b64 environment.',
      '# Each item has its own files, so items can run side by side; its record goes to a file, printed in order at the end.',
      '__ns_detect() {',
      '  local slot="$1" key="$2" limit="$3" main="$4" test="$5"; shift 5',
      '  local dir="$__ns_work/$slot" rc trc=- tout=',
      '  mkdir "$dir"',
      "  # Already a background job of its own: the item's variables and secrets stay in this process and its children.",
      '  __ns_env "$@"',
      '  if __ns_secrets_load "$dir" 2> "$dir/err"; then',
      '    printf \'%s\' "$main" | base64 -d > "$dir/item.sh"',
      '    ( __ns_secrets_export; cd "${NIGHTSHIFT_ROOT:-/}" && exec timeout --kill-after=5 "$limit" bash "$dir/item.sh" ) > "$dir/out" 2> "$dir/err" < /dev/null',
      '    rc=$?',
      '    if [ "$rc" -eq 0 ] && [ -n "$test" ] && grep -q "[^[:space:]]" "$dir/out"; then',
      '      printf \'%s\' "$test" | base64 -d > "$dir/test.sh"',
      '      ( __ns_secrets_export; cd "${NIGHTSHIFT_ROOT:-/}" && exec timeout --kill-after=5 "$limit" bash "$dir/test.sh" ) > "$dir/tout" 2>&1 < /dev/null',
      '      trc=$?',
      '      tout="$(__ns_scrubbed_tail "$dir/tout" 1024 | __ns_b64)"',
      '    fi',
      '  else',
      '    rc=$?',
      // Stryker disable next-line StringLiteral: the item's folder is new, so without this its missing output file reads as the same empty field
      '    : > "$dir/out"',
      '  fi',
      `  printf '\\n%s %s %s %s %s %s %s %s\\n' '${ITEM_RECORD_TAG}' "$__ns_nonce" "$key" "$rc" "$(__ns_scrubbed_tail "$dir/out" 4096 | __ns_b64)" "$(__ns_scrubbed_tail "$dir/err" 2048 | __ns_b64)" "$trc" "$tout" > "$dir/record"`,
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
      // Stryker disable next-line MethodExpression: only an item without variables has an empty part, and bash reads the trailing space it leaves the same
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

/** A step's output flows straight into the command's. */
const plainStepRunner = (): string => ['__ns_run_step() {', '  ( cd "${NIGHTSHIFT_ROOT:-/}" && exec bash "$__ns_work/step.sh" ) < /dev/null', '}'].join('\n');

/**
 * With secret parameters: resolved once, before the first step that runs (a
 * step that finished before a restart needs none); a step's output is
 * captured in the private work folder and printed masked.
 */
const secretStepRunner = (): string => [
  secretFunctions(),
  '__ns_secrets_ready=0',
  '__ns_run_step() {',
  // Stryker disable next-line StringLiteral: nothing else in the script reads a variable named rc
  '  local rc',
  '  if [ "$__ns_secrets_ready" -eq 0 ]; then',
  '    if ! __ns_secrets_load "$__ns_work"; then',
  `      [ -z "$__ns_secret_failed" ] || printf '\\n%s %s %s\\n' '${SECRET_UNRESOLVED_TAG}' "$__ns_nonce" "$__ns_secret_failed"`,
  `      return ${SECRET_UNRESOLVED_EXIT_CODE}`,
  '    fi',
  '    __ns_secrets_ready=1',
  '  fi',
  '  ( __ns_secrets_export; cd "${NIGHTSHIFT_ROOT:-/}" && exec bash "$__ns_work/step.sh" ) > "$__ns_work/step.out" 2> "$__ns_work/step.err" < /dev/null',
  '  rc=$?',
  '  __ns_scrubbed_tail "$__ns_work/step.out" 2147483647',
  '  __ns_scrubbed_tail "$__ns_work/step.err" 2147483647 >&2',
  // Stryker disable next-line StringLiteral: the next step's redirections empty these files, and the work folder goes at exit
  '  rm -f "$__ns_work/step.out" "$__ns_work/step.err"',
  '  return "$rc"',
  '}',
].join('\n');

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
  const secret = SECRET_REFS_VARIABLE in action.environment;
  const lines = [
    '#!/usr/bin/env bash',
    `# Nightshift action: ${action.description.replace(/[^A-Za-z0-9 ._#:()+-]/g, '?')}. Generated.`,
    prelude(),
    `__ns_nonce='${assertNonce(nonce)}'`,
    ...(Object.keys(action.environment).length ? [`__ns_env ${envArguments(action.environment)}`] : []),
    secret ? secretStepRunner() : plainStepRunner(),
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
        '  __ns_run_step',
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
  ];
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
    // Stryker disable next-line StringLiteral: a safety net; the one variable from outside, NIGHTSHIFT_ROOT, gets its default on the next line
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
