import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { linkKeyRingSchema } from '../../functions/adapters/link-tokens.hmac.js';
import { HANDLERS, type PortAccess } from '../../functions/handlers/registry.js';
import { NightshiftMail, REPUTATION_ALARM_RATES } from '../../infra/mail.js';
import { HANDLER_TAG, NightshiftStack, type NightshiftStackProps } from '../../infra/nightshift-stack.js';

type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string };
interface Statement {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
}

const ENV = { account: '111111111111', region: 'eu-west-1' };
const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** Synthesizes without bundling: the template is what matters here, not the code assets. */
function synthesize(props: NightshiftStackProps = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new NightshiftStack(app, 'Test', { env: ENV, ...props });
  const template = Template.fromStack(stack);
  return { app, stack, template, resources: template.toJSON().Resources as Record<string, Resource> };
}

/** Each handler's own policy statements and environment, by registry name. */
function perHandler(resources: Record<string, Resource>) {
  const functions = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function');
  return HANDLERS.map((entry) => {
    const fn = functions.find((r) => (r.Properties.Tags as { Key: string; Value: string }[] | undefined)?.some((tag) => tag.Key === HANDLER_TAG && tag.Value === entry.name));
    const roleId = (fn?.Properties.Role as { 'Fn::GetAtt': [string] } | undefined)?.['Fn::GetAtt'][0];
    const statements = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles as { Ref: string }[]).some((ref) => ref.Ref === roleId))
      .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    const environment = ((fn?.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {});
    return { entry, statements, environment };
  });
}
const declaring = (access: PortAccess): string[] => HANDLERS.filter((entry) => entry.ports.includes(access)).map((entry) => entry.name);

const main = synthesize();
const withDomain = synthesize({ mailFromIdentity: 'msp.example' });

describe('the configuration set every end-user email goes through', () => {
  it("puts bounced and complaining addresses on SES's suppression list and publishes reputation metrics", () => {
    main.template.hasResourceProperties('AWS::SES::ConfigurationSet', {
      SuppressionOptions: { SuppressedReasons: Match.arrayEquals(['BOUNCE', 'COMPLAINT']) },
      ReputationOptions: { ReputationMetricsEnabled: true },
      SendingOptions: { SendingEnabled: true },
    });
  });

  it('sends bounce, complaint, reject and delivery-delay events to the default event bus (the one SES delivers to)', () => {
    const [destination] = Object.values(main.resources).filter((r) => r.Type === 'AWS::SES::ConfigurationSetEventDestination');
    const properties = destination?.Properties.EventDestination as { Enabled: boolean; MatchingEventTypes: string[]; EventBridgeDestination: { EventBusArn: unknown } };
    expect(properties.Enabled).toBe(true);
    expect([...properties.MatchingEventTypes].sort()).toEqual(['bounce', 'complaint', 'deliveryDelay', 'reject']);
    expect(JSON.stringify(properties.EventBridgeDestination.EventBusArn)).toMatch(/:event-bus\/default"/);
  });

  it('raises an alarm on the account bounce and complaint rates, well before SES would review the account', () => {
    const alarms = Object.values(main.resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.Namespace === 'AWS/SES');
    expect(alarms.map((a) => [a.Properties.MetricName, a.Properties.Threshold]).sort()).toEqual([
      ['Reputation.BounceRate', REPUTATION_ALARM_RATES.bounce],
      ['Reputation.ComplaintRate', REPUTATION_ALARM_RATES.complaint],
    ]);
    expect(REPUTATION_ALARM_RATES.bounce).toBeLessThan(0.05);
    expect(REPUTATION_ALARM_RATES.complaint).toBeLessThan(0.001);
  });
});

describe('the identity end-user email is sent from', () => {
  it('creates the configured domain with DKIM and the configuration set as its default, its DKIM records as outputs', () => {
    withDomain.template.hasResourceProperties('AWS::SES::EmailIdentity', {
      EmailIdentity: 'msp.example',
      ConfigurationSetAttributes: { ConfigurationSetName: { Ref: Match.stringLikeRegexp('MailConfigurationSet') } },
    });
    const outputs = Object.keys(withDomain.template.toJSON().Outputs as Record<string, unknown>);
    expect(outputs.filter((name) => name.includes('DkimRecord'))).toHaveLength(3);
    main.template.resourceCountIs('AWS::SES::EmailIdentity', 0);
  });

  it('creates an address identity without DNS records, and refuses a value that is neither, naming the setting', () => {
    const stack = new Stack(new App(), 'Address', { env: ENV });
    new NightshiftMail(stack, 'Mail', { mailFromIdentity: 'maintenance@msp.example' });
    Template.fromStack(stack).hasResourceProperties('AWS::SES::EmailIdentity', { EmailIdentity: 'maintenance@msp.example' });
    expect(Template.fromStack(stack).toJSON().Outputs).toBeUndefined();
    for (const bad of ['msp', 'two words.example', '"x"@msp.example', 'a@b@c.example']) {
      expect(() => new NightshiftMail(new Stack(new App(), 'Bad'), 'Mail', { mailFromIdentity: bad })).toThrow(/mailFromIdentity must be a domain .* or an email address/);
    }
  });
});

describe('the link key ring secret', () => {
  it('is generated as a ring the adapter reads (a random 64-character first key k1) and kept when the stack goes', () => {
    const [secret] = Object.values(main.resources).filter((r) => r.Type === 'AWS::SecretsManager::Secret');
    const generate = secret?.Properties.GenerateSecretString as { SecretStringTemplate: string; GenerateStringKey: string; PasswordLength: number; ExcludePunctuation: boolean };
    expect(generate).toMatchObject({ GenerateStringKey: 'k1', PasswordLength: 64, ExcludePunctuation: true });
    // what Secrets Manager will store: the template with a generated value of that length at that key
    const stored = { ...(JSON.parse(generate.SecretStringTemplate) as object), [generate.GenerateStringKey]: 'Ab1'.repeat(21) + 'Z' };
    expect(linkKeyRingSchema.parse(stored)).toEqual({ current: 'k1', keys: { k1: stored.k1 } });
    expect(secret?.DeletionPolicy).toBe('Retain');
    expect(secret?.UpdateReplacePolicy).toBe('Retain');
  });
});

describe('grants, from the ports each handler declares', () => {
  it.each([
    ['no identity configured', main],
    ['a domain identity', withDomain],
  ])('lets exactly the handlers declaring mailer:send call ses:SendEmail, on the identity and the configuration set only (%s)', (_, synthesized) => {
    const handlers = perHandler(synthesized.resources);
    const senders = handlers.filter((h) => h.statements.some((s) => asArray(s.Action).includes('ses:SendEmail')));
    expect(senders.map((h) => h.entry.name)).toEqual(declaring('mailer:send'));
    expect(senders.length).toBeGreaterThan(0);
    for (const sender of senders) {
      const sends = sender.statements.filter((s) => asArray(s.Action).some((action) => action.startsWith('ses:')));
      expect(sends).toHaveLength(1);
      expect(asArray(sends[0]?.Action)).toEqual(['ses:SendEmail']);
      const resources = JSON.stringify(sends[0]?.Resource);
      expect(resources).toContain(':configuration-set/');
      expect(resources).toMatch(synthesized === main ? /:identity\/\*"/ : /MailIdentity/);
      expect(sender.environment.MAIL_CONFIGURATION_SET).toEqual({ Ref: expect.stringMatching(/^MailConfigurationSet/) as unknown });
    }
    for (const other of handlers.filter((h) => !senders.includes(h))) expect(other.environment.MAIL_CONFIGURATION_SET).toBeUndefined();
  });

  it('lets exactly the handlers declaring linkKeys:read read the key ring secret, and tells them where it is', () => {
    const handlers = perHandler(main.resources);
    const readers = handlers.filter((h) => h.statements.some((s) => asArray(s.Action).some((action) => action.startsWith('secretsmanager:'))));
    expect(readers.map((h) => h.entry.name)).toEqual(declaring('linkKeys:read'));
    for (const reader of readers) {
      const reads = reader.statements.filter((s) => asArray(s.Action).some((action) => action.startsWith('secretsmanager:')));
      expect(reads.map((s) => [s.Action, s.Resource])).toEqual([['secretsmanager:GetSecretValue', { Ref: expect.stringMatching(/^MailLinkKeys/) as unknown }]]);
      expect(reader.environment.LINK_KEYS_SECRET_ARN).toEqual({ Ref: expect.stringMatching(/^MailLinkKeys/) as unknown });
    }
  });

  it.each([
    ['no identity configured', main],
    ['a domain identity', withDomain],
  ])('passes the cdk-nag AwsSolutions checks (%s)', (_, synthesized) => {
    const report = new AwsSolutionsChecks(synthesized.app).validateScope(synthesized.app);
    expect(report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
  });
});
