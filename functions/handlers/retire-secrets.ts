import { z } from 'zod';
import { retireDueSecrets } from '../core/use-cases/retire-secrets.js';
import { cloudDependencies } from './cloud.js';
import { defineHandler } from './handler-kit.js';

/** Scheduled: deletes the secret values deployments stopped naming, once no session under way can still need them. */
export const createHandler = defineHandler(
  'retire-secrets',
  z.object({ limit: z.number().int().min(1).max(1_000).default(100) }),
  (deps, input) => retireDueSecrets(deps, input),
);

export const handler = createHandler(cloudDependencies);
