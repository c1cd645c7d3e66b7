import { keepPreviousData, queryOptions } from '@tanstack/react-query';
import { api, data } from '../api/client.js';
import { asCore, type ScheduleRun, type SchedulePreview } from '../runs/types.js';

export const SCHEDULES_PER_PAGE = 50;
const PREVIEW_FIRES = 5;

export const scheduleListQuery = (cursor: string | undefined) =>
  queryOptions({
    queryKey: ['schedules', 'list', cursor ?? ''],
    queryFn: () => data(api.GET('/v1/schedules', { params: { query: { limit: SCHEDULES_PER_PAGE, ...(cursor === undefined ? {} : { cursor }) } } })),
    placeholderData: keepPreviousData,
  });

export const scheduleQuery = (scheduleId: string) =>
  queryOptions({
    queryKey: ['schedules', 'one', scheduleId],
    queryFn: () => data(api.GET('/v1/schedules/{scheduleId}', { params: { path: { scheduleId } } })),
  });

export const scheduleRunsQuery = (scheduleId: string) =>
  queryOptions({
    queryKey: ['schedules', 'runs', scheduleId],
    queryFn: async () => asCore<{ items: readonly ScheduleRun[] }>(await data(api.GET('/v1/schedules/{scheduleId}/runs', { params: { path: { scheduleId }, query: { limit: 10 } } }))),
    refetchInterval: 5_000,
  });

export const schedulePreviewQuery = (scheduleId: string) =>
  queryOptions({
    queryKey: ['schedules', 'preview', scheduleId],
    queryFn: async () => asCore<SchedulePreview>(await data(api.GET('/v1/schedules/{scheduleId}/preview', { params: { path: { scheduleId }, query: { fires: PREVIEW_FIRES } } }))),
  });
