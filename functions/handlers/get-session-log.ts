import { z } from 'zod';
import { logCursorProblem, MAX_LOG_CURSOR_LENGTH } from '../core/log-cursor.js';
import { cloudDependencies } from './cloud.js';
import { defineOperatorHandler } from './handler-kit.js';
import { sessionIdSchema } from './schemas.js';

/** The cursor is checked against the session it is for, so a made-up or borrowed one is refused by name, not by DynamoDB. */
const inputSchema = z
  .object({
    sessionId: sessionIdSchema,
    cursor: z.string().max(MAX_LOG_CURSOR_LENGTH, 'is not a cursor this log handed out').optional(),
    limit: z.number().int().min(1).max(500).default(100),
  })
  .superRefine((input, ctx) => {
    const problem = input.cursor === undefined ? undefined : logCursorProblem(input.sessionId, input.cursor);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['cursor'], message: problem });
  });

/** A page of a session's log, oldest first; readable while the session runs. */
export const createHandler = defineOperatorHandler('get-session-log', inputSchema, (deps, input) =>
  deps.sessionLog.read(input.sessionId, { limit: input.limit, ...(input.cursor === undefined ? {} : { cursor: input.cursor }) }),
);

export const handler = createHandler(cloudDependencies);
