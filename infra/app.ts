import { App, Validations } from 'aws-cdk-lib';
import { PriceClass } from 'aws-cdk-lib/aws-cloudfront';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { ConsoleHostingSettings } from './console-hosting.js';
import { DEFAULT_MANAGED_NODE_TAG, NightshiftStack } from './nightshift-stack.js';
import { DEFAULT_THROTTLE, type OperatorApiSettings } from './operator-api.js';

const app = new App();

/** A `-c name=value` (or cdk.json) setting, as text; absent when not given. */
const contextText = (name: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(name);
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  throw new Error(`the context setting ${name} must be a string or a number`);
};
/** A list setting: an array in cdk.json, or comma-separated on the command line; absent when not given. */
const contextList = (name: string): string[] | undefined => {
  const value: unknown = app.node.tryGetContext(name);
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value.map((item) => item.trim());
  const text = contextText(name);
  return text === undefined ? undefined : text.split(',').map((item) => item.trim()).filter((item) => item !== '');
};
const retentionDays = contextText('nightshift:retentionDays');
const alarmEmail = contextText('nightshift:alarmEmail');
/** The SES identity (a domain, or one address) end-user email is sent from; unset: any identity verified in the account. */
const mailFromIdentity = contextText('nightshift:mailFromIdentity');
/** The public URL end-user links point at (the MSP's own domain mapped to the API); unset: the API's URL. */
const linkBaseUrl = contextText('nightshift:linkBaseUrl');

/** The operator API's settings, each only when given (the stack refuses a bad value, naming the setting). */
const apiSettings = (): OperatorApiSettings => {
  const oidcIssuer = contextText('nightshift:oidcIssuer');
  const oidcAudience = contextList('nightshift:oidcAudience');
  const oidcConsoleClientId = contextText('nightshift:oidcConsoleClientId');
  const oidcConsoleToken = contextText('nightshift:oidcConsoleToken');
  if (oidcConsoleToken !== undefined && oidcConsoleToken !== 'id_token' && oidcConsoleToken !== 'access_token') {
    throw new Error(`the context setting nightshift:oidcConsoleToken must be "id_token" or "access_token"; got "${oidcConsoleToken}"`);
  }
  const groupsClaim = contextText('nightshift:groupsClaim');
  const tenantClaim = contextText('nightshift:tenantClaim');
  const authDomainPrefix = contextText('nightshift:authDomainPrefix');
  const callbackUrls = contextList('nightshift:authCallbackUrls');
  const logoutUrls = contextList('nightshift:authLogoutUrls');
  const consoleOrigin = contextText('nightshift:consoleOrigin');
  const mfa = contextText('nightshift:mfa');
  if (mfa !== undefined && mfa !== 'optional' && mfa !== 'required') throw new Error(`the context setting nightshift:mfa must be "optional" or "required"; got "${mfa}"`);
  const rateLimit = contextText('nightshift:apiRateLimit');
  const burstLimit = contextText('nightshift:apiBurstLimit');
  return {
    ...(oidcIssuer === undefined ? {} : { oidcIssuer }),
    ...(oidcAudience === undefined ? {} : { oidcAudience }),
    ...(oidcConsoleClientId === undefined ? {} : { oidcConsoleClientId }),
    ...(oidcConsoleToken === undefined ? {} : { oidcConsoleToken }),
    ...(groupsClaim === undefined ? {} : { groupsClaim }),
    ...(tenantClaim === undefined ? {} : { tenantClaim }),
    ...(authDomainPrefix === undefined ? {} : { authDomainPrefix }),
    ...(callbackUrls === undefined ? {} : { callbackUrls }),
    ...(logoutUrls === undefined ? {} : { logoutUrls }),
    ...(consoleOrigin === undefined ? {} : { consoleOrigin }),
    ...(mfa === undefined ? {} : { mfa }),
    ...(rateLimit === undefined && burstLimit === undefined
      ? {}
      : {
          throttle: {
            rateLimit: rateLimit === undefined ? DEFAULT_THROTTLE.rateLimit : Number(rateLimit),
            burstLimit: burstLimit === undefined ? DEFAULT_THROTTLE.burstLimit : Number(burstLimit),
          },
        }),
  };
};

const PRICE_CLASSES: Readonly<Record<string, PriceClass>> = { '100': PriceClass.PRICE_CLASS_100, '200': PriceClass.PRICE_CLASS_200, All: PriceClass.PRICE_CLASS_ALL };

/** The console's hosting settings, each only when given (the stack refuses a bad value, naming the setting). */
const consoleSettings = (): ConsoleHostingSettings => {
  const domainNames = contextList('nightshift:consoleDomainNames');
  const certificateArn = contextText('nightshift:consoleCertificateArn');
  const webAclArn = contextText('nightshift:consoleWebAclArn');
  const allowedCountries = contextList('nightshift:consoleAllowedCountries');
  const priceClassName = contextText('nightshift:consolePriceClass');
  const priceClass = priceClassName === undefined ? undefined : PRICE_CLASSES[priceClassName];
  if (priceClassName !== undefined && priceClass === undefined) throw new Error(`the context setting nightshift:consolePriceClass must be "100", "200" or "All"; got "${priceClassName}"`);
  return {
    ...(domainNames === undefined ? {} : { domainNames }),
    ...(certificateArn === undefined ? {} : { certificateArn }),
    ...(webAclArn === undefined ? {} : { webAclArn }),
    ...(allowedCountries === undefined ? {} : { allowedCountries }),
    ...(priceClass === undefined ? {} : { priceClass }),
  };
};

new NightshiftStack(app, 'Nightshift', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: 'Nightshift: serverless maintenance sessions for MSP fleets',
  managedNodeTag: {
    key: contextText('nightshift:managedNodeTagKey') ?? DEFAULT_MANAGED_NODE_TAG.key,
    value: contextText('nightshift:managedNodeTagValue') ?? DEFAULT_MANAGED_NODE_TAG.value,
  },
  // the stack refuses a value that is not a whole number of days, naming the setting
  ...(retentionDays === undefined ? {} : { retentionDays: Number(retentionDays) }),
  ...(alarmEmail === undefined ? {} : { alarmEmail }),
  ...(mailFromIdentity === undefined ? {} : { mailFromIdentity }),
  ...(linkBaseUrl === undefined ? {} : { linkBaseUrl }),
  api: apiSettings(),
  console: consoleSettings(),
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
