import { z } from 'zod';
import { scheduleIdSchema } from '../core/model/schedule.js';
import { requesterSchema } from '../core/model/session.js';
import { fireSchedule } from '../core/use-cases/fire-schedule.js';
import { cloudDependencies } from './cloud.js';
import { defineHandler } from './handler-kit.js';

/**
 * The Scheduler target ({scheduleId, scheduledTime} with Scheduler's
 * `<aws.scheduler.scheduled-time>`), or an operator's run-now ({scheduleId,
 * runNow: true, by}, keyed by the time it was asked). Errors propagate so
 * Scheduler (or Lambda's async retry) delivers the fire again; every write
 * of a fire is keyed, so a redelivery finishes what the first left.
 */
export const fireScheduleEventSchema = z.union([
  z.object({ scheduleId: scheduleIdSchema, scheduledTime: z.iso.datetime({ offset: true }) }),
  // the time of the ask keys the run: a retried run-now (Lambda retries an asynchronous invocation) is the same run
  z.object({ scheduleId: scheduleIdSchema, runNow: z.literal(true), by: requesterSchema, requestedAt: z.iso.datetime({ offset: true }) }).strict(),
]);

export const createHandler = defineHandler('fire-schedule', fireScheduleEventSchema, (deps, event) =>
  'runNow' in event
    ? fireSchedule(deps, {
        scheduleId: event.scheduleId,
        scheduledTime: event.requestedAt,
        trigger: 'RunNow',
        by: event.by,
      })
    : fireSchedule(deps, { scheduleId: event.scheduleId, scheduledTime: event.scheduledTime, trigger: 'Schedule', by: { kind: 'Schedule', name: 'EventBridge Scheduler' } }),
);

export const handler = createHandler(cloudDependencies);
