import { keepPreviousData, queryOptions } from '@tanstack/react-query';
import { api, data } from '../api/client.js';
import type { paths } from '../api/schema.js';
import type { Schemas } from '../api/types.js';

type Tenant = Schemas['Tenant'];

/** What a session list asks the API for: filters, the range they were snapshotted over, and the page. */
export type SessionListQuery = NonNullable<paths['/v1/sessions']['get']['parameters']['query']>;

export const sessionListQuery = (query: SessionListQuery, live: boolean) =>
  queryOptions({
    queryKey: ['sessions', 'list', query],
    queryFn: () => data(api.GET('/v1/sessions', { params: { query } })),
    placeholderData: keepPreviousData,
    // the first page follows the night; later pages are where the operator left them
    refetchInterval: live ? 10_000 : false,
  });

export const sessionReportQuery = (sessionId: string) =>
  queryOptions({
    queryKey: ['sessions', 'report', sessionId],
    queryFn: () => data(api.GET('/v1/sessions/{sessionId}', { params: { path: { sessionId } } })),
  });

/** The API's largest page of tenants. */
const TENANTS_PER_READ = 200;

/**
 * Every tenant the operator sees, for the filters' and forms' tenant
 * choices and for naming tenants in tables: read page after page through
 * the API's cursors, since a choice that stopped at the first page would
 * leave an MSP with more tenants unable to pick the rest. Tenants are an
 * MSP's customers (hundreds), not its sessions: reading them all is bounded.
 */
export const tenantsQuery = queryOptions({
  queryKey: ['tenants'],
  queryFn: async () => {
    const items: Tenant[] = [];
    let cursor: string | undefined;
    do {
      const page = await data(api.GET('/v1/tenants', { params: { query: { limit: TENANTS_PER_READ, ...(cursor === undefined ? {} : { cursor }) } } }));
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return { items };
  },
  staleTime: 5 * 60_000,
});
