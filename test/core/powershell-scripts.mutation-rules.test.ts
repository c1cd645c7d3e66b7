import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SoftwareDetection } from '../../functions/core/model/catalog.js';
import { secretReferencesJson, type ActionScript, type DetectionEntry } from '../../functions/core/scripts/contract.js';
import { decodeBase64, encodeBase64 } from '../../functions/core/scripts/encoding.js';
import { buildPowerShellActionScript, buildPowerShellDetectionScript, buildPowerShellRebootScript, windowsDetection } from '../../functions/core/scripts/powershell.js';
import { loadPowerShellGrammar, powerShellProblems } from '../support/powershell-grammar.js';

/*
 * The rules of the PowerShell generator, quickly (powershell-scripts.test.ts
 * holds the slower property tests). There is no PowerShell here: every script
 * is read by a real PowerShell grammar (test/support/powershell-grammar.ts), and the
 * parts a command fills in are checked in the text.
 */

beforeAll(loadPowerShellGrammar);

/** Whether PowerShell would parse the script: no error, no missing token, no `try` without `catch` or `finally`. */
const parses = (script: string): boolean => powerShellProblems(script).length === 0;

const entry = (key: string, script: string, extra: Partial<DetectionEntry> = {}): DetectionEntry => ({ key, script, environment: {}, timeoutSeconds: 30, ...extra });
const REFS = { NIGHTSHIFT_SECRET_REFS_JSON: secretReferencesJson({ pin: '/s/pin' }), NIGHTSHIFT_PARAMETERS_JSON: '{"user":"ana"}', NIGHTSHIFT_PARAM_user: 'ana' };
const action = (extra: Partial<ActionScript> = {}): ActionScript => ({
  description: 'Reinstall App',
  steps: [
    { label: 'uninstall App', script: 'exit 0\n' },
    { label: 'install App', script: 'exit 3010\n' },
  ],
  environment: { NIGHTSHIFT_VERSION: '1.2.3' },
  ...extra,
});

/** The lines of `script` from the one that starts with `start` to the first line that is exactly `end`, inclusive. */
function section(script: string, start: string, end = '}'): string {
  const lines = script.split('\n');
  const from = lines.findIndex((line) => line.startsWith(start));
  if (from < 0) throw new Error(`no line starts with ${start}`);
  const to = lines.findIndex((line, index) => index > from && line === end);
  return lines.slice(from, to + 1).join('\n');
}

describe('every script parses as PowerShell', () => {
  it.each([
    ['an empty detection', () => buildPowerShellDetectionScript([], 'n')],
    ['a detection with a health check, variables and secrets', () => buildPowerShellDetectionScript([entry('software:a', 'Write-Output 1.0', { testScript: 'exit 0', environment: { A: 'v' } }), entry('task:b', 'exit 1', { environment: REFS })], 'n')],
    ['an action', () => buildPowerShellActionScript(action(), 'n')],
    ['an action without steps or variables', () => buildPowerShellActionScript(action({ steps: [], environment: {} }), 'n')],
    ['an action with secret references', () => buildPowerShellActionScript(action({ environment: REFS }), 'n')],
    ['a restart', () => buildPowerShellRebootScript('n')],
    ['the display-name body', () => windowsDetection({ method: 'DisplayName', match: 'Regex', value: 'x' }).script],
    ['the product-code body', () => windowsDetection({ method: 'PackageName', value: 'x' }).script],
  ])('%s', (_name, build) => {
    expect(parses(build())).toBe(true);
  });

  it('is checked by a grammar that does flag broken PowerShell', () => {
    expect(parses('function f { if ($a) { }')).toBe(false);
    expect(parses("$x = 'open")).toBe(false);
  });
});

describe('the detection script, filled in', () => {
  const entries = [
    entry('software:a', 'Write-Output 1.0', { timeoutSeconds: 7, testScript: 'exit 0', environment: { NIGHTSHIFT_DETECT_VALUE: 'App', B: '' } }),
    entry('task:b', 'exit 1', { timeoutSeconds: 11 }),
  ];
  // built in each test, so mutation testing sees which tests read which line
  let script: string;
  beforeEach(() => {
    script = buildPowerShellDetectionScript(entries, 'n_d-1');
  });

  it('says how many items it detects and that it only reads', () => {
    expect(script.split('\n')[0]).toBe('# Nightshift detection of 2 item(s). Generated; read-only; safe to re-run.');
  });

  it('queues each item with its key, limit, scripts and variables as base64, and a missing health check as empty', () => {
    expect(script).toContain(
      `\n  __nsDetect -Key '${encodeBase64('software:a')}' -Seconds 7 -Main '${encodeBase64('Write-Output 1.0')}' -Test '${encodeBase64('exit 0')}' -Environment @('NIGHTSHIFT_DETECT_VALUE', '${encodeBase64('App')}', 'B', '')\n`,
    );
    expect(script).toContain(`\n  __nsDetect -Key '${encodeBase64('task:b')}' -Seconds 11 -Main '${encodeBase64('exit 1')}' -Test '' -Environment @()\n`);
  });

  it('reports every queued item, in order, then closes the pool and removes its work folder whatever happens, and exits 0', () => {
    const tail = script.slice(script.indexOf('\ntry {\n  __nsDetect'));
    expect(tail.replace(/ {2}__nsDetect .*\n/g, '')).toBe(
      [
        '',
        'try {',
        '  foreach ($__nsJob in $__nsJobs) { __nsReport $__nsJob }',
        '} finally {',
        '  $__nsPool.Close()',
        '  $__nsPool.Dispose()',
        '  # A process left running by a catalog script may still hold a file; what cannot be removed now is left to the temp folder cleanup.',
        '  Remove-Item -LiteralPath $__nsWork -Recurse -Force -ErrorAction SilentlyContinue',
        '}',
        'exit 0',
        '',
      ].join('\n'),
    );
  });

  it('carries the nonce it was given, and refuses unsafe nonces, names and limits', () => {
    expect(script).toContain("\n$__nsNonce = 'n_d-1'\n");
    expect(() => buildPowerShellDetectionScript([], "n'x")).toThrow('not a safe nonce');
    expect(() => buildPowerShellDetectionScript([entry('k', 's', { environment: { 'A B': 'x' } })], 'n')).toThrow('not a shell identifier');
    expect(() => buildPowerShellDetectionScript([entry('k', 's', { timeoutSeconds: 0 })], 'n')).toThrow('not a positive whole number of seconds');
    expect(() => buildPowerShellDetectionScript([entry('k', 's', { environment: { NIGHTSHIFT_SECRET_REFS_JSON: '[' } })], 'n')).toThrow('is not JSON');
  });
});

describe('the action script, filled in', () => {
  it('describes itself and labels its steps with safe characters only', () => {
    const script = buildPowerShellActionScript(action({ description: "Install 'App' (x64) #2: v1+b_1-rc; $x", steps: [{ label: "it's $(x) #1", script: 's' }] }), 'n');
    expect(script.split('\n')[0]).toBe('# Nightshift action: Install ?App? (x64) #2: v1+b_1-rc? ?x. Generated.');
    expect(script).toContain(`\n  __nsStep 1 1 'it?s ??x? ?1' '${encodeBase64('s')}'\n`);
  });

  it('numbers its steps out of their count, in order, inside one try', () => {
    const script = buildPowerShellActionScript(action(), 'n_a1');
    expect(script).toContain(
      [
        '$__nsWatch = [Diagnostics.Stopwatch]::StartNew()',
        'try {',
        `  __nsStep 1 2 'uninstall App' '${encodeBase64('exit 0\n')}'`,
        `  __nsStep 2 2 'install App' '${encodeBase64('exit 3010\n')}'`,
        '} finally {',
      ].join('\n'),
    );
  });

  it('sets the command\'s variables for the whole script only when it has some', () => {
    expect(buildPowerShellActionScript(action(), 'n')).toContain(`\n__nsEnv @('NIGHTSHIFT_VERSION', '${encodeBase64('1.2.3')}')\n`);
    const bare = buildPowerShellActionScript(action({ environment: {} }), 'n');
    expect(bare).not.toContain('\n__nsEnv ');
    expect(bare).not.toContain('\n\n\n');
  });

  it('streams plain steps, and resolves secrets only for a command with references', () => {
    const plain = buildPowerShellActionScript(action(), 'n');
    expect(plain).toContain('function __nsRunStep([string]$Path) {\n  Push-Location -LiteralPath $__nsCwd\n');
    expect(plain).not.toContain('function __nsSecrets(');
    expect(plain).not.toContain('function __nsStart(');
    const secret = buildPowerShellActionScript(action({ environment: REFS }), 'n');
    expect(secret).toContain('function __nsRunStep([string]$Path) {\n  if (-not $script:__nsSecretsReady) {\n');
    expect(secret).toContain('\nfunction __nsSecrets([hashtable]$Variables) {\n');
    expect(secret).toContain('\n$__nsTempFolder = $__nsWork\n');
    expect(secret).not.toContain('Push-Location');
  });

  it('ends by removing its markers, saying whether a restart is needed, and reporting its record with its own code', () => {
    const script = buildPowerShellActionScript(action(), 'n_a2');
    expect(script.endsWith(
      [
        '}',
        'Remove-Item -LiteralPath $__nsState -Recurse -Force -ErrorAction SilentlyContinue',
        "if ($__nsRestart) { [Console]::Out.WriteLine('NIGHTSHIFT-REBOOT-REQUIRED') }",
        '[Console]::Out.Write("`nNIGHTSHIFT-RESULT $__nsNonce $__nsRc $($__nsWatch.ElapsedMilliseconds) $__nsFailed`n")',
        'exit $__nsRc',
        '',
      ].join('\n'),
    )).toBe(true);
    expect(script).toContain("\n$__nsNonce = 'n_a2'\n");
  });
});

describe('the restart script', () => {
  it('asks SSM for a restart with 3010 the first time, and reports success when run again after it', () => {
    const script = buildPowerShellRebootScript('n_r1');
    expect(script).toBe(
      [
        '# Nightshift restart. Generated.',
        "$__nsNonce = 'n_r1'",
        '$__nsStateRoot = if ($env:NIGHTSHIFT_ROOT) { $env:NIGHTSHIFT_ROOT } else { $env:ProgramData }',
        "$__nsState = Join-Path $__nsStateRoot ('Nightshift\\commands\\' + $__nsNonce)",
        "$__nsMarker = Join-Path $__nsState 'restarted'",
        'if ([IO.File]::Exists($__nsMarker)) {',
        '  Remove-Item -LiteralPath $__nsState -Recurse -Force -ErrorAction SilentlyContinue',
        "  [Console]::Out.WriteLine('nightshift: the computer restarted')",
        '  [Console]::Out.Write("`nNIGHTSHIFT-RESULT $__nsNonce 0 0 -`n")',
        '  exit 0',
        '}',
        "try { $null = [IO.Directory]::CreateDirectory($__nsState); [IO.File]::WriteAllText($__nsMarker, '') } catch { [Console]::Error.WriteLine('nightshift: cannot record the restart'); exit 70 }",
        "[Console]::Out.WriteLine('nightshift: restarting the computer')",
        'exit 3010',
        '',
      ].join('\n'),
    );
    expect(() => buildPowerShellRebootScript('n r')).toThrow('not a safe nonce');
  });
});

describe('the Windows detection bodies', () => {
  it('gives each method its body and its mode, the value only through the environment', () => {
    const contains = windowsDetection({ method: 'DisplayName', match: 'Contains', value: '7-Zip' });
    const regex = windowsDetection({ method: 'DisplayName', match: 'Regex', value: '^7' });
    const code = windowsDetection({ method: 'PackageName', value: '{23170F69-40C1-2701-2501-000001000000}' });
    expect(contains.environment).toEqual({ NIGHTSHIFT_DETECT_MODE: 'Contains', NIGHTSHIFT_DETECT_VALUE: '7-Zip' });
    expect(regex.environment).toEqual({ NIGHTSHIFT_DETECT_MODE: 'Regex', NIGHTSHIFT_DETECT_VALUE: '^7' });
    expect(code.environment).toEqual({ NIGHTSHIFT_DETECT_MODE: 'ProductCode', NIGHTSHIFT_DETECT_VALUE: '{23170F69-40C1-2701-2501-000001000000}' });
    expect(contains.script).toBe(regex.script);
    expect(code.script).not.toBe(contains.script);
    for (const body of [contains.script, code.script]) {
      expect(body).not.toContain('7-Zip');
      expect(body.startsWith('# A failure') || body.startsWith("$ErrorActionPreference = 'Stop'")).toBe(true);
      expect(body).toContain("$ErrorActionPreference = 'Stop'\n");
      expect(body.endsWith('\nexit 0\n')).toBe(true);
    }
    const script: SoftwareDetection = { method: 'Script', script: 'Write-Output 2.0' };
    expect(windowsDetection(script)).toEqual({ script: 'Write-Output 2.0', environment: {} });
  });

  it('looks a display name up machine-wide and per user, a product code machine-wide only, by the entry name', () => {
    const name = windowsDetection({ method: 'DisplayName', match: 'Contains', value: 'x' }).script;
    const code = windowsDetection({ method: 'PackageName', value: 'x' }).script;
    const machine = [
      "  'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall'",
      "  'HKLM:\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall'",
    ];
    expect(name).toContain(['$keys = @(', ...machine, "  'HKCU:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall'", ')'].join('\n'));
    expect(code).toContain(['$keys = @(', ...machine, ')'].join('\n'));
    expect(code).toContain('    if ($entry.PSChildName -ne $code) { continue }\n');
    expect(code).toContain("if ($code -notmatch '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$') {");
    expect(code).toContain("$code = ([string]$env:NIGHTSHIFT_DETECT_VALUE).Trim().Trim('{}'.ToCharArray())\n");
    expect(code).toContain("$code = '{' + $code + '}'\n");
  });

  it('matches display names case-blind as text, or as a regular expression it checks first, and tells an unversioned entry from an absent one', () => {
    const name = windowsDetection({ method: 'DisplayName', match: 'Contains', value: 'x' }).script;
    expect(name).toContain("if ($mode -eq 'Regex') {\n  try { $null = New-Object -TypeName System.Text.RegularExpressions.Regex -ArgumentList $want }\n");
    expect(name).toContain('  catch { [Console]::Error.WriteLine("not a valid regular expression: $want"); exit 2 }\n');
    expect(name).toContain('      if ($name -notmatch $want) { continue }\n    } elseif ($name.IndexOf($want, [StringComparison]::OrdinalIgnoreCase) -lt 0) {\n      continue\n');
    expect(name).toContain("    if ($version -ne '') {\n      Write-Output $version\n      exit 0\n    }\n    if ($null -eq $unversioned) { $unversioned = $name }\n");
    expect(name).toContain('if ($null -ne $unversioned) {\n  [Console]::Error.WriteLine("""$unversioned"" is installed but its uninstall entry has no DisplayVersion")\n  exit 3\n}\n');
  });
});

describe('the Windows detection bodies, line by line', () => {
  it('read the match from the environment, pass over uninstall entries without a name, and say why they found no version', () => {
    const name = windowsDetection({ method: 'DisplayName', match: 'Contains', value: 'x' }).script.split('\n');
    for (const line of [
      '$want = [string]$env:NIGHTSHIFT_DETECT_VALUE',
      '$mode = [string]$env:NIGHTSHIFT_DETECT_MODE',
      '$unversioned = $null',
      "    $name = [string]$entry.GetValue('DisplayName')",
      // a nameless entry (an update, a component) would otherwise match any pattern that matches empty text
      "    if ($name -eq '') { continue }",
      "    $version = ([string]$entry.GetValue('DisplayVersion')).Trim()",
    ]) expect(name).toContain(line);
    const code = windowsDetection({ method: 'PackageName', value: 'x' }).script.split('\n');
    for (const line of [
      "  [Console]::Error.WriteLine('the package name is not an MSI product code such as {23170F69-40C1-2701-2501-000001000000}')",
      '  exit 2',
      "    $version = ([string]$entry.GetValue('DisplayVersion')).Trim()",
      "    if ($version -eq '') {",
      '      [Console]::Error.WriteLine("$code is installed but its uninstall entry has no DisplayVersion")',
      '      exit 3',
      '    Write-Output $version',
    ]) expect(code).toContain(line);
  });
});

describe('what the scripts do on the computer, as written', () => {
  let detection: string;
  let secretAction: string;
  let plainAction: string;
  beforeEach(() => {
    detection = buildPowerShellDetectionScript([entry('software:a', 'Write-Output 1.0', { environment: REFS })], 'n');
    secretAction = buildPowerShellActionScript(action({ environment: REFS }), 'n');
    plainAction = buildPowerShellActionScript(action(), 'n');
  });

  it('sets up the same way for detections and actions: output not stopped by stderr, the root, the shell, a private work folder', () => {
    const prelude = [
      "$ErrorActionPreference = 'Continue'",
      '$env:NIGHTSHIFT_ROOT = [string]$env:NIGHTSHIFT_ROOT',
      '$__nsCwd = if ($env:NIGHTSHIFT_ROOT) { $env:NIGHTSHIFT_ROOT } else { [IO.Path]::GetPathRoot($PSHOME) }',
      "$__nsShell = Join-Path $PSHOME 'powershell.exe'",
      'if (-not (Test-Path -LiteralPath $__nsShell)) { $__nsShell = [Diagnostics.Process]::GetCurrentProcess().MainModule.FileName }',
      '$__nsTemp = if ($env:TEMP) { $env:TEMP } else { [IO.Path]::GetTempPath() }',
      "$__nsWork = Join-Path $__nsTemp ('nightshift.' + [guid]::NewGuid().ToString('N'))",
      "try { $null = [IO.Directory]::CreateDirectory($__nsWork) } catch { [Console]::Error.WriteLine('nightshift: cannot create a work folder'); exit 70 }",
      'function __nsText([string]$Encoded) { return [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($Encoded)) }',
      '  [IO.File]::WriteAllText($Path, (__nsText $Encoded), (New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $true))',
      'function __nsB64([string]$Text) { return [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($Text)) }',
      '  for ($i = 0; $i + 1 -lt $Pairs.Count; $i += 2) { [Environment]::SetEnvironmentVariable($Pairs[$i], (__nsText $Pairs[$i + 1])) }',
    ];
    for (const script of [detection, plainAction]) for (const line of prelude) expect(script).toContain(`\n${line}\n`);
  });

  it('starts a catalog script in its own process with its own variables, drains both pipes, and kills the tree at the limit (124)', () => {
    const start = section(detection, 'function __nsStart(');
    for (const line of [
      'function __nsStart([string]$File, [string]$Arguments, [string]$Cwd, [hashtable]$Variables, [int]$TimeoutMs, [Text.Encoding]$Encoding) {',
      '  $info = New-Object -TypeName System.Diagnostics.ProcessStartInfo',
      '  $info.FileName = $File',
      '  $info.Arguments = $Arguments',
      '  $info.WorkingDirectory = $Cwd',
      '  $info.UseShellExecute = $false',
      '  $info.CreateNoWindow = $true',
      '  $info.RedirectStandardInput = $true',
      '  $info.RedirectStandardOutput = $true',
      '  $info.RedirectStandardError = $true',
      '  $info.StandardOutputEncoding = $Encoding',
      '  $info.StandardErrorEncoding = $Encoding',
      '  foreach ($name in @($Variables.Keys)) { $info.EnvironmentVariables[[string]$name] = [string]$Variables[$name] }',
      '  $process = [Diagnostics.Process]::Start($info)',
      '    $process.StandardInput.Close()',
      '    $out = $process.StandardOutput.ReadToEndAsync()',
      '    $err = $process.StandardError.ReadToEndAsync()',
      '    $code = 124',
      '    if ($process.WaitForExit($TimeoutMs)) {',
      '      $code = $process.ExitCode',
      '      try { $null = & taskkill.exe /T /F /PID $process.Id 2>$null } catch { }',
      '      if (-not $process.HasExited) { try { $process.Kill() } catch { } }',
      '      $null = $process.WaitForExit(5000)',
      "    $stdout = if ($out.Wait(5000)) { $out.Result } else { '' }",
      "    $stderr = if ($err.Wait(5000)) { $err.Result } else { '' }",
      '    return @{ Code = [int]$code; Out = [string]$stdout; Err = [string]$stderr }',
      '  } finally {',
      '    $process.Dispose()',
    ]) expect(start.split('\n')).toContain(line);
    const runScript = section(detection, 'function __nsRunScript(');
    expect(runScript).toContain("  $arguments = '-NoProfile -NonInteractive -ExecutionPolicy Bypass -File \"' + $Path + '\"'\n");
    expect(runScript).toContain('  return __nsStart $Shell $arguments $Cwd $Variables $TimeoutMs ([Console]::OutputEncoding)\n');
    expect(section(secretAction, 'function __nsStart(')).toBe(start);
  });

  it('fetches a secret with AWS Tools when installed, else with the CLI in UTF-8 within 60 s, in the Region the command names, naming why it failed', () => {
    const value = section(detection, 'function __nsSecretValue(');
    for (const line of [
      "  $module = @('AWS.Tools.SimpleSystemsManagement', 'AWSPowerShell', 'AWSPowerShell.NetCore') | Where-Object { Get-Module -ListAvailable -Name $_ } | Select-Object -First 1",
      '  if ($module) {',
      '    Import-Module -Name $module -ErrorAction Stop',
      '    $regionArguments = @{}',
      "    if ($Region) { $regionArguments['Region'] = $Region }",
      '    return [string](Get-SSMParameter -Name $Reference -WithDecryption $true -ErrorAction Stop @regionArguments).Value',
      '  $cli = Get-Command -Name aws -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1',
      "  if ($null -eq $cli) { throw 'neither AWS Tools for PowerShell nor the AWS CLI (aws) is installed' }",
      "  $variables = @{ PYTHONIOENCODING = 'utf-8' }",
      "  if ($Region) { $variables['AWS_REGION'] = $Region; $variables['AWS_DEFAULT_REGION'] = $Region }",
      "  $arguments = 'ssm get-parameter --with-decryption --name \"' + $Reference + '\" --query Parameter.Value --output text'",
      '  $run = __nsStart $cli.Path $arguments $__nsTempFolder $variables 60000 ([Text.Encoding]::UTF8)',
      "  if ($run.Code -eq 124) { throw 'no answer within 60 seconds' }",
      '  if ($run.Code -ne 0) {',
      "    $why = @($run.Err -split '\\r?\\n' | Where-Object { $_ -match '\\S' } | Select-Object -Last 1)",
      '    if ($why.Count -eq 0) { throw "the AWS CLI exited $($run.Code)" }',
      '    throw $why[0]',
      '  $value = $run.Out',
      '  if ($value.EndsWith("`r`n")) { return $value.Substring(0, $value.Length - 2) }',
      '  if ($value.EndsWith("`n")) { return $value.Substring(0, $value.Length - 1) }',
      '  return $value',
    ]) expect(value.split('\n')).toContain(line);
    expect(section(secretAction, 'function __nsSecretValue(')).toBe(value);
  });

  it('checks the references, resolves each into its variable and the parameters JSON, and collects every form of it to mask', () => {
    const secrets = section(detection, 'function __nsSecrets(');
    for (const line of [
      '  $result = @{ Forms = New-Object -TypeName System.Collections.Generic.List[string]; Problem = $null; Parameter = $null }',
      "  $json = [string]$Variables['NIGHTSHIFT_SECRET_REFS_JSON']",
      "  if ($json -eq '') { return $result }",
      '  try { $parsed = ConvertFrom-Json -InputObject $json -ErrorAction Stop } catch { $parsed = $null }',
      '  if ($null -eq $parsed -or $parsed.PSObject.BaseObject -isnot [Management.Automation.PSCustomObject]) {',
      "    $result.Problem = 'NIGHTSHIFT_SECRET_REFS_JSON is not a JSON object'",
      '  $references = @($parsed.PSObject.Properties)',
      '  $entries = New-Object -TypeName System.Collections.Generic.List[string]',
      '  foreach ($reference in $references) {',
      '    $name = [string]$reference.Name',
      '    $path = [string]$reference.Value',
      "    if ($reference.Value -isnot [string] -or $name -cnotmatch '^[A-Za-z][A-Za-z0-9_]{0,47}\\z' -or $path -cnotmatch '^[A-Za-z0-9_./-]{1,2048}\\z') {",
      "      $result.Problem = 'NIGHTSHIFT_SECRET_REFS_JSON must map parameter names to SSM parameter names'",
      "      $value = __nsSecretValue $path ([string]$Variables['NIGHTSHIFT_SECRETS_REGION'])",
      "      $why = ([string]$_.Exception.Message -split '\\r?\\n')[0]",
      '      if ($why.Length -gt 200) { $why = $why.Substring(0, 200) }',
      '      $result.Parameter = $name',
      '      $result.Problem = "secret parameter $name could not be resolved from SSM parameter ${path}: $why"',
      "    $Variables['NIGHTSHIFT_PARAM_' + $name] = $value",
      '    $quoted = ConvertTo-Json -InputObject $value -Compress',
      "    $entries.Add((ConvertTo-Json -InputObject $name -Compress) + ':' + $quoted)",
      '    $escaped = $quoted.Substring(1, $quoted.Length - 2)',
      "    if ($value -ne '') { $result.Forms.Add($value) }",
      '    if ($escaped -cne $value) { $result.Forms.Add($escaped) }',
      '    if ($value.Contains("`n")) {',
      "      foreach ($line in ($value -split '\\r?\\n')) {",
      "        if ($line.Length -ge 4 -and $line -match '\\S') { $result.Forms.Add($line) }",
      '  if ($entries.Count -gt 0) {',
      "    $parameters = ([string]$Variables['NIGHTSHIFT_PARAMETERS_JSON']).TrimEnd()",
      "    $joined = $entries -join ','",
      "    if (-not $parameters.EndsWith('}')) {",
      "      $parameters = '{' + $joined + '}'",
      '      $inside = $parameters.Substring(0, $parameters.Length - 1).TrimEnd()',
      "      $parameters = if ($inside.EndsWith('{')) { $inside + $joined + '}' } else { $inside + ',' + $joined + '}' }",
      "    $Variables['NIGHTSHIFT_PARAMETERS_JSON'] = $parameters",
      '  return $result',
    ]) expect(secrets.split('\n')).toContain(line);
    const scrub = section(detection, 'function __nsScrub(');
    expect(scrub).toBe(
      [
        'function __nsScrub([string]$Text, [string[]]$Forms) {',
        "  foreach ($form in @($Forms | Sort-Object -Property Length -Descending)) { if ($form) { $Text = $Text.Replace($form, '***') } }",
        '  return $Text',
        '}',
      ].join('\n'),
    );
    expect(section(secretAction, 'function __nsSecrets(')).toBe(secrets);
  });

  it('runs an item in a runspace of its own: secrets first (78 when one fails), its script, the health check after a version, everything masked and cut', () => {
    const worker = section(detection, '$__nsItemWorker = {', '$__nsConcurrency = 4');
    for (const line of [
      'param([string]$Shell, [string]$Cwd, [string]$Base, [double]$Seconds, [string]$Main, [string]$Test, [string[]]$Environment)',
      "$ErrorActionPreference = 'Continue'",
      '$__nsTempFolder = Split-Path -Parent $Base',
      '  if ($Text.Length -gt $Chars) { return $Text.Substring($Text.Length - $Chars) }',
      "$rc = 0; $trc = $null; $out = ''; $err = ''; $tout = ''; $forms = @()",
      '  $variables = @{}',
      '  for ($i = 0; $i + 1 -lt $Environment.Count; $i += 2) { $variables[$Environment[$i]] = __nsText $Environment[$i + 1] }',
      '  $secrets = __nsSecrets $variables',
      '  $forms = $secrets.Forms',
      '  if ($null -ne $secrets.Problem) {',
      '    $rc = 78',
      "    $err = 'nightshift: ' + $secrets.Problem",
      '    $timeoutMs = [int][Math]::Min(2147483647, $Seconds * 1000)',
      "    __nsWriteScript ($Base + '.ps1') $Main",
      "    $run = __nsRunScript $Shell $Cwd ($Base + '.ps1') $variables $timeoutMs",
      '    $rc = $run.Code; $out = $run.Out; $err = $run.Err',
      "    if ($rc -eq 0 -and $Test -ne '' -and $out -match '\\S') {",
      "      __nsWriteScript ($Base + '.test.ps1') $Test",
      "      $check = __nsRunScript $Shell $Cwd ($Base + '.test.ps1') $variables $timeoutMs",
      '      $trc = $check.Code; $tout = $check.Out + $check.Err',
      '  $rc = 70',
      '  $err = "nightshift: cannot run this item: $($_.Exception.Message)"',
      '  Rc = $rc',
      '  Out = (__nsLast (__nsScrub $out $forms) 4096)',
      '  Err = (__nsLast (__nsScrub $err $forms) 2048)',
      '  TestRc = $trc',
      '  TestOut = (__nsLast (__nsScrub $tout $forms) 1024)',
    ]) expect(worker.split('\n')).toContain(line);
  });

  it('runs four items at a time in one pool, reports each in order, and fits Windows codes into the record (255 plus the real code)', () => {
    for (const line of [
      '$__nsConcurrency = 4',
      '$__nsPool = [RunspaceFactory]::CreateRunspacePool(1, $__nsConcurrency, [Management.Automation.Runspaces.InitialSessionState]::CreateDefault(), $Host)',
      '$__nsPool.Open()',
      '$__nsJobs = New-Object -TypeName System.Collections.ArrayList',
      '$__nsItem = 0',
    ]) expect(detection.split('\n')).toContain(line);
    const detect = section(detection, 'function __nsDetect(');
    for (const line of [
      '  $script:__nsItem += 1',
      '  $job = @{ Key = $Key; Shell = $null; Handle = $null; Problem = $null }',
      '    $job.Shell = [PowerShell]::Create()',
      '    $job.Shell.RunspacePool = $__nsPool',
      '    $null = $job.Shell.AddScript($__nsItemWorker.ToString())',
      "    $null = $job.Shell.AddParameter('Shell', $__nsShell).AddParameter('Cwd', $__nsCwd).AddParameter('Base', (Join-Path $__nsWork ('item' + $script:__nsItem)))",
      "    $null = $job.Shell.AddParameter('Seconds', $Seconds).AddParameter('Main', $Main).AddParameter('Test', $Test).AddParameter('Environment', $Environment)",
      '    $job.Handle = $job.Shell.BeginInvoke()',
      '    $job.Problem = "nightshift: cannot start this item: $($_.Exception.Message)"',
      '  $null = $__nsJobs.Add($job)',
    ]) expect(detect.split('\n')).toContain(line);
    expect(section(detection, 'function __nsCode(')).toBe(
      [
        'function __nsCode([int]$Code, [ref]$Message) {',
        '  if ($Code -ge 0 -and $Code -le 999) { return [string]$Code }',
        '  $Message.Value = $Message.Value + "`nnightshift: exit code $Code"',
        "  return '255'",
        '}',
      ].join('\n'),
    );
    const report = section(detection, 'function __nsReport(');
    for (const line of [
      "  $rc = 70; $trc = $null; $out = ''; $err = [string]$Job.Problem; $tout = ''",
      '  if ($null -ne $Job.Handle) {',
      '      $results = $Job.Shell.EndInvoke($Job.Handle)',
      '      if ($results.Count -gt 0) {',
      '        $result = $results[$results.Count - 1]',
      '        $rc = [int]$result.Rc; $trc = $result.TestRc; $out = [string]$result.Out; $err = [string]$result.Err; $tout = [string]$result.TestOut',
      "        $err = 'nightshift: this item reported nothing: ' + (@($Job.Shell.Streams.Error) -join '; ')",
      '      $err = "nightshift: cannot run this item: $($_.Exception.Message)"',
      '      $Job.Shell.Dispose()',
      '  $rcField = __nsCode $rc ([ref]$err)',
      "  $trcField = if ($null -eq $trc) { '-' } else { __nsCode ([int]$trc) ([ref]$tout) }",
      "  $record = @('NIGHTSHIFT-ITEM', $__nsNonce, $Job.Key, $rcField, (__nsB64 $out), (__nsB64 $err), $trcField, (__nsB64 $tout)) -join ' '",
      '  [Console]::Out.Write("`n" + $record + "`n")',
    ]) expect(report.split('\n')).toContain(line);
  });

  it('runs each step once across restarts, stops after a failure, and turns an installer\'s restart code into success plus a restart', () => {
    for (const line of [
      '$__nsRc = 0',
      "$__nsFailed = '-'",
      '$__nsRestart = $false',
      '$__nsStateRoot = if ($env:NIGHTSHIFT_ROOT) { $env:NIGHTSHIFT_ROOT } else { $env:ProgramData }',
      "$__nsState = Join-Path $__nsStateRoot ('Nightshift\\commands\\' + $__nsNonce)",
      'try { $null = [IO.Directory]::CreateDirectory($__nsState) } catch { [Console]::Error.WriteLine("nightshift: cannot create $__nsState"); exit 70 }',
    ]) expect(plainAction.split('\n')).toContain(line);
    const step = section(plainAction, 'function __nsStep(');
    for (const line of [
      'function __nsStep([int]$Index, [int]$Count, [string]$Label, [string]$Encoded) {',
      '  if ($script:__nsRc -ne 0) { return }',
      "  $done = Join-Path $__nsState ('step-' + $Index + '.done')",
      '  if ([IO.File]::Exists($done)) {',
      '    [Console]::Out.WriteLine("nightshift: step $Index of ${Count}: $Label (finished before a restart)")',
      '    return',
      '  [Console]::Out.WriteLine("nightshift: step $Index of ${Count}: $Label")',
      "  $path = Join-Path $__nsWork ('step' + $Index + '.ps1')",
      '  $script:__nsStepCode = 70',
      '    __nsWriteScript $path $Encoded',
      '    __nsRunStep $path',
      '    [Console]::Error.WriteLine("nightshift: cannot run step ${Index}: $($_.Exception.Message)")',
      '  $code = $script:__nsStepCode',
      '  if ($code -eq 3010 -or $code -eq 1641) { $script:__nsRestart = $true; $code = 0 }',
      '  $script:__nsRc = $code',
      "  if ($code -eq 0) { [IO.File]::WriteAllText($done, '') } else { $script:__nsFailed = [string]$Index }",
    ]) expect(step.split('\n')).toContain(line);
    expect(section(plainAction, 'function __nsRunStep(')).toBe(
      [
        'function __nsRunStep([string]$Path) {',
        '  Push-Location -LiteralPath $__nsCwd',
        '  try {',
        '    & $__nsShell -NoProfile -NonInteractive -ExecutionPolicy Bypass -File $Path',
        '    if ($null -ne $LASTEXITCODE) { $script:__nsStepCode = [int]$LASTEXITCODE }',
        '  } finally { Pop-Location }',
        '}',
      ].join('\n'),
    );
  });

  it('resolves a command\'s secrets once, before the first step that runs, hands them to each step\'s process and masks its output', () => {
    for (const line of ['$__nsSecretsReady = $false', '$__nsSecretVariables = @{}', '$__nsSecretForms = @()']) expect(secretAction.split('\n')).toContain(line);
    const runStep = section(secretAction, 'function __nsRunStep(');
    for (const line of [
      '  if (-not $script:__nsSecretsReady) {',
      '    $variables = @{}',
      "    foreach ($name in @('NIGHTSHIFT_SECRET_REFS_JSON', 'NIGHTSHIFT_PARAMETERS_JSON', 'NIGHTSHIFT_SECRETS_REGION')) {",
      '      $value = [Environment]::GetEnvironmentVariable($name)',
      '      if ($value) { $variables[$name] = $value }',
      '    $secrets = __nsSecrets $variables',
      '    if ($null -ne $secrets.Problem) {',
      "      [Console]::Error.WriteLine('nightshift: ' + $secrets.Problem)",
      '      if ($secrets.Parameter) { [Console]::Out.Write("`nNIGHTSHIFT-SECRET-UNRESOLVED $__nsNonce " + $secrets.Parameter + "`n") }',
      '      $script:__nsStepCode = 78',
      '      return',
      '    $script:__nsSecretVariables = $variables',
      '    $script:__nsSecretForms = $secrets.Forms.ToArray()',
      '    $script:__nsSecretsReady = $true',
      '  $run = __nsRunScript $__nsShell $__nsCwd $Path $script:__nsSecretVariables -1',
      '  [Console]::Out.Write((__nsScrub $run.Out $script:__nsSecretForms))',
      '  [Console]::Error.Write((__nsScrub $run.Err $script:__nsSecretForms))',
      '  $script:__nsStepCode = $run.Code',
    ]) expect(runStep.split('\n')).toContain(line);
  });
});

describe('the scripts explain themselves', () => {
  it('carry, in order, the comments that tell whoever reads them on the computer (the SSM console shows the script) why a line is there', () => {
    const scripts = [
      buildPowerShellDetectionScript([], 'n'),
      buildPowerShellActionScript(action({ description: 'd', steps: [], environment: REFS }), 'n'),
      buildPowerShellActionScript(action({ description: 'd', steps: [], environment: {} }), 'n'),
      buildPowerShellRebootScript('n'),
      windowsDetection({ method: 'DisplayName', match: 'Regex', value: 'x' }).script,
      windowsDetection({ method: 'PackageName', value: 'x' }).script,
    ];
    const comments = [...new Set(scripts.flatMap((script) => script.split('\n').map((line) => line.trim()).filter((line) => line.startsWith('#'))))];
    expect(comments).toEqual([
      '# Nightshift detection of 0 item(s). Generated; read-only; safe to re-run.',
      "# Native programs' stderr must stay plain output: under 'Stop' Windows PowerShell turns a redirected stderr line into a terminating error.",
      "# Like bash: catalog scripts may rely on the variable. Windows drops empty variables, so there an absent root reads as $null, which strings render as ''.",
      '# Catalog scripts are written for Windows PowerShell 5.1; a pwsh host (no powershell.exe beside it) runs them itself.',
      '# Windows PowerShell reads a .ps1 without a byte order mark in the ANSI code page, which would garble non-ASCII catalog scripts.',
      '# Sets NAME, base64 pairs as process variables (a list, not a hashtable literal: names differing only in case would make the literal a parse error).',
      "# $Variables go on top of this process's environment, for this child only; 124 when it ran out of time (what `timeout`",
      '# reports, so the parser says "timed out"); $TimeoutMs -1 waits as long as it takes.',
      '# Both pipes drained at once: a child that fills one while we read the other would wait forever.',
      '# taskkill /T also ends what the script started; Kill() alone would leave those holding our pipes.',
      '# A process the script left running may hold a pipe open: what was written until now is what there is.',
      '# A catalog script in its own powershell.exe; it writes in the console code page it inherits from us.',
      "# One reference's value. NIGHTSHIFT_SECRETS_REGION, when the command sets it, wins over the tools' own region.",
      '# The CLI writes in the console code page unless told otherwise, which would garble a non-ASCII secret.',
      '# The CLI ends its text output with one line break.',
      '# Resolves the references in $Variables.NIGHTSHIFT_SECRET_REFS_JSON into $Variables (NIGHTSHIFT_PARAM_<name>, and merged into',
      "# NIGHTSHIFT_PARAMETERS_JSON, which never carries a secret's name). Answers the texts to mask, or the problem, naming the",
      '# parameter and never a value.',
      "# The references are ours (contract.ts allows these alphabets only); the name becomes part of a variable's name.",
      "# Literal replacement (String.Replace): a value's regex characters mean nothing here. Longest first, so a",
      '# secret that contains another is masked whole.',
      '# Masked before anything leaves this runspace, and before the cut, so no value straddles it.',
      '# One runspace per item, at most $__nsConcurrency at once, in this one process: starting powershell.exe is most of a',
      "# detection's time, so items overlap as they do in bash. Each item still runs in its own process with its own time limit.",
      '# The record format takes at most three digits; Windows codes beyond that (1603, negative NTSTATUS) become 255, the real code kept in the message.',
      '# Waits for one item and prints its record: only this thread writes output, one whole record at a time, in item order.',
      '# A process left running by a catalog script may still hold a file; what cannot be removed now is left to the temp folder cleanup.',
      '# Nightshift action: d. Generated.',
      '# Finished steps leave a marker that survives a restart, so a command SSM runs again does not repeat them.',
      "# Not captured by the caller, so a plain step's output flows straight into the command output, as in bash.",
      '# 3010 and 1641 are installers saying "done, restart to finish": a success. Nightshift decides when to restart,',
      '# so the command must not exit with them (SSM would restart the computer on the spot).',
      '# Nightshift restart. Generated.',
      "# A failure must end the script: carrying on after a broken match would print the next entry's version.",
      '# Installed but unversioned is not the same as absent: say so rather than print nothing.',
    ]);
  });
});

describe('values reach the scripts as base64 only', () => {
  it('decodes back to exactly what was given', () => {
    const hostile = "it's $(x) `y` \"q\" @'\nz\n'@ ünï ✓";
    const script = buildPowerShellDetectionScript([entry(hostile, hostile, { testScript: hostile, environment: { V: hostile } })], 'n');
    expect(script).not.toContain(hostile);
    const literals = [...script.matchAll(/-(?:Key|Main|Test) '([^']*)'/g)].map((match) => decodeBase64(match[1] ?? ''));
    expect(literals).toEqual([hostile, hostile, hostile]);
  });
});

/*
 * A missing `} else {`, `} catch {` or `return` can leave a script that still
 * parses and still holds every other line, yet runs a branch it should not;
 * these tests pin the blocks where that would happen, whole.
 */
describe('the branches and early returns, in place', () => {
  let detection: string;
  beforeEach(() => {
    detection = buildPowerShellDetectionScript([entry('software:a', 'Write-Output 1.0', { environment: REFS })], 'n');
  });

  it('kills a catalog script only when it outlived its limit, and keeps the exit code of one that did not', () => {
    expect(section(detection, 'function __nsStart(')).toContain(
      [
        '    if ($process.WaitForExit($TimeoutMs)) {',
        '      $code = $process.ExitCode',
        '    } else {',
        '      # taskkill /T also ends what the script started; Kill() alone would leave those holding our pipes.',
        '      try { $null = & taskkill.exe /T /F /PID $process.Id 2>$null } catch { }',
        '      if (-not $process.HasExited) { try { $process.Kill() } catch { } }',
        '      $null = $process.WaitForExit(5000)',
        '    }',
      ].join('\n'),
    );
  });

  it('stops resolving secrets at the first problem, and merges into parameters JSON that is an object, empty or not', () => {
    const secrets = section(detection, 'function __nsSecrets(');
    expect(secrets).toContain("    $result.Problem = 'NIGHTSHIFT_SECRET_REFS_JSON is not a JSON object'\n    return $result\n  }\n");
    expect(secrets).toContain("      $result.Problem = 'NIGHTSHIFT_SECRET_REFS_JSON must map parameter names to SSM parameter names'\n      return $result\n    }\n");
    expect(secrets).toContain('      $result.Problem = "secret parameter $name could not be resolved from SSM parameter ${path}: $why"\n      return $result\n    }\n');
    expect(secrets).toContain(
      [
        "    if (-not $parameters.EndsWith('}')) {",
        "      $parameters = '{' + $joined + '}'",
        '    } else {',
        '      $inside = $parameters.Substring(0, $parameters.Length - 1).TrimEnd()',
        "      $parameters = if ($inside.EndsWith('{')) { $inside + $joined + '}' } else { $inside + ',' + $joined + '}' }",
        '    }',
      ].join('\n'),
    );
  });

  it('cuts an item\'s output to its last characters and hands back short output whole', () => {
    expect(section(detection, 'function __nsLast(')).toBe(
      [
        'function __nsLast([string]$Text, [int]$Chars) {',
        '  if ($Text.Length -gt $Chars) { return $Text.Substring($Text.Length - $Chars) }',
        '  return $Text',
        '}',
      ].join('\n'),
    );
  });

  it('reports an item that returned nothing or failed to run as such, and disposes of its runspace either way', () => {
    expect(section(detection, 'function __nsReport(')).toContain(
      [
        '    try {',
        '      $results = $Job.Shell.EndInvoke($Job.Handle)',
        '      if ($results.Count -gt 0) {',
        '        $result = $results[$results.Count - 1]',
        '        $rc = [int]$result.Rc; $trc = $result.TestRc; $out = [string]$result.Out; $err = [string]$result.Err; $tout = [string]$result.TestOut',
        '      } else {',
        "        $err = 'nightshift: this item reported nothing: ' + (@($Job.Shell.Streams.Error) -join '; ')",
        '      }',
        '    } catch {',
        '      $err = "nightshift: cannot run this item: $($_.Exception.Message)"',
        '    } finally {',
        '      $Job.Shell.Dispose()',
        '    }',
      ].join('\n'),
    );
  });

  it('puts nothing between the nonce and the step runner of an action without variables', () => {
    expect(buildPowerShellActionScript(action({ environment: {} }), 'n')).toContain("\n$__nsNonce = 'n'\nfunction __nsRunStep([string]$Path) {\n");
  });

  it('prints the version of the first product-code entry and stops there', () => {
    expect(windowsDetection({ method: 'PackageName', value: 'x' }).script).toContain(
      [
        '    if ($entry.PSChildName -ne $code) { continue }',
        "    $version = ([string]$entry.GetValue('DisplayVersion')).Trim()",
        "    if ($version -eq '') {",
        '      [Console]::Error.WriteLine("$code is installed but its uninstall entry has no DisplayVersion")',
        '      exit 3',
        '    }',
        '    Write-Output $version',
        '    exit 0',
        '  }',
        '}',
        'exit 0',
        '',
      ].join('\n'),
    );
  });
});
