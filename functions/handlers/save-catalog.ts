import { saveCatalogEntity, saveCatalogRequestSchema } from '../core/use-cases/save-catalog.js';
import { cloudDependencies } from './cloud.js';
import { defineOperatorHandler } from './handler-kit.js';

/** The one way into the catalog: a rejected entity names its field and nothing is stored; every change is audited under `by`. */
export const createHandler = defineOperatorHandler('save-catalog', saveCatalogRequestSchema, (deps, { by, ...input }) => saveCatalogEntity(deps, input, by));

export const handler = createHandler(cloudDependencies);
