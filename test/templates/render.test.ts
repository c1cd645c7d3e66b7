import { readdirSync, readFileSync } from 'node:fs';
import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import type { ResolvedBranding } from '../../functions/core/model/branding.js';
import { NIGHTSHIFT_BRANDING } from '../../functions/core/model/branding.js';
import type { EmailKind, EmailView } from '../../functions/core/notifications/emails.js';
import { EMAIL_KINDS } from '../../functions/core/notifications/emails.js';
import type { LinkPageTone, LinkPageView } from '../../functions/core/notifications/links.js';
import { renderEmail, renderLinkPage } from '../../templates/render.js';
import { safeImageUrl, safeLinkUrl } from '../../templates/safe-url.js';

const TONES: readonly LinkPageTone[] = ['Confirm', 'Done', 'AlreadyDone', 'Refused', 'Invalid'];

const brandingWith = (overrides: Partial<ResolvedBranding> = {}): ResolvedBranding => ({
  ...NIGHTSHIFT_BRANDING,
  logoUri: 'https://nightshift.example.com/logo.png',
  mascotImageUri: 'https://nightshift.example.com/mascot.png',
  mascotName: 'Nora the night owl',
  backgroundColour: '#eef1f5',
  foregroundColour: '#fffdf8',
  tableHeaderColour: '#123456',
  tableHeaderTextColour: '#fafafa',
  textColour: '#202124',
  ...overrides,
});

/** A view as the core builds one for `kind`: follow-ups carry outcomes, only waiting emails carry buttons. */
function emailView(kind: EmailKind, overrides: Partial<EmailView> = {}): EmailView {
  const afterwards = kind === 'FollowUp';
  const waiting = kind === 'Detection' || kind === 'Postponed';
  return {
    kind,
    branding: brandingWith(),
    subject: `Maintenance on PC-042 (${kind})`,
    preheader: 'Maintenance is planned for PC-042.',
    greeting: 'Hello Ann,',
    headline: kind === 'Cancelled' ? 'Maintenance cancelled' : 'Planned maintenance',
    paragraphs: ['Maintenance is planned for PC-042 on Monday at 22:00.', 'If the time does not suit you, you can postpone it.'],
    computerName: 'PC-042',
    ...(waiting ? { windowOpensAt: 'Monday, March 3, 2025 at 10:00 PM (CET)' } : {}),
    actions:
      kind === 'Cancelled'
        ? []
        : [
            { title: 'Install Mozilla Firefox 145.0.1', ...(afterwards ? { outcome: 'Done' as const, outcomeText: 'Done' } : {}) },
            { title: 'Update Zoom from 6.0.2 to 6.2.0', ...(afterwards ? { outcome: 'Failed' as const, outcomeText: 'Did not work; your IT team has the details' } : {}) },
            { title: 'Restart the computer', ...(afterwards ? { outcome: 'Skipped' as const, outcomeText: 'Not done this time' } : {}) },
          ],
    buttons: waiting
      ? [
          { purpose: 'RunNow', label: 'Run it now', url: 'https://links.example.com/l/run.sig1?x=1&y=2' },
          { purpose: 'Postpone', label: 'Postpone', url: 'https://links.example.com/l/postpone.sig2' },
          { purpose: 'Cancel', label: 'Cancel', url: 'https://links.example.com/l/cancel.sig3' },
        ]
      : [],
    rebootNotice: 'The computer will restart during the maintenance.',
    footer: 'This message was sent by Your IT team because this computer is maintained by them.',
    ...overrides,
  };
}

function linkPageView(tone: LinkPageTone, overrides: Partial<LinkPageView> = {}): LinkPageView {
  return {
    branding: brandingWith(),
    tone,
    title: 'Postpone the maintenance',
    message: 'The maintenance of PC-042 will move by 60 minutes.',
    computerName: 'PC-042',
    windowOpensAt: 'Monday, March 3, 2025 at 10:00 PM (CET)',
    actions: [{ title: 'Install Mozilla Firefox 145.0.1' }],
    ...(tone === 'Confirm' ? { form: { action: '/l/postpone.sig2', buttonLabel: 'Postpone', csrfToken: 'csrf-123' } } : {}),
    ...overrides,
  };
}

/** The little of the DOM these tests read; the project compiles without the DOM lib, so linkedom's document is typed here. */
interface ParsedElement {
  readonly tagName: string;
  readonly textContent: string;
  getAttribute(name: string): string | null;
  getAttributeNames(): string[];
  hasAttribute(name: string): boolean;
  querySelector(selector: string): ParsedElement | null;
  querySelectorAll(selector: string): ParsedElement[];
}
interface ParsedDocument {
  readonly documentElement: ParsedElement;
  querySelector(selector: string): ParsedElement | null;
  querySelectorAll(selector: string): ParsedElement[];
}

const documentOf = (html: string): ParsedDocument => {
  const { document } = parseHTML(html) as unknown as { document: ParsedDocument };
  return {
    documentElement: document.documentElement,
    querySelector: (selector) => document.querySelector(selector),
    querySelectorAll: (selector) => Array.from(document.querySelectorAll(selector)),
  };
};

const HOSTILE_TEXTS = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "javascript:alert(1)'\"><svg onload=alert(1)>"];
const HOSTILE_URLS = ['javascript:alert(1)', ' JaVaScRiPt:alert(1)', 'data:text/html,<script>alert(1)</script>', 'java\tscript:alert(1)', '//evil.example/x', '/\\evil.example/x'];

/** Browsers drop ASCII whitespace and controls inside a scheme, so a check must too. */
const schemeOf = (value: string): string => Array.from(value).filter((character) => character.charCodeAt(0) > 0x20).join('').toLowerCase();

/** The properties no rendering may break, whatever went in. */
function expectInert(html: string): void {
  const document = documentOf(html);
  expect(document.querySelectorAll('script')).toHaveLength(0);
  for (const element of document.querySelectorAll('*')) {
    for (const name of Array.from(element.getAttributeNames(), (attribute) => attribute.toLowerCase())) {
      expect(name.startsWith('on'), `${element.tagName} has ${name}`).toBe(false);
      if (['href', 'src', 'action', 'formaction', 'srcset', 'background', 'poster'].includes(name)) {
        const value = element.getAttribute(name) ?? '';
        const scheme = schemeOf(value);
        expect(scheme.startsWith('javascript:') || scheme.startsWith('data:') || scheme.startsWith('//') || scheme.startsWith('/\\'), `${element.tagName} ${name}=${value}`).toBe(false);
      }
    }
  }
}

const texts = (html: string, selector: string): string[] => Array.from(documentOf(html).querySelectorAll(selector)).map((element) => element.textContent);

describe('renderEmail: every kind drawn from its view', () => {
  it.each(EMAIL_KINDS)('draws the %s email as HTML and text, with every action and every button URL in the text (proves a text-only reader can act)', async (kind) => {
    const view = emailView(kind);
    const email = await renderEmail(view);
    expect(email.subject).toBe(view.subject);
    for (const action of view.actions) expect(email.text).toContain(action.title);
    // each URL ends the line it is on: a reader (or a client that links URLs) sees where it stops
    const lines = email.text.split('\n').map((line) => line.trim());
    for (const button of view.buttons) expect(lines).toContain(`${button.label} ${button.url}`);
    expect(email.text).toContain(view.headline);
    expect(email.text).toContain(view.footer);
    if (view.windowOpensAt) expect(email.text).toContain(view.windowOpensAt);
    expect(email.text).not.toMatch(/<[a-z]/i);
  });

  it.each(EMAIL_KINDS)('draws the %s email in the branding: its colours, its logo with alt text, its mascot (proves the branding reaches every part drawn)', async (kind) => {
    const view = emailView(kind);
    const { html } = await renderEmail(view);
    const { branding } = view;
    const drawsHeaderText = view.actions.length > 0 || view.buttons.length > 0;
    for (const colour of [branding.backgroundColour, branding.foregroundColour, branding.tableHeaderColour, branding.textColour]) expect(html).toContain(colour);
    expect(html.includes(branding.tableHeaderTextColour)).toBe(drawsHeaderText);
    const document = documentOf(html);
    const logo = document.querySelector(`img[src="${branding.logoUri}"]`);
    expect(logo?.getAttribute('alt')).toBe(branding.logoAltText);
    expect(document.querySelector(`img[src="${branding.mascotImageUri ?? ''}"]`)?.getAttribute('alt')).toBe(branding.mascotName);
    expect(document.documentElement.getAttribute('lang')).toBe(branding.locale);
    expect(texts(html, 'h1')).toEqual([view.headline]);
    expect(html).toContain(view.preheader);
  });

  it('draws each button as a link to its URL with its label, and the action table with a header row (proves buttons and list are real elements)', async () => {
    const view = emailView('Detection');
    const { html } = await renderEmail(view);
    const document = documentOf(html);
    for (const button of view.buttons) {
      const link = Array.from(document.querySelectorAll('a')).find((anchor) => anchor.getAttribute('href') === button.url);
      expect(link?.textContent.trim()).toBe(button.label);
    }
    expect(document.querySelectorAll('th')).toHaveLength(1);
    expect(texts(html, 'td').filter((cell) => view.actions.some((action) => action.title === cell))).toHaveLength(view.actions.length);
  });

  it('tells each follow-up outcome in words as well as colour (proves the result never depends on colour alone)', async () => {
    const view = emailView('FollowUp');
    const { html, text } = await renderEmail(view);
    const cells = texts(html, 'td');
    for (const action of view.actions) {
      expect(cells.some((cell) => cell.includes(action.outcomeText ?? '') && /[✓✕–?]/.test(cell))).toBe(true);
      expect(text).toContain(action.outcomeText);
    }
    expect(texts(html, 'th')).toHaveLength(2);
  });

  it('draws no table, no facts line it has no value for and no buttons when the view has none (proves optional parts stay out)', async () => {
    const view = emailView('Cancelled', { rebootNotice: undefined });
    const { html, text } = await renderEmail(view);
    expect(documentOf(html).querySelectorAll('th')).toHaveLength(0);
    expect(documentOf(html).querySelectorAll('a[href]')).toHaveLength(0);
    expect(text).not.toContain('When');
  });

  it('keeps a subject on one line (proves a stored name cannot add a mail header)', async () => {
    const email = await renderEmail(emailView('Detection', { subject: 'Maintenance on PC-042\r\nBcc: victim@example.com' }));
    expect(email.subject).toBe('Maintenance on PC-042 Bcc: victim@example.com');
  });

  it('stays well below the size at which Gmail clips an email (102 KB)', async () => {
    for (const kind of EMAIL_KINDS) expect(Buffer.byteLength((await renderEmail(emailView(kind))).html)).toBeLessThan(30_000);
  });
});

describe('renderEmail with hostile values: user text stays text, hostile URLs are dropped', () => {
  const cases = EMAIL_KINDS.flatMap((kind) => HOSTILE_TEXTS.map((hostile) => [kind, hostile] as const));

  it.each(cases)('%s email with every text set to %s: no script, no handler, the text where it was put', async (kind, hostile) => {
    const base = emailView(kind);
    const view = emailView(kind, {
      branding: brandingWith({ companyName: hostile, logoAltText: hostile, mascotName: hostile, locale: hostile }),
      subject: hostile,
      preheader: hostile,
      greeting: hostile,
      headline: hostile,
      paragraphs: [hostile, hostile],
      computerName: hostile,
      windowOpensAt: hostile,
      actions: base.actions.map((action) => ({ ...action, title: hostile, ...(action.outcome ? { outcomeText: hostile } : {}) })),
      buttons: base.buttons.map((button) => ({ ...button, label: hostile })),
      rebootNotice: hostile,
      footer: hostile,
    });
    const { html, text } = await renderEmail(view);
    expectInert(html);
    const document = documentOf(html);
    expect(texts(html, 'h1')).toEqual([hostile]);
    expect(texts(html, 'title')).toEqual([hostile]);
    expect(texts(html, 'p').filter((paragraph) => paragraph === hostile).length).toBeGreaterThanOrEqual(6); // greeting, 2 paragraphs, reboot, footer, company, mascot
    expect(texts(html, 'td').filter((cell) => cell === hostile).length).toBeGreaterThanOrEqual(1 + base.actions.length); // the computer and each action
    expect(document.querySelector('img[alt]')?.getAttribute('alt')).toBe(hostile);
    for (const anchor of document.querySelectorAll('a')) expect(anchor.textContent.trim()).toBe(hostile);
    expect(document.querySelectorAll('a')).toHaveLength(base.buttons.length);
    expect(text).toContain(hostile);
  });

  it.each(EMAIL_KINDS.flatMap((kind) => HOSTILE_URLS.map((url) => [kind, url] as const)))('%s email with logo, mascot and button URLs set to %j: none of them is drawn', async (kind, url) => {
    const base = emailView('Detection');
    const view = emailView(kind, {
      branding: brandingWith({ logoUri: url, mascotImageUri: url }),
      buttons: base.buttons.map((button) => ({ ...button, url })),
    });
    const { html, text } = await renderEmail(view);
    expectInert(html);
    const document = documentOf(html);
    expect(document.querySelectorAll('img')).toHaveLength(0);
    expect(document.querySelectorAll('a')).toHaveLength(0);
    // without its image the logo's alt text still names the sender
    expect(texts(html, 'p')).toContain(view.branding.logoAltText);
    expect(text).not.toContain('alert(1)');
  });
});

describe('renderLinkPage: the end-user page', () => {
  it.each(TONES)('draws the %s page as a complete HTML5 document with no script, no stylesheet and noindex (proves the CSP and robots rules hold)', async (tone) => {
    const view = linkPageView(tone);
    const html = await renderLinkPage(view);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expectInert(html);
    const document = documentOf(html);
    expect(document.querySelectorAll('style, link[rel="stylesheet"]')).toHaveLength(0);
    expect(document.querySelector('meta[name="robots"]')?.getAttribute('content')).toContain('noindex');
    expect(document.querySelector('meta[name="referrer"]')?.getAttribute('content')).toBe('same-origin');
    expect(document.querySelector('meta[name="viewport"]')).not.toBeNull();
    expect(document.querySelector('h1')?.textContent).toContain(view.title);
    expect(texts(html, 'p')).toEqual([view.message]);
    expect(texts(html, 'td')).toEqual(expect.arrayContaining([view.computerName, view.windowOpensAt, ...view.actions.map((action) => action.title)]));
    expect(document.querySelector(`img[src="${view.branding.logoUri}"]`)?.getAttribute('alt')).toBe(view.branding.logoAltText);
  });

  it('has a POST form with the CSRF field and the button label only when the view has a form (proves a GET page acts only through its form)', async () => {
    const withForm = documentOf(await renderLinkPage(linkPageView('Confirm')));
    const forms = withForm.querySelectorAll('form');
    expect(forms).toHaveLength(1);
    const form = forms[0]!;
    expect(form.getAttribute('method')).toBe('post');
    expect(form.getAttribute('action')).toBe('/l/postpone.sig2');
    const csrf = form.querySelector('input[name="csrf"]');
    expect(csrf?.getAttribute('type')).toBe('hidden');
    expect(csrf?.getAttribute('value')).toBe('csrf-123');
    expect(form.querySelector('button[type="submit"]')?.textContent).toBe('Postpone');

    for (const tone of TONES.filter((other) => other !== 'Confirm')) {
      const page = documentOf(await renderLinkPage(linkPageView(tone)));
      expect(page.querySelectorAll('form, input, button')).toHaveLength(0);
    }
  });

  it('changes only the heading between tones (proves the tone is told by icon and colour, the words by the view)', async () => {
    const headings = await Promise.all(TONES.map(async (tone) => documentOf(await renderLinkPage(linkPageView(tone, { form: undefined }))).querySelector('h1')));
    const icons = headings.map((heading) => heading?.querySelector('[aria-hidden="true"]')?.textContent);
    expect(new Set(icons).size).toBeGreaterThan(2);
    expect(headings.every((heading) => heading?.textContent.endsWith('Postpone the maintenance'))).toBe(true);
  });

  it.each(TONES.flatMap((tone) => HOSTILE_TEXTS.map((hostile) => [tone, hostile] as const)))('%s page with every text set to %s: no script, no handler, the text where it was put', async (tone, hostile) => {
    const view = linkPageView(tone, {
      branding: brandingWith({ companyName: hostile, logoAltText: hostile, mascotName: hostile, locale: hostile }),
      title: hostile,
      message: hostile,
      computerName: hostile,
      windowOpensAt: hostile,
      actions: [{ title: hostile }, { title: hostile, outcome: 'Failed', outcomeText: hostile }],
      form: { action: '/l/postpone.sig2', buttonLabel: hostile, csrfToken: hostile },
    });
    const html = await renderLinkPage(view);
    expectInert(html);
    const document = documentOf(html);
    expect(document.querySelector('h1 span:last-child')?.textContent).toBe(hostile);
    expect(texts(html, 'p')).toEqual([hostile]);
    expect(texts(html, 'td').filter((cell) => cell === hostile)).toHaveLength(4); // computer, when, both titles
    expect(document.querySelector('input[name="csrf"]')?.getAttribute('value')).toBe(hostile);
    expect(document.querySelector('button')?.textContent).toBe(hostile);
    expect(document.querySelector('img')?.getAttribute('alt')).toBe(hostile);
  });

  it.each(TONES.flatMap((tone) => HOSTILE_URLS.map((url) => [tone, url] as const)))('%s page with image and form URLs set to %j: none of them is drawn', async (tone, url) => {
    const view = linkPageView(tone, {
      branding: brandingWith({ logoUri: url, mascotImageUri: url }),
      form: { action: url, buttonLabel: 'Postpone', csrfToken: 'csrf-123' },
    });
    const html = await renderLinkPage(view);
    expectInert(html);
    const document = documentOf(html);
    expect(document.querySelectorAll('img, link')).toHaveLength(0);
    // the form still posts, to the page's own link: an absent action is the current URL
    expect(document.querySelector('form')?.hasAttribute('action')).toBe(false);
  });
});

describe('URL checks before any attribute', () => {
  it.each([
    ['https://cdn.example.com/logo.png', 'https://cdn.example.com/logo.png'],
    ['  https://cdn.example.com/a b.png ', 'https://cdn.example.com/a%20b.png'],
    ['http://cdn.example.com/logo.png', undefined],
    ['https://user:pw@cdn.example.com/logo.png', undefined],
    ['/logo.png', undefined],
    ['javascript:alert(1)', undefined],
    ['data:image/png;base64,AAAA', undefined],
    [undefined, undefined],
  ])('draws image %j as %j (proves images are https only)', (value, expected) => {
    expect(safeImageUrl(value)).toBe(expected);
  });

  it.each([
    ['https://links.example.com/l/a.b?x=1', 'https://links.example.com/l/a.b?x=1'],
    ['http://localhost:3000/l/a.b', 'http://localhost:3000/l/a.b'],
    ['/l/a.b?x=1#f', '/l/a.b?x=1#f'],
    ['//evil.example/l', undefined],
    ['/\\evil.example/l', undefined],
    ['l/a.b', undefined],
    ['JAVASCRIPT:alert(1)', undefined],
    ['\u0000javascript:alert(1)', undefined],
    ['java\nscript:alert(1)', undefined],
    ['data:text/html,x', undefined],
    ['mailto:a@example.com', undefined],
    ['https://bank.example@evil.example/', undefined],
  ])('draws link %j as %j (proves buttons and forms go only to web pages or this site)', (value, expected) => {
    expect(safeLinkUrl(value)).toBe(expected);
  });

  it('no template writes raw HTML (proves every value goes through React escaping)', () => {
    const directory = new URL('../../templates/', import.meta.url);
    for (const file of readdirSync(directory)) expect(readFileSync(new URL(file, directory), 'utf8'), file).not.toContain('dangerouslySetInnerHTML');
  });
});

describe('a branding without a logo', () => {
  it("names the sender once: the logo's alt text stands in for it, and a company name equal to it is not repeated", async () => {
    const { logoUri: _logo, ...noLogo } = NIGHTSHIFT_BRANDING;
    expect(noLogo.logoAltText).toBe(noLogo.companyName);
    const { html } = await renderEmail({
      kind: 'FollowUp',
      branding: noLogo,
      subject: 'Maintenance complete',
      preheader: 'done',
      greeting: 'Hello Ana,',
      headline: 'Maintenance complete',
      paragraphs: ['All done.'],
      computerName: 'Desk',
      actions: [],
      buttons: [],
      footer: 'footer',
    });
    expect(html.split(`>${noLogo.companyName}<`).length - 1).toBe(1);
  });
});
