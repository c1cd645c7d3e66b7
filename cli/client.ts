import createClient, { type Client } from 'openapi-fetch';
import { z } from 'zod';
// one generated file types both clients, the console's and this one (npm run console:types regenerates it; test/console/api-types.test.ts catches drift)
import type { paths } from '../console/src/api/schema.js';
import type { Connection } from './config.js';
import { ApiRefusal, ApiUnreachable } from './errors.js';

/** No answer within this long means the API is not there to answer (API Gateway itself gives up on an integration after 30 s). */
const REQUEST_TIMEOUT_MS = 35_000;

export type ApiClient = Client<paths>;

/** What an openapi-fetch request settles to: the body of a success, or what the server answered instead. */
interface Answer<T> {
  readonly data?: T;
  readonly error?: unknown;
  readonly response: Response;
}

export interface Api {
  readonly client: ApiClient;
  readonly connection: Connection;
  /** The success body of one request; the API's refusal or an unreachable API as the CLI's errors. */
  readonly call: <T>(pending: Promise<Answer<T>>) => Promise<T>;
}

export interface ConnectOptions {
  /** @default 35 000 ms */
  readonly timeoutMs?: number;
}

const envelopeSchema = z.object({ error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }) });

const JSON_MEDIA_TYPE = /^application\/(?:[\w!#$%&*.^`~-]*\+)?json\s*(?:;|$)/i;

/**
 * The API's client, openapi-fetch typed by the paths generated from the API's
 * OpenAPI document: a route or schema the API changes breaks the CLI at
 * compile time.
 */
export function connect(connection: Connection, fetchImpl: typeof fetch = fetch, options: ConnectOptions = {}): Api {
  const timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
  const { apiUrl } = connection;
  const client = createClient<paths>({
    baseUrl: apiUrl,
    headers: connection.token === undefined ? {} : { authorization: `Bearer ${connection.token}` },
    // each request gets its own deadline, which also bounds reading the body
    fetch: async (request) => {
      const response = await fetchImpl(request, { signal: AbortSignal.timeout(timeoutMs) });
      // a success that is not JSON (a portal's or a console's HTML page) would fail as a parse error with no status: say what answered
      if (response.ok && response.status !== 204 && !JSON_MEDIA_TYPE.test(response.headers.get('content-type') ?? '')) throw notTheApi(response, apiUrl);
      return response;
    },
  });
  return {
    client,
    connection,
    call: async <T>(pending: Promise<Answer<T>>): Promise<T> => {
      let answer: Answer<T>;
      try {
        answer = await pending;
      } catch (error) {
        throw asCliError(error, apiUrl, timeoutMs);
      }
      const { data, error, response } = answer;
      if (!response.ok) {
        const envelope = envelopeSchema.safeParse(error);
        if (envelope.success) throw new ApiRefusal(response.status, envelope.data.error.code, envelope.data.error.message, envelope.data.error.field);
        throw notTheApi(response, apiUrl);
      }
      // every route the CLI calls answers a body: none is not the API's answer
      if (data === undefined) throw notTheApi(response, apiUrl);
      return data;
    },
  };
}

/** Something in front of the API (a proxy, a load balancer, a web page) answered instead of it. */
function notTheApi(response: Response, apiUrl: string): ApiRefusal {
  const status = response.status;
  return new ApiRefusal(status, `HTTP_${String(status)}`, `${String(status)} ${response.statusText} (not an answer from the Nightshift API; is ${apiUrl} its URL?)`);
}

function asCliError(error: unknown, apiUrl: string, timeoutMs: number): unknown {
  if (error instanceof DOMException && error.name === 'TimeoutError') return new ApiUnreachable(apiUrl, `no answer within ${String(timeoutMs / 1000)} s`);
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
