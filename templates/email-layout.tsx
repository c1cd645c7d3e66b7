import { Body, Column, Container, Head, Hr, Html, Img, Preview, Row, Section, Text } from '@react-email/components';
import type { ReactNode } from 'react';
import type { ResolvedBranding } from '../functions/core/model/branding.js';
import type { Palette } from './look.js';
import { CONTAINER_WIDTH_PX, FONT_STACK, paletteOf } from './look.js';
import { safeImageUrl } from './safe-url.js';

export interface EmailLayoutProps {
  readonly branding: ResolvedBranding;
  /** The document title: the subject, for clients that show it (and for screen readers). */
  readonly title: string;
  readonly preheader: string;
  readonly footer: string;
  readonly children: (palette: Palette) => ReactNode;
}

const LOGO_HEIGHT_PX = 40;
const MASCOT_SIZE_PX = 56;

/**
 * The branded shell every email shares: the MSP's logo and name on the
 * background, a 600px panel in the foreground colour, the footer below it.
 * Tables all the way down (React Email's components), inline styles only, so
 * Outlook, Gmail and Apple Mail draw the same thing.
 */
export function EmailLayout({ branding, title, preheader, footer, children }: EmailLayoutProps) {
  const palette = paletteOf(branding);
  const logo = safeImageUrl(branding.logoUri);
  const mascot = safeImageUrl(branding.mascotImageUri);
  return (
    <Html lang={branding.locale} dir="ltr">
      <Head>
        <title>{title}</title>
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        {/* the branding's colours are chosen for a light page; dark-mode inversion would undo the contrast check */}
        <meta name="color-scheme" content="light" />
        <meta name="supported-color-schemes" content="light" />
      </Head>
      <Preview>{preheader}</Preview>
      <Body style={{ backgroundColor: palette.background, margin: 0, padding: '24px 0', fontFamily: FONT_STACK, color: palette.text }}>
        <Container style={{ maxWidth: `${CONTAINER_WIDTH_PX}px`, width: '100%' }}>
          <Section style={{ padding: '0 24px 16px' }}>
            <Row>
              <Column style={{ verticalAlign: 'middle' }}>
                {logo ? (
                  <Img src={logo} alt={branding.logoAltText} height={LOGO_HEIGHT_PX} style={{ height: `${LOGO_HEIGHT_PX}px`, width: 'auto', maxWidth: '240px' }} />
                ) : (
                  <Text style={{ margin: 0, fontSize: '18px', fontWeight: 600, color: palette.text }}>{branding.logoAltText}</Text>
                )}
              </Column>
              {/* without a logo its alt text stands in on the left: the same name twice would read as a mistake */}
              {!logo && branding.logoAltText === branding.companyName ? null : (
                <Column align="right" style={{ verticalAlign: 'middle' }}>
                  <Text style={{ margin: 0, fontSize: '14px', color: palette.text, textAlign: 'right' }}>{branding.companyName}</Text>
                </Column>
              )}
            </Row>
          </Section>
          <Section style={{ backgroundColor: palette.panel, borderRadius: '8px', padding: '32px' }}>
            {mascot ? (
              <Row style={{ marginBottom: '16px' }}>
                <Column style={{ width: `${MASCOT_SIZE_PX + 12}px`, verticalAlign: 'middle' }}>
                  <Img src={mascot} alt={branding.mascotName ?? ''} width={MASCOT_SIZE_PX} height={MASCOT_SIZE_PX} style={{ borderRadius: '50%' }} />
                </Column>
                <Column style={{ verticalAlign: 'middle' }}>
                  {branding.mascotName ? <Text style={{ margin: 0, fontSize: '14px', fontWeight: 600, color: palette.text }}>{branding.mascotName}</Text> : null}
                </Column>
              </Row>
            ) : null}
            {children(palette)}
          </Section>
          <Section style={{ padding: '0 24px' }}>
            <Hr style={{ borderTop: `1px solid ${palette.tableHeader}`, margin: '24px 0 12px', opacity: 0.25 }} />
            <Text style={{ margin: 0, fontSize: '12px', lineHeight: '18px', color: palette.text }}>{footer}</Text>
          </Section>
        </Container>
      </Body>
    </Html>
  );
}
