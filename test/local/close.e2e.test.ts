import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCommandComment } from '../../functions/core/model/agent.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { everywhere, runtimeWithFleet, testComputer, testSoftware } from '../support/fleet.js';

describe('closing the local runtime with sessions under way', () => {
  let dataDir = '';
  let runtime: LocalRuntime | undefined;
  afterEach(async () => {
    await runtime?.close();
    runtime = undefined;
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('stops each execution where it stands, lets the steps under way finish, fails nothing, and a runtime started again on the same data carries the session to its end', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'nightshift-close-'));
    const computer = testComputer('pc-close', 'i-0000000000000f201');
    // an install that takes a moment, so the close lands while it runs
    const slow = { ...testSoftware('app', '2.0'), installScript: `sleep 0.3\n${testSoftware('app', '2.0').installScript}` };
    const fleet = { software: [slow], deployments: [everywhere('app')], machines: [{ computer }] };
    let installStarted: () => void = () => undefined;
    const installing = new Promise<void>((resolve) => (installStarted = resolve));
    const first = await runtimeWithFleet(fleet, {
      dataDir,
      onAgentActivity: (record, phase) => {
        if (phase === 'started' && parseCommandComment(record.comment)?.key.startsWith('Action#')) installStarted();
      },
    });
    runtime = first;
    const { sessionId } = await first.startSession(computer.id);
    await installing;
    await first.close();
    runtime = undefined;

    // closed mid-action: recorded as it stood, not Failed (an aborted execution is not a failed session)
    const second = await runtimeWithFleet({ software: [], deployments: [], machines: [] }, { dataDir });
    runtime = second;
    expect(second.resumed).toContain(sessionId);
    const outcome = await second.waitForSession(sessionId);
    expect(outcome.session.status).toBe('Passed');
    expect(outcome.actions.map((action) => [action.type, action.status, action.result])).toEqual([['Install', 'Complete', 'Success']]);
    expect((await readFile(path.join(second.agent.rootOf(computer.agentId), 'opt', 'app', 'VERSION'), 'utf8')).trim()).toBe('2.0');
    // the install ran once, before the close; the resumed session verified it, it did not run it again
    const installs = second.agent.history(computer.agentId).filter((record) => parseCommandComment(record.comment)?.key.startsWith('Action#'));
    expect(installs).toHaveLength(1);
  }, 60_000);

  it('writes the usage it still holds back before its table closes: a runtime started again on the same data finds every invocation counted', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'nightshift-close-'));
    const computer = testComputer('pc-usage', 'i-0000000000000f202');
    const first = await runtimeWithFleet({ software: [testSoftware('app', '2.0')], deployments: [everywhere('app')], machines: [{ computer }] }, { dataDir });
    runtime = first;
    const { sessionId } = await first.startSession(computer.id);
    await first.waitForSession(sessionId);
    const counted = async (rt: LocalRuntime) => (await rt.deps.sessions.getUsage(sessionId))?.counted.lambdaInvocations ?? 0;
    const before = await counted(first);
    // one more invocation of the session (its end told again), whose usage is still queued as the runtime closes
    await first.invoke('execution-ended', { detail: { name: sessionId, status: 'SUCCEEDED' } });
    await first.close();
    runtime = undefined;

    const second = await runtimeWithFleet({ software: [], deployments: [], machines: [] }, { dataDir });
    runtime = second;
    expect(await counted(second)).toBe(before + 1);
  }, 60_000);
});
