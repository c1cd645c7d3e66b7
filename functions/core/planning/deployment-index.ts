import type { Computer, Deployment, MaintenanceTask, Software, Tenant } from '../model/catalog.js';
import type { Explanation, SessionItem } from '../model/session.js';
import type { Candidate, DeploymentFacts } from './precedence.js';

/** The catalog as resolution needs it, indexed once for a whole fleet. */
export interface Catalog {
  readonly tenants: ReadonlyMap<string, Tenant>;
  readonly software: ReadonlyMap<string, Software>;
  readonly tasks: ReadonlyMap<string, MaintenanceTask>;
}

/**
 * What resolution works out once and reuses for every computer resolved
 * against the same index: a fleet resolves thousands of computers against the
 * same few hundred deployments. It lives exactly as long as the index that
 * holds it, which its caller builds (`indexDeployments`) and drops; the parts
 * that depend on the catalog as well are started afresh for another catalog.
 */
export interface ResolutionMemo {
  /** Per deployment: what precedence and the explanations ask of it again and again. */
  readonly facts: Map<Deployment, DeploymentFacts>;
  /** Per deployment and the shape of its reach (level, inherited): the explanation of a lone candidate. */
  readonly soloExplanations: Map<Deployment, Map<number, Explanation>>;
  /** The catalog the parts below were worked out against. */
  catalog?: Catalog;
  /** Per platform and device class: the all-tenants deployments that apply. */
  readonly allTenants: Map<string, readonly Deployment[]>;
  /** Per winning deployment: its session item but for the explanation (null: its item is not in the catalog). */
  readonly itemBases: Map<string, SessionItem | null>;
}

export interface DeploymentIndex {
  readonly crossTenant: readonly Deployment[];
  readonly crossTenantByTag: ReadonlyMap<string, readonly Deployment[]>;
  readonly byTenant: ReadonlyMap<string, readonly Deployment[]>;
  readonly byTenantTag: ReadonlyMap<string, readonly Deployment[]>;
  readonly byComputer: ReadonlyMap<string, readonly Deployment[]>;
  readonly byPerson: ReadonlyMap<string, readonly Deployment[]>;
  readonly memo: ResolutionMemo;
}

/** The index's memo, its catalog-bound parts started afresh when the catalog is another one. */
export function memoFor(index: DeploymentIndex, catalog: Catalog): ResolutionMemo {
  const { memo } = index;
  if (memo.catalog !== catalog) {
    memo.allTenants.clear();
    memo.itemBases.clear();
    memo.catalog = catalog;
  }
  return memo;
}

export const push = <K, V>(map: Map<K, V[]>, key: K, value: V): void => {
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
  const memo: ResolutionMemo = { facts: new Map(), soloExplanations: new Map(), allTenants: new Map(), itemBases: new Map() };
  return { crossTenant, crossTenantByTag, byTenant, byTenantTag, byComputer, byPerson, memo };
}

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

/**
 * Every deployment that applies to the computer, with how it reached it: its
 * level (3 individual, 2 its tenant, 1 cross-tenant) and, within the level,
 * how directly its target names the computer (precedence rule 4).
 */
export function candidatesFor(computer: Computer, index: DeploymentIndex, catalog: Catalog): Candidate[] {
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

function allTenantsFor(index: DeploymentIndex, catalog: Catalog, computer: Computer): readonly Deployment[] {
  const { allTenants } = memoFor(index, catalog);
  const shape = `${computer.platform}|${computer.deviceClass}`;
  let list = allTenants.get(shape);
  if (!list) {
    list = index.crossTenant.filter((deployment) => applies(deployment, computer, catalog));
    allTenants.set(shape, list);
  }
  return list;
}

function applies(deployment: Deployment, computer: Computer, catalog: Catalog): boolean {
  if (deployment.deviceClasses && !deployment.deviceClasses.includes(computer.deviceClass)) return false;
  const item = deployment.itemKind === 'Software' ? catalog.software.get(deployment.softwareId) : catalog.tasks.get(deployment.taskId);
  // a deployment of an item gone from the catalog is kept, so resolution can report it
  return item === undefined || item.platform === computer.platform;
}
