import { parameterValue } from '../catalog/parameters.js';
import { keepsSecretsPerTenant, SECRET_MARKER } from '../catalog/secrets.js';
import {
  itemKeyOf,
  type Computer,
  type Deployment,
  type DeploymentTarget,
  type ItemKey,
  type MaintenanceTask,
  type ParameterValue,
  type Software,
  type Tenant,
} from '../model/catalog.js';
import type {
  CandidateExplanation,
  Explanation,
  ItemDependency,
  ResolutionRule,
  SessionItem,
  SoftwareSessionItem,
  TargetLevel,
} from '../model/session.js';
import { compareVersions } from '../versions.js';

/**
 * Resolution: which deployment of each item applies to a computer.
 *
 * Precedence, checked in this order between any two applicable deployments
 * of the same item (the first rule that separates them decides, and is
 * recorded as the reason the loser lost):
 *
 * | # | rule                | the winner is the deployment that…                                        |
 * |---|---------------------|---------------------------------------------------------------------------|
 * | 0 | Disabled            | is enabled (a disabled deployment never wins, even alone)                 |
 * | 1 | TargetLevel         | targets more narrowly: computer or person > single tenant > cross tenant  |
 * | 2 | DeviceClassFilter   | has a device-class filter, or a narrower one (fewer classes)              |
 * | 3 | IgnoredWinsTie      | says Ignored / Ignore                                                     |
 * | 4 | MoreSpecificTarget  | names the computer over its person; a tag in the tenant over the tenant; the tenant over a parent's "include child tenants"; a cross-tenant tag over all tenants |
 * | 5 | LowestDeploymentId  | has the lower id (a stable last resort, so there is always exactly one)   |
 *
 * Deployments whose device-class filter excludes the computer, whose item is
 * for another platform, or (cross-tenant ones) whose tenant opted out of
 * cross-tenant deployments, do not apply at all.
 */

/** The catalog as resolution needs it, indexed once for a whole fleet. */
export interface Catalog {
  readonly tenants: ReadonlyMap<string, Tenant>;
  readonly software: ReadonlyMap<string, Software>;
  readonly tasks: ReadonlyMap<string, MaintenanceTask>;
}

export interface DeploymentIndex {
  readonly crossTenant: readonly Deployment[];
  readonly crossTenantByTag: ReadonlyMap<string, readonly Deployment[]>;
  readonly byTenant: ReadonlyMap<string, readonly Deployment[]>;
  readonly byTenantTag: ReadonlyMap<string, readonly Deployment[]>;
  readonly byComputer: ReadonlyMap<string, readonly Deployment[]>;
  readonly byPerson: ReadonlyMap<string, readonly Deployment[]>;
}

const push = <K, V>(map: Map<K, V[]>, key: K, value: V): void => {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
};

/** Groups deployments by what they target, so each computer looks at its own few instead of all of them. */
export function indexDeployments(deployments: readonly Deployment[]): DeploymentIndex {
  const crossTenant: Deployment[] = [];
  const crossTenantByTag = new Map<string, Deployment[]>();
  const byTenant = new Map<string, Deployment[]>();
  const byTenantTag = new Map<string, Deployment[]>();
  const byComputer = new Map<string, Deployment[]>();
  const byPerson = new Map<string, Deployment[]>();
  for (const deployment of deployments) {
    const target = deployment.target;
    switch (target.kind) {
      case 'AllTenants':
        crossTenant.push(deployment);
        break;
      case 'Tenant':
        push(byTenant, target.tenantId, deployment);
        break;
      case 'Tag':
        if (target.tenantId === undefined) push(crossTenantByTag, target.tag.toLowerCase(), deployment);
        else push(byTenantTag, `${target.tenantId}\u0000${target.tag.toLowerCase()}`, deployment);
        break;
      case 'Computer':
        push(byComputer, target.computerId, deployment);
        break;
      case 'Person':
        push(byPerson, target.email, deployment);
        break;
    }
  }
  return { crossTenant, crossTenantByTag, byTenant, byTenantTag, byComputer, byPerson };
}

interface Candidate {
  readonly deployment: Deployment;
  readonly level: number;
  /** Within a level, how directly the target names this computer (rule 4). */
  readonly directness: number;
  readonly inherited: boolean;
}

const LEVEL_NAMES: Readonly<Record<number, TargetLevel>> = { 3: 'Individual', 2: 'SingleTenant', 1: 'CrossTenant' };

/** The tenant and its ancestors, nearest first; a cycle in parent links stops at the first repeat. */
export function tenantLineage(tenantId: string, tenants: ReadonlyMap<string, Tenant>): Tenant[] {
  const lineage: Tenant[] = [];
  const seen = new Set<string>();
  let current = tenants.get(tenantId);
  while (current && !seen.has(current.id)) {
    lineage.push(current);
    seen.add(current.id);
    current = current.parentTenantId ? tenants.get(current.parentTenantId) : undefined;
  }
  return lineage;
}

function candidatesFor(computer: Computer, index: DeploymentIndex, catalog: Catalog): Candidate[] {
  const candidates: Candidate[] = [];
  const add = (deployments: readonly Deployment[] | undefined, level: number, directness: number, inherited = false) => {
    for (const deployment of deployments ?? []) candidates.push({ deployment, level, directness, inherited });
  };
  add(index.byComputer.get(computer.id), 3, 2);
  if (computer.primaryUser) add(index.byPerson.get(computer.primaryUser.email), 3, 1);

  const lineage = tenantLineage(computer.tenantId, catalog.tenants);
  for (const tag of computer.tags) add(index.byTenantTag.get(`${computer.tenantId}\u0000${tag.toLowerCase()}`), 2, 3);
  add(index.byTenant.get(computer.tenantId), 2, 2);
  for (const ancestor of lineage.slice(1)) {
    add(
      index.byTenant.get(ancestor.id)?.filter((d) => d.target.kind === 'Tenant' && d.target.includeChildTenants),
      2,
      1,
      true,
    );
  }
  const filtered = candidates.filter(({ deployment }) => applies(deployment, computer, catalog));
  if (!catalog.tenants.get(computer.tenantId)?.excludeFromCrossTenant) {
    for (const tag of computer.tags) {
      for (const deployment of index.crossTenantByTag.get(tag.toLowerCase()) ?? []) {
        if (applies(deployment, computer, catalog)) filtered.push({ deployment, level: 1, directness: 2, inherited: false });
      }
    }
    // every computer meets the all-tenants list: filter it once per platform and device class, not once per computer
    for (const deployment of allTenantsFor(index, catalog, computer)) filtered.push({ deployment, level: 1, directness: 1, inherited: false });
  }
  return filtered;
}

const allTenantsCache = new WeakMap<DeploymentIndex, { catalog: Catalog; lists: Map<string, Deployment[]> }>();

function allTenantsFor(index: DeploymentIndex, catalog: Catalog, computer: Computer): readonly Deployment[] {
  let cached = allTenantsCache.get(index);
  if (!cached || cached.catalog !== catalog) {
    cached = { catalog, lists: new Map() };
    allTenantsCache.set(index, cached);
  }
  const shape = `${computer.platform}|${computer.deviceClass}`;
  let list = cached.lists.get(shape);
  if (!list) {
    list = index.crossTenant.filter((deployment) => applies(deployment, computer, catalog));
    cached.lists.set(shape, list);
  }
  return list;
}

function applies(deployment: Deployment, computer: Computer, catalog: Catalog): boolean {
  if (deployment.deviceClasses && !deployment.deviceClasses.includes(computer.deviceClass)) return false;
  const item = deployment.itemKind === 'Software' ? catalog.software.get(deployment.softwareId) : catalog.tasks.get(deployment.taskId);
  // a deployment of an item gone from the catalog is kept, so resolution can report it
  return item === undefined || item.platform === computer.platform;
}

/** What resolution asks of a deployment again and again, worked out once per deployment. */
interface DeploymentFacts {
  readonly key: ItemKey;
  readonly ignore: boolean;
  readonly filterWidth: number;
  readonly wants: string;
  readonly target: string;
  readonly inheritedTarget: string;
}

const factsCache = new WeakMap<Deployment, DeploymentFacts>();

function factsOf(deployment: Deployment): DeploymentFacts {
  let facts = factsCache.get(deployment);
  if (!facts) {
    facts = {
      key: itemKeyOf(deployment),
      ignore: deployment.itemKind === 'Software' ? deployment.desiredState === 'Ignored' : deployment.mode === 'Ignore',
      filterWidth: deployment.deviceClasses?.length ?? Number.POSITIVE_INFINITY,
      wants: deployment.itemKind === 'Software' ? `${deployment.desiredState}${deployment.version ? ` ${deployment.version}` : ''}` : deployment.mode,
      target: describeTarget(deployment.target, false),
      inheritedTarget: describeTarget(deployment.target, true),
    };
    factsCache.set(deployment, facts);
  }
  return facts;
}

/** Negative when `a` beats `b`; the rule that decided. Total and antisymmetric, so the winner is unique. */
function compareCandidates(a: Candidate, b: Candidate): { order: number; rule: ResolutionRule } {
  if (a.deployment.enabled !== b.deployment.enabled) return { order: a.deployment.enabled ? -1 : 1, rule: 'Disabled' };
  if (a.level !== b.level) return { order: b.level - a.level, rule: 'TargetLevel' };
  const aFacts = factsOf(a.deployment);
  const bFacts = factsOf(b.deployment);
  if (aFacts.filterWidth !== bFacts.filterWidth) return { order: aFacts.filterWidth < bFacts.filterWidth ? -1 : 1, rule: 'DeviceClassFilter' };
  if (aFacts.ignore !== bFacts.ignore) return { order: aFacts.ignore ? -1 : 1, rule: 'IgnoredWinsTie' };
  if (a.directness !== b.directness) return { order: b.directness - a.directness, rule: 'MoreSpecificTarget' };
  return { order: a.deployment.id < b.deployment.id ? -1 : a.deployment.id > b.deployment.id ? 1 : 0, rule: 'LowestDeploymentId' };
}

function describeTarget(target: DeploymentTarget, inherited: boolean): string {
  switch (target.kind) {
    case 'AllTenants':
      return 'all tenants';
    case 'Tenant':
      return inherited ? `parent tenant ${target.tenantId} (with child tenants)` : `tenant ${target.tenantId}`;
    case 'Tag':
      return target.tenantId ? `tag "${target.tag}" in tenant ${target.tenantId}` : `tag "${target.tag}" in every tenant`;
    case 'Computer':
      return `computer ${target.computerId}`;
    case 'Person':
      return `the computers of ${target.email}`;
  }
}

const targetText = (candidate: Candidate): string => {
  const facts = factsOf(candidate.deployment);
  return candidate.inherited ? facts.inheritedTarget : facts.target;
};

const RULE_WORDS: Readonly<Record<ResolutionRule, string>> = {
  OnlyCandidate: 'it is the only deployment that applies',
  TargetLevel: 'it targets the computer more narrowly',
  DeviceClassFilter: 'its device-class filter is more specific',
  IgnoredWinsTie: 'Ignored wins a tie at the same level',
  MoreSpecificTarget: 'its target is more specific',
  LowestDeploymentId: 'everything else being equal, the lower deployment id wins',
  Disabled: 'every deployment of it is disabled',
};

/** A lone candidate's explanation depends only on the deployment and how it reached the computer: built once. */
const soloExplanations = new WeakMap<Deployment, Map<number, Explanation>>();

function explain(itemName: string, ranked: readonly Candidate[], decidingRule: ResolutionRule): Explanation {
  const [winner] = ranked;
  if (ranked.length === 1 && winner) {
    let cache = soloExplanations.get(winner.deployment);
    if (!cache) {
      cache = new Map();
      soloExplanations.set(winner.deployment, cache);
    }
    const shape = winner.level * 2 + (winner.inherited ? 1 : 0);
    const cached = cache.get(shape);
    if (cached && cached.summary.startsWith(`${itemName}: `)) return cached;
    const built = buildExplanation(itemName, ranked, decidingRule);
    cache.set(shape, built);
    return built;
  }
  return buildExplanation(itemName, ranked, decidingRule);
}

function buildExplanation(itemName: string, ranked: readonly Candidate[], decidingRule: ResolutionRule): Explanation {
  const [winner] = ranked;
  const candidates: CandidateExplanation[] = ranked.map((candidate, position) => ({
    deploymentId: candidate.deployment.id,
    level: LEVEL_NAMES[candidate.level] ?? 'CrossTenant',
    target: targetText(candidate),
    ...(candidate.deployment.deviceClasses ? { deviceClasses: candidate.deployment.deviceClasses } : {}),
    wants: factsOf(candidate.deployment).wants,
    ...(position > 0 && winner ? { lostBy: compareCandidates(winner, candidate).rule } : {}),
  }));
  if (!winner?.deployment.enabled) {
    return { rule: 'Disabled', candidates, summary: `${itemName}: not managed here, because ${RULE_WORDS.Disabled}` };
  }
  const others = ranked.length > 1 ? `, over ${ranked.slice(1).map((c) => c.deployment.id).join(', ')}` : '';
  return {
    winner: winner.deployment.id,
    rule: decidingRule,
    candidates,
    summary: `${itemName}: ${factsOf(winner.deployment).wants} from deployment ${winner.deployment.id} (${targetText(winner)})${others}, because ${RULE_WORDS[decidingRule]}`,
  };
}

export interface ResolvedComputer {
  readonly items: SessionItem[];
  /** Things resolution noticed but could not use (a deployment's item missing from the catalog). */
  readonly problems: string[];
}

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

/**
 * Every item that applies to the computer with its one winning deployment
 * and the explanation, plus the prerequisites those items need (recursively),
 * sorted by item name.
 */
export function resolveComputer(computer: Computer, index: DeploymentIndex, catalog: Catalog): ResolvedComputer {
  const problems: string[] = [];
  const byItem = new Map<ItemKey, Candidate[]>();
  for (const candidate of candidatesFor(computer, index, catalog)) push(byItem, factsOf(candidate.deployment).key, candidate);

  const items = new Map<ItemKey, SessionItem>();
  for (const [key, candidates] of byItem) {
    // one pass for the winner (the comparison is a total order), a sort only to list the losers in order
    let winner = candidates[0];
    for (const candidate of candidates) if (winner && compareCandidates(candidate, winner).order < 0) winner = candidate;
    if (!winner) continue;
    const ranked = candidates.length === 1 ? candidates : [winner, ...candidates.filter((c) => c !== winner).sort((a, b) => compareCandidates(a, b).order)];
    const decidingRule = ranked.length === 1 ? 'OnlyCandidate' : compareCandidates(winner, ranked[1] ?? winner).rule;
    const item = toSessionItem(winner.deployment, catalog, index, (name) => explain(name, ranked, decidingRule));
    if (item) items.set(key, item);
    else problems.push(`deployment ${winner.deployment.id} names an item that is not in the catalog`);
  }
  addPrerequisites(items, catalog, problems);
  // plain code-unit order: stable across machines and locales, and fast enough for fleets (a collator is not)
  const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return { items: [...items.values()].sort((a, b) => order(a.itemName, b.itemName) || order(a.key, b.key)), problems };
}

/**
 * Everything but the explanation depends only on the winning deployment, so
 * it is built once per deployment and index (a fleet plans thousands of
 * computers against the same few hundred deployments).
 */
const itemBases = new WeakMap<DeploymentIndex, Map<string, SessionItem | null>>();
/** Stands in until the computer's own explanation replaces it. */
const NO_EXPLANATION: Explanation = { rule: 'OnlyCandidate', candidates: [], summary: '' };

function toSessionItem(
  deployment: Deployment,
  catalog: Catalog,
  index: DeploymentIndex,
  explanationFor: (itemName: string) => Explanation,
): SessionItem | undefined {
  let bases = itemBases.get(index);
  if (!bases) {
    bases = new Map();
    itemBases.set(index, bases);
  }
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
function addPrerequisites(items: Map<ItemKey, SessionItem>, catalog: Catalog, problems: string[]): void {
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
