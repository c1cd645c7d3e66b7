import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBashActionScript, buildBashDetectionScript, buildBashRebootScript } from '../../functions/core/scripts/bash.js';
import { secretReferencesJson, type DetectionEntry } from '../../functions/core/scripts/contract.js';
import { decodeBase64 } from '../../functions/core/scripts/encoding.js';
import { parseActionOutput, parseDetectionOutput } from '../../functions/core/scripts/output.js';

/*
 * Rules of the generated bash that bash-scripts.test.ts leaves aside, each
 * run for real: the restart script, what happens when the script cannot
 * create its folders, the secrets' Region and time limit, how a secret joins
 * the parameters JSON, and how much of an item's output its record keeps.
 */

const root = mkdtempSync(path.join(tmpdir(), 'nightshift-bash-rules-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Run {
  readonly stdout: string;
  readonly stderr: string;
  readonly status: number | null;
}

function runBash(script: string, env: Record<string, string> = {}): Run {
  const result = spawnSync('bash', ['-c', script], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', NIGHTSHIFT_ROOT: root, TMPDIR: root, ...env },
    encoding: 'utf8',
    timeout: 30_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { stdout: result.stdout, stderr: result.stderr, status: result.status };
}

const entry = (key: string, script: string, extra: Partial<DetectionEntry> = {}): DetectionEntry => ({ key, script, environment: {}, timeoutSeconds: 5, ...extra });

/** The decoded fields of the one record of `key` in a detection's output. */
function recordFields(stdout: string, nonce: string, key: string): string[] {
  const line = stdout.split('\n').find((candidate) => candidate.startsWith(`NIGHTSHIFT-ITEM ${nonce} ${Buffer.from(key).toString('base64')} `));
  if (line === undefined) throw new Error(`no record for ${key} in ${stdout}`);
  return line.split(' ').slice(2);
}

describe('the bash restart script (run for real)', () => {
  it('asks SSM for a restart with 194 the first time, and reports success once run again after it, leaving nothing behind', () => {
    const script = buildBashRebootScript('n_r1');
    expect(script.split('\n').slice(0, 2)).toEqual(['#!/usr/bin/env bash', '# Nightshift restart. Generated.']);
    const first = runBash(script);
    expect(first).toEqual({ stdout: 'nightshift: restarting the computer\n', stderr: '', status: 194 });
    expect(existsSync(path.join(root, 'var/lib/nightshift/commands/n_r1/restarted'))).toBe(true);
    const second = runBash(script);
    expect(second.status).toBe(0);
    expect(second.stdout).toBe('nightshift: the computer restarted\n\nNIGHTSHIFT-RESULT n_r1 0 0 -\n');
    expect(parseActionOutput(second.stdout, second.stderr, 'n_r1', 0)).toEqual({ exitCode: 0, durationMs: 0, rebootRequired: false, outputTail: 'nightshift: the computer restarted' });
    expect(existsSync(path.join(root, 'var/lib/nightshift/commands/n_r1'))).toBe(false);
    // a third run is a new restart, not another success
    expect(runBash(script).status).toBe(194);
  });

  it('exits 70 without restarting when it cannot record the restart', () => {
    const blocked = path.join(root, 'blocked-root');
    writeFileSync(blocked, 'a file where the root folder should be');
    const run = runBash(buildBashRebootScript('n_r2'), { NIGHTSHIFT_ROOT: blocked });
    expect(run.status).toBe(70);
    expect(run.stderr).toContain('nightshift: cannot record the restart\n');
    expect(run.stdout).toBe('');
  });

  it('refuses a nonce that is not safe in script text', () => {
    expect(() => buildBashRebootScript("n'; reboot")).toThrow('not a safe nonce');
  });

  it('keeps its marker under /var/lib when NIGHTSHIFT_ROOT is unset (as under SSM), rather than stopping on the unset variable', () => {
    // mkdir stands in for the real one, so the test writes nothing outside its folder
    const seen = path.join(root, 'mkdir-args');
    const script = `mkdir() { printf '%s\\n' "$*" > '${seen}'; return 1; }\n${buildBashRebootScript('n_r3')}`;
    const run = spawnSync('bash', ['-c', script], { cwd: root, env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
    expect(run.stderr).toBe('nightshift: cannot record the restart\n');
    expect(run.status).toBe(70);
    expect(readFileSync(seen, 'utf8')).toBe('-p /var/lib/nightshift/commands/n_r3\n');
  });
});

describe('when the scripts cannot create their folders', () => {
  it('stops a detection and an action with 70 when there is no work folder', () => {
    const env = { TMPDIR: path.join(root, 'no-such-folder') };
    const detection = runBash(buildBashDetectionScript([entry('software:a', 'touch "$NIGHTSHIFT_ROOT/detected"\n')], 'n_w1'), env);
    expect(detection).toMatchObject({ status: 70, stderr: expect.stringContaining('nightshift: cannot create a work folder') as unknown, stdout: '' });
    const action = runBash(buildBashActionScript({ description: 'x', steps: [{ label: 'x', script: 'touch "$NIGHTSHIFT_ROOT/acted"\n' }], environment: {} }, 'n_w1'), env);
    expect(action.status).toBe(70);
    expect(existsSync(path.join(root, 'detected'))).toBe(false);
    expect(existsSync(path.join(root, 'acted'))).toBe(false);
  });

  it('stops an action with 70, naming the folder, when it cannot keep its step markers', () => {
    const blocked = path.join(root, 'blocked-state');
    writeFileSync(blocked, 'a file');
    const run = runBash(buildBashActionScript({ description: 'x', steps: [{ label: 'x', script: 'echo ran\n' }], environment: {} }, 'n_w2'), { NIGHTSHIFT_ROOT: blocked });
    expect(run.status).toBe(70);
    expect(run.stderr).toContain(`nightshift: cannot create ${blocked}/var/lib/nightshift/commands/n_w2`);
    expect(run.stdout).not.toContain('ran');
  });
});

describe('the action script text', () => {
  it('describes itself in its header, reduced to safe characters, and labels each step in the output the same way', () => {
    const script = buildBashActionScript(
      { description: 'Install App (x64) #2: v1.0+beta_1-rc; `rm` $HOME', steps: [{ label: 'step #1: "go"; $x', script: 'exit 0\n' }, { label: 'two', script: 'exit 0\n' }], environment: {} },
      'n_t1',
    );
    expect(script.split('\n').slice(0, 2)).toEqual(['#!/usr/bin/env bash', '# Nightshift action: Install App (x64) #2: v1.0+beta_1-rc? ?rm? ?HOME. Generated.']);
    const run = runBash(script);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('nightshift: step 1 of 2: step ?1? ?go?? ?x\n');
    expect(run.stdout).toContain('nightshift: step 2 of 2: two\n');
  });

  it('runs a step in the root folder, with no input, and without the parent shell\'s variables', () => {
    const script = buildBashActionScript(
      { description: 'x', steps: [{ label: 'x', script: 'pwd\nread -r line && echo "read $line" || echo "no input"\necho "work=${__ns_work-unset}"\n' }], environment: {} },
      'n_t2',
    );
    const run = runBash(script);
    expect(run.stdout).toContain(`\n${root}\nno input\nwork=unset\n`);
  });

  it('sends an action with no environment and no steps as an empty success', () => {
    const script = buildBashActionScript({ description: 'nothing', steps: [], environment: {} }, 'n_t3');
    expect(script).not.toContain('__ns_env \n');
    const run = runBash(script);
    expect(run.status).toBe(0);
    expect(parseActionOutput(run.stdout, run.stderr, 'n_t3', -1)).toMatchObject({ exitCode: 0, rebootRequired: false });
    expect(run.stdout).toMatch(/\nNIGHTSHIFT-RESULT n_t3 0 \d+ -\n$/);
  });

  it('treats "&" in a value as a literal character wherever bash substitutes text', () => {
    const script = buildBashActionScript({ description: 'x', steps: [{ label: 'x', script: 'printf %s "$V" > "$NIGHTSHIFT_ROOT/amp"\n' }], environment: { V: 'a&b\\&c' } }, 'n_t4');
    expect(runBash(script).status).toBe(0);
    expect(readFileSync(path.join(root, 'amp'), 'utf8')).toBe('a&b\\&c');
  });
});

describe('the detection script text', () => {
  it('names the number of items in its header and reports items in their order, whatever order they finish in', () => {
    const script = buildBashDetectionScript(
      [entry('software:slow', 'sleep 1\necho 1.0\n'), entry('software:fast', 'echo 2.0\n'), entry('software:none', 'exit 0\n')],
      'n_d1',
    );
    expect(script.split('\n').slice(0, 2)).toEqual(['#!/usr/bin/env bash', '# Nightshift detection of 3 item(s). Generated; read-only; safe to re-run.']);
    const run = runBash(script);
    expect(run.status).toBe(0);
    const keys = run.stdout.split('\n').filter((line) => line.startsWith('NIGHTSHIFT-ITEM n_d1 ')).map((line) => decodeBase64(line.split(' ')[2] ?? ''));
    expect(keys).toEqual(['software:slow', 'software:fast', 'software:none']);
    expect(run.stdout.startsWith('\nNIGHTSHIFT-ITEM n_d1 ')).toBe(true);
  });

  it('runs each item in the root folder with no input, its variables its own', () => {
    const script = buildBashDetectionScript(
      [
        entry('task:a', 'echo "$(pwd) ${MINE-unset} ${OTHER-unset}"\nread -r x && exit 5\nexit 0\n', { environment: { MINE: 'a' } }),
        entry('task:b', 'echo "${MINE-unset} ${OTHER-unset}"\nexit 1\n', { environment: { OTHER: 'b' } }),
      ],
      'n_d2',
    );
    const run = runBash(script);
    expect(parseDetectionOutput(run.stdout, 'n_d2', [{ key: 'task:a', kind: 'Task' }, { key: 'task:b', kind: 'Task' }])).toEqual({
      'task:a': { state: 'Compliant', detail: `${root} a unset` },
      'task:b': { state: 'NotCompliant', detail: 'unset b' },
    });
  });

  it('keeps the last 4,096 bytes of an item\'s output, 2,048 of its errors and 1,024 of its health check', () => {
    const script = buildBashDetectionScript(
      [entry('software:loud', 'head -c 5000 /dev/zero | tr "\\0" a\necho\nhead -c 3000 /dev/zero | tr "\\0" e >&2\necho 1.0\n', { testScript: 'head -c 2000 /dev/zero | tr "\\0" t\necho end\n' })],
      'n_d3',
    );
    const run = runBash(script);
    const [, rc, out = '', err = '', testRc, testOut = ''] = recordFields(run.stdout, 'n_d3', 'software:loud');
    expect([rc, testRc]).toEqual(['0', '0']);
    expect(decodeBase64(out)).toBe(`${'a'.repeat(5000)}\n1.0\n`.slice(-4096));
    expect(decodeBase64(out)).toHaveLength(4096);
    expect(decodeBase64(err)).toBe('e'.repeat(2048));
    expect(decodeBase64(testOut)).toBe(`${'t'.repeat(1020)}end\n`);
  });

  it('passes an item\'s output byte for byte when it has no secrets, NUL bytes too (a shell variable would drop them)', () => {
    const run = runBash(buildBashDetectionScript([entry('task:nul', "printf 'a\\0b\\n'\nexit 0\n")], 'n_d9'));
    const [, rc, out = ''] = recordFields(run.stdout, 'n_d9', 'task:nul');
    expect(rc).toBe('0');
    expect(Buffer.from(out, 'base64')).toEqual(Buffer.from('a\0b\n'));
  });

  it('runs no health check when the detection printed only blank space, or failed', () => {
    const script = buildBashDetectionScript(
      [
        entry('software:blank', 'echo "   "\n', { testScript: 'touch "$NIGHTSHIFT_ROOT/blank-tested"\n' }),
        entry('software:failed', 'echo 1.0\nexit 3\n', { testScript: 'touch "$NIGHTSHIFT_ROOT/failed-tested"\n' }),
      ],
      'n_d4',
    );
    const run = runBash(script);
    expect(recordFields(run.stdout, 'n_d4', 'software:blank')[4]).toBe('-');
    expect(recordFields(run.stdout, 'n_d4', 'software:failed')[4]).toBe('-');
    expect(existsSync(path.join(root, 'blank-tested'))).toBe(false);
    expect(existsSync(path.join(root, 'failed-tested'))).toBe(false);
  });

  it('works without NIGHTSHIFT_ROOT (as under SSM): the root is /, and the scripts see the variable, empty', () => {
    const script = buildBashDetectionScript([entry('task:root', 'echo "$(pwd) [${NIGHTSHIFT_ROOT-unset}]"\nexit 0\n')], 'n_d6');
    const result = spawnSync('bash', ['-c', script], { cwd: root, env: { PATH: process.env.PATH ?? '', TMPDIR: root }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(result.status).toBe(0);
    expect(parseDetectionOutput(result.stdout, 'n_d6', [{ key: 'task:root', kind: 'Task' }])).toEqual({ 'task:root': { state: 'Compliant', detail: '/ []' } });
  });

  it('runs at most four items at once', () => {
    const running = path.join(root, 'running');
    mkdirSync(running, { recursive: true });
    const item = 'mkdir "$NIGHTSHIFT_ROOT/running/$ITEM"\nls "$NIGHTSHIFT_ROOT/running" | wc -l >> "$NIGHTSHIFT_ROOT/at-once"\nsleep 0.5\nrmdir "$NIGHTSHIFT_ROOT/running/$ITEM"\nexit 0\n';
    const script = buildBashDetectionScript(Array.from({ length: 8 }, (_, i) => entry(`task:${i}`, item, { environment: { ITEM: `i${i}` } })), 'n_d7');
    expect(runBash(script).status).toBe(0);
    const counts = readFileSync(path.join(root, 'at-once'), 'utf8').trim().split('\n').map(Number);
    expect(counts).toHaveLength(8);
    expect(Math.max(...counts)).toBeLessThanOrEqual(4);
    expect(Math.max(...counts)).toBeGreaterThan(1);
  });

  it('gives the health check the item\'s time limit too', () => {
    const script = buildBashDetectionScript([entry('software:slow-check', 'echo 1.0\n', { timeoutSeconds: 1, testScript: 'sleep 20\n' })], 'n_d5');
    const started = Date.now();
    const run = runBash(script);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(recordFields(run.stdout, 'n_d5', 'software:slow-check')[4]).toBe('124');
  });
});

describe('how the scripts end', () => {
  it('end with their exit line and a newline: a detection always succeeds (its items report their own failures), an action with its step\'s code, a restart with 194', () => {
    expect(buildBashDetectionScript([entry('software:a', 'exit 3\n')], 'n')).toMatch(/\nwait\nfor __ns_slot in .*\nexit 0\n$/);
    expect(buildBashActionScript({ description: 'd', steps: [], environment: {} }, 'n')).toMatch(/\n[^\n]*NIGHTSHIFT-RESULT.*\nexit "\$__ns_rc"\n$/);
    expect(buildBashRebootScript('n')).toMatch(/\necho "nightshift: restarting the computer"\nexit 194\n$/);
  });
});

describe('the scripts explain themselves', () => {
  it('carry, in order, the comments that tell whoever reads them on the computer (the SSM console shows the script) why a line is there', () => {
    const scripts = [
      buildBashDetectionScript([], 'n'),
      buildBashActionScript({ description: 'd', steps: [], environment: { NIGHTSHIFT_SECRET_REFS_JSON: secretReferencesJson({ a: '/x' }) } }, 'n'),
      buildBashActionScript({ description: 'd', steps: [{ label: 'l', script: 's' }], environment: {} }, 'n'),
      buildBashRebootScript('n'),
    ];
    const comments = [...new Set(scripts.flatMap((script) => script.split('\n').map((line) => line.trim()).filter((line) => line.startsWith('#'))))];
    expect(comments).toEqual([
      '#!/usr/bin/env bash',
      '# Nightshift detection of 0 item(s). Generated; read-only; safe to re-run.',
      '# Replacement text in ${var//pattern/text} is literal, as in bash before 5.2 ("&" would otherwise insert the match).',
      '# Decodes $2 into variable $1 verbatim: the trailing "x" keeps command substitution from eating final newlines.',
      '# Sets every NAME=base64 pair given as arguments.',
      '# $1 variable, $2 text: the text as the inside of a JSON string.',
      "# One reference; the value on stdout. NIGHTSHIFT_SECRETS_REGION, when the command sets it, wins over the CLI's own region.",
      "# Resolves every reference in $NIGHTSHIFT_SECRET_REFS_JSON ($1: a private folder for the CLI's errors). On failure says which",
      '# parameter (never a value) on stderr, leaves its name in __ns_secret_failed and returns 78.',
      '# The references are ours (contract.ts allows names and SSM parameter names only), so this much JSON is enough.',
      '# The trailing "x" keeps command substitution from eating the final newlines of a value; the CLI adds one.',
      "# Merged into the JSON of the other parameters, which never carries a secret's name (contract.ts).",
      '# In a subshell that is about to run a step or an item: only its process tree sees the values.',
      '# Masks every resolved value in variable $1, literally (a quoted pattern has no special characters).',
      "# (Its locals are named apart from the callers' variables it writes through $1.)",
      '# Longest first: a secret that contains another is masked whole, never left showing around the shorter one.',
      '# $1 file, $2 bytes: the last $2 bytes of the file, masked (masked first, so no value straddles the cut).',
      '# $1 slot, $2 key (b64), $3 seconds, $4 detection script (b64), $5 test script (b64, or empty), then NAME=b64 environment.',
      '# Each item has its own files, so items can run side by side; its record goes to a file, printed in order at the end.',
      "# Already a background job of its own: the item's variables and secrets stay in this process and its children.",
      '# At most $__ns_parallel items at once: detection is read-only, and spawning is most of its time.',
      '# Nightshift action: d. Generated.',
      '# 194 asks SSM to restart and run the command again: keep the markers for that run',
      '# Nightshift restart. Generated.',
    ]);
  });
});

describe('secret parameters in bash, the finer rules (run for real, with a fake aws on PATH)', () => {
  const bin = path.join(root, 'bin');
  const seen = path.join(root, 'aws-seen');
  mkdirSync(bin, { recursive: true });
  // answers every reference with its own last path element, or as the test tells it through the reference
  writeFileSync(
    path.join(bin, 'aws'),
    [
      '#!/usr/bin/env bash',
      `printf '%s|%s|%s|%s\\n' "\${AWS_REGION-none}" "\${AWS_DEFAULT_REGION-none}" "\${AWS_PAGER-unset}" "$5" >> '${seen}'`,
      'case "$5" in',
      '  */multi) printf "ab\\nlong-line-one\\nxyz\\n\\n   \\nlast\\r\\n"; echo ;;',
      '  */quote) printf "%s\\n" "q\\"b\\\\s" ;;',
      '  */empty) echo ;;',
      '  */nl) printf "v\\n\\n" ;;',
      '  */fail-quiet) exit 3 ;;',
      '  *) echo "${5##*/}" ;;',
      'esac',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  // the secret fetch is the only thing the action runs under `timeout`: this one says it ran out of time
  const slowBin = path.join(root, 'slow-bin');
  mkdirSync(slowBin, { recursive: true });
  writeFileSync(path.join(slowBin, 'timeout'), `#!/usr/bin/env bash\n[ "$1 $2" = "--kill-after=5 60" ] || exit 9\necho "timed out" >&2\nexit 124\n`, { mode: 0o755 });
  chmodSync(path.join(slowBin, 'timeout'), 0o755);

  const PATH = `${bin}:${process.env.PATH ?? ''}`;
  const action = (references: Record<string, string>, step: string, extra: Record<string, string> = {}): string =>
    buildBashActionScript({ description: 'x', steps: [{ label: 'x', script: step }], environment: { NIGHTSHIFT_SECRET_REFS_JSON: secretReferencesJson(references), ...extra } }, 'n_f1');

  it('sets the Region the command names for the CLI, and turns its pager off', () => {
    rmSync(seen, { force: true });
    expect(runBash(action({ a: '/s/alpha' }, 'exit 0\n', { NIGHTSHIFT_SECRETS_REGION: 'eu-west-3' }), { PATH }).status).toBe(0);
    expect(runBash(action({ a: '/s/alpha' }, 'exit 0\n'), { PATH, AWS_REGION: 'us-east-2' }).status).toBe(0);
    expect(readFileSync(seen, 'utf8')).toBe('eu-west-3|eu-west-3||/s/alpha\nus-east-2|none||/s/alpha\n');
  });

  it('says the CLI gave no answer in time, and that it failed with nothing to say', () => {
    const late = runBash(action({ a: '/s/alpha' }, 'exit 0\n'), { PATH: `${slowBin}:${PATH}` });
    expect(late.status).toBe(78);
    expect(late.stderr).toBe('nightshift: secret parameter a could not be resolved from SSM parameter /s/alpha: no answer within 60 seconds\n');
    const quiet = runBash(action({ b: '/s/fail-quiet' }, 'exit 0\n'), { PATH });
    expect(quiet.status).toBe(78);
    expect(quiet.stderr).toBe('nightshift: secret parameter b could not be resolved from SSM parameter /s/fail-quiet\n');
    expect(parseActionOutput(quiet.stdout, quiet.stderr, 'n_f1', 78)).toMatchObject({ unresolvedSecret: 'b', failedStep: 1 });
  });

  it('adds each secret to the parameters JSON the command sent, whatever its shape', () => {
    const step = 'printf "%s" "$NIGHTSHIFT_PARAMETERS_JSON" > "$NIGHTSHIFT_ROOT/json"\n';
    const json = (extra: Record<string, string>): string => {
      expect(runBash(action({ a: '/s/alpha', b: '/s/beta' }, step, extra), { PATH }).status).toBe(0);
      return readFileSync(path.join(root, 'json'), 'utf8');
    };
    expect(json({})).toBe('{"a":"alpha","b":"beta"}');
    expect(json({ NIGHTSHIFT_PARAMETERS_JSON: '{}' })).toBe('{"a":"alpha","b":"beta"}');
    expect(json({ NIGHTSHIFT_PARAMETERS_JSON: '{ }  ' })).toBe('{"a":"alpha","b":"beta"}');
    expect(json({ NIGHTSHIFT_PARAMETERS_JSON: '{"user":"ana"}\n' })).toBe('{"user":"ana","a":"alpha","b":"beta"}');
    expect(json({ NIGHTSHIFT_PARAMETERS_JSON: '{"user":"ana" }' })).toBe('{"user":"ana","a":"alpha","b":"beta"}');
  });

  it('passes a value exactly, JSON-escaped in the parameters JSON, and masks each of its forms', () => {
    const step = [
      'printf "%s" "$NIGHTSHIFT_PARAM_q" > "$NIGHTSHIFT_ROOT/q"',
      'printf "%s" "$NIGHTSHIFT_PARAM_n" > "$NIGHTSHIFT_ROOT/n"',
      'printf "%s" "$NIGHTSHIFT_PARAM_e" > "$NIGHTSHIFT_ROOT/e"',
      'printf "%s" "$NIGHTSHIFT_PARAMETERS_JSON" > "$NIGHTSHIFT_ROOT/json"',
      'echo "raw=$NIGHTSHIFT_PARAM_q json=$NIGHTSHIFT_PARAMETERS_JSON"',
      'echo "empty=[$NIGHTSHIFT_PARAM_e]"',
      '',
    ].join('\n');
    const run = runBash(action({ q: '/s/quote', n: '/s/nl', e: '/s/empty' }, step), { PATH });
    expect(run.status).toBe(0);
    expect(readFileSync(path.join(root, 'q'), 'utf8')).toBe('q"b\\s');
    expect(readFileSync(path.join(root, 'n'), 'utf8')).toBe('v\n');
    expect(readFileSync(path.join(root, 'e'), 'utf8')).toBe('');
    expect(JSON.parse(readFileSync(path.join(root, 'json'), 'utf8'))).toEqual({ q: 'q"b\\s', n: 'v\n', e: '' });
    expect(run.stdout).toContain('raw=*** json={"q":"***","n":"***","e":""}\n');
    expect(run.stdout).toContain('empty=[]\n');
  });

  it('masks each line of a multi-line secret of four characters or more, but not shorter or blank ones', () => {
    const step = 'printf "%s" "$NIGHTSHIFT_PARAM_m" > "$NIGHTSHIFT_ROOT/m"\necho "1:ab 2:long-line-one 3:xyz 4:last 5:   ."\n';
    const run = runBash(action({ m: '/s/multi' }, step), { PATH });
    expect(run.status).toBe(0);
    expect(readFileSync(path.join(root, 'm'), 'utf8')).toBe('ab\nlong-line-one\nxyz\n\n   \nlast\r\n');
    expect(run.stdout).toContain('1:ab 2:*** 3:xyz 4:*** 5:   .\n');
  });

  it('resolves the secrets once for all the steps, and only for the steps that run', () => {
    rmSync(seen, { force: true });
    const script = buildBashActionScript(
      {
        description: 'x',
        steps: [
          { label: 'one', script: 'echo "one $NIGHTSHIFT_PARAM_a"\n' },
          { label: 'two', script: 'echo "two $NIGHTSHIFT_PARAM_a"\n' },
        ],
        environment: { NIGHTSHIFT_SECRET_REFS_JSON: secretReferencesJson({ a: '/s/alpha' }) },
      },
      'n_f2',
    );
    const run = runBash(script, { PATH });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('one ***\n');
    expect(run.stdout).toContain('two ***\n');
    expect(readFileSync(seen, 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
    // both steps finished before a restart: nothing to resolve
    mkdirSync(path.join(root, 'var/lib/nightshift/commands/n_f2'), { recursive: true });
    writeFileSync(path.join(root, 'var/lib/nightshift/commands/n_f2/step-1.done'), '');
    writeFileSync(path.join(root, 'var/lib/nightshift/commands/n_f2/step-2.done'), '');
    rmSync(seen, { force: true });
    expect(runBash(script, { PATH }).status).toBe(0);
    expect(existsSync(seen)).toBe(false);
  });

  it('masks a detection item\'s secrets in its output and errors, cut to size after masking', () => {
    const script = buildBashDetectionScript(
      [
        entry('task:s', 'for i in $(seq 1 1200); do printf "%s " "$NIGHTSHIFT_PARAM_a"; done\necho\necho "err $NIGHTSHIFT_PARAM_a" >&2\nexit 0\n', {
          environment: { NIGHTSHIFT_SECRET_REFS_JSON: secretReferencesJson({ a: '/s/alphabet' }) },
        }),
      ],
      'n_f3',
    );
    const run = runBash(script, { PATH });
    const [, rc, out = '', err = ''] = recordFields(run.stdout, 'n_f3', 'task:s');
    expect(rc).toBe('0');
    expect(decodeBase64(out)).toBe(`${'*** '.repeat(1200)}\n`.slice(-4096));
    expect(decodeBase64(err)).toBe('err ***\n');
  });

  it('cuts masked output by bytes whatever the computer\'s locale, as the unmasked output is cut', () => {
    const script = buildBashDetectionScript(
      [
        entry('task:wide', 'for i in $(seq 1 3000); do printf "é"; done\necho " $NIGHTSHIFT_PARAM_a"\nexit 0\n', {
          environment: { NIGHTSHIFT_SECRET_REFS_JSON: secretReferencesJson({ a: '/s/alphabet' }) },
        }),
      ],
      'n_f5',
    );
    const run = runBash(script, { PATH, LANG: 'C.UTF-8' });
    const [, rc, out = ''] = recordFields(run.stdout, 'n_f5', 'task:wide');
    expect(rc).toBe('0');
    const bytes = Buffer.from(out, 'base64');
    expect(bytes).toHaveLength(4096);
    expect(bytes.toString('utf8').endsWith('éé ***\n')).toBe(true);
  });

  it('exits with the code of a failing step whose output it masked, and runs no later step', () => {
    const script = buildBashActionScript(
      {
        description: 'x',
        steps: [
          { label: 'one', script: 'echo "using $NIGHTSHIFT_PARAM_a"\nexit 5\n' },
          { label: 'two', script: 'touch "$NIGHTSHIFT_ROOT/second-ran"\n' },
        ],
        environment: { NIGHTSHIFT_SECRET_REFS_JSON: secretReferencesJson({ a: '/s/alpha' }) },
      },
      'n_f6',
    );
    const run = runBash(script, { PATH });
    expect(run.status).toBe(5);
    expect(run.stdout).toContain('using ***\n');
    expect(parseActionOutput(run.stdout, run.stderr, 'n_f6', -1)).toMatchObject({ exitCode: 5, failedStep: 1 });
    expect(existsSync(path.join(root, 'second-ran'))).toBe(false);
  });

  it('says which references a detection item could not read', () => {
    // the references are checked when the script is built, so only a hand-made script reaches the computer's own check
    expect(() => buildBashDetectionScript([entry('task:bad', 'exit 0\n', { environment: { NIGHTSHIFT_SECRET_REFS_JSON: 'not json' } })], 'n_f4')).toThrow('is not JSON');
    const forged = buildBashDetectionScript([entry('task:bad', 'exit 0\n')], 'n_f4').replace("__ns_spawn 1 'dGFzazpiYWQ=' 5 'ZXhpdCAwCg==' ''", `__ns_spawn 1 'dGFzazpiYWQ=' 5 'ZXhpdCAwCg==' '' 'NIGHTSHIFT_SECRET_REFS_JSON=${Buffer.from('not json').toString('base64')}'`);
    const run = runBash(forged, { PATH });
    expect(parseDetectionOutput(run.stdout, 'n_f4', [{ key: 'task:bad', kind: 'Task' }])).toEqual({
      'task:bad': { state: 'Undetermined', reason: 'the task test did not run: NIGHTSHIFT_SECRET_REFS_JSON is not a JSON object' },
    });
  });
});
