import { $, createRoute, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { ValidationError } from '../core/errors.js';
import { ROLES, type ClaimNames } from '../core/access/principal.js';
import type { PricingOptions } from '../core/model/usage.js';
import { excerpt, parseInput } from '../core/validation.js';
import type { DependencyProvider } from '../handlers/handler-kit.js';
import { authenticate, type PrincipalSource } from './auth.js';
import type { ApiEnv } from './env.js';
import { answerError, ApiRefusal, fieldsUnder, type AnsweredError } from './errors.js';
import { newRouter } from './router.js';
import { auditRoutes } from './routes/audit.js';
import { brandingRoutes } from './routes/branding.js';
import { catalogRoutes } from './routes/catalog.js';
import { LINK_PATH_PREFIX, linkRoutes, notALinkPage } from './routes/links.js';
import { MAX_LINK_TOKEN_LENGTH } from '../core/notifications/links.js';
import { scheduleRoutes } from './routes/schedules.js';
import { sessionRoutes } from './routes/sessions.js';
import { json, READ_ERROR_RESPONSES } from './schemas.js';

/** Bodies larger than this are refused before they are read whole: the largest catalog entity fits with room to spare. */
export const MAX_BODY_BYTES = 256 * 1024;

export const API_BASE_PATH = '/v1';

export interface ApiOptions {
  /** Who is calling: API Gateway's authorizer claims (AWS) or a bearer token the app verifies (the local server). */
  readonly principal: PrincipalSource;
  /** Which claims carry the groups and the tenant. @default DEFAULT_CLAIM_NAMES (Cognito's) */
  readonly claimNames?: ClaimNames;
  /** The list prices a session's and a run's cost are shown at. @default us-east-1, arm64 */
  readonly pricing?: PricingOptions;
}

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

/**
 * A JSON body is read once, here, before any route: bad JSON is refused by
 * name (`body`), and so is what a schema would let through silently (NUL
 * characters, `__proto__` keys), wherever it sits in the body. Routes then
 * validate the same parsed value against their schema.
 */
const checkJsonBody: MiddlewareHandler<ApiEnv> = async (c, next) => {
  const contentType = c.req.header('content-type');
  const mediaType = contentType?.split(';')[0]?.trim() ?? '';
  if (JSON_MEDIA_TYPE.test(mediaType)) {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new ValidationError('request', [{ field: 'body', problem: 'is not valid JSON' }]);
    }
    await fieldsUnder('body', () => parseInput(z.unknown(), body, 'request body'));
  }
  await next();
};

/** Hono's own refusals (a body of the wrong type, malformed JSON it met first, a body over the limit) in the envelope. */
function answerHttpException(error: HTTPException): AnsweredError {
  switch (error.status) {
    case 413:
      return answerError(new ApiRefusal('PAYLOAD_TOO_LARGE', `the body is larger than ${MAX_BODY_BYTES / 1024} KiB`));
    case 415:
      return answerError(new ApiRefusal('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json'));
    case 401:
      return answerError(new ApiRefusal('UNAUTHENTICATED', 'the request carries no valid token'));
    case 404:
      return answerError(new ApiRefusal('NOT_FOUND', 'not found'));
    default:
      if (error.status >= 500) return answerError(error);
      return answerError(new ValidationError('request', [{ field: error.status === 400 ? 'body' : 'request', problem: excerpt(error.message, 200) }]));
  }
}

const principalSchema = z
  .object({ subject: z.string(), name: z.string(), role: z.enum(ROLES), tenantId: z.string().optional() })
  .meta({ id: 'Principal' });

/**
 * The operator API: one Hono app whose routes, validation and OpenAPI
 * document come from the same zod schemas. `hono/aws-lambda` serves it behind
 * API Gateway and `@hono/node-server` locally; both hand it the same
 * dependencies (the `api` handler's declared ports) and the same principal mapping.
 */
export function createApiApp(provide: DependencyProvider, options: ApiOptions) {
  const app = newRouter();

  app.onError((error, c) => {
    const answered = error instanceof HTTPException ? answerHttpException(error) : answerError(error);
    if (answered.unexpected) {
      provide().logger.error(excerpt(error.message, 1_000), { route: `${c.req.method} ${excerpt(c.req.path, 200)}`, errorName: error.name, stack: error.stack });
    }
    return c.json(answered.body, answered.status);
  });
  app.notFound(async (c) => {
    // a link cut short or run on is still an end user's link: a page, not the API's JSON
    if (c.req.path === LINK_PATH_PREFIX || c.req.path.startsWith(`${LINK_PATH_PREFIX}/`)) {
      c.header('Cache-Control', 'no-store');
      return c.html(await notALinkPage(provide()), 400);
    }
    const answered = answerError(new ApiRefusal('NOT_FOUND', `no route ${c.req.method} ${excerpt(c.req.path, 200)}`));
    return c.json(answered.body, answered.status);
  });

  // the end user's pages: public, HTML, outside the operator API's token, body and JSON rules
  app.route(LINK_PATH_PREFIX, linkRoutes(provide));

  app.use(`${API_BASE_PATH}/*`, authenticate(options.principal, provide, options.claimNames));
  const pricing = options.pricing ?? {};
  app.use(`${API_BASE_PATH}/*`, async (c, next) => {
    c.set('pricing', pricing);
    await next();
  });
  app.use(
    `${API_BASE_PATH}/*`,
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new ApiRefusal('PAYLOAD_TOO_LARGE', `the body is larger than ${MAX_BODY_BYTES / 1024} KiB`);
      },
    }),
  );
  app.use(`${API_BASE_PATH}/*`, checkJsonBody);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  // the link pages are HTML for end users, served by the plain routes above; documented here so the document lists every route
  const linkPage = { description: 'A page in words (confirmation, outcome or refusal); refusals are 4xx pages, never JSON', content: { 'text/html': { schema: z.string() } } };
  const tokenParam = z.object({ token: z.string().max(MAX_LINK_TOKEN_LENGTH).meta({ description: 'The signed link token from the email' }) });
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: `${LINK_PATH_PREFIX}/{token}`,
    tags: ['End-user links'],
    summary: "An email button's page: shows what it would do (or why it cannot); never changes anything (HEAD answers the same)",
    security: [],
    request: { params: tokenParam },
    responses: { 200: linkPage, 400: linkPage, 409: linkPage },
  });
  app.openAPIRegistry.registerPath({
    method: 'post',
    path: `${LINK_PATH_PREFIX}/{token}`,
    tags: ['End-user links'],
    summary: "The confirmation form of a link's page (same origin, with its `csrf` field): postpones, cancels or starts the session, once per link",
    security: [],
    request: { params: tokenParam, body: { content: { 'application/x-www-form-urlencoded': { schema: z.object({ csrf: z.string() }) } } } },
    responses: { 200: linkPage, 400: linkPage, 409: linkPage },
  });

  const routes = app
    .openapi(
      createRoute({
        method: 'get',
        path: `${API_BASE_PATH}/me`,
        tags: ['Access'],
        summary: 'Who the token says the caller is: role and tenant',
        responses: { 200: json('The caller', principalSchema), ...READ_ERROR_RESPONSES },
      }),
      (c) => c.json(c.var.principal, 200),
    )
    .route(API_BASE_PATH, sessionRoutes())
    .route(API_BASE_PATH, catalogRoutes())
    .route(API_BASE_PATH, scheduleRoutes())
    .route(API_BASE_PATH, auditRoutes())
    .route(API_BASE_PATH, brandingRoutes())
    .openapi(
      createRoute({
        method: 'get',
        path: '/healthz',
        tags: ['Access'],
        summary: 'Whether the API answers (no token needed)',
        security: [],
        responses: { 200: json('It answers', z.object({ ok: z.literal(true) })) },
      }),
      (c) => c.json({ ok: true as const }, 200),
    );

  // generated once, on first request: the routes do not change after this
  let document: ReturnType<typeof routes.getOpenAPI31Document> | undefined;
  return $(
    routes.get('/openapi.json', (c) => {
      document ??= openApiDocument(routes);
      return c.json(document, 200);
    }),
  );
}

export type ApiApp = ReturnType<typeof createApiApp>;

/** The OpenAPI 3.1 document of an app, generated from its routes' schemas. */
export function openApiDocument(app: Pick<ReturnType<typeof newRouter>, 'getOpenAPI31Document'>) {
  return app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'Nightshift operator API',
      version: '1',
      description:
        'Maintenance sessions for MSP fleets. Every route but /healthz and /openapi.json needs a bearer token (OIDC). Refusals are `{ error: { code, message, field? } }`.',
    },
    security: [{ bearerAuth: [] }],
  });
}
