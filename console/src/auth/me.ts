import { queryOptions, useQuery } from '@tanstack/react-query';
import { mayDo, type Capability } from '../../../functions/core/access/policy.js';
import { api, data } from '../api/client.js';
import type { Principal } from '../api/types.js';

/**
 * Who the token says the operator is (`GET /v1/me`), and what that role may
 * do: the API's own rules (functions/core/access/policy.ts), so the console
 * offers exactly what the API would accept.
 */

export const meQuery = queryOptions({
  queryKey: ['me'],
  queryFn: () => data(api.GET('/v1/me')),
  staleTime: 5 * 60_000,
});

export const useMe = () => useQuery(meQuery);

export const may = (me: Principal | undefined, capability: Capability): boolean => me !== undefined && mayDo(me.role, capability);

/** Whether the signed-in operator may do this; false until `/v1/me` has answered. */
export function useMay(capability: Capability): boolean {
  return may(useMe().data, capability);
}
