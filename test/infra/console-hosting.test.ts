import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, describe, expect, it } from 'vitest';
import { HANDLERS } from '../../functions/handlers/registry.js';
import { API_PATH_PATTERNS, ConsoleHosting, consoleAuthOf, SPA_REWRITE_FUNCTION_CODE, withConsoleSignIn, type ConsoleHostingProps } from '../../infra/console-hosting.js';
import { HANDLER_TAG, NightshiftStack, type NightshiftStackProps } from '../../infra/nightshift-stack.js';
import { API_PROXY_PATH, DEFAULT_CALLBACK_URL, LINK_PAGE_ROUTES, PUBLIC_API_ROUTES, resolveOperatorApiSettings } from '../../infra/operator-api.js';

type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] };
type Json = { Resources: Record<string, Resource>; Outputs?: Record<string, { Value: unknown }>; Parameters?: Record<string, unknown> };
interface Behaviour {
  PathPattern?: string;
  TargetOriginId: string;
  AllowedMethods: string[];
  CachePolicyId: string;
  OriginRequestPolicyId?: string;
  ResponseHeadersPolicyId: { Ref: string };
  ViewerProtocolPolicy: string;
  FunctionAssociations?: { EventType: string; FunctionARN: { 'Fn::GetAtt': [string, string] } }[];
}
interface Origin {
  Id: string;
  DomainName: unknown;
  OriginAccessControlId?: unknown;
  S3OriginConfig?: unknown;
  CustomOriginConfig?: { OriginProtocolPolicy: string; OriginSSLProtocols: string[] };
}
interface DistributionConfig {
  DefaultCacheBehavior: Behaviour;
  CacheBehaviors: Behaviour[];
  Origins: Origin[];
  CustomErrorResponses?: unknown;
  [key: string]: unknown;
}
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Principal?: unknown;
  Condition?: unknown;
}

const ENV = { account: '111111111111', region: 'eu-west-1' };
const OIDC = { oidcIssuer: 'https://login.example.com/oauth2/default', oidcAudience: ['api://nightshift'] } as const;
const CUSTOM = {
  domainNames: ['console.msp.example', 'nightshift.msp.example'],
  certificateArn: 'arn:aws:acm:us-east-1:111111111111:certificate/0f6c1bb0-58a6-4d8e-9d3a-2b8f1e0c9a11',
  webAclArn: 'arn:aws:wafv2:us-east-1:111111111111:global/webacl/nightshift/6a1f2e3d-4c5b-4a69-8d7e-0f1e2d3c4b5a',
  allowedCountries: ['DE', 'AT', 'CH'],
  priceClass: cloudfront.PriceClass.PRICE_CLASS_ALL,
} as const;

/** Synthesizes without bundling (the console is not built); the console's resources are in its nested stack's template. */
function synthesize(props: NightshiftStackProps = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new NightshiftStack(app, 'Test', { env: ENV, ...props });
  const parent = Template.fromStack(stack).toJSON() as Json;
  const nested = Template.fromStack(stack.consoleHosting).toJSON() as Json;
  const ofType = (type: string) => Object.entries(nested.Resources).filter(([, r]) => r.Type === type);
  const only = (type: string): [string, Resource] => {
    const found = ofType(type);
    expect(found, type).toHaveLength(1);
    return found[0] as [string, Resource];
  };
  const [distributionId, distribution] = only('AWS::CloudFront::Distribution');
  const config = distribution.Properties.DistributionConfig as DistributionConfig;
  const [, nestedStack] = Object.entries(parent.Resources).find(([, r]) => r.Type === 'AWS::CloudFormation::Stack') ?? ['?', { Type: '?', Properties: {} }];
  /** What the parent passes for a parameter of the nested template. */
  const parameter = (ref: unknown) => (nestedStack.Properties.Parameters as Record<string, unknown>)[(ref as { Ref: string }).Ref];
  return { app, stack, parent, nested, ofType, only, distributionId, config, parameter };
}

// one synthesis per way of deploying: Cognito defaults, an OIDC issuer with explicit link URL, and every hosting setting given
const cognito = synthesize();
const oidc = synthesize({ api: OIDC, linkBaseUrl: 'https://links.msp.example' });
const custom = synthesize({ console: CUSTOM });

const logicalIdOf = (parent: Json, type: string) => Object.entries(parent.Resources).find(([, r]) => r.Type === type)?.[0] ?? '?';
const asArray = <T,>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
/** A CloudFront path pattern (`*` any run of characters) against a path. */
const matches = (pattern: string, route: string) => new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.?+^$()[\]{}|\\]/g, '\\$&')).join('.*')}$`).test(route);
/** A template string value as text: references shown as `{name}`, `Fn::Select(2, Fn::Split('/', x))` as `host(x)`-style `part<i>(x)`. */
function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const node = value as Record<string, unknown>;
  if ('Fn::Join' in node) {
    const [separator, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map(render).join(separator);
  }
  if ('Ref' in node) return `{${String(node.Ref)}}`;
  if ('Fn::Select' in node) {
    const [index, split] = node['Fn::Select'] as [number, { 'Fn::Split': [string, unknown] }];
    return `part${index}(${render(split['Fn::Split'][1])})`;
  }
  return JSON.stringify(value);
}
const directives = (csp: string) => new Map(csp.split('; ').map((directive) => [directive.split(' ')[0], directive.split(' ').slice(1).join(' ')]));

describe('the console bucket and origin access control', () => {
  it('keeps the bundle in a private, encrypted, TLS-only, access-logged bucket with no website hosting', () => {
    const [, bucket] = cognito.ofType('AWS::S3::Bucket').find(([id]) => id.startsWith('Bucket')) ?? ['?', { Type: '?', Properties: {} }];
    expect(bucket.Properties).toMatchObject({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      LoggingConfiguration: { DestinationBucketName: { Ref: expect.stringMatching(/^Logs/) as unknown } },
    });
    expect(bucket.Properties.WebsiteConfiguration).toBeUndefined();
  });

  it('reads the bucket through origin access control, signing every request, and the bucket admits that one distribution and nothing else', () => {
    const [oacId, oac] = cognito.only('AWS::CloudFront::OriginAccessControl');
    expect(oac.Properties.OriginAccessControlConfig).toMatchObject({ OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' });
    const s3Origin = cognito.config.Origins.find((origin) => origin.S3OriginConfig !== undefined);
    expect(s3Origin).toMatchObject({ OriginAccessControlId: { 'Fn::GetAtt': [oacId, 'Id'] }, S3OriginConfig: { OriginAccessIdentity: '' } });
    expect(s3Origin?.DomainName).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Bucket/) as unknown, 'RegionalDomainName'] });

    const [, policy] = cognito.ofType('AWS::S3::BucketPolicy').find(([id]) => id.startsWith('BucketPolicy')) ?? ['?', { Type: '?', Properties: {} }];
    const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
    const allows = statements.filter((s) => s.Effect === 'Allow');
    expect(allows).toHaveLength(1);
    expect(allows[0]).toMatchObject({ Principal: { Service: 'cloudfront.amazonaws.com' }, Action: 's3:GetObject' });
    expect(JSON.stringify(allows[0]?.Condition)).toBe(
      JSON.stringify({ StringEquals: { 'AWS:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudfront::', { Ref: 'AWS::AccountId' }, ':distribution/', { Ref: cognito.distributionId }]] } } }),
    );
    expect(statements.some((s) => s.Effect === 'Deny' && JSON.stringify(s.Condition) === JSON.stringify({ Bool: { 'aws:SecureTransport': 'false' } }))).toBe(true);
  });
});

describe('one origin for the browser: the console from the bucket, the API paths from API Gateway', () => {
  const apiOrigin = cognito.config.Origins.find((origin) => origin.CustomOriginConfig !== undefined);

  it('routes every path the operator API serves (operator routes, OpenAPI, health, link pages) and nothing else', () => {
    expect([...API_PATH_PATTERNS].sort()).toEqual(['/healthz', '/l/*', '/openapi.json', '/v1/*']);
    const routes = [API_PROXY_PATH, ...PUBLIC_API_ROUTES.map((r) => r.path), ...LINK_PAGE_ROUTES.map((r) => r.path)].map((route) => route.replace(/\{[^}]+\}/g, 'x'));
    for (const route of routes) expect(API_PATH_PATTERNS.some((pattern) => matches(pattern, route)), route).toBe(true);
    expect(cognito.config.CacheBehaviors.map((b) => b.PathPattern).sort()).toEqual([...API_PATH_PATTERNS].sort());
  });

  it("sends the API paths to the HTTP API's own host over TLS 1.2, uncached, with every method and every viewer header but Host", () => {
    expect(apiOrigin?.CustomOriginConfig).toEqual({ OriginProtocolPolicy: 'https-only', OriginSSLProtocols: ['TLSv1.2'] });
    // the host part of the API's endpoint (https://<id>.execute-api.<region>.<suffix>), as the parent passes it in
    const domain = apiOrigin?.DomainName as { 'Fn::Select': [number, { 'Fn::Split': [string, unknown] }] };
    expect(domain['Fn::Select'][0]).toBe(2);
    expect(domain['Fn::Select'][1]['Fn::Split'][0]).toBe('/');
    expect(cognito.parameter(domain['Fn::Select'][1]['Fn::Split'][1])).toEqual({ 'Fn::GetAtt': [logicalIdOf(cognito.parent, 'AWS::ApiGatewayV2::Api'), 'ApiEndpoint'] });
    for (const behaviour of cognito.config.CacheBehaviors) {
      expect(behaviour, behaviour.PathPattern).toMatchObject({
        TargetOriginId: apiOrigin?.Id,
        CachePolicyId: cloudfront.CachePolicy.CACHING_DISABLED.cachePolicyId,
        OriginRequestPolicyId: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER.originRequestPolicyId,
        ViewerProtocolPolicy: 'redirect-to-https',
      });
      expect([...behaviour.AllowedMethods].sort(), behaviour.PathPattern).toEqual(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT']);
      expect(behaviour.FunctionAssociations, behaviour.PathPattern).toBeUndefined();
    }
  });

  it('serves everything else from the bucket, cached, GET and HEAD only, through the route rewrite, and turns no error into a page', () => {
    const [functionId, fn] = cognito.only('AWS::CloudFront::Function');
    expect(fn.Properties).toMatchObject({ FunctionCode: SPA_REWRITE_FUNCTION_CODE, FunctionConfig: { Runtime: 'cloudfront-js-2.0' } });
    const s3Origin = cognito.config.Origins.find((origin) => origin.S3OriginConfig !== undefined);
    expect(cognito.config.DefaultCacheBehavior).toMatchObject({
      TargetOriginId: s3Origin?.Id,
      AllowedMethods: ['GET', 'HEAD'],
      CachePolicyId: cloudfront.CachePolicy.CACHING_OPTIMIZED.cachePolicyId,
      ViewerProtocolPolicy: 'redirect-to-https',
      FunctionAssociations: [{ EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [functionId, 'FunctionARN'] } }],
    });
    expect(cognito.config.DefaultRootObject).toBe('index.html');
    // an error page would also answer the API's 403 and 404 with the app
    expect(cognito.config.CustomErrorResponses).toBeUndefined();
  });

  it('answers console routes with index.html and leaves files (hashed assets, favicon, config) where they are', () => {
    const handler = vm.runInNewContext(`${SPA_REWRITE_FUNCTION_CODE}; handler`) as (event: { request: { uri: string } }) => { uri: string };
    const served = (uri: string) => handler({ request: { uri } }).uri;
    for (const route of ['/', '/sessions', '/sessions/01JABCDEF', '/schedules/nightly/runs/', '/computers/pc-01']) expect(served(route), route).toBe('/index.html');
    for (const file of ['/index.html', '/assets/index-4f3a2b.js', '/assets/index-9c8d.css', '/favicon.ico', '/config.json']) expect(served(file), file).toBe(file);
  });

  it('redirects http to https, speaks HTTP/2 and HTTP/3, uses price class 100 and logs every request to its own log bucket', () => {
    expect(cognito.config).toMatchObject({ HttpVersion: 'http2and3', IPV6Enabled: true, PriceClass: 'PriceClass_100', Logging: { Prefix: 'cloudfront/' } });
    expect(render((cognito.config.Logging as { Bucket: unknown }).Bucket)).toMatch(/^\{"Fn::GetAtt":\["Logs\w+","RegionalDomainName"\]\}$/);
    for (const behaviour of [cognito.config.DefaultCacheBehavior, ...cognito.config.CacheBehaviors]) expect(behaviour.ViewerProtocolPolicy).toBe('redirect-to-https');
    // CloudFront's standard logs are written with an ACL grant
    const [, logs] = cognito.ofType('AWS::S3::Bucket').find(([id]) => id.startsWith('Logs')) ?? ['?', { Type: '?', Properties: {} }];
    expect(logs.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] });
  });
});

describe('security headers', () => {
  const policyOf = (synthesis: typeof cognito, behaviour: Behaviour) =>
    (synthesis.nested.Resources[behaviour.ResponseHeadersPolicyId.Ref]?.Properties.ResponseHeadersPolicyConfig as { SecurityHeadersConfig: Record<string, Record<string, unknown>> }).SecurityHeadersConfig;
  const HSTS = { AccessControlMaxAgeSec: 63_072_000, IncludeSubdomains: true, Preload: true, Override: true };

  it('gives the console HSTS for two years with preload, nosniff, DENY framing, a same-origin referrer and a strict CSP', () => {
    const headers = policyOf(oidc, oidc.config.DefaultCacheBehavior);
    expect(headers).toMatchObject({
      StrictTransportSecurity: HSTS,
      ContentTypeOptions: { Override: true },
      FrameOptions: { FrameOption: 'DENY', Override: true },
      ReferrerPolicy: { ReferrerPolicy: 'same-origin', Override: true },
      ContentSecurityPolicy: { Override: true },
    });
    const csp = directives(headers.ContentSecurityPolicy?.ContentSecurityPolicy as string);
    expect(Object.fromEntries(csp)).toEqual({
      'default-src': "'self'",
      'script-src': "'self'",
      'style-src': "'self' 'unsafe-inline'",
      'img-src': "'self' https: data:",
      // the issuer's origin: discovery, keys and token endpoint of an OIDC provider
      'connect-src': "'self' https://login.example.com",
      'object-src': "'none'",
      'frame-ancestors': "'none'",
      'base-uri': "'none'",
      'form-action': "'self' https://login.example.com",
    });
  });

  it("lets the console's script reach Cognito's issuer and hosted UI (token endpoint), as the parent stack names them", () => {
    const csp = directives(render(policyOf(cognito, cognito.config.DefaultCacheBehavior).ContentSecurityPolicy?.ContentSecurityPolicy));
    const [issuerParameter, domainParameter] = [...(csp.get('connect-src') ?? '').matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
    expect(csp.get('connect-src')).toBe(`'self' https://part0({${issuerParameter ?? '?'}}) https://{${domainParameter ?? '?'}}.auth.eu-west-1.amazoncognito.com`);
    expect(csp.get('form-action')).toBe(csp.get('connect-src'));
    const parent = cognito.parent.Resources;
    const pool = Object.entries(parent).find(([, r]) => r.Type === 'AWS::Cognito::UserPool')?.[0];
    const domain = Object.entries(parent).find(([, r]) => r.Type === 'AWS::Cognito::UserPoolDomain')?.[0];
    expect(cognito.parameter({ Ref: issuerParameter })).toEqual({ 'Fn::GetAtt': [pool, 'ProviderURL'] });
    expect(cognito.parameter({ Ref: domainParameter })).toEqual({ Ref: domain });
  });

  it('sets no CSP on the API paths (the link pages send their own) and keeps the framing and referrer headers the API sends', () => {
    for (const behaviour of cognito.config.CacheBehaviors) {
      const headers = policyOf(cognito, behaviour);
      expect(headers.ContentSecurityPolicy, behaviour.PathPattern).toBeUndefined();
      expect(headers).toMatchObject({
        StrictTransportSecurity: HSTS,
        ContentTypeOptions: { Override: true },
        FrameOptions: { FrameOption: 'DENY', Override: false },
        ReferrerPolicy: { ReferrerPolicy: 'same-origin', Override: false },
      });
    }
  });
});

describe('the bundle deployment', () => {
  const deployments = cognito.ofType('Custom::CDKBucketDeployment');
  const [hashedId, hashed] = deployments.find(([, r]) => r.Properties.Include !== undefined) ?? ['?', { Type: '?', Properties: {} }];
  const [, entry] = deployments.find(([, r]) => r.Properties.Include === undefined) ?? ['?', { Type: '?', Properties: {} }];

  it('uploads the hashed assets as immutable for a year and keeps the old ones; then the rest as no-cache, pruned, with index.html invalidated', () => {
    expect(deployments).toHaveLength(2);
    expect(hashed.Properties).toMatchObject({ Exclude: ['*'], Include: ['assets/*'], Prune: false, SystemMetadata: { 'cache-control': 'public, max-age=31536000, immutable' } });
    expect(hashed.Properties.DistributionId).toBeUndefined();
    expect(entry.Properties).toMatchObject({
      Exclude: ['assets/*'],
      Prune: true,
      SystemMetadata: { 'cache-control': 'no-cache' },
      DistributionId: { Ref: cognito.distributionId },
      DistributionPaths: ['/index.html'],
      OutputObjectKeys: false,
    });
    // index.html goes up after the chunks it names
    expect(entry.DependsOn).toContain(hashedId);
    // both upload the same build; the entry deployment adds config.json
    expect((entry.Properties.SourceObjectKeys as string[])[0]).toBe((hashed.Properties.SourceObjectKeys as string[])[0]);
  });

  it('writes config.json at deploy time with the issuer and the app client the console signs in with; with another OIDC issuer, token paste', () => {
    const markers = (entry.Properties.SourceMarkers as Record<string, unknown>[])[1] ?? {};
    const parent = cognito.parent.Resources;
    const pool = Object.entries(parent).find(([, r]) => r.Type === 'AWS::Cognito::UserPool')?.[0];
    const client = Object.entries(parent).find(([, r]) => r.Type === 'AWS::Cognito::UserPoolClient')?.[0];
    expect(Object.values(markers).map((ref) => cognito.parameter(ref))).toEqual([{ 'Fn::GetAtt': [pool, 'ProviderURL'] }, { Ref: client }]);
    const auth = consoleAuthOf(cognito.stack.operatorApi, resolveOperatorApiSettings().auth).runtimeConfig.auth;
    expect(auth).toMatchObject({ kind: 'oidc', token: 'id_token' });
    // the console's client at another issuer is no stack setting: the console asks for a token instead of guessing one
    expect(consoleAuthOf(oidc.stack.operatorApi, resolveOperatorApiSettings(OIDC).auth)).toEqual({ origins: ['https://login.example.com'], runtimeConfig: { auth: { kind: 'token' } } });
  });

  it("signs in at another OIDC issuer with the console's own client when the deployment names it, and refuses one its ID tokens would not pass", () => {
    const entra = { oidcIssuer: 'https://login.example.com/tenant/v2.0', oidcAudience: ['console-client', 'api://nightshift'], oidcConsoleClientId: 'console-client' } as const;
    expect(consoleAuthOf(oidc.stack.operatorApi, resolveOperatorApiSettings(entra).auth)).toEqual({
      origins: ['https://login.example.com'],
      runtimeConfig: { auth: { kind: 'oidc', authority: 'https://login.example.com/tenant/v2.0', clientId: 'console-client', token: 'id_token' } },
    });
    // an ID token's audience is its client: one API Gateway does not accept could never sign anyone in
    expect(() => resolveOperatorApiSettings({ ...entra, oidcAudience: ['api://nightshift'] })).toThrow(/oidcConsoleClientId "console-client" must be one of oidcAudience/);
    // with access tokens for the API's audience, the client need not be an audience
    expect(resolveOperatorApiSettings({ ...entra, oidcAudience: ['api://nightshift'], oidcConsoleToken: 'access_token' }).auth).toMatchObject({ console: { clientId: 'console-client', token: 'access_token' } });
    expect(() => resolveOperatorApiSettings({ oidcConsoleClientId: 'console-client' })).toThrow(/apply to oidcIssuer/);
  });

  it('lets the uploader read exactly its archives, write only the console bucket and invalidate only this distribution', () => {
    const [roleId] = cognito.only('AWS::IAM::Role');
    const [, fn] = cognito.only('AWS::Lambda::Function');
    expect(fn.Properties.Role).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    const statements = cognito
      .ofType('AWS::IAM::Policy')
      .filter(([, p]) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
      .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    expect(cognito.nested.Resources[roleId]?.Properties.ManagedPolicyArns).toBeUndefined();
    for (const statement of statements) {
      expect(asArray(statement.Action).filter((action) => action.includes('*')), JSON.stringify(statement.Action)).toEqual([]);
      expect(statement.Resource).not.toBe('*');
    }
    const byAction = (action: string) => statements.filter((s) => asArray(s.Action).includes(action)).map((s) => render(s.Resource));
    expect(byAction('cloudfront:CreateInvalidation')).toEqual([`arn:{AWS::Partition}:cloudfront::111111111111:distribution/{${cognito.distributionId}}`]);
    expect(byAction('s3:PutObject')).toEqual([expect.stringMatching(/^\{"Fn::GetAtt":\["Bucket\w+","Arn"\]\}\/\*$/)]);
    expect(byAction('s3:DeleteObject')).toEqual(byAction('s3:PutObject'));
    const reads = byAction('s3:GetObject');
    expect(reads).toHaveLength(2);
    for (const read of reads) expect(read).toMatch(/^arn:\{AWS::Partition\}:s3:::cdk-[a-z0-9]+-assets-111111111111-eu-west-1\/[0-9a-f]{64}\.zip$/);
  });
});

describe('outputs, and where end-user links point', () => {
  const functionsWithLinks = (synthesis: typeof cognito) =>
    Object.values(synthesis.parent.Resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .filter((r) => HANDLERS.find((h) => (r.Properties.Tags as { Key: string; Value: string }[]).some((t) => t.Key === HANDLER_TAG && t.Value === h.name))?.ports.includes('linkKeys:read'))
      .map((r) => (r.Properties.Environment as { Variables: Record<string, unknown> }).Variables.LINK_BASE_URL);

  it("gives the console's URL (the distribution's domain) as ConsoleUrl; end-user links stay on the API, as CloudFront's log would keep their tokens", () => {
    const url = cognito.parent.Outputs?.ConsoleUrl?.Value as { 'Fn::Join': [string, [string, { 'Fn::GetAtt': [string, string] }]] };
    const [scheme, domain] = url['Fn::Join'][1];
    expect(scheme).toBe('https://');
    expect(domain['Fn::GetAtt'][0]).toBe(logicalIdOf(cognito.parent, 'AWS::CloudFormation::Stack'));
    const output = domain['Fn::GetAtt'][1].replace(/^Outputs\./, '');
    expect(cognito.nested.Outputs?.[output]?.Value).toEqual({ 'Fn::GetAtt': [cognito.distributionId, 'DomainName'] });
    const links = functionsWithLinks(cognito);
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) expect(link).toEqual({ 'Fn::GetAtt': [logicalIdOf(cognito.parent, 'AWS::ApiGatewayV2::Api'), 'ApiEndpoint'] });
    expect(new Set(functionsWithLinks(oidc))).toEqual(new Set(['https://links.msp.example']));
  });

  it('with a custom domain: serves it under the certificate with TLS 1.2 or later, and ConsoleUrl names it', () => {
    expect(custom.config).toMatchObject({
      Aliases: CUSTOM.domainNames,
      ViewerCertificate: { AcmCertificateArn: CUSTOM.certificateArn, SslSupportMethod: 'sni-only', MinimumProtocolVersion: 'TLSv1.2_2021' },
      WebACLId: CUSTOM.webAclArn,
      Restrictions: { GeoRestriction: { RestrictionType: 'whitelist', Locations: CUSTOM.allowedCountries } },
      PriceClass: 'PriceClass_All',
    });
    expect(custom.parent.Outputs?.ConsoleUrl?.Value).toBe('https://console.msp.example');
  });

  it("lets Cognito's hosted UI send the browser back to each custom console domain, next to the CLI; without one, to the CLI only", () => {
    const clientOf = (synthesis: typeof cognito) => Object.values(synthesis.parent.Resources).find((r) => r.Type === 'AWS::Cognito::UserPoolClient')?.Properties;
    expect(clientOf(custom)).toMatchObject({
      CallbackURLs: [DEFAULT_CALLBACK_URL, 'https://console.msp.example/callback', 'https://nightshift.msp.example/callback'],
      LogoutURLs: ['http://localhost:8765/', 'https://console.msp.example/', 'https://nightshift.msp.example/'],
    });
    expect(clientOf(cognito)?.CallbackURLs).toEqual([DEFAULT_CALLBACK_URL]);
    // explicit settings keep theirs and gain the console's
    expect(withConsoleSignIn({ callbackUrls: ['https://tool.example/cb'], logoutUrls: ['https://tool.example/'] }, { domainNames: ['c.example'], certificateArn: CUSTOM.certificateArn })).toEqual({
      callbackUrls: ['https://tool.example/cb', 'https://c.example/callback'],
      logoutUrls: ['https://tool.example/', 'https://c.example/'],
    });
    expect(withConsoleSignIn(OIDC, { domainNames: ['c.example'], certificateArn: CUSTOM.certificateArn })).toEqual(OIDC);
  });
});

const temporaryDirectories: string[] = [];
const temporaryDirectory = (prefix: string) => {
  const directory = mkdtempSync(path.join(os.tmpdir(), prefix));
  temporaryDirectories.push(directory);
  return directory;
};
afterAll(() => {
  for (const directory of temporaryDirectories) rmSync(directory, { recursive: true, force: true });
});

/** A parent stack with an HTTP API and nothing else: enough to build the console hosting alone. */
function standalone(settings: Partial<ConsoleHostingProps> = {}, context: Record<string, unknown> = { 'aws:cdk:bundling-stacks': [] }) {
  const app = new App({ context, outdir: temporaryDirectory('console-hosting-') });
  const stack = new Stack(app, 'Parent', { env: ENV });
  const httpApi = new apigwv2.HttpApi(stack, 'Api');
  return { app, make: () => new ConsoleHosting(stack, 'Console', { httpApi, auth: { origins: ['https://login.example.com'], runtimeConfig: { auth: { kind: 'token' } } }, ...settings }) };
}

describe('settings CloudFront would refuse are refused at synthesis, naming the setting', () => {
  it.each([
    [{ domainNames: ['console.example.com'] }, /certificateArn is required with domainNames/],
    [{ certificateArn: CUSTOM.certificateArn }, /certificateArn applies to domainNames/],
    [{ domainNames: ['https://console.example.com'], certificateArn: CUSTOM.certificateArn }, /domainNames must hold lower-case host names/],
    [{ domainNames: ['*.example.com'], certificateArn: CUSTOM.certificateArn }, /domainNames must hold lower-case host names/],
    [{ domainNames: [], certificateArn: CUSTOM.certificateArn }, /domainNames must name at least one host name/],
    [{ domainNames: ['console.example.com'], certificateArn: CUSTOM.certificateArn.replace('us-east-1', 'eu-west-1') }, /certificateArn must be an ACM certificate ARN in us-east-1/],
    [{ webAclArn: 'arn:aws:wafv2:eu-west-1:111111111111:regional/webacl/x/6a1f2e3d-4c5b-4a69-8d7e-0f1e2d3c4b5a' }, /webAclArn must be the ARN of a WAFv2 web ACL with CLOUDFRONT scope/],
    [{ allowedCountries: ['de'] }, /allowedCountries must hold ISO 3166-1 alpha-2 codes/],
    [{ allowedCountries: [] }, /allowedCountries must name at least one country/],
    [{ auth: { origins: ['https://login.example.com/oauth2'], runtimeConfig: { auth: { kind: 'token' } } } }, /auth.origins must hold https origins/],
  ] as const)('%j', (settings, message) => {
    expect(() => standalone(settings).make()).toThrow(message);
  });
});

describe('the console build', () => {
  /** A build that writes index.html and a hashed chunk into `directory`, as Vite does. */
  const fakeBuild = (directory: string) => [
    process.execPath,
    '-e',
    `const fs = require('node:fs'); fs.mkdirSync(${JSON.stringify(path.join(directory, 'assets'))}, { recursive: true });
     fs.writeFileSync(${JSON.stringify(path.join(directory, 'index.html'))}, '<!doctype html><script type="module" src="/assets/index-1a2b.js"></script>');
     fs.writeFileSync(${JSON.stringify(path.join(directory, 'assets', 'index-1a2b.js'))}, 'export {}');`,
  ];
  const bundling = {}; // the default context: every stack is bundled

  it('runs the build command at synthesis and uploads exactly what it wrote', () => {
    const directory = path.join(temporaryDirectory('console-dist-'), 'dist');
    const { app, make } = standalone({ build: { command: fakeBuild(directory), directory } }, bundling);
    const bundle = make().node.findChild('Bundle');
    if (!(bundle instanceof Asset)) throw new Error('the console hosting has no Bundle asset');
    const staged = path.join(app.outdir, bundle.assetPath);
    expect(readFileSync(path.join(staged, 'index.html'), 'utf8')).toContain('/assets/index-1a2b.js');
    expect(existsSync(path.join(staged, 'assets', 'index-1a2b.js'))).toBe(true);
  });

  it('stops the synthesis when the build fails, naming the command; and when it leaves no index.html, naming the directory', () => {
    expect(() => standalone({ build: { command: [process.execPath, '-e', 'process.exit(3)'] } }, bundling).make()).toThrow(/the console build `.+ -e process\.exit\(3\)` failed \(exit status 3\)/);
    const empty = temporaryDirectory('console-empty-');
    mkdirSync(path.join(empty, 'assets'));
    writeFileSync(path.join(empty, 'assets', 'orphan.js'), '');
    expect(() => standalone({ build: { command: [], directory: empty } }, bundling).make()).toThrow(`the console build left no index.html in ${empty}`);
  });
});

describe('cdk-nag', () => {
  /** Every acknowledgement under a scope: where, which finding, and why. */
  const acknowledgementsOf = (scope: IConstruct) => {
    const found: { path: string; id: string; reason: string }[] = [];
    const visit = (node: IConstruct): void => {
      for (const entry of node.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) found.push({ path: node.node.path, id: id.replace(/^annotation::/i, ''), reason });
      }
      for (const child of node.node.children) visit(child);
    };
    visit(scope);
    return found;
  };

  it.each([
    ['by default', cognito, ['AwsSolutions-CFR1', 'AwsSolutions-CFR2', 'AwsSolutions-CFR4']],
    ['with a custom domain, a web ACL and allowed countries', custom, []],
  ] as const)('finds nothing unacknowledged %s; geo restriction, WAF and the default certificate are acknowledged only where not set', (_, synthesis, distributionFindings) => {
    const report = new AwsSolutionsChecks(synthesis.app).validateScope(synthesis.app);
    expect(report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    // CDK's own acknowledgements (CloudFormation-Validate::…) are not this construct's
    const acknowledged = acknowledgementsOf(synthesis.stack.consoleHosting).filter((ack) => ack.id.startsWith('AwsSolutions-'));
    expect(acknowledged.filter((ack) => ack.path === 'Test/Console/Distribution').map((ack) => ack.id).sort()).toEqual([...distributionFindings]);
    expect(acknowledged.filter((ack) => ack.path !== 'Test/Console/Distribution').map(({ path: at, id }) => ({ at, id }))).toEqual([
      { at: 'Test/Console/Logs', id: 'AwsSolutions-S1' },
      { at: 'Test/Console/DeploymentRole', id: expect.stringMatching(/^AwsSolutions-IAM5\[Resource::<Bucket[0-9A-F]{8}\.Arn>\/\*\]$/) as unknown },
      { at: expect.stringMatching(/^Test\/Console\/Custom::CDKBucketDeployment/) as unknown, id: 'AwsSolutions-L1' },
    ]);
    for (const ack of acknowledged) expect(ack.reason.length, ack.id).toBeGreaterThan(60);
  });
});
