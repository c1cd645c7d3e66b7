import type { SoftwareDetection } from '../model/catalog.js';
import { encodeBase64 } from './encoding.js';
import type { ActionScript, DetectionEntry } from './contract.js';
import { ITEM_RECORD_TAG, REBOOT_MARKER, RESULT_RECORD_TAG, assertIdentifier, assertNonce, positiveSeconds } from './contract.js';

/**
 * Generated PowerShell for Windows computers (`AWS-RunPowerShellScript`,
 * which runs Windows PowerShell 5.1, so nothing newer than 5.1 is used).
 *
 * The same promise as the bash generator: nothing user-supplied is spliced
 * into script text. Catalog scripts, item keys and parameter values travel as
 * base64 inside single quotes (an alphabet PowerShell gives no meaning there)
 * and the script decodes them at run time. Everything else in the text is
 * ours: validated identifiers, the validated nonce, integers and labels
 * reduced to safe characters.
 *
 * Catalog scripts run as `.ps1` files in their own `powershell.exe`, so
 * `exit`, `param()` and `#Requires` behave as they would under SSM itself.
 */

const PRELUDE = [
  "# Native programs' stderr must stay plain output: under 'Stop' Windows PowerShell turns a redirected stderr line into a terminating error.",
  "$ErrorActionPreference = 'Continue'",
  "# Like bash: catalog scripts may rely on the variable. Windows drops empty variables, so there an absent root reads as $null, which strings render as ''.",
  '$env:NIGHTSHIFT_ROOT = [string]$env:NIGHTSHIFT_ROOT',
  '$__nsCwd = if ($env:NIGHTSHIFT_ROOT) { $env:NIGHTSHIFT_ROOT } else { [IO.Path]::GetPathRoot($PSHOME) }',
  '# Catalog scripts are written for Windows PowerShell 5.1; a pwsh host (no powershell.exe beside it) runs them itself.',
  "$__nsShell = Join-Path $PSHOME 'powershell.exe'",
  'if (-not (Test-Path -LiteralPath $__nsShell)) { $__nsShell = [Diagnostics.Process]::GetCurrentProcess().MainModule.FileName }',
  '# Windows PowerShell reads a .ps1 without a byte order mark in the ANSI code page, which would garble non-ASCII catalog scripts.',
  '$__nsUtf8Bom = New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $true',
  '$__nsTemp = if ($env:TEMP) { $env:TEMP } else { [IO.Path]::GetTempPath() }',
  "$__nsWork = Join-Path $__nsTemp ('nightshift.' + [guid]::NewGuid().ToString('N'))",
  "try { $null = [IO.Directory]::CreateDirectory($__nsWork) } catch { [Console]::Error.WriteLine('nightshift: cannot create a work folder'); exit 70 }",
  'function __nsText([string]$Encoded) { return [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($Encoded)) }',
  'function __nsB64([string]$Text) { return [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($Text)) }',
  '# Sets NAME, base64 pairs as process variables (a list, not a hashtable literal: names differing only in case would make the literal a parse error).',
  'function __nsEnv([string[]]$Pairs) {',
  '  for ($i = 0; $i + 1 -lt $Pairs.Count; $i += 2) { [Environment]::SetEnvironmentVariable($Pairs[$i], (__nsText $Pairs[$i + 1])) }',
  '}',
  'function __nsWriteScript([string]$Path, [string]$Encoded) {',
  '  [IO.File]::WriteAllText($Path, (__nsText $Encoded), $__nsUtf8Bom)',
  '}',
].join('\n');

const CLEANUP = [
  '  # A process left running by a catalog script may still hold a file; what cannot be removed now is left to the temp folder cleanup.',
  '  Remove-Item -LiteralPath $__nsWork -Recurse -Force -ErrorAction SilentlyContinue',
].join('\n');

/** `@('NAME', 'base64', ...)`: names validated, values base64 only. */
const environmentList = (environment: Readonly<Record<string, string>>): string =>
  `@(${Object.entries(environment)
    .map(([name, value]) => `'${assertIdentifier(name)}', '${encodeBase64(value)}'`)
    .join(', ')})`;

/** Base64 in single quotes: nothing in its alphabet ends or escapes a verbatim string. */
const literal = (text: string): string => `'${encodeBase64(text)}'`;

const DETECT_FUNCTIONS = [
  '# The detection shell can only read files a catalog script wrote in the console code page it shares with us.',
  '$__nsConsole = [Console]::OutputEncoding',
  "$__nsEmpty = Join-Path $__nsWork 'empty'",
  "[IO.File]::WriteAllText($__nsEmpty, '')",
  '$__nsItem = 0',
  '# Runs one script file in its own process; 124 when it ran out of time (what `timeout` reports, so the parser says "timed out").',
  'function __nsRun([string]$Path, [string]$Encoded, [double]$Seconds, [string]$Out, [string]$Err) {',
  '  __nsWriteScript $Path $Encoded',
  "  $process = Start-Process -FilePath $__nsShell -ArgumentList @('-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File', ('\"' + $Path + '\"')) -WorkingDirectory $__nsCwd -RedirectStandardInput $__nsEmpty -RedirectStandardOutput $Out -RedirectStandardError $Err -NoNewWindow -PassThru -ErrorAction Stop",
  '  # Without a cached handle, Windows PowerShell 5.1 loses the exit code of a Start-Process -PassThru process.',
  '  $null = $process.Handle',
  '  if (-not $process.WaitForExit([int][Math]::Min(2147483647, $Seconds * 1000))) {',
  '    # taskkill /T also ends what the script started; Kill() alone would leave those holding our files.',
  '    try { $null = & taskkill.exe /T /F /PID $process.Id 2>$null } catch { }',
  '    if (-not $process.HasExited) { try { $process.Kill() } catch { } }',
  '    $null = $process.WaitForExit(5000)',
  '    return 124',
  '  }',
  '  $code = $process.ExitCode',
  '  if ($null -eq $code) { return 70 }',
  '  return [int]$code',
  '}',
  '# Shared read access: a process the script left behind may still have the file open for writing.',
  'function __nsTail([string]$Path, [int]$Chars) {',
  "  if (-not [IO.File]::Exists($Path)) { return '' }",
  "  $stream = [IO.File]::Open($Path, 'Open', 'Read', 'ReadWrite')",
  '  try { $text = (New-Object -TypeName IO.StreamReader -ArgumentList $stream, $__nsConsole).ReadToEnd() } finally { $stream.Dispose() }',
  '  if ($text.Length -gt $Chars) { $text = $text.Substring($text.Length - $Chars) }',
  '  return $text',
  '}',
  '# The record format takes at most three digits; Windows codes beyond that (1603, negative NTSTATUS) become 255, the real code kept in the message.',
  'function __nsCode([int]$Code, [ref]$Message) {',
  '  if ($Code -ge 0 -and $Code -le 999) { return [string]$Code }',
  '  $Message.Value = $Message.Value + "`nnightshift: exit code $Code"',
  "  return '255'",
  '}',
  '# The item\'s variables are set only while its processes start (children copy them then), so no item sees another\'s values.',
  'function __nsDetect([string]$Key, [double]$Seconds, [string]$Main, [string]$Test, [string[]]$Environment) {',
  '  $script:__nsItem += 1',
  "  $base = Join-Path $__nsWork ('item' + $script:__nsItem)",
  "  $rc = 0; $trc = $null; $out = ''; $err = ''; $tout = ''",
  '  $saved = @{}',
  '  try {',
  '    for ($i = 0; $i + 1 -lt $Environment.Count; $i += 2) {',
  '      if (-not $saved.ContainsKey($Environment[$i])) { $saved[$Environment[$i]] = [Environment]::GetEnvironmentVariable($Environment[$i]) }',
  '      [Environment]::SetEnvironmentVariable($Environment[$i], (__nsText $Environment[$i + 1]))',
  '    }',
  "    $rc = __nsRun ($base + '.ps1') $Main $Seconds ($base + '.out') ($base + '.err')",
  "    $out = __nsTail ($base + '.out') 4096",
  "    $err = __nsTail ($base + '.err') 2048",
  "    if ($rc -eq 0 -and $Test -ne '' -and $out -match '\\S') {",
  "      $trc = __nsRun ($base + '.test.ps1') $Test $Seconds ($base + '.tout') ($base + '.terr')",
  "      $tout = (__nsTail ($base + '.tout') 1024) + (__nsTail ($base + '.terr') 1024)",
  '      if ($tout.Length -gt 1024) { $tout = $tout.Substring($tout.Length - 1024) }',
  '    }',
  '  } catch {',
  '    $rc = 70',
  '    $err = "nightshift: cannot run this item: $($_.Exception.Message)"',
  '  } finally {',
  '    foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) }',
  '  }',
  '  $rcField = __nsCode $rc ([ref]$err)',
  "  $trcField = if ($null -eq $trc) { '-' } else { __nsCode $trc ([ref]$tout) }",
  `  $record = @('${ITEM_RECORD_TAG}', $__nsNonce, $Key, $rcField, (__nsB64 $out), (__nsB64 $err), $trcField, (__nsB64 $tout)) -join ' '`,
  '  [Console]::Out.Write("`n" + $record + "`n")',
  '}',
].join('\n');

/**
 * One command that detects every item. Each item runs in its own
 * `powershell.exe` with its own time limit and its own environment, so a hung
 * or crashing detection cannot hide the others; each reports one record line
 * tagged with the command's nonce, which nothing a detection script prints can
 * forge (its output reaches us only base64-encoded inside our record).
 *
 * Record: `NIGHTSHIFT-ITEM <nonce> <key> <rc> <stdout> <stderr> <test rc|-> <test output>`
 * (key and outputs base64 of UTF-8; the test runs only when detection printed something).
 */
export function buildPowerShellDetectionScript(entries: readonly DetectionEntry[], nonce: string): string {
  const lines = [
    `# Nightshift detection of ${entries.length} item(s). Generated; read-only; safe to re-run.`,
    PRELUDE,
    `$__nsNonce = '${assertNonce(nonce)}'`,
    DETECT_FUNCTIONS,
    'try {',
    ...entries.map(
      (entry) =>
        `  __nsDetect -Key ${literal(entry.key)} -Seconds ${positiveSeconds(entry.timeoutSeconds)} -Main ${literal(entry.script)} ` +
        `-Test ${entry.testScript === undefined ? "''" : literal(entry.testScript)} -Environment ${environmentList(entry.environment)}`,
    ),
    '} finally {',
    CLEANUP,
    '}',
    'exit 0',
    '',
  ];
  return lines.join('\n');
}

const ACTION_FUNCTIONS = [
  '$__nsRc = 0',
  "$__nsFailed = '-'",
  '$__nsRestart = $false',
  "# Finished steps leave a marker that survives a restart, so a command SSM runs again does not repeat them.",
  "$__nsStateRoot = if ($env:NIGHTSHIFT_ROOT) { $env:NIGHTSHIFT_ROOT } else { $env:ProgramData }",
  "$__nsState = Join-Path $__nsStateRoot ('Nightshift\\commands\\' + $__nsNonce)",
  'try { $null = [IO.Directory]::CreateDirectory($__nsState) } catch { [Console]::Error.WriteLine("nightshift: cannot create $__nsState"); exit 70 }',
  '# Not captured by the caller, so the step\'s output flows straight into the command output, as in bash.',
  'function __nsStep([int]$Index, [int]$Count, [string]$Label, [string]$Encoded) {',
  '  if ($script:__nsRc -ne 0) { return }',
  "  $done = Join-Path $__nsState ('step-' + $Index + '.done')",
  '  if ([IO.File]::Exists($done)) {',
  '    [Console]::Out.WriteLine("nightshift: step $Index of ${Count}: $Label (finished before a restart)")',
  '    return',
  '  }',
  '  [Console]::Out.WriteLine("nightshift: step $Index of ${Count}: $Label")',
  "  $path = Join-Path $__nsWork ('step' + $Index + '.ps1')",
  '  $code = 70',
  '  try {',
  '    __nsWriteScript $path $Encoded',
  '    Push-Location -LiteralPath $__nsCwd',
  '    try {',
  '      & $__nsShell -NoProfile -NonInteractive -ExecutionPolicy Bypass -File $path',
  '      if ($null -ne $LASTEXITCODE) { $code = [int]$LASTEXITCODE }',
  '    } finally { Pop-Location }',
  '  } catch {',
  '    [Console]::Error.WriteLine("nightshift: cannot run step ${Index}: $($_.Exception.Message)")',
  '  }',
  '  # 3010 and 1641 are installers saying "done, restart to finish": a success. Nightshift decides when to restart,',
  '  # so the command must not exit with them (SSM would restart the computer on the spot).',
  '  if ($code -eq 3010 -or $code -eq 1641) { $script:__nsRestart = $true; $code = 0 }',
  '  $script:__nsRc = $code',
  "  if ($code -eq 0) { [IO.File]::WriteAllText($done, '') } else { $script:__nsFailed = [string]$Index }",
  '}',
].join('\n');

/**
 * One command per action: its steps run in order (an uninstall before the
 * reinstall, say) and the first failing step stops the rest. Reports the exit
 * code, duration and the failed step on a tagged record line and exits with
 * the step's own code, so SSM's status agrees. A step's 3010/1641 (restart
 * needed) becomes a success plus the restart marker: the session, not SSM,
 * decides when the computer restarts. Finished steps leave markers that
 * survive a restart, so a command SSM runs again does not repeat them.
 *
 * Record: `NIGHTSHIFT-RESULT <nonce> <rc> <duration ms> <failed step|->`
 */
export function buildPowerShellActionScript(action: ActionScript, nonce: string): string {
  const count = action.steps.length;
  const lines = [
    `# Nightshift action: ${action.description.replace(/[^A-Za-z0-9 ._#:()+-]/g, '?')}. Generated.`,
    PRELUDE,
    `$__nsNonce = '${assertNonce(nonce)}'`,
    Object.keys(action.environment).length ? `__nsEnv ${environmentList(action.environment)}` : '',
    ACTION_FUNCTIONS,
    '$__nsWatch = [Diagnostics.Stopwatch]::StartNew()',
    'try {',
    ...action.steps.map((step, index) => `  __nsStep ${index + 1} ${count} '${step.label.replace(/[^A-Za-z0-9 ._-]/g, '?')}' ${literal(step.script)}`),
    '} finally {',
    CLEANUP,
    '}',
    "Remove-Item -LiteralPath $__nsState -Recurse -Force -ErrorAction SilentlyContinue",
    `if ($__nsRestart) { [Console]::Out.WriteLine('${REBOOT_MARKER}') }`,
    `[Console]::Out.Write("\`n${RESULT_RECORD_TAG} $__nsNonce $__nsRc $($__nsWatch.ElapsedMilliseconds) $__nsFailed\`n")`,
    'exit $__nsRc',
    '',
  ].filter((line) => line !== '');
  return lines.join('\n');
}

const MACHINE_UNINSTALL_KEYS = [
  "  'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall'",
  "  'HKLM:\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall'",
];

/**
 * Detection by an installed program's display name (Add or Remove Programs).
 * Prints the DisplayVersion of the first matching entry that has one.
 */
const WINDOWS_DISPLAY_NAME_DETECTION = [
  "# A failure must end the script: carrying on after a broken match would print the next entry's version.",
  "$ErrorActionPreference = 'Stop'",
  '$want = [string]$env:NIGHTSHIFT_DETECT_VALUE',
  '$mode = [string]$env:NIGHTSHIFT_DETECT_MODE',
  "if ($mode -eq 'Regex') {",
  '  try { $null = New-Object -TypeName System.Text.RegularExpressions.Regex -ArgumentList $want }',
  '  catch { [Console]::Error.WriteLine("not a valid regular expression: $want"); exit 2 }',
  '}',
  '$keys = @(',
  ...MACHINE_UNINSTALL_KEYS,
  "  'HKCU:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall'",
  ')',
  '$unversioned = $null',
  'foreach ($key in $keys) {',
  '  foreach ($entry in @(Get-ChildItem -LiteralPath $key -ErrorAction SilentlyContinue)) {',
  "    $name = [string]$entry.GetValue('DisplayName')",
  "    if ($name -eq '') { continue }",
  "    if ($mode -eq 'Regex') {",
  '      if ($name -notmatch $want) { continue }',
  '    } elseif ($name.IndexOf($want, [StringComparison]::OrdinalIgnoreCase) -lt 0) {',
  '      continue',
  '    }',
  "    $version = ([string]$entry.GetValue('DisplayVersion')).Trim()",
  "    if ($version -ne '') {",
  '      Write-Output $version',
  '      exit 0',
  '    }',
  '    if ($null -eq $unversioned) { $unversioned = $name }',
  '  }',
  '}',
  '# Installed but unversioned is not the same as absent: say so rather than print nothing.',
  'if ($null -ne $unversioned) {',
  '  [Console]::Error.WriteLine("""$unversioned"" is installed but its uninstall entry has no DisplayVersion")',
  '  exit 3',
  '}',
  'exit 0',
  '',
].join('\n');

/**
 * Detection by MSI product code: Windows Installer names a product's
 * uninstall entry after its code. Entries are compared by name rather than
 * opened by a path built from the value, so no value can reach another key.
 */
const WINDOWS_PRODUCT_CODE_DETECTION = [
  "$ErrorActionPreference = 'Stop'",
  "$code = ([string]$env:NIGHTSHIFT_DETECT_VALUE).Trim().Trim('{}'.ToCharArray())",
  "if ($code -notmatch '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$') {",
  "  [Console]::Error.WriteLine('the package name is not an MSI product code such as {23170F69-40C1-2701-2501-000001000000}')",
  '  exit 2',
  '}',
  "$code = '{' + $code + '}'",
  '$keys = @(',
  ...MACHINE_UNINSTALL_KEYS,
  ')',
  'foreach ($key in $keys) {',
  '  foreach ($entry in @(Get-ChildItem -LiteralPath $key -ErrorAction SilentlyContinue)) {',
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
].join('\n');

/** The Windows detection body for a catalog detection; match text and product codes reach it only through the environment. */
export function windowsDetection(detection: SoftwareDetection): { script: string; environment: Record<string, string> } {
  switch (detection.method) {
    case 'Script':
      return { script: detection.script, environment: {} };
    case 'PackageName':
      return { script: WINDOWS_PRODUCT_CODE_DETECTION, environment: { NIGHTSHIFT_DETECT_MODE: 'ProductCode', NIGHTSHIFT_DETECT_VALUE: detection.value } };
    case 'DisplayName':
      return { script: WINDOWS_DISPLAY_NAME_DETECTION, environment: { NIGHTSHIFT_DETECT_MODE: detection.match, NIGHTSHIFT_DETECT_VALUE: detection.value } };
  }
}

/**
 * Restarts the computer the SSM way: under AWS-RunPowerShellScript, exit 3010
 * makes the agent restart the computer and run the command again; the second
 * run finds its marker and reports success once the computer is back.
 */
export function buildPowerShellRebootScript(nonce: string): string {
  return [
    '# Nightshift restart. Generated.',
    `$__nsNonce = '${assertNonce(nonce)}'`,
    "$__nsStateRoot = if ($env:NIGHTSHIFT_ROOT) { $env:NIGHTSHIFT_ROOT } else { $env:ProgramData }",
    "$__nsState = Join-Path $__nsStateRoot ('Nightshift\\commands\\' + $__nsNonce)",
    "$__nsMarker = Join-Path $__nsState 'restarted'",
    'if ([IO.File]::Exists($__nsMarker)) {',
    '  Remove-Item -LiteralPath $__nsState -Recurse -Force -ErrorAction SilentlyContinue',
    "  [Console]::Out.WriteLine('nightshift: the computer restarted')",
    `  [Console]::Out.Write("\`n${RESULT_RECORD_TAG} $__nsNonce 0 0 -\`n")`,
    '  exit 0',
    '}',
    "try { $null = [IO.Directory]::CreateDirectory($__nsState); [IO.File]::WriteAllText($__nsMarker, '') } catch { [Console]::Error.WriteLine('nightshift: cannot record the restart'); exit 70 }",
    "[Console]::Out.WriteLine('nightshift: restarting the computer')",
    'exit 3010',
    '',
  ].join('\n');
}
