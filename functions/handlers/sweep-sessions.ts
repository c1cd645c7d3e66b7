import { z } from 'zod';
import { sweepCreatedSessions } from '../core/use-cases/sweep-sessions.js';
import { cloudDependencies } from './cloud.js';
import { defineHandler } from './handler-kit.js';

/** Scheduled: starts sessions whose workflow start was lost; fails those whose execution never began them. */
export const createHandler = defineHandler(
  'sweep-sessions',
  z.object({
    createdForSeconds: z.number().int().min(0).max(86_400).default(60),
    giveUpAfterSeconds: z.number().int().min(60).max(7 * 86_400).default(900),
    limit: z.number().int().min(1).max(1_000).default(200),
  }),
  (deps, input) => sweepCreatedSessions(deps, input),
);

export const handler = createHandler(cloudDependencies);
