import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Node } from 'web-tree-sitter';
import type { SoftwareDetection } from '../../functions/core/model/catalog.js';
import { DETECTION_CONCURRENCY, SECRET_UNRESOLVED_EXIT_CODE, secretReferencesJson } from '../../functions/core/scripts/contract.js';
import type { ActionScript, DetectionEntry } from '../../functions/core/scripts/contract.js';
import { decodeBase64 } from '../../functions/core/scripts/encoding.js';
import { parseActionOutput, parseDetectionOutput } from '../../functions/core/scripts/output.js';
import { buildBashDetectionScript } from '../../functions/core/scripts/bash.js';
import { buildPowerShellActionScript, buildPowerShellDetectionScript, windowsDetection } from '../../functions/core/scripts/powershell.js';
import { loadPowerShellGrammar, parsePowerShell, powerShellProblems } from '../support/powershell-grammar.js';

/*
 * There is no PowerShell on the build machine, so these tests read the
 * generated scripts with a real PowerShell grammar (test/support/powershell-grammar.ts)
 * instead of running them. The slow property tests (any values, same code) are
 * in powershell-scripts.property.test.ts.
 */

beforeAll(loadPowerShellGrammar);

const parse = parsePowerShell;
const problems = powerShellProblems;

/** The single-quoted string arguments of every call of `name`, unquoted, in order. */
function callArguments(script: string, name: string): string[][] {
  // descendantsOfType searches inside the WebAssembly: walking node by node in JavaScript made these tests slow
  return parse(script)
    .rootNode.descendantsOfType('command')
    .filter((node) => node.childForFieldName('command_name')?.text === name)
    .map((command) => command.descendantsOfType('verbatim_string_characters').map((node) => node.text.slice(1, -1)));
}

/** The text of every function definition called `name` under `root` (the detection worker defines its own copies of some). */
function functionTexts(root: Node, name: string): string[] {
  return root
    .descendantsOfType('function_statement')
    .filter((node) => node.children.find((child) => child.type === 'function_name')?.text === name)
    .map((node) => node.text);
}

/** The script block each detection runspace runs (assigned to $__nsItemWorker). */
function workerNode(script: string): Node {
  const assignment = parse(script)
    .rootNode.descendantsOfType('assignment_expression')
    .find((node) => node.child(0)?.text === '$__nsItemWorker');
  const block = assignment?.descendantsOfType('script_block_expression')[0];
  if (!block) throw new Error('no $__nsItemWorker script block');
  return block;
}

/** A function the worker defines for itself. */
function workerFunction(script: string, name: string): string {
  const [text] = functionTexts(workerNode(script), name);
  if (text === undefined) throw new Error(`the worker defines no ${name}`);
  return text;
}

/** The one function definition called `name` outside the detection worker. */
function functionText(script: string, name: string): string {
  const inWorker = script.includes('$__nsItemWorker = {') ? functionTexts(workerNode(script), name) : [];
  const [text, ...others] = functionTexts(parse(script).rootNode, name).filter((candidate) => !inWorker.includes(candidate));
  if (text === undefined || others.length > 0) throw new Error(`expected one function ${name}`);
  return text;
}

/** The argument texts of every method call `.name(...)` or `::name(...)`. */
function methodCalls(script: string, name: string): string[][] {
  return parse(script)
    .rootNode.descendantsOfType('member_name')
    .filter((member) => member.text === name)
    .flatMap((member) => (member.parent ? [member.parent] : []))
    .filter((node) => node.children.some((child) => child.type === 'argument_list'))
    .map((node) => {
      const list = node.children.find((child) => child.type === 'argument_list')?.children.find((child) => child.type === 'argument_expression_list');
      return list ? list.children.filter((child) => child.type !== ',').map((child) => child.text) : [];
    });
}

const decoded = (encoded: string | undefined): string | undefined => (encoded === undefined ? undefined : decodeBase64(encoded));

const HOSTILE_FRAGMENTS = [
  "it's",
  '"double"',
  '$(Remove-Item C:\\ -Recurse)',
  '`whoami`',
  '; Stop-Computer',
  '&& shutdown /r',
  '| Out-File pwned',
  '%PATH%',
  '@"\nhere\n"@',
  "@'\nhere\n'@",
  '<# block',
  '#> end',
  '\r\nnew line',
  'ünïcødé ✓ 日本',
  '${env:SECRET}',
];
const HOSTILE = `${HOSTILE_FRAGMENTS.join(' ')} ${'x'.repeat(10_240)}\n`;

const entry = (key: string, script: string, extra: Partial<DetectionEntry> = {}): DetectionEntry => ({
  key,
  script,
  environment: {},
  timeoutSeconds: 30,
  ...extra,
});

describe('the PowerShell grammar used here', () => {
  it('does flag broken PowerShell, so a clean parse means something', () => {
    expect(problems("$x = 'unterminated")).not.toEqual([]);
    expect(problems('if ($x) { Write-Output 1')).not.toEqual([]);
    expect(problems('function f([string]$a { }')).not.toEqual([]);
    expect(problems("Write-Output 'it''s fine'")).toEqual([]);
    // the grammar alone takes these; PowerShell refuses a try with neither catch nor finally
    expect(problems('try { Write-Output 1 }\nWrite-Output 2')).toEqual(['try without catch or finally at 1:1: "try { Write-Output 1 }"']);
    expect(problems('try { Write-Output 1 } catch { }')).toEqual([]);
    expect(problems('try { Write-Output 1 } finally { }')).toEqual([]);
  });
});

describe('the batched PowerShell detection script', () => {
  it('parses as PowerShell, with and without items', () => {
    expect(problems(buildPowerShellDetectionScript([], 'n_1'))).toEqual([]);
    const script = buildPowerShellDetectionScript(
      [
        entry('software:ok', 'Write-Output 1.2.3\n', { testScript: 'exit 0\n', environment: { NIGHTSHIFT_DETECT_MODE: 'Contains', NIGHTSHIFT_DETECT_VALUE: 'App' } }),
        entry('task:x', 'exit 1\n', { timeoutSeconds: 5 }),
      ],
      'n_1',
    );
    expect(problems(script)).toEqual([]);
  });

  it('carries hostile keys, scripts and values only as base64, and they parse', () => {
    const entries = [
      entry(`software:${HOSTILE}`, HOSTILE, { testScript: HOSTILE, environment: { NIGHTSHIFT_DETECT_VALUE: HOSTILE, NIGHTSHIFT_PARAM_x: '' } }),
      entry('software:plain', 'Write-Output 1.0\n'),
    ];
    const script = buildPowerShellDetectionScript(entries, 'n_2');
    expect(problems(script)).toEqual([]);
    for (const fragment of HOSTILE_FRAGMENTS) expect(script).not.toContain(fragment);
    expect(script).not.toContain('x'.repeat(100));

    const calls = callArguments(script, '__nsDetect');
    expect(calls).toHaveLength(2);
    const [key, main, test, ...environment] = calls[0]!;
    expect(decoded(key)).toBe(`software:${HOSTILE}`);
    expect(decoded(main)).toBe(HOSTILE);
    expect(decoded(test)).toBe(HOSTILE);
    expect(environment.map((value, index) => (index % 2 === 0 ? value : decoded(value)))).toEqual(['NIGHTSHIFT_DETECT_VALUE', HOSTILE, 'NIGHTSHIFT_PARAM_x', '']);
    expect(calls[1]!.map(decoded)).toEqual(['software:plain', 'Write-Output 1.0\n', '']);
  });

  it('tags its records with the nonce and reports the fields in record order', () => {
    const script = buildPowerShellDetectionScript([entry('software:a', 'Write-Output 1.0\n')], 'n_4-x');
    expect(script).toContain("$__nsNonce = 'n_4-x'");
    expect(script).toContain("'NIGHTSHIFT-ITEM'");
    expect(script).toContain("@('NIGHTSHIFT-ITEM', $__nsNonce, $Job.Key, $rcField, (__nsB64 $out), (__nsB64 $err), $trcField, (__nsB64 $tout)) -join ' '");
    // preceded by a newline, so a detection's unterminated last line cannot swallow it
    expect(script).toContain('[Console]::Out.Write("`n" + $record + "`n")');
  });

  it('runs each item in its own powershell.exe process with a time limit, and removes its work folder', () => {
    const script = buildPowerShellDetectionScript([entry('software:a', 'Write-Output 1.0\n', { timeoutSeconds: 7 })], 'n_5');
    expect(workerFunction(script, '__nsRunScript')).toContain("$arguments = '-NoProfile -NonInteractive -ExecutionPolicy Bypass -File \"' + $Path + '\"'");
    expect(script).toMatch(/__nsDetect -Key '[^']*' -Seconds 7 /);
    // killed at its limit, with what it started, and reported as `timeout` would
    const start = workerFunction(script, '__nsStart');
    expect(start).toContain('$code = 124');
    expect(start).toContain('if ($process.WaitForExit($TimeoutMs)) {');
    expect(start).toContain('taskkill.exe /T /F /PID $process.Id');
    expect(script).toContain('$env:TEMP');
    expect(script).toMatch(/\} finally \{\n(?:.*\n)*?\s*Remove-Item -LiteralPath \$__nsWork -Recurse -Force/);
    expect(script.trimEnd().endsWith('exit 0')).toBe(true);
  });

  it('refuses what it cannot place safely in script text', () => {
    expect(() => buildPowerShellDetectionScript([entry('k', 's', { environment: { 'A;Remove-Item': 'x' } })], 'n')).toThrow(/not a shell identifier/);
    expect(() => buildPowerShellDetectionScript([], "n'; exit")).toThrow(/not a safe nonce/);
    expect(() => buildPowerShellDetectionScript([entry('k', 's', { timeoutSeconds: 1.5 })], 'n')).toThrow(/not a positive whole number/);
  });
});

describe('the PowerShell action script', () => {
  const action = (extra: Partial<ActionScript> = {}): ActionScript => ({
    description: 'Reinstall App',
    steps: [
      { label: 'uninstall App', script: 'exit 0\n' },
      { label: 'install App', script: 'exit 3010\n' },
    ],
    environment: { NIGHTSHIFT_VERSION: '1.2.3' },
    ...extra,
  });

  it('turns an installer restart request into success plus the restart marker, and remembers finished steps', () => {
    const script = buildPowerShellActionScript(action(), 'n_7');
    // SSM restarts a computer on the spot when a command exits 3010; the session decides instead
    expect(script).toContain('if ($code -eq 3010 -or $code -eq 1641) { $script:__nsRestart = $true; $code = 0 }');
    expect(script).toContain("if ($__nsRestart) { [Console]::Out.WriteLine('NIGHTSHIFT-REBOOT-REQUIRED') }");
    expect(script).toContain("(finished before a restart)");
    expect(script).toContain("Join-Path $__nsStateRoot ('Nightshift\\commands\\' + $__nsNonce)");
  });

  it('parses as PowerShell, with and without environment and steps', () => {
    expect(problems(buildPowerShellActionScript(action(), 'n_6'))).toEqual([]);
    expect(problems(buildPowerShellActionScript(action({ steps: [], environment: {} }), 'n_6'))).toEqual([]);
  });

  it('carries hostile values and scripts only as base64 and reduces labels to safe text', () => {
    const script = buildPowerShellActionScript(
      {
        description: `Install "evil"; ${HOSTILE}`,
        steps: [{ label: `write '; ${HOSTILE}`, script: HOSTILE }],
        environment: { NIGHTSHIFT_VERSION: HOSTILE, NIGHTSHIFT_PARAMETERS_JSON: JSON.stringify({ path: HOSTILE }) },
      },
      'n_7',
    );
    expect(problems(script)).toEqual([]);
    for (const fragment of HOSTILE_FRAGMENTS) expect(script).not.toContain(fragment);
    expect(script.split('\n')[0]).toMatch(/^# Nightshift action: [A-Za-z0-9 ._#:()+?-]*\. Generated\.$/);

    const [environment] = callArguments(script, '__nsEnv');
    expect(environment!.map((value, index) => (index % 2 === 0 ? value : decoded(value)))).toEqual([
      'NIGHTSHIFT_VERSION',
      HOSTILE,
      'NIGHTSHIFT_PARAMETERS_JSON',
      JSON.stringify({ path: HOSTILE }),
    ]);
    const [step] = callArguments(script, '__nsStep');
    expect(step).toHaveLength(2);
    expect(step![0]).toMatch(/^write \?\? [A-Za-z0-9 ._?-]*$/);
    expect(decoded(step![1])).toBe(HOSTILE);
  });

  it('runs the steps in order, stops at the first failure and exits with the step code', () => {
    const script = buildPowerShellActionScript(action(), 'n_9');
    const steps = callArguments(script, '__nsStep');
    expect(steps.map(([label, encoded]) => [label, decoded(encoded)])).toEqual([
      ['uninstall App', 'exit 0\n'],
      ['install App', 'exit 3010\n'],
    ]);
    expect(script).toMatch(/__nsStep 1 2 /);
    expect(script).toMatch(/__nsStep 2 2 /);
    expect(script).toContain('if ($script:__nsRc -ne 0) { return }');
    expect(script).toContain('$__nsRc $($__nsWatch.ElapsedMilliseconds) $__nsFailed');
    expect(script).toContain("NIGHTSHIFT-RESULT $__nsNonce");
    expect(script).toContain("$__nsNonce = 'n_9'");
    expect(script.trimEnd().endsWith('exit $__nsRc')).toBe(true);
  });
});

describe('Windows detection bodies', () => {
  const cases: [SoftwareDetection, Record<string, string>][] = [
    [{ method: 'DisplayName', match: 'Contains', value: '7-Zip' }, { NIGHTSHIFT_DETECT_MODE: 'Contains', NIGHTSHIFT_DETECT_VALUE: '7-Zip' }],
    [{ method: 'DisplayName', match: 'Regex', value: '^Mozilla Firefox \\(x64' }, { NIGHTSHIFT_DETECT_MODE: 'Regex', NIGHTSHIFT_DETECT_VALUE: '^Mozilla Firefox \\(x64' }],
    [
      { method: 'PackageName', value: '{23170F69-40C1-2701-2501-000001000000}' },
      { NIGHTSHIFT_DETECT_MODE: 'ProductCode', NIGHTSHIFT_DETECT_VALUE: '{23170F69-40C1-2701-2501-000001000000}' },
    ],
  ];

  it.each(cases)('%o reaches a fixed body through the environment only', (detection, environment) => {
    const result = windowsDetection(detection);
    expect(result.environment).toEqual(environment);
    expect(problems(result.script)).toEqual([]);
    expect(result.script).toContain('$env:NIGHTSHIFT_DETECT_VALUE');
    expect(result.script).toContain("'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall'");
    expect(result.script).toContain("'HKLM:\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall'");
    expect(result.script).toContain("GetValue('DisplayVersion')");
    const hostile = windowsDetection({ ...detection, value: HOSTILE } as SoftwareDetection);
    expect(hostile.script).toBe(result.script);
    expect(hostile.environment.NIGHTSHIFT_DETECT_VALUE).toBe(HOSTILE);
  });

  it('looks in the per-user uninstall entries only for display names', () => {
    expect(windowsDetection({ method: 'DisplayName', match: 'Contains', value: 'x' }).script).toContain("'HKCU:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall'");
    expect(windowsDetection({ method: 'PackageName', value: 'x' }).script).not.toContain('HKCU:');
  });

  it('runs a catalog detection script as it is', () => {
    expect(windowsDetection({ method: 'Script', script: 'Write-Output 1.0\n' })).toEqual({ script: 'Write-Output 1.0\n', environment: {} });
  });

  it('builds a detection script that parses for every method', () => {
    const entries = [...cases.map(([detection]) => detection), { method: 'Script', script: HOSTILE } as const].map((detection, index) => ({
      ...windowsDetection(detection),
      key: `software:${index}`,
      timeoutSeconds: 60,
    }));
    const script = buildPowerShellDetectionScript(entries, 'n_10');
    expect(problems(script)).toEqual([]);
    expect(callArguments(script, '__nsDetect').map(([, main]) => decoded(main))).toEqual(entries.map((e) => e.script));
  });
});

describe('Windows PowerShell 5.1 compatibility', () => {
  const scripts = (): [string, string][] => [
    ['detection', buildPowerShellDetectionScript([entry('k', 's', { testScript: 't', environment: { A: 'v' } })], 'n')],
    ['action', buildPowerShellActionScript({ description: 'd', steps: [{ label: 'l', script: 's' }], environment: { A: 'v' } }, 'n')],
    [
      'action with secret references',
      buildPowerShellActionScript({ description: 'd', steps: [{ label: 'l', script: 's' }], environment: { NIGHTSHIFT_SECRET_REFS_JSON: secretReferencesJson({ A: '/a' }) } }, 'n'),
    ],
    ['display name body', windowsDetection({ method: 'DisplayName', match: 'Regex', value: 'x' }).script],
    ['product code body', windowsDetection({ method: 'PackageName', value: 'x' }).script],
  ];

  it('uses no PowerShell 7 pipeline chains (&&, ||), ternaries or null operators', () => {
    for (const [name, script] of scripts()) {
      const chains = parse(script).rootNode.descendantsOfType('pipeline_chain_tail');
      expect(chains.map((node) => `${name}: ${node.text}`)).toEqual([]);
      // outside strings and comments: the grammar would not accept these in 5.1 syntax positions either
      const code = script.replace(/^\s*#.*$/gm, '').replace(/'[^'\n]*'/g, "''");
      expect(code, name).not.toMatch(/\?\?|\?\.|-Parallel|\$PSStyle|-AsHashtable/);
    }
  });
});

describe('what the parser makes of the codes these scripts report', () => {
  const key = Buffer.from('software:a').toString('base64');
  const expected = [{ key: 'software:a', kind: 'Software' as const }];

  it('reads 124 (killed at its time limit) as a timeout', () => {
    expect(parseDetectionOutput(`\nNIGHTSHIFT-ITEM n ${key} 124   - \n`, 'n', expected)['software:a']).toEqual({
      state: 'Undetermined',
      reason: 'the detection script timed out',
    });
  });

  it('reads 255 with the real Windows code appended to stderr', () => {
    const stderr = Buffer.from('Access denied\nnightshift: exit code -1073741819').toString('base64');
    expect(parseDetectionOutput(`\nNIGHTSHIFT-ITEM n ${key} 255  ${stderr} - \n`, 'n', expected)['software:a']).toEqual({
      state: 'Undetermined',
      reason: 'the detection script exited 255: nightshift: exit code -1073741819',
    });
  });

  it('passes installer restart codes through as success needing a reboot', () => {
    expect(parseActionOutput('step output\nNIGHTSHIFT-RESULT n 3010 1234 -\n', '', 'n', 3010)).toMatchObject({ exitCode: 0, durationMs: 1234, rebootRequired: true });
    expect(parseActionOutput('\nNIGHTSHIFT-RESULT n 1641 5 -\n', '', 'n', 1641)).toMatchObject({ exitCode: 0, rebootRequired: true });
  });
});

describe('the PowerShell detection runs items side by side in one process', () => {
  const entries = [
    entry('software:a', 'Write-Output 1.0\n', { timeoutSeconds: 7, environment: { NIGHTSHIFT_DETECT_VALUE: 'A' } }),
    entry('task:b', 'exit 0\n', { timeoutSeconds: 11, testScript: 'exit 0\n' }),
    entry('task:c', 'exit 1\n'),
  ];
  // built in each test, so mutation testing sees which tests read which line
  let script: string;
  beforeEach(() => {
    script = buildPowerShellDetectionScript(entries, 'n_p1');
  });

  it('opens one RunspacePool bounded by the concurrency bash uses, and no PowerShell 7 or job machinery', () => {
    expect(problems(script)).toEqual([]);
    expect(script).toContain(`$__nsConcurrency = ${DETECTION_CONCURRENCY}\n`);
    expect(buildBashDetectionScript(entries, 'n_p1')).toContain(`__ns_parallel=${DETECTION_CONCURRENCY}\n`);
    expect(methodCalls(script, 'CreateRunspacePool')).toEqual([['1', '$__nsConcurrency', '[Management.Automation.Runspaces.InitialSessionState]::CreateDefault()', '$Host']]);
    expect(script).toContain('$__nsPool = [RunspaceFactory]::CreateRunspacePool(');
    expect(script).toContain('\n$__nsPool.Open()\n');
    // closed whatever happens, before the work folder goes
    expect(script).toMatch(/\} finally \{\n {2}\$__nsPool\.Close\(\)\n {2}\$__nsPool\.Dispose\(\)\n/);
    expect(script).not.toMatch(/Start-Job|Start-ThreadJob|ForEach-Object -Parallel|Start-Process/);
  });

  it('queues one runspace per item before waiting for any, and prints every record from this thread, in item order', () => {
    const detect = functionText(script, '__nsDetect');
    expect(detect).toContain('$job.Shell = [PowerShell]::Create()');
    expect(detect).toContain('$job.Shell.RunspacePool = $__nsPool');
    expect(detect).toContain('$null = $job.Shell.AddScript($__nsItemWorker.ToString())');
    expect(detect).toContain('$job.Handle = $job.Shell.BeginInvoke()');
    expect(callArguments(script, '__nsDetect')).toHaveLength(entries.length);
    // every item queued, then the results read in the same order
    const body = script.slice(script.lastIndexOf('\ntry {\n'));
    const order = [...body.matchAll(/^ {2}(__nsDetect|foreach \(\$__nsJob in \$__nsJobs\) \{ __nsReport \$__nsJob \})/gm)].map((match) => match[1]);
    expect(order).toEqual(['__nsDetect', '__nsDetect', '__nsDetect', 'foreach ($__nsJob in $__nsJobs) { __nsReport $__nsJob }']);

    const report = functionText(script, '__nsReport');
    expect(report).toContain('$results = $Job.Shell.EndInvoke($Job.Handle)');
    expect(report).toContain("$record = @('NIGHTSHIFT-ITEM', $__nsNonce, $Job.Key, $rcField, (__nsB64 $out), (__nsB64 $err), $trcField, (__nsB64 $tout)) -join ' '");
    expect(report).toContain('[Console]::Out.Write("`n" + $record + "`n")');
    // a runspace writes nothing itself: its one result object is all that leaves it, so items cannot interleave
    const worker = workerNode(script).text;
    expect(worker).not.toMatch(/\[Console\]::(Out|Error)\.|Write-(Host|Output|Error|Warning|Information)|Out-Host/);
    expect(worker.trimEnd()).toMatch(/\[pscustomobject\]@\{\n {2}Rc = \$rc\n {2}Out = .*\n {2}Err = .*\n {2}TestRc = \$trc\n {2}TestOut = .*\n\}\n\}$/);
  });

  it('gives each item its own time limit, its own variables and its own powershell.exe', () => {
    expect(script).toMatch(/__nsDetect -Key '[^']*' -Seconds 7 /);
    expect(script).toMatch(/__nsDetect -Key '[^']*' -Seconds 11 /);
    const worker = workerNode(script).text;
    expect(worker).toContain('param([string]$Shell, [string]$Cwd, [string]$Base, [double]$Seconds, [string]$Main, [string]$Test, [string[]]$Environment)');
    // the limit starts when the runspace takes the item, and holds for its test too
    expect(worker).toContain('$timeoutMs = [int][Math]::Min(2147483647, $Seconds * 1000)');
    expect(worker).toContain("$run = __nsRunScript $Shell $Cwd ($Base + '.ps1') $variables $timeoutMs");
    expect(worker).toContain("$check = __nsRunScript $Shell $Cwd ($Base + '.test.ps1') $variables $timeoutMs");
    // variables go to the item's process (ProcessStartInfo), never to the process the runspaces share
    expect(workerFunction(script, '__nsStart')).toContain('$info.EnvironmentVariables[[string]$name] = [string]$Variables[$name]');
    expect(worker).not.toContain('SetEnvironmentVariable');
    expect(functionText(script, '__nsDetect')).not.toContain('SetEnvironmentVariable');
    expect(callArguments(script, '__nsEnv')).toEqual([]);
  });

  it('keeps the record format the parser reads for both platforms', () => {
    // what __nsReport prints for an item whose runspace returned Rc 0, Out "1.2.3", TestRc 1
    const key = Buffer.from('software:a').toString('base64');
    const line = ['NIGHTSHIFT-ITEM', 'n_p1', key, '0', Buffer.from('1.2.3\r\n').toString('base64'), '', '1', ''].join(' ');
    expect(parseDetectionOutput(`\n${line}\n`, 'n_p1', [{ key: 'software:a', kind: 'Software' }])).toEqual({
      'software:a': { state: 'Present', version: '1.2.3', test: 'Failed' },
    });
  });
});

describe('secret parameters in PowerShell scripts', () => {
  const KNOWN = '/nightshift/secrets/dep-1/AdminPassword';
  const environment = {
    NIGHTSHIFT_PARAMETERS_JSON: '{"mode":"fast"}',
    NIGHTSHIFT_PARAM_mode: 'fast',
    NIGHTSHIFT_SECRET_REFS_JSON: secretReferencesJson({ AdminPassword: KNOWN }),
  };
  const action = (env: Record<string, string>): string =>
    buildPowerShellActionScript({ description: 'Set password', steps: [{ label: 'set', script: 'exit 0\n' }, { label: 'check', script: 'exit 0\n' }], environment: env }, 'n_q1');
  let detection: string;
  let secretAction: string;
  beforeEach(() => {
    detection = buildPowerShellDetectionScript([entry('task:pw', 'exit 0\n', { environment })], 'n_q2');
    secretAction = action(environment);
  });

  it('parses, in detection and in an action with references', () => {
    expect(problems(detection)).toEqual([]);
    expect(problems(secretAction)).toEqual([]);
    // the references travel like any value, base64
    expect(secretAction).not.toContain(KNOWN);
    expect(detection).not.toContain(KNOWN);
  });

  it('resolves with AWS Tools for PowerShell when a module of it is installed (modular, or the AWSPowerShell that Windows AMIs ship), else with the AWS CLI call of the contract', () => {
    for (const text of [workerFunction(detection, '__nsSecretValue'), functionText(secretAction, '__nsSecretValue')]) {
      expect(text).toContain("@('AWS.Tools.SimpleSystemsManagement', 'AWSPowerShell', 'AWSPowerShell.NetCore') | Where-Object { Get-Module -ListAvailable -Name $_ }");
      const tools = text.indexOf('Import-Module -Name $module -ErrorAction Stop');
      const cli = text.indexOf('$cli = Get-Command -Name aws -CommandType Application');
      expect(tools).toBeGreaterThan(0);
      expect(cli).toBeGreaterThan(tools);
      expect(text).toContain('Get-SSMParameter -Name $Reference -WithDecryption $true -ErrorAction Stop @regionArguments');
      expect(text).toContain("$arguments = 'ssm get-parameter --with-decryption --name \"' + $Reference + '\" --query Parameter.Value --output text'");
      // a failed CLI call is an error, not an empty secret
      expect(text).toMatch(/ {2}if \(\$run\.Code -ne 0\) \{\n.*\n.*throw "the AWS CLI exited .*\n {4}throw \$why\[0\]\n {2}\}/);
    }
  });

  it('hands each value to the item\'s or step\'s own process only, as its variable and inside the parameters JSON', () => {
    const secrets = workerFunction(detection, '__nsSecrets');
    expect(secrets).toContain("$Variables['NIGHTSHIFT_PARAM_' + $name] = $value");
    expect(secrets).toContain('$quoted = ConvertTo-Json -InputObject $value -Compress');
    expect(secrets).toContain("$Variables['NIGHTSHIFT_PARAMETERS_JSON'] = $parameters");
    expect(workerNode(detection).text).toContain('$secrets = __nsSecrets $variables');
    const runStep = functionText(secretAction, '__nsRunStep');
    expect(runStep).toContain('$run = __nsRunScript $__nsShell $__nsCwd $Path $script:__nsSecretVariables -1');
    // the only process-wide variables are the command's own (non-secret) ones, set by __nsEnv
    expect(secretAction.match(/SetEnvironmentVariable/g)).toHaveLength(1);
    expect(functionText(secretAction, '__nsEnv')).toContain('SetEnvironmentVariable');
  });

  it('masks every resolved value literally before anything leaves the runspace or the step', () => {
    const scrub = workerFunction(detection, '__nsScrub');
    expect(scrub).toContain("$Text = $Text.Replace($form, '***')");
    // longest first: a secret containing another is masked whole
    expect(scrub).toContain('@($Forms | Sort-Object -Property Length -Descending)');
    expect(scrub).not.toContain('-replace');
    const worker = workerNode(detection).text;
    expect(worker).toContain('Out = (__nsLast (__nsScrub $out $forms) 4096)');
    expect(worker).toContain('Err = (__nsLast (__nsScrub $err $forms) 2048)');
    expect(worker).toContain('TestOut = (__nsLast (__nsScrub $tout $forms) 1024)');
    // the value, its JSON-escaped form and each longer line of it
    const secrets = workerFunction(detection, '__nsSecrets');
    expect(secrets).toContain("if ($value -ne '') { $result.Forms.Add($value) }");
    expect(secrets).toContain('if ($escaped -cne $value) { $result.Forms.Add($escaped) }');
    expect(secrets).toContain("if ($line.Length -ge 4 -and $line -match '\\S') { $result.Forms.Add($line) }");
    const runStep = functionText(secretAction, '__nsRunStep');
    expect(runStep).toContain('[Console]::Out.Write((__nsScrub $run.Out $script:__nsSecretForms))');
    expect(runStep).toContain('[Console]::Error.Write((__nsScrub $run.Err $script:__nsSecretForms))');
  });

  it(`fails the item or the step with ${SECRET_UNRESOLVED_EXIT_CODE}, naming the parameter, when a reference cannot be resolved`, () => {
    const secrets = workerFunction(detection, '__nsSecrets');
    expect(secrets).toContain('$result.Problem = "secret parameter $name could not be resolved from SSM parameter ${path}: $why"');
    const worker = workerNode(detection).text;
    expect(worker).toMatch(/if \(\$null -ne \$secrets\.Problem\) \{\n\s*\$rc = 78\n\s*\$err = 'nightshift: ' \+ \$secrets\.Problem\n\s*\} else \{/);
    const runStep = functionText(secretAction, '__nsRunStep');
    expect(runStep).toContain('[Console]::Out.Write("`nNIGHTSHIFT-SECRET-UNRESOLVED $__nsNonce " + $secrets.Parameter + "`n")');
    expect(runStep).toContain('$script:__nsStepCode = 78');

    // what the parser makes of those
    const key = Buffer.from('task:pw').toString('base64');
    const why = `nightshift: secret parameter AdminPassword could not be resolved from SSM parameter ${KNOWN}: ParameterNotFound`;
    expect(parseDetectionOutput(`\nNIGHTSHIFT-ITEM n_q2 ${key} 78  ${Buffer.from(why).toString('base64')} - \n`, 'n_q2', [{ key: 'task:pw', kind: 'Task' }])).toEqual({
      'task:pw': { state: 'Undetermined', reason: `the task test did not run: ${why.slice('nightshift: '.length)}` },
    });
    const output = parseActionOutput(`nightshift: step 1 of 2: set\n\nNIGHTSHIFT-SECRET-UNRESOLVED n_q1 AdminPassword\n\nNIGHTSHIFT-RESULT n_q1 78 5 1\n`, `${why}\n`, 'n_q1', 78);
    expect(output).toMatchObject({ exitCode: 78, failedStep: 1, unresolvedSecret: 'AdminPassword' });
    expect(output.outputTail).toBe(`nightshift: step 1 of 2: set\n${why}`);
  });

  it('runs a step without references as before (output streamed), and resolves only when the command has references', () => {
    const plain = action({ NIGHTSHIFT_PARAMETERS_JSON: '{}' });
    expect(functionText(plain, '__nsRunStep')).toContain('& $__nsShell -NoProfile -NonInteractive -ExecutionPolicy Bypass -File $Path');
    expect(plain).not.toContain('Get-SSMParameter');
    // resolved once, before the first step that runs
    expect(functionText(secretAction, '__nsRunStep')).toMatch(/^function __nsRunStep\(\[string\]\$Path\) \{\n {2}if \(-not \$script:__nsSecretsReady\) \{/);
  });

  it('refuses references the scripts could not parse, and a secret that also arrives in clear', () => {
    expect(() => action({ NIGHTSHIFT_SECRET_REFS_JSON: '{"A":"/x\'; Remove-Item C:\\\\"}' })).toThrow(/not an SSM parameter name/);
    expect(() => action({ NIGHTSHIFT_SECRET_REFS_JSON: '{"A":"/x"}', NIGHTSHIFT_PARAM_A: 'clear' })).toThrow(/only as a reference/);
    expect(() => buildPowerShellDetectionScript([entry('k', 's', { environment: { NIGHTSHIFT_SECRET_REFS_JSON: 'not json' } })], 'n')).toThrow(/is not JSON/);
  });
});
