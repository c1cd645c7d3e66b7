import { z } from 'zod';
import { cloudDependencies } from './cloud.js';
import { defineHandler } from './handler-kit.js';
import { sessionIdSchema } from './schemas.js';

/** A page of a session's log, oldest first; readable while the session runs. */
export const createHandler = defineHandler(
  'get-session-log',
  z.object({ sessionId: sessionIdSchema, cursor: z.string().max(512).optional(), limit: z.number().int().min(1).max(500).default(100) }),
  (deps, input) => deps.sessionLog.read(input.sessionId, { limit: input.limit, ...(input.cursor === undefined ? {} : { cursor: input.cursor }) }),
);

export const handler = createHandler(cloudDependencies);
