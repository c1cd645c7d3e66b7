import { createRequire } from 'node:module';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { Language, Parser } from 'web-tree-sitter';
import type { Node, Tree } from 'web-tree-sitter';
import type { SoftwareDetection } from '../../functions/core/model/catalog.js';
import type { ActionScript, DetectionEntry } from '../../functions/core/scripts/contract.js';
import { decodeBase64 } from '../../functions/core/scripts/encoding.js';
import { parseActionOutput, parseDetectionOutput } from '../../functions/core/scripts/output.js';
import { buildPowerShellActionScript, buildPowerShellDetectionScript, windowsDetection } from '../../functions/core/scripts/powershell.js';

/*
 * There is no PowerShell on the build machine, so these tests read the
 * generated scripts with a real PowerShell grammar (tree-sitter-powershell,
 * run as WebAssembly) instead of running them.
 */

let parser: Parser;

beforeAll(async () => {
  await Parser.init();
  const require = createRequire(import.meta.url);
  const powershell = await Language.load(require.resolve('tree-sitter-powershell/tree-sitter-powershell.wasm'));
  parser = new Parser();
  parser.setLanguage(powershell);
});

function parse(script: string): Tree {
  const tree = parser.parse(script);
  if (!tree) throw new Error('the parser returned no tree');
  return tree;
}

function* walk(node: Node): Generator<Node> {
  yield node;
  for (const child of node.children) yield* walk(child);
}

/** Every ERROR or MISSING node, with where it is, so a failure says what broke. */
function problems(script: string): string[] {
  return [...walk(parse(script).rootNode)]
    .filter((node) => node.type === 'ERROR' || node.isMissing)
    .map((node) => `${node.isMissing ? 'MISSING' : 'ERROR'} at ${node.startPosition.row + 1}:${node.startPosition.column + 1}: ${JSON.stringify(node.text.slice(0, 80))}`);
}

/** The single-quoted string arguments of every call of `name`, unquoted, in order. */
function callArguments(script: string, name: string): string[][] {
  return [...walk(parse(script).rootNode)]
    .filter((node) => node.type === 'command' && node.childForFieldName('command_name')?.text === name)
    .map((command) => [...walk(command)].filter((node) => node.type === 'verbatim_string_characters').map((node) => node.text.slice(1, -1)));
}

const decoded = (encoded: string | undefined): string | undefined => (encoded === undefined ? undefined : decodeBase64(encoded));

/** The script with every base64 literal emptied: what is left is the code, which must not depend on the values. */
const shape = (script: string): string => script.replace(/'[A-Za-z0-9+/=]*'/g, "''");

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

  it('has the same code whatever the values are (property)', () => {
    const baseline = shape(buildPowerShellDetectionScript([entry('k', 's', { testScript: 't', environment: { A: 'v' } })], 'n_3'));
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (key, main, test, value) => {
        const script = buildPowerShellDetectionScript([entry(key, main, { testScript: test, environment: { A: value } })], 'n_3');
        expect(shape(script)).toBe(baseline);
        expect(problems(script)).toEqual([]);
      }),
    );
  });

  it('tags its records with the nonce and reports the fields in record order', () => {
    const script = buildPowerShellDetectionScript([entry('software:a', 'Write-Output 1.0\n')], 'n_4-x');
    expect(script).toContain("$__nsNonce = 'n_4-x'");
    expect(script).toContain("'NIGHTSHIFT-ITEM'");
    expect(script).toContain("@('NIGHTSHIFT-ITEM', $__nsNonce, $Key, $rcField, (__nsB64 $out), (__nsB64 $err), $trcField, (__nsB64 $tout)) -join ' '");
    // preceded by a newline, so a detection's unterminated last line cannot swallow it
    expect(script).toContain('[Console]::Out.Write("`n" + $record + "`n")');
  });

  it('runs each item in its own powershell.exe process with a time limit, and removes its work folder', () => {
    const script = buildPowerShellDetectionScript([entry('software:a', 'Write-Output 1.0\n', { timeoutSeconds: 7 })], 'n_5');
    expect(script).toContain("Start-Process -FilePath $__nsShell -ArgumentList @('-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File'");
    expect(script).toMatch(/__nsDetect -Key '[^']*' -Seconds 7 /);
    expect(script).toContain('return 124');
    expect(script).toContain('$env:TEMP');
    expect(script).toMatch(/\} finally \{\n.*\n\s*Remove-Item -LiteralPath \$__nsWork -Recurse -Force/);
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

  it('has the same code whatever the values are (property)', () => {
    const baseline = shape(buildPowerShellActionScript({ description: 'd', steps: [{ label: 'l', script: 's' }], environment: { A: 'v' } }, 'n_8'));
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (description, label, step, value) => {
        const script = buildPowerShellActionScript({ description, steps: [{ label, script: step }], environment: { A: value } }, 'n_8');
        expect(problems(script)).toEqual([]);
        // the description and label reach the text reduced to safe characters; everything else is base64
        const normalised = shape(script)
          .replace(/^# Nightshift action: .*$/m, '# Nightshift action: d. Generated.')
          .replace(/__nsStep 1 1 '[^'\n]*'/, "__nsStep 1 1 ''");
        expect(normalised).toBe(baseline.replace(/__nsStep 1 1 '[^'\n]*'/, "__nsStep 1 1 ''"));
      }),
    );
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
    ['display name body', windowsDetection({ method: 'DisplayName', match: 'Regex', value: 'x' }).script],
    ['product code body', windowsDetection({ method: 'PackageName', value: 'x' }).script],
  ];

  it('uses no PowerShell 7 pipeline chains (&&, ||), ternaries or null operators', () => {
    for (const [name, script] of scripts()) {
      const chains = [...walk(parse(script).rootNode)].filter((node) => node.type === 'pipeline_chain_tail');
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
