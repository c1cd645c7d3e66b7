import { infiniteQueryOptions, keepPreviousData, queryOptions } from '@tanstack/react-query';
import { api, data } from '../api/client.js';
import { asCore } from '../runs/types.js';
import { ownerKey, type Branding, type OwnerChoice, type PreviewBody } from './fields.js';

/** What the Branding page reads: an owner's brandings, the tenants page by page, and the preview of a draft. */

export const brandingsKey = (owner: OwnerChoice) => ['branding', 'list', ownerKey(owner)] as const;

export const brandingsQuery = (owner: OwnerChoice) =>
  queryOptions({
    queryKey: brandingsKey(owner),
    queryFn: async (): Promise<Branding[]> => {
      const { items } = owner.kind === 'Msp' ? await data(api.GET('/v1/branding')) : await data(api.GET('/v1/tenants/{tenantId}/branding', { params: { path: { tenantId: owner.tenantId } } }));
      // the document declares a stored branding as an opaque object: it is the core's Branding
      return asCore<Branding[]>(items);
    },
    // the editor keeps the version it was opened at; a change meanwhile is the save's 409 to tell
    refetchOnWindowFocus: false,
  });

const TENANTS_PER_PAGE = 100;

/** The tenants the operator sees, a page at a time through the API's cursors. */
export const tenantPagesQuery = infiniteQueryOptions({
  queryKey: ['tenants', 'pages', TENANTS_PER_PAGE],
  queryFn: ({ pageParam }) => data(api.GET('/v1/tenants', { params: { query: { limit: TENANTS_PER_PAGE, ...(pageParam === undefined ? {} : { cursor: pageParam }) } } })),
  initialPageParam: undefined as string | undefined,
  getNextPageParam: (page) => page.nextCursor,
  staleTime: 5 * 60_000,
});

/** The email drawn with the draft: the previous one stays on screen while the next is drawn. */
export const previewQuery = (body: PreviewBody) =>
  queryOptions({
    queryKey: ['branding', 'preview', body],
    queryFn: () => data(api.POST('/v1/branding/preview', { body })),
    placeholderData: keepPreviousData,
    staleTime: 60_000,
    refetchOnWindowFocus: false,
  });
