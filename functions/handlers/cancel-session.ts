import { cloudDependencies } from './cloud.js';
import { createCancelHandler } from './session-requests.js';

export const createHandler = createCancelHandler;

export const handler = createHandler(cloudDependencies);
