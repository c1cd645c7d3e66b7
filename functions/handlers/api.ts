import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { handle } from 'hono/aws-lambda';
import { CORRELATION_ID_PATH, PowertoolsLogger, type CorrelationKeys } from '../adapters/logger.powertools.js';
import { powertoolsMetricsOf } from '../adapters/metrics.powertools.js';
import { DEFAULT_CLAIM_NAMES, type ClaimNames } from '../core/access/principal.js';
import type { Dependencies } from '../core/use-cases/dependencies.js';
import { excerpt } from '../core/validation.js';
import { createApiApp } from '../http/app.js';
import { pricingFromEnvironment } from '../adapters/pricing-config.js';
import { cloudDependencies } from './cloud.js';
import { meteredInvocations, type DependencyProvider, type LambdaHandler } from './handler-kit.js';

/** The claims API Gateway's authorizer passes on: Cognito's by default, others' (`groups`, `roles`, …) by configuration. */
export function claimNamesFrom(environment: Readonly<Record<string, string | undefined>>): ClaimNames {
  return {
    groups: environment.API_GROUPS_CLAIM?.trim() || DEFAULT_CLAIM_NAMES.groups,
    tenant: environment.API_TENANT_CLAIM?.trim() || DEFAULT_CLAIM_NAMES.tenant,
  };
}

/** Ids a request's path names, for the log lines it writes: `/v1/sessions/<id>/…`, `/v1/computers/<id>`, `/v1/tenants/<id>`. */
const PATH_KEYS: readonly [RegExp, keyof CorrelationKeys][] = [
  [/^\/v1\/sessions\/([A-Za-z0-9_-]{1,48})(?:\/|$)/, 'sessionId'],
  [/^\/v1\/sessions\/[^/]+\/actions\/([0-9]{3,6})(?:\/|$)/, 'actionId'],
  [/^\/v1\/computers\/([A-Za-z0-9._-]{1,128})(?:\/|$)/, 'computerId'],
  [/^\/v1\/tenants\/([A-Za-z0-9._-]{1,128})(?:\/|$)/, 'tenantId'],
];

function keysOfPath(event: unknown): CorrelationKeys {
  const rawPath: unknown = typeof event === 'object' && event !== null ? Reflect.get(event, 'rawPath') : undefined;
  if (typeof rawPath !== 'string') return {};
  const keys: Record<string, string> = {};
  for (const [pattern, key] of PATH_KEYS) {
    const id = pattern.exec(rawPath)?.[1];
    if (id !== undefined) keys[key] = excerpt(id);
  }
  return keys;
}

/**
 * The Lambda behind API Gateway: the API app through `hono/aws-lambda`, with
 * the Powertools chain every handler has (Lambda context and the request id
 * as correlation id on every line, the path's ids as keys, metrics flushed
 * per invocation). The chain is built once, on the first invocation, when the
 * dependencies are.
 */
export const createHandler = (provide: DependencyProvider): LambdaHandler<unknown, unknown> => {
  // `hono/aws-lambda` is deprecated for @hono/aws-lambda (same API), which is not a dependency yet
  // eslint-disable-next-line @typescript-eslint/no-deprecated
  const lambda = handle(createApiApp(provide, { principal: { kind: 'authorizer' }, claimNames: claimNamesFrom(process.env), pricing: pricingFromEnvironment(process.env) }));
  const serve = (event: unknown, context: Context) => lambda(event as Parameters<typeof lambda>[0], context);
  let chain: LambdaHandler<unknown, unknown> | undefined;
  const build = (deps: Dependencies): LambdaHandler<unknown, unknown> => {
    const wrapped = middy<unknown, unknown>().handler(serve);
    const { logger } = deps;
    if (logger instanceof PowertoolsLogger) {
      wrapped.use(injectLambdaContext(logger.powertools, { resetKeys: true, correlationIdPath: CORRELATION_ID_PATH }));
      wrapped.use({
        before: (request) => {
          logger.appendKeys({ handler: 'api', ...keysOfPath(request.event) });
        },
      });
    }
    const metrics = powertoolsMetricsOf(deps.metrics);
    if (metrics) wrapped.use(logMetrics(metrics));
    return wrapped;
  };
  // an API request that changes a session is counted in that session's cost; reads and refusals are not
  return meteredInvocations('api', provide, (event, context) => {
    chain ??= build(provide());
    return chain(event, context);
  });
};

export const handler = createHandler(cloudDependencies);
