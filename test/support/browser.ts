import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { parseHTML } from 'linkedom';
import type { Browser } from 'playwright-core';
import { linkClaimsSchema, type LinkClaims, type LinkPurpose } from '../../functions/core/notifications/links.js';
import type { StoredEmail } from '../../local/mailbox.js';
import { REPO_ROOT } from '../../local/runtime.js';

/**
 * The end user's side of the emails, for end-to-end tests: what a mail
 * client or a mail scanner finds in an email (every link), and a real
 * browser (Debian's chromium, driven by playwright-core) to click them.
 */

/** Where Debian (and CI, which installs the same package) puts chromium. */
export const CHROMIUM_PATH = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM_PATH);

/**
 * Headless, and nothing the browser would fetch or update on its own while a
 * test runs. Every host but loopback fails to resolve at once: tests reach
 * only the local servers, and an email's logo on a made-up domain (the
 * default branding's) must not wait for a DNS timeout.
 */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

/** Launches chromium; playwright-core is loaded only here, so tests that only read emails do not pay for it. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

/** Screenshots go to `reports/screenshots/` (gitignored; CI keeps them as artifacts). */
export async function screenshotPath(name: string): Promise<string> {
  const dir = path.join(REPO_ROOT, 'reports', 'screenshots');
  await mkdir(dir, { recursive: true });
  return path.join(dir, `${name}.png`);
}

/** The little of linkedom's DOM read here; the project compiles without the DOM lib. */
interface ParsedElement {
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
}
interface ParsedDocument {
  querySelector(selector: string): ParsedElement | null;
  querySelectorAll(selector: string): Iterable<ParsedElement>;
}

export const documentOf = (html: string): ParsedDocument => (parseHTML(html) as unknown as { document: ParsedDocument }).document;

/** Every `href` in an HTML document, as written. */
export const htmlLinks = (html: string): string[] => [...documentOf(html).querySelectorAll('[href]')].flatMap((element) => element.getAttribute('href') ?? []);

/** Every http(s) URL in a plain text, as a scanner that linkifies text would find it. */
export const textUrls = (text: string): string[] => text.match(/https?:\/\/[^\s<>"'\])]+/g) ?? [];

/** Every URL a reader's client (or a scanner) could follow in an email: each href of its HTML and each URL of its text. */
export const emailUrls = (email: StoredEmail): string[] => [...new Set([...htmlLinks(email.body.html ?? ''), ...textUrls(email.body.text ?? '')])];

/** A link page URL's token: the last path segment after `/l/`. */
export function linkToken(url: string): string | undefined {
  const match = /\/l\/([^/?#]+)$/.exec(new URL(url).pathname);
  return match?.[1];
}

/**
 * The claims a link's token carries, read WITHOUT checking its signature:
 * tests find their way with it (which session, which button), the server is
 * what checks. Undefined for anything that is not a link page's token.
 */
export function linkClaims(url: string): LinkClaims | undefined {
  const payload = linkToken(url)?.split('.')[0];
  if (payload === undefined) return undefined;
  try {
    const parsed = linkClaimsSchema.safeParse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The email's link page URL for a purpose (its button's href); throws when the email has none. */
export function linkIn(email: StoredEmail, purpose: LinkPurpose): string {
  const url = htmlLinks(email.body.html ?? '').find((href) => linkClaims(href)?.purpose === purpose);
  if (url === undefined) throw new Error(`the email "${email.subject}" has no ${purpose} link`);
  return url;
}

/** The link purposes an email offers (its buttons), in order. */
export const purposesIn = (email: StoredEmail): LinkPurpose[] => htmlLinks(email.body.html ?? '').flatMap((href) => linkClaims(href)?.purpose ?? []);
