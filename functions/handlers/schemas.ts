import { z } from 'zod';

/** Session ids are also Step Functions execution names: 1–80 of [A-Za-z0-9_-]. */
export const sessionIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, 'must be 1-80 letters, digits, "_" or "-"');
export const actionIdSchema = z.string().regex(/^[0-9]{3,6}$/, 'must be a zero-padded action number');
