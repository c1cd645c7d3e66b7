import { spawnSync } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssetHashType, CfnOutput, DockerImage, Duration, Fn, NestedStack, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import type { Construct } from 'constructs';
import {
  API_PROXY_PATH,
  DEFAULT_CALLBACK_URL,
  LINK_PAGE_ROUTES,
  PUBLIC_API_ROUTES,
  type OperatorApi,
  type OperatorApiSettings,
  type ResolvedOperatorApiSettings,
} from './operator-api.js';
import { acknowledgeWildcard } from './port-grants.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** How the console is built unless told otherwise: the repository's script, into console/dist. */
export const DEFAULT_CONSOLE_BUILD = { command: ['npm', 'run', 'build:console'], directory: path.join(REPO_ROOT, 'console', 'dist') } as const;
/** Where Vite puts the files whose names carry their content hash: cached for a year, never revalidated. */
export const HASHED_ASSETS_PREFIX = 'assets/';
/** What the console reads at start for what only the deployment knows (the sign-in issuer and client). */
export const RUNTIME_CONFIG_FILE = 'config.json';
/** Where the issuer sends the browser back to the console (OIDC_CALLBACK_PATH in console/src/auth/sign-in.ts). */
export const CONSOLE_CALLBACK_PATH = '/callback';
/** HSTS for two years, the preload list's expectation. */
const HSTS_MAX_AGE = Duration.days(730);
const HASHED_ASSET_MAX_AGE = Duration.days(365);

/**
 * The CloudFront path patterns that go to the operator API rather than the
 * bucket: every route the API serves, `{param+}` and `{param}` tails becoming
 * `*`. Derived from the API's own route list, so a public route added there
 * is reachable through the console's domain too.
 */
export const API_PATH_PATTERNS: readonly string[] = [
  ...new Set([API_PROXY_PATH, ...PUBLIC_API_ROUTES.map((route) => route.path), ...LINK_PAGE_ROUTES.map((route) => route.path)].map((route) => route.replace(/\{[^}]+\}$/, '*'))),
];

/**
 * The viewer-request function of the bucket's behaviour (cloudfront-js-2.0):
 * a path whose last segment has no dot is one of the console's own routes
 * (`/sessions/abc`), answered by index.html so the app's router takes it.
 * Files keep their path, so a missing one is S3's refusal rather than a page;
 * the API's paths never reach this behaviour.
 */
export const SPA_REWRITE_FUNCTION_CODE = `function handler(event) {
  var request = event.request;
  var lastSegment = request.uri.substring(request.uri.lastIndexOf('/') + 1);
  if (lastSegment.indexOf('.') === -1) request.uri = '/index.html';
  return request;
}`;

export interface ConsoleBuild {
  /**
   * The command that builds the console, run in the repository root at
   * synthesis (not when a test skips bundling). Empty: nothing is run, and
   * `directory` is taken as already built.
   * @default ['npm', 'run', 'build:console']
   */
  readonly command?: readonly string[];
  /**
   * Where the build leaves the static files, index.html at the top.
   * @default console/dist in the repository
   */
  readonly directory?: string;
}

export interface ConsoleHostingSettings {
  /**
   * Host names the console answers on instead of the distribution's own
   * `*.cloudfront.net` name; each needs a CNAME (or alias) to the
   * distribution's domain, which the `ConsoleDistributionDomain` output names.
   * Requires `certificateArn`.
   * @default none: the distribution's own name
   */
  readonly domainNames?: readonly string[];
  /**
   * An ACM certificate in us-east-1 (CloudFront's Region) covering every name in `domainNames`.
   * @default none
   */
  readonly certificateArn?: string;
  /**
   * A WAF web ACL (WAFv2, CLOUDFRONT scope, so in us-east-1) in front of the console and the API paths it serves.
   * @default none
   */
  readonly webAclArn?: string;
  /**
   * Countries (ISO 3166-1 alpha-2 codes) the distribution answers; viewers
   * elsewhere get CloudFront's 403. It applies to the end users' link pages
   * reached through this domain too.
   * @default every country
   */
  readonly allowedCountries?: readonly string[];
  /**
   * Which edge locations serve the console.
   * @default PriceClass.PRICE_CLASS_100 (North America and Europe: the cheapest; other viewers are served from there)
   */
  readonly priceClass?: cloudfront.PriceClass;
  /**
   * How the static bundle is made.
   * @default `npm run build:console`, uploaded from console/dist
   */
  readonly build?: ConsoleBuild;
}

/**
 * What `/config.json` tells the console at start (console/src/auth/config.ts
 * reads it): sign in with the issuer and public client, or paste a token.
 */
export type ConsoleRuntimeConfig =
  | { readonly auth: { readonly kind: 'oidc'; readonly authority: string; readonly clientId: string; readonly token: 'id_token' | 'access_token' } }
  | { readonly auth: { readonly kind: 'token' } };

/** How the console signs in: what its script talks to besides its own origin, and what it is told at start. */
export interface ConsoleAuth {
  /** Origins (`https://host`) the console's script calls for sign-in: the issuer's discovery document and keys, the token endpoint. */
  readonly origins: readonly string[];
  /** Written to `/config.json` at deploy time; values may be deploy-time tokens. */
  readonly runtimeConfig: ConsoleRuntimeConfig;
}

export interface ConsoleHostingProps extends ConsoleHostingSettings {
  /** The operator API; CloudFront sends `API_PATH_PATTERNS` to it. */
  readonly httpApi: apigwv2.IHttpApi;
  /** The sign-in the console uses (see `consoleAuthOf`). */
  readonly auth: ConsoleAuth;
  /**
   * How long the deployment function's log is kept.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * What the console needs to sign in through the API's issuer. With Cognito:
 * the issuer (`cognito-idp`, for discovery and keys) and the hosted UI's
 * domain (the token endpoint), and the app client's id; the API takes the ID
 * token. With another OIDC issuer, its console client (`oidcConsoleClientId`)
 * when one is set; without one the console asks for a token to be pasted.
 */
export function consoleAuthOf(api: OperatorApi, auth: ResolvedOperatorApiSettings['auth']): ConsoleAuth {
  if (auth.kind === 'oidc') {
    const origins = [new URL(auth.issuer).origin];
    if (auth.console === undefined) return { origins, runtimeConfig: { auth: { kind: 'token' } } };
    return { origins, runtimeConfig: { auth: { kind: 'oidc', authority: auth.issuer, clientId: auth.console.clientId, token: auth.console.token } } };
  }
  const { userPool, userPoolClient, userPoolDomain } = api;
  if (userPool === undefined || userPoolClient === undefined || userPoolDomain === undefined) throw new Error('the operator API has no Cognito user pool although its settings name Cognito');
  // ProviderURL is `cognito-idp.<region>.<suffix>/<pool id>`: its host is the issuer's origin, in the deployment's partition
  const issuerHost = Fn.select(0, Fn.split('/', userPool.userPoolProviderUrl));
  return {
    origins: [`https://${issuerHost}`, userPoolDomain.baseUrl()],
    runtimeConfig: { auth: { kind: 'oidc', authority: `https://${userPool.userPoolProviderUrl}`, clientId: userPoolClient.userPoolClientId, token: 'id_token' } },
  };
}

/**
 * The API's settings with the console's sign-in added: with Cognito and
 * custom console domains, the hosted UI may send the browser back to each
 * domain's `/callback` (where the console finishes the sign-in) and, on
 * sign-out, to its root. Without a custom domain the distribution's name is
 * known only once deployed (and the app client cannot wait for it: the
 * console's config names the client), so `authCallbackUrls` must name it then.
 */
export function withConsoleSignIn(api: OperatorApiSettings = {}, hosting: ConsoleHostingSettings = {}): OperatorApiSettings {
  checkSettings(hosting);
  if (api.oidcIssuer !== undefined || hosting.domainNames === undefined) return api;
  const origins = hosting.domainNames.map((name) => `https://${name}`);
  const callbackUrls = [...new Set([...(api.callbackUrls ?? [DEFAULT_CALLBACK_URL]), ...origins.map((origin) => `${origin}${CONSOLE_CALLBACK_PATH}`)])];
  // unset, the logout URLs follow from the callback URLs' origins
  const logoutUrls = api.logoutUrls === undefined ? {} : { logoutUrls: [...new Set([...api.logoutUrls, ...origins.map((origin) => `${origin}/`)])] };
  return { ...api, callbackUrls, ...logoutUrls };
}

/** `https://host`, nothing more: what a CSP source and an Origin header spell. */
function checkOrigin(value: string): void {
  if (Token.isUnresolved(value)) return;
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch {
    url = null;
  }
  if (url?.protocol !== 'https:' || url.origin !== value) throw new Error(`auth.origins must hold https origins such as https://login.example.com (no path); got "${value}"`);
}

/** Checks every setting before anything is built; a value CloudFront would refuse at deploy time is refused here, by its name. */
function checkSettings(settings: ConsoleHostingSettings): void {
  const { domainNames, certificateArn, webAclArn, allowedCountries } = settings;
  if (domainNames !== undefined) {
    if (domainNames.length === 0) throw new Error('domainNames must name at least one host name when given');
    for (const name of domainNames) {
      if (!/^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/.test(name)) {
        throw new Error(`domainNames must hold lower-case host names such as console.example.com (no scheme, port or wildcard); got "${name}"`);
      }
    }
    if (certificateArn === undefined) throw new Error('certificateArn is required with domainNames: CloudFront serves a custom name only with a certificate for it');
  }
  if (certificateArn !== undefined) {
    if (domainNames === undefined) throw new Error('certificateArn applies to domainNames, which are not set');
    if (!/^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]{36}$/.test(certificateArn)) {
      throw new Error(`certificateArn must be an ACM certificate ARN in us-east-1 (CloudFront only uses certificates from there); got "${certificateArn}"`);
    }
  }
  if (webAclArn !== undefined && !/^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global\/webacl\/[\w-]{1,128}\/[0-9a-f-]{36}$/.test(webAclArn)) {
    throw new Error(`webAclArn must be the ARN of a WAFv2 web ACL with CLOUDFRONT scope (arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>); got "${webAclArn}"`);
  }
  if (allowedCountries !== undefined) {
    if (allowedCountries.length === 0) throw new Error('allowedCountries must name at least one country when given (leave it out to allow every country)');
    for (const code of allowedCountries) if (!/^[A-Z]{2}$/.test(code)) throw new Error(`allowedCountries must hold ISO 3166-1 alpha-2 codes such as DE or US; got "${code}"`);
  }
  const command = settings.build?.command;
  if (command !== undefined && command.some((part) => part === '')) throw new Error('build.command must not hold empty arguments');
}

/**
 * The operator console on S3 and CloudFront, in a nested stack of its own
 * (the deployment helper's function and the CDN stay out of the main
 * template, whose functions are the handlers).
 *
 * One distribution, one origin for the browser: the console's files from a
 * private bucket (origin access control; the bucket admits that distribution
 * and nothing else), and the operator API's paths (`API_PATH_PATTERNS`) from
 * API Gateway, uncached and with every method, so the console calls the API
 * with relative URLs and needs no CORS. Any other extension-less path is a
 * console route and gets index.html (a viewer-request function; no custom
 * error responses, which would also turn the API's 403 and 404 into the app).
 *
 * CloudFront's access log records every request's path: a link page opened
 * through this domain leaves its signed token there, which is why the
 * stack's end-user links point at the API itself unless told otherwise.
 *
 * The bundle is built at synthesis and uploaded twice: the hashed files
 * under assets/ as immutable for a year (old ones are kept, so a page still
 * open can load its lazy chunks), then everything else as no-cache with
 * index.html invalidated.
 */
export class ConsoleHosting extends NestedStack {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  /** `https://` and the first custom name, or the distribution's own domain. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: ConsoleHostingProps) {
    checkSettings(props);
    for (const origin of props.auth.origins) checkOrigin(origin);
    super(scope, id, { description: 'Nightshift operator console: S3 bucket, CloudFront distribution, bundle deployment' });
    const customDomain = props.domainNames !== undefined && props.certificateArn !== undefined ? { names: props.domainNames, certificateArn: props.certificateArn } : undefined;

    const logBucket = new s3.Bucket(this, 'Logs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      // CloudFront's standard logs are delivered with an ACL grant: the bucket must accept ACLs
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(logBucket).acknowledge({ id: 'AwsSolutions-S1', reason: "This bucket is the console's access-log destination; logging it to itself would loop." });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: logBucket,
      serverAccessLogsPrefix: 'bucket/',
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `${Stack.of(scope).stackName} operator console`,
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: this.consoleHeaders(props.auth.origins),
        functionAssociations: [
          {
            eventType: cloudfront.FunctionEventType.VIEWER_REQUEST,
            function: new cloudfront.Function(this, 'SpaRewrite', {
              comment: 'Console routes (paths without a file extension) are answered by index.html',
              runtime: cloudfront.FunctionRuntime.JS_2_0,
              code: cloudfront.FunctionCode.fromInline(SPA_REWRITE_FUNCTION_CODE),
            }),
          },
        ],
      },
      additionalBehaviors: this.apiBehaviours(props.httpApi),
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: props.priceClass ?? cloudfront.PriceClass.PRICE_CLASS_100,
      enableIpv6: true,
      enableLogging: true,
      logBucket,
      logFilePrefix: 'cloudfront/',
      ...(customDomain === undefined
        ? {}
        : {
            domainNames: [...customDomain.names],
            certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', customDomain.certificateArn),
            minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
          }),
      ...(props.webAclArn === undefined ? {} : { webAclId: props.webAclArn }),
      ...(props.allowedCountries === undefined ? {} : { geoRestriction: cloudfront.GeoRestriction.allowlist(...props.allowedCountries) }),
    });
    this.acknowledgeDistributionFindings(props, customDomain !== undefined);

    this.url = `https://${customDomain?.names[0] ?? this.distribution.distributionDomainName}`;
    this.deployBundle(props);

    const parent = Stack.of(scope);
    new CfnOutput(parent, 'ConsoleUrl', { value: this.url, description: 'The operator console (and the API under /v1 on the same origin)' });
    new CfnOutput(parent, 'ConsoleDistributionDomain', {
      value: this.distribution.distributionDomainName,
      description: 'Where a custom console domain points (CNAME or alias)',
    });
  }

  /**
   * The console's headers: HSTS for two years with preload, no sniffing, no
   * framing, no referrer to other sites, and a CSP that lets the bundle load
   * only itself and talk only to its own origin and the sign-in issuer.
   * Styles allow 'unsafe-inline' (component libraries set style attributes); scripts do not.
   */
  private consoleHeaders(authOrigins: readonly string[]): cloudfront.ResponseHeadersPolicy {
    const auth = authOrigins.join(' ');
    const contentSecurityPolicy = [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self' 'unsafe-inline'",
      "img-src 'self' https: data:",
      `connect-src 'self' ${auth}`,
      "object-src 'none'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
      `form-action 'self' ${auth}`,
    ].join('; ');
    return new cloudfront.ResponseHeadersPolicy(this, 'ConsoleHeaders', {
      comment: 'Nightshift console: HSTS, CSP, no framing, no sniffing',
      securityHeadersBehavior: {
        strictTransportSecurity: { accessControlMaxAge: HSTS_MAX_AGE, includeSubdomains: true, preload: true, override: true },
        contentSecurityPolicy: { contentSecurityPolicy, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.SAME_ORIGIN, override: true },
      },
    });
  }

  /**
   * The API's paths: to API Gateway with its own Host header (it routes by
   * it), every viewer header and query string (the bearer token included),
   * never cached, every method. Their headers policy adds HSTS and nosniff
   * and sets no CSP: the link pages send their own, and their framing and
   * referrer headers are kept where the API sends them.
   */
  private apiBehaviours(httpApi: apigwv2.IHttpApi): Record<string, cloudfront.BehaviorOptions> {
    // apiEndpoint is `https://<id>.execute-api.<region>.<suffix>`: its host, in the deployment's partition
    const apiDomain = Fn.select(2, Fn.split('/', httpApi.apiEndpoint));
    const origin = new HttpOrigin(apiDomain, {
      protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
      originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
    });
    const headers = new cloudfront.ResponseHeadersPolicy(this, 'ApiHeaders', {
      comment: 'Nightshift API through the console domain: HSTS and nosniff; the API and link pages send the rest',
      securityHeadersBehavior: {
        strictTransportSecurity: { accessControlMaxAge: HSTS_MAX_AGE, includeSubdomains: true, preload: true, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: false },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.SAME_ORIGIN, override: false },
      },
    });
    const behaviour: cloudfront.BehaviorOptions = {
      origin,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      responseHeadersPolicy: headers,
    };
    return Object.fromEntries(API_PATH_PATTERNS.map((pattern) => [pattern, behaviour]));
  }

  /** What cdk-nag asks of a distribution and this one does not do by default, each with why. */
  private acknowledgeDistributionFindings(settings: ConsoleHostingSettings, customDomain: boolean): void {
    const distribution = Validations.of(this.distribution);
    if (settings.allowedCountries === undefined) {
      distribution.acknowledge({
        id: 'AwsSolutions-CFR1',
        reason: "An MSP's technicians and its customers' end users (the link pages) may be anywhere; the allowedCountries setting restricts the distribution to named countries.",
      });
    }
    if (settings.webAclArn === undefined) {
      distribution.acknowledge({
        id: 'AwsSolutions-CFR2',
        reason: 'No WAF by default (a web ACL costs a monthly fee per distribution): the API is throttled and every operator route needs a JWT; the webAclArn setting attaches a web ACL.',
      });
    }
    if (!customDomain) {
      distribution.acknowledge({
        id: 'AwsSolutions-CFR4',
        reason: "With its own *.cloudfront.net name the distribution uses CloudFront's default certificate, whose minimum TLS version cannot be set; domainNames with certificateArn serve TLS 1.2 (TLSv1.2_2021) or later only.",
      });
    }
  }

  /**
   * The bundle, uploaded by BucketDeployment with a role of its own that may
   * read exactly the uploaded archives, write this bucket, and invalidate
   * this distribution (the construct's default role holds wildcard actions
   * and invalidates any distribution).
   */
  private deployBundle(props: ConsoleHostingProps): void {
    const build = props.build ?? {};
    const command = build.command ?? DEFAULT_CONSOLE_BUILD.command;
    const directory = build.directory ?? DEFAULT_CONSOLE_BUILD.directory;
    // Built like the handlers are bundled: at synthesis, skipped when a test synthesizes without bundling.
    // The source is the repository root, which the build reads; the asset is what the build wrote.
    const bundle = new Asset(this, 'Bundle', {
      path: REPO_ROOT,
      assetHashType: AssetHashType.OUTPUT,
      bundling: {
        // never used: the local build either succeeds or throws
        image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:22-slim'),
        local: { tryBundle: (outputDir) => buildConsole(command, directory, outputDir) },
      },
    });

    const role = new iam.Role(this, 'DeploymentRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Nightshift console bundle deployment',
    });
    const logGroup = new logs.LogGroup(this, 'DeploymentLogs', { retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS });
    logGroup.grantWrite(role);
    role.addToPolicy(new iam.PolicyStatement({ sid: 'ListConsoleBucket', actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }));
    const objects = this.bucket.arnForObjects('*');
    role.addToPolicy(new iam.PolicyStatement({ sid: 'WriteConsoleFiles', actions: ['s3:PutObject', 's3:DeleteObject'], resources: [objects] }));
    acknowledgeWildcard(role, objects, "The deployment writes (and prunes) the console's files, whose names come from the build, in the console's own bucket.");
    role.addToPolicy(
      new iam.PolicyStatement({ sid: 'InvalidateConsole', actions: ['cloudfront:CreateInvalidation', 'cloudfront:GetInvalidation'], resources: [this.distribution.distributionArn] }),
    );
    /** Grants reading exactly the archive a source binds to; BucketDeployment's own grants are dropped below. */
    const readable = (source: s3deploy.ISource): s3deploy.ISource => ({
      bind: (scope, context) => {
        const config = source.bind(scope, context);
        role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [config.bucket.arnForObjects(config.zipObjectKey)] }));
        return config;
      },
    });
    const deployment = {
      destinationBucket: this.bucket,
      role: role.withoutPolicyUpdates(),
      logGroup,
      // the custom resource's answer is capped at 4 KB: a bundle's file list could exceed it, and nothing reads it
      outputObjectKeys: false,
    } satisfies Partial<s3deploy.BucketDeploymentProps>;
    const files = readable(s3deploy.Source.bucket(bundle.bucket, bundle.s3ObjectKey));

    const hashed = new s3deploy.BucketDeployment(this, 'DeployHashedAssets', {
      ...deployment,
      sources: [files],
      exclude: ['*'],
      include: [`${HASHED_ASSETS_PREFIX}*`],
      // a page loaded before this deployment may still ask for its own chunks
      prune: false,
      cacheControl: [s3deploy.CacheControl.setPublic(), s3deploy.CacheControl.maxAge(HASHED_ASSET_MAX_AGE), s3deploy.CacheControl.immutable()],
    });
    const entry = new s3deploy.BucketDeployment(this, 'DeployEntry', {
      ...deployment,
      sources: [files, readable(s3deploy.Source.jsonData(RUNTIME_CONFIG_FILE, props.auth.runtimeConfig))],
      // the hashed files are the other deployment's: neither uploaded nor pruned here
      exclude: [`${HASHED_ASSETS_PREFIX}*`],
      prune: true,
      cacheControl: [s3deploy.CacheControl.noCache()],
      distribution: this.distribution,
      distributionPaths: ['/index.html'],
    });
    // index.html names the new chunks: it goes up only once they are there
    entry.node.addDependency(hashed);
    for (const step of [hashed, entry]) step.node.addDependency(role);
    // BucketDeployment's function is a singleton of this stack's, and the only Lambda function in it
    for (const child of this.node.children) {
      if (!(child instanceof lambda.Function)) continue;
      Validations.of(child).acknowledge({
        id: 'AwsSolutions-L1',
        reason: "aws-cdk-lib's BucketDeployment handler: its Python runtime is pinned by the library and moves with aws-cdk-lib upgrades, not set here.",
      });
    }
  }
}

/** Runs the console's build and copies what it wrote into the asset directory; throws, naming the command, when that fails. */
function buildConsole(command: readonly string[], directory: string, outputDir: string): boolean {
  const [program, ...args] = command;
  if (program !== undefined) {
    // the build's own output goes to stderr: `cdk synth` prints the template on stdout
    const result = spawnSync(program, args, { cwd: REPO_ROOT, stdio: ['ignore', process.stderr, 'inherit'] });
    if (result.error !== undefined || result.status !== 0) {
      throw new Error(`the console build \`${command.join(' ')}\` failed (${result.error?.message ?? `exit status ${String(result.status)}`}); fix the build, or set build.command`);
    }
  }
  if (!existsSync(path.join(directory, 'index.html'))) throw new Error(`the console build left no index.html in ${directory}; set build.directory to where it writes`);
  cpSync(directory, outputDir, { recursive: true });
  return true;
}
