import { z } from 'zod';
import { entityIdSchema } from '../core/model/catalog.js';
import { scheduleIdSchema, scheduleInputSchema } from '../core/model/schedule.js';
import { requesterSchema } from '../core/model/session.js';
import {
  createSchedule,
  deleteSchedule,
  duplicateSchedule,
  setScheduleEnabled,
  updateSchedule,
} from '../core/use-cases/manage-schedules.js';
import { NotFoundError } from '../core/errors.js';
import { cloudDependencies } from './cloud.js';
import { defineOperatorHandler } from './handler-kit.js';

const versionSchema = z.number().int().min(1);

/** Every way an operator changes or reads schedules; each answer names the version to send with the next change. */
export const manageScheduleRequestSchema = z.discriminatedUnion('operation', [
  z.object({ operation: z.literal('create'), scheduleId: scheduleIdSchema.optional(), schedule: scheduleInputSchema, by: requesterSchema }).strict(),
  z.object({ operation: z.literal('update'), scheduleId: scheduleIdSchema, expectedVersion: versionSchema, schedule: scheduleInputSchema, by: requesterSchema }).strict(),
  z.object({ operation: z.literal('enable'), scheduleId: scheduleIdSchema, expectedVersion: versionSchema, by: requesterSchema }).strict(),
  z.object({ operation: z.literal('disable'), scheduleId: scheduleIdSchema, expectedVersion: versionSchema, by: requesterSchema }).strict(),
  z
    .object({ operation: z.literal('duplicate'), scheduleId: scheduleIdSchema, newScheduleId: entityIdSchema.optional(), name: z.string().trim().min(1).max(255).optional(), by: requesterSchema })
    .strict(),
  z.object({ operation: z.literal('delete'), scheduleId: scheduleIdSchema, expectedVersion: versionSchema, by: requesterSchema }).strict(),
  z.object({ operation: z.literal('get'), scheduleId: scheduleIdSchema }).strict(),
  z.object({ operation: z.literal('list') }).strict(),
  z.object({ operation: z.literal('history'), scheduleId: scheduleIdSchema }).strict(),
]);
export type ManageScheduleRequest = z.infer<typeof manageScheduleRequestSchema>;

export const createHandler = defineOperatorHandler('manage-schedule', manageScheduleRequestSchema, async (deps, request) => {
  switch (request.operation) {
    case 'create':
      return createSchedule(deps, { input: request.schedule, ...(request.scheduleId ? { scheduleId: request.scheduleId } : {}), by: request.by });
    case 'update':
      return updateSchedule(deps, { scheduleId: request.scheduleId, expectedVersion: request.expectedVersion, input: request.schedule, by: request.by });
    case 'enable':
    case 'disable':
      return setScheduleEnabled(deps, { scheduleId: request.scheduleId, expectedVersion: request.expectedVersion, enabled: request.operation === 'enable', by: request.by });
    case 'duplicate':
      return duplicateSchedule(deps, {
        scheduleId: request.scheduleId,
        ...(request.newScheduleId ? { newScheduleId: request.newScheduleId } : {}),
        ...(request.name ? { name: request.name } : {}),
        by: request.by,
      });
    case 'delete':
      await deleteSchedule(deps, { scheduleId: request.scheduleId, expectedVersion: request.expectedVersion, by: request.by });
      return { deleted: request.scheduleId };
    case 'get': {
      const schedule = await deps.schedules.getSchedule(request.scheduleId);
      if (!schedule) throw new NotFoundError('schedule', request.scheduleId);
      return { schedule };
    }
    case 'list':
      return { schedules: await deps.schedules.listSchedules() };
    case 'history':
      return { changes: await deps.audit.list('Schedule', request.scheduleId) };
  }
});

export const handler = createHandler(cloudDependencies);
