import { itemKeyOf, type Deployment, type DeploymentTarget, type ItemKey } from '../model/catalog.js';
import type { ResolutionRule, TargetLevel } from '../model/session.js';
import type { ResolutionMemo } from './deployment-index.js';

/**
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
 * cross-tenant deployments, do not apply at all (see `candidatesFor`).
 */

/** A deployment that applies to a computer, and how it reached it. */
export interface Candidate {
  readonly deployment: Deployment;
  readonly level: number;
  /** Within a level, how directly the target names this computer (rule 4). */
  readonly directness: number;
  readonly inherited: boolean;
}

export const LEVEL_NAMES: Readonly<Record<number, TargetLevel>> = { 3: 'Individual', 2: 'SingleTenant', 1: 'CrossTenant' };

/** What resolution asks of a deployment again and again, worked out once per deployment. */
export interface DeploymentFacts {
  readonly key: ItemKey;
  readonly ignore: boolean;
  readonly filterWidth: number;
  readonly wants: string;
  readonly target: string;
  readonly inheritedTarget: string;
}

export function factsOf(memo: ResolutionMemo, deployment: Deployment): DeploymentFacts {
  let facts = memo.facts.get(deployment);
  if (!facts) {
    facts = {
      key: itemKeyOf(deployment),
      ignore: deployment.itemKind === 'Software' ? deployment.desiredState === 'Ignored' : deployment.mode === 'Ignore',
      filterWidth: deployment.deviceClasses?.length ?? Number.POSITIVE_INFINITY,
      wants: deployment.itemKind === 'Software' ? `${deployment.desiredState}${deployment.version ? ` ${deployment.version}` : ''}` : deployment.mode,
      target: describeTarget(deployment.target, false),
      inheritedTarget: describeTarget(deployment.target, true),
    };
    memo.facts.set(deployment, facts);
  }
  return facts;
}

/** Negative when `a` beats `b`; the rule that decided. Total and antisymmetric, so the winner is unique. */
export function compareCandidates(memo: ResolutionMemo, a: Candidate, b: Candidate): { order: number; rule: ResolutionRule } {
  if (a.deployment.enabled !== b.deployment.enabled) return { order: a.deployment.enabled ? -1 : 1, rule: 'Disabled' };
  if (a.level !== b.level) return { order: b.level - a.level, rule: 'TargetLevel' };
  const aFacts = factsOf(memo, a.deployment);
  const bFacts = factsOf(memo, b.deployment);
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
