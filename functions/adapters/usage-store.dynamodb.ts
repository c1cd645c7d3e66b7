import { addUsage, NO_USAGE, USAGE_COUNTERS, type ClosedSessionUsage, type CountedUsage, type RunUsage, type SessionUsage, type UsageCounters } from '../core/model/usage.js';
import type { Clock } from '../core/ports/clock.port.js';
import type { DynamoTable } from './dynamodb-table.js';
import { TABLE_DEFINITION } from './table-definition.js';
import type { UsageOwner, UsageSink } from './usage-meter.js';

/**
 * What sessions and runs used, beside (never inside) the items whose state
 * they describe: a session's status and version stay one conditional write to
 * the session item, and no index holds usage.
 *
 * | item               | PK           | SK                      | written by                                             |
 * |--------------------|--------------|-------------------------|--------------------------------------------------------|
 * | session usage      | SESSION#<id> | USAGE                   | every metered invocation of the session (one ADD each); closed once when its execution ends |
 * | session in its run | RUN#<runId>  | USAGE#SESSION#<id>      | the close (once: `addedAt`), then each later invocation of the session (ADD) |
 * | run's own usage    | RUN#<runId>  | USAGE#RUN               | each metered invocation of the run's fan-out and rollout (one ADD each) |
 *
 * A run's usage is the sum of its partition's `USAGE#` items: one small item
 * per session rather than one item holding them all (10,000 session ids are
 * ~370 KB, near DynamoDB's 400 KB item limit, and every add would be billed
 * at that size: ~360 write units per session) or sharded items with sets of
 * counted ids (2-4 units per add, and still a read of every shard). Each
 * session's item is written with one single-item conditional write, so a
 * redelivered execution-ended event adds it once, without a transaction
 * (dynalite has none). Reading a run's total of 10,000 sessions reads ~2.5 MB
 * (~600 read units, 3 pages): a run page is read rarely, a session ends once.
 */
export const USAGE_SK = 'USAGE';
/** Every usage item's sort key starts so: the bench tells metering writes from the engine's by it. */
export const USAGE_SK_PREFIX = 'USAGE';
const RUN_USAGE_SK_PREFIX = 'USAGE#';
const sessionPk = (sessionId: string): string => `SESSION#${sessionId}`;
const runPk = (runId: string): string => `RUN#${runId}`;
const sessionInRunSk = (sessionId: string): string => `USAGE#SESSION#${sessionId}`;
const RUN_OWN_SK = 'USAGE#RUN';

/** Each counter's value at the session's close, frozen beside the live one: what a redelivered close adds to the run. */
const atEnd = (counter: string): string => `${counter}AtEnd`;

type Item = Record<string, unknown>;

const numberIn = (item: Item, name: string): number => {
  const value = item[name];
  return typeof value === 'number' ? value : 0;
};

function usageIn(item: Item, name: (counter: string) => string = (counter) => counter): CountedUsage {
  const usage: Record<string, number> = { stateTransitions: numberIn(item, 'stateTransitions') };
  for (const counter of USAGE_COUNTERS) usage[counter] = numberIn(item, name(counter));
  return usage as unknown as CountedUsage;
}

/** `ADD` clauses for every counter, and their placeholders. */
function additions(amounts: UsageCounters | CountedUsage): { clause: string; names: Record<string, string>; values: Record<string, unknown> } {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const clauses = Object.entries(amounts).map(([name, amount], index) => {
    names[`#a${index}`] = name;
    values[`:a${index}`] = amount;
    return `#a${index} :a${index}`;
  });
  return { clause: `ADD ${clauses.join(', ')}`, names, values };
}

export interface UsageStoreOptions {
  /** A session's usage is kept as long as the session's other records. */
  readonly retentionDays: number;
  readonly clock: Clock;
}

export class DynamoUsageStore implements UsageSink {
  constructor(
    private readonly table: DynamoTable,
    private readonly options: UsageStoreOptions,
  ) {}

  private expiresAt(): number {
    return Math.floor(this.options.clock.now().getTime() / 1000) + this.options.retentionDays * 86_400;
  }

  /**
   * One invocation's usage, added to its owner's: one unconditional write, on
   * purpose. An invocation Lambda or Step Functions retries is billed again,
   * so its retry counts again; two invocations finishing at once both count.
   * A session already closed into its run also adds to the run, so the run
   * stays the sum of its sessions (see `closeSessionUsage`).
   */
  async record(owner: UsageOwner, counters: UsageCounters): Promise<void> {
    const { clause, names, values } = additions(counters);
    if (owner.kind === 'run') {
      await this.table.updateWith({
        key: { PK: runPk(owner.id), SK: RUN_OWN_SK },
        expression: `${clause} SET #entity = :entity`,
        names: { ...names, '#entity': 'entity' },
        values: { ...values, ':entity': 'RunUsage' },
      });
      return;
    }
    const written = await this.table.updateWith({
      key: { PK: sessionPk(owner.id), SK: USAGE_SK },
      expression: `${clause} SET #entity = :entity, #ttl = :ttl`,
      names: { ...names, '#entity': 'entity', '#ttl': TABLE_DEFINITION.timeToLiveAttribute },
      values: { ...values, ':entity': 'SessionUsage', ':ttl': this.expiresAt() },
    });
    const runId = written?.runId;
    if (typeof runId === 'string') await addToRunSession(this.table, runId, owner.id, counters);
  }

  async sessionUsage(sessionId: string): Promise<SessionUsage | undefined> {
    const item = await this.table.get(sessionPk(sessionId), USAGE_SK);
    if (!item) return undefined;
    const { closedAt, runId } = item;
    return {
      counted: usageIn(item),
      ...(typeof closedAt === 'string' ? { closedAt } : {}),
      ...(typeof runId === 'string' ? { runId } : {}),
    };
  }

  /**
   * Records the execution's state transitions and freezes the counters as
   * they stand, in one conditional write: the first close wins, and a
   * redelivered one reads back what the first froze. An invocation recorded
   * before the close is in the frozen figures; one recorded after it sees
   * the run in what its write returns and adds itself to the run as well,
   * so nothing is counted twice or left out of the run.
   */
  async closeSessionUsage(sessionId: string, close: { stateTransitions?: number | undefined; runId?: string | undefined; at: string }): Promise<ClosedSessionUsage> {
    const names: Record<string, string> = { '#closedAt': 'closedAt', '#entity': 'entity', '#ttl': TABLE_DEFINITION.timeToLiveAttribute };
    const values: Record<string, unknown> = { ':at': close.at, ':entity': 'SessionUsage', ':ttl': this.expiresAt(), ':zero': 0 };
    const assignments = ['#closedAt = :at', '#entity = if_not_exists(#entity, :entity)', '#ttl = :ttl'];
    if (close.stateTransitions !== undefined) {
      names['#transitions'] = 'stateTransitions';
      values[':transitions'] = close.stateTransitions;
      assignments.push('#transitions = :transitions');
    }
    if (close.runId !== undefined) {
      names['#runId'] = 'runId';
      values[':runId'] = close.runId;
      assignments.push('#runId = :runId');
    }
    USAGE_COUNTERS.forEach((counter, index) => {
      names[`#c${index}`] = counter;
      names[`#f${index}`] = atEnd(counter);
      assignments.push(`#f${index} = if_not_exists(#c${index}, :zero)`);
    });
    const key = { PK: sessionPk(sessionId), SK: USAGE_SK };
    const closed = await this.table.updateWith({ key, expression: `SET ${assignments.join(', ')}`, condition: 'attribute_not_exists(#closedAt)', names, values });
    if (closed) return { closedNow: true, atEnd: usageIn(closed, atEnd) };
    const stored = await this.table.get(key.PK, key.SK);
    return { closedNow: false, atEnd: stored ? usageIn(stored, atEnd) : NO_USAGE };
  }
}

/**
 * Adds the session's usage at its close to the run, once: the write is
 * conditional on the session's item in the run not having it yet, so a
 * redelivered event (or one whose first delivery died after the close)
 * adds it exactly once. Invocations after the close may have added to the
 * item already (`record`); this adds to them rather than replacing them.
 */
export async function addSessionToRun(table: DynamoTable, runId: string, sessionId: string, usage: CountedUsage, at: string): Promise<boolean> {
  const { clause, names, values } = additions(usage);
  const written = await table.updateWith({
    key: { PK: runPk(runId), SK: sessionInRunSk(sessionId) },
    expression: `${clause} SET #addedAt = :at, #entity = :entity, #sessionId = :sessionId`,
    condition: 'attribute_not_exists(#addedAt)',
    names: { ...names, '#addedAt': 'addedAt', '#entity': 'entity', '#sessionId': 'sessionId' },
    values: { ...values, ':at': at, ':entity': 'RunSessionUsage', ':sessionId': sessionId },
  });
  return written !== undefined;
}

async function addToRunSession(table: DynamoTable, runId: string, sessionId: string, counters: UsageCounters): Promise<void> {
  const { clause, names, values } = additions(counters);
  await table.updateWith({
    key: { PK: runPk(runId), SK: sessionInRunSk(sessionId) },
    expression: `${clause} SET #entity = :entity, #sessionId = :sessionId`,
    names: { ...names, '#entity': 'entity', '#sessionId': 'sessionId' },
    values: { ...values, ':entity': 'RunSessionUsage', ':sessionId': sessionId },
  });
}

/** A run's usage: the sum of its partition's usage items (its own, and one per session). */
export async function runUsage(table: DynamoTable, runId: string): Promise<RunUsage> {
  const items = await table.query({ pk: runPk(runId), skPrefix: RUN_USAGE_SK_PREFIX });
  let counted = NO_USAGE;
  let sessionsCounted = 0;
  for (const item of items) {
    counted = addUsage(counted, usageIn(item));
    if (typeof item.addedAt === 'string') sessionsCounted++;
  }
  return { counted, sessionsCounted };
}
