import { AsyncLocalStorage } from 'node:async_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isErrorEnvelope } from '../../functions/handlers/handler-kit.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { everywhere, manualClock, runtimeWithFleet, testComputer, testSoftware } from '../support/fleet.js';

/**
 * A postpone that reads a waiting session, loses its conditional write to a
 * cancel landing in between, then finds the session ended: the refusal the
 * operator fuzz once caught with "one write" counted. The one write is the
 * usage meter's own record (DynamoDB bills the refused conditional write to
 * the session), never a change to the session, its log or its audit trail;
 * the local runtime now writes it a moment after the request, outside it.
 */
describe('a request refused after losing a race', () => {
  let runtime: LocalRuntime;
  const postponing = new AsyncLocalStorage<{ writes: { command: string; sk: string }[] }>();
  let cancelBeforeNextSessionWrite = false;
  const ses = 'ses_race';

  beforeAll(async () => {
    const clock = manualClock(new Date('2026-11-23T09:00:00Z'));
    runtime = await runtimeWithFleet(
      { software: [testSoftware('app', '1.0')], deployments: [everywhere('app')], machines: [{ computer: testComputer('pc-1', 'i-0000000000000f001') }] },
      { clock, timerPollMs: 10, agentPollMs: 10 },
    );
    await runtime.startSession('pc-1', ses, { executeAt: new Date(clock.now().getTime() + 3_600_000).toISOString() });
    runtime.dynamoClient.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Key?: { SK?: unknown }; Item?: { SK?: unknown } };
        const keyed = input.Key?.SK ?? input.Item?.SK;
        const sk = typeof keyed === 'string' ? keyed : '';
        const record = postponing.getStore();
        if (record && cancelBeforeNextSessionWrite && context.commandName === 'UpdateItemCommand' && sk === 'SESSION') {
          cancelBeforeNextSessionWrite = false;
          // outside the postpone's context: the cancel's writes are not the postpone's
          await postponing.exit(() => runtime.invoke('cancel-session', { sessionId: ses, by: { kind: 'Operator', name: 'ben@msp.example' } }));
        }
        const result = await next(args);
        if (record && /^(Put|Update|Delete|BatchWrite)/.test(context.commandName ?? '')) record.writes.push({ command: context.commandName ?? '', sk });
        return result;
      },
      { step: 'initialize', name: 'raceACancelIntoThePostpone' },
    );
  });
  afterAll(() => runtime.close());

  it('is refused for the session having ended, and writes nothing as it runs (proves the fuzz case was accounting, not a change)', async () => {
    await expect.poll(async () => (await runtime.deps.sessions.getSession(ses))?.windowWait !== undefined).toBe(true);
    const record = { writes: [] as { command: string; sk: string }[] };
    cancelBeforeNextSessionWrite = true;
    const answer: unknown = await postponing.run(record, () => runtime.invoke('postpone-session', { sessionId: ses, by: { kind: 'EndUser', name: 'ana@contoso.example' } }));

    expect(cancelBeforeNextSessionWrite).toBe(false);
    expect(isErrorEnvelope(answer) ? answer.error.code : answer).toBe('REQUEST_REFUSED');
    // nothing while it ran: its usage record (counted in session-cost.e2e.test.ts) comes after, from the runtime
    expect(record.writes).toEqual([]);
    const session = await runtime.deps.sessions.getSession(ses);
    expect(session?.status).toBe('Cancelled');
    expect(session?.postponements).toEqual([]);
    const log = await runtime.deps.sessionLog.read(ses, { limit: 100 });
    expect(log.entries.filter((line) => line.message.includes('postponed'))).toEqual([]);
  });
});
