import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SESSION_ASL_FILE } from '../../infra/nightshift-stack.js';
import { taskStates } from '../../local/local-workflow.js';

interface State {
  readonly Type: string;
  readonly Resource?: string;
  readonly Parameters?: { readonly FunctionName?: string };
  readonly Retry?: readonly { readonly ErrorEquals: readonly string[] }[];
  readonly ItemProcessor?: { readonly States: Readonly<Record<string, State>> };
}

const aslText = readFileSync(SESSION_ASL_FILE, 'utf8');
const asl = JSON.parse(aslText) as { States: Record<string, State> };

/**
 * The errors the Lambda service (not the handler) raises around an
 * invocation, which Step Functions recommends retrying: the invoke never ran
 * or its answer was lost, and every handler repeats safely.
 */
const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.ClientExecutionTimeoutException',
];

describe('the session state machine and the Lambda service', () => {
  const lambdaTasks = [...taskStates(asl)].filter(
    ([, state]) => /FunctionArn\}$/.test(state.Resource ?? '') || (state.Resource?.endsWith(':states:::lambda:invoke.waitForTaskToken') ?? false),
  );

  it('has only Lambda tasks, and finds all twelve', () => {
    expect(lambdaTasks.map(([name]) => name).sort()).toEqual([...taskStates(asl).keys()].sort());
    expect(lambdaTasks).toHaveLength(12);
  });

  it.each(LAMBDA_SERVICE_ERRORS)('retries %s on every Lambda task', (errorName) => {
    for (const [name, state] of lambdaTasks) {
      const retried = state.Retry?.flatMap((retrier) => retrier.ErrorEquals) ?? [];
      expect(retried, name).toContain(errorName);
    }
  });

  it("names the service integration in the deployment's own partition, never the commercial one", () => {
    expect(aslText).not.toMatch(/arn:aws:/);
    for (const [name, state] of lambdaTasks) {
      if (state.Parameters?.FunctionName === undefined) continue;
      expect(state.Resource, name).toBe('arn:${Partition}:states:::lambda:invoke.waitForTaskToken');
    }
  });
});
