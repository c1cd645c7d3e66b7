import { z } from 'zod';
import { entityIdSchema } from '../core/model/catalog.js';
import { explainComputer } from '../core/use-cases/explain-computer.js';
import { cloudDependencies } from './cloud.js';
import { defineOperatorHandler } from './handler-kit.js';

/** Answers "why does this computer get what it gets?" from the catalog as it stands. */
export const createHandler = defineOperatorHandler('explain-computer', z.object({ computerId: entityIdSchema }), (deps, input) =>
  explainComputer(deps, input.computerId),
);

export const handler = createHandler(cloudDependencies);
