import { z } from 'zod';
import { reconcileCommands } from '../core/use-cases/reconcile-commands.js';
import { cloudDependencies } from './cloud.js';
import { defineHandler } from './handler-kit.js';

/** Runs on a schedule (an EventBridge rule in AWS, a timer locally); the event itself carries nothing we need. */
export const createHandler = defineHandler(
  'reconcile-commands',
  z.object({ overdueAfterSeconds: z.number().int().min(0).max(86_400).default(300), limit: z.number().int().min(1).max(1_000).default(200) }).loose(),
  (deps, input) => reconcileCommands(deps, input),
);

export const handler = createHandler(cloudDependencies);
