import { USAGE_SK_PREFIX } from '../../functions/adapters/usage-store.dynamodb.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime, SessionOutcome } from '../../local/runtime.js';
import { everywhere, runtimeWithFleet, testComputer, testSoftware } from '../support/fleet.js';

const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);
const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan']);
const ITEMS = 9;

/**
 * What one more action costs, measured as the difference between two real
 * sessions on the local runtime (dynalite, the deployed ASL, bash): one with
 * 3 actions and one with 9, the same items detected and verified. Counts are
 * table calls (a batch is one), so this is exact, not a timing.
 */
describe('each action costs a fixed, small number of table calls and state transitions', () => {
  let runtime: LocalRuntime;
  const calls = { writes: 0, reads: 0 };
  const few = testComputer('pc-few', 'i-0000000000000d001');
  const many = testComputer('pc-many', 'i-0000000000000d002');

  beforeAll(async () => {
    const software = Array.from({ length: ITEMS }, (_, i) => testSoftware(`app${i + 1}`, '2.0.0'));
    runtime = await runtimeWithFleet({
      software,
      deployments: software.map((s) => everywhere(s.id)),
      machines: [
        // six of nine already compliant: three actions
        { computer: few, image: Object.fromEntries(software.slice(3).map((s) => [s.id, '2.0.0'])) },
        { computer: many },
      ],
    });
    // added after seeding: only what sessions do is counted
    runtime.dynamoClient.middlewareStack.add(
      (next, context) => (args) => {
        const command = (context.commandName ?? '').replace(/Command$/, '');
        // the usage meter's write per invocation is what the session's cost is counted with, not the engine's work
        const sortKey: unknown = (args.input as { Key?: { SK?: unknown } }).Key?.SK;
        const sk = typeof sortKey === 'string' ? sortKey : (sortKey as { S?: string } | undefined)?.S;
        if (WRITES.has(command) && !sk?.startsWith(USAGE_SK_PREFIX)) calls.writes++;
        if (READS.has(command)) calls.reads++;
        return next(args);
      },
      { step: 'initialize', name: 'countTableCalls' },
    );
  }, 60_000);
  afterAll(() => runtime.close());

  async function measured(computerId: string): Promise<{ outcome: SessionOutcome; writes: number; reads: number }> {
    const before = { ...calls };
    const { sessionId } = await runtime.startSession(computerId);
    const outcome = await runtime.waitForSession(sessionId);
    return { outcome, writes: calls.writes - before.writes, reads: calls.reads - before.reads };
  }

  it('adds at most 4 writes, 2 reads and 1 state transition per action, pays 31 reads and 24 writes once, and leaves nothing on the reconciler worklist', async () => {
    const small = await measured(few.id);
    const large = await measured(many.id);
    expect(small.outcome.actions).toHaveLength(3);
    expect(large.outcome.actions).toHaveLength(9);
    for (const run of [small, large]) {
      expect(run.outcome.session.status).toBe('Passed');
      // 14 + A: one RunAction state per action, and the window costs nothing more
      expect(run.outcome.stateTransitions).toBe(14 + run.outcome.actions.length);
    }

    const extra = large.outcome.actions.length - small.outcome.actions.length;
    const writesPerAction = (large.writes - small.writes) / extra;
    const readsPerAction = (large.reads - small.reads) / extra;
    // start + claim (1), result + completion (1), its log line (1), the report's result (1); the plan writes 25 to a call
    expect(writesPerAction).toBeLessThanOrEqual(4);
    // the step's one read of session, action, prerequisites and catalog entry, and the check for a cancel that
    // came while sending; the completion reads nothing
    expect(readsPerAction).toBeLessThanOrEqual(2);
    // and what a session pays once, whatever its actions (start to report): each stage's session write is decided
    // from the read the stage starts with, not from a second read of the same record (38 reads when they read twice),
    // and the follow-up email decides from the session and actions the report has just written (33 when it read them again)
    expect(small.reads - small.outcome.actions.length * readsPerAction).toBeLessThanOrEqual(31);
    expect(small.writes - small.outcome.actions.length * writesPerAction).toBeLessThanOrEqual(24);

    // every dispatch was settled by its completion or the report: the reconciler has nothing to look at, ever
    const waiting = await runtime.deps.sessions.listWaitingDispatches('9999-01-01T00:00:00.000Z', 100);
    expect(waiting).toEqual([]);
  }, 120_000);
});
