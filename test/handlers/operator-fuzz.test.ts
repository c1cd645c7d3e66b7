import { AsyncLocalStorage } from 'node:async_hooks';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isErrorEnvelope } from '../../functions/handlers/handler-kit.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { deploySoftware, software, task } from '../support/domain.js';
import { everywhere, manualClock, runtimeWithFleet, testComputer, testSoftware } from '../support/fleet.js';

/**
 * Thousands of hostile inputs per operator handler, through the local runtime
 * (real handlers, dynalite). Each invocation runs in its own async context, so
 * the table writes it causes are counted for it alone, even while sessions it
 * or others started go on in the background.
 */

const RUNS_PER_HANDLER = 2_000;
const CLIENT_CODES = new Set(['VALIDATION_FAILED', 'NOT_FOUND', 'CONFLICT', 'ILLEGAL_TRANSITION', 'REQUEST_REFUSED']);
const WRITES = /^(Put|Update|Delete|BatchWrite|TransactWrite)/;
/**
 * The usage meter's own record is accounting, not a change: a request that
 * loses a conditional write to the engine and is then refused was billed that
 * write by DynamoDB, and its session's cost says so (lost-race-refusal.test.ts).
 */
const isUsageRecord = (input: unknown): boolean => {
  const key = (input as { Key?: { SK?: unknown } } | undefined)?.Key;
  return typeof key?.SK === 'string' && key.SK.startsWith('USAGE');
};

const hostileText = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '\0',
      'pc\u0000-1',
      '__proto__',
      'constructor',
      'toString',
      '../../etc/passwd',
      '${jndi:ldap://x}',
      "'; DROP TABLE sessions; --",
      '<script>alert(1)</script>',
      '\uD800',
      '😀'.repeat(300),
      'x'.repeat(70_000),
      'LOG#00000001',
      '1.0 beta',
      '^(a+)+$',
      '2026-11-23T10:00:00Z',
      'tonight',
    ),
  },
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: hostileText },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(-0)) },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }) },
);
/** A field that is right most of the time, so the input gets past the first check and the deeper ones are tried too. */
const mostly = <T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.oneof({ weight: 3, arbitrary: valid }, { weight: 1, arbitrary: hostileValue });
/** For the key that decides whether the store is read at all: right a third of the time keeps the run short. */
const sometimes = <T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.oneof({ weight: 1, arbitrary: valid }, { weight: 2, arbitrary: hostileValue });
const requester = mostly(fc.record({ kind: mostly(fc.constantFrom('EndUser', 'Operator', 'Api', 'Schedule')), name: mostly(fc.constantFrom('ana@contoso.example', 'ops')) }));
/** Whole-event hostility: not an object, an array, a prototype-laden JSON document. */
const wholeEvent = fc.oneof(
  fc.anything({ maxDepth: 3 }),
  fc.constantFrom<unknown>(null, undefined, 0, '', [], 'sessionId', JSON.parse('{"__proto__":{"sessionId":"ses_waiting"}}')),
);

describe('operator handlers under hostile input', () => {
  let runtime: LocalRuntime;
  const invocation = new AsyncLocalStorage<{ writes: number }>();
  const sessionIds = fc.constantFrom('ses_waiting', 'ses_done', 'ses_missing', 'fuzz_1', 'fuzz_2');

  beforeAll(async () => {
    const clock = manualClock(new Date('2026-11-23T09:00:00Z'));
    const computer = testComputer('pc-1', 'i-0000000000000f001');
    runtime = await runtimeWithFleet(
      {
        software: [testSoftware('app', '1.0')],
        tasks: [task('fw', { parameters: [{ name: 'label', type: 'string', pattern: '^(a+)+$', required: false }] })],
        deployments: [everywhere('app')],
        machines: [{ computer }],
      },
      { clock, timerPollMs: 10, agentPollMs: 10 },
    );
    await runtime.startSession('pc-1', 'ses_done', { mode: 'DetectionOnly' });
    await runtime.waitForSession('ses_done');
    await runtime.startSession('pc-1', 'ses_waiting', { executeAt: new Date(clock.now().getTime() + 3_600_000).toISOString() });
    runtime.dynamoClient.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        const counter = invocation.getStore();
        if (counter && WRITES.test(context.commandName ?? '') && !isUsageRecord(args.input)) counter.writes++;
        return result;
      },
      { step: 'initialize', name: 'countWritesPerInvocation' },
    );
  });
  afterAll(() => runtime.close());

  const events: Record<string, fc.Arbitrary<unknown>> = {
    'start-session': fc.oneof(
      wholeEvent,
      fc
        .record(
          {
            computerId: sometimes(fc.constantFrom('pc-1', 'ghost')),
            sessionId: mostly(sessionIds),
            options: mostly(
              fc.record(
                {
                  mode: mostly(fc.constantFrom('Full', 'DetectionOnly')),
                  executeAt: mostly(fc.constantFrom('2026-11-23T12:00:00Z', '2027-01-01T00:00:00Z')),
                  reboot: mostly(fc.constantFrom('IfNecessary', 'Suppress', 'Force')),
                  offline: mostly(fc.constantFrom('ApplyOnConnect', 'Skip')),
                  postpone: mostly(fc.record({ delayMinutes: mostly(fc.integer({ min: -10, max: 20_000 })), maxCount: mostly(fc.nat({ max: 30 })), deadline: hostileValue }, { requiredKeys: [] })),
                },
                { requiredKeys: [] },
              ),
            ),
            by: requester,
            supersede: mostly(fc.boolean()),
          },
          { requiredKeys: [] },
        )
        // a started session runs real scripts: only a few known ids may ever start one
        .map((event) => (typeof event.sessionId === 'string' || event.computerId !== 'pc-1' ? event : { ...event, sessionId: 'fuzz_1' })),
    ),
    'postpone-session': fc.oneof(wholeEvent, fc.record({ sessionId: sometimes(sessionIds), by: requester }, { requiredKeys: [] })),
    'run-session-now': fc.oneof(wholeEvent, fc.record({ sessionId: sometimes(sessionIds), by: requester }, { requiredKeys: [] })),
    'cancel-session': fc.oneof(wholeEvent, fc.record({ sessionId: sometimes(fc.constantFrom('ses_done', 'ses_missing', 'fuzz_2')), by: requester }, { requiredKeys: [] })),
    'get-session-log': fc.oneof(
      wholeEvent,
      fc.record({ sessionId: sometimes(sessionIds), cursor: hostileValue, limit: mostly(fc.integer({ min: -5, max: 1_000 })) }, { requiredKeys: ['sessionId'] }),
    ),
    'save-catalog': fc.oneof(
      wholeEvent,
      fc.record({
        kind: mostly(fc.constantFrom('Tenant', 'Computer', 'Software', 'Task', 'Deployment')),
        by: requester,
        entity: fc.oneof(
          hostileValue,
          fc.constantFrom<unknown>(
            software('fz', { latestVersion: '1.0 beta' }),
            software('fz', { installScript: '€'.repeat(20_000) }),
            task('fz', { parameters: [{ name: 'p', type: 'string', pattern: '(a)\\1', required: false }] }),
            task('fz', { parameters: [{ name: 'constructor', type: 'string', required: false }] }),
            deploySoftware('fz', 'app', { desiredState: 'ThisVersion', version: 'x'.repeat(70) }),
            { id: 'fz', name: 'Tenant\0' },
            JSON.parse('{"id":"fz","name":"t","__proto__":{"parentTenantId":"fz"}}'),
          ),
          fc.record({ id: mostly(fc.constantFrom('fz', 'tenant-a')), name: hostileValue, platform: hostileValue, tenantId: hostileValue, agentId: hostileValue }, { requiredKeys: [] }),
        ),
      }),
    ),
    'explain-computer': fc.oneof(wholeEvent, fc.record({ computerId: sometimes(fc.constantFrom('pc-1', 'ghost')) }, { requiredKeys: [] })),
  };

  it.each(Object.keys(events))(
    `%s: ${RUNS_PER_HANDLER} hostile inputs, every refusal one envelope with a code (and a field for validation), nothing written (proves clean refusals)`,
    async (handlerName) => {
      const arbitrary = events[handlerName];
      if (!arbitrary) throw new Error(handlerName);
      const seen = { answered: 0, refused: 0 };
      await fc.assert(
        fc.asyncProperty(arbitrary, async (event) => {
          const counter = { writes: 0 };
          // never a throw: operator handlers answer
          const answer: unknown = await invocation.run(counter, () => runtime.invoke(handlerName, event));
          seen.answered++;
          if (!isErrorEnvelope(answer)) return;
          seen.refused++;
          const envelope = answer;
          expect(Object.keys(answer)).toEqual(['error']);
          // INTERNAL would be an error Nightshift did not expect: a bug this test exists to find
          expect(CLIENT_CODES.has(envelope.error.code) ? 'client error' : envelope.error).toBe('client error');
          if (envelope.error.code === 'VALIDATION_FAILED') expect(typeof envelope.error.field).toBe('string');
          expect(envelope.error.message.length).toBeLessThanOrEqual(1_000);
          expect(JSON.stringify(answer).length).toBeLessThan(2_000);
          expect(JSON.stringify(answer)).not.toMatch(/\n\s+at |\.ts:\d+/);
          // refused means untouched
          expect(counter.writes).toBe(0);
        }),
        { numRuns: RUNS_PER_HANDLER },
      );
      expect(seen.answered).toBe(RUNS_PER_HANDLER);
      expect(seen.refused).toBeGreaterThan(RUNS_PER_HANDLER / 2);
    },
  );
});
