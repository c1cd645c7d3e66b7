import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * The only module that constructs AWS SDK clients. The local runtime passes
 * an endpoint (dynalite) and static credentials; in Lambda both come from the
 * environment. Clients are created once per process and reused.
 */
export interface ClientOptions {
  readonly region?: string;
  readonly endpoint?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** How requests travel: locally, dynalite's in-process handler (local/dynalite.ts); in Lambda, the SDK's default. */
  readonly requestHandler?: DynamoDBClientConfig['requestHandler'];
  /** How requests are signed: locally, for dynalite's in-process handler, without the work of SigV4 (local/dynalite.ts); in Lambda, SigV4. */
  readonly signer?: DynamoDBClientConfig['signer'];
}

/** SDK-level retries with adaptive backoff: throttling is absorbed here before it becomes a TransientError. */
const common = (options: ClientOptions) => ({
  ...(options.region ? { region: options.region } : {}),
  ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  ...(options.credentials ? { credentials: options.credentials } : {}),
  ...(options.requestHandler ? { requestHandler: options.requestHandler } : {}),
  maxAttempts: 4,
  retryMode: 'adaptive' as const,
});

export const createDynamoClient = (options: ClientOptions = {}): DynamoDBClient =>
  new DynamoDBClient({ ...common(options), ...(options.signer ? { signer: options.signer } : {}) });

export const createDocumentClient = (client: DynamoDBClient): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });

export const createSfnClient = (options: ClientOptions = {}): SFNClient => new SFNClient(common(options));

export const createSsmClient = (options: ClientOptions = {}): SSMClient => new SSMClient(common(options));

export const createS3Client = (options: ClientOptions = {}): S3Client => new S3Client(common(options));

export const createSchedulerClient = (options: ClientOptions = {}): SchedulerClient => new SchedulerClient(common(options));

export const createEventBridgeClient = (options: ClientOptions = {}): EventBridgeClient => new EventBridgeClient(common(options));

export const createSesClient = (options: ClientOptions = {}): SESv2Client => new SESv2Client(common(options));

export const createSecretsManagerClient = (options: ClientOptions = {}): SecretsManagerClient => new SecretsManagerClient(common(options));

export const createLambdaClient = (options: ClientOptions = {}): LambdaClient => new LambdaClient(common(options));
