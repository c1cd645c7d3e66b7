import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DEFAULT_MANAGED_NODE_TAG, NightshiftStack } from './nightshift-stack.js';

const app = new App();

/** A `-c name=value` (or cdk.json) setting, as text; absent when not given. */
const contextText = (name: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(name);
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  throw new Error(`the context setting ${name} must be a string or a number`);
};
const retentionDays = contextText('nightshift:retentionDays');
const alarmEmail = contextText('nightshift:alarmEmail');

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
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
