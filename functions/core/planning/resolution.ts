import type { Computer, Deployment, DeploymentTarget, Software } from '../model/catalog.js';
import type { SessionItem } from '../model/session.js';

/** Higher wins: the most specific target decides what a computer gets. */
const TARGET_PRECEDENCE: Readonly<Record<DeploymentTarget['kind'], number>> = {
  Computer: 3,
  Tenant: 2,
  AllTenants: 1,
};

const targets = (target: DeploymentTarget, computer: Computer): boolean => {
  switch (target.kind) {
    case 'AllTenants':
      return true;
    case 'Tenant':
      return target.tenantId === computer.tenantId;
    case 'Computer':
      return target.computerId === computer.id;
  }
};

/**
 * The deployments that apply to one computer, one winner per software item.
 * Software for another platform never applies.
 */
export function resolveSessionItems(
  computer: Computer,
  deployments: readonly Deployment[],
  softwareById: ReadonlyMap<string, Software>,
): SessionItem[] {
  const winners = new Map<string, Deployment>();
  for (const deployment of deployments) {
    if (!deployment.enabled || !targets(deployment.target, computer)) continue;
    const software = softwareById.get(deployment.softwareId);
    if (!software || software.platform !== computer.platform) continue;
    const current = winners.get(deployment.softwareId);
    const beats =
      !current ||
      TARGET_PRECEDENCE[deployment.target.kind] > TARGET_PRECEDENCE[current.target.kind] ||
      (TARGET_PRECEDENCE[deployment.target.kind] === TARGET_PRECEDENCE[current.target.kind] && deployment.id < current.id);
    if (beats) winners.set(deployment.softwareId, deployment);
  }
  return [...winners.values()]
    .map((deployment): SessionItem => {
      const software = softwareById.get(deployment.softwareId);
      if (!software) throw new Error(`unreachable: software ${deployment.softwareId} vanished`);
      const desiredVersion =
        deployment.desiredState === 'ThisVersion'
          ? deployment.desiredVersion
          : deployment.desiredState === 'LatestVersion'
            ? software.latestVersion
            : undefined;
      return {
        itemId: software.id,
        itemName: software.name,
        deploymentId: deployment.id,
        desiredState: deployment.desiredState,
        ...(desiredVersion === undefined ? {} : { desiredVersion }),
      };
    })
    .sort((a, b) => a.itemName.localeCompare(b.itemName));
}
