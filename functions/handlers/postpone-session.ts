import { cloudDependencies } from './cloud.js';
import { createPostponeHandler } from './session-requests.js';

export const createHandler = createPostponeHandler;

export const handler = createHandler(cloudDependencies);
