import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { createApiApp } from '../../functions/http/app.js';
import { DEFAULT_CLAIM_NAMES, ROLE_GROUPS } from '../../functions/core/access/principal.js';
import { HANDLERS } from '../../functions/handlers/registry.js';
import { HANDLER_TAG, NightshiftStack, type NightshiftStackProps } from '../../infra/nightshift-stack.js';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Output = { Value: unknown; Description?: string };
interface Statement {
  Action: string | string[];
  Resource: unknown;
}

const ENV = { account: '111111111111', region: 'eu-west-1' };
const OIDC = { oidcIssuer: 'https://login.example.com/oauth2/default', oidcAudience: ['api://nightshift'], groupsClaim: 'roles' } as const;

/** Synthesizes without bundling: the template is what matters here, not the code assets. */
function synthesize(props: NightshiftStackProps = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new NightshiftStack(app, 'Test', { env: ENV, ...props });
  const template = Template.fromStack(stack);
  const json = template.toJSON() as { Resources: Record<string, Resource>; Outputs: Record<string, Output> };
  const ofType = (type: string) => Object.entries(json.Resources).filter(([, r]) => r.Type === type);
  const only = (type: string): [string, Resource] => {
    const found = ofType(type);
    expect(found, type).toHaveLength(1);
    return found[0] as [string, Resource];
  };
  const functionOf = (handler: string) =>
    Object.entries(json.Resources).find(
      ([, r]) => r.Type === 'AWS::Lambda::Function' && (r.Properties.Tags as { Key: string; Value: string }[] | undefined)?.some((tag) => tag.Key === HANDLER_TAG && tag.Value === handler),
    ) ?? ['?', { Type: '?', Properties: {} }];
  return { app, stack, template, resources: json.Resources, outputs: json.Outputs, ofType, only, functionOf };
}

// one synthesis per way of deploying the API: its defaults, every setting given, and an OIDC issuer instead of Cognito
const cognito = synthesize();
const tuned = synthesize({
  api: {
    consoleOrigin: 'https://console.example.com',
    throttle: { rateLimit: 20, burstLimit: 40 },
    callbackUrls: ['http://localhost:9999/callback', 'https://console.example.com/auth/callback'],
    authDomainPrefix: 'acme-nightshift',
    mfa: 'required',
  },
});
const oidc = synthesize({ api: OIDC });

const [apiFunctionId] = cognito.functionOf('api');
const environmentOf = (resource: Resource) => (resource.Properties.Environment as { Variables: Record<string, unknown> }).Variables;

describe('the operator HTTP API', () => {
  it('sends the operator methods under /v1 through the JWT authorizer, the OpenAPI document and health check without it, all to the api function, and no other route', () => {
    const [api] = cognito.only('AWS::ApiGatewayV2::Api');
    expect(cognito.resources[api]?.Properties).toMatchObject({ ProtocolType: 'HTTP', Name: 'Test-operator' });
    const [authorizer] = cognito.only('AWS::ApiGatewayV2::Authorizer');
    const routes = Object.fromEntries(
      cognito.ofType('AWS::ApiGatewayV2::Route').map(([, route]) => [route.Properties.RouteKey as string, { type: route.Properties.AuthorizationType, authorizer: route.Properties.AuthorizerId }]),
    );
    const authorized = { type: 'JWT', authorizer: { Ref: authorizer } };
    const open = { type: 'NONE', authorizer: undefined };
    expect(routes).toEqual({
      'GET /v1/{proxy+}': authorized,
      'POST /v1/{proxy+}': authorized,
      'PUT /v1/{proxy+}': authorized,
      'DELETE /v1/{proxy+}': authorized,
      'GET /openapi.json': open,
      'GET /healthz': open,
      // the end user's email links: the signed token in the path is the credential
      'GET /l/{token}': open,
      'HEAD /l/{token}': open,
      'POST /l/{token}': open,
    });
    // no ANY or OPTIONS route: a browser's preflight carries no token, and API Gateway answers it from the CORS settings
    expect(Object.keys(routes).some((key) => /^(ANY|OPTIONS) /.test(key))).toBe(false);

    // every route reaches the api function through one Lambda proxy integration (payload 2.0: claims under requestContext.authorizer.jwt)
    const [integration, integrationResource] = cognito.only('AWS::ApiGatewayV2::Integration');
    expect(integrationResource.Properties).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0', IntegrationUri: { 'Fn::GetAtt': [apiFunctionId, 'Arn'] } });
    for (const [, route] of cognito.ofType('AWS::ApiGatewayV2::Route')) expect(route.Properties.Target).toEqual({ 'Fn::Join': ['', ['integrations/', { Ref: integration }]] });
    // and API Gateway may invoke that function and no other
    const invokedByApiGateway = cognito.ofType('AWS::Lambda::Permission').filter(([, p]) => p.Properties.Principal === 'apigateway.amazonaws.com');
    expect(invokedByApiGateway.length).toBeGreaterThan(0);
    for (const [, permission] of invokedByApiGateway) expect(permission.Properties.FunctionName).toEqual({ 'Fn::GetAtt': [apiFunctionId, 'Arn'] });
  });

  it('serves every route of the app the api function runs, asking API Gateway for a token exactly where the app asks for one, and deploys no route the app lacks', async () => {
    const app = createApiApp(
      () => {
        throw new Error('listing routes and answering the public ones needs no dependency');
      },
      { principal: { kind: 'authorizer' } },
    );
    // Hono lists middleware as method ALL; the rest are the routes, with `:name` parameters
    const appRoutes = [...new Set(app.routes.filter((route) => route.method !== 'ALL').map((route) => `${route.method} ${route.path}`))];
    expect(appRoutes.length).toBeGreaterThan(30);
    const deployed = new Map(cognito.ofType('AWS::ApiGatewayV2::Route').map(([, route]) => [route.Properties.RouteKey as string, route.Properties.AuthorizationType as string]));
    const served = new Set<string>();
    for (const route of appRoutes) {
      const [method = '', path = ''] = route.split(' ');
      const key = path.startsWith('/v1/') ? `${method} /v1/{proxy+}` : `${method} ${path.replace(/:([A-Za-z]+)/g, '{$1}')}`;
      expect(deployed.has(key), `${route} has no deployed route`).toBe(true);
      // API Gateway checks a token on exactly the routes under /v1
      expect(deployed.get(key), route).toBe(path.startsWith('/v1/') ? 'JWT' : 'NONE');
      served.add(key);
    }
    // Hono answers HEAD with its GET route: a deployed HEAD is served where its GET is
    expect([...deployed.keys()].filter((key) => !served.has(key) && !(key.startsWith('HEAD ') && served.has(key.replace(/^HEAD /, 'GET '))))).toEqual([]);
    // and the app agrees: the public routes answer without a token, a /v1 route without the authorizer's claims is refused
    for (const path of ['/healthz', '/openapi.json']) expect((await app.request(path)).status, path).toBe(200);
    expect((await app.request('/v1/me')).status).toBe(401);
  });

  it("accepts Cognito ID tokens: issued by the stack's user pool, for its app client, read from the Authorization header", () => {
    const [pool] = cognito.only('AWS::Cognito::UserPool');
    const [client] = cognito.only('AWS::Cognito::UserPoolClient');
    const [, authorizer] = cognito.only('AWS::ApiGatewayV2::Authorizer');
    expect(authorizer.Properties).toMatchObject({
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      // ProviderURL spells the partition's own domain (amazonaws.com.cn in China)
      JwtConfiguration: { Issuer: { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [pool, 'ProviderURL'] }]] }, Audience: [{ Ref: client }] },
    });
  });

  it('accepts tokens of a configured OIDC issuer instead, for the configured audience, and creates no user pool', () => {
    const [, authorizer] = oidc.only('AWS::ApiGatewayV2::Authorizer');
    expect(authorizer.Properties).toMatchObject({ AuthorizerType: 'JWT', JwtConfiguration: { Issuer: OIDC.oidcIssuer, Audience: [...OIDC.oidcAudience] } });
    for (const type of ['AWS::Cognito::UserPool', 'AWS::Cognito::UserPoolClient', 'AWS::Cognito::UserPoolGroup', 'AWS::Cognito::UserPoolDomain']) expect(oidc.ofType(type), type).toEqual([]);
    // the same routes, authorized the same way
    expect(oidc.ofType('AWS::ApiGatewayV2::Route').map(([, r]) => `${String(r.Properties.RouteKey)} ${String(r.Properties.AuthorizationType)}`).sort()).toEqual(
      cognito.ofType('AWS::ApiGatewayV2::Route').map(([, r]) => `${String(r.Properties.RouteKey)} ${String(r.Properties.AuthorizationType)}`).sort(),
    );
  });

  it('tells the api function, and only it, which claims carry the groups and the tenant: what the API reads by default with Cognito, as configured with OIDC', () => {
    expect(environmentOf(cognito.functionOf('api')[1])).toMatchObject({ API_GROUPS_CLAIM: DEFAULT_CLAIM_NAMES.groups, API_TENANT_CLAIM: DEFAULT_CLAIM_NAMES.tenant });
    expect(DEFAULT_CLAIM_NAMES).toEqual({ groups: 'cognito:groups', tenant: 'custom:tenantId' });
    // Okta's and Entra ID's names unless told otherwise
    expect(environmentOf(oidc.functionOf('api')[1])).toMatchObject({ API_GROUPS_CLAIM: 'roles', API_TENANT_CLAIM: 'tenantId' });
    expect(environmentOf(synthesize({ api: { ...OIDC, groupsClaim: undefined, tenantClaim: 'extension_tenant' } }).functionOf('api')[1])).toMatchObject({
      API_GROUPS_CLAIM: 'groups',
      API_TENANT_CLAIM: 'extension_tenant',
    });
    const told = cognito.ofType('AWS::Lambda::Function').filter(([, fn]) => environmentOf(fn).API_GROUPS_CLAIM !== undefined);
    expect(told.map(([id]) => id)).toEqual([apiFunctionId]);
  });

  it('throttles every route of the stage, by default at 50 requests/s with bursts of 100, and as configured', () => {
    const [, stage] = cognito.only('AWS::ApiGatewayV2::Stage');
    expect(stage.Properties).toMatchObject({ StageName: '$default', AutoDeploy: true, DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 } });
    expect(tuned.only('AWS::ApiGatewayV2::Stage')[1].Properties).toMatchObject({ DefaultRouteSettings: { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 } });
  });

  it('writes one JSON line per request to a log group kept as long as the functions\' logs, naming the caller by token subject and never by the token', () => {
    const [, stage] = cognito.only('AWS::ApiGatewayV2::Stage');
    const settings = stage.Properties.AccessLogSettings as { DestinationArn: { 'Fn::GetAtt': [string, string] }; Format: string };
    const [logGroup, attribute] = settings.DestinationArn['Fn::GetAtt'];
    expect(attribute).toBe('Arn');
    expect(cognito.resources[logGroup]).toMatchObject({ Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 90 } });
    const format = JSON.parse(settings.Format) as Record<string, string>;
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      routeKey: '$context.routeKey',
      status: '$context.status',
      sourceIp: '$context.identity.sourceIp',
      subject: '$context.authorizer.claims.sub',
      authorizerError: '$context.authorizer.error',
      integrationError: '$context.integrationErrorMessage',
    });
    // every value a quoted string, so each line parses whatever API Gateway substitutes
    for (const value of Object.values(format)) expect(value).toMatch(/^\$context\.[A-Za-z.]+$/);
    expect(settings.Format).not.toMatch(/header|Authorization/i);
    // an email link's token is in its path: the route is logged, never the path
    expect(Object.values(format)).not.toContain('$context.path');
  });

  it('lets no browser origin call the API by default, and only the configured console origin, with the headers the API reads and no cookies', () => {
    expect(cognito.only('AWS::ApiGatewayV2::Api')[1].Properties.CorsConfiguration).toBeUndefined();
    expect(tuned.only('AWS::ApiGatewayV2::Api')[1].Properties.CorsConfiguration).toEqual({
      AllowOrigins: ['https://console.example.com'],
      AllowMethods: ['GET', 'POST', 'PUT', 'DELETE'],
      AllowHeaders: ['authorization', 'content-type', 'idempotency-key'],
      AllowCredentials: false,
      MaxAge: 3600,
    });
  });

  it('gives the API, its OpenAPI document, the issuer, and with Cognito the pool, client and hosted UI as outputs', () => {
    const [api] = cognito.only('AWS::ApiGatewayV2::Api');
    const [pool] = cognito.only('AWS::Cognito::UserPool');
    const [client] = cognito.only('AWS::Cognito::UserPoolClient');
    const [domain] = cognito.only('AWS::Cognito::UserPoolDomain');
    const endpoint = { 'Fn::GetAtt': [api, 'ApiEndpoint'] };
    expect(cognito.outputs.ApiUrl?.Value).toEqual(endpoint);
    expect(cognito.outputs.OpenApiUrl?.Value).toEqual({ 'Fn::Join': ['', [endpoint, '/openapi.json']] });
    expect(cognito.outputs.UserPoolId?.Value).toEqual({ Ref: pool });
    expect(cognito.outputs.UserPoolClientId?.Value).toEqual({ Ref: client });
    expect(cognito.outputs.HostedUiDomain?.Value).toEqual({ 'Fn::Join': ['', ['https://', { Ref: domain }, '.auth.eu-west-1.amazoncognito.com']] });
    expect(cognito.outputs.AuthIssuer?.Value).toEqual({ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [pool, 'ProviderURL'] }]] });
    expect(Object.keys(oidc.outputs).filter((name) => /Api|Auth|UserPool|HostedUi/.test(name)).sort()).toEqual(['ApiUrl', 'AuthIssuer', 'OpenApiUrl']);
    expect(oidc.outputs.AuthIssuer?.Value).toBe(OIDC.oidcIssuer);
  });
});

describe('the Cognito user pool', () => {
  const [poolId, pool] = cognito.only('AWS::Cognito::UserPool');
  const [, client] = cognito.only('AWS::Cognito::UserPoolClient');

  it('lets no one sign themselves up: an admin creates each operator, who signs in with their email, under a strong password policy', () => {
    expect(pool.Properties).toMatchObject({
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      UsernameAttributes: ['email'],
      AutoVerifiedAttributes: ['email'],
      AccountRecoverySetting: { RecoveryMechanisms: [{ Name: 'verified_email', Priority: 1 }] },
      Policies: { PasswordPolicy: { MinimumLength: 14, RequireLowercase: true, RequireUppercase: true, RequireNumbers: true, RequireSymbols: true } },
      DeletionProtection: 'ACTIVE',
    });
    expect((cognito.template.toJSON() as { Resources: Record<string, { DeletionPolicy?: string }> }).Resources[poolId]).toMatchObject({ DeletionPolicy: 'Retain' });
  });

  it('offers TOTP (never SMS) as a second factor, optional by default and required when configured', () => {
    expect(pool.Properties).toMatchObject({ MfaConfiguration: 'OPTIONAL', EnabledMfas: ['SOFTWARE_TOKEN_MFA'] });
    expect(tuned.only('AWS::Cognito::UserPool')[1].Properties).toMatchObject({ MfaConfiguration: 'ON', EnabledMfas: ['SOFTWARE_TOKEN_MFA'] });
  });

  it('enforces threat protection: compromised passwords are refused, risky sign-ins must pass MFA', () => {
    expect(pool.Properties).toMatchObject({ UserPoolTier: 'PLUS', UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' } });
    const [, risk] = cognito.only('AWS::Cognito::UserPoolRiskConfigurationAttachment');
    expect(risk.Properties).toMatchObject({
      UserPoolId: { Ref: poolId },
      ClientId: 'ALL',
      CompromisedCredentialsRiskConfiguration: { Actions: { EventAction: 'BLOCK' } },
      AccountTakeoverRiskConfiguration: { Actions: { MediumAction: { EventAction: 'MFA_IF_CONFIGURED' }, HighAction: { EventAction: 'MFA_REQUIRED' } } },
    });
  });

  it('has one group per role, named as the API maps groups to roles', () => {
    const groups = cognito.ofType('AWS::Cognito::UserPoolGroup').map(([, group]) => group.Properties);
    expect(groups.map((group) => group.GroupName).sort()).toEqual(['nightshift-admin', 'nightshift-technician', 'nightshift-viewer']);
    expect(Object.values(ROLE_GROUPS).sort()).toEqual(['nightshift-admin', 'nightshift-technician', 'nightshift-viewer']);
    for (const group of groups) expect(group.UserPoolId).toEqual({ Ref: poolId });
  });

  it("keeps a viewer's tenant in custom:tenantId, which the ID token carries and the user cannot change", () => {
    expect(pool.Properties.Schema).toContainEqual({ Name: 'tenantId', AttributeDataType: 'String', Mutable: true, StringAttributeConstraints: { MinLength: '1', MaxLength: '128' } });
    // custom attributes reach the ID token only when the client may read them
    expect(client.Properties.ReadAttributes).toContain('custom:tenantId');
    // and a list must be given: without one, the user could write every standard attribute
    expect(client.Properties.WriteAttributes).toEqual(['name']);
  });

  it('signs the CLI and console in with a public client: authorization code (with PKCE), no secret, the CLI callback unless configured', () => {
    expect(client.Properties).toMatchObject({
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: ['openid', 'email', 'profile'],
      SupportedIdentityProviders: ['COGNITO'],
      CallbackURLs: ['http://localhost:8765/callback'],
      LogoutURLs: ['http://localhost:8765/'],
      PreventUserExistenceErrors: 'ENABLED',
      EnableTokenRevocation: true,
      IdTokenValidity: 60,
      RefreshTokenValidity: 720,
      TokenValidityUnits: { IdToken: 'minutes', RefreshToken: 'minutes' },
    });
    expect(client.Properties.ExplicitAuthFlows).not.toContain('ALLOW_USER_PASSWORD_AUTH');
    expect(tuned.only('AWS::Cognito::UserPoolClient')[1].Properties).toMatchObject({
      CallbackURLs: ['http://localhost:9999/callback', 'https://console.example.com/auth/callback'],
      LogoutURLs: ['http://localhost:9999/', 'https://console.example.com/'],
    });
  });

  it('serves the hosted UI under a prefix named after the stack and account, or the configured one', () => {
    expect(cognito.only('AWS::Cognito::UserPoolDomain')[1].Properties).toEqual({ Domain: 'test-111111111111', UserPoolId: { Ref: poolId } });
    expect(tuned.only('AWS::Cognito::UserPoolDomain')[1].Properties.Domain).toBe('acme-nightshift');
  });
});

describe('settings the API cannot work with are refused at synthesis, naming the setting', () => {
  const refuses = (api: NightshiftStackProps['api'], message: RegExp) => expect(() => new NightshiftStack(new App(), 'Bad', { env: ENV, api })).toThrow(message);

  it.each([
    ['an issuer that is not https', { oidcIssuer: 'http://login.example.com', oidcAudience: ['x'] }, /oidcIssuer must be an https URL/],
    ['an issuer without an audience', { oidcIssuer: 'https://login.example.com' }, /oidcAudience must name at least one audience/],
    ['an audience without an issuer', { oidcAudience: ['x'] }, /oidcAudience applies to oidcIssuer/],
    ['a hosted UI prefix with an OIDC issuer', { ...OIDC, authDomainPrefix: 'acme' }, /authDomainPrefix applies to the Cognito user pool/],
    ['MFA settings with an OIDC issuer', { ...OIDC, mfa: 'required' as const }, /mfa applies to the Cognito user pool/],
    ['a prefix Cognito reserves', { authDomainPrefix: 'acme-aws' }, /authDomainPrefix must be 1-63 lower-case letters/],
    ['a prefix with capitals', { authDomainPrefix: 'Acme' }, /authDomainPrefix must be/],
    ['a callback over plain http elsewhere than localhost', { callbackUrls: ['http://console.example.com/callback'] }, /callbackUrls must hold https URLs, or http:\/\/localhost/],
    ['no callback at all', { callbackUrls: [] }, /callbackUrls must name at least one URL/],
    ['a console origin with a path', { consoleOrigin: 'https://console.example.com/app' }, /consoleOrigin must be an origin/],
    ['a console origin over plain http', { consoleOrigin: 'http://console.example.com' }, /consoleOrigin must be an origin/],
    ['a rate of nothing', { throttle: { rateLimit: 0, burstLimit: 10 } }, /throttle.rateLimit must be above 0/],
    ['a fractional burst', { throttle: { rateLimit: 10, burstLimit: 2.5 } }, /throttle.burstLimit must be a whole number/],
    ['a groups claim with a space', { groupsClaim: 'my groups' }, /groupsClaim must be a claim name/],
  ] as const)('refuses %s', (_, api, message) => {
    refuses(api, message);
  });
});

describe('alarms and permissions of the API', () => {
  const alarms = cognito.ofType('AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties);
  const [api] = cognito.only('AWS::ApiGatewayV2::Api');
  const [topic] = cognito.only('AWS::SNS::Topic');
  interface MetricStat {
    Metric: { MetricName: string; Namespace: string; Dimensions: { Name: string; Value: unknown }[] };
    Stat: string;
  }
  /** The alarms on an API Gateway metric of the operator API's stage, plain or inside a metric math expression. */
  const onApi = (metricName: string) =>
    alarms.filter((alarm) =>
      ((alarm.Metrics ?? []) as { MetricStat?: MetricStat }[]).some(
        ({ MetricStat: stat }) =>
          stat?.Metric.Namespace === 'AWS/ApiGateway' &&
          stat.Metric.MetricName === metricName &&
          JSON.stringify(stat.Metric.Dimensions) === JSON.stringify([{ Name: 'ApiId', Value: { Ref: api } }, { Name: 'Stage', Value: '$default' }]),
      ),
    );

  it("raises one on the API's 5xx rate, a spike of 4xx, and a slow p99, each to the alarm topic", () => {
    const serverErrors = onApi('5xx');
    expect(serverErrors).toHaveLength(1);
    // 4xx and 5xx are 0 or 1 per request: their average is the share of requests
    expect(serverErrors[0]).toMatchObject({ Threshold: 0.01, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1, Metrics: [{ MetricStat: { Stat: 'Average', Period: 300 } }] });
    const clientErrors = onApi('4xx');
    expect(clientErrors).toHaveLength(1);
    expect(clientErrors[0]).toMatchObject({ Threshold: 0.5, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 2, DatapointsToAlarm: 2 });
    // a handful of refused requests in a quiet period is no spike
    expect(JSON.stringify(clientErrors[0]?.Metrics)).toContain('IF(sampleCount > 50, metric)');
    const latency = onApi('Latency');
    expect(latency).toHaveLength(1);
    expect(latency[0]).toMatchObject({ Threshold: 5000, EvaluationPeriods: 3, DatapointsToAlarm: 3, Metrics: [{ MetricStat: { Stat: 'p99' } }] });
    for (const alarm of [...serverErrors, ...clientErrors, ...latency]) expect(alarm.AlarmActions).toEqual([{ Ref: topic }]);
  });

  it("raises one on any error or throttle of the api function", () => {
    for (const metric of ['Errors', 'Throttles']) {
      const found = alarms.filter((alarm) => JSON.stringify(alarm).includes(`"MetricName":"${metric}"`) && JSON.stringify(alarm).includes(`{"Name":"FunctionName","Value":{"Ref":"${apiFunctionId}"}}`));
      expect(found, metric).toHaveLength(1);
      expect(found[0]).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1, AlarmActions: [{ Ref: topic }] });
    }
  });

  it('grants the api function exactly what its declared ports bring: nothing for being behind API Gateway, nothing of a port it did not declare', () => {
    const entry = HANDLERS.find((handler) => handler.name === 'api');
    expect(entry?.entry).toBe('functions/handlers/api.ts');
    const declared = new Set(entry?.ports);
    const roleId = (cognito.resources[apiFunctionId]?.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const role = cognito.resources[roleId];
    const managed = ((role?.Properties.ManagedPolicyArns ?? []) as { Ref?: string }[]).flatMap((arn) => (arn.Ref ? [arn.Ref] : []));
    const own = cognito.ofType('AWS::IAM::Policy').filter(([, policy]) => (policy.Properties.Roles as { Ref: string }[]).some((ref) => ref.Ref === roleId));
    const statements = [...own.map(([, policy]) => policy), ...managed.map((id) => cognito.resources[id] as Resource)].flatMap(
      (policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement,
    );
    const actions = new Set(statements.flatMap((statement) => (Array.isArray(statement.Action) ? statement.Action : [statement.Action])));
    // one action that stands for each port access, present exactly when declared (the full vocabulary is checked in stack.test.ts)
    const signature: Record<string, string> = {
      'sessions:write': 'dynamodb:PutItem',
      'sessionLog:read': 'dynamodb:Query',
      'workflow:start': 'states:StartExecution',
      'workflow:answer': 'states:SendTaskSuccess',
      'agent:read': 'ssm:GetCommandInvocation',
      'agent:cancel': 'ssm:CancelCommand',
      'agent:send': 'ssm:SendCommand',
      'secrets:write': 'ssm:PutParameter',
      'windowTimers:write': 'iam:PassRole',
      'scheduleTriggers:write': 'scheduler:CreateSchedule',
      'scheduleTriggers:read': 'scheduler:ListSchedules',
      'events:publish': 'events:PutEvents',
      'runWork:request': 'lambda:InvokeFunction',
    };
    for (const [access, action] of Object.entries(signature)) expect(actions.has(action), `${access} (${action})`).toBe(declared.has(access as never));
    // being served by API Gateway through a Cognito authorizer grants the function nothing of either
    expect([...actions].filter((action) => /^(cognito-idp|apigateway|execute-api):/.test(action))).toEqual([]);
    // its one Lambda permission is to hand run work to the worker, by name, and nothing else
    const invokes = statements.filter((statement) => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]).some((action) => action.startsWith('lambda:')));
    expect(invokes).toHaveLength(1);
    expect(invokes[0]?.Action).toBe('lambda:InvokeFunction');
    expect(JSON.stringify(invokes[0]?.Resource)).toContain('-advance-runs');
    expect(managed.map((id) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['CommandCancelPolicy', 'CommandReadsPolicy', 'InventoryReadPolicy', 'TracingPolicy']);
  });
});

describe('cdk-nag', () => {
  /** Every acknowledgement in a stack: the construct path and the finding. */
  const acknowledgementsOf = (stack: IConstruct) => {
    const found: { path: string; id: string; reason: string }[] = [];
    const visit = (node: IConstruct): void => {
      for (const entry of node.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) found.push({ path: node.node.path, id: id.replace(/^annotation::/i, ''), reason });
      }
      for (const child of node.node.children) visit(child);
    };
    visit(stack);
    return found;
  };

  it.each([
    ['with Cognito defaults', cognito],
    ['with every setting given', tuned],
    ['with an OIDC issuer', oidc],
  ])('finds nothing unacknowledged %s; the API\'s exceptions are the two public routes and the link pages, and optional MFA when it is', (_, synthesis) => {
    const report = new AwsSolutionsChecks(synthesis.app).validateScope(synthesis.app);
    expect(report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    const ofApi = acknowledgementsOf(synthesis.stack).filter((ack) => ack.path.includes('/OperatorApi/'));
    const expected = [
      { path: 'Test/OperatorApi/HttpApi/GET--openapi.json', id: 'AwsSolutions-APIG4' },
      { path: 'Test/OperatorApi/HttpApi/GET--healthz', id: 'AwsSolutions-APIG4' },
      ...['GET', 'HEAD', 'POST'].map((method) => ({ path: `Test/OperatorApi/HttpApi/${method}--l--{token}`, id: 'AwsSolutions-APIG4' })),
      ...(synthesis === cognito ? [{ path: 'Test/OperatorApi/UserPool', id: 'AwsSolutions-COG2' }] : []),
    ];
    expect(ofApi.map(({ path, id }) => ({ path, id })).sort((a, b) => a.path.localeCompare(b.path))).toEqual(expected.sort((a, b) => a.path.localeCompare(b.path)));
    for (const ack of ofApi) expect(ack.reason.length, ack.id).toBeGreaterThan(40);
  });
});
