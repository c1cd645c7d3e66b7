import { z } from 'zod';
import { recordActionFailure } from '../core/use-cases/record-failure.js';
import { cloudDependencies } from './cloud.js';
import { defineHandler } from './handler-kit.js';
import { actionIdSchema, sessionIdSchema } from './schemas.js';

/** The Catch of one action inside the Execute map: that action fails, the session goes on. */
export const createHandler = defineHandler(
  'record-action-failure',
  z.object({
    sessionId: sessionIdSchema,
    actionId: actionIdSchema,
    error: z.object({ Error: z.string(), Cause: z.string().optional() }),
  }),
  async (deps, input) => {
    await recordActionFailure(deps, input.sessionId, input.actionId, input.error);
    return { actionId: input.actionId, result: 'Failed' as const };
  },
);

export const handler = createHandler(cloudDependencies);
