import { render } from '@react-email/render';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import type { EmailView } from '../functions/core/notifications/emails.js';
import type { LinkPageView } from '../functions/core/notifications/links.js';
import { LinkPage } from './link-page.js';
import { SessionEmail } from './session-email.js';

export interface RenderedEmail {
  readonly subject: string;
  readonly html: string;
  /** The same email for text-only readers: every action and every button's URL. */
  readonly text: string;
}

/** Headings and table headers keep the view's own case; html-to-text would shout them. */
const TEXT_OPTIONS = {
  selectors: [
    { selector: 'h1', options: { uppercase: false } },
    { selector: '[data-text-format="dataTable"]', format: 'dataTable', options: { uppercaseHeaderCells: false } },
  ],
};

/** A session email as the mailer sends it: subject, HTML and plain text from one view. */
export async function renderEmail(view: EmailView): Promise<RenderedEmail> {
  const element = createElement(SessionEmail, { view });
  const [html, text] = await Promise.all([render(element), render(element, { plainText: true, htmlToTextOptions: TEXT_OPTIONS })]);
  // a line break in a header would start another header; a subject is one line
  return { subject: view.subject.replace(/[\r\n\t]+/g, ' ').trim(), html, text };
}

/** An end-user link page as a complete HTML5 document. */
export async function renderLinkPage(view: LinkPageView): Promise<string> {
  return Promise.resolve(`<!doctype html>${renderToStaticMarkup(createElement(LinkPage, { view }))}`);
}
