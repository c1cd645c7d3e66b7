import { DetailedError, hc, parseResponse, type ClientResponse } from 'hono/client';
import { z } from 'zod';
import type { ApiApp } from '../functions/http/app.js';
import type { Connection } from './config.js';
import { ApiRefusal, ApiUnreachable } from './errors.js';

/** No answer within this long means the API is not there to answer (API Gateway itself gives up on an integration after 30 s). */
const REQUEST_TIMEOUT_MS = 35_000;

export type ApiClient = ReturnType<typeof hc<ApiApp>>;

export interface Api {
  readonly client: ApiClient;
  readonly connection: Connection;
  /** The success body of one request; the API's refusal or an unreachable API as the CLI's errors. */
  readonly call: <R extends ClientResponse<unknown>>(pending: Promise<R>) => ReturnType<typeof parseResponse<R>>;
}

const envelopeSchema = z.object({ error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }) });

/** The typed client of the API app (hono's `hc`): a route the API changes breaks the CLI at compile time. */
export function connect(connection: Connection, fetchImpl: typeof fetch = fetch): Api {
  const client = hc<ApiApp>(connection.apiUrl, {
    headers: connection.token === undefined ? {} : { authorization: `Bearer ${connection.token}` },
    // each request gets its own deadline; hc gives every request this fetch
    fetch: (input: Parameters<typeof fetch>[0], init?: RequestInit) => fetchImpl(input, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }),
  });
  return {
    client,
    connection,
    call: async (pending) => {
      try {
        return await parseResponse(pending);
      } catch (error) {
        throw asCliError(error, connection.apiUrl);
      }
    },
  };
}

function asCliError(error: unknown, apiUrl: string): unknown {
  if (error instanceof DetailedError) {
    const status = typeof error.statusCode === 'number' ? error.statusCode : 0;
    const detail: unknown = error.detail;
    const data = typeof detail === 'object' && detail !== null && 'data' in detail ? detail.data : undefined;
    const envelope = envelopeSchema.safeParse(data);
    if (envelope.success) return new ApiRefusal(status, envelope.data.error.code, envelope.data.error.message, envelope.data.error.field);
    // something in front of the API (a proxy, a load balancer) answered instead of it
    return new ApiRefusal(status, `HTTP_${String(status)}`, `${error.message} (not an answer from the Nightshift API; is ${apiUrl} its URL?)`);
  }
  if (error instanceof DOMException && error.name === 'TimeoutError') return new ApiUnreachable(apiUrl, `no answer within ${String(REQUEST_TIMEOUT_MS / 1000)} s`);
  // fetch rejects with a TypeError for every network failure; the cause says which (ECONNREFUSED, ENOTFOUND, a TLS problem)
  if (error instanceof TypeError) return new ApiUnreachable(apiUrl, networkReason(error));
  return error;
}

function networkReason(error: TypeError): string {
  const cause: unknown = error.cause;
  if (cause instanceof Error) {
    const code = 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
    return code === undefined ? cause.message : `${code} (${cause.message})`;
  }
  return error.message;
}
