import { randomBytes } from 'node:crypto';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DeleteParametersCommand,
  ParameterLimitExceeded,
  PutParameterCommand,
  SendCommandCommand,
  SSMClient,
  SSMServiceException,
  ThrottlingException,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { SsmAgent } from '../../functions/adapters/agent.ssm.js';
import { SsmSecretStore } from '../../functions/adapters/secret-store.ssm.js';
import { ConfigurationError, TransientError } from '../../functions/core/errors.js';
import type { Platform } from '../../functions/core/model/catalog.js';
import type { Action } from '../../functions/core/model/session.js';
import { buildActionCommand, buildDetectionCommand } from '../../functions/core/use-cases/agent-commands.js';
import type { Dependencies } from '../../functions/core/use-cases/dependencies.js';
import { deployTask, sessionRecord, task, taskItem } from '../support/domain.js';
import { leaksIn, secretNeedles } from '../support/secret-needles.js';

const ssm = mockClient(SSMClient);
const s3 = mockClient(S3Client);
const store = new SsmSecretStore(new SSMClient({ region: 'eu-west-1' }));

describe('secrets in SSM Parameter Store (SDK mocked: SSM has no local twin)', () => {
  beforeEach(() => {
    ssm.reset();
    s3.reset();
  });

  it('stores a secret as a standard SecureString parameter, overwriting the previous value, with the default key unless one is configured', async () => {
    ssm.on(PutParameterCommand).resolves({ Version: 2 });
    await store.put('/nightshift/secrets/lic/licenceKey', 'S3cr3t');
    expect(ssm).toHaveReceivedCommandWith(PutParameterCommand, {
      Name: '/nightshift/secrets/lic/licenceKey',
      Value: 'S3cr3t',
      Type: 'SecureString',
      Tier: 'Standard',
      Overwrite: true,
    });
    expect(ssm.commandCalls(PutParameterCommand)[0]?.args[0].input.KeyId).toBeUndefined();

    await new SsmSecretStore(new SSMClient({ region: 'eu-west-1' }), { kmsKeyId: 'alias/nightshift-secrets' }).put('/nightshift/secrets/lic/licenceKey', 'S3cr3t');
    expect(ssm).toHaveReceivedCommandWith(PutParameterCommand, { KeyId: 'alias/nightshift-secrets' });
  });

  it('deletes in batches of 10 (the API limit), and names with nothing stored are not an error', async () => {
    ssm.on(DeleteParametersCommand).callsFake((input: { Names: string[] }) => ({ DeletedParameters: input.Names.slice(1), InvalidParameters: input.Names.slice(0, 1) }));
    const references = Array.from({ length: 23 }, (_, i) => `/nightshift/secrets/d/p${i}`);
    await store.delete(references);
    const batches = ssm.commandCalls(DeleteParametersCommand).map((call) => call.args[0].input.Names);
    expect(batches.map((names) => names?.length)).toEqual([10, 10, 3]);
    expect(batches.flat()).toEqual(references);
    await store.delete([]);
    expect(ssm).toHaveReceivedCommandTimes(DeleteParametersCommand, 3);
  });

  it('a failure never carries the SDK message, which may quote the value: throttling is transient, the rest permanent with a hint (proves no value in errors or logs)', async () => {
    const secret = 'S3cr3t-in-an-error';
    ssm.on(PutParameterCommand).rejects(new ThrottlingException({ message: `Rate exceeded for ${secret}`, Message: `Rate exceeded for ${secret}`, $metadata: {} }));
    const throttled = await store.put('/nightshift/secrets/d/p', secret).catch((e: unknown) => e);
    expect(throttled).toBeInstanceOf(TransientError);
    expect((throttled as Error).message).toBe('storing secret /nightshift/secrets/d/p failed: ThrottlingException');
    expect((throttled as Error).cause).toBeUndefined();

    const quoting = new SSMServiceException({ name: 'ValidationException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: `Value '${secret}' at 'value' failed to satisfy constraint` });
    ssm.reset();
    ssm.on(PutParameterCommand).rejects(quoting);
    const invalid = await store.put('/nightshift/secrets/d/p', secret).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(ConfigurationError);
    expect(JSON.stringify(invalid)).not.toContain(secret);
    expect((invalid as Error).message).not.toContain(secret);
    expect((invalid as Error).cause).toBeUndefined();

    ssm.reset();
    ssm.on(PutParameterCommand).rejects(new ParameterLimitExceeded({ message: 'limit', $metadata: {} }));
    await expect(store.put('/nightshift/secrets/d/p', secret)).rejects.toThrow(/ParameterLimitExceeded; the account holds as many standard parameters/);
    const denied = new SSMServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'not authorized' });
    ssm.on(DeleteParametersCommand).rejects(denied);
    await expect(store.delete(['/nightshift/secrets/d/p'])).rejects.toThrow(/AccessDeniedException; the function needs ssm:PutParameter and ssm:DeleteParameters/);
  });
});

describe('what SendCommand carries for a task with a secret parameter (SSM and S3 mocked)', () => {
  const secret = `S3cr3t-${randomBytes(8).toString('hex')}`;
  const needles = secretNeedles(secret);
  const licensed = task('licensed', {
    parameters: [
      { name: 'edition', type: 'string', required: true },
      { name: 'licenceKey', type: 'secret', required: true },
    ],
  });
  // the worst case: a deployment item that still holds the value (stored before secrets moved out), which
  // building a command used to read back; now nothing reads it, so it cannot end up in the command
  const legacy = deployTask('lic', 'licensed', { parameters: { edition: 'pro', licenceKey: secret } });
  const deps = {
    catalog: {
      getTasks: () => Promise.resolve([licensed]),
      getSoftware: () => Promise.resolve([]),
      getDeployment: () => Promise.resolve(legacy),
    },
    agentSettings: { deliveryTimeoutSeconds: 600, detectionItemTimeoutSeconds: 30, actionTimeoutSeconds: 300, skipOfflineAfterSeconds: 60 },
  } as unknown as Dependencies;
  const sessionOn = (platform: Platform) =>
    sessionRecord('ses_secret', { platform, items: [taskItem('licensed', { deploymentId: 'lic', parameters: { edition: 'pro', licenceKey: '(secret)' } })] });
  const enforce: Action = {
    sessionId: 'ses_secret',
    actionId: '001',
    itemKey: 'task:licensed',
    itemId: 'licensed',
    itemName: 'licensed',
    type: 'TaskEnforce',
    reason: 'TaskNotCompliant',
    dependsOn: [],
    critical: true,
    status: 'NotStarted',
    result: 'Pending',
  };
  /** Every request the adapter made, as JSON: SendCommand inputs and any staged script uploaded to S3. */
  const sentRequests = () =>
    JSON.stringify([
      ...ssm.commandCalls(SendCommandCommand).map((call) => call.args[0].input),
      // the adapter uploads the script as a string
      ...s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input),
    ]);
  /** The `NAME=<base64>` pairs the bash script decodes: what the computer is told. */
  const bashEnvironment = (script: string): Record<string, string> =>
    Object.fromEntries([...script.matchAll(/'(NIGHTSHIFT_[A-Za-z0-9_]+)=([A-Za-z0-9+/=]*)'/g)].map(([, name = '', value = '']) => [name, Buffer.from(value, 'base64').toString('utf8')]));

  beforeEach(() => {
    ssm.reset();
    s3.reset();
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
    s3.on(PutObjectCommand).resolves({});
  });

  it.each(['linux', 'windows'] as const)('on %s, detection and the action carry the reference, never the value, inline and staged in S3 alike', async (platform) => {
    for (const inlineScriptLimitBytes of [60_000, 1]) {
      const agent = new SsmAgent(new SSMClient({ region: 'eu-west-1' }), new S3Client({ region: 'eu-west-1' }), {
        outputBucket: 'out',
        outputPrefix: 'commands/',
        region: 'eu-west-1',
        inlineScriptLimitBytes,
      });
      const session = sessionOn(platform);
      await agent.send(await buildDetectionCommand(deps, session, 'Detect', 'n0nce0001'));
      await agent.send(await buildActionCommand(deps, session, enforce, 'Action#001', 'n0nce0002', { task: licensed }));
    }
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 4);
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 2);
    expect(leaksIn(sentRequests(), needles)).toEqual([]);
  });

  it('the computer is told the secret by reference and every other parameter as before', async () => {
    const agent = new SsmAgent(new SSMClient({ region: 'eu-west-1' }), new S3Client({ region: 'eu-west-1' }), { outputBucket: 'out', outputPrefix: 'commands/', region: 'eu-west-1' });
    await agent.send(await buildActionCommand(deps, sessionOn('linux'), enforce, 'Action#001', 'n0nce0002', { task: licensed }));
    const script = ssm.commandCalls(SendCommandCommand)[0]?.args[0].input.Parameters?.commands?.[0] ?? '';
    expect(bashEnvironment(script)).toMatchObject({
      NIGHTSHIFT_TASK_METHOD: 'set',
      NIGHTSHIFT_PARAMETERS_JSON: '{"edition":"pro"}',
      NIGHTSHIFT_PARAM_edition: 'pro',
      NIGHTSHIFT_SECRET_REFS_JSON: '{"licenceKey":"/nightshift/secrets/shared/lic/licenceKey"}',
    });
    expect(bashEnvironment(script)).not.toHaveProperty('NIGHTSHIFT_PARAM_licenceKey');
    // no Region configured (as locally): the computer's own CLI decides
    expect(bashEnvironment(script)).not.toHaveProperty('NIGHTSHIFT_SECRETS_REGION');
  });

  it("tells the computer the stack's Region for its secrets, so a hybrid node's CLI without a default Region can read them", async () => {
    const inRegion = { ...deps, agentSettings: { ...deps.agentSettings, secretsRegion: 'eu-central-1' } };
    const agent = new SsmAgent(new SSMClient({ region: 'eu-west-1' }), new S3Client({ region: 'eu-west-1' }), { outputBucket: 'out', outputPrefix: 'commands/', region: 'eu-west-1' });
    await agent.send(await buildActionCommand(inRegion, sessionOn('linux'), enforce, 'Action#001', 'n0nce0002', { task: licensed }));
    await agent.send(await buildDetectionCommand(inRegion, sessionOn('linux'), 'Detect', 'n0nce0001'));
    const [action, detection] = ssm.commandCalls(SendCommandCommand).map((call) => call.args[0].input.Parameters?.commands?.[0] ?? '');
    expect(bashEnvironment(action ?? '')).toMatchObject({ NIGHTSHIFT_SECRETS_REGION: 'eu-central-1' });
    expect(detection).toContain(Buffer.from('eu-central-1').toString('base64'));
  });
});
