import { z } from 'zod';
import { recordFailure } from '../core/use-cases/record-failure.js';
import { cloudDependencies } from './cloud.js';
import { defineHandler } from './handler-kit.js';
import { sessionIdSchema } from './schemas.js';

/** The state machine's Catch target: `error` is what Step Functions caught (`Error`, `Cause`). */
export const createHandler = defineHandler(
  'record-failure',
  z.object({
    sessionId: sessionIdSchema,
    error: z.object({ Error: z.string(), Cause: z.string().optional() }),
  }),
  async (deps, input) => {
    await recordFailure(deps, input.sessionId, input.error);
    return { sessionId: input.sessionId, status: 'Failed' as const };
  },
);

export const handler = createHandler(cloudDependencies);
