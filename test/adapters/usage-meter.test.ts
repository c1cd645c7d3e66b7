import { describe, expect, it } from 'vitest';
import { currentUsageMeter, metered, UsageMeter, withUsageMeter } from '../../functions/adapters/usage-meter.js';

describe('the usage meter of one invocation', () => {
  it('bills the wall time rounded up to the millisecond at the memory given, and counts its own write as one unit', () => {
    const { counters } = new UsageMeter(512).close(41.2);
    expect(counters).toMatchObject({ lambdaInvocations: 1, lambdaDurationMs: 42, lambdaMemoryMbMs: 42 * 512, tableWriteUnits: 1, tableReadUnits: 0 });
  });

  it('belongs to the session its handler names, whatever else it writes', () => {
    const meter = new UsageMeter(512);
    meter.attributeTo('ses_a');
    meter.wrotePartition('RUN#run_1');
    meter.wrotePartition('SESSION#ses_b');
    expect(meter.close(1).owner).toEqual({ kind: 'session', id: 'ses_a' });
  });

  it("belongs to an operator's session only if the request wrote to it", () => {
    const read = new UsageMeter(512);
    read.attributeTo('ses_a', { whenWritten: true });
    expect(read.close(1).owner).toBeUndefined();
    const changed = new UsageMeter(512);
    changed.attributeTo('ses_a', { whenWritten: true });
    changed.wrotePartition('SESSION#ses_a');
    changed.wrotePartition('RUN#run_1');
    expect(changed.close(1).owner).toEqual({ kind: 'session', id: 'ses_a' });
  });

  it('belongs to the one run it wrote to (a fan-out), even when it also started sessions', () => {
    const meter = new UsageMeter(512);
    meter.wrotePartition('RUN#run_1');
    meter.wrotePartition('SESSION#ses_a');
    meter.wrotePartition('SESSION#ses_b');
    expect(meter.close(1).owner).toEqual({ kind: 'run', id: 'run_1' });
  });

  it('belongs to the one session it wrote to when nothing names one (a command completion)', () => {
    const meter = new UsageMeter(512);
    meter.wrotePartition('SESSION#ses_a');
    meter.wrotePartition('COMPUTER#pc-1');
    expect(meter.close(1).owner).toEqual({ kind: 'session', id: 'ses_a' });
  });

  it('belongs to nobody when it worked on several sessions or runs (a reconciler look, a controller tick)', () => {
    const sessions = new UsageMeter(512);
    sessions.wrotePartition('SESSION#ses_a');
    sessions.wrotePartition('SESSION#ses_b');
    expect(sessions.close(1).owner).toBeUndefined();
    const runs = new UsageMeter(512);
    runs.wrotePartition('RUN#run_1');
    runs.wrotePartition('RUN#run_2');
    expect(runs.close(1).owner).toBeUndefined();
  });

  it('counts nothing after it closed: work an invocation left behind is not its cost', () => {
    const meter = new UsageMeter(512);
    meter.add('tableReadUnits', 2);
    const { counters } = meter.close(1);
    meter.add('tableReadUnits', 5);
    meter.attributeTo('ses_late');
    expect(counters.tableReadUnits).toBe(2);
  });

  it('keeps concurrent invocations apart: each counts only its own calls', async () => {
    const events = metered({ publish: (_events: readonly string[]) => Promise.resolve() }, { publish: (meter, published) => meter.add('eventsPublished', published.length) });
    const one = new UsageMeter(512);
    const two = new UsageMeter(512);
    await Promise.all([
      withUsageMeter(one, async () => {
        await events.publish(['a']);
        await new Promise((resolve) => setImmediate(resolve));
        await events.publish(['b', 'c']);
      }),
      withUsageMeter(two, () => events.publish(['d'])),
    ]);
    expect(one.close(1).counters.eventsPublished).toBe(3);
    expect(two.close(1).counters.eventsPublished).toBe(1);
    expect(currentUsageMeter()).toBeUndefined();
  });

  it('counts a call only once it succeeded: a publish that failed was not billed', async () => {
    const events = metered({ publish: () => Promise.reject(new Error('bus down')) }, { publish: (meter) => meter.add('eventsPublished') });
    const meter = new UsageMeter(512);
    await expect(withUsageMeter(meter, () => events.publish())).rejects.toThrow('bus down');
    expect(meter.close(1).counters.eventsPublished).toBe(0);
  });
});
