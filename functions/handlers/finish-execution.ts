import { z } from 'zod';
import { finishExecution } from '../core/use-cases/finish-execution.js';
import { cloudDependencies } from './cloud.js';
import { defineHandler } from './handler-kit.js';
import { sessionIdSchema } from './schemas.js';

/** After the last action: whether to restart the computer, and whether to verify. */
export const createHandler = defineHandler('finish-execution', z.object({ sessionId: sessionIdSchema }), (deps, input) =>
  finishExecution(deps, input.sessionId),
);

export const handler = createHandler(cloudDependencies);
