import { z } from 'zod';
import { startSession } from '../core/use-cases/start-session.js';
import { cloudDependencies } from './cloud.js';
import { defineHandler } from './handler-kit.js';
import { sessionIdSchema } from './schemas.js';

export const createHandler = defineHandler(
  'start-session',
  z.object({ computerId: z.string().min(1), sessionId: sessionIdSchema.optional() }),
  (deps, input) => startSession(deps, input),
);

export const handler = createHandler(cloudDependencies);
