import { z } from 'zod';
import { itemKeySchema } from '../core/model/catalog.js';
import { dispatchCommand } from '../core/use-cases/dispatch-command.js';
import { cloudDependencies } from './cloud.js';
import { defineHandler } from './handler-kit.js';
import { actionIdSchema, sessionIdSchema, taskTokenSchema } from './schemas.js';

const inputSchema = z
  .object({
    sessionId: sessionIdSchema,
    purpose: z.enum(['Detect', 'Verify', 'Action']),
    actionId: actionIdSchema.optional(),
    // the plan's ids; a session has at most 999 actions
    dependsOn: z.array(actionIdSchema).max(999).optional(),
    itemKey: itemKeySchema.optional(),
    // the session's agent as the plan read it, whatever form its computer record has: the step uses it only
    // when it equals the session's, so a record from before a stricter id check never fails the step here
    agentId: z.string().min(1).max(128).optional(),
    taskToken: taskTokenSchema,
  })
  .refine((input) => input.purpose !== 'Action' || input.actionId !== undefined, {
    path: ['actionId'],
    message: 'is required when purpose is Action',
  });

/** Invoked by `.waitForTaskToken` steps: sends the agent command; the completion handler answers the token. */
export const createHandler = defineHandler('dispatch-command', inputSchema, async (deps, input) => ({
  dispatch: await dispatchCommand(deps, input),
}));

export const handler = createHandler(cloudDependencies);
