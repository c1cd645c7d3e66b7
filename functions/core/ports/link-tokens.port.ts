import type { LinkClaims, LinkTokenCheck } from '../notifications/links.js';

/**
 * Signs and checks end-user link tokens (HMAC-SHA256 with a key ring held in
 * Secrets Manager; locally, a key file). The key id travels in the token, so
 * a rotated key keeps verifying the links already mailed until it is retired.
 */
export interface LinkTokens {
  issue(claims: Omit<LinkClaims, 'keyId'>): Promise<string>;
  /** Never throws for a bad token: every way a token can be wrong is an answer. */
  check(token: string): Promise<LinkTokenCheck>;
}
