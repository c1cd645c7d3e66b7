import { saveCatalogEntity, saveCatalogRequestSchema } from '../core/use-cases/save-catalog.js';
import { cloudDependencies } from './cloud.js';
import { defineOperatorHandler } from './handler-kit.js';

/**
 * The one way into the catalog: a rejected entity names its field and nothing is stored; every change is audited under `by`.
 * A software item, task or deployment is written at `expectedRevision` (0 creates; a stale one is a CONFLICT); without one it
 * is created or replaces whatever is stored, which is what loading a catalog from files wants (the API always names one).
 */
export const createHandler = defineOperatorHandler('save-catalog', saveCatalogRequestSchema, (deps, { by, ...input }) => saveCatalogEntity(deps, input, by));

export const handler = createHandler(cloudDependencies);
