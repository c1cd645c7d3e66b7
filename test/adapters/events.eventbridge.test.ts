import { EventBridgeClient, InternalException, PutEventsCommand, type PutEventsCommandInput, type PutEventsResultEntry } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { EVENT_SOURCE, EventBridgePublisher, MAX_BYTES_PER_CALL, entrySize } from '../../functions/adapters/events.eventbridge.js';
import { ConfigurationError, TransientError } from '../../functions/core/errors.js';
import type { NightshiftEvent, RunEventDetail, SessionEventDetail } from '../../functions/core/ports/events.port.js';

const eventBridge = mockClient(EventBridgeClient);
const BUS = 'nightshift-test';
const publisher = new EventBridgePublisher(new EventBridgeClient({ region: 'eu-west-1' }), { eventBusName: BUS });

const runDetail = (runId: string, reason?: string): RunEventDetail => ({
  event: 'RunHalted',
  runId,
  scheduleId: 'sched-weekly',
  scheduleName: 'Weekly patching',
  status: 'Halted',
  currentRing: 1,
  ringName: 'pilot',
  ...(reason === undefined ? {} : { reason }),
  targeted: 40,
  started: 12,
  skipped: { Offline: 3 },
  outcome: { queued: 28, running: 4, passed: 6, partiallyPassed: 0, failed: 2, cancelled: 0 },
  at: '2026-12-01T22:00:00.000Z',
});
const runEvent = (runId: string, reason?: string): NightshiftEvent => ({ detailType: 'nightshift.run', detail: runDetail(runId, reason) });
const sessionEvent = (sessionId: string): NightshiftEvent => ({
  detailType: 'nightshift.session',
  detail: {
    event: 'SessionStarted',
    sessionId,
    computerId: 'pc-1',
    computerName: 'FRONT-DESK',
    tenantId: 'contoso',
    runId: 'run-1',
    scheduleId: 'sched-weekly',
    status: 'Created',
    executeAt: '2026-12-01T23:00:00.000Z',
    at: '2026-12-01T22:00:00.000Z',
  } satisfies SessionEventDetail,
});

/** What each PutEvents call carried, in call order. */
const calls = (): PutEventsCommandInput[] => eventBridge.commandCalls(PutEventsCommand).map((call) => call.args[0].input);
/** Accepts every entry of every call, the way EventBridge answers: one result per entry, in order. */
const acceptAll = () =>
  eventBridge.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => ({
    FailedEntryCount: 0,
    Entries: (input.Entries ?? []).map((_, index) => ({ EventId: `evt-${index}` })),
  }));
const refusedEntry = (code: string): PutEventsResultEntry => ({ ErrorCode: code, ErrorMessage: `${code} happened` });

describe('run and session events on EventBridge (SDK mocked)', () => {
  beforeEach(() => eventBridge.reset());

  it('sends each event with source nightshift, its detail type, its detail as JSON, to the configured bus, in order', async () => {
    acceptAll();
    const run = runEvent('run-1', 'error budget spent');
    const session = sessionEvent('ses_1');
    await publisher.publish([run, session]);
    expect(eventBridge).toHaveReceivedCommandTimes(PutEventsCommand, 1);
    expect(calls()[0]).toEqual({
      Entries: [
        { Source: 'nightshift', DetailType: 'nightshift.run', Detail: JSON.stringify(run.detail), EventBusName: BUS },
        { Source: 'nightshift', DetailType: 'nightshift.session', Detail: JSON.stringify(session.detail), EventBusName: BUS },
      ],
    });
    expect(JSON.parse(calls()[0]?.Entries?.[0]?.Detail ?? '')).toEqual(run.detail);
    expect(EVENT_SOURCE).toBe('nightshift');
  });

  it('makes no call for an empty list', async () => {
    acceptAll();
    await publisher.publish([]);
    expect(eventBridge).toHaveReceivedCommandTimes(PutEventsCommand, 0);
  });

  it('sends 23 events in calls of 10, 10 and 3 entries (PutEvents takes at most 10), keeping their order', async () => {
    acceptAll();
    const events = Array.from({ length: 23 }, (_, i) => sessionEvent(`ses_${i}`));
    await publisher.publish(events);
    expect(calls().map((input) => input.Entries?.length)).toEqual([10, 10, 3]);
    const sent = calls().flatMap((input) => input.Entries ?? []).map((entry) => (JSON.parse(entry.Detail ?? '{}') as { sessionId: string }).sessionId);
    expect(sent).toEqual(events.map((event) => (event.detail as SessionEventDetail).sessionId));
  });

  it('splits large events so each call stays under 256 KB as EventBridge measures it (source, detail type, detail)', async () => {
    acceptAll();
    // four events of about 100 KB each: two fit in a call, a third would reach the limit
    const events = ['a', 'b', 'c', 'd'].map((id) => runEvent(`run-${id}`, id.repeat(100_000)));
    await publisher.publish(events);
    expect(calls().map((input) => input.Entries?.length)).toEqual([2, 2]);
    for (const input of calls()) {
      const total = (input.Entries ?? []).reduce((sum, entry) => sum + entrySize(entry), 0);
      expect(total).toBeLessThan(MAX_BYTES_PER_CALL);
    }
    // the documented size: UTF-8 bytes of Source, DetailType and Detail (the bus name is not counted)
    const entry = calls()[0]?.Entries?.[0] ?? {};
    expect(entrySize(entry)).toBe(Buffer.byteLength('nightshift') + Buffer.byteLength('nightshift.run') + Buffer.byteLength(entry.Detail ?? '', 'utf8'));
    expect(entrySize({ Source: 'nightshift', DetailType: 'x', Detail: '"é"' })).toBe(10 + 1 + 4);
  });

  it('sends the entries EventBridge refused once more, and only those', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ EventId: 'evt-1' }, refusedEntry('ThrottlingException'), { EventId: 'evt-3' }] })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'evt-2' }] });
    const events = [runEvent('run-1'), runEvent('run-2'), runEvent('run-3')];
    await publisher.publish(events);
    expect(calls()).toHaveLength(2);
    expect(calls()[1]?.Entries?.map((entry) => entry.Detail)).toEqual([JSON.stringify(events[1]?.detail)]);
  });

  it('fails with a TransientError naming how many events and which error codes, when entries are refused again after the retry', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 2, Entries: [refusedEntry('InternalFailure'), { EventId: 'evt-2' }, refusedEntry('ThrottlingException')] })
      .resolves({ FailedEntryCount: 2, Entries: [refusedEntry('InternalFailure'), refusedEntry('ThrottlingException')] });
    const publishing = publisher.publish([runEvent('run-1'), runEvent('run-2'), runEvent('run-3')]);
    await expect(publishing).rejects.toBeInstanceOf(TransientError);
    await expect(publishing).rejects.toThrow(`2 of 3 events were refused by event bus ${BUS}, again after a retry: InternalFailure ×1, ThrottlingException ×1`);
    // the first attempt and exactly one retry, never more
    expect(calls().map((input) => input.Entries?.length)).toEqual([3, 2]);
  });

  it('turns a throttled or failing PutEvents call (after the SDK retries) into a TransientError', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    eventBridge.on(PutEventsCommand).rejectsOnce(throttled).rejects(new InternalException({ message: 'boom', $metadata: { httpStatusCode: 500 } }));
    await expect(publisher.publish([runEvent('run-1')])).rejects.toThrow(TransientError);
    await expect(publisher.publish([runEvent('run-1')])).rejects.toThrow(`publishing 1 events to event bus ${BUS} failed: InternalException`);
  });

  it('refuses to publish without EVENT_BUS_NAME, naming the setting, and calls nothing', async () => {
    acceptAll();
    const unconfigured = new EventBridgePublisher(new EventBridgeClient({ region: 'eu-west-1' }), undefined);
    await expect(unconfigured.publish([runEvent('run-1')])).rejects.toBeInstanceOf(ConfigurationError);
    await expect(unconfigured.publish([runEvent('run-1')])).rejects.toThrow('EVENT_BUS_NAME');
    expect(eventBridge).toHaveReceivedCommandTimes(PutEventsCommand, 0);
  });

  it('still sends the other events when one alone is too large for any call, then fails naming it', async () => {
    acceptAll();
    const huge = runEvent('run-huge', 'x'.repeat(MAX_BYTES_PER_CALL));
    await expect(publisher.publish([runEvent('run-1'), huge, sessionEvent('ses_1')])).rejects.toThrow(/1 of 3 events were too large for event bus nightshift-test \(nightshift\.run of \d+ bytes/);
    expect(calls().map((input) => input.Entries?.map((entry) => entry.DetailType))).toEqual([['nightshift.run', 'nightshift.session']]);
  });
});
