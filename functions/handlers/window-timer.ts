import { z } from 'zod';
import { windowTimerFired } from '../core/use-cases/gate-session.js';
import { cloudDependencies } from './cloud.js';
import { defineHandler } from './handler-kit.js';
import { sessionIdSchema } from './schemas.js';

/** The target of a session's one-time window timer (EventBridge Scheduler `at()`): wakes the parked gate. */
export const createHandler = defineHandler('window-timer', z.object({ sessionId: sessionIdSchema }), (deps, input) => windowTimerFired(deps, input.sessionId));

export const handler = createHandler(cloudDependencies);
