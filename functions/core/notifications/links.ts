import { z } from 'zod';
import type { ResolvedBranding } from '../model/branding.js';
import type { EmailActionLine } from './emails.js';

/**
 * End-user links: what a button in an email carries. One session, one
 * purpose, an expiry and a token id (the single effect is recorded under it).
 * The token is `<payload>.<signature>`, both base64url; the payload is the
 * claims as JSON. Signing and checking live in an adapter (HMAC with a key
 * ring); what a valid token may do is decided here.
 */
export const LINK_PURPOSES = ['Postpone', 'Cancel', 'RunNow'] as const;
export type LinkPurpose = (typeof LINK_PURPOSES)[number];

export const linkClaimsSchema = z
  .object({
    sessionId: z.string().min(1).max(128),
    purpose: z.enum(LINK_PURPOSES),
    expiresAt: z.iso.datetime(),
    /** Unique per link: the first POST records its outcome under it. */
    tokenId: z.string().min(8).max(64),
    /** Which key of the ring signed it. */
    keyId: z.string().min(1).max(64),
  })
  .strict();
export type LinkClaims = z.infer<typeof linkClaimsSchema>;

/** Longest token the pages accept; anything longer is not ours. */
export const MAX_LINK_TOKEN_LENGTH = 1024;

export type LinkTokenCheck =
  | { readonly valid: true; readonly claims: LinkClaims }
  /** Malformed: not a token of ours. Forged: signature wrong. Revoked: its key was retired from the ring. */
  | { readonly valid: false; readonly reason: 'Malformed' | 'Forged' | 'Revoked' };

/** How a link page looks: the shape every outcome of GET and POST takes. */
export type LinkPageTone = 'Confirm' | 'Done' | 'AlreadyDone' | 'Refused' | 'Invalid';

export interface LinkPageView {
  readonly branding: ResolvedBranding;
  readonly tone: LinkPageTone;
  /** The page's title and heading. */
  readonly title: string;
  /** One or two sentences saying what happened or what the button does. */
  readonly message: string;
  readonly computerName?: string;
  /** When the maintenance starts, in the recipient's time zone, formatted. */
  readonly windowOpensAt?: string;
  readonly actions: readonly EmailActionLine[];
  /** Present only on a confirmation page: a POST form back to the same link. */
  readonly form?: {
    readonly action: string;
    readonly buttonLabel: string;
    /** Hidden field the POST must echo: ties the form to this link's page. */
    readonly csrfToken: string;
  };
}

/** Words on the button and in the page title, per purpose. */
export const LINK_WORDS: Readonly<Record<LinkPurpose, { readonly button: string; readonly confirm: string; readonly done: string }>> = {
  Postpone: { button: 'Postpone', confirm: 'Postpone the maintenance', done: 'Maintenance postponed' },
  Cancel: { button: 'Cancel', confirm: 'Cancel the maintenance', done: 'Maintenance cancelled' },
  RunNow: { button: 'Run it now', confirm: 'Start the maintenance now', done: 'Maintenance starting now' },
};
