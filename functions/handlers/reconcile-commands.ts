import { z } from 'zod';
import { RECONCILE_DEFAULTS, reconcileCommands } from '../core/use-cases/reconcile-commands.js';
import { cloudDependencies } from './cloud.js';
import { defineHandler } from './handler-kit.js';

/**
 * Runs on a schedule (an EventBridge rule in AWS, a timer locally). The rule
 * passes the run's budget, which must end before the function's timeout;
 * anything else the event carries is ignored.
 */
export const createHandler = defineHandler(
  'reconcile-commands',
  z
    .object({
      overdueAfterSeconds: z.number().int().min(0).max(86_400).default(RECONCILE_DEFAULTS.overdueAfterSeconds),
      limit: z.number().int().min(1).max(50_000).default(RECONCILE_DEFAULTS.limit),
      // Lambda's own limit is 900 s; the budget has to leave room for the look in hand
      budgetSeconds: z.number().int().min(1).max(840).default(RECONCILE_DEFAULTS.budgetSeconds),
    })
    .loose(),
  (deps, input) => reconcileCommands(deps, input),
);

export const handler = createHandler(cloudDependencies);
