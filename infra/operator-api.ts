import { CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { DEFAULT_CLAIM_NAMES, ROLE_GROUPS, ROLES, type Role } from '../functions/core/access/principal.js';

/** Every operator route lives under this prefix, behind the JWT authorizer. */
export const API_PROXY_PATH = '/v1/{proxy+}';
/**
 * The methods the operator routes use. Listed, not `ANY`: an `ANY` route
 * behind an authorizer would also take the browser's CORS preflight (OPTIONS,
 * sent without a token) and refuse it, where with no OPTIONS route API
 * Gateway answers the preflight itself from the CORS settings.
 */
export const API_PROXY_METHODS = ['GET', 'POST', 'PUT', 'DELETE'] as const;
/** Answered without a token: the OpenAPI document and the health check. */
export const PUBLIC_API_ROUTES = [
  { method: 'GET', path: '/openapi.json' },
  { method: 'GET', path: '/healthz' },
] as const;
/**
 * The end user's link pages: public, the signed token in the path is their
 * only credential. HEAD is routed too, so a mail scanner's HEAD gets the same
 * harmless page as its GET rather than an authorizer's refusal.
 */
export const LINK_PAGE_ROUTES = [
  { method: 'GET', path: '/l/{token}' },
  { method: 'HEAD', path: '/l/{token}' },
  { method: 'POST', path: '/l/{token}' },
] as const;
/** The `custom:` attribute an administrator sets to a user's tenant; it reaches the API as the `custom:tenantId` claim of the ID token. */
export const TENANT_ATTRIBUTE = 'tenantId';
/** The loopback address the CLI listens on for the authorization code, unless told another. */
export const DEFAULT_CALLBACK_URL = 'http://localhost:8765/callback';
/** Claim names an OIDC issuer other than Cognito is assumed to use unless told otherwise (Okta's and Entra ID's group claim). */
export const DEFAULT_OIDC_CLAIM_NAMES = { groups: 'groups', tenant: 'tenantId' } as const;
/**
 * Requests per second (steady) and at once (burst) the stage accepts across
 * all callers before answering 429: an MSP's technicians, the console and a
 * few scripts stay far below; a runaway loop is stopped well before it costs.
 */
export const DEFAULT_THROTTLE = { rateLimit: 50, burstLimit: 100 } as const;
/** What each role's group is for, as the Cognito console shows it; precedence follows `ROLES`, Admin first. */
const GROUP_DESCRIPTIONS: Readonly<Record<Role, string>> = {
  Admin: 'Nightshift MSP admin: everything, every tenant',
  Technician: 'Nightshift technician: every tenant; no catalog or branding changes',
  Viewer: "Nightshift tenant viewer: read-only, the user's tenant (custom:tenantId) and its children",
};
/**
 * An ID token lives an hour (the longest a disabled user keeps access, as
 * API Gateway does not check revocation); the refresh token a working day,
 * after which the CLI signs in again.
 */
const ID_TOKEN_VALIDITY = Duration.hours(1);
const REFRESH_TOKEN_VALIDITY = Duration.hours(12);

export interface OperatorApiSettings {
  /**
   * An OIDC issuer (Entra ID, Okta, …) whose tokens the API accepts instead
   * of a Cognito user pool's; then no user pool is created. Its
   * `/.well-known/openid-configuration` must be reachable by API Gateway.
   * @default a Cognito user pool created by the stack
   */
  readonly oidcIssuer?: string;
  /**
   * The `aud` (or `client_id`) values API Gateway accepts from `oidcIssuer`.
   * Required with `oidcIssuer`.
   * @default the stack's user pool client
   */
  readonly oidcAudience?: readonly string[];
  /**
   * The console's public client (authorization code with PKCE) at
   * `oidcIssuer`, so the console signs people in there itself. Register the
   * console's `<console URL>/auth/callback` as its redirect URI. With the ID
   * token (the default) the client id must be one of `oidcAudience`.
   * @default none: the console asks for a token to be pasted
   */
  readonly oidcConsoleClientId?: string;
  /**
   * Which of the issuer's tokens the console sends the API: `id_token` (it
   * carries the groups at most issuers) or `access_token` (an issuer that puts
   * them in the access token for an API audience).
   * @default 'id_token'
   */
  readonly oidcConsoleToken?: 'id_token' | 'access_token';
  /**
   * The claim listing the caller's groups (`nightshift-admin`, `nightshift-technician`, `nightshift-viewer`).
   * @default 'cognito:groups' with Cognito, 'groups' with `oidcIssuer`
   */
  readonly groupsClaim?: string;
  /**
   * The claim naming a viewer's tenant.
   * @default 'custom:tenantId' with Cognito, 'tenantId' with `oidcIssuer`
   */
  readonly tenantClaim?: string;
  /**
   * The hosted UI's domain prefix, `<prefix>.auth.<region>.amazoncognito.com`
   * (unique in the Region). Cognito only.
   * @default `<stack name>-<account>`, lower case
   */
  readonly authDomainPrefix?: string;
  /**
   * Where the hosted UI may send the authorization code: HTTPS, or http on localhost. Cognito only.
   * @default ['http://localhost:8765/callback'] (the CLI)
   */
  readonly callbackUrls?: readonly string[];
  /**
   * Where the hosted UI may send a user after sign-out. Cognito only.
   * @default the origins of `callbackUrls`
   */
  readonly logoutUrls?: readonly string[];
  /**
   * The console's origin (`https://console.example.com`), the one origin
   * browsers may call the API from.
   * @default none: no CORS, only non-browser callers (the CLI, scripts)
   */
  readonly consoleOrigin?: string;
  /**
   * Requests per second (`rateLimit`) and at once (`burstLimit`) the stage accepts before answering 429.
   * @default { rateLimit: 50, burstLimit: 100 }
   */
  readonly throttle?: { readonly rateLimit: number; readonly burstLimit: number };
  /**
   * Whether every user must sign in with a TOTP app. Cognito only.
   * @default 'optional': a user may enrol TOTP, and threat protection asks for it on a risky sign-in
   */
  readonly mfa?: 'optional' | 'required';
}

/** The settings checked, with their defaults filled in. */
export interface ResolvedOperatorApiSettings {
  readonly auth:
    | {
        readonly kind: 'cognito';
        /** Absent: derived from the stack name and account. */
        readonly domainPrefix?: string;
        readonly callbackUrls: readonly string[];
        readonly logoutUrls: readonly string[];
        readonly mfa: 'optional' | 'required';
      }
    | {
        readonly kind: 'oidc';
        readonly issuer: string;
        readonly audience: readonly string[];
        /** The console's own client at the issuer, and the token it sends; absent: the console asks for a pasted token. */
        readonly console?: { readonly clientId: string; readonly token: 'id_token' | 'access_token' };
      };
  readonly claimNames: { readonly groups: string; readonly tenant: string };
  readonly consoleOrigin?: string;
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
}

export interface OperatorApiProps {
  readonly settings: ResolvedOperatorApiSettings;
  /** The `api` handler's function; it is told the claim names here. */
  readonly handler: lambda.Function;
  /** How long the access log is kept. */
  readonly logRetention: logs.RetentionDays;
}

const COGNITO_ONLY = ['authDomainPrefix', 'callbackUrls', 'logoutUrls', 'mfa'] as const satisfies readonly (keyof OperatorApiSettings)[];

/** The URL `value` spells, or null (`URL.parse` is missing from the Node 20 releases before 20.18). */
function parseUrl(value: string): URL | null {
  try {
    return new URL(value);
  } catch {
    return null;
  }
}

/** `https://host[:port]` or `http://localhost[:port]`, exactly: what a browser sends as `Origin`. */
function checkOrigin(name: string, value: string): void {
  const url = parseUrl(value);
  const localhost = url?.protocol === 'http:' && (url.hostname === 'localhost' || url.hostname === '127.0.0.1');
  if (url === null || (url.protocol !== 'https:' && !localhost) || url.origin !== value) {
    throw new Error(`${name} must be an origin such as https://console.example.com (https, or http on localhost; no path or trailing slash); got "${value}"`);
  }
}

/** Cognito accepts https redirect URLs, and http only to localhost; no fragments. */
function checkRedirectUrl(name: string, value: string): void {
  const url = parseUrl(value);
  const localhost = url?.protocol === 'http:' && url.hostname === 'localhost';
  if (url === null || (url.protocol !== 'https:' && !localhost) || url.hash !== '' || value.length > 1024) {
    throw new Error(`${name} must hold https URLs, or http://localhost URLs, without a fragment; got "${value}"`);
  }
}

/**
 * Checks the API's settings and fills in their defaults, before anything is
 * built: a setting API Gateway or Cognito would refuse at deploy time (or
 * that means nothing with the chosen issuer) is refused here, by its name.
 */
export function resolveOperatorApiSettings(settings: OperatorApiSettings = {}): ResolvedOperatorApiSettings {
  const oidc = settings.oidcIssuer !== undefined;
  let auth: ResolvedOperatorApiSettings['auth'];
  if (oidc) {
    const issuer = settings.oidcIssuer ?? '';
    if (!/^https:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(issuer)) throw new Error(`oidcIssuer must be an https URL such as https://login.example.com/oauth2/default; got "${issuer}"`);
    const audience = settings.oidcAudience ?? [];
    if (audience.length === 0 || audience.some((value) => value.trim() === '')) {
      throw new Error('oidcAudience must name at least one audience (the client id or API identifier the issuer puts in aud) when oidcIssuer is set');
    }
    for (const setting of COGNITO_ONLY) {
      if (settings[setting] !== undefined) throw new Error(`${setting} applies to the Cognito user pool, which is not created when oidcIssuer is set`);
    }
    const consoleClientId = settings.oidcConsoleClientId;
    const consoleToken = settings.oidcConsoleToken ?? 'id_token';
    if (consoleClientId !== undefined && consoleToken === 'id_token' && !audience.includes(consoleClientId)) {
      // an ID token's aud is the client it was issued to: API Gateway would refuse every token the console sends
      throw new Error(`oidcConsoleClientId "${consoleClientId}" must be one of oidcAudience when the console sends ID tokens (oidcConsoleToken id_token)`);
    }
    auth = { kind: 'oidc', issuer, audience: [...audience], ...(consoleClientId === undefined ? {} : { console: { clientId: consoleClientId, token: consoleToken } }) };
  } else {
    if (settings.oidcAudience !== undefined) throw new Error('oidcAudience applies to oidcIssuer; with the Cognito user pool the audience is its app client');
    if (settings.oidcConsoleClientId !== undefined || settings.oidcConsoleToken !== undefined) throw new Error('oidcConsoleClientId and oidcConsoleToken apply to oidcIssuer; with the Cognito user pool the console uses its app client');
    const prefix = settings.authDomainPrefix;
    if (prefix !== undefined && (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(prefix) || /aws|amazon|cognito/.test(prefix))) {
      throw new Error(`authDomainPrefix must be 1-63 lower-case letters, digits and hyphens, not starting or ending with a hyphen, without "aws", "amazon" or "cognito"; got "${prefix}"`);
    }
    const callbackUrls = [...(settings.callbackUrls ?? [DEFAULT_CALLBACK_URL])];
    if (callbackUrls.length === 0) throw new Error('callbackUrls must name at least one URL the hosted UI may send the authorization code to');
    for (const url of callbackUrls) checkRedirectUrl('callbackUrls', url);
    // by default a user leaves to the root of where they signed in from
    const logoutUrls = [...(settings.logoutUrls ?? new Set(callbackUrls.map((url) => `${new URL(url).origin}/`)))];
    for (const url of logoutUrls) checkRedirectUrl('logoutUrls', url);
    const mfa = settings.mfa ?? 'optional';
    auth = { kind: 'cognito', ...(prefix === undefined ? {} : { domainPrefix: prefix }), callbackUrls, logoutUrls, mfa };
  }
  const claimNames = {
    groups: settings.groupsClaim ?? (oidc ? DEFAULT_OIDC_CLAIM_NAMES.groups : DEFAULT_CLAIM_NAMES.groups),
    tenant: settings.tenantClaim ?? (oidc ? DEFAULT_OIDC_CLAIM_NAMES.tenant : DEFAULT_CLAIM_NAMES.tenant),
  };
  for (const [setting, value] of [['groupsClaim', claimNames.groups], ['tenantClaim', claimNames.tenant]] as const) {
    if (!/^[\x21-\x7e]{1,128}$/.test(value)) throw new Error(`${setting} must be a claim name of 1-128 printable characters without spaces; got "${value}"`);
  }
  const throttle = settings.throttle ?? DEFAULT_THROTTLE;
  // API Gateway's own account-level ceilings
  if (!(throttle.rateLimit > 0 && throttle.rateLimit <= 10_000)) throw new Error(`throttle.rateLimit must be above 0 and at most 10000 requests per second; got ${throttle.rateLimit}`);
  if (!Number.isInteger(throttle.burstLimit) || throttle.burstLimit < 1 || throttle.burstLimit > 5_000) {
    throw new Error(`throttle.burstLimit must be a whole number of requests from 1 to 5000; got ${throttle.burstLimit}`);
  }
  if (settings.consoleOrigin !== undefined) checkOrigin('consoleOrigin', settings.consoleOrigin);
  return {
    auth,
    claimNames,
    ...(settings.consoleOrigin === undefined ? {} : { consoleOrigin: settings.consoleOrigin }),
    throttle: { rateLimit: throttle.rateLimit, burstLimit: throttle.burstLimit },
  };
}

/**
 * The operator HTTP API: API Gateway's HTTP API in front of the `api`
 * function, its JWT authorizer, and (unless an OIDC issuer is configured)
 * the Cognito user pool that signs the tokens.
 *
 * Tokens: with Cognito, callers send the **ID token**. It carries
 * `cognito:groups` and `custom:tenantId` (and `email`) as Cognito issues it,
 * and its `aud` is the app client, which is what API Gateway's JWT authorizer
 * checks. The access token carries the groups but no custom attribute unless
 * a pre-token-generation trigger adds it, which would be one more function on
 * every sign-in and refresh for no gain here (the API asks for no OAuth scopes).
 * The authorizer lets an access token of the same client through too (its
 * `client_id` matches), but it names no tenant and no email: a viewer sending
 * one is refused by the API.
 * The app client may read `custom:tenantId` but not write it, so a user cannot
 * move themselves to another tenant; groups change only through the admin API.
 *
 * API Gateway verifies issuer, audience, expiry and signature, then hands the
 * function the claims under `requestContext.authorizer.jwt.claims`, every value
 * a string (a list claim such as `cognito:groups` arrives as `[a b]`). A token
 * it refuses never reaches the function: that 401 is API Gateway's own
 * (`{"message":"Unauthorized"}`), not the API's error envelope.
 */
export class OperatorApi extends Construct {
  readonly httpApi: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly accessLog: logs.LogGroup;
  /** Absent when an OIDC issuer is configured. */
  readonly userPool?: cognito.UserPool;
  readonly userPoolClient?: cognito.UserPoolClient;
  readonly userPoolDomain?: cognito.UserPoolDomain;
  readonly claimNames: { readonly groups: string; readonly tenant: string };

  constructor(scope: Construct, id: string, props: OperatorApiProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { settings } = props;
    this.claimNames = settings.claimNames;
    props.handler.addEnvironment('API_GROUPS_CLAIM', settings.claimNames.groups);
    props.handler.addEnvironment('API_TENANT_CLAIM', settings.claimNames.tenant);

    let issuer: string;
    let audience: string[];
    if (settings.auth.kind === 'oidc') {
      issuer = settings.auth.issuer;
      audience = [...settings.auth.audience];
    } else {
      const cognitoAuth = this.cognitoUserPool(settings.auth);
      this.userPool = cognitoAuth.pool;
      this.userPoolClient = cognitoAuth.client;
      this.userPoolDomain = cognitoAuth.domain;
      issuer = cognitoAuth.issuer;
      audience = [cognitoAuth.client.userPoolClientId];
    }
    const authorizer = new HttpJwtAuthorizer('OperatorJwt', issuer, { jwtAudience: audience, identitySource: ['$request.header.Authorization'] });

    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      apiName: `${stack.stackName}-operator`,
      description: 'Nightshift operator API: the CLI, the console and MSP tools',
      // the stage below is made by hand: the default one takes no access log
      createDefaultStage: false,
      ...(settings.consoleOrigin === undefined
        ? {}
        : {
            corsPreflight: {
              allowOrigins: [settings.consoleOrigin],
              allowMethods: API_PROXY_METHODS.map((method) => apigwv2.CorsHttpMethod[method]),
              allowHeaders: ['authorization', 'content-type', 'idempotency-key'],
              // bearer tokens, never cookies
              allowCredentials: false,
              maxAge: Duration.hours(1),
            },
          }),
    });

    this.accessLog = new logs.LogGroup(this, 'AccessLog', { retention: props.logRetention });
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: settings.throttle,
      accessLogSettings: { destination: new apigwv2.LogGroupLogDestination(this.accessLog), format: accessLogFormat() },
    });

    const integration = new HttpLambdaIntegration('ApiFunction', props.handler);
    this.httpApi.addRoutes({
      path: API_PROXY_PATH,
      methods: API_PROXY_METHODS.map((method) => apigwv2.HttpMethod[method]),
      integration,
      authorizer,
    });
    for (const route of PUBLIC_API_ROUTES) {
      const [created] = this.httpApi.addRoutes({ path: route.path, methods: [apigwv2.HttpMethod[route.method]], integration });
      if (created) {
        Validations.of(created).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: `${route.method} ${route.path} is public by design: the OpenAPI document and the health check hold no tenant data and must answer before a caller has a token.`,
        });
      }
    }
    for (const route of LINK_PAGE_ROUTES) {
      const [created] = this.httpApi.addRoutes({ path: route.path, methods: [apigwv2.HttpMethod[route.method]], integration });
      if (created) {
        Validations.of(created).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: `${route.method} ${route.path} is an end user's email link: it carries no operator token by design; the HMAC-signed, expiring, single-purpose token in the path is checked by the function, and only the page's POST acts.`,
        });
      }
    }

    const endpoint = this.httpApi.apiEndpoint;
    new CfnOutput(stack, 'ApiUrl', { value: endpoint, description: 'The operator API; routes under /v1 (nightshift --api-url)' });
    new CfnOutput(stack, 'OpenApiUrl', { value: `${endpoint}${PUBLIC_API_ROUTES[0].path}`, description: 'The OpenAPI 3.1 document of the operator API' });
    new CfnOutput(stack, 'AuthIssuer', { value: issuer, description: 'The OIDC issuer whose tokens the API accepts' });
  }

  /**
   * The user pool, its three role groups, the tenant attribute, the public
   * app client the CLI and the console sign in with (authorization code with
   * PKCE, no secret), and the hosted UI's domain.
   */
  private cognitoUserPool(auth: Extract<ResolvedOperatorApiSettings['auth'], { kind: 'cognito' }>): {
    pool: cognito.UserPool;
    client: cognito.UserPoolClient;
    domain: cognito.UserPoolDomain;
    issuer: string;
  } {
    const stack = Stack.of(this);
    const requireMfa = auth.mfa === 'required';
    const pool = new cognito.UserPool(this, 'UserPool', {
      userPoolName: `${stack.stackName}-operators`,
      // an MSP admin creates every operator (and sets their group and tenant); nobody signs themselves up
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      customAttributes: {
        // tenant ids as the catalog accepts them; changeable, as a viewer may move to another customer
        [TENANT_ATTRIBUTE]: new cognito.StringAttribute({ minLen: 1, maxLen: 128, mutable: true }),
      },
      mfa: requireMfa ? cognito.Mfa.REQUIRED : cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { sms: false, otp: true },
      passwordPolicy: {
        minLength: 14,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      // Plus: threat protection (compromised credentials, risky sign-ins) for accounts that can run scripts on every customer's computers
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    if (!requireMfa) {
      Validations.of(pool).acknowledge({
        id: 'AwsSolutions-COG2',
        reason: 'MFA is optional by default (the mfa setting makes it required): every user may enrol TOTP, and threat protection asks for it on a medium- or high-risk sign-in.',
      });
    }
    new cognito.CfnUserPoolRiskConfigurationAttachment(this, 'RiskConfiguration', {
      userPoolId: pool.userPoolId,
      clientId: 'ALL',
      compromisedCredentialsRiskConfiguration: { actions: { eventAction: 'BLOCK' } },
      accountTakeoverRiskConfiguration: {
        actions: {
          lowAction: { eventAction: 'NO_ACTION', notify: false },
          mediumAction: { eventAction: 'MFA_IF_CONFIGURED', notify: false },
          highAction: { eventAction: 'MFA_REQUIRED', notify: false },
        },
      },
    });
    ROLES.forEach((role, index) => {
      pool.addGroup(`${role}Group`, { groupName: ROLE_GROUPS[role], description: GROUP_DESCRIPTIONS[role], precedence: index + 1 });
    });

    const client = pool.addClient('OperatorClient', {
      userPoolClientName: 'nightshift-operators',
      // a public client: the CLI and the console cannot keep a secret, PKCE protects the code instead
      generateSecret: false,
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callbackUrls: [...auth.callbackUrls],
        logoutUrls: [...auth.logoutUrls],
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      idTokenValidity: ID_TOKEN_VALIDITY,
      accessTokenValidity: ID_TOKEN_VALIDITY,
      refreshTokenValidity: REFRESH_TOKEN_VALIDITY,
      // the ID token carries what the client may read: the tenant must be among it
      readAttributes: new cognito.ClientAttributes()
        .withStandardAttributes({ email: true, emailVerified: true, fullname: true })
        .withCustomAttributes(TENANT_ATTRIBUTE),
      // and a user must not be able to change their own tenant (or the email the audit trail shows)
      writeAttributes: new cognito.ClientAttributes().withStandardAttributes({ fullname: true }),
    });

    const prefix = auth.domainPrefix ?? `${stack.stackName.toLowerCase().replace(/[^a-z0-9-]/g, '-')}-${stack.account}`;
    const domain = pool.addDomain('HostedUi', { cognitoDomain: { domainPrefix: prefix } });

    new CfnOutput(stack, 'UserPoolId', { value: pool.userPoolId, description: 'The operators: add users here, in a nightshift-* group (viewers with custom:tenantId)' });
    new CfnOutput(stack, 'UserPoolClientId', { value: client.userPoolClientId, description: 'The public app client the CLI and the console sign in with' });
    new CfnOutput(stack, 'HostedUiDomain', { value: domain.baseUrl(), description: 'The hosted sign-in pages (authorization code with PKCE)' });
    // ProviderURL has no scheme, and spells the partition's domain (amazonaws.com.cn in China) where a hand-built URL would not
    return { pool, client, domain, issuer: `https://${pool.userPoolProviderUrl}` };
  }
}

/**
 * One JSON object per request: who (the token's subject, never the token, nor a link's token in the path),
 * what, how it ended, and how long it took. Every value is quoted, so the
 * format is JSON whatever API Gateway substitutes.
 */
function accessLogFormat(): AccessLogFormat {
  return AccessLogFormat.custom(
    JSON.stringify({
      requestId: '$context.requestId',
      requestTime: '$context.requestTime',
      sourceIp: '$context.identity.sourceIp',
      userAgent: '$context.identity.userAgent',
      httpMethod: '$context.httpMethod',
      // the route, not the path: an end user's link carries its signed token in the path, and a log reader must not get working links
      routeKey: '$context.routeKey',
      protocol: '$context.protocol',
      status: '$context.status',
      responseLength: '$context.responseLength',
      responseLatencyMs: '$context.responseLatency',
      integrationLatencyMs: '$context.integrationLatency',
      integrationStatus: '$context.integrationStatus',
      integrationError: '$context.integrationErrorMessage',
      error: '$context.error.message',
      authorizerError: '$context.authorizer.error',
      subject: '$context.authorizer.claims.sub',
    }),
  );
}
