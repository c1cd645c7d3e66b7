import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../functions/core/errors.js';
import type { SoftwareDetection } from '../../functions/core/model/catalog.js';
import { buildBashActionScript, buildBashDetectionScript, buildBashRebootScript } from '../../functions/core/scripts/bash.js';
import {
  buildActionScript,
  buildDetectionScript,
  buildRebootScript,
  detectionEntry,
  parameterEnvironment,
  softwareSteps,
  taskSteps,
} from '../../functions/core/scripts/commands.js';
import type { ActionScript, DetectionEntry } from '../../functions/core/scripts/contract.js';
import { parseDetectionOutput } from '../../functions/core/scripts/output.js';
import { buildPowerShellActionScript, buildPowerShellDetectionScript, buildPowerShellRebootScript, windowsDetection } from '../../functions/core/scripts/powershell.js';
import { software, task } from '../support/domain.js';

const work = mkdtempSync(path.join(tmpdir(), 'nightshift-commands-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('turning catalog items into detection entries', () => {
  it('runs a Linux detection script as it is, with nothing in its environment', () => {
    const entry = detectionEntry({ key: 'software:a', platform: 'linux', software: software('a', { detection: { method: 'Script', script: 'echo 1.0' } }) }, 30);
    expect(entry).toEqual({ key: 'software:a', script: 'echo 1.0', environment: {}, timeoutSeconds: 30 });
    expect(entry).not.toHaveProperty('testScript');
  });

  it('looks a Linux package up by exact name, or by display name in the catalog\'s match mode, through the environment', () => {
    const byPackage = detectionEntry({ key: 'software:a', platform: 'linux', software: software('a', { detection: { method: 'PackageName', value: 'fire"fox' } }) }, 5);
    const byName = detectionEntry({ key: 'software:a', platform: 'linux', software: software('a', { detection: { method: 'DisplayName', match: 'Regex', value: '^fire' } }) }, 5);
    expect(byPackage.environment).toEqual({ NIGHTSHIFT_DETECT_MODE: 'Exact', NIGHTSHIFT_DETECT_VALUE: 'fire"fox' });
    expect(byName.environment).toEqual({ NIGHTSHIFT_DETECT_MODE: 'Regex', NIGHTSHIFT_DETECT_VALUE: '^fire' });
    expect(byPackage.script).toBe(byName.script);
    expect(byPackage.script).not.toContain('fire');
  });

  it('uses the Windows detection bodies for a Windows item, and carries the health check when there is one', () => {
    const detection: SoftwareDetection = { method: 'DisplayName', match: 'Contains', value: 'Fire' };
    const entry = detectionEntry({ key: 'software:w', platform: 'windows', software: software('w', { platform: 'windows', detection, testScript: 'exit 0' }) }, 7);
    expect(entry).toEqual({ key: 'software:w', ...windowsDetection(detection), testScript: 'exit 0', timeoutSeconds: 7 });
  });

  it('runs a task\'s test method with its parameters, secrets only by reference', () => {
    const separate = task('t', { scripts: { style: 'Separate', test: 'test-it', set: 'set-it' } });
    expect(detectionEntry({ key: 'task:t', platform: 'linux', task: separate, parameters: { mode: 'strict' } }, 9)).toEqual({
      key: 'task:t',
      script: 'test-it',
      environment: { NIGHTSHIFT_TASK_METHOD: 'test', NIGHTSHIFT_PARAMETERS_JSON: '{"mode":"strict"}', NIGHTSHIFT_PARAM_mode: 'strict' },
      timeoutSeconds: 9,
    });
    const combined = task('c', { scripts: { style: 'Combined', script: 'all-in-one' } });
    const entry = detectionEntry({ key: 'task:c', platform: 'linux', task: combined, parameters: { pin: '(secret)' }, secretReferences: { pin: '/s/pin' }, secretsRegion: 'eu-west-1' }, 9);
    expect(entry.script).toBe('all-in-one');
    expect(entry.environment).toEqual({
      NIGHTSHIFT_TASK_METHOD: 'test',
      NIGHTSHIFT_PARAMETERS_JSON: '{}',
      NIGHTSHIFT_SECRET_REFS_JSON: '{"pin":"/s/pin"}',
      NIGHTSHIFT_SECRETS_REGION: 'eu-west-1',
    });
    expect(detectionEntry({ key: 'task:c', platform: 'linux', task: combined }, 9).environment).toEqual({ NIGHTSHIFT_TASK_METHOD: 'test', NIGHTSHIFT_PARAMETERS_JSON: '{}' });
  });

  it('refuses an item that is neither software nor a task, naming it', () => {
    expect(() => detectionEntry({ key: 'software:gone', platform: 'linux' }, 5)).toThrow('detection item software:gone has neither software nor task');
  });
});

describe('parameters in the environment', () => {
  it('gives each parameter its variable as text and all of them as JSON', () => {
    expect(parameterEnvironment({ user: 'ana', port: 8080, on: true })).toEqual({
      NIGHTSHIFT_PARAMETERS_JSON: '{"user":"ana","port":8080,"on":true}',
      NIGHTSHIFT_PARAM_user: 'ana',
      NIGHTSHIFT_PARAM_port: '8080',
      NIGHTSHIFT_PARAM_on: 'true',
    });
  });

  it('sends a secret only as its reference, and the Region only with references', () => {
    expect(parameterEnvironment({ user: 'ana', pin: '(secret)' }, { pin: '/s/pin' }, 'eu-west-1')).toEqual({
      NIGHTSHIFT_PARAMETERS_JSON: '{"user":"ana"}',
      NIGHTSHIFT_PARAM_user: 'ana',
      NIGHTSHIFT_SECRET_REFS_JSON: '{"pin":"/s/pin"}',
      NIGHTSHIFT_SECRETS_REGION: 'eu-west-1',
    });
    expect(parameterEnvironment({ pin: '(secret)' }, { pin: '/s/pin' })).toStrictEqual({ NIGHTSHIFT_PARAMETERS_JSON: '{}', NIGHTSHIFT_SECRET_REFS_JSON: '{"pin":"/s/pin"}' });
    expect(parameterEnvironment({ user: 'ana' }, {}, 'eu-west-1')).toStrictEqual({ NIGHTSHIFT_PARAMETERS_JSON: '{"user":"ana"}', NIGHTSHIFT_PARAM_user: 'ana' });
  });

  it('refuses a reference the scripts could not parse', () => {
    expect(() => parameterEnvironment({}, { pin: 'has space' })).toThrow('not an SSM parameter name');
  });
});

describe('the steps of an action', () => {
  const app = software('editor', { name: 'Editor', installScript: 'install-it', uninstallScript: 'remove-it' });

  it('installs, uninstalls, and removes before installing again for a downgrade or a reinstall', () => {
    const install = { label: 'install Editor', script: 'install-it' };
    const uninstall = { label: 'uninstall Editor', script: 'remove-it' };
    expect(softwareSteps({ type: 'Install', software: app })).toEqual([install]);
    // an install never takes the upgrade script, even when there is one
    expect(softwareSteps({ type: 'Install', software: { ...app, upgradeScript: 'upgrade-it' } })).toEqual([install]);
    expect(softwareSteps({ type: 'Uninstall', software: app })).toEqual([uninstall]);
    expect(softwareSteps({ type: 'Downgrade', software: app })).toEqual([uninstall, install]);
    expect(softwareSteps({ type: 'Reinstall', software: app })).toEqual([uninstall, install]);
  });

  it('updates with the upgrade script when there is one, else installs over the old version', () => {
    expect(softwareSteps({ type: 'Update', software: app })).toEqual([{ label: 'install Editor', script: 'install-it' }]);
    expect(softwareSteps({ type: 'Update', software: { ...app, upgradeScript: 'upgrade-it' } })).toEqual([{ label: 'upgrade Editor', script: 'upgrade-it' }]);
  });

  it('refuses a task action as a software action', () => {
    expect(() => softwareSteps({ type: 'TaskEnforce', software: app })).toThrow('TaskEnforce is not a software action');
  });

  it('enforces with the set script, and refuses a task without one as a configuration error', () => {
    const separate = task('t', { name: 'Firewall', scripts: { style: 'Separate', test: 'test-it', set: 'set-it', get: 'get-it' } });
    expect(taskSteps('TaskEnforce', separate)).toEqual({ steps: [{ label: 'set Firewall', script: 'set-it' }], method: 'set' });
    expect(taskSteps('TaskEnforce', task('c', { name: 'C', scripts: { style: 'Combined', script: 'one' } }))).toEqual({ steps: [{ label: 'set C', script: 'one' }], method: 'set' });
    const readOnly = task('r', { scripts: { style: 'Separate', test: 'test-it' } });
    expect(() => taskSteps('TaskEnforce', readOnly)).toThrow(ConfigurationError);
    expect(() => taskSteps('TaskEnforce', readOnly)).toThrow('task r has no set script, so it cannot be enforced');
  });

  it('audits with the get script when there is one, else with the test', () => {
    expect(taskSteps('TaskAudit', task('t', { name: 'T', scripts: { style: 'Separate', test: 'test-it', get: 'get-it' } }))).toEqual({
      steps: [{ label: 'get T', script: 'get-it' }],
      method: 'get',
    });
    expect(taskSteps('TaskAudit', task('t', { name: 'T', scripts: { style: 'Separate', test: 'test-it' } }))).toEqual({
      steps: [{ label: 'test T', script: 'test-it' }],
      method: 'test',
    });
    expect(taskSteps('TaskAudit', task('c', { name: 'C', scripts: { style: 'Combined', script: 'one' } }))).toEqual({ steps: [{ label: 'get C', script: 'one' }], method: 'get' });
  });

  it('refuses a task action that does not run', () => {
    expect(() => taskSteps('TaskMonitor', task('t'))).toThrow('TaskMonitor is not a task action that runs');
  });
});

describe('choosing the platform\'s generator', () => {
  const entries: DetectionEntry[] = [{ key: 'software:a', script: 'echo 1', environment: {}, timeoutSeconds: 5 }];
  const action: ActionScript = { description: 'd', steps: [{ label: 'l', script: 's' }], environment: {} };

  it('writes PowerShell for Windows and bash for Linux', () => {
    expect(buildDetectionScript('windows', entries, 'n1')).toBe(buildPowerShellDetectionScript(entries, 'n1'));
    expect(buildDetectionScript('linux', entries, 'n1')).toBe(buildBashDetectionScript(entries, 'n1'));
    expect(buildActionScript('windows', action, 'n1')).toBe(buildPowerShellActionScript(action, 'n1'));
    expect(buildActionScript('linux', action, 'n1')).toBe(buildBashActionScript(action, 'n1'));
    expect(buildRebootScript('windows', 'n1')).toBe(buildPowerShellRebootScript('n1'));
    expect(buildRebootScript('linux', 'n1')).toBe(buildBashRebootScript('n1'));
  });
});

/*
 * The Linux package detection, run for real against a fake package database:
 * `dpkg-query` and `rpm` on PATH answer as the real ones do, and only when
 * called with the root the sandbox gives.
 */
describe('the Linux package detection (run for real with fake dpkg and rpm)', () => {
  const bin = path.join(work, 'bin');
  mkdirSync(bin, { recursive: true });
  const DPKG_ROWS = [
    ['ii ', 'firefox-esr', '1:115.6.0esr-1~deb12u1'],
    ['rc ', 'oldtool', '9.9-1'],
    ['ii ', 'oldtool-ng', '2.0-1'],
    ['ii ', 'libssl3', '3.0.11-1~deb12u2'],
    ['ii ', 'samba', '2:4.17.12+dfsg-0+deb12u1'],
    ['ii ', 'zlib1g', '1:1.2.13.dfsg-1'],
    ['ii ', 'python3-six', '1.16.0~ds1-1'],
    ['ii ', 'fonts-x', '3.0+repack2-1'],
    ['ii ', 'firefox', '120.0-1'],
  ];
  writeFileSync(
    path.join(bin, 'dpkg-query'),
    [
      '#!/usr/bin/env bash',
      // exactly the call of the detection body, at the sandbox's database
      `[ "$1" = "--admindir=$NIGHTSHIFT_ROOT/var/lib/dpkg" ] && [ "$2" = -W ] && [ "$3" = '-f=\${db:Status-Abbrev}\\t\${Package}\\t\${Version}\\n' ] || { echo "dpkg-query: unexpected call $*" >&2; exit 2; }`,
      `printf '%s' '${Buffer.from(DPKG_ROWS.map((row) => `${row.join('\t')}\n`).join('')).toString('base64')}' | base64 -d`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  writeFileSync(
    path.join(bin, 'rpm'),
    [
      '#!/usr/bin/env bash',
      `[ "$*" = "--root $NIGHTSHIFT_ROOT -qa --qf %{NAME}\\t%{VERSION}\\n" ] || { echo "rpm: unexpected call $*" >&2; exit 2; }`,
      "printf 'bash\\t5.2.15\\nNetworkManager\\t1.42.2\\n'",
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  const dpkgRoot = path.join(work, 'debian');
  mkdirSync(path.join(dpkgRoot, 'var/lib/dpkg'), { recursive: true });
  const rpmRoot = path.join(work, 'redhat');
  mkdirSync(rpmRoot, { recursive: true });

  function detect(root: string, detections: Record<string, SoftwareDetection>): Record<string, unknown> {
    const entries = Object.entries(detections).map(([id, detection]) => detectionEntry({ key: `software:${id}`, platform: 'linux', software: software(id, { detection }) }, 10));
    const result = spawnSync('bash', ['-c', buildDetectionScript('linux', entries, 'n_pkg')], {
      cwd: work,
      env: { PATH: `${bin}:${process.env.PATH ?? ''}`, NIGHTSHIFT_ROOT: root, TMPDIR: work },
      encoding: 'utf8',
      timeout: 30_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(result.status).toBe(0);
    return parseDetectionOutput(result.stdout, 'n_pkg', entries.map((entry) => ({ key: entry.key, kind: 'Software' as const })));
  }

  it('reports the upstream version of an installed package: no epoch, Debian revision or repack suffix', () => {
    expect(
      detect(dpkgRoot, {
        libssl: { method: 'PackageName', value: 'libssl3' },
        samba: { method: 'PackageName', value: 'samba' },
        zlib: { method: 'PackageName', value: 'zlib1g' },
        six: { method: 'PackageName', value: 'python3-six' },
        fonts: { method: 'PackageName', value: 'fonts-x' },
        firefox: { method: 'PackageName', value: 'firefox' },
      }),
    ).toEqual({
      'software:libssl': { state: 'Present', version: '3.0.11' },
      'software:samba': { state: 'Present', version: '4.17.12' },
      'software:zlib': { state: 'Present', version: '1.2.13' },
      'software:six': { state: 'Present', version: '1.16.0' },
      'software:fonts': { state: 'Present', version: '3.0' },
      'software:firefox': { state: 'Present', version: '120.0' },
    });
  });

  it('matches exactly, by case-blind substring, or by regular expression, takes the first match, and skips packages that are not installed', () => {
    expect(
      detect(dpkgRoot, {
        exact: { method: 'PackageName', value: 'firefox' },
        exactMissing: { method: 'PackageName', value: 'firefox-e' },
        contains: { method: 'DisplayName', match: 'Contains', value: 'FIREFOX' },
        containsMiddle: { method: 'DisplayName', match: 'Contains', value: 'Ssl' },
        regex: { method: 'DisplayName', match: 'Regex', value: '^firefox$' },
        regexNone: { method: 'DisplayName', match: 'Regex', value: '^FIREFOX$' },
        removed: { method: 'PackageName', value: 'oldtool' },
        removedContains: { method: 'DisplayName', match: 'Contains', value: 'oldtool' },
      }),
    ).toEqual({
      'software:exact': { state: 'Present', version: '120.0' },
      'software:exactMissing': { state: 'Absent' },
      'software:contains': { state: 'Present', version: '115.6.0esr' },
      'software:containsMiddle': { state: 'Present', version: '3.0.11' },
      'software:regex': { state: 'Present', version: '120.0' },
      'software:regexNone': { state: 'Absent' },
      'software:removed': { state: 'Absent' },
      'software:removedContains': { state: 'Present', version: '2.0' },
    });
  });

  it('asks rpm where there is no dpkg database', () => {
    expect(
      detect(rpmRoot, {
        bash: { method: 'PackageName', value: 'bash' },
        nm: { method: 'DisplayName', match: 'Contains', value: 'networkmanager' },
        none: { method: 'PackageName', value: 'samba' },
      }),
    ).toEqual({
      'software:bash': { state: 'Present', version: '5.2.15' },
      'software:nm': { state: 'Present', version: '1.42.2' },
      'software:none': { state: 'Absent' },
    });
  });
});
