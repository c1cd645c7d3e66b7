import type { EmailView } from '../notifications/emails.js';
import type { LinkPageView } from '../notifications/links.js';

export interface RenderedEmail {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

/** Lays the core's views out (`templates/`): the words are decided before a template sees them. */
export interface Renderer {
  renderEmail(view: EmailView): Promise<RenderedEmail>;
  /** A whole HTML document. */
  renderLinkPage(view: LinkPageView): Promise<string>;
}
