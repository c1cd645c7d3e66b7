import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { generateKeyPair, SignJWT } from 'jose';
import { openApiDocument } from '../../functions/http/app.js';
import { LOCAL_AUDIENCE, LOCAL_ISSUER } from '../../local/api-server.js';
import { apiHarness, API_FLEET, type ApiHarness } from './support.js';

/**
 * Every route of the OpenAPI document, fuzzed through the real app over a
 * real runtime: bad JSON, wrong types, huge bodies, unknown fields, hostile
 * strings, bad cursors, forged tokens, next to requests shaped after the
 * route's own schema so that a share gets past validation into the use
 * cases. The properties: no answer is a 5xx, every refusal is the envelope,
 * and every VALIDATION_FAILED names the field. `NIGHTSHIFT_FUZZ_RUNS` sets
 * the number of requests: 2,000 in `npm test` (CI on two cores), 10,000 in
 * `npm run bench:fuzz`.
 */

const RUNS = Number(process.env.NIGHTSHIFT_FUZZ_RUNS ?? 2_000);
const HUGE_BODY_BYTES = 300 * 1024;

interface JsonSchema {
  readonly $ref?: string;
  readonly type?: string | readonly string[];
  readonly properties?: Record<string, JsonSchema>;
  readonly required?: readonly string[];
  readonly items?: JsonSchema;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly oneOf?: readonly JsonSchema[];
  readonly anyOf?: readonly JsonSchema[];
  readonly allOf?: readonly JsonSchema[];
  readonly minimum?: number;
  readonly maximum?: number;
}

interface Operation {
  readonly method: string;
  readonly path: string;
  readonly query: readonly { name: string; schema: JsonSchema }[];
  readonly body?: JsonSchema;
}

const HOSTILE_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '__proto__',
  'constructor',
  'toString',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "' OR 1=1 --",
  '${jndi:ldap://example.invalid/a}',
  '../../etc/passwd',
  '%00',
  '%ZZ',
  '\ud800',
  '💥🔥',
  'x'.repeat(10_000),
  '9'.repeat(400),
  '-1',
  '1e309',
  'NaN',
  'null',
  'true',
  '[]',
  '{}',
  'ses_0000',
  'eyJhZnRlciI6InpaeiJ9',
  'eyJhZnRlciI6MX0',
];

const PLAUSIBLE_STRINGS = [
  'acme',
  'acme-east',
  'globex',
  'pc-acme',
  'pc-east',
  'pc-globex',
  'app',
  'tidy',
  'nightly',
  'deploy-app',
  'software:app',
  'task:tidy',
  '001',
  '22:00',
  '03:00',
  'linux',
  'windows',
  'UTC',
  'Europe/Lisbon',
  'i-0123456789abcdef0',
  '2026-12-01T22:00:00Z',
  'someone@example.com',
  'Nightly',
  'Daily',
];

const hostileString = fc.oneof({ arbitrary: fc.constantFrom(...HOSTILE_STRINGS), weight: 3 }, { arbitrary: fc.string({ maxLength: 40 }), weight: 1 }, { arbitrary: fc.string({ unit: 'binary', maxLength: 20 }), weight: 1 });
const anyJson: fc.Arbitrary<unknown> = fc.oneof(hostileString, fc.jsonValue({ maxDepth: 3 }), fc.constant(null), fc.double(), fc.integer(), fc.boolean());

function loadOperations(document: { paths: Record<string, Record<string, { parameters?: { name: string; in: string; schema: JsonSchema }[]; requestBody?: { content: Record<string, { schema: JsonSchema }> } }>> }): Operation[] {
  return Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, operation]) => ({
      method: method.toUpperCase(),
      path,
      query: (operation.parameters ?? []).filter((parameter) => parameter.in === 'query').map((parameter) => ({ name: parameter.name, schema: parameter.schema })),
      ...(operation.requestBody ? { body: operation.requestBody.content['application/json']?.schema } : {}),
    })),
  );
}

/** Values shaped after a JSON Schema, with hostile ones mixed in at every level. */
function shapedBy(schema: JsonSchema | undefined, components: Record<string, JsonSchema>, depth: number): fc.Arbitrary<unknown> {
  if (!schema || depth > 5) return anyJson;
  if (schema.$ref) return shapedBy(components[schema.$ref.replace('#/components/schemas/', '')], components, depth + 1);
  const shaped: fc.Arbitrary<unknown>[] = [];
  if (schema.enum) shaped.push(fc.constantFrom(...schema.enum));
  if (schema.const !== undefined) shaped.push(fc.constant(schema.const));
  for (const choices of [schema.oneOf, schema.anyOf]) if (choices && choices.length > 0) shaped.push(fc.oneof(...choices.map((choice) => shapedBy(choice, components, depth + 1))));
  if (schema.allOf?.[0]) shaped.push(shapedBy(schema.allOf[0], components, depth + 1));
  const types = Array.isArray(schema.type) ? schema.type : schema.type === undefined ? [] : [schema.type];
  for (const type of types) {
    switch (type) {
      case 'object': {
        const properties = Object.fromEntries(Object.entries(schema.properties ?? {}).map(([name, property]) => [name, shapedBy(property, components, depth + 1)]));
        const record = fc.record(properties, { requiredKeys: (schema.required ?? []).filter((name) => name in properties) });
        shaped.push(record, fc.tuple(record, fc.constantFrom('unknownField', '__proto__', 'by', 'constructor'), anyJson).map(([value, key, extra]) => ({ ...(value as object), [key]: extra })));
        break;
      }
      case 'array':
        shaped.push(fc.array(shapedBy(schema.items, components, depth + 1), { maxLength: 3 }));
        break;
      case 'string':
        shaped.push(fc.constantFrom(...PLAUSIBLE_STRINGS));
        break;
      case 'integer':
      case 'number':
        shaped.push(fc.integer({ min: Math.max(schema.minimum ?? -10, -1000), max: Math.min(schema.maximum ?? 1000, 100_000) }));
        break;
      case 'boolean':
        shaped.push(fc.boolean());
        break;
      default:
        break;
    }
  }
  if (shaped.length === 0) return anyJson;
  return fc.oneof({ arbitrary: fc.oneof(...shaped), weight: 6 }, { arbitrary: anyJson, weight: 1 });
}

type Credential = 'Admin' | 'Technician' | 'ViewerAcme' | 'ViewerGlobex' | 'forged' | 'expired' | 'none' | 'garbage';

interface FuzzRequest {
  readonly credential: Credential;
  readonly method: string;
  readonly url: string;
  readonly contentType?: string;
  readonly body?: string;
}

let api: ApiHarness;
let operations: Operation[];
let components: Record<string, JsonSchema>;
const tokens = new Map<Credential, string>();

beforeAll(async () => {
  api = await apiHarness({ fleet: { ...API_FLEET, machines: API_FLEET.machines.map((machine) => ({ ...machine, latencyMs: 0 })) } });
  const document = openApiDocument(api.app);
  components = (document as unknown as { components: { schemas: Record<string, JsonSchema> } }).components.schemas;
  operations = loadOperations(document as never);
  for (const caller of ['Admin', 'Technician', 'ViewerAcme', 'ViewerGlobex'] as const) tokens.set(caller, await api.token(caller));
  const { privateKey } = await generateKeyPair('ES256');
  tokens.set('forged', await new SignJWT({ 'cognito:groups': ['nightshift-admin'] }).setProtectedHeader({ alg: 'ES256' }).setSubject('x').setIssuer(LOCAL_ISSUER).setAudience(LOCAL_AUDIENCE).setExpirationTime('1h').sign(privateKey));
  tokens.set('expired', await api.signer.mintDevToken({ role: 'Admin', expiresInSeconds: -5 }));
  // a schedule, so that a share of schedule and run requests find something
  const schedule = { name: 'Nightly', tenantId: 'acme', target: { kind: 'Computers', computerIds: ['pc-east'] }, recurrence: { kind: 'Daily' }, detectionTime: '03:00', executeImmediatelyAfterDetection: true, offline: {}, reboot: {}, email: {}, rollout: {} };
  expect((await api.call('Admin', 'POST', '/v1/schedules', { scheduleId: 'nightly', schedule })).status).toBe(201);
});

afterAll(async () => {
  await api.close();
}, 60_000);

/** A lone surrogate has no UTF-8 form: it goes on the wire as the bytes a careless client would send. */
function encodeSegment(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return '%ED%A0%80';
  }
}

function requestFor(operation: Operation): fc.Arbitrary<FuzzRequest> {
  const segment = fc.oneof(
    { arbitrary: fc.constantFrom(...PLAUSIBLE_STRINGS).map(encodeSegment), weight: 6 },
    { arbitrary: hostileString.map(encodeSegment), weight: 3 },
    { arbitrary: fc.constantFrom('%', '%ZZ', '..', '%2F', 'a%00b'), weight: 1 },
  );
  const placeholders = [...operation.path.matchAll(/\{[^}]+\}/g)].length;
  const pathArbitrary = fc.array(segment, { minLength: placeholders, maxLength: placeholders }).map((values) => {
    let index = 0;
    return operation.path.replace(/\{[^}]+\}/g, () => values[index++] ?? 'x');
  });
  const queryPair = fc.oneof(
    ...operation.query.map((parameter) => fc.tuple(fc.constant(parameter.name), fc.oneof(shapedBy(parameter.schema, components, 0).map(String), hostileString))),
    fc.tuple(fc.constantFrom('unknown', '__proto__', 'limit', 'cursor', 'tenantId'), hostileString),
  );
  const query = fc.array(queryPair, { maxLength: 3 }).map((pairs) => (pairs.length === 0 ? '' : `?${new URLSearchParams(pairs.map(([key, value]): [string, string] => [key, value])).toString()}`));
  const jsonText = fc.oneof(
    { arbitrary: shapedBy(operation.body, components, 0).map((value) => (JSON.stringify(value) as string | undefined) ?? 'null'), weight: 8 },
    { arbitrary: fc.constantFrom('{', '{"a":', '[1,2', 'nul', '"\u0000"', '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}', '', '[]', '123', '"text"'), weight: 2 },
    { arbitrary: fc.constant(`{"pad":"${'x'.repeat(HUGE_BODY_BYTES)}"}`), weight: 1 },
    { arbitrary: fc.constant(`${'['.repeat(50_000)}${']'.repeat(50_000)}`), weight: 1 },
  );
  const body = fc.oneof(
    { arbitrary: jsonText.map((text) => ({ contentType: 'application/json', body: text })), weight: 8 },
    { arbitrary: fc.tuple(fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-8', 'application/vnd.api+json'), jsonText).map(([contentType, text]) => ({ contentType, body: text })), weight: 2 },
    { arbitrary: fc.constant({}), weight: 1 },
  );
  const credential = fc.oneof(
    { arbitrary: fc.constant<Credential>('Admin'), weight: 6 },
    { arbitrary: fc.constantFrom<Credential>('Technician', 'ViewerAcme', 'ViewerGlobex'), weight: 4 },
    { arbitrary: fc.constantFrom<Credential>('forged', 'expired', 'none', 'garbage'), weight: 1 },
  );
  return fc.record({ credential, path: pathArbitrary, query, body: operation.body || operation.method !== 'GET' ? body : fc.constant({}) }).map(({ credential: c, path, query: q, body: b }) => ({
    credential: c,
    method: operation.method,
    url: `${path}${q}`,
    ...b,
  }));
}

async function send(request: FuzzRequest): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = {};
  const token = tokens.get(request.credential);
  if (token) headers.authorization = `Bearer ${token}`;
  if (request.credential === 'garbage') headers.authorization = 'Bearer \u00e9t\u00e9.<script>';
  if (request.contentType) headers['content-type'] = request.contentType;
  const response = await api.app.request(request.url, { method: request.method, headers, ...(request.body === undefined ? {} : { body: request.body }) });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) };
  } catch {
    return { status: response.status, body: text };
  }
}

describe('fuzzing every route', () => {
  it(`answers ${RUNS} generated requests with no 5xx, the envelope on every refusal and the field on every validation failure`, async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(...operations.map(requestFor)),
        async (request) => {
          const { status, body } = await send(request);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          expect(status, `${request.method} ${request.url.slice(0, 200)} → ${JSON.stringify(body).slice(0, 300)}`).toBeLessThan(500);
          // by the path as the server reads it: `/l/..` is `/`, the API's
          const servedPath = new URL(request.url, 'http://nightshift.test').pathname;
          if (servedPath === '/l' || servedPath.startsWith('/l/')) {
            // the end user's link pages answer every request, refusals included, with a page in words
            expect(typeof body === 'string' && body.startsWith('<!doctype html>'), `${request.method} ${request.url.slice(0, 200)}`).toBe(true);
            expect(String(body)).not.toMatch(/\bat \S+ \(|Error:/);
            return;
          }
          if (status < 400) return;
          expect(body).toEqual({ error: expect.objectContaining({ code: expect.any(String) as string, message: expect.any(String) as string }) as unknown });
          const error = (body as { error: { code: string; field?: unknown } }).error;
          if (error.code === 'VALIDATION_FAILED') expect(error.field, `${request.method} ${request.url.slice(0, 200)}`).toMatch(/^(body|query|path|header)(\.|$)/);
        },
      ),
      { numRuns: RUNS, endOnFailure: true },
    );
    // the run is only worth something if a share got past the checks into the use cases
    const passed = [...statuses].filter(([status]) => status < 300).reduce((sum, [, count]) => sum + count, 0);
    expect(passed / RUNS).toBeGreaterThan(0.05);
    expect(statuses.get(401) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(413) ?? 0).toBeGreaterThan(0);
  }, 180_000);
});
