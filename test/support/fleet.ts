import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { NODE_TENANT_TAG } from '../../functions/core/catalog/secrets.js';
import type { Computer, Deployment, MaintenanceTask, Software, SoftwareDeployment, Tenant } from '../../functions/core/model/catalog.js';
import { computer, deploySoftware } from './domain.js';
import type { Clock, IdGenerator } from '../../functions/core/ports/clock.port.js';
import { derivedId } from '../../functions/adapters/system.js';
import { createLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from '../../local/runtime.js';

/**
 * A test application: installs a version file under opt/<id>, detection
 * prints it back. `failInstall` makes the install script exit 3 after writing
 * nothing, like a broken vendor installer.
 */
export function testSoftware(
  id: string,
  latestVersion: string,
  options: { failInstall?: boolean; detection?: string; dependencies?: Software['dependencies']; testScript?: string } = {},
): Software {
  const file = `"$NIGHTSHIFT_ROOT/opt/${id}/VERSION"`;
  return {
    id,
    name: `App ${id}`,
    platform: 'linux',
    detection: { method: 'Script', script: options.detection ?? `[ -f ${file} ] && cat ${file}; exit 0\n` },
    ...(options.testScript ? { testScript: options.testScript } : {}),
    installScript: options.failInstall
      ? 'echo "installer: disk quota exceeded" >&2\nexit 3\n'
      : `set -eu\nmkdir -p "$NIGHTSHIFT_ROOT/opt/${id}"\nprintf '%s\\n' "$NIGHTSHIFT_VERSION" > ${file}\necho "installed ${id} $NIGHTSHIFT_VERSION"\n`,
    uninstallScript: `rm -rf "$NIGHTSHIFT_ROOT/opt/${id}"\n`,
    versions: [],
    latestVersion,
    dependencies: options.dependencies ?? [],
  };
}

export const testComputer = (id: string, agentId: string, overrides: Partial<Computer> = {}): Computer =>
  computer(id, { agentId, name: `Computer ${id}`, tenantId: 'tenant-a', ...overrides });

export const everywhere = (softwareId: string, overrides: Partial<SoftwareDeployment> = {}): Deployment =>
  deploySoftware(`deploy-${softwareId}`, softwareId, overrides);

export const TEST_TENANT: Tenant = { id: 'tenant-a', name: 'Tenant A', excludeFromCrossTenant: false };

/** Ids that are unique and readable in failure messages: `ses_1`, `ses_2`, … */
export function sequentialIds(): IdGenerator {
  let next = 0;
  return { next: (prefix) => `${prefix}_${String(++next).padStart(4, '0')}`, derive: derivedId };
}

/** A clock that only moves when told to. */
export function manualClock(start = new Date('2026-11-23T09:00:00Z')): Clock & { advance(ms: number): void } {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    advance: (ms) => {
      now += ms;
    },
  };
}

export interface FleetSpec {
  readonly tenants?: readonly Tenant[];
  readonly tasks?: readonly MaintenanceTask[];
  readonly software: readonly Software[];
  readonly deployments: readonly Deployment[];
  readonly machines: readonly {
    computer: Computer;
    online?: boolean;
    latencyMs?: number;
    image?: Record<string, string>;
    ssmTags?: Record<string, string>;
    /** The node role's tags; by default `nightshift:tenant` is the computer's tenant, as the deploy guide sets it up. */
    roleTags?: Record<string, string>;
  }[];
}

/** An in-memory runtime (temporary data folder, dynalite in memory) with the given fleet in place. */
export async function runtimeWithFleet(fleet: FleetSpec, options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const runtime = await createLocalRuntime({ logFile: false, retryIntervalMs: 0, ids: sequentialIds(), ...options });
  for (const tenant of fleet.tenants ?? [TEST_TENANT]) await runtime.deps.catalog.putTenant(tenant);
  for (const software of fleet.software) await runtime.deps.catalog.putSoftware(software);
  for (const task of fleet.tasks ?? []) await runtime.deps.catalog.putTask(task);
  for (const deployment of fleet.deployments) await runtime.deps.catalog.putDeployment(deployment);
  for (const machine of fleet.machines) {
    await runtime.deps.catalog.putComputer(machine.computer);
    const { root } = await runtime.agent.addMachine({
      agentId: machine.computer.agentId,
      name: machine.computer.id,
      platform: 'linux',
      online: machine.online ?? true,
      latencyMs: machine.latencyMs ?? 0,
      ...(machine.ssmTags ? { tags: machine.ssmTags } : {}),
      roleTags: machine.roleTags ?? { [NODE_TENANT_TAG]: machine.computer.tenantId },
    });
    for (const [softwareId, version] of Object.entries(machine.image ?? {})) {
      await writeVersion(root, softwareId, version);
    }
  }
  return runtime;
}

export async function writeVersion(root: string, softwareId: string, version: string): Promise<void> {
  await mkdir(`${root}/opt/${softwareId}`, { recursive: true });
  await writeFile(`${root}/opt/${softwareId}/VERSION`, `${version}\n`);
}

export async function readVersion(root: string, softwareId: string): Promise<string | undefined> {
  try {
    return (await readFile(`${root}/opt/${softwareId}/VERSION`, 'utf8')).trim();
  } catch {
    return undefined;
  }
}
