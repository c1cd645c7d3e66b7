import { ConflictError, NotFoundError } from '../core/errors.js';
import type { Schedule } from '../core/model/schedule.js';
import type { RunTarget, ScheduleRun } from '../core/model/schedule-run.js';
import type { CountedUsage, RunUsage } from '../core/model/usage.js';
import type { ScheduleStore } from '../core/ports/schedule-store.port.js';
import { toEntity, type DynamoTable } from './dynamodb-table.js';
import { addSessionToRun, runUsage } from './usage-store.dynamodb.js';

/**
 * | item       | PK              | SK                  | GSI1PK / GSI1SK                         |
 * |------------|-----------------|---------------------|-----------------------------------------|
 * | schedule   | SCHEDULE#<id>   | SCHEDULE            | SCHEDULES / <id>                        |
 * | run        | RUN#<runId>     | RUN                 | RUNS#<scheduleId> / <scheduledTime>#<runId> | GSI2: RUNS#ACTIVE / <createdAt>#<runId> while not Completed or Cancelled |
 * | run target | RUN#<runId>     | TARGET#<computerId> |                                         |
 * | run slots  | RUN#<runId>     | SLOTS               | (holders: session id → since; count)    |
 * | run usage  | RUN#<runId>     | USAGE#…             | (see usage-store.dynamodb.ts)           |
 *
 * A run and its targets share a partition, so a run page reads them with one
 * Query; a target is written before its session is started, so a fan-out
 * that stops half way is resumed from what its targets say.
 */
const schedulePk = (scheduleId: string): string => `SCHEDULE#${scheduleId}`;
const SCHEDULE_SK = 'SCHEDULE';
const runPk = (runId: string): string => `RUN#${runId}`;
const RUN_SK = 'RUN';
const targetSk = (computerId: string): string => `TARGET#${computerId}`;
const SLOTS_SK = 'SLOTS';

export class DynamoScheduleStore implements ScheduleStore {
  constructor(private readonly table: DynamoTable) {}

  private scheduleItem(schedule: Schedule): Record<string, unknown> {
    return { PK: schedulePk(schedule.id), SK: SCHEDULE_SK, entity: 'Schedule', GSI1PK: 'SCHEDULES', GSI1SK: schedule.id, ...schedule };
  }

  async createSchedule(schedule: Schedule): Promise<void> {
    const written = await this.table.putIf(this.scheduleItem(schedule), 'attribute_not_exists(PK)');
    if (!written) throw new ConflictError(`schedule ${schedule.id} already exists`);
  }

  async getSchedule(scheduleId: string): Promise<Schedule | undefined> {
    const item = await this.table.get(schedulePk(scheduleId), SCHEDULE_SK);
    return item ? toEntity<Schedule>(item) : undefined;
  }

  async listSchedules(): Promise<Schedule[]> {
    return (await this.table.query({ pk: 'SCHEDULES', index: 'GSI1' })).map((item) => toEntity<Schedule>(item));
  }

  async replaceSchedule(schedule: Schedule, expectedVersion: number): Promise<void> {
    const written = await this.table.putIf(this.scheduleItem(schedule), 'attribute_exists(PK) AND #version = :expectedVersion', {
      names: { '#version': 'version' },
      values: { ':expectedVersion': expectedVersion },
    });
    if (written) return;
    if (!(await this.getSchedule(schedule.id))) throw new NotFoundError('schedule', schedule.id);
    throw new ConflictError(`schedule ${schedule.id} was changed by someone else (it is no longer at version ${String(expectedVersion)}); read it again`);
  }

  async deleteSchedule(scheduleId: string, expectedVersion: number): Promise<void> {
    await this.table
      .deleteIf(
        { PK: schedulePk(scheduleId), SK: SCHEDULE_SK },
        {
          condition: 'attribute_exists(PK) AND #version = :version',
          conditionNames: { '#version': 'version' },
          conditionValues: { ':version': expectedVersion },
          conflict: `schedule ${scheduleId} was changed by someone else (it is no longer at version ${String(expectedVersion)}); read it again`,
        },
      )
      .catch(async (error: unknown) => {
        if (error instanceof ConflictError && !(await this.getSchedule(scheduleId))) throw new NotFoundError('schedule', scheduleId);
        throw error;
      });
  }

  private runItem(run: ScheduleRun): Record<string, unknown> {
    // a halted run waits for an operator, not for the controller: only these are the controller's worklist
    const active = run.status === 'Starting' || run.status === 'Running';
    return {
      PK: runPk(run.id),
      SK: RUN_SK,
      entity: 'ScheduleRun',
      GSI1PK: `RUNS#${run.scheduleId}`,
      GSI1SK: `${run.scheduledTime}#${run.id}`,
      // a sparse index of the runs the controller still looks after: few at a time, so one partition is plenty
      ...(active ? { GSI2PK: 'RUNS#ACTIVE', GSI2SK: `${run.createdAt}#${run.id}` } : {}),
      ...run,
    };
  }

  async createRun(run: ScheduleRun): Promise<{ run: ScheduleRun; created: boolean }> {
    const created = await this.table.putIf(this.runItem(run), 'attribute_not_exists(PK)');
    if (created) return { run, created };
    const stored = await this.getRun(run.id);
    if (!stored) throw new ConflictError(`run ${run.id} could not be created or read`);
    return { run: stored, created: false };
  }

  async getRun(runId: string): Promise<ScheduleRun | undefined> {
    const item = await this.table.get(runPk(runId), RUN_SK);
    return item ? toEntity<ScheduleRun>(item) : undefined;
  }

  async listRuns(scheduleId: string, limit: number): Promise<ScheduleRun[]> {
    return (await this.table.query({ pk: `RUNS#${scheduleId}`, index: 'GSI1', limit, newestFirst: true })).map((item) => toEntity<ScheduleRun>(item));
  }

  async takeRunLease(runId: string, expectedLeaseUntil: string | undefined, leaseUntil: string): Promise<ScheduleRun | undefined> {
    try {
      const item = await this.table.update({
        key: { PK: runPk(runId), SK: RUN_SK },
        set: { fanOutLeaseUntil: leaseUntil },
        // a new version: a step that read the run before the lease was taken cannot write over it
        increment: { version: 1 },
        condition: expectedLeaseUntil === undefined ? 'attribute_exists(PK) AND attribute_not_exists(#lease)' : 'attribute_exists(PK) AND #lease = :expected',
        conditionNames: { '#lease': 'fanOutLeaseUntil' },
        ...(expectedLeaseUntil === undefined ? {} : { conditionValues: { ':expected': expectedLeaseUntil } }),
        conflict: `run ${runId} is held by another delivery or controller step`,
      });
      return toEntity<ScheduleRun>(item);
    } catch (error) {
      if (error instanceof ConflictError) return undefined;
      throw error;
    }
  }

  async releaseRunLease(runId: string, leaseUntil: string): Promise<void> {
    await this.table
      .update({
        key: { PK: runPk(runId), SK: RUN_SK },
        set: {},
        remove: ['fanOutLeaseUntil'],
        condition: 'attribute_exists(PK) AND #lease = :mine',
        conditionNames: { '#lease': 'fanOutLeaseUntil' },
        conditionValues: { ':mine': leaseUntil },
        conflict: `run ${runId} is no longer held until ${leaseUntil}`,
      })
      .catch((error: unknown) => {
        // someone took it over meanwhile, or it is gone: nothing of ours to give back
        if (!(error instanceof ConflictError)) throw error;
      });
  }

  async updateRun(run: ScheduleRun, expectedVersion: number): Promise<void> {
    const written = await this.table.putIf(this.runItem(run), 'attribute_exists(PK) AND #version = :expectedVersion', {
      names: { '#version': 'version' },
      values: { ':expectedVersion': expectedVersion },
    });
    if (!written) throw new ConflictError(`run ${run.id} is no longer at version ${String(expectedVersion)}`);
  }

  async listActiveRuns(limit: number): Promise<ScheduleRun[]> {
    return (await this.table.query({ pk: 'RUNS#ACTIVE', index: 'GSI2', limit })).map((item) => toEntity<ScheduleRun>(item));
  }

  async putRunTarget(target: RunTarget): Promise<{ target: RunTarget; created: boolean }> {
    const created = await this.table.putIf({ PK: runPk(target.runId), SK: targetSk(target.computerId), entity: 'RunTarget', ...target }, 'attribute_not_exists(PK)');
    if (created) return { target, created };
    const stored = await this.table.get(runPk(target.runId), targetSk(target.computerId));
    if (!stored) throw new ConflictError(`run target ${target.runId}/${target.computerId} could not be created or read`);
    return { target: toEntity<RunTarget>(stored), created: false };
  }

  async settleRunTarget(runId: string, computerId: string, outcome: Pick<RunTarget, 'sessionId' | 'skipped' | 'detail'>): Promise<RunTarget> {
    const set: Record<string, string> = {};
    for (const [name, value] of Object.entries(outcome)) if (typeof value === 'string') set[name] = value;
    // the first outcome stays: a redelivered fire never turns a started target into a skipped one
    return this.setOnce(runId, computerId, set, ['sessionId', 'skipped'], 'is settled already');
  }

  async fixRunTargetWindow(runId: string, computerId: string, executeAt: string): Promise<RunTarget> {
    return this.setOnce(runId, computerId, { executeAt }, ['executeAt'], 'has its window already');
  }

  /** Sets `set` on the target unless one of `unsetAttributes` is set already; either way answers the target as stored. */
  private async setOnce(runId: string, computerId: string, set: Readonly<Record<string, string>>, unsetAttributes: readonly string[], conflict: string): Promise<RunTarget> {
    const names = Object.fromEntries(unsetAttributes.map((name, index) => [`#unset${String(index)}`, name]));
    try {
      const item = await this.table.update({
        key: { PK: runPk(runId), SK: targetSk(computerId) },
        set,
        condition: ['attribute_exists(PK)', ...Object.keys(names).map((placeholder) => `attribute_not_exists(${placeholder})`)].join(' AND '),
        conditionNames: names,
        conflict: `run target ${runId}/${computerId} ${conflict}`,
      });
      return toEntity<RunTarget>(item);
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      const stored = await this.table.get(runPk(runId), targetSk(computerId));
      if (!stored) throw new NotFoundError('run target', `${runId}/${computerId}`);
      return toEntity<RunTarget>(stored);
    }
  }

  async acquireExecutionSlot(runId: string, sessionId: string, max: number, now: string): Promise<boolean> {
    // the slots item exists before any slot is taken: a map path can only be set inside a map that is there
    await this.table.putIf({ PK: runPk(runId), SK: SLOTS_SK, entity: 'RunSlots', holders: {}, count: 0 }, 'attribute_not_exists(PK)');
    try {
      await this.table.update({
        key: { PK: runPk(runId), SK: SLOTS_SK },
        set: { [`holders.${sessionId}`]: now },
        increment: { count: 1 },
        condition: 'attribute_not_exists(#holders.#session) AND #count < :max',
        conditionNames: { '#holders': 'holders', '#session': sessionId, '#count': 'count' },
        conditionValues: { ':max': max },
        conflict: `run ${runId} has no free execution slot`,
      });
      return true;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      // a retried gate holds its slot already
      const slots = await this.table.get(runPk(runId), SLOTS_SK);
      const holders = slots?.holders;
      return typeof holders === 'object' && holders !== null && sessionId in holders;
    }
  }

  async releaseExecutionSlot(runId: string, sessionId: string): Promise<void> {
    await this.table
      .update({
        key: { PK: runPk(runId), SK: SLOTS_SK },
        set: {},
        increment: { count: -1 },
        remove: [`holders.${sessionId}`],
        condition: 'attribute_exists(#holders.#session)',
        conditionNames: { '#holders': 'holders', '#session': sessionId },
        conflict: `session ${sessionId} holds no execution slot of run ${runId}`,
      })
      .catch((error: unknown) => {
        if (!(error instanceof ConflictError)) throw error;
      });
  }

  async listRunTargets(runId: string): Promise<RunTarget[]> {
    return (await this.table.query({ pk: runPk(runId), skPrefix: 'TARGET#' })).map((item) => toEntity<RunTarget>(item));
  }

  addSessionUsage(runId: string, sessionId: string, usage: CountedUsage, at: string): Promise<boolean> {
    return addSessionToRun(this.table, runId, sessionId, usage, at);
  }

  getRunUsage(runId: string): Promise<RunUsage> {
    return runUsage(this.table, runId);
  }
}
