import { z } from 'zod';
import { scheduleIdSchema, scheduleInputSchema } from '../core/model/schedule.js';
import { previewSchedule } from '../core/use-cases/preview-schedule.js';
import { cloudDependencies } from './cloud.js';
import { defineOperatorHandler } from './handler-kit.js';

const firesSchema = z.number().int().min(1).max(50).default(5);

/** A stored schedule by id, or one being edited (not stored yet), previewed against today's catalog. */
export const createHandler = defineOperatorHandler(
  'preview-schedule',
  z.union([z.object({ scheduleId: scheduleIdSchema, fires: firesSchema }).strict(), z.object({ schedule: scheduleInputSchema, fires: firesSchema }).strict()]),
  (deps, request) => previewSchedule(deps, 'scheduleId' in request ? request : { input: request.schedule, fires: request.fires }),
);

export const handler = createHandler(cloudDependencies);
