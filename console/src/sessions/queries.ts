import { keepPreviousData, queryOptions } from '@tanstack/react-query';
import { api, data } from '../api/client.js';
import type { paths } from '../api/schema.js';

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

export const tenantsQuery = queryOptions({
  queryKey: ['tenants'],
  queryFn: () => data(api.GET('/v1/tenants', { params: { query: { limit: 200 } } })),
  staleTime: 5 * 60_000,
});
