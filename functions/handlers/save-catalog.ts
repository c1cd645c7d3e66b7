import { catalogEntitySchema, saveCatalogEntity } from '../core/use-cases/save-catalog.js';
import { cloudDependencies } from './cloud.js';
import { defineOperatorHandler } from './handler-kit.js';

/** The one way into the catalog: a rejected entity names its field and nothing is stored. */
export const createHandler = defineOperatorHandler('save-catalog', catalogEntitySchema, (deps, input) => saveCatalogEntity(deps, input));

export const handler = createHandler(cloudDependencies);
