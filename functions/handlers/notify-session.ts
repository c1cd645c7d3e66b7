import { z } from 'zod';
import { notifySession } from '../core/use-cases/session-emails.js';
import { cloudDependencies } from './cloud.js';
import { defineHandler } from './handler-kit.js';
import { sessionIdSchema } from './schemas.js';

export const createHandler = defineHandler('notify-session', z.object({ sessionId: sessionIdSchema }), (deps, input) => notifySession(deps, input.sessionId));

export const handler = createHandler(cloudDependencies);
