import { z } from 'zod';
import { entityIdSchema } from '../core/model/catalog.js';
import { requesterSchema, sessionOptionsSchema } from '../core/model/session.js';
import { startSession } from '../core/use-cases/start-session.js';
import { cloudDependencies } from './cloud.js';
import { defineOperatorHandler } from './handler-kit.js';
import { sessionIdSchema } from './schemas.js';

export const createHandler = defineOperatorHandler(
  'start-session',
  z.object({
    computerId: entityIdSchema,
    sessionId: sessionIdSchema.optional(),
    options: sessionOptionsSchema.default(sessionOptionsSchema.parse({})),
    by: requesterSchema.default({ kind: 'Api', name: 'api' }),
    /** Cancel the computer's unfinished session and start this one; otherwise the unfinished one is answered. */
    supersede: z.boolean().default(false),
  }),
  (deps, input) => startSession(deps, input),
);

export const handler = createHandler(cloudDependencies);
