import { describe, expect, it } from 'vitest';
import { TransientError } from '../../functions/core/errors.js';
import type { LambdaHandler } from '../../functions/handlers/handler-kit.js';
import { LocalWorkflow } from '../../local/local-workflow.js';

/** Pass → Task (retried on TransientError) → Succeed: three states, and a transition per retry. */
const ASL = JSON.stringify({
  StartAt: 'First',
  States: {
    First: { Type: 'Pass', Next: 'Work' },
    Work: {
      Type: 'Task',
      Resource: 'arn:aws:lambda:us-east-1:000000000000:function:work',
      Retry: [{ ErrorEquals: ['TransientError'], MaxAttempts: 3 }],
      Next: 'Done',
    },
    Done: { Type: 'Succeed' },
  },
});

function workflowWith(work: LambdaHandler<unknown, unknown>, ended: (workflow: LocalWorkflow, name: string, status: string) => Promise<void>): LocalWorkflow {
  const workflow: LocalWorkflow = new LocalWorkflow({
    aslText: ASL,
    functions: new Map([['work', work]]),
    substitutions: {},
    retryIntervalMs: 0,
    onExecutionEnded: (name, status) => ended(workflow, name, status),
  });
  return workflow;
}

describe('the local workflow counts the transitions Step Functions would bill, and tells every end', () => {
  it('counts each state entered and each retry, and the count is final when the end is told (it waits for the event log)', async () => {
    let attempts = 0;
    const told: { status: string; transitions: number | undefined }[] = [];
    const workflow = workflowWith(
      () => {
        attempts++;
        return attempts === 1 ? Promise.reject(new TransientError('lost')) : Promise.resolve({ ok: true });
      },
      async (wf, name, status) => {
        told.push({ status, transitions: await wf.countStateTransitions(name) });
      },
    );
    await workflow.startSession('ses_w1');
    const ended = await workflow.waitFor('ses_w1');
    expect(ended).toEqual({ status: 'SUCCEEDED', stateTransitions: 4 });
    expect(told).toEqual([{ status: 'SUCCEEDED', transitions: 4 }]);
  });

  it('tells a failed execution too, with what it was billed up to the failure', async () => {
    const told: { status: string; transitions: number | undefined }[] = [];
    const workflow = workflowWith(
      () => Promise.reject(new Error('broken for good')),
      async (wf, name, status) => {
        told.push({ status, transitions: await wf.countStateTransitions(name) });
      },
    );
    await workflow.startSession('ses_w2');
    expect(await workflow.waitFor('ses_w2')).toMatchObject({ status: 'FAILED' });
    expect(told).toEqual([{ status: 'FAILED', transitions: 2 }]);
  });

  it('knows no count for an execution it never ran (a restarted runtime)', async () => {
    const workflow = workflowWith(() => Promise.resolve({}), () => Promise.resolve());
    expect(await workflow.countStateTransitions('ses_unknown')).toBeUndefined();
  });
});
