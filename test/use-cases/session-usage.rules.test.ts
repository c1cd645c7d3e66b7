import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../functions/core/errors.js';
import type { ScheduleRun } from '../../functions/core/model/schedule-run.js';
import { closeSessionUsage, executionEnded, getRunCost, getSessionCost } from '../../functions/core/use-cases/session-usage.js';
import { useCaseHarness, type Harness } from './harness.js';
import { runRecord } from '../support/schedules.js';

/**
 * Closing a session's usage when its execution ends (dynalite): the state
 * transitions the workflow counts are frozen into it once, and a session a
 * run started is added to that run once, whatever the deliveries.
 */

const runOf = (id: string, at: string): ScheduleRun => runRecord(id, at, { targeted: 1, started: 1 });

describe('closing a session’s usage', () => {
  const harness = useCaseHarness();

  /** A harness whose workflow counts `transitions` state transitions for every execution (none: the port cannot count). */
  const counting = (transitions: number | undefined): Harness & { asked: string[] } => {
    const h = harness();
    const asked: string[] = [];
    h.deps = {
      ...h.deps,
      workflow: {
        startSession: () => h.workflow.startSession(),
        completeTask: (token, output) => h.workflow.completeTask(token, output),
        failTask: (token, error) => h.workflow.failTask(token, error),
        ...(transitions === undefined
          ? {}
          : {
              countStateTransitions: (executionName: string) => {
                asked.push(executionName);
                return Promise.resolve(transitions);
              },
            }),
      },
    };
    return Object.assign(h, { asked });
  };

  it('freezes a session no run started with the transitions its execution made, at the clock’s time, and says nothing of a run', async () => {
    const h = counting(7);
    const session = await h.session();
    const closed = await closeSessionUsage(h.deps, session.id);
    expect(closed).toStrictEqual({ closedNow: true });
    expect(h.asked).toEqual([session.id]);
    const usage = await h.deps.sessions.getUsage(session.id);
    expect(usage?.counted.stateTransitions).toBe(7);
    expect(usage?.closedAt).toBe(h.clock.now().toISOString());
    expect(usage?.runId).toBeUndefined();
  });

  it('records no transitions where the workflow cannot count them', async () => {
    const h = counting(undefined);
    const session = await h.session();
    expect(await closeSessionUsage(h.deps, session.id)).toStrictEqual({ closedNow: true });
    expect((await h.deps.sessions.getUsage(session.id))?.counted.stateTransitions).toBe(0);
  });

  it('adds a run’s session to its run once: a redelivered end closes nothing again and adds nothing twice', async () => {
    const h = counting(9);
    const runId = `run-${h.nextId()}`;
    await h.deps.schedules.createRun(runOf(runId, h.clock.now().toISOString()));
    const session = await h.session({ origin: { scheduleId: 'sch-1', runId } });

    expect(await closeSessionUsage(h.deps, session.id)).toStrictEqual({ closedNow: true, addedToRun: true });
    expect((await h.deps.sessions.getUsage(session.id))?.runId).toBe(runId);
    expect(await closeSessionUsage(h.deps, session.id)).toStrictEqual({ closedNow: false, addedToRun: false });

    const cost = await getRunCost(h.deps, runId);
    expect(cost.sessionsCounted).toBe(1);
    expect(cost.counted.stateTransitions).toBe(9);
  });

  it('does nothing for a session that does not exist', async () => {
    const h = counting(3);
    expect(await closeSessionUsage(h.deps, 'ses-nowhere')).toStrictEqual({ closedNow: false });
    expect(await h.deps.sessions.getUsage('ses-nowhere')).toBeUndefined();
  });
});

describe('an execution’s end', () => {
  const harness = useCaseHarness();

  it('records nothing for one that succeeded, and closes its usage', async () => {
    const h = harness();
    const session = await h.session();
    expect(await executionEnded(h.deps, { sessionId: session.id, status: 'SUCCEEDED' })).toEqual({ recorded: false });
    expect((await h.deps.sessions.getSession(session.id))?.status).toBe('Running');
    expect((await getSessionCost(h.deps, session.id)).final).toBe(true);
  });

  it('records one that failed as the session’s failure first, then closes its usage', async () => {
    const h = harness();
    const session = await h.session();
    expect(await executionEnded(h.deps, { sessionId: session.id, status: 'TIMED_OUT' })).toEqual({ recorded: true });
    expect((await h.deps.sessions.getSession(session.id))?.status).toBe('Failed');
    expect((await getSessionCost(h.deps, session.id)).final).toBe(true);
  });
});

describe('what a session or a run cost', () => {
  const harness = useCaseHarness();

  it('prices a session not yet closed as not final, at the Region asked for', async () => {
    const h = harness();
    const session = await h.session();
    const cost = await getSessionCost(h.deps, session.id, { region: 'eu-west-1' });
    expect(cost.final).toBe(false);
    expect(cost.pricing.region).toBe('eu-west-1');
    expect((await getSessionCost(h.deps, session.id)).pricing.region).toBe('us-east-1');
  });

  it('prices a run at the Region asked for', async () => {
    const h = harness();
    const runId = `run-${h.nextId()}`;
    await h.deps.schedules.createRun(runOf(runId, h.clock.now().toISOString()));
    expect((await getRunCost(h.deps, runId, { region: 'eu-west-1' })).pricing.region).toBe('eu-west-1');
    expect(await getRunCost(h.deps, runId)).toMatchObject({ sessionsCounted: 0, pricing: { region: 'us-east-1' } });
  });

  it('refuses a session or a run that does not exist as not found, naming it', async () => {
    const h = harness();
    await expect(getSessionCost(h.deps, 'ses-nowhere')).rejects.toBeInstanceOf(NotFoundError);
    await expect(getRunCost(h.deps, 'run-nowhere')).rejects.toThrow(new NotFoundError('run', 'run-nowhere'));
  });
});
