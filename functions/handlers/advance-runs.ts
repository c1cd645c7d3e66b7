import { z } from 'zod';
import { entityIdSchema } from '../core/model/catalog.js';
import { advanceActiveRuns, stepRun } from '../core/use-cases/run-controller.js';
import { cloudDependencies } from './cloud.js';
import { defineHandler } from './handler-kit.js';

/**
 * Two callers, one worker: the minute's scheduled sweep (`{ limit }`: each
 * active schedule run takes its next rollout step), and an asynchronous
 * request for one run (`{ runId }`: the fan-out or starts an operator asked
 * for through the API, which cannot wait for them).
 */
export const advanceRunsEventSchema = z.union([
  z.object({ runId: entityIdSchema }).strict(),
  // the scheduled rule delivers EventBridge's own envelope: its fields are not ours to refuse, but a run id that did not parse must not become a sweep
  z.object({ runId: z.never().optional(), limit: z.number().int().min(1).max(1_000).default(100) }),
]);

export const createHandler = defineHandler('advance-runs', advanceRunsEventSchema, async (deps, input) =>
  input.runId === undefined ? advanceActiveRuns(deps, input.limit) : { stepped: (await stepRun(deps, input.runId))?.status ?? 'NotFound' },
);

export const handler = createHandler(cloudDependencies);
