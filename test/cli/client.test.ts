import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../cli/client.js';
import { ApiRefusal, ApiUnreachable } from '../../cli/errors.js';

/**
 * The CLI's client against a tiny local HTTP server standing in for the API
 * (or for what stands in front of it): real fetch, real sockets, so each
 * failure arrives the way it would from a real network.
 */

const servers: Server[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
}

/** A port nothing listens on: one the system handed out and that was closed again. */
async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${String(port)}`;
}

/** What a call threw, checked to be of this kind (the test fails if it answered, or threw something else). */
async function failureOf<E extends Error>(kind: abstract new (...args: never[]) => E, pending: Promise<unknown>): Promise<E> {
  try {
    await pending;
  } catch (error) {
    if (error instanceof kind) return error;
    throw error;
  }
  throw new Error(`the call answered; a ${kind.name} was expected`);
}

describe('the API client', () => {
  it('answers the success body, sending the bearer token and typed query values as the document spells them', async () => {
    let seen: { url?: string; authorization?: string } = {};
    const apiUrl = await serve((request, response) => {
      seen = { url: request.url, authorization: request.headers.authorization };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items: [], counts: {} }));
    });
    const { client, call } = connect({ apiUrl, token: 'tok-123' });
    const page = await call(client.GET('/v1/sessions', { params: { query: { limit: 5, status: 'Failed' } } }));
    expect(page).toEqual({ items: [], counts: {} });
    expect(seen).toEqual({ url: '/v1/sessions?limit=5&status=Failed', authorization: 'Bearer tok-123' });
  });

  it("turns the API's error envelope into an ApiRefusal with its status, code, message and field", async () => {
    const apiUrl = await serve((_request, response) => {
      response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'VALIDATION_FAILED', message: 'too big', field: 'query.limit' } }));
    });
    const { client, call } = connect({ apiUrl });
    const error = await failureOf(ApiRefusal, call(client.GET('/v1/sessions', { params: { query: { limit: 500 } } })));
    expect(error).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', message: 'too big', field: 'query.limit' });
  });

  it("says a proxy's HTML 502 is not an answer from the Nightshift API, naming the URL", async () => {
    const apiUrl = await serve((_request, response) => {
      response.writeHead(502, 'Bad Gateway', { 'content-type': 'text/html' }).end('<html><body><h1>502 Bad Gateway</h1></body></html>');
    });
    const { client, call } = connect({ apiUrl });
    const error = await failureOf(ApiRefusal, call(client.GET('/v1/me')));
    expect(error).toMatchObject({ status: 502, code: 'HTTP_502', field: undefined, message: `502 Bad Gateway (not an answer from the Nightshift API; is ${apiUrl} its URL?)` });
  });

  it('says a web page answering 200 (a console, a captive portal) is not an answer from the Nightshift API', async () => {
    const apiUrl = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>Nightshift</title>');
    });
    const { client, call } = connect({ apiUrl });
    const error = await failureOf(ApiRefusal, call(client.GET('/v1/me')));
    expect(error).toMatchObject({ status: 200, code: 'HTTP_200' });
    expect(error.message).toContain('not an answer from the Nightshift API');
  });

  it('turns a refused connection into ApiUnreachable naming ECONNREFUSED', async () => {
    const apiUrl = await closedPort();
    const { client, call } = connect({ apiUrl });
    const error = await failureOf(ApiUnreachable, call(client.GET('/v1/me')));
    expect(error.url).toBe(apiUrl);
    expect(error.reason).toMatch(/^ECONNREFUSED \(/);
  });

  it('gives up on an API that never answers after the deadline, as ApiUnreachable', async () => {
    // the request is held open and never answered; afterEach drops the connection
    const apiUrl = await serve(() => undefined);
    const { client, call } = connect({ apiUrl }, fetch, { timeoutMs: 50 });
    const error = await failureOf(ApiUnreachable, call(client.GET('/v1/me')));
    expect(error).toMatchObject({ url: apiUrl, reason: 'no answer within 0.05 s' });
  });
});
