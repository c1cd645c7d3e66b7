import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogPage } from '../../functions/core/ports/session-log.port.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { runtimeWithFleet } from '../support/fleet.js';

const encode = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');
/** A well-formed position (`<at>#<writer>-<count>`), for the near misses below. */
const position = '2026-11-23T09:00:01.000Z#abcdefgh-000000000003';

describe('get-session-log cursors', () => {
  let runtime: LocalRuntime;
  let tableCalls = 0;
  const calls: { command: string; input: unknown }[] = [];
  const read = (event: unknown) => runtime.invoke('get-session-log', event);

  beforeAll(async () => {
    runtime = await runtimeWithFleet({ software: [], deployments: [], machines: [] });
    for (const [sessionId, lines] of [['ses_a', 5], ['ses_b', 3]] as const) {
      for (let i = 1; i <= lines; i++) await runtime.deps.sessionLog.append({ sessionId, at: `2026-11-23T09:00:0${i}.000Z`, kind: 'Stage', message: `${sessionId} line ${i}` });
    }
    runtime.dynamoClient.middlewareStack.add(
      (next, context) => async (args) => {
        tableCalls++;
        calls.push({ command: context.commandName ?? '?', input: args.input });
        return next(args);
      },
      { step: 'initialize', name: 'countTableCalls' },
    );
  });
  afterAll(() => runtime.close());

  it('pages through a log with the cursors it hands out (proves valid cursors still work)', async () => {
    const pages: LogPage[] = [(await read({ sessionId: 'ses_a', limit: 2 })) as LogPage];
    while (pages.at(-1)?.cursor) pages.push((await read({ sessionId: 'ses_a', limit: 2, cursor: pages.at(-1)?.cursor })) as LogPage);
    expect(pages.flatMap((p) => p.entries.map((e) => e.message))).toEqual([1, 2, 3, 4, 5].map((i) => `ses_a line ${i}`));
  });

  it('refuses a malformed, foreign or tampered cursor by name, before DynamoDB is asked (proves no raw ValidationException)', async () => {
    const first = (await read({ sessionId: 'ses_a', limit: 2 })) as LogPage;
    const valid = first.cursor ?? '';
    const otherSession = ((await read({ sessionId: 'ses_b', limit: 1 })) as LogPage).cursor ?? '';
    // the near misses below differ from this one, which is taken: a well-formed position is a place in the caller's own log, not a secret
    expect(await read({ sessionId: 'ses_a', cursor: encode(JSON.stringify({ s: 'ses_a', k: position })) })).toHaveProperty('entries');
    const malformed = [
      '',
      'x',
      '!!!',
      'a'.repeat(10_000),
      encode('LOG#00000002'),
      encode('LOG#'),
      encode('null'),
      // the cursor of the counter-numbered log this one replaced
      encode('{"s":"ses_a","n":2}'),
      encode(JSON.stringify({ s: 'ses_a', k: position, extra: true })),
      encode(JSON.stringify({ k: position, s: 'ses_a' })),
      encode(JSON.stringify({ s: '', k: position })),
      encode(JSON.stringify({ s: 'ses_a', k: 2 })),
      encode(JSON.stringify({ s: 'ses_a', k: '' })),
      encode(JSON.stringify({ s: 'ses_a', k: `LOG#${position}` })),
      encode(JSON.stringify({ s: 'ses_a', k: position.slice(0, 24) })),
      encode(JSON.stringify({ s: 'ses_a', k: `${position} ` })),
      encode(JSON.stringify({ s: 'ses_a', k: position.replace('abcdefgh', 'ABCDEFGH') })),
      encode(JSON.stringify({ s: 'ses_a', k: position.replace('-000000000003', '-00000000003') })),
      encode(JSON.stringify({ s: 'ses_a', k: position.replace('2026-11-23', '2026-02-30') })),
      encode(JSON.stringify({ s: 'ses_a', k: position.replace('09:00:01', '24:00:01') })),
      encode(JSON.stringify({ s: 'ses_a', k: `${position}${'0'.repeat(200)}` })),
      // a dangling sixth bit decodes to the same bytes, but was never handed out
      `${valid}A`,
      `${valid}=`,
    ];
    const before = tableCalls;
    for (const cursor of malformed) {
      expect([cursor.slice(0, 40), await read({ sessionId: 'ses_a', cursor })]).toEqual([
        cursor.slice(0, 40),
        { error: { code: 'VALIDATION_FAILED', message: expect.any(String) as string, field: 'cursor' } },
      ]);
    }
    expect(await read({ sessionId: 'ses_a', cursor: otherSession })).toEqual({
      error: { code: 'VALIDATION_FAILED', message: "invalid get-session-log input: cursor: belongs to another session's log", field: 'cursor' },
    });
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 300 }), fc.base64String({ maxLength: 120 }), fc.json().map(encode)), async (cursor) => {
        expect(await read({ sessionId: 'ses_a', cursor })).toMatchObject({ error: { code: 'VALIDATION_FAILED', field: 'cursor' } });
      }),
      { numRuns: 500 },
    );
    expect(tableCalls - before).toBe(0);
  });

  it('writes a log line with exactly one DynamoDB call, a conditional put (proves the per-line counter write is gone)', async () => {
    calls.length = 0;
    await runtime.deps.sessionLog.append({ sessionId: 'ses_c', at: '2026-11-23T09:00:00.000Z', kind: 'Stage', message: 'one write' });
    expect(calls).toEqual([
      {
        command: 'PutItemCommand',
        input: expect.objectContaining({
          ConditionExpression: 'attribute_not_exists(PK)',
          Item: expect.objectContaining({ PK: 'SESSION#ses_c', SK: expect.stringMatching(/^LOG#2026-11-23T09:00:00\.000Z#[0-9a-z]{8}-\d{12}$/) as unknown }) as unknown,
        }) as unknown,
      },
    ]);
  });
});
