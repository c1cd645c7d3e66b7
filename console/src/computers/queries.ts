import { keepPreviousData, queryOptions } from '@tanstack/react-query';
import type { ComputerExplanation } from '../../../functions/core/use-cases/explain-computer.js';
import { api, data } from '../api/client.js';
import { asCore } from '../runs/types.js';

export const COMPUTERS_PER_PAGE = 50;

export const computerListQuery = (tenantId: string | undefined, cursor: string | undefined) =>
  queryOptions({
    queryKey: ['computers', 'list', tenantId ?? '', cursor ?? ''],
    queryFn: () =>
      data(api.GET('/v1/computers', { params: { query: { limit: COMPUTERS_PER_PAGE, ...(tenantId === undefined ? {} : { tenantId }), ...(cursor === undefined ? {} : { cursor }) } } })),
    placeholderData: keepPreviousData,
  });

export const computerQuery = (computerId: string) =>
  queryOptions({
    queryKey: ['computers', 'one', computerId],
    queryFn: () => data(api.GET('/v1/computers/{computerId}', { params: { path: { computerId } } })),
  });

/** What the computer gets and why, from the catalog as it is now (the document leaves its shape opaque: the core's type). */
export const computerExplanationQuery = (computerId: string) =>
  queryOptions({
    queryKey: ['computers', 'explain', computerId],
    queryFn: async () => asCore<ComputerExplanation>(await data(api.GET('/v1/computers/{computerId}/explain', { params: { path: { computerId } } }))),
  });

export const computerComplianceQuery = (computerId: string) =>
  queryOptions({
    queryKey: ['computers', 'compliance', computerId],
    queryFn: () => data(api.GET('/v1/computers/{computerId}/compliance', { params: { path: { computerId } } })),
  });
