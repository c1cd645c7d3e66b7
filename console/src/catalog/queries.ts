import { keepPreviousData, queryOptions } from '@tanstack/react-query';
import { api, data } from '../api/client.js';

/** The catalog and deployments through the API, a page at a time (its cursors) or one by id. */

export const CATALOG_PER_PAGE = 50;
/** What the item pickers offer: the catalog's first page at the API's largest page size; any other id can still be typed. */
const PICKER_LIMIT = 200;

const paging = (cursor: string | undefined) => ({ limit: CATALOG_PER_PAGE, ...(cursor === undefined ? {} : { cursor }) });

export const softwareListQuery = (cursor: string | undefined) =>
  queryOptions({
    queryKey: ['software', 'list', cursor ?? ''],
    queryFn: () => data(api.GET('/v1/software', { params: { query: paging(cursor) } })),
    placeholderData: keepPreviousData,
  });

export const softwareQuery = (softwareId: string) =>
  queryOptions({
    queryKey: ['software', 'one', softwareId],
    queryFn: () => data(api.GET('/v1/software/{softwareId}', { params: { path: { softwareId } } })),
  });

export const softwarePickerQuery = queryOptions({
  queryKey: ['software', 'picker'],
  queryFn: () => data(api.GET('/v1/software', { params: { query: { limit: PICKER_LIMIT } } })),
  staleTime: 60_000,
});

export const taskListQuery = (cursor: string | undefined) =>
  queryOptions({
    queryKey: ['tasks', 'list', cursor ?? ''],
    queryFn: () => data(api.GET('/v1/tasks', { params: { query: paging(cursor) } })),
    placeholderData: keepPreviousData,
  });

export const taskQuery = (taskId: string) =>
  queryOptions({
    queryKey: ['tasks', 'one', taskId],
    queryFn: () => data(api.GET('/v1/tasks/{taskId}', { params: { path: { taskId } } })),
  });

export const taskPickerQuery = queryOptions({
  queryKey: ['tasks', 'picker'],
  queryFn: () => data(api.GET('/v1/tasks', { params: { query: { limit: PICKER_LIMIT } } })),
  staleTime: 60_000,
});

export const deploymentListQuery = (cursor: string | undefined) =>
  queryOptions({
    queryKey: ['deployments', 'list', cursor ?? ''],
    queryFn: () => data(api.GET('/v1/deployments', { params: { query: paging(cursor) } })),
    placeholderData: keepPreviousData,
  });

export const deploymentQuery = (deploymentId: string) =>
  queryOptions({
    queryKey: ['deployments', 'one', deploymentId],
    queryFn: () => data(api.GET('/v1/deployments/{deploymentId}', { params: { path: { deploymentId } } })),
  });
