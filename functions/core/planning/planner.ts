import type { ItemKey } from '../model/catalog.js';
import type {
  ActionType,
  DetectedItem,
  PlanReason,
  SessionItem,
  SoftwareSessionItem,
  TaskSessionItem,
} from '../model/session.js';
import { compareVersions } from '../versions.js';
import { orderByDependencies } from './ordering.js';

export interface PlanDecision {
  readonly key: ItemKey;
  readonly item: SessionItem;
  readonly detected: DetectedItem;
  /** `undefined` is NoAction: the computer is where the deployment wants it, or we must not touch it. */
  readonly action?: ActionType;
  readonly reason: PlanReason;
  readonly fromVersion?: string;
  readonly toVersion?: string;
  /** Items whose actions must succeed first (prerequisites, conflicting software to remove). */
  readonly dependsOn: readonly ItemKey[];
}

type Decision = Pick<PlanDecision, 'action' | 'reason' | 'toVersion'>;

const UNDETERMINED: Decision = { reason: 'Undetermined' };

function decideSoftware(item: SoftwareSessionItem, detected: DetectedItem): Decision {
  if (item.origin === 'Unassigned') return { reason: 'NotAssigned' };
  if (item.conflict) return { reason: 'DependencyConflict' };
  if (item.desiredState === 'Ignored') return { reason: 'Ignored' };
  if (detected.state !== 'Present' && detected.state !== 'Absent') return UNDETERMINED;

  if (item.desiredState === 'NotPresent') {
    return detected.state === 'Present'
      ? { action: 'Uninstall', reason: item.origin === 'Prerequisite' ? 'ConflictingSoftware' : 'SoftwareDetected' }
      : { reason: 'SoftwareAbsent' };
  }
  if (detected.state === 'Absent') {
    if (item.desiredState === 'UpdateIfFound') return { reason: 'NotInstalledUpdateIfFound' };
    return { action: 'Install', reason: item.origin === 'Prerequisite' ? 'PrerequisiteMissing' : 'SoftwareMissing', toVersion: item.targetVersion };
  }

  const installed = detected.version;
  let decision: Decision;
  switch (item.desiredState) {
    case 'AnyVersion':
      decision = { reason: 'AnyVersionInstalled' };
      break;
    case 'NewerOrEqualVersion': {
      const order = compareVersions(installed, item.requiredVersion ?? item.targetVersion);
      if (order === undefined) return UNDETERMINED;
      decision = order < 0 ? { action: 'Update', reason: 'UpdateAvailable', toVersion: item.targetVersion } : { reason: 'UpToDate' };
      break;
    }
    case 'ThisVersion': {
      const order = compareVersions(installed, item.targetVersion);
      if (order === undefined) return UNDETERMINED;
      decision =
        order < 0
          ? { action: 'Update', reason: 'UpdateAvailable', toVersion: item.targetVersion }
          : order > 0
            ? { action: 'Downgrade', reason: 'OlderVersionRequired', toVersion: item.targetVersion }
            : { reason: 'UpToDate' };
      break;
    }
    case 'LatestVersion':
    case 'UpdateIfFound': {
      const order = compareVersions(installed, item.targetVersion);
      if (order === undefined) return UNDETERMINED;
      decision =
        order < 0
          ? { action: 'Update', reason: 'UpdateAvailable', toVersion: item.targetVersion }
          : { reason: order === 0 ? 'UpToDate' : 'NewerVersionInstalled' };
      break;
    }
  }
  // the right version, but its health check fails: repair it
  if (decision.action === undefined && item.hasTest && detected.test === 'Failed') {
    return { action: 'Reinstall', reason: 'TestFailed', toVersion: item.desiredState === 'ThisVersion' || item.desiredState === 'LatestVersion' ? item.targetVersion : installed };
  }
  return decision;
}

function decideTask(item: TaskSessionItem, detected: DetectedItem): Decision {
  if (item.origin === 'Unassigned') return { reason: 'NotAssigned' };
  if (item.mode === 'Ignore') return { reason: 'Ignored' };
  // an audit reads the task's current state whatever the test said
  if (item.mode === 'Audit') return { action: 'TaskAudit', reason: 'AuditRequested' };
  if (detected.state === 'Compliant') return { reason: 'TaskCompliant' };
  if (detected.state !== 'NotCompliant') return UNDETERMINED;
  return item.mode === 'Enforce' ? { action: 'TaskEnforce', reason: 'TaskNotCompliant' } : { action: 'TaskMonitor', reason: 'TaskNotCompliant' };
}

/** One item's decision, without regard to the others (verification uses it too). */
export function decide(item: SessionItem, detected: DetectedItem): Decision {
  return item.kind === 'Software' ? decideSoftware(item, detected) : decideTask(item, detected);
}

const NOT_DETECTED: DetectedItem = { state: 'Undetermined', reason: 'missing from the detection output' };

/** Actions after which the software is on the computer. */
const LEAVES_INSTALLED = new Set<ActionType | undefined>(['Install', 'Update', 'Downgrade', 'Reinstall']);

/**
 * The plan for one computer: a decision per item, in execution order.
 * Prerequisites come before the items that need them (recursively),
 * ordering hints are honoured within that, and a prerequisite that no
 * dependent will end up needing is left alone.
 */
export function plan(items: readonly SessionItem[], detected: Readonly<Record<string, DetectedItem>>): PlanDecision[] {
  const decisions = new Map<ItemKey, PlanDecision>();
  for (const item of items) {
    const state = detected[item.key] ?? (item.origin === 'Unassigned' ? { state: 'Absent' as const } : NOT_DETECTED);
    const decision = decide(item, state);
    const fromVersion = state.state === 'Present' ? state.version : undefined;
    decisions.set(item.key, {
      key: item.key,
      item,
      detected: state,
      ...decision,
      ...(fromVersion === undefined || decision.action === undefined ? {} : { fromVersion }),
      dependsOn: [],
    });
  }
  dropUnneededPrerequisites(decisions);

  // edges: a dependency is handled before the item that names it (the ordering ignores one outside the plan)
  const edges: [ItemKey, ItemKey][] = [];
  for (const item of items) {
    if (item.kind !== 'Software') continue;
    for (const dependency of item.dependencies) edges.push([dependency.key, item.key]);
  }
  const order = orderByDependencies(
    items.map((item) => ({ key: item.key, name: item.itemName, hint: item.orderingHint })),
    edges,
  );
  const prerequisitesOf = new Map<ItemKey, ItemKey[]>();
  for (const [from, to] of edges) {
    if (decisions.get(from)?.action === undefined) continue;
    const list = prerequisitesOf.get(to);
    if (list) list.push(from);
    else prerequisitesOf.set(to, [from]);
  }
  return order.map((key) => {
    const decision = decisions.get(key);
    if (!decision) throw new Error(`unreachable: no decision for ${key}`);
    const dependsOn = prerequisitesOf.get(key);
    return dependsOn ? { ...decision, dependsOn } : decision;
  });
}

/**
 * A prerequisite nobody will end up with installed is not worth installing.
 * Iterates for chains: dropping one may leave its own prerequisites unneeded.
 * Only installs of prerequisites go (`PrerequisiteMissing`); removing software
 * in the way is kept, and what a deployment names is never dropped.
 */
function dropUnneededPrerequisites(decisions: Map<ItemKey, PlanDecision>): void {
  // installed after the plan: put there by an action, or present and left as it is
  const endsInstalled = (decision: PlanDecision): boolean =>
    LEAVES_INSTALLED.has(decision.action) || (decision.action === undefined && decision.detected.state === 'Present');
  for (let changed = true; changed; ) {
    changed = false;
    for (const decision of decisions.values()) {
      if (decision.reason !== 'PrerequisiteMissing') continue;
      const neededBy = (decision.item.explanation.requiredBy ?? []).some((key) => {
        const dependent = decisions.get(key);
        return dependent !== undefined && endsInstalled(dependent);
      });
      if (!neededBy) {
        decisions.set(decision.key, { ...decision, action: undefined, reason: 'PrerequisiteNotNeeded', toVersion: undefined });
        changed = true;
      }
    }
  }
}

/** Verification's rule: the item is now where its deployment wants it. */
export function isCompliant(item: SessionItem, detected: DetectedItem): boolean {
  // none of these reasons comes with an action
  return COMPLIANT_REASONS.has(decide(item, detected).reason);
}

const COMPLIANT_REASONS = new Set<PlanReason>([
  'UpToDate',
  'NewerVersionInstalled',
  'AnyVersionInstalled',
  'NotInstalledUpdateIfFound',
  'SoftwareAbsent',
  'TaskCompliant',
]);

