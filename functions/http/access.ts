import type { MiddlewareHandler } from 'hono';
import { NotFoundError } from '../core/errors.js';
import { inScope, mayDo, requesterOf, scopeTenantIds, tenantScope, type Capability, type TenantScope } from '../core/access/policy.js';
import type { Principal } from '../core/access/principal.js';
import type { Requester } from '../core/model/session.js';
import type { Dependencies } from '../core/use-cases/dependencies.js';
import type { ApiEnv } from './env.js';
import { ApiRefusal } from './errors.js';

const WORDS: Readonly<Record<Capability, string>> = {
  read: 'read this',
  operate: 'change anything (the role is read-only)',
  readCatalog: 'read the software and task catalog',
  editCatalog: 'change the software and task catalog',
  editBranding: 'change branding',
};

/**
 * One request's checks. A role that may not do something is told so (403:
 * that is no secret); a resource in a tenant the principal cannot see is
 * answered exactly as one that does not exist (404), so ids cannot be probed.
 * The tenant tree is read once, and only for a principal held to a tenant.
 */
export class RequestAccess {
  #scope: Promise<TenantScope> | undefined;

  constructor(
    readonly principal: Principal,
    private readonly deps: Pick<Dependencies, 'catalog'>,
  ) {}

  /** Who a change made by this request is recorded as made by. */
  get by(): Requester {
    return requesterOf(this.principal);
  }

  require(capability: Capability): void {
    if (!mayDo(this.principal.role, capability)) throw new ApiRefusal('FORBIDDEN', `a ${this.principal.role} may not ${WORDS[capability]}`);
  }

  scope(): Promise<TenantScope> {
    this.#scope ??= this.principal.role === 'Viewer' ? this.deps.catalog.listTenants().then((tenants) => tenantScope(this.principal, tenants)) : Promise.resolve(tenantScope(this.principal, []));
    return this.#scope;
  }

  /** The tenants a list is limited to: `undefined` for all. */
  async tenantIds(): Promise<readonly string[] | undefined> {
    return scopeTenantIds(await this.scope());
  }

  async sees(tenantId: string | undefined): Promise<boolean> {
    return inScope(await this.scope(), tenantId);
  }

  /** A tenant named by a filter or a path: one outside the scope does not exist for this principal. */
  async requireTenant(tenantId: string): Promise<void> {
    if (!(await this.sees(tenantId))) throw new NotFoundError('tenant', tenantId);
  }

  /**
   * Refuses a resource the principal cannot see as not found. `lookup` finds
   * the resource's tenant; it runs only for a principal held to a tenant (an
   * Admin's request reads nothing extra), and `undefined` means it is gone.
   */
  async requireVisible(entity: string, id: string, lookup: () => Promise<{ readonly tenantId?: string | undefined } | undefined>): Promise<void> {
    const scope = await this.scope();
    if (scope.all) return;
    const found = await lookup();
    if (!found || !inScope(scope, found.tenantId)) throw new NotFoundError(entity, id);
  }

  /** The same check for a resource the route has read already. */
  async reveal<T extends { readonly tenantId?: string | undefined }>(entity: string, id: string, found: T | undefined): Promise<T> {
    if (!found || !(await this.sees(found.tenantId))) throw new NotFoundError(entity, id);
    return found;
  }
}

/**
 * A route's role requirement, checked before its input is validated: a role
 * that may not do something is told so whatever it sent (403 for a role
 * limit, never a 400 that would invite it to try again).
 */
export const requires =
  (capability: Capability): MiddlewareHandler<ApiEnv> =>
  async (c, next) => {
    c.var.access.require(capability);
    await next();
  };
