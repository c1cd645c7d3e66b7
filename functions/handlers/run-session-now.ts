import { cloudDependencies } from './cloud.js';
import { createRunNowHandler } from './session-requests.js';

export const createHandler = createRunNowHandler;

export const handler = createHandler(cloudDependencies);
