import { createHash, randomBytes } from 'node:crypto';
import type { Clock, IdGenerator } from '../core/ports/clock.port.js';

export const systemClock: Clock = { now: () => new Date() };

/**
 * `<prefix>_<time><random>`: sortable by creation time, unique without
 * coordination, and valid as a Step Functions execution name.
 */
export const randomIds: IdGenerator = {
  next: (prefix) => `${prefix}_${Date.now().toString(36)}${randomBytes(6).toString('hex')}`,
  derive: derivedId,
};

/**
 * `<prefix>_<128 bits of SHA-256>`: parts are joined with a separator no
 * part can contain unescaped, so ("a|b", "c") and ("a", "b|c") differ.
 */
export function derivedId(prefix: string, parts: readonly string[]): string {
  const digest = createHash('sha256')
    .update(JSON.stringify(parts))
    .digest('hex');
  return `${prefix}_${digest.slice(0, 32)}`;
}
