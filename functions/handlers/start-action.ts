import { z } from 'zod';
import { startAction } from '../core/use-cases/start-action.js';
import { cloudDependencies } from './cloud.js';
import { defineHandler } from './handler-kit.js';
import { actionIdSchema, sessionIdSchema } from './schemas.js';

export const createHandler = defineHandler(
  'start-action',
  z.object({ sessionId: sessionIdSchema, actionId: actionIdSchema }),
  (deps, input) => startAction(deps, input.sessionId, input.actionId),
);

export const handler = createHandler(cloudDependencies);
