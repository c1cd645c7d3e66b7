import type { Computer, ItemKey, Tenant } from '../model/catalog.js';
import type { ScheduleInput } from '../model/schedule.js';
import type { SkipReason } from '../model/schedule-run.js';
import type { SessionOptions } from '../model/session.js';
import { resolveComputer, type Catalog, type DeploymentIndex } from '../planning/resolution.js';
import type { WindowSpec } from '../model/schedule-run.js';
import { windowSpec } from './windows.js';

type TargetingFields = Pick<ScheduleInput, 'tenantId' | 'includeChildTenants' | 'target' | 'deviceClasses'>;

/** The tenants a schedule reaches: its tenant (and descendants when asked), or every tenant that takes cross-tenant work. */
export function tenantsInScope(schedule: Pick<ScheduleInput, 'tenantId' | 'includeChildTenants'>, tenants: ReadonlyMap<string, Tenant>): Set<string> {
  if (schedule.tenantId === undefined) {
    return new Set([...tenants.values()].filter((tenant) => !tenant.excludeFromCrossTenant).map((tenant) => tenant.id));
  }
  const scope = new Set([schedule.tenantId]);
  if (!schedule.includeChildTenants) return scope;
  // breadth-first over parent links, each tenant once (a cycle in parent links cannot loop)
  for (let grew = true; grew; ) {
    grew = false;
    for (const tenant of tenants.values()) {
      if (tenant.parentTenantId !== undefined && scope.has(tenant.parentTenantId) && !scope.has(tenant.id)) {
        scope.add(tenant.id);
        grew = true;
      }
    }
  }
  return scope;
}

export interface Targeting {
  /** The computers the schedule reaches, by id. */
  readonly computers: Computer[];
  /** Computers the schedule names that do not exist or lie outside its tenant scope. */
  readonly unknownComputerIds: string[];
}

/** Which computers a schedule targets: tenant scope, then its target, then its device classes. */
export function selectTargets(schedule: TargetingFields, computers: readonly Computer[], tenants: ReadonlyMap<string, Tenant>): Targeting {
  const scope = tenantsInScope(schedule, tenants);
  const inScope = computers.filter((computer) => scope.has(computer.tenantId));
  const classes = new Set(schedule.deviceClasses);
  const ofClass = (computer: Computer): boolean => classes.size === 0 || classes.has(computer.deviceClass);
  const target = schedule.target;
  if (target.kind === 'Computers') {
    const byId = new Map(inScope.map((computer) => [computer.id, computer]));
    return {
      computers: target.computerIds.flatMap((id) => byId.get(id) ?? []).filter(ofClass),
      unknownComputerIds: target.computerIds.filter((id) => !byId.has(id)),
    };
  }
  const tag = target.kind === 'Tag' ? target.tag.toLowerCase() : undefined;
  const tagged = (computer: Computer): boolean => tag === undefined || computer.tags.some((t) => t.toLowerCase() === tag);
  return { computers: inScope.filter((computer) => tagged(computer) && ofClass(computer)).sort((a, b) => a.id.localeCompare(b.id)), unknownComputerIds: [] };
}

export type TargetDecision =
  | { readonly start: true; readonly window?: WindowSpec }
  | { readonly start: false; readonly skipped: SkipReason; readonly detail: string };

/**
 * What a fire does with one targeted computer, before any session exists:
 * skip it with a reason the run shows, or start its session with the window
 * this computer gets. (An active session is found only when the start tries.)
 */
export function decideTarget(
  schedule: ScheduleInput,
  computer: Computer,
  context: { readonly catalog: Catalog; readonly index: DeploymentIndex; readonly scheduleZone: string },
): TargetDecision {
  const tenant = context.catalog.tenants.get(computer.tenantId);
  if (tenant?.enabled === false) return { start: false, skipped: 'TenantDisabled', detail: `tenant ${tenant.name} is disabled` };
  if (!computer.online && schedule.offline.behaviour === 'Skip') {
    return { start: false, skipped: 'Offline', detail: `${computer.name} is offline, and this schedule skips offline computers` };
  }
  const { items } = resolveComputer(computer, context.index, context.catalog);
  const deployed = items.filter((item) => item.origin === 'Deployed');
  const relevant = schedule.limitTo === undefined ? deployed : deployed.filter((item) => item.key === schedule.limitTo);
  if (relevant.length === 0) {
    return {
      start: false,
      skipped: 'NoApplicableDeployments',
      detail: schedule.limitTo === undefined ? `nothing is deployed to ${computer.name}` : `${schedule.limitTo} is not deployed to ${computer.name}`,
    };
  }
  const window = windowSpec(schedule, computer, context.scheduleZone);
  return window ? { start: true, window } : { start: true };
}

/** The session options a schedule gives each of its sessions. */
export function sessionOptionsFor(schedule: ScheduleInput, executeAt: Date | undefined): SessionOptions {
  const reboot = schedule.reboot.preference;
  return {
    mode: schedule.detectionOnly ? 'DetectionOnly' : 'Full',
    ...(executeAt ? { executeAt: executeAt.toISOString() } : {}),
    // the engine cannot prompt yet: a prompt ends as its timeout action would
    reboot: reboot === 'Suppress' || (reboot === 'Prompt' && schedule.reboot.timeoutAction === 'Suppress') ? 'Suppress' : reboot === 'Force' ? 'Force' : 'IfNecessary',
    offline: schedule.offline.behaviour,
    ...(schedule.offline.behaviour === 'ApplyOnConnect' ? { offlineWaitSeconds: schedule.offline.waitHours * 3_600 } : {}),
    postpone: {
      delayMinutes: schedule.postpone.delayMinutes,
      maxCount: schedule.postpone.maxCount,
      maxDelayMinutes: schedule.postpone.maxDelayHours * 60,
    },
    notify: { ...schedule.email },
    ...(schedule.limitTo === undefined ? {} : { limitTo: schedule.limitTo satisfies ItemKey }),
  };
}
