import { z } from 'zod';

/** SMTP's limit on a whole address (RFC 5321's 256-octet path less its angle brackets). */
export const EMAIL_ADDRESS_MAX_LENGTH = 254;

const TOO_LONG = `must be at most ${EMAIL_ADDRESS_MAX_LENGTH} characters`;

/**
 * An email address, as every schema that takes one checks it. zod's address
 * check also refuses one over the length, so an address that is only too long
 * is told that, not that it is no address.
 */
export const emailAddressSchema = z
  .email({ error: (issue) => (typeof issue.input === 'string' && issue.input.length > EMAIL_ADDRESS_MAX_LENGTH ? TOO_LONG : 'must be an email address') })
  .max(EMAIL_ADDRESS_MAX_LENGTH, TOO_LONG);

/** The same address, lower-cased: where it is compared or keyed (recipients, senders), `Ana@` and `ana@` are one person. */
export const lowerCaseEmailAddressSchema = emailAddressSchema.transform((email) => email.toLowerCase());
