import { z } from 'zod';
import { planSession } from '../core/use-cases/plan-session.js';
import { cloudDependencies } from './cloud.js';
import { defineHandler } from './handler-kit.js';
import { sessionIdSchema } from './schemas.js';

export const createHandler = defineHandler('plan-session', z.object({ sessionId: sessionIdSchema }), (deps, input) =>
  planSession(deps, input.sessionId),
);

export const handler = createHandler(cloudDependencies);
