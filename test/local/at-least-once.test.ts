import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TransientError } from '../../functions/core/errors.js';
import type { LambdaHandler } from '../../functions/handlers/handler-kit.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { everywhere, runtimeWithFleet, testComputer, testSoftware } from '../support/fleet.js';

/** An installer that appends a line per run, so a second run of the same action shows on disk. */
const countingSoftware = (id: string, version: string) => ({
  ...testSoftware(id, version),
  installScript: `set -eu\nmkdir -p "$NIGHTSHIFT_ROOT/opt/${id}"\nprintf '%s\\n' "$NIGHTSHIFT_VERSION" > "$NIGHTSHIFT_ROOT/opt/${id}/VERSION"\necho run >> "$NIGHTSHIFT_ROOT/runs-${id}"\n`,
});

const STEP_HANDLERS = ['prepare-session', 'dispatch-command', 'plan-session', 'gate-session', 'finish-execution', 'report-session'];

/** The first call of every distinct step fails with a transient error, either before or after doing its work. */
function flakyOnce(when: 'before' | 'after') {
  const seen = new Set<string>();
  return (name: string, handler: LambdaHandler<unknown, unknown>): LambdaHandler<unknown, unknown> =>
    async (event, context) => {
      if (!STEP_HANDLERS.includes(name)) return handler(event, context);
      const { sessionId, purpose, actionId } = event as { sessionId?: string; purpose?: string; actionId?: string };
      const key = `${name}/${sessionId ?? ''}/${purpose ?? ''}/${actionId ?? ''}`;
      const first = !seen.has(key);
      seen.add(key);
      if (first && when === 'before') throw new TransientError(`injected fault before ${key}`);
      const result = await handler(event, context);
      if (first) throw new TransientError(`injected fault after ${key}`);
      return result;
    };
}

describe('at-least-once delivery never runs an action twice', () => {
  let runtime: LocalRuntime | undefined;
  afterEach(async () => {
    await runtime?.close();
    runtime = undefined;
  });

  it.each(['before', 'after'] as const)(
    'a transient error %s the work of every stage leaves a correct session and one command per purpose',
    async (when) => {
      const computer = testComputer('pc-1', 'i-0000000000000c001');
      runtime = await runtimeWithFleet(
        {
          software: [countingSoftware('one', '1.0'), countingSoftware('two', '2.0')],
          deployments: [everywhere('one'), everywhere('two')],
          machines: [{ computer }],
        },
        { wrapHandler: flakyOnce(when) },
      );
      const { sessionId } = await runtime.startSession(computer.id);
      const outcome = await runtime.waitForSession(sessionId);

      expect(outcome.session.status, JSON.stringify([outcome.session.failure, outcome.actions])).toBe('Passed');
      expect(outcome.actions.map((a) => a.result)).toEqual(['Success', 'Success']);
      // detection, two actions, verification: each sent once even though every step was retried
      expect(runtime.agent.history(computer.agentId)).toHaveLength(4);
      const root = runtime.agent.rootOf(computer.agentId);
      for (const id of ['one', 'two']) expect(await readFile(path.join(root, `runs-${id}`), 'utf8')).toBe('run\n');
    },
  );

  it('a redelivered completion event completes nothing twice', async () => {
    const computer = testComputer('pc-2', 'i-0000000000000c002');
    runtime = await runtimeWithFleet({
      software: [testSoftware('app', '1.0')],
      deployments: [everywhere('app')],
      machines: [{ computer }],
    });
    const { sessionId } = await runtime.startSession(computer.id);
    const before = await runtime.waitForSession(sessionId);
    const events = runtime.agent.history(computer.agentId).map((record) => ({
      source: 'aws.ssm',
      'detail-type': 'EC2 Command Invocation Status-change Notification',
      detail: { 'command-id': record.commandId, 'instance-id': record.agentId, status: record.invocation.status },
    }));
    for (const event of events) expect(await runtime.invoke('complete-command', event)).toEqual({ result: 'duplicate' });
    const after = await runtime.waitForSession(sessionId);
    expect(after.session).toEqual(before.session);
    expect(after.actions).toEqual(before.actions);
  });

  it('ignores status events of commands Nightshift did not send', async () => {
    runtime = await runtimeWithFleet({ software: [], deployments: [], machines: [] });
    const foreign = await runtime.agent.addMachine({ agentId: 'i-0000000000000c003', name: 'foreign', platform: 'linux', online: true, latencyMs: 0 });
    expect(foreign.created).toBe(true);
    const { commandId } = await runtime.agent.send({
      agentId: 'i-0000000000000c003',
      platform: 'linux',
      script: 'true',
      comment: 'patching by another tool',
      deliveryTimeoutSeconds: 60,
      executionTimeoutSeconds: 60,
    });
    await runtime.agent.idle();
    expect(
      await runtime.invoke('complete-command', {
        source: 'aws.ssm',
        'detail-type': 'EC2 Command Invocation Status-change Notification',
        detail: { 'command-id': commandId, 'instance-id': 'i-0000000000000c003', status: 'Success' },
      }),
    ).toEqual({ result: 'not-ours' });
  });
});
