import { z } from 'zod';
import { prepareSession } from '../core/use-cases/prepare-session.js';
import { cloudDependencies } from './cloud.js';
import { defineHandler } from './handler-kit.js';
import { sessionIdSchema } from './schemas.js';

export const createHandler = defineHandler('prepare-session', z.object({ sessionId: sessionIdSchema }), (deps, input) =>
  prepareSession(deps, input.sessionId),
);

export const handler = createHandler(cloudDependencies);
