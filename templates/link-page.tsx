import type { CSSProperties } from 'react';
import type { LinkPageView } from '../functions/core/notifications/links.js';
import { CONTAINER_WIDTH_PX, FONT_STACK, TONE_BADGES, headingColour, paletteOf } from './look.js';
import { safeImageUrl, safeLinkUrl } from './safe-url.js';
import { ActionTable, SessionFacts } from './session-details.js';

const LOGO_HEIGHT_PX = 40;
const MASCOT_SIZE_PX = 56;

/**
 * The page an email's link opens: a plain HTML5 document in the email's
 * branding, no script and inline styles only (the server's CSP allows no
 * script). Its GET shows a form; only the form's POST acts, so a mail
 * scanner that follows the link changes nothing.
 */
export function LinkPage({ view }: { readonly view: LinkPageView }) {
  const { branding } = view;
  const palette = paletteOf(branding);
  const logo = safeImageUrl(branding.logoUri);
  const mascot = safeImageUrl(branding.mascotImageUri);
  const badge = TONE_BADGES[view.tone];
  // a refused action is left out: the form then posts back to this page's own link, which is what the core means anyway
  const formAction = view.form ? safeLinkUrl(view.form.action) : undefined;
  const text: CSSProperties = { color: palette.text, fontSize: '16px', lineHeight: '24px', margin: '0 0 16px' };
  return (
    <html lang={branding.locale} dir="ltr">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex, nofollow" />
        <meta name="referrer" content="same-origin" />
        <meta name="color-scheme" content="light" />
        <title>{`${view.title} · ${branding.companyName}`}</title>
      </head>
      <body style={{ margin: 0, padding: '24px 16px', backgroundColor: palette.background, color: palette.text, fontFamily: FONT_STACK }}>
        <div style={{ maxWidth: `${CONTAINER_WIDTH_PX}px`, margin: '0 auto' }}>
          <header style={{ display: 'flex', alignItems: 'center', justifyContent: 'space-between', gap: '16px', padding: '0 8px 16px' }}>
            {logo ? (
              <img src={logo} alt={branding.logoAltText} height={LOGO_HEIGHT_PX} style={{ height: `${LOGO_HEIGHT_PX}px`, width: 'auto', maxWidth: '240px' }} />
            ) : (
              <span style={{ fontSize: '18px', fontWeight: 600 }}>{branding.logoAltText}</span>
            )}
            {/* without a logo its alt text stands in: the same name twice would read as a mistake */}
            {!logo && branding.logoAltText === branding.companyName ? null : <span style={{ fontSize: '14px' }}>{branding.companyName}</span>}
          </header>
          <main style={{ backgroundColor: palette.panel, borderRadius: '8px', padding: '32px' }}>
            {mascot ? (
              <div style={{ display: 'flex', alignItems: 'center', gap: '12px', marginBottom: '16px' }}>
                <img src={mascot} alt={branding.mascotName ?? ''} width={MASCOT_SIZE_PX} height={MASCOT_SIZE_PX} style={{ borderRadius: '50%' }} />
                {branding.mascotName ? <span style={{ fontSize: '14px', fontWeight: 600 }}>{branding.mascotName}</span> : null}
              </div>
            ) : null}
            <h1 style={{ display: 'flex', alignItems: 'center', gap: '12px', margin: '0 0 16px', fontSize: '24px', lineHeight: '32px', fontWeight: 600, color: headingColour(view.tone, palette) }}>
              <span
                aria-hidden="true"
                style={{
                  display: 'inline-flex',
                  alignItems: 'center',
                  justifyContent: 'center',
                  flex: '0 0 auto',
                  width: '32px',
                  height: '32px',
                  borderRadius: '50%',
                  backgroundColor: badge.fill,
                  color: badge.text,
                  fontSize: '18px',
                }}
              >
                {badge.icon}
              </span>
              <span>{view.title}</span>
            </h1>
            <p style={text}>{view.message}</p>
            <SessionFacts computerName={view.computerName} windowOpensAt={view.windowOpensAt} palette={palette} />
            <ActionTable actions={view.actions} palette={palette} />
            {view.form ? (
              <form method="post" {...(formAction ? { action: formAction } : {})} style={{ margin: '8px 0 0' }}>
                <input type="hidden" name="csrf" value={view.form.csrfToken} />
                <button
                  type="submit"
                  style={{
                    backgroundColor: palette.tableHeader,
                    color: palette.tableHeaderText,
                    border: 0,
                    borderRadius: '6px',
                    fontFamily: FONT_STACK,
                    fontSize: '16px',
                    fontWeight: 600,
                    padding: '12px 24px',
                    cursor: 'pointer',
                  }}
                >
                  {view.form.buttonLabel}
                </button>
              </form>
            ) : null}
          </main>
        </div>
      </body>
    </html>
  );
}
