import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { NightshiftStack } from './nightshift-stack.js';

const app = new App();
new NightshiftStack(app, 'Nightshift', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: 'Nightshift: serverless maintenance sessions for MSP fleets',
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
