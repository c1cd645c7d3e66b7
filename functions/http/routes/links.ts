import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { csrf } from 'hono/csrf';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import { ConflictError, TransientError } from '../../core/errors.js';
import { NIGHTSHIFT_BRANDING } from '../../core/model/branding.js';
import { excerpt } from '../../core/validation.js';
import { MAX_LINK_TOKEN_LENGTH, type LinkPageTone, type LinkPageView } from '../../core/notifications/links.js';
import { followLink, viewLink } from '../../core/use-cases/end-user-links.js';
import type { Dependencies } from '../../core/use-cases/dependencies.js';
import type { DependencyProvider } from '../../handlers/handler-kit.js';

/**
 * The end-user link pages: public (the signed token is the only credential),
 * HTML, no script. GET and HEAD show; only the page's form POST acts. Every
 * answer is a page in words, including every refusal.
 */

/** The pages' path prefix; the CDK stack routes it to the API function without the JWT authorizer. */
export const LINK_PATH_PREFIX = '/l';

/** The confirmation form sends one short field; anything bigger is not that form. */
const MAX_FORM_BYTES = 4 * 1024;

const STATUS_BY_TONE: Readonly<Record<LinkPageTone, 200 | 400 | 409>> = {
  Confirm: 200,
  Done: 200,
  AlreadyDone: 200,
  Refused: 409,
  Invalid: 400,
};

/** Pages hold a session's plan: never cached, never framed, no script, and forms post only back here. */
const PAGE_HEADERS = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    imgSrc: ['https:'],
    styleSrc: ["'unsafe-inline'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
  },
  // same-origin, not no-referrer: a no-referrer page's form posts `Origin: null`, which the same-origin check must refuse
  // in browsers without Sec-Fetch-Site; the token in the URL still never leaves for another site
  referrerPolicy: 'same-origin',
  xFrameOptions: 'DENY',
  crossOriginResourcePolicy: 'same-origin',
});

const noStore: MiddlewareHandler = async (c, next) => {
  await next();
  c.header('Cache-Control', 'no-store');
  c.header('X-Robots-Tag', 'noindex, nofollow');
};

const refusedPage = (title: string, message: string): LinkPageView => ({ branding: NIGHTSHIFT_BRANDING, tone: 'Refused', title, message, actions: [] });

/** The page and the status its tone answers with. */
async function page(deps: Dependencies, view: LinkPageView): Promise<{ html: string; status: 200 | 400 | 409 }> {
  return { html: await deps.renderer.renderLinkPage(view), status: STATUS_BY_TONE[view.tone] };
}

/** What a link cut short or run on (`/l/`, `/l/a/b`) is answered with, by the app's not-found handler. */
export async function notALinkPage(deps: Dependencies): Promise<string> {
  return deps.renderer.renderLinkPage(NOT_A_LINK);
}

const NOT_A_LINK: LinkPageView = { ...refusedPage('This link is not valid', 'The link may have been cut or changed when it was copied. Open it from the email again.'), tone: 'Invalid' };

/** A token that cannot be ours is turned away before any key or table is read. */
const plausibleToken = (token: string): boolean => token.length > 0 && token.length <= MAX_LINK_TOKEN_LENGTH && /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);

export function linkRoutes(provide: DependencyProvider) {
  const app = new Hono();
  app.onError(async (error, c) => {
    const deps = provide();
    // csrf() refuses a form posted from another site's page
    if (error instanceof HTTPException && error.status === 403) {
      const { html } = await page(deps, refusedPage('Please confirm from the page', 'Open the link from your email again and press the button on the page that opens.'));
      return c.html(html, 403);
    }
    // a throttled store or a request racing many others: the same click in a minute goes through
    const transient = error instanceof TransientError || error instanceof ConflictError;
    if (!transient) deps.logger.error(excerpt(error.message, 1_000), { route: `${c.req.method} ${LINK_PATH_PREFIX}/…`, errorName: error.name, stack: error.stack });
    if (transient) c.header('Retry-After', '30');
    // not "nothing changed": the failure may have come after the change; opening the link again shows where it stands
    const html = await deps.renderer.renderLinkPage(refusedPage('Please try again in a minute', 'The page could not be loaded just now. Open the link again in a minute to see where the maintenance stands.'));
    return c.html(html, transient ? 503 : 500);
  });
  app.use('*', PAGE_HEADERS, noStore);
  // a form posted from another site's page is refused (with a page, in onError above), whatever its token
  app.use('*', csrf());
  app.use(
    '*',
    bodyLimit({
      maxSize: MAX_FORM_BYTES,
      onError: async (c) => {
        const { html, status } = await page(provide(), refusedPage('Please confirm from the page', 'The request was not the confirmation form.'));
        return c.html(html, status);
      },
    }),
  );

  app.get('/:token', async (c) => {
    const deps = provide();
    const token = c.req.param('token');
    const { html, status } = await page(deps, plausibleToken(token) ? await viewLink(deps, token) : NOT_A_LINK);
    return c.html(html, status);
  });

  app.post('/:token', async (c) => {
    const deps = provide();
    const token = c.req.param('token');
    if (!plausibleToken(token)) {
      const { html, status } = await page(deps, NOT_A_LINK);
      return c.html(html, status);
    }
    // the page's form posts urlencoded, nothing else: a multipart or malformed body is not that form
    const contentType = c.req.header('content-type') ?? '';
    const form = /^application\/x-www-form-urlencoded\b/i.test(contentType) ? await c.req.parseBody().catch(() => ({})) : {};
    const csrfToken = 'csrf' in form && typeof form.csrf === 'string' ? form.csrf : undefined;
    const { html, status } = await page(deps, await followLink(deps, token, csrfToken));
    return c.html(html, status);
  });

  return app;
}
