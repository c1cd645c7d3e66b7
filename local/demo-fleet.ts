import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NODE_TENANT_TAG } from '../functions/core/catalog/secrets.js';
import type { Computer, Deployment, MaintenanceTask, Software, SoftwareDeployment, Tenant } from '../functions/core/model/catalog.js';
import { saveCatalogEntity, type SavedEntity } from '../functions/core/use-cases/save-catalog.js';
import type { LocalRuntime } from './runtime.js';
import type { MachineDescriptor } from './sandbox-agent.js';

/**
 * The demo tenant: a small dental practice with three computers, a catalog of
 * six Linux applications and two maintenance tasks, and the deployments an
 * MSP engineer would set up for it. The scripts are real bash that lay
 * programs down inside the machine folder (`$NIGHTSHIFT_ROOT`): launchers
 * with version files, a dpkg status database that `dpkg-query` reads, and
 * configuration files the tasks test and set.
 */
export const DEMO_TENANT: Tenant = { id: 'contoso-dental', name: 'Contoso Dental', excludeFromCrossTenant: false };

/** Quotes a constant of ours for bash; only ever used on the layout constants below, never on catalog input. */
const q = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

const LOG_LINE = (what: string) =>
  `mkdir -p "$NIGHTSHIFT_ROOT/var/log" && printf '%s %s\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" ${what} >> "$NIGHTSHIFT_ROOT/var/log/software.log"`;

interface LauncherApp {
  readonly id: string;
  readonly name: string;
  readonly folder: string;
  readonly binary: string;
  readonly banner: string;
  readonly latestVersion: string;
  readonly installSeconds: number;
  readonly dependencies?: Software['dependencies'];
}

/** An application installed as a launcher that prints its version, detected by running it, like the real thing. */
function launcherApp(app: LauncherApp): Software {
  const binary = `"$NIGHTSHIFT_ROOT/"${q(`${app.folder}/${app.binary}`)}`;
  return {
    id: app.id,
    name: app.name,
    platform: 'linux',
    detection: {
      method: 'Script',
      script: [`bin=${binary}`, '[ -x "$bin" ] || exit 0', '# the last field of the first line is the version', `"$bin" --version | head -n 1 | awk '{ print $NF }'`, ''].join('\n'),
    },
    installScript: [
      'set -euo pipefail',
      ': "${NIGHTSHIFT_VERSION:?the version to install is required}"',
      `app="$NIGHTSHIFT_ROOT/"${q(app.folder)}`,
      'mkdir -p "$app"',
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
      LOG_LINE(`"\${NIGHTSHIFT_ACTION:-Install} ${app.id} $NIGHTSHIFT_VERSION"`),
      `echo ${q(`${app.name} `)}"$NIGHTSHIFT_VERSION installed"`,
      '',
    ].join('\n'),
    uninstallScript: ['set -euo pipefail', `rm -rf "$NIGHTSHIFT_ROOT/"${q(app.folder)}`, LOG_LINE(`"Uninstall ${app.id}"`), `echo ${q(`${app.name} removed`)}`, ''].join('\n'),
    versions: [],
    latestVersion: app.latestVersion,
    dependencies: app.dependencies ?? [],
  };
}

/** An application registered in a dpkg status database under the machine folder, detected with `dpkg-query`. */
function packagedApp(app: { id: string; name: string; packageName: string; latestVersion: string; description: string }): Software {
  const database = [
    'db="$NIGHTSHIFT_ROOT/var/lib/dpkg"',
    'mkdir -p "$db" && touch "$db/status"',
    '# every stanza except this package',
    `awk -v pkg=${q(app.packageName)} 'BEGIN { RS = ""; ORS = "\\n\\n" } $0 !~ ("(^|\\n)Package: " pkg "(\\n|$)")' "$db/status" > "$db/status.new"`,
  ];
  return {
    id: app.id,
    name: app.name,
    platform: 'linux',
    detection: { method: 'PackageName', value: app.packageName },
    installScript: [
      'set -euo pipefail',
      ': "${NIGHTSHIFT_VERSION:?the version to install is required}"',
      ...database,
      `printf 'Package: %s\\nStatus: install ok installed\\nMaintainer: Debian\\nArchitecture: amd64\\nVersion: %s+dfsg-1\\nDescription: %s\\n\\n' ${q(app.packageName)} "$NIGHTSHIFT_VERSION" ${q(app.description)} >> "$db/status.new"`,
      'mv "$db/status.new" "$db/status"',
      'sleep 0.2',
      LOG_LINE(`"\${NIGHTSHIFT_ACTION:-Install} ${app.id} $NIGHTSHIFT_VERSION"`),
      `echo "Setting up ${app.packageName} ($NIGHTSHIFT_VERSION+dfsg-1) ..."`,
      '',
    ].join('\n'),
    uninstallScript: ['set -euo pipefail', ...database, 'mv "$db/status.new" "$db/status"', LOG_LINE(`"Uninstall ${app.id}"`), `echo "Removing ${app.packageName} ..."`, ''].join('\n'),
    versions: [],
    latestVersion: app.latestVersion,
    dependencies: [],
  };
}

export const DEMO_SOFTWARE: readonly Software[] = [
  launcherApp({ id: 'firefox', name: 'Mozilla Firefox', folder: 'opt/mozilla/firefox', binary: 'firefox', banner: 'Mozilla Firefox', latestVersion: '145.0.1', installSeconds: 0.4 }),
  launcherApp({ id: 'chrome', name: 'Google Chrome', folder: 'opt/google/chrome', binary: 'google-chrome', banner: 'Google Chrome', latestVersion: '142.0.7444.175', installSeconds: 0.5 }),
  launcherApp({ id: 'vscode', name: 'Visual Studio Code', folder: 'usr/share/code', binary: 'code', banner: '', latestVersion: '1.106.2', installSeconds: 0.4 }),
  launcherApp({ id: 'pipewire', name: 'PipeWire audio server', folder: 'opt/pipewire', binary: 'pipewire', banner: 'Compiled with libpipewire', latestVersion: '1.4.9', installSeconds: 0.2 }),
  launcherApp({
    id: 'zoom',
    name: 'Zoom Workplace',
    folder: 'opt/zoom',
    binary: 'zoom',
    banner: 'Zoom Workplace',
    latestVersion: '6.6.10',
    installSeconds: 0.3,
    dependencies: [{ softwareId: 'pipewire', requires: 'Installed' }],
  }),
  packagedApp({ id: '7zip', name: '7-Zip', packageName: '7zip', latestVersion: '25.01', description: '7-Zip file archiver with a high compression ratio' }),
];

export const DEMO_TASKS: readonly MaintenanceTask[] = [
  {
    id: 'firewall',
    name: 'Host firewall enabled',
    platform: 'linux',
    // one script told its method, as many RMM scripts are written
    scripts: {
      style: 'Combined',
      script: [
        'conf="$NIGHTSHIFT_ROOT/etc/ufw/ufw.conf"',
        'policy="$NIGHTSHIFT_PARAM_defaultIncoming"',
        'case "$NIGHTSHIFT_TASK_METHOD" in',
        '  test) [ -f "$conf" ] || exit 1; grep -qx "ENABLED=yes" "$conf" && grep -qx "DEFAULT_INPUT_POLICY=$policy" "$conf" ;;',
        '  get) cat "$conf" 2>/dev/null || echo "no firewall configuration" ;;',
        '  set) mkdir -p "$(dirname "$conf")" && printf "ENABLED=yes\\nDEFAULT_INPUT_POLICY=%s\\n" "$policy" > "$conf" && echo "firewall enabled, incoming: $policy" ;;',
        'esac',
        '',
      ].join('\n'),
    },
    parameters: [{ name: 'defaultIncoming', type: 'enum', values: ['deny', 'reject', 'allow'], default: 'deny', required: false }],
  },
  {
    id: 'disk-report',
    name: 'Disk usage report',
    platform: 'linux',
    scripts: {
      style: 'Separate',
      test: 'exit 0\n',
      get: 'du -sh "${NIGHTSHIFT_ROOT:-/}" 2>/dev/null | awk \'{ print "used: " $1 }\'\n',
    },
    parameters: [],
  },
];

interface DemoMachine {
  readonly computer: Computer;
  readonly descriptor: MachineDescriptor;
  /** The image the machine starts from: software already installed at these versions, and files in place. */
  readonly image: Readonly<Record<string, string>>;
  readonly files?: Readonly<Record<string, string>>;
}

const machine = (
  computer: Omit<Computer, 'tenantId' | 'platform' | 'timeZone' | 'online'>,
  latencyMs: number,
  image: Readonly<Record<string, string>>,
  files?: Readonly<Record<string, string>>,
): DemoMachine => ({
  computer: { ...computer, tenantId: DEMO_TENANT.id, platform: 'linux', timeZone: 'Europe/Lisbon', online: true },
  // each tenant's nodes have a role of their own, tagged with it: they read that tenant's secrets
  descriptor: { agentId: computer.agentId, name: computer.id, platform: 'linux', online: true, latencyMs, roleTags: { [NODE_TENANT_TAG]: DEMO_TENANT.id } },
  image,
  ...(files ? { files } : {}),
});

export const DEMO_MACHINES: readonly DemoMachine[] = [
  machine(
    { id: 'ws-ana', agentId: 'i-0a1b2c3d4e5f60001', name: "Ana Pereira's workstation", deviceClass: 'Workstation', tags: ['front-desk'], primaryUser: { name: 'Ana Pereira', email: 'ana.pereira@contoso-dental.example' } },
    120,
    { firefox: '128.0.3', vscode: '1.106.2' },
  ),
  machine(
    { id: 'lt-ben', agentId: 'mi-0a1b2c3d4e5f60002', name: "Ben Okafor's laptop", deviceClass: 'Portable', tags: ['remote'], primaryUser: { name: 'Ben Okafor', email: 'ben.okafor@contoso-dental.example' } },
    250,
    {},
  ),
  machine(
    { id: 'srv-files', agentId: 'i-0a1b2c3d4e5f60003', name: 'File server', deviceClass: 'Server', tags: ['file-server'] },
    80,
    { firefox: '145.0.1', chrome: '142.0.7444.175', '7zip': '23.01', pipewire: '1.2.7', zoom: '6.0.2' },
    { 'etc/ufw/ufw.conf': 'ENABLED=yes\nDEFAULT_INPUT_POLICY=deny\n' },
  ),
];

/**
 * The tonight scene's laptop: not part of the sessions the demo runs at once.
 * Its session waits for this evening's window, so its user has a detection
 * email with working Postpone, Cancel and Run-now links in the local mailbox.
 */
export const TONIGHT_MACHINE: DemoMachine = machine(
  { id: 'lt-carla', agentId: 'mi-0a1b2c3d4e5f60004', name: "Carla Mendes's laptop", deviceClass: 'Portable', tags: ['remote'], primaryUser: { name: 'Carla Mendes', email: 'carla.mendes@contoso-dental.example' } },
  150,
  { firefox: '128.0.3', zoom: '6.0.2' },
);

const software = (
  id: string,
  softwareId: string,
  target: Deployment['target'],
  desiredState: SoftwareDeployment['desiredState'],
  extra: Partial<SoftwareDeployment> = {},
): Deployment => ({
  id,
  itemKind: 'Software',
  softwareId,
  target,
  desiredState,
  enabled: true,
  critical: true,
  orderingHint: 'Unordered',
  ...extra,
});

const contoso = { kind: 'Tenant', tenantId: DEMO_TENANT.id, includeChildTenants: false } as const;

export const DEMO_DEPLOYMENTS: readonly Deployment[] = [
  software('firefox-everywhere', 'firefox', { kind: 'AllTenants' }, 'LatestVersion'),
  software('7zip-everywhere', '7zip', { kind: 'AllTenants' }, 'LatestVersion'),
  software('chrome-contoso', 'chrome', contoso, 'LatestVersion'),
  software('zoom-contoso', 'zoom', contoso, 'LatestVersion'),
  // same level, narrower device-class filter: no meeting software on servers
  software('zoom-not-on-servers', 'zoom', contoso, 'NotPresent', { deviceClasses: ['Server'] }),
  // a person's computers: Ana's workstation pins the editor version her practice software needs
  software('vscode-for-ana', 'vscode', { kind: 'Person', email: 'ana.pereira@contoso-dental.example' }, 'ThisVersion', { version: '1.106.2' }),
  {
    id: 'firewall-contoso',
    itemKind: 'Task',
    taskId: 'firewall',
    target: contoso,
    mode: 'Enforce',
    parameters: { defaultIncoming: 'deny' },
    enabled: true,
    critical: true,
    // configuration last, after the software it may need to allow
    orderingHint: 'End',
  },
  {
    id: 'disk-report-servers',
    itemKind: 'Task',
    taskId: 'disk-report',
    target: { kind: 'AllTenants' },
    deviceClasses: ['Server'],
    mode: 'Audit',
    parameters: {},
    enabled: true,
    critical: false,
    orderingHint: 'End',
  },
];

/**
 * The schedule scene: a second customer, Northwind Legal, whose nightly
 * schedule rolls its document-management client out in rings. The client's
 * installer cannot reach its license server, so the canary fails and the
 * ring halts before the rest of the office is touched. The other targets
 * show why a run skips a computer: offline (the schedule skips those), no
 * deployment of the item, a tenant on hold.
 */
export const NORTHWIND_TENANT: Tenant = { id: 'northwind-legal', name: 'Northwind Legal', excludeFromCrossTenant: false, defaultTimeZone: 'Europe/London' };
export const FABRIKAM_TENANT: Tenant = { id: 'fabrikam-notary', name: 'Fabrikam Notary (on hold)', parentTenantId: NORTHWIND_TENANT.id, excludeFromCrossTenant: false, enabled: false };

export const LEGAL_DMS: Software = {
  id: 'legal-dms',
  name: 'Northwind DMS client',
  platform: 'linux',
  detection: { method: 'Script', script: 'cat "$NIGHTSHIFT_ROOT/opt/legal-dms/VERSION" 2>/dev/null || true\n' },
  installScript: [
    'set -euo pipefail',
    'echo "contacting the license server at licensing.northwind.example"',
    '# the firm\'s license server is down tonight: the installer gives up, as the real one would',
    'echo "license server unreachable; installation aborted" >&2',
    'exit 1',
    '',
  ].join('\n'),
  uninstallScript: 'rm -rf "$NIGHTSHIFT_ROOT/opt/legal-dms"\n',
  versions: [],
  latestVersion: '4.2.0',
  dependencies: [],
};

const northwind = (
  computer: Pick<Computer, 'id' | 'agentId' | 'name' | 'deviceClass' | 'tags'> & { tenantId?: string; online?: boolean },
): DemoMachine => ({
  computer: { tenantId: NORTHWIND_TENANT.id, platform: 'linux', timeZone: 'Europe/London', online: true, ...computer },
  descriptor: {
    agentId: computer.agentId,
    name: computer.id,
    platform: 'linux',
    online: computer.online ?? true,
    latencyMs: 60,
    roleTags: { [NODE_TENANT_TAG]: computer.tenantId ?? NORTHWIND_TENANT.id },
  },
  image: {},
});

export const SCHEDULE_MACHINES: readonly DemoMachine[] = [
  northwind({ id: 'nw-reception', agentId: 'i-0b1c2d3e4f5a60011', name: 'Reception desk', deviceClass: 'Workstation', tags: ['dms'] }),
  northwind({ id: 'nw-partner', agentId: 'i-0b1c2d3e4f5a60012', name: "Partner's workstation", deviceClass: 'Workstation', tags: ['dms'] }),
  northwind({ id: 'nw-laptop', agentId: 'mi-0b1c2d3e4f5a60013', name: "Associate's laptop", deviceClass: 'Portable', tags: ['dms'], online: false }),
  northwind({ id: 'nw-archive', agentId: 'i-0b1c2d3e4f5a60014', name: 'Archive scanner', deviceClass: 'Workstation', tags: [] }),
  northwind({ id: 'fb-desk', agentId: 'i-0b1c2d3e4f5a60015', name: 'Fabrikam front desk', deviceClass: 'Workstation', tags: ['dms'], tenantId: FABRIKAM_TENANT.id }),
];

export const SCHEDULE_DEPLOYMENT: Deployment = software('dms-northwind', 'legal-dms', { kind: 'Tag', tag: 'dms' }, 'LatestVersion');

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
 * Idempotent: catalog entries go through the same validating use case an
 * operator's would, as upserts of the same values, and a machine folder that
 * exists keeps whatever earlier sessions did to it.
 */
/** What the audit trail names as the author of the demo catalog. */
const SEEDED_BY = { kind: 'Operator', name: 'nightshift demo seed' } as const;

export async function seedDemo(runtime: LocalRuntime): Promise<SeedSummary> {
  const save = (input: Parameters<typeof saveCatalogEntity>[1]): Promise<SavedEntity> => saveCatalogEntity(runtime.deps, input, SEEDED_BY);
  await save({ kind: 'Tenant', entity: DEMO_TENANT });
  // prerequisites before the software that names them
  for (const entry of [...DEMO_SOFTWARE].sort((a, b) => a.dependencies.length - b.dependencies.length)) await save({ kind: 'Software', entity: entry });
  for (const task of DEMO_TASKS) await save({ kind: 'Task', entity: task });
  let machinesCreated = 0;
  for (const demo of [...DEMO_MACHINES, TONIGHT_MACHINE]) {
    await save({ kind: 'Computer', entity: demo.computer });
    const { root, created } = await runtime.agent.addMachine(demo.descriptor);
    if (!created) continue;
    machinesCreated++;
    for (const [softwareId, version] of Object.entries(demo.image)) {
      const entry = DEMO_SOFTWARE.find((s) => s.id === softwareId);
      if (entry) await imageSoftware(root, entry, version);
    }
    for (const [file, content] of Object.entries(demo.files ?? {})) {
      await mkdir(path.dirname(path.join(root, file)), { recursive: true });
      await writeFile(path.join(root, file), content);
    }
  }
  for (const deployment of DEMO_DEPLOYMENTS) await save({ kind: 'Deployment', entity: deployment });

  // the schedule scene's customer: its machines start empty
  await save({ kind: 'Tenant', entity: NORTHWIND_TENANT });
  await save({ kind: 'Tenant', entity: FABRIKAM_TENANT });
  await save({ kind: 'Software', entity: LEGAL_DMS });
  for (const demo of SCHEDULE_MACHINES) {
    await save({ kind: 'Computer', entity: demo.computer });
    await runtime.agent.addMachine(demo.descriptor);
  }
  await save({ kind: 'Deployment', entity: SCHEDULE_DEPLOYMENT });
  return { machinesCreated, machines: DEMO_MACHINES };
}
