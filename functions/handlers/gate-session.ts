import { z } from 'zod';
import { gateSession } from '../core/use-cases/gate-session.js';
import { cloudDependencies } from './cloud.js';
import { defineHandler } from './handler-kit.js';
import { sessionIdSchema, taskTokenSchema } from './schemas.js';

/** The `.waitForTaskToken` gate between planning and execution: run, end, or park the token until the window. */
export const createHandler = defineHandler('gate-session', z.object({ sessionId: sessionIdSchema, taskToken: taskTokenSchema }), (deps, input) =>
  gateSession(deps, input.sessionId, input.taskToken),
);

export const handler = createHandler(cloudDependencies);
