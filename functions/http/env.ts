import type { Dependencies } from '../core/use-cases/dependencies.js';
import type { Principal } from '../core/access/principal.js';
import type { PricingOptions } from '../core/model/usage.js';
import type { RequestAccess } from './access.js';

/**
 * What a request carries through the app. `event` is set by
 * `hono/aws-lambda` (the API Gateway event, with the authorizer's claims);
 * the local server and in-process tests set nothing there.
 */
export interface ApiBindings {
  readonly event?: unknown;
}

export interface ApiVariables {
  principal: Principal;
  /** The role and tenant checks of this request, with the tenant tree read once when a check needs it. */
  access: RequestAccess;
  deps: Dependencies;
  /** The list prices costs are shown at (the deployment's Region by default). */
  pricing: PricingOptions;
}

export interface ApiEnv {
  Bindings: ApiBindings;
  Variables: ApiVariables;
}
