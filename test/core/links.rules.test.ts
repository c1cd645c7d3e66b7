import { describe, expect, it } from 'vitest';
import { LINK_PURPOSES, LINK_WORDS, linkClaimsSchema } from '../../functions/core/notifications/links.js';

const claims = { sessionId: 'ses-1', purpose: 'Postpone', expiresAt: '2026-12-01T22:00:00Z', tokenId: 'tok-12345', keyId: 'k1' };
const refused = (input: Record<string, unknown>): string[] => {
  const result = linkClaimsSchema.safeParse(input);
  if (result.success) throw new Error(`expected ${JSON.stringify(input)} to be refused`);
  return result.error.issues.map((issue) => issue.path.join('.') || issue.code);
};

describe('end-user links: what a link may carry', () => {
  it('offers exactly three purposes: postpone, cancel, run now', () => {
    expect(LINK_PURPOSES).toEqual(['Postpone', 'Cancel', 'RunNow']);
    for (const purpose of LINK_PURPOSES) expect(linkClaimsSchema.parse({ ...claims, purpose }).purpose).toBe(purpose);
    expect(refused({ ...claims, purpose: 'Delete' })).toEqual(['purpose']);
    expect(refused({ ...claims, purpose: '' })).toEqual(['purpose']);
  });

  it('takes claims with an ISO expiry and a token id of 8 to 64 characters, and nothing more', () => {
    expect(linkClaimsSchema.parse(claims)).toEqual(claims);
    expect(refused({ ...claims, expiresAt: 'tomorrow' })).toEqual(['expiresAt']);
    expect(refused({ ...claims, tokenId: 'short' })).toEqual(['tokenId']);
    expect(refused({ ...claims, tokenId: 'x'.repeat(65) })).toEqual(['tokenId']);
    expect(refused({ ...claims, sessionId: '' })).toEqual(['sessionId']);
    expect(refused({ ...claims, keyId: '' })).toEqual(['keyId']);
    // a claim the schema does not know (say, a widened purpose list) makes the token not ours
    expect(refused({ ...claims, admin: true })).toEqual(['unrecognized_keys']);
  });
});

describe('end-user links: the words on buttons and pages', () => {
  it('names each purpose on its button, its confirmation page and its done page', () => {
    expect(LINK_WORDS).toEqual({
      Postpone: { button: 'Postpone', confirm: 'Postpone the maintenance', done: 'Maintenance postponed' },
      Cancel: { button: 'Cancel', confirm: 'Cancel the maintenance', done: 'Maintenance cancelled' },
      RunNow: { button: 'Run it now', confirm: 'Start the maintenance now', done: 'Maintenance starting now' },
    });
  });
});
