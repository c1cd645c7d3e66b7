import { spawn } from 'node:child_process';
import path from 'node:path';
import {
  computerSchema,
  deploymentSchema,
  softwareSchema,
  type Computer,
  type Deployment,
  type Software,
} from '../functions/core/model/catalog.js';
import { parseInput } from '../functions/core/validation.js';
import type { LocalRuntime } from './runtime.js';
import type { MachineDescriptor } from './sandbox-agent.js';

/**
 * The demo tenant: a small dental practice with three computers and a
 * catalog of five Linux applications. The scripts are real bash that lay
 * programs down inside the machine folder (`$NIGHTSHIFT_ROOT`), so detection,
 * installs and verification all observe real files.
 */
export const DEMO_TENANT = { id: 'contoso-dental', name: 'Contoso Dental' } as const;

interface AppLayout {
  readonly id: string;
  readonly name: string;
  /** Install folder under $NIGHTSHIFT_ROOT. */
  readonly folder: string;
  readonly binary: string;
  /** What the program prints before its version, like the real `--version` output. */
  readonly banner: string;
  readonly latestVersion: string;
  /** Seconds the installer takes, so progress is visible. */
  readonly installSeconds: number;
}

const APPS: readonly AppLayout[] = [
  { id: 'firefox', name: 'Mozilla Firefox', folder: 'opt/mozilla/firefox', binary: 'firefox', banner: 'Mozilla Firefox', latestVersion: '145.0.1', installSeconds: 0.4 },
  { id: 'chrome', name: 'Google Chrome', folder: 'opt/google/chrome', binary: 'google-chrome', banner: 'Google Chrome', latestVersion: '142.0.7444.175', installSeconds: 0.5 },
  { id: 'vscode', name: 'Visual Studio Code', folder: 'usr/share/code', binary: 'code', banner: '', latestVersion: '1.106.2', installSeconds: 0.4 },
  { id: '7zip', name: '7-Zip', folder: 'opt/7-zip', binary: '7zz', banner: '7-Zip (z)', latestVersion: '25.01', installSeconds: 0.2 },
  { id: 'zoom', name: 'Zoom Workplace', folder: 'opt/zoom', binary: 'zoom', banner: 'Zoom Workplace', latestVersion: '6.6.10', installSeconds: 0.3 },
];

/** Quotes a constant of ours for bash; used only for layout constants, never for user or catalog input. */
const q = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

function detectionScript(app: AppLayout): string {
  return [
    `bin="$NIGHTSHIFT_ROOT/"${q(`${app.folder}/${app.binary}`)}`,
    '[ -x "$bin" ] || exit 0',
    '# the last field of the first line is the version, as the real programs print it',
    `"$bin" --version | head -n 1 | awk '{ print $NF }'`,
    '',
  ].join('\n');
}

function installScript(app: AppLayout): string {
  return [
    'set -euo pipefail',
    ': "${NIGHTSHIFT_VERSION:?the version to install is required}"',
    `app="$NIGHTSHIFT_ROOT/"${q(app.folder)}`,
    'mkdir -p "$app" "$NIGHTSHIFT_ROOT/var/log"',
    `sleep ${app.installSeconds}`,
    '# the version is data: written to a file, read back by the launcher',
    `printf '%s\\n' "$NIGHTSHIFT_VERSION" > "$app/VERSION"`,
    `cat > "$app/"${q(app.binary)} <<'LAUNCHER'`,
    '#!/usr/bin/env bash',
    `banner=${q(app.banner)}`,
    'version="$(cat "$(dirname "$0")/VERSION")"',
    'echo "${banner:+$banner }$version"',
    'LAUNCHER',
    `chmod +x "$app/"${q(app.binary)}`,
    `printf '%s %s %s %s\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "\${NIGHTSHIFT_ACTION:-Install}" ${q(app.id)} "$NIGHTSHIFT_VERSION" >> "$NIGHTSHIFT_ROOT/var/log/software.log"`,
    `echo ${q(`${app.name} `)}"$NIGHTSHIFT_VERSION installed"`,
    '',
  ].join('\n');
}

function uninstallScript(app: AppLayout): string {
  return [
    'set -euo pipefail',
    `rm -rf "$NIGHTSHIFT_ROOT/"${q(app.folder)}`,
    'mkdir -p "$NIGHTSHIFT_ROOT/var/log"',
    `printf '%s Uninstall %s\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" ${q(app.id)} >> "$NIGHTSHIFT_ROOT/var/log/software.log"`,
    `echo ${q(`${app.name} removed`)}`,
    '',
  ].join('\n');
}

export const DEMO_SOFTWARE: readonly Software[] = APPS.map((app) =>
  parseInput(
    softwareSchema,
    {
      id: app.id,
      name: app.name,
      platform: 'linux',
      detectionScript: detectionScript(app),
      installScript: installScript(app),
      uninstallScript: uninstallScript(app),
      latestVersion: app.latestVersion,
    },
    `software ${app.id}`,
  ),
);

interface DemoMachine {
  readonly computer: Computer;
  readonly descriptor: MachineDescriptor;
  /** The image the machine starts from: software already installed at these versions. */
  readonly image: Readonly<Record<string, string>>;
}

const machine = (
  id: string,
  agentId: string,
  name: string,
  latencyMs: number,
  image: Readonly<Record<string, string>>,
): DemoMachine => ({
  computer: parseInput(computerSchema, { id, agentId, name, tenantId: DEMO_TENANT.id, platform: 'linux' }, `computer ${id}`),
  descriptor: { agentId, name: id, platform: 'linux', online: true, latencyMs },
  image,
});

export const DEMO_MACHINES: readonly DemoMachine[] = [
  machine('ws-ana', 'i-0a1b2c3d4e5f60001', "Ana Pereira's workstation", 120, { firefox: '128.0.3', vscode: '1.106.2' }),
  machine('lt-ben', 'mi-0a1b2c3d4e5f60002', "Ben Okafor's laptop", 250, {}),
  machine('srv-files', 'i-0a1b2c3d4e5f60003', 'File server', 80, {
    firefox: '145.0.1',
    chrome: '142.0.7444.175',
    '7zip': '23.01',
    zoom: '6.0.2',
  }),
];

export const DEMO_DEPLOYMENTS: readonly Deployment[] = [
  { id: 'firefox-everywhere', softwareId: 'firefox', target: { kind: 'AllTenants' }, desiredState: 'LatestVersion' },
  { id: '7zip-everywhere', softwareId: '7zip', target: { kind: 'AllTenants' }, desiredState: 'LatestVersion' },
  { id: 'chrome-contoso', softwareId: 'chrome', target: { kind: 'Tenant', tenantId: DEMO_TENANT.id }, desiredState: 'LatestVersion' },
  { id: 'zoom-contoso', softwareId: 'zoom', target: { kind: 'Tenant', tenantId: DEMO_TENANT.id }, desiredState: 'LatestVersion' },
  // a computer-level deployment beats the tenant-level one: no meeting software on the file server
  { id: 'zoom-not-on-servers', softwareId: 'zoom', target: { kind: 'Computer', computerId: 'srv-files' }, desiredState: 'NotPresent' },
  { id: 'vscode-ana', softwareId: 'vscode', target: { kind: 'Computer', computerId: 'ws-ana' }, desiredState: 'ThisVersion', desiredVersion: '1.106.2' },
].map((deployment) => parseInput(deploymentSchema, deployment, `deployment ${deployment.id}`));

/** Runs a catalog install script directly, outside any session: how a machine gets its starting image. */
async function imageSoftware(root: string, software: Software, version: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn('bash', ['-c', software.installScript], {
      cwd: root,
      stdio: 'ignore',
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: path.join(root, 'home'), TMPDIR: path.join(root, 'tmp'), NIGHTSHIFT_ROOT: root, NIGHTSHIFT_VERSION: version },
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`imaging ${software.id} ${version} exited ${code}`))));
  });
}

export interface SeedSummary {
  readonly machinesCreated: number;
  readonly machines: readonly DemoMachine[];
}

/**
 * Idempotent: catalog entries are upserts of the same values, and a machine
 * folder that exists keeps whatever earlier sessions did to it.
 */
export async function seedDemo(runtime: LocalRuntime): Promise<SeedSummary> {
  for (const software of DEMO_SOFTWARE) await runtime.deps.catalog.putSoftware(software);
  for (const deployment of DEMO_DEPLOYMENTS) await runtime.deps.catalog.putDeployment(deployment);
  let machinesCreated = 0;
  for (const demo of DEMO_MACHINES) {
    await runtime.deps.catalog.putComputer(demo.computer);
    const { root, created } = await runtime.agent.addMachine(demo.descriptor);
    if (!created) continue;
    machinesCreated++;
    for (const [softwareId, version] of Object.entries(demo.image)) {
      const software = DEMO_SOFTWARE.find((s) => s.id === softwareId);
      if (software) await imageSoftware(root, software, version);
    }
  }
  return { machinesCreated, machines: DEMO_MACHINES };
}
