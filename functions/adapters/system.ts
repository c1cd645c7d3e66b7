import { randomBytes } from 'node:crypto';
import type { Clock, IdGenerator } from '../core/ports/clock.port.js';

export const systemClock: Clock = { now: () => new Date() };

/**
 * `<prefix>_<time><random>`: sortable by creation time, unique without
 * coordination, and valid as a Step Functions execution name.
 */
export const randomIds: IdGenerator = {
  next: (prefix) => `${prefix}_${Date.now().toString(36)}${randomBytes(6).toString('hex')}`,
};
