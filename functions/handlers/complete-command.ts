import { z } from 'zod';
import { completeCommand } from '../core/use-cases/complete-command.js';
import { cloudDependencies } from './cloud.js';
import { defineHandler } from './handler-kit.js';

/** EventBridge "EC2 Command Invocation Status-change Notification" from SSM (the sandbox agent emits the same). */
const eventSchema = z.object({
  source: z.literal('aws.ssm'),
  'detail-type': z.literal('EC2 Command Invocation Status-change Notification'),
  detail: z.object({
    'command-id': z.string().min(1),
    'instance-id': z.string().min(1),
    status: z.string().min(1),
  }),
});

export const createHandler = defineHandler('complete-command', eventSchema, async (deps, event) => ({
  result: await completeCommand(deps, { commandId: event.detail['command-id'], agentId: event.detail['instance-id'] }),
}));

export const handler = createHandler(cloudDependencies);
