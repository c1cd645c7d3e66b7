import { keepPreviousData, queryOptions } from '@tanstack/react-query';
import { api, data } from '../api/client.js';
import { asCore, type RunTargetPage, type ScheduleRunWithCost } from './types.js';

export const TARGETS_PER_PAGE = 50;
/** A run under way changes by the second; one that ended does not. */
const RUN_POLL_MS = 2_000;

export const isRunFinal = (status: ScheduleRunWithCost['status']): boolean => status === 'Completed' || status === 'Cancelled';

export const runQuery = (runId: string) =>
  queryOptions({
    queryKey: ['runs', runId],
    queryFn: async () => asCore<ScheduleRunWithCost>(await data(api.GET('/v1/runs/{runId}', { params: { path: { runId } } }))),
    refetchInterval: (query) => (query.state.data !== undefined && isRunFinal(query.state.data.status) ? false : RUN_POLL_MS),
  });

export const runTargetsQuery = (runId: string, cursor: string | undefined, live: boolean) =>
  queryOptions({
    queryKey: ['runs', runId, 'targets', cursor ?? ''],
    queryFn: async () => {
      const query = { limit: TARGETS_PER_PAGE, ...(cursor === undefined ? {} : { cursor }) };
      return asCore<RunTargetPage>(await data(api.GET('/v1/runs/{runId}/targets', { params: { path: { runId }, query } })));
    },
    placeholderData: keepPreviousData,
    refetchInterval: live ? RUN_POLL_MS : false,
  });
