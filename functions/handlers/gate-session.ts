import { z } from 'zod';
import { gateSession } from '../core/use-cases/gate-session.js';
import { cloudDependencies } from './cloud.js';
import { defineHandler } from './handler-kit.js';
import { sessionIdSchema } from './schemas.js';

/** Between planning and execution, every time the workflow wakes: run, wait for the window, or end. */
export const createHandler = defineHandler('gate-session', z.object({ sessionId: sessionIdSchema }), (deps, input) => gateSession(deps, input.sessionId));

export const handler = createHandler(cloudDependencies);
