import { z } from 'zod';
import { entityIdSchema } from '../core/model/catalog.js';
import { scheduleIdSchema } from '../core/model/schedule.js';
import { requesterSchema } from '../core/model/session.js';
import { NotFoundError } from '../core/errors.js';
import { operateRun } from '../core/use-cases/advance-run.js';
import { cloudDependencies } from './cloud.js';
import { defineOperatorHandler } from './handler-kit.js';

const runIdSchema = entityIdSchema;

/** A run's page (its record and every target), a schedule's runs, and an operator's halt, resume, promote or cancel. */
export const manageRunRequestSchema = z.discriminatedUnion('operation', [
  z.object({ operation: z.literal('get'), runId: runIdSchema }).strict(),
  z.object({ operation: z.literal('list'), scheduleId: scheduleIdSchema, limit: z.number().int().min(1).max(100).default(20) }).strict(),
  z
    .object({
      operation: z.enum(['halt', 'resume', 'promote', 'cancel']),
      runId: runIdSchema,
      by: requesterSchema,
      reason: z.string().trim().min(1).max(500).optional(),
    })
    .strict(),
]);

export const createHandler = defineOperatorHandler('manage-run', manageRunRequestSchema, async (deps, request) => {
  switch (request.operation) {
    case 'get': {
      const run = await deps.schedules.getRun(request.runId);
      if (!run) throw new NotFoundError('run', request.runId);
      return { run, targets: await deps.schedules.listRunTargets(request.runId) };
    }
    case 'list':
      return { runs: await deps.schedules.listRuns(request.scheduleId, request.limit) };
    default:
      return { run: await operateRun(deps, { runId: request.runId, operation: request.operation, by: request.by, ...(request.reason ? { reason: request.reason } : {}) }) };
  }
});

export const handler = createHandler(cloudDependencies);
