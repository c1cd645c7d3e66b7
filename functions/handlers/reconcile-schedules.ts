import { z } from 'zod';
import { reconcileScheduleTriggers } from '../core/use-cases/manage-schedules.js';
import { cloudDependencies } from './cloud.js';
import { defineHandler } from './handler-kit.js';

/** Scheduled: the table is the truth; every Scheduler trigger is made to match it, and each drift is reported. */
export const createHandler = defineHandler('reconcile-schedules', z.looseObject({}), async (deps) => ({ drifts: await reconcileScheduleTriggers(deps) }));

export const handler = createHandler(cloudDependencies);
