import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
  type CreateScheduleCommandInput,
  type GetScheduleCommandOutput,
  type Target,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { SchedulerScheduleTriggers, scheduleTriggerName } from '../../functions/adapters/schedule-trigger.scheduler.js';
import { scheduleInputSchema, type ScheduleInput } from '../../functions/core/model/schedule.js';
import type { Requester } from '../../functions/core/model/session.js';
import type { Dependencies } from '../../functions/core/use-cases/dependencies.js';
import { createSchedule, reconcileScheduleTriggers, type TriggerDrift } from '../../functions/core/use-cases/manage-schedules.js';
import { LocalScheduleTriggers } from '../../local/schedule-triggers.js';
import { tenant } from '../support/domain.js';
import { useCaseHarness } from './harness.js';

const ALICE: Requester = { kind: 'Operator', name: 'alice@msp.example' };
const settings = {
  groupName: 'nightshift-schedules',
  targetArn: 'arn:aws:lambda:eu-west-1:111111111111:function:nightshift-fire-schedule',
  roleArn: 'arn:aws:iam::111111111111:role/schedule-fire-invoker',
  deadLetterQueueArn: 'arn:aws:sqs:eu-west-1:111111111111:schedule-fire-dlq',
};

const input = (tenantId: string, name: string): ScheduleInput =>
  scheduleInputSchema.parse({ name, tenantId, target: { kind: 'AllComputers' }, recurrence: { kind: 'Weekly', days: ['TUE'] }, detectionTime: '14:00', maintenanceTime: '22:00' });

const bySchedule = (drifts: readonly TriggerDrift[]): TriggerDrift[] => [...drifts].sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));

describe('the reconcile sweep over EventBridge Scheduler: a trigger whose delivery was edited by hand is reported by the part edited and put back (SDK mocked: no local twin for the API)', () => {
  const harness = useCaseHarness();
  const scheduler = mockClient(SchedulerClient);
  /** What Scheduler holds, by schedule name: what the adapter wrote, unless a test edits it as someone in the console would. */
  const held = new Map<string, GetScheduleCommandOutput>();
  const notFound = () => new ResourceNotFoundException({ message: 'no such schedule', Message: 'no such schedule', $metadata: {} });
  const write = (command: CreateScheduleCommandInput): { ScheduleArn: string } => {
    held.set(command.Name ?? '', { $metadata: {}, ...structuredClone(command) });
    return { ScheduleArn: `arn:aws:scheduler:eu-west-1:111111111111:schedule/${settings.groupName}/${command.Name ?? ''}` };
  };

  beforeEach(() => {
    scheduler.reset();
    scheduler.on(CreateScheduleCommand).callsFake(write);
    scheduler.on(UpdateScheduleCommand).callsFake((command: CreateScheduleCommandInput) => {
      if (!held.has(command.Name ?? '')) throw notFound();
      return write(command);
    });
    scheduler.on(DeleteScheduleCommand).callsFake(({ Name }: { Name: string }) => {
      if (!held.delete(Name)) throw notFound();
      return {};
    });
    scheduler.on(ListSchedulesCommand).callsFake(() => ({ Schedules: [...held.keys()].map((Name) => ({ Name, GroupName: settings.groupName })) }));
    scheduler.on(GetScheduleCommand).callsFake(({ Name }: { Name: string }) => {
      const schedule = held.get(Name);
      if (!schedule) throw notFound();
      return structuredClone(schedule);
    });
  });

  /** Edits what Scheduler holds for a schedule, as a hand edit in the console would. */
  const editByHand = (scheduleId: string, edit: (schedule: GetScheduleCommandOutput, target: Target) => GetScheduleCommandOutput): void => {
    const name = scheduleTriggerName(scheduleId);
    const schedule = held.get(name);
    if (!schedule?.Target) throw new Error(`no trigger ${name} to edit`);
    held.set(name, edit(schedule, schedule.Target));
  };

  it('reports the target, role, dead-letter queue and retry policy each by its field (with the schedule\'s own fields when those were edited too), fixes each by one put, and leaves a matching trigger alone', async () => {
    const h = harness();
    const deps: Dependencies = { ...h.deps, scheduleTriggers: new SchedulerScheduleTriggers(new SchedulerClient({ region: 'eu-west-1' }), settings) };
    const tenantId = `d${Date.now().toString(36)}`;
    await h.catalog.putTenant(tenant(tenantId, { defaultTimeZone: 'Europe/Lisbon' }));
    const ids = ['dlq', 'retry', 'role', 'target', 'two-edits', 'untouched'].map((name) => `${tenantId}-${name}`);
    for (const scheduleId of ids) {
      const { triggerInSync } = await createSchedule(deps, { input: input(tenantId, scheduleId), scheduleId, by: ALICE });
      expect(triggerInSync).toBe(true);
    }
    expect(await reconcileScheduleTriggers(deps)).toEqual([]);
    const asWritten = new Map(ids.map((id) => [id, structuredClone(held.get(scheduleTriggerName(id)))]));

    const [dlq, retry, role, target, twoEdits, untouched] = ids as [string, string, string, string, string, string];
    editByHand(dlq, (schedule, { DeadLetterConfig: _removed, ...rest }) => ({ ...schedule, Target: rest }));
    editByHand(retry, (schedule, t) => ({ ...schedule, Target: { ...t, RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 } } }));
    editByHand(role, (schedule, t) => ({ ...schedule, Target: { ...t, RoleArn: 'arn:aws:iam::111111111111:role/admin-by-hand' } }));
    editByHand(target, (schedule, t) => ({ ...schedule, Target: { ...t, Arn: 'arn:aws:lambda:eu-west-1:111111111111:function:someone-elses' } }));
    editByHand(twoEdits, (schedule, t) => ({ ...schedule, ScheduleExpression: 'cron(0 3 * * ? *)', Target: { ...t, RoleArn: 'arn:aws:iam::111111111111:role/admin-by-hand' } }));
    scheduler.resetHistory();

    const drifts = await reconcileScheduleTriggers(deps);
    expect(bySchedule(drifts)).toEqual([
      { scheduleId: dlq, drift: 'Different', fields: ['deadLetterQueue'] },
      { scheduleId: retry, drift: 'Different', fields: ['retryPolicy'] },
      { scheduleId: role, drift: 'Different', fields: ['role'] },
      { scheduleId: target, drift: 'Different', fields: ['target'] },
      { scheduleId: twoEdits, drift: 'Different', fields: ['expression', 'role'] },
    ]);
    // one full update per drifted trigger, none for the one that matches, nothing created or deleted
    expect(scheduler).toHaveReceivedCommandTimes(UpdateScheduleCommand, 5);
    expect(scheduler).not.toHaveReceivedCommandWith(UpdateScheduleCommand, { Name: scheduleTriggerName(untouched) });
    expect(scheduler).toHaveReceivedCommandTimes(CreateScheduleCommand, 0);
    expect(scheduler).toHaveReceivedCommandTimes(DeleteScheduleCommand, 0);
    for (const id of ids) expect(held.get(scheduleTriggerName(id)), id).toEqual(asWritten.get(id));
    // the operator's log says which part of which trigger was put back
    expect(h.logged).toContainEqual({ level: 'warn', message: 'schedule trigger drift fixed', fields: { scheduleId: target, drift: 'Different', fields: ['target'] } });
    expect(await reconcileScheduleTriggers(deps)).toEqual([]);
  });

  it('reports a trigger it could not put back, by its fields, in the log and not among the drifts fixed', async () => {
    const h = harness();
    const deps: Dependencies = { ...h.deps, scheduleTriggers: new SchedulerScheduleTriggers(new SchedulerClient({ region: 'eu-west-1' }), settings) };
    await reconcileScheduleTriggers(deps); // what the earlier test left, in line
    const tenantId = `r${Date.now().toString(36)}`;
    await h.catalog.putTenant(tenant(tenantId, { defaultTimeZone: 'Europe/Lisbon' }));
    const scheduleId = `${tenantId}-refused`;
    await createSchedule(deps, { input: input(tenantId, scheduleId), scheduleId, by: ALICE });
    editByHand(scheduleId, (schedule, t) => ({ ...schedule, Target: { ...t, Arn: 'arn:aws:lambda:eu-west-1:111111111111:function:someone-elses' } }));
    scheduler.on(UpdateScheduleCommand).rejects(new Error('AccessDeniedException'));

    expect(await reconcileScheduleTriggers(deps)).toEqual([]);
    expect(h.logged).toContainEqual(
      expect.objectContaining({ level: 'error', message: 'schedule trigger drift not fixed', fields: expect.objectContaining({ scheduleId, drift: 'Different', fields: ['target'] }) as unknown }),
    );
  });
});

describe('the reconcile sweep over the local triggers: the same core code puts back a trigger that holds another retry policy', () => {
  const harness = useCaseHarness();
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reports a trigger written by a runtime started with other retry options as a retryPolicy drift and puts it back', async () => {
    const h = harness();
    dir = await mkdtemp(path.join(tmpdir(), 'nightshift-trigger-reconcile-'));
    const file = path.join(dir, 'schedule-triggers.json');
    const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const before = new LocalScheduleTriggers({ file, clock: h.clock, logger: quiet, maxAttempts: 5 });
    const tenantId = `l${Date.now().toString(36)}`;
    await h.catalog.putTenant(tenant(tenantId, { defaultTimeZone: 'Europe/Lisbon' }));
    const scheduleId = `${tenantId}-local`;
    await createSchedule({ ...h.deps, scheduleTriggers: before }, { input: input(tenantId, scheduleId), scheduleId, by: ALICE });
    await before.close();

    const after = new LocalScheduleTriggers({ file, clock: h.clock, logger: quiet, maxAttempts: 3 });
    await after.load();
    const deps: Dependencies = { ...h.deps, scheduleTriggers: after };
    expect(await reconcileScheduleTriggers(deps)).toEqual([{ scheduleId, drift: 'Different', fields: ['retryPolicy'] }]);
    expect(await after.list()).toEqual([expect.not.objectContaining({ deliveryDrift: expect.anything() as unknown })]);
    expect(await reconcileScheduleTriggers(deps)).toEqual([]);
    await after.close();
  });
});
