import { describe, expect, it } from 'vitest';
import { InMemoryMetrics } from '../../functions/adapters/metrics.memory.js';
import { EMPTY_OUTCOME, type ScheduleRun } from '../../functions/core/model/schedule-run.js';
import type { NightshiftEvent } from '../../functions/core/ports/events.port.js';
import { publishEvents, runEvent, sessionEndedEvents } from '../../functions/core/use-cases/publish-events.js';
import { sessionRecord } from '../support/domain.js';
import { runRecord } from '../support/schedules.js';

/** The events Nightshift tells the MSP's tools (pure): what each carries, and that a failed publish never fails the step. */

const AT = '2026-11-23T22:00:00.000Z';

const run = (overrides: Partial<ScheduleRun> = {}): ScheduleRun =>
  runRecord('run-1', AT, { scheduleVersion: 3, version: 4, outcome: { ...EMPTY_OUTCOME, running: 2 }, targeted: 5, started: 3, skipped: { Offline: 2 }, ...overrides });

describe('a run event', () => {
  it('carries the run’s counts and status, without a ring or a reason when the run has neither', () => {
    expect(runEvent('RunStarted', run(), AT)).toEqual({
      detailType: 'nightshift.run',
      detail: {
        event: 'RunStarted',
        runId: 'run-1',
        scheduleId: 'sch-1',
        scheduleName: 'Weeknights',
        status: 'Running',
        currentRing: 0,
        targeted: 5,
        started: 3,
        skipped: { Offline: 2 },
        outcome: { ...EMPTY_OUTCOME, running: 2 },
        at: AT,
      },
    });
  });

  it('names the current ring and why the run halted when it has them', () => {
    const rings = [
      { name: 'pilot', percent: 10, successThresholdPercent: 95, soakMinutes: 60 },
      { name: 'everyone', percent: 100, successThresholdPercent: 95, soakMinutes: 60 },
    ];
    const event = runEvent('RunHalted', run({ status: 'Halted', rollout: { rings }, currentRing: 1, haltReason: 'error budget spent' }), AT);
    expect(event.detail).toMatchObject({ event: 'RunHalted', status: 'Halted', currentRing: 1, ringName: 'everyone', reason: 'error budget spent' });
  });
});

describe('publishing after the write', () => {
  const parts = (publish: (events: readonly NightshiftEvent[]) => Promise<void>) => {
    const calls: (readonly NightshiftEvent[])[] = [];
    const logged: { message: string; fields?: Record<string, unknown> }[] = [];
    const metrics = new InMemoryMetrics();
    const deps = {
      events: {
        publish: (events: readonly NightshiftEvent[]) => {
          calls.push(events);
          return publish(events);
        },
      },
      metrics,
      logger: {
        info: () => undefined,
        warn: () => undefined,
        error: (message: string, fields?: Record<string, unknown>) => {
          logged.push({ message, ...(fields ? { fields } : {}) });
        },
      },
    };
    return { deps, calls, logged, metrics };
  };
  const events = [runEvent('RunStarted', run(), AT), runEvent('RunCompleted', run({ status: 'Completed' }), AT)];

  it('publishes the events as one call, and does not call the bus for none', async () => {
    const { deps, calls, metrics } = parts(() => Promise.resolve());
    await publishEvents(deps, []);
    expect(calls).toEqual([]);
    await publishEvents(deps, events);
    expect(calls).toEqual([events]);
    expect(metrics.total('EventsNotPublished')).toBe(0);
  });

  it('counts and logs a failed publish with the events and the reason, and carries on (proves the step is not failed for it)', async () => {
    const { deps, logged, metrics } = parts(() => Promise.reject(new Error('EventBridge throttled')));
    await expect(publishEvents(deps, events)).resolves.toBeUndefined();
    expect(metrics.total('EventsNotPublished')).toBe(2);
    expect(logged).toEqual([{ message: 'events not published', fields: { events, error: 'EventBridge throttled' } }]);
  });

  it('logs a rejection that is not an Error in words', async () => {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a port may reject with anything; the words must still be logged
    const { deps, logged } = parts(() => Promise.reject('connection reset'));
    await publishEvents(deps, events);
    expect(logged[0]?.fields).toEqual({ events, error: 'connection reset' });
  });
});

describe('the event a session’s end stands for', () => {
  const origin = { scheduleId: 'sch-1', runId: 'run-1' };

  it('says a schedule-started session ended, with its status and no failure when it has none', () => {
    const session = sessionRecord('ses-1', { computerId: 'pc-1', computerName: 'PC-1', tenantId: 't1', status: 'Passed', origin });
    expect(sessionEndedEvents(session, AT)).toEqual([
      {
        detailType: 'nightshift.session',
        detail: { event: 'SessionEnded', sessionId: 'ses-1', computerId: 'pc-1', computerName: 'PC-1', tenantId: 't1', runId: 'run-1', scheduleId: 'sch-1', status: 'Passed', at: AT },
      },
    ]);
  });

  it('carries the failure’s code and message', () => {
    const session = sessionRecord('ses-2', { status: 'Failed', origin, failure: { code: 'AGENT_UNREACHABLE', message: 'offline' } });
    expect(sessionEndedEvents(session, AT)[0]?.detail).toMatchObject({ status: 'Failed', failure: { code: 'AGENT_UNREACHABLE', message: 'offline' } });
    expect(sessionEndedEvents(session, AT)[0]?.detail).toHaveProperty('failure', { code: 'AGENT_UNREACHABLE', message: 'offline' });
  });

  it('says nothing for a session no run started, or one that has not ended', () => {
    expect(sessionEndedEvents(sessionRecord('ses-3', { status: 'Passed' }), AT)).toEqual([]);
    expect(sessionEndedEvents(sessionRecord('ses-4', { status: 'Running', origin }), AT)).toEqual([]);
  });
});
