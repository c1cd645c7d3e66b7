import { z } from 'zod';
import { advanceActiveRuns } from '../core/use-cases/run-controller.js';
import { cloudDependencies } from './cloud.js';
import { defineHandler } from './handler-kit.js';

/** Scheduled every minute: each active schedule run takes its next rollout step (counts, error budget, rings, starts). */
export const createHandler = defineHandler('advance-runs', z.object({ limit: z.number().int().min(1).max(1_000).default(100) }), (deps, input) =>
  advanceActiveRuns(deps, input.limit),
);

export const handler = createHandler(cloudDependencies);
