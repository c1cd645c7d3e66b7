import { z } from 'zod';

/**
 * Session ids are also Step Functions execution names (80 at most) and part of
 * every SSM command comment (`nightshift/<id>/<step>/<nonce>`, which SSM
 * keeps to 100 characters): hence 48 at most.
 */
export const sessionIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,48}$/, 'must be 1-48 letters, digits, "_" or "-"');
export const actionIdSchema = z.string().regex(/^[0-9]{3,6}$/, 'must be a zero-padded action number');

/** Step Functions task tokens are opaque and at most 1,024 characters; twice that leaves room for the local runtime's. */
export const taskTokenSchema = z.string().min(1).max(2048);
