import { describe, expect, it } from 'vitest';
import { PacedWorkflow } from '../../functions/adapters/paced-workflow.js';
import { ConfigurationError, TransientError } from '../../functions/core/errors.js';
import type { WorkflowPort } from '../../functions/core/ports/workflow.port.js';

/** Simulated time that moves only when the pacer waits; each start is stamped with it. */
function simulation(inner?: (sessionId: string, nowMs: number) => Promise<{ alreadyRunning: boolean }>) {
  let nowMs = 0;
  const startedAt: number[] = [];
  const waits: number[] = [];
  const workflow: WorkflowPort = {
    startSession: (sessionId) => {
      startedAt.push(nowMs);
      return inner ? inner(sessionId, nowMs) : Promise.resolve({ alreadyRunning: false });
    },
    completeTask: () => Promise.resolve(true),
    failTask: () => Promise.resolve(true),
  };
  const throttled: string[] = [];
  const paced = (ratePerSecond: number, burst: number, maxAttempts?: number) =>
    new PacedWorkflow(workflow, {
      ratePerSecond,
      burst,
      ...(maxAttempts === undefined ? {} : { maxAttempts }),
      nowMs: () => nowMs,
      sleep: (ms) => {
        waits.push(ms);
        nowMs += ms;
        return Promise.resolve();
      },
      onThrottled: (sessionId) => throttled.push(sessionId),
    });
  return { paced, startedAt, waits, throttled, now: () => nowMs };
}

describe('PacedWorkflow: a fan-out starts executions at the account quota, not into its throttling', () => {
  it('lets the burst through at once, then one start per 1/rate seconds, however many callers at once', async () => {
    const sim = simulation();
    const workflow = sim.paced(100, 10);
    await Promise.all(Array.from({ length: 60 }, (_, i) => workflow.startSession(`s${i}`)));
    expect(sim.startedAt.slice(0, 10)).toEqual(Array.from({ length: 10 }, () => 0));
    // 50 more at 100/s: the last one half a second in (simulated), never sooner
    expect(sim.now()).toBeCloseTo(500, 6);
    expect(Math.max(...sim.startedAt)).toBeCloseTo(500, 6);
  });

  it('retries a throttled start after a doubling backoff, counting each retry', async () => {
    let throttleNext = 3;
    const sim = simulation((_, __) => {
      if (throttleNext > 0) {
        throttleNext--;
        return Promise.reject(new TransientError('starting a session failed: ThrottlingException'));
      }
      return Promise.resolve({ alreadyRunning: false });
    });
    const workflow = sim.paced(100, 5);
    await expect(workflow.startSession('a')).resolves.toEqual({ alreadyRunning: false });
    expect(sim.throttled).toEqual(['a', 'a', 'a']);
    // backoffs of 200, 400 and 800 ms; the bucket refills meanwhile, so the retry itself waits for no token
    expect(sim.waits).toEqual([200, 400, 800]);
    expect(sim.startedAt).toEqual([0, 200, 600, 1400]);
  });

  it('gives up after its attempts with the transient error, and never retries what is not transient', async () => {
    const sim = simulation(() => Promise.reject(new TransientError('ThrottlingException')));
    await expect(sim.paced(100, 5, 3).startSession('a')).rejects.toBeInstanceOf(TransientError);
    expect(sim.startedAt).toHaveLength(3);
    const broken = simulation(() => Promise.reject(new ConfigurationError('STATE_MACHINE_ARN is not set')));
    await expect(broken.paced(100, 5).startSession('b')).rejects.toBeInstanceOf(ConfigurationError);
    expect(broken.startedAt).toHaveLength(1);
  });

  it('passes task answers straight through, unpaced', async () => {
    const sim = simulation();
    const workflow = sim.paced(1, 1);
    await workflow.startSession('a');
    await expect(Promise.all(Array.from({ length: 50 }, () => workflow.completeTask('token', {})))).resolves.toHaveLength(50);
    expect(sim.waits).toEqual([]);
  });
});
