import { z } from 'zod';
import { requesterSchema } from '../core/model/session.js';
import { cancelSession, postponeSession, runSessionNow } from '../core/use-cases/session-requests.js';
import { defineOperatorHandler } from './handler-kit.js';
import { sessionIdSchema } from './schemas.js';

/** The shared input of postpone, run-now and cancel: which session, and who asks. */
export const sessionRequestSchema = z.object({ sessionId: sessionIdSchema, by: requesterSchema });

export const createPostponeHandler = defineOperatorHandler('postpone-session', sessionRequestSchema, (deps, input) => postponeSession(deps, input));
export const createRunNowHandler = defineOperatorHandler('run-session-now', sessionRequestSchema, (deps, input) => runSessionNow(deps, input));
export const createCancelHandler = defineOperatorHandler('cancel-session', sessionRequestSchema, (deps, input) => cancelSession(deps, input));
