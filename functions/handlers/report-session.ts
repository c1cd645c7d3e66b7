import { z } from 'zod';
import { reportSession } from '../core/use-cases/report-session.js';
import { cloudDependencies } from './cloud.js';
import { defineHandler } from './handler-kit.js';
import { sessionIdSchema } from './schemas.js';

export const createHandler = defineHandler('report-session', z.object({ sessionId: sessionIdSchema }), (deps, input) =>
  reportSession(deps, input.sessionId),
);

export const handler = createHandler(cloudDependencies);
