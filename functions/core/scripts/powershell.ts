import type { SoftwareDetection } from '../model/catalog.js';
import { encodeBase64 } from './encoding.js';
import type { ActionScript, DetectionEntry } from './contract.js';
import {
  DETECTION_CONCURRENCY,
  ITEM_RECORD_TAG,
  PARAMETERS_JSON_VARIABLE,
  PARAMETER_VARIABLE_PREFIX,
  REBOOT_MARKER,
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

/*
 * The fixed parts of the scripts are built when a script is, not when the
 * module loads: Stryker can then tell which tests read each line, instead of
 * rerunning every test that imports this module for each of its mutants.
 */

/** Needed wherever a catalog script is written: in the script itself and in every detection runspace. */
const commonFunctions = (): string => [
  'function __nsText([string]$Encoded) { return [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($Encoded)) }',
  '# Windows PowerShell reads a .ps1 without a byte order mark in the ANSI code page, which would garble non-ASCII catalog scripts.',
  'function __nsWriteScript([string]$Path, [string]$Encoded) {',
  '  [IO.File]::WriteAllText($Path, (__nsText $Encoded), (New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $true))',
  '}',
].join('\n');

const prelude = (): string => [
  "# Native programs' stderr must stay plain output: under 'Stop' Windows PowerShell turns a redirected stderr line into a terminating error.",
  "$ErrorActionPreference = 'Continue'",
  "# Like bash: catalog scripts may rely on the variable. Windows drops empty variables, so there an absent root reads as $null, which strings render as ''.",
  '$env:NIGHTSHIFT_ROOT = [string]$env:NIGHTSHIFT_ROOT',
  '$__nsCwd = if ($env:NIGHTSHIFT_ROOT) { $env:NIGHTSHIFT_ROOT } else { [IO.Path]::GetPathRoot($PSHOME) }',
  '# Catalog scripts are written for Windows PowerShell 5.1; a pwsh host (no powershell.exe beside it) runs them itself.',
  "$__nsShell = Join-Path $PSHOME 'powershell.exe'",
  'if (-not (Test-Path -LiteralPath $__nsShell)) { $__nsShell = [Diagnostics.Process]::GetCurrentProcess().MainModule.FileName }',
  '$__nsTemp = if ($env:TEMP) { $env:TEMP } else { [IO.Path]::GetTempPath() }',
  "$__nsWork = Join-Path $__nsTemp ('nightshift.' + [guid]::NewGuid().ToString('N'))",
  "try { $null = [IO.Directory]::CreateDirectory($__nsWork) } catch { [Console]::Error.WriteLine('nightshift: cannot create a work folder'); exit 70 }",
  commonFunctions(),
  'function __nsB64([string]$Text) { return [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($Text)) }',
  '# Sets NAME, base64 pairs as process variables (a list, not a hashtable literal: names differing only in case would make the literal a parse error).',
  'function __nsEnv([string[]]$Pairs) {',
  '  for ($i = 0; $i + 1 -lt $Pairs.Count; $i += 2) { [Environment]::SetEnvironmentVariable($Pairs[$i], (__nsText $Pairs[$i + 1])) }',
  '}',
].join('\n');

const cleanup = (): string => [
  '  # A process left running by a catalog script may still hold a file; what cannot be removed now is left to the temp folder cleanup.',
  '  Remove-Item -LiteralPath $__nsWork -Recurse -Force -ErrorAction SilentlyContinue',
].join('\n');

/** `@('NAME', 'base64', ...)`: names validated, values base64 only. */
const environmentList = (environment: Readonly<Record<string, string>>): string => {
  assertSecretReferences(environment);
  return `@(${Object.entries(environment)
    .map(([name, value]) => `'${assertIdentifier(name)}', '${encodeBase64(value)}'`)
    .join(', ')})`;
};

/** Base64 in single quotes: nothing in its alphabet ends or escapes a verbatim string. */
const literal = (text: string): string => `'${encodeBase64(text)}'`;

/**
 * Starts a program with `Process.Start` rather than `Start-Process`: it alone
 * takes variables for one child (Windows PowerShell 5.1's Start-Process has
 * no -Environment, and detection runspaces share one process environment, so
 * setting an item's values there would show them to the items beside it).
 */
const processFunctions = (): string => [
  '# $Variables go on top of this process\'s environment, for this child only; 124 when it ran out of time (what `timeout`',
  '# reports, so the parser says "timed out"); $TimeoutMs -1 waits as long as it takes.',
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
  '  try {',
  '    $process.StandardInput.Close()',
  '    # Both pipes drained at once: a child that fills one while we read the other would wait forever.',
  '    $out = $process.StandardOutput.ReadToEndAsync()',
  '    $err = $process.StandardError.ReadToEndAsync()',
  '    $code = 124',
  '    if ($process.WaitForExit($TimeoutMs)) {',
  '      $code = $process.ExitCode',
  '    } else {',
  '      # taskkill /T also ends what the script started; Kill() alone would leave those holding our pipes.',
  '      try { $null = & taskkill.exe /T /F /PID $process.Id 2>$null } catch { }',
  '      if (-not $process.HasExited) { try { $process.Kill() } catch { } }',
  '      $null = $process.WaitForExit(5000)',
  '    }',
  '    # A process the script left running may hold a pipe open: what was written until now is what there is.',
  "    $stdout = if ($out.Wait(5000)) { $out.Result } else { '' }",
  "    $stderr = if ($err.Wait(5000)) { $err.Result } else { '' }",
  '    return @{ Code = [int]$code; Out = [string]$stdout; Err = [string]$stderr }',
  '  } finally {',
  '    $process.Dispose()',
  '  }',
  '}',
  '# A catalog script in its own powershell.exe; it writes in the console code page it inherits from us.',
  'function __nsRunScript([string]$Shell, [string]$Cwd, [string]$Path, [hashtable]$Variables, [int]$TimeoutMs) {',
  "  $arguments = '-NoProfile -NonInteractive -ExecutionPolicy Bypass -File \"' + $Path + '\"'",
  '  return __nsStart $Shell $arguments $Cwd $Variables $TimeoutMs ([Console]::OutputEncoding)',
  '}',
].join('\n');

/** Lines of a multi-line secret this long or longer are masked on their own too (a script may print one line of a key). */
const SECRET_LINE_MIN_CHARS = 4;

/**
 * Secret parameters, resolved on the computer (the contract is in
 * contract.ts): with AWS Tools for PowerShell when the SSM module is
 * installed (Windows AMIs ship it), else with the AWS CLI. Values live in
 * hashtables of this script, reach a catalog script only through its own
 * process's variables, and leave only masked.
 */
const secretFunctions = (): string => [
  `# One reference's value. ${SECRETS_REGION_VARIABLE}, when the command sets it, wins over the tools' own region.`,
  'function __nsSecretValue([string]$Reference, [string]$Region) {',
  // the modular AWS Tools, or the single-module AWSPowerShell that Windows AMIs ship; each has Get-SSMParameter
  "  $module = @('AWS.Tools.SimpleSystemsManagement', 'AWSPowerShell', 'AWSPowerShell.NetCore') | Where-Object { Get-Module -ListAvailable -Name $_ } | Select-Object -First 1",
  '  if ($module) {',
  '    Import-Module -Name $module -ErrorAction Stop',
  '    $regionArguments = @{}',
  "    if ($Region) { $regionArguments['Region'] = $Region }",
  '    return [string](Get-SSMParameter -Name $Reference -WithDecryption $true -ErrorAction Stop @regionArguments).Value',
  '  }',
  '  $cli = Get-Command -Name aws -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1',
  "  if ($null -eq $cli) { throw 'neither AWS Tools for PowerShell nor the AWS CLI (aws) is installed' }",
  "  # The CLI writes in the console code page unless told otherwise, which would garble a non-ASCII secret.",
  "  $variables = @{ PYTHONIOENCODING = 'utf-8' }",
  "  if ($Region) { $variables['AWS_REGION'] = $Region; $variables['AWS_DEFAULT_REGION'] = $Region }",
  "  $arguments = 'ssm get-parameter --with-decryption --name \"' + $Reference + '\" --query Parameter.Value --output text'",
  `  $run = __nsStart $cli.Path $arguments $__nsTempFolder $variables ${SECRET_RESOLVE_TIMEOUT_SECONDS * 1000} ([Text.Encoding]::UTF8)`,
  `  if ($run.Code -eq 124) { throw 'no answer within ${SECRET_RESOLVE_TIMEOUT_SECONDS} seconds' }`,
  '  if ($run.Code -ne 0) {',
  "    $why = @($run.Err -split '\\r?\\n' | Where-Object { $_ -match '\\S' } | Select-Object -Last 1)",
  '    if ($why.Count -eq 0) { throw "the AWS CLI exited $($run.Code)" }',
  '    throw $why[0]',
  '  }',
  '  # The CLI ends its text output with one line break.',
  '  $value = $run.Out',
  '  if ($value.EndsWith("`r`n")) { return $value.Substring(0, $value.Length - 2) }',
  '  if ($value.EndsWith("`n")) { return $value.Substring(0, $value.Length - 1) }',
  '  return $value',
  '}',
  `# Resolves the references in $Variables.${SECRET_REFS_VARIABLE} into $Variables (${PARAMETER_VARIABLE_PREFIX}<name>, and merged into`,
  `# ${PARAMETERS_JSON_VARIABLE}, which never carries a secret's name). Answers the texts to mask, or the problem, naming the`,
  '# parameter and never a value.',
  'function __nsSecrets([hashtable]$Variables) {',
  '  $result = @{ Forms = New-Object -TypeName System.Collections.Generic.List[string]; Problem = $null; Parameter = $null }',
  `  $json = [string]$Variables['${SECRET_REFS_VARIABLE}']`,
  "  if ($json -eq '') { return $result }",
  '  try { $parsed = ConvertFrom-Json -InputObject $json -ErrorAction Stop } catch { $parsed = $null }',
  '  if ($null -eq $parsed -or $parsed.PSObject.BaseObject -isnot [Management.Automation.PSCustomObject]) {',
  `    $result.Problem = '${SECRET_REFS_VARIABLE} is not a JSON object'`,
  '    return $result',
  '  }',
  '  $references = @($parsed.PSObject.Properties)',
  '  $entries = New-Object -TypeName System.Collections.Generic.List[string]',
  '  foreach ($reference in $references) {',
  '    $name = [string]$reference.Name',
  '    $path = [string]$reference.Value',
  "    # The references are ours (contract.ts allows these alphabets only); the name becomes part of a variable's name.",
  "    if ($reference.Value -isnot [string] -or $name -cnotmatch '^[A-Za-z][A-Za-z0-9_]{0,47}\\z' -or $path -cnotmatch '^[A-Za-z0-9_./-]{1,2048}\\z') {",
  `      $result.Problem = '${SECRET_REFS_VARIABLE} must map parameter names to SSM parameter names'`,
  '      return $result',
  '    }',
  '    try {',
  `      $value = __nsSecretValue $path ([string]$Variables['${SECRETS_REGION_VARIABLE}'])`,
  '    } catch {',
  "      $why = ([string]$_.Exception.Message -split '\\r?\\n')[0]",
  '      if ($why.Length -gt 200) { $why = $why.Substring(0, 200) }',
  '      $result.Parameter = $name',
  '      $result.Problem = "secret parameter $name could not be resolved from SSM parameter ${path}: $why"',
  '      return $result',
  '    }',
  `    $Variables['${PARAMETER_VARIABLE_PREFIX}' + $name] = $value`,
  '    $quoted = ConvertTo-Json -InputObject $value -Compress',
  "    $entries.Add((ConvertTo-Json -InputObject $name -Compress) + ':' + $quoted)",
  '    $escaped = $quoted.Substring(1, $quoted.Length - 2)',
  "    if ($value -ne '') { $result.Forms.Add($value) }",
  '    if ($escaped -cne $value) { $result.Forms.Add($escaped) }',
  '    if ($value.Contains("`n")) {',
  "      foreach ($line in ($value -split '\\r?\\n')) {",
  `        if ($line.Length -ge ${SECRET_LINE_MIN_CHARS} -and $line -match '\\S') { $result.Forms.Add($line) }`,
  '      }',
  '    }',
  '  }',
  '  if ($entries.Count -gt 0) {',
  `    $parameters = ([string]$Variables['${PARAMETERS_JSON_VARIABLE}']).TrimEnd()`,
  "    $joined = $entries -join ','",
  "    if (-not $parameters.EndsWith('}')) {",
  "      $parameters = '{' + $joined + '}'",
  '    } else {',
  '      $inside = $parameters.Substring(0, $parameters.Length - 1).TrimEnd()',
  "      $parameters = if ($inside.EndsWith('{')) { $inside + $joined + '}' } else { $inside + ',' + $joined + '}' }",
  '    }',
  `    $Variables['${PARAMETERS_JSON_VARIABLE}'] = $parameters`,
  '  }',
  '  return $result',
  '}',
  '# Literal replacement (String.Replace): a value\'s regex characters mean nothing here. Longest first, so a',
  '# secret that contains another is masked whole.',
  'function __nsScrub([string]$Text, [string[]]$Forms) {',
  `  foreach ($form in @($Forms | Sort-Object -Property Length -Descending)) { if ($form) { $Text = $Text.Replace($form, '${SECRET_MASK}') } }`,
  '  return $Text',
  '}',
].join('\n');

/**
 * What one detection runspace runs for one item: its catalog script (and the
 * health check) in its own powershell.exe with its own variables and time
 * limit, everything captured and masked here, and one object back. It writes
 * nothing to the output itself, so items never interleave.
 */
const itemWorker = (): string => [
  '$__nsItemWorker = {',
  'param([string]$Shell, [string]$Cwd, [string]$Base, [double]$Seconds, [string]$Main, [string]$Test, [string[]]$Environment)',
  "$ErrorActionPreference = 'Continue'",
  '$__nsTempFolder = Split-Path -Parent $Base',
  commonFunctions(),
  processFunctions(),
  secretFunctions(),
  'function __nsLast([string]$Text, [int]$Chars) {',
  '  if ($Text.Length -gt $Chars) { return $Text.Substring($Text.Length - $Chars) }',
  '  return $Text',
  '}',
  "$rc = 0; $trc = $null; $out = ''; $err = ''; $tout = ''; $forms = @()",
  'try {',
  '  $variables = @{}',
  '  for ($i = 0; $i + 1 -lt $Environment.Count; $i += 2) { $variables[$Environment[$i]] = __nsText $Environment[$i + 1] }',
  '  $secrets = __nsSecrets $variables',
  '  $forms = $secrets.Forms',
  '  if ($null -ne $secrets.Problem) {',
  `    $rc = ${SECRET_UNRESOLVED_EXIT_CODE}`,
  "    $err = 'nightshift: ' + $secrets.Problem",
  '  } else {',
  '    $timeoutMs = [int][Math]::Min(2147483647, $Seconds * 1000)',
  "    __nsWriteScript ($Base + '.ps1') $Main",
  "    $run = __nsRunScript $Shell $Cwd ($Base + '.ps1') $variables $timeoutMs",
  '    $rc = $run.Code; $out = $run.Out; $err = $run.Err',
  "    if ($rc -eq 0 -and $Test -ne '' -and $out -match '\\S') {",
  "      __nsWriteScript ($Base + '.test.ps1') $Test",
  "      $check = __nsRunScript $Shell $Cwd ($Base + '.test.ps1') $variables $timeoutMs",
  '      $trc = $check.Code; $tout = $check.Out + $check.Err',
  '    }',
  '  }',
  '} catch {',
  '  $rc = 70',
  '  $err = "nightshift: cannot run this item: $($_.Exception.Message)"',
  '}',
  '# Masked before anything leaves this runspace, and before the cut, so no value straddles it.',
  '[pscustomobject]@{',
  '  Rc = $rc',
  '  Out = (__nsLast (__nsScrub $out $forms) 4096)',
  '  Err = (__nsLast (__nsScrub $err $forms) 2048)',
  '  TestRc = $trc',
  '  TestOut = (__nsLast (__nsScrub $tout $forms) 1024)',
  '}',
  '}',
].join('\n');

const detectFunctions = (): string => [
  itemWorker(),
  `$__nsConcurrency = ${DETECTION_CONCURRENCY}`,
  '# One runspace per item, at most $__nsConcurrency at once, in this one process: starting powershell.exe is most of a',
  "# detection's time, so items overlap as they do in bash. Each item still runs in its own process with its own time limit.",
  '$__nsPool = [RunspaceFactory]::CreateRunspacePool(1, $__nsConcurrency, [Management.Automation.Runspaces.InitialSessionState]::CreateDefault(), $Host)',
  '$__nsPool.Open()',
  '$__nsJobs = New-Object -TypeName System.Collections.ArrayList',
  '$__nsItem = 0',
  'function __nsDetect([string]$Key, [double]$Seconds, [string]$Main, [string]$Test, [string[]]$Environment) {',
  '  $script:__nsItem += 1',
  '  $job = @{ Key = $Key; Shell = $null; Handle = $null; Problem = $null }',
  '  try {',
  '    $job.Shell = [PowerShell]::Create()',
  '    $job.Shell.RunspacePool = $__nsPool',
  '    $null = $job.Shell.AddScript($__nsItemWorker.ToString())',
  "    $null = $job.Shell.AddParameter('Shell', $__nsShell).AddParameter('Cwd', $__nsCwd).AddParameter('Base', (Join-Path $__nsWork ('item' + $script:__nsItem)))",
  "    $null = $job.Shell.AddParameter('Seconds', $Seconds).AddParameter('Main', $Main).AddParameter('Test', $Test).AddParameter('Environment', $Environment)",
  '    $job.Handle = $job.Shell.BeginInvoke()',
  '  } catch {',
  '    $job.Problem = "nightshift: cannot start this item: $($_.Exception.Message)"',
  '  }',
  '  $null = $__nsJobs.Add($job)',
  '}',
  '# The record format takes at most three digits; Windows codes beyond that (1603, negative NTSTATUS) become 255, the real code kept in the message.',
  'function __nsCode([int]$Code, [ref]$Message) {',
  '  if ($Code -ge 0 -and $Code -le 999) { return [string]$Code }',
  '  $Message.Value = $Message.Value + "`nnightshift: exit code $Code"',
  "  return '255'",
  '}',
  '# Waits for one item and prints its record: only this thread writes output, one whole record at a time, in item order.',
  'function __nsReport($Job) {',
  "  $rc = 70; $trc = $null; $out = ''; $err = [string]$Job.Problem; $tout = ''",
  '  if ($null -ne $Job.Handle) {',
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
  '  }',
  '  $rcField = __nsCode $rc ([ref]$err)',
  "  $trcField = if ($null -eq $trc) { '-' } else { __nsCode ([int]$trc) ([ref]$tout) }",
  `  $record = @('${ITEM_RECORD_TAG}', $__nsNonce, $Job.Key, $rcField, (__nsB64 $out), (__nsB64 $err), $trcField, (__nsB64 $tout)) -join ' '`,
  '  [Console]::Out.Write("`n" + $record + "`n")',
  '}',
].join('\n');

/**
 * One command that detects every item, `DETECTION_CONCURRENCY` at a time in
 * one PowerShell process (a RunspacePool: Windows PowerShell 5.1 has no
 * ForEach-Object -Parallel). Each item still runs in its own
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
    prelude(),
    `$__nsNonce = '${assertNonce(nonce)}'`,
    detectFunctions(),
    'try {',
    ...entries.map(
      (entry) =>
        `  __nsDetect -Key ${literal(entry.key)} -Seconds ${positiveSeconds(entry.timeoutSeconds)} -Main ${literal(entry.script)} ` +
        `-Test ${entry.testScript === undefined ? "''" : literal(entry.testScript)} -Environment ${environmentList(entry.environment)}`,
    ),
    '  foreach ($__nsJob in $__nsJobs) { __nsReport $__nsJob }',
    '} finally {',
    '  $__nsPool.Close()',
    '  $__nsPool.Dispose()',
    cleanup(),
    '}',
    'exit 0',
    '',
  ];
  return lines.join('\n');
}

/** A step's output flows straight into the command's. */
const plainStepRunner = (): string => [
  'function __nsRunStep([string]$Path) {',
  '  Push-Location -LiteralPath $__nsCwd',
  '  try {',
  '    & $__nsShell -NoProfile -NonInteractive -ExecutionPolicy Bypass -File $Path',
  '    if ($null -ne $LASTEXITCODE) { $script:__nsStepCode = [int]$LASTEXITCODE }',
  '  } finally { Pop-Location }',
  '}',
].join('\n');

/**
 * With secret parameters: resolved once, before the first step that runs (a
 * step that finished before a restart needs none); a step runs with them in
 * its own process's variables only, and its output is printed masked.
 */
const secretStepRunner = (): string => [
  '$__nsTempFolder = $__nsWork',
  processFunctions(),
  secretFunctions(),
  '$__nsSecretsReady = $false',
  '$__nsSecretVariables = @{}',
  '$__nsSecretForms = @()',
  'function __nsRunStep([string]$Path) {',
  '  if (-not $script:__nsSecretsReady) {',
  '    $variables = @{}',
  `    foreach ($name in @('${SECRET_REFS_VARIABLE}', '${PARAMETERS_JSON_VARIABLE}', '${SECRETS_REGION_VARIABLE}')) {`,
  '      $value = [Environment]::GetEnvironmentVariable($name)',
  '      if ($value) { $variables[$name] = $value }',
  '    }',
  '    $secrets = __nsSecrets $variables',
  '    if ($null -ne $secrets.Problem) {',
  "      [Console]::Error.WriteLine('nightshift: ' + $secrets.Problem)",
  `      if ($secrets.Parameter) { [Console]::Out.Write("\`n${SECRET_UNRESOLVED_TAG} $__nsNonce " + $secrets.Parameter + "\`n") }`,
  `      $script:__nsStepCode = ${SECRET_UNRESOLVED_EXIT_CODE}`,
  '      return',
  '    }',
  '    $script:__nsSecretVariables = $variables',
  '    $script:__nsSecretForms = $secrets.Forms.ToArray()',
  '    $script:__nsSecretsReady = $true',
  '  }',
  '  $run = __nsRunScript $__nsShell $__nsCwd $Path $script:__nsSecretVariables -1',
  '  [Console]::Out.Write((__nsScrub $run.Out $script:__nsSecretForms))',
  '  [Console]::Error.Write((__nsScrub $run.Err $script:__nsSecretForms))',
  '  $script:__nsStepCode = $run.Code',
  '}',
].join('\n');

const actionFunctions = (): string => [
  '$__nsRc = 0',
  "$__nsFailed = '-'",
  '$__nsRestart = $false',
  "# Finished steps leave a marker that survives a restart, so a command SSM runs again does not repeat them.",
  "$__nsStateRoot = if ($env:NIGHTSHIFT_ROOT) { $env:NIGHTSHIFT_ROOT } else { $env:ProgramData }",
  "$__nsState = Join-Path $__nsStateRoot ('Nightshift\\commands\\' + $__nsNonce)",
  'try { $null = [IO.Directory]::CreateDirectory($__nsState) } catch { [Console]::Error.WriteLine("nightshift: cannot create $__nsState"); exit 70 }',
  '# Not captured by the caller, so a plain step\'s output flows straight into the command output, as in bash.',
  'function __nsStep([int]$Index, [int]$Count, [string]$Label, [string]$Encoded) {',
  '  if ($script:__nsRc -ne 0) { return }',
  "  $done = Join-Path $__nsState ('step-' + $Index + '.done')",
  '  if ([IO.File]::Exists($done)) {',
  '    [Console]::Out.WriteLine("nightshift: step $Index of ${Count}: $Label (finished before a restart)")',
  '    return',
  '  }',
  '  [Console]::Out.WriteLine("nightshift: step $Index of ${Count}: $Label")',
  "  $path = Join-Path $__nsWork ('step' + $Index + '.ps1')",
  '  $script:__nsStepCode = 70',
  '  try {',
  '    __nsWriteScript $path $Encoded',
  '    __nsRunStep $path',
  '  } catch {',
  '    [Console]::Error.WriteLine("nightshift: cannot run step ${Index}: $($_.Exception.Message)")',
  '  }',
  '  $code = $script:__nsStepCode',
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
  const secret = SECRET_REFS_VARIABLE in action.environment;
  const lines = [
    `# Nightshift action: ${action.description.replace(/[^A-Za-z0-9 ._#:()+-]/g, '?')}. Generated.`,
    prelude(),
    `$__nsNonce = '${assertNonce(nonce)}'`,
    ...(Object.keys(action.environment).length ? [`__nsEnv ${environmentList(action.environment)}`] : []),
    secret ? secretStepRunner() : plainStepRunner(),
    actionFunctions(),
    '$__nsWatch = [Diagnostics.Stopwatch]::StartNew()',
    'try {',
    ...action.steps.map((step, index) => `  __nsStep ${index + 1} ${count} '${step.label.replace(/[^A-Za-z0-9 ._-]/g, '?')}' ${literal(step.script)}`),
    '} finally {',
    cleanup(),
    '}',
    "Remove-Item -LiteralPath $__nsState -Recurse -Force -ErrorAction SilentlyContinue",
    `if ($__nsRestart) { [Console]::Out.WriteLine('${REBOOT_MARKER}') }`,
    `[Console]::Out.Write("\`n${RESULT_RECORD_TAG} $__nsNonce $__nsRc $($__nsWatch.ElapsedMilliseconds) $__nsFailed\`n")`,
    'exit $__nsRc',
    '',
  ];
  return lines.join('\n');
}

const machineUninstallKeys = (): string[] => [
  "  'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall'",
  "  'HKLM:\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall'",
];

/**
 * Detection by an installed program's display name (Add or Remove Programs).
 * Prints the DisplayVersion of the first matching entry that has one.
 */
const windowsDisplayNameDetection = (): string => [
  "# A failure must end the script: carrying on after a broken match would print the next entry's version.",
  "$ErrorActionPreference = 'Stop'",
  '$want = [string]$env:NIGHTSHIFT_DETECT_VALUE',
  '$mode = [string]$env:NIGHTSHIFT_DETECT_MODE',
  "if ($mode -eq 'Regex') {",
  '  try { $null = New-Object -TypeName System.Text.RegularExpressions.Regex -ArgumentList $want }',
  '  catch { [Console]::Error.WriteLine("not a valid regular expression: $want"); exit 2 }',
  '}',
  '$keys = @(',
  ...machineUninstallKeys(),
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
const windowsProductCodeDetection = (): string => [
  "$ErrorActionPreference = 'Stop'",
  "$code = ([string]$env:NIGHTSHIFT_DETECT_VALUE).Trim().Trim('{}'.ToCharArray())",
  "if ($code -notmatch '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$') {",
  "  [Console]::Error.WriteLine('the package name is not an MSI product code such as {23170F69-40C1-2701-2501-000001000000}')",
  '  exit 2',
  '}',
  "$code = '{' + $code + '}'",
  '$keys = @(',
  ...machineUninstallKeys(),
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
      return { script: windowsProductCodeDetection(), environment: { NIGHTSHIFT_DETECT_MODE: 'ProductCode', NIGHTSHIFT_DETECT_VALUE: detection.value } };
    case 'DisplayName':
      return { script: windowsDisplayNameDetection(), environment: { NIGHTSHIFT_DETECT_MODE: detection.match, NIGHTSHIFT_DETECT_VALUE: detection.value } };
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
