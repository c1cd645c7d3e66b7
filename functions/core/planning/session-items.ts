import { parameterValue } from '../catalog/parameters.js';
import { keepsSecretsPerTenant, SECRET_MARKER } from '../catalog/secrets.js';
import type { Deployment, ItemKey, MaintenanceTask, ParameterValue } from '../model/catalog.js';
import type { Explanation, ItemDependency, SessionItem, SoftwareSessionItem } from '../model/session.js';
import { compareVersions } from '../versions.js';
import { memoFor, type Catalog, type DeploymentIndex } from './deployment-index.js';

/**
 * The session items resolution hands on: each winning deployment's item as
 * the session freezes it (desired state, target version, parameters with
 * secrets as markers), and the prerequisites those items need.
 */

/**
 * Parameter values with defaults filled in. A secret is the marker here even
 * if a deployment stored before secrets moved to the secret store still
 * holds its value: the session is frozen from this and must never hold one.
 */
function effectiveParameters(task: MaintenanceTask, values: Readonly<Record<string, ParameterValue>>): Record<string, ParameterValue> {
  const effective: Record<string, ParameterValue> = {};
  for (const parameter of task.parameters) {
    // own properties only: a parameter named `constructor` must not find Object.prototype's
    const value = parameterValue(values, parameter.name) ?? ('default' in parameter ? parameter.default : undefined);
    if (value === undefined) continue;
    effective[parameter.name] = parameter.type === 'secret' ? SECRET_MARKER : value;
  }
  return effective;
}

/** Desired states after which the software is on the computer, so its prerequisites must be too. */
const KEEPS_INSTALLED = new Set(['LatestVersion', 'ThisVersion', 'AnyVersion', 'NewerOrEqualVersion', 'UpdateIfFound']);

/** Stands in until the computer's own explanation replaces it. */
const NO_EXPLANATION: Explanation = { rule: 'OnlyCandidate', candidates: [], summary: '' };

/**
 * The winning deployment's item with the computer's own explanation.
 * Everything but the explanation depends only on the deployment and the
 * catalog, so it is built once per index (its memo).
 */
export function toSessionItem(
  deployment: Deployment,
  catalog: Catalog,
  index: DeploymentIndex,
  explanationFor: (itemName: string) => Explanation,
): SessionItem | undefined {
  const bases = memoFor(index, catalog).itemBases;
  let base = bases.get(deployment.id);
  if (base === undefined) {
    base = buildItemBase(deployment, catalog) ?? null;
    bases.set(deployment.id, base);
  }
  if (base === null) return undefined;
  // Object.assign copies the cached base measurably faster than a spread across the two item shapes
  return Object.assign({}, base, { explanation: explanationFor(base.itemName) });
}

function buildItemBase(deployment: Deployment, catalog: Catalog): SessionItem | undefined {
  const common = {
    origin: deployment.enabled ? ('Deployed' as const) : ('Unassigned' as const),
    ...(deployment.enabled ? { deploymentId: deployment.id } : {}),
    critical: deployment.critical,
    orderingHint: deployment.orderingHint,
    explanation: NO_EXPLANATION,
  };
  if (deployment.itemKind === 'Task') {
    const task = catalog.tasks.get(deployment.taskId);
    if (!task) return undefined;
    return {
      kind: 'Task',
      key: `task:${task.id}`,
      itemId: task.id,
      itemName: task.name,
      ...common,
      mode: deployment.mode,
      parameters: effectiveParameters(task, deployment.parameters),
      secretScope: keepsSecretsPerTenant(deployment.target) ? 'Tenant' : 'Shared',
    };
  }
  const software = catalog.software.get(deployment.softwareId);
  if (!software) return undefined;
  // a minimum above the catalog's latest can only be met by installing the minimum itself
  const minimumAboveLatest =
    deployment.desiredState === 'NewerOrEqualVersion' && deployment.version !== undefined && (compareVersions(deployment.version, software.latestVersion) ?? 0) > 0;
  const pinned = deployment.desiredState === 'ThisVersion' || minimumAboveLatest ? deployment.version : undefined;
  return {
    kind: 'Software',
    key: `software:${software.id}`,
    itemId: software.id,
    itemName: software.name,
    ...common,
    desiredState: deployment.desiredState,
    targetVersion: pinned ?? software.latestVersion,
    ...(deployment.version === undefined ? {} : { requiredVersion: deployment.version }),
    dependencies: software.dependencies.map((d): ItemDependency => ({ key: `software:${d.softwareId}`, requires: d.requires })),
    hasTest: software.testScript !== undefined,
  };
}

/**
 * Adds the software that installed items need (and the software they need
 * gone), recursively. A requirement that contradicts a deployment marks both
 * items as conflicting instead of silently picking one.
 */
export function addPrerequisites(items: Map<ItemKey, SessionItem>, catalog: Catalog, problems: string[]): void {
  const queue = [...items.values()].filter(
    (item): item is SoftwareSessionItem => item.kind === 'Software' && item.origin !== 'Unassigned' && KEEPS_INSTALLED.has(item.desiredState),
  );
  while (queue.length > 0) {
    const dependent = queue.shift();
    if (!dependent) break;
    for (const dependency of dependent.dependencies) {
      const existing = items.get(dependency.key);
      if (existing?.kind === 'Software' && existing.origin !== 'Unassigned') {
        const installs = KEEPS_INSTALLED.has(existing.desiredState);
        const contradiction =
          (dependency.requires === 'Installed' && existing.desiredState === 'NotPresent') ||
          (dependency.requires === 'Absent' && installs);
        if (contradiction) {
          const other =
            existing.deploymentId === undefined
              ? `another item needs it ${existing.desiredState === 'NotPresent' ? 'absent' : 'installed'}`
              : `deployment ${existing.deploymentId} wants it ${existing.desiredState}`;
          const why = `${dependent.itemName} needs ${existing.itemName} ${dependency.requires === 'Installed' ? 'installed' : 'absent'}, but ${other}`;
          items.set(existing.key, { ...existing, conflict: why });
          // the stored item, not the queued copy: others may have added themselves to its requiredBy since it was queued
          items.set(dependent.key, { ...(items.get(dependent.key) ?? dependent), conflict: why });
        } else if (existing.origin === 'Prerequisite') {
          const requiredBy = [...(existing.explanation.requiredBy ?? []), dependent.key];
          items.set(existing.key, { ...existing, explanation: { ...existing.explanation, requiredBy } });
        }
        continue;
      }
      const software = catalog.software.get(dependency.key.slice('software:'.length));
      if (!software) {
        problems.push(`${dependent.itemName} depends on ${dependency.key}, which is not in the catalog`);
        continue;
      }
      const prerequisite: SoftwareSessionItem = {
        kind: 'Software',
        key: dependency.key,
        itemId: software.id,
        itemName: software.name,
        origin: 'Prerequisite',
        critical: true,
        orderingHint: 'Unordered',
        explanation: {
          rule: 'OnlyCandidate',
          candidates: [],
          requiredBy: [dependent.key],
          summary: `${software.name}: ${dependency.requires === 'Installed' ? 'installed' : 'removed'} because ${dependent.itemName} requires it ${dependency.requires === 'Installed' ? 'installed' : 'absent'}`,
        },
        desiredState: dependency.requires === 'Installed' ? 'AnyVersion' : 'NotPresent',
        targetVersion: software.latestVersion,
        dependencies: software.dependencies.map((d): ItemDependency => ({ key: `software:${d.softwareId}`, requires: d.requires })),
        hasTest: software.testScript !== undefined,
      };
      items.set(prerequisite.key, prerequisite);
      if (dependency.requires === 'Installed') queue.push(prerequisite);
    }
  }
}
