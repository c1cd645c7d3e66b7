import type { Tenant } from '../model/catalog.js';
import type { Requester } from '../model/session.js';
import type { Principal, Role } from './principal.js';

/**
 * What a role may do, and which tenants a principal may see: pure rules the
 * API checks before it calls a use case.
 *
 * - `read`: look at anything in the principal's tenants.
 * - `operate`: change computers, deployments, tenants, schedules, runs and
 *   sessions (start, run now, postpone, cancel, rerun); send a branding's
 *   test email (it reaches a real inbox, so a read-only role may not).
 * - `editCatalog`: change software and maintenance tasks, whose scripts run
 *   on every tenant's computers.
 * - `readCatalog`: read software and tasks (their scripts and detection rules
 *   are the MSP's, not a tenant's).
 * - `editBranding`: change what the emails and pages look like (the MSP's and
 *   every tenant's branding). Reading and previewing branding is `read`.
 */
export type Capability = 'read' | 'operate' | 'readCatalog' | 'editCatalog' | 'editBranding';

const GRANTS: Readonly<Record<Role, readonly Capability[]>> = {
  Admin: ['read', 'operate', 'readCatalog', 'editCatalog', 'editBranding'],
  Technician: ['read', 'operate', 'readCatalog'],
  Viewer: ['read'],
};

export const mayDo = (role: Role, capability: Capability): boolean => GRANTS[role].includes(capability);

/** The tenants a principal sees: every one, or a fixed set (a Viewer's tenant and its descendants). */
export type TenantScope = { readonly all: true } | { readonly all: false; readonly tenantIds: ReadonlySet<string> };

/** Admins and technicians work across tenants; only a Viewer is held to a tenant tree. */
export const seesEveryTenant = (principal: Principal): boolean => principal.role !== 'Viewer';

/**
 * A Viewer's tenant and every tenant below it (through `parentTenantId`).
 * The tree is walked from the top down, so a loop in stored parents (which
 * save-catalog refuses, but data outlives rules) cannot hold the walk.
 */
export function tenantScope(principal: Principal, tenants: readonly Pick<Tenant, 'id' | 'parentTenantId'>[]): TenantScope {
  if (seesEveryTenant(principal)) return { all: true };
  const own = principal.tenantId;
  if (own === undefined) return { all: false, tenantIds: new Set() };
  const children = new Map<string, string[]>();
  for (const tenant of tenants) {
    if (tenant.parentTenantId === undefined) continue;
    children.set(tenant.parentTenantId, [...(children.get(tenant.parentTenantId) ?? []), tenant.id]);
  }
  const visible = new Set<string>([own]);
  const pending = [own];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    for (const child of children.get(next) ?? []) {
      if (visible.has(child)) continue;
      visible.add(child);
      pending.push(child);
    }
  }
  return { all: false, tenantIds: visible };
}

/**
 * Whether something of `tenantId` is visible. `undefined` is a resource that
 * spans every tenant (a cross-tenant schedule or deployment): the MSP's, so
 * only a principal who sees every tenant sees it.
 */
export const inScope = (scope: TenantScope, tenantId: string | undefined): boolean =>
  scope.all || (tenantId !== undefined && scope.tenantIds.has(tenantId));

/** The tenants a list is limited to: `undefined` for all of them. */
export const scopeTenantIds = (scope: TenantScope): readonly string[] | undefined => (scope.all ? undefined : [...scope.tenantIds].sort());

/** Who a change is recorded as made by: always the token's person, never anything the request body says. */
export const requesterOf = (principal: Principal): Requester => ({ kind: 'Operator', name: principal.name });
