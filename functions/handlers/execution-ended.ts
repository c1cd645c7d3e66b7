import { z } from 'zod';
import { executionEnded } from '../core/use-cases/session-usage.js';
import { cloudDependencies } from './cloud.js';
import { defineHandler } from './handler-kit.js';
import { sessionIdSchema } from './schemas.js';

/** The EventBridge "Step Functions Execution Status Change" event, as much of it as is needed. */
const eventSchema = z.object({
  detail: z.object({
    /** The execution name is the session id. */
    name: sessionIdSchema,
    status: z.enum(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']),
    error: z.string().max(256).nullish(),
    cause: z.string().max(32_768).nullish(),
  }),
});

/**
 * A session execution ended. One that failed, timed out or was aborted is
 * recorded Failed with the reason (and counted in `SessionsFailed` by the
 * write that ends it, so an event delivered twice counts once); every one
 * has its usage closed: the state transitions it was billed, frozen with the
 * rest and added to its run once.
 */
export const createHandler = defineHandler(
  'execution-ended',
  eventSchema,
  (deps, event) =>
    executionEnded(deps, {
      sessionId: event.detail.name,
      status: event.detail.status,
      error: event.detail.error ?? undefined,
      cause: event.detail.cause ?? undefined,
    }),
  { logKeys: (event) => ({ sessionId: event.detail.name, executionName: event.detail.name }) },
);

export const handler = createHandler(cloudDependencies);
