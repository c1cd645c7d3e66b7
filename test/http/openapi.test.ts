import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiHarness, type ApiHarness } from './support.js';

let api: ApiHarness;
beforeAll(async () => {
  api = await apiHarness();
});
afterAll(async () => {
  await api.close();
});

interface Operation {
  readonly operationId?: string;
  readonly parameters?: readonly { readonly name: string; readonly in: string; readonly required?: boolean; readonly schema?: unknown }[];
  readonly requestBody?: { readonly content: Record<string, { schema: unknown }> };
  readonly responses: Record<string, { readonly description: string; readonly content?: Record<string, { schema: unknown }> }>;
  readonly security?: readonly Record<string, readonly string[]>[];
}

interface Document {
  readonly openapi: string;
  readonly info: { readonly title: string; readonly version: string };
  readonly paths: Record<string, Record<string, Operation>>;
  readonly components: { readonly schemas: Record<string, unknown>; readonly securitySchemes: Record<string, { type: string; scheme?: string }> };
  readonly security: readonly Record<string, readonly string[]>[];
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

async function fetchDocument(): Promise<Document> {
  const response = await api.app.request('/openapi.json');
  expect(response.status).toBe(200);
  return (await response.json()) as Document;
}

/** Every `$ref` in the document, wherever it sits. */
function refsOf(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) refsOf(item, found);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string') found.push(child);
      else refsOf(child, found);
    }
  }
  return found;
}

describe('GET /openapi.json: the document generated from the routes’ zod schemas', () => {
  it('is an OpenAPI 3.1 document with bearer security, and every $ref resolves (proves it is usable by generators)', async () => {
    const document = await fetchDocument();
    expect(document.openapi).toBe('3.1.0');
    expect(document.info.title).toBeTruthy();
    expect(document.components.securitySchemes.bearerAuth).toEqual({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    expect(document.security).toEqual([{ bearerAuth: [] }]);
    for (const ref of refsOf(document)) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(document.components.schemas, ref).toHaveProperty(ref.replace('#/components/schemas/', ''));
    }
  });

  it('describes every operation fully: path parameters declared, responses with descriptions, JSON bodies with schemas, the error envelope on refusals (proves structure)', async () => {
    const document = await fetchDocument();
    for (const [path, operations] of Object.entries(document.paths)) {
      if (path.startsWith('/l/')) {
        // the end user's link pages answer HTML, refusals included, and need no token
        for (const [method, operation] of Object.entries(operations)) {
          expect(operation.security, `${method} ${path}`).toEqual([]);
          for (const [status, response] of Object.entries(operation.responses)) expect(response.content?.['text/html'], `${method} ${path} ${status}`).toBeDefined();
        }
        continue;
      }
      const placeholders = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);
      for (const [method, operation] of Object.entries(operations)) {
        expect(METHODS, `${method} ${path}`).toContain(method);
        const pathParameters = (operation.parameters ?? []).filter((parameter) => parameter.in === 'path');
        expect(pathParameters.map((parameter) => parameter.name).sort(), `${method} ${path}`).toEqual([...placeholders].sort());
        for (const parameter of pathParameters) expect(parameter.required, `${method} ${path} ${parameter.name}`).toBe(true);
        for (const parameter of operation.parameters ?? []) expect(['path', 'query', 'header'], `${method} ${path}`).toContain(parameter.in);
        const statuses = Object.keys(operation.responses);
        expect(statuses.some((status) => status.startsWith('2')), `${method} ${path}`).toBe(true);
        for (const [status, response] of Object.entries(operation.responses)) {
          expect(response.description, `${method} ${path} ${status}`).toBeTruthy();
          if (status.startsWith('4')) expect(response.content?.['application/json']?.schema, `${method} ${path} ${status}`).toEqual({ $ref: '#/components/schemas/Error' });
        }
        if (operation.requestBody) expect(operation.requestBody.content['application/json']?.schema, `${method} ${path}`).toBeDefined();
        if (path !== '/healthz') expect(statuses, `${method} ${path}`).toContain('401');
      }
    }
    expect(document.paths['/healthz']?.get?.security).toEqual([]);
  });

  it('lists exactly the routes the app serves (proves no route is undocumented and no document entry is a ghost)', async () => {
    const document = await fetchDocument();
    const documented = Object.entries(document.paths)
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    const served = [
      ...new Set(
        api.app.routes
          .filter((route) => route.method !== 'ALL' && route.path !== '/openapi.json')
          .map((route) => `${route.method} ${route.path.replace(/:([A-Za-z]+)/g, '{$1}')}`),
      ),
    ].sort();
    expect(documented).toEqual(served);
    // the contract's routes, so a route that disappears from both is noticed too
    for (const route of [
      'GET /v1/me',
      'GET /v1/sessions',
      'POST /v1/sessions',
      'GET /v1/sessions/{sessionId}',
      'GET /v1/sessions/{sessionId}/log',
      'POST /v1/sessions/{sessionId}/actions/{actionId}/rerun',
      'POST /v1/schedules/preview',
      'DELETE /v1/schedules/{scheduleId}',
      'POST /v1/runs/{runId}/promote',
      'GET /v1/computers/{computerId}/explain',
      'PUT /v1/deployments/{deploymentId}',
      'GET /v1/audit',
      'GET /healthz',
    ]) {
      expect(documented).toContain(route);
    }
  });
});
