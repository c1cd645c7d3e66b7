import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema.js';
import type { Schemas } from './types.js';
import { tokenStore } from '../auth/token-store.js';

/**
 * The one way the console talks to the API: openapi-fetch over the types
 * generated from the API's OpenAPI document (npm run console:types), so a
 * route or schema change breaks the console at compile time. Same origin:
 * the local server and CloudFront serve the console and the API together.
 */

/** The API's error envelope, as an Error: `code` is stable, `field` names where the problem is. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

const isEnvelope = (body: unknown): body is Schemas['Error'] =>
  typeof body === 'object' && body !== null && 'error' in body && typeof body.error === 'object' && body.error !== null && 'code' in body.error && 'message' in body.error;

/** The envelope's error, or one in the same words for an answer that is not the API's (a proxy's 502). */
export function apiErrorOf(status: number, body: unknown): ApiError {
  if (isEnvelope(body)) return new ApiError(status, body.error.code, body.error.message, body.error.field);
  return new ApiError(status, status >= 500 ? 'UNAVAILABLE' : 'UNEXPECTED', `the API answered ${status}`);
}

const bearer: Middleware = {
  onRequest({ request }) {
    const token = tokenStore.token();
    if (token !== undefined) request.headers.set('Authorization', `Bearer ${token}`);
    return request;
  },
  onResponse({ response }) {
    // a token that expired or was revoked: back to the sign-in page, whatever was asking
    if (response.status === 401) tokenStore.clear('Your sign-in has expired. Sign in again.');
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: globalThis.location.origin });
api.use(bearer);

/** What a route answered, or its error thrown as an ApiError (TanStack Query's error). */
export async function data<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data: body, error, response } = await call;
  if (error !== undefined || body === undefined) throw apiErrorOf(response.status, error);
  return body;
}
