import { Button, Heading, Section, Text } from '@react-email/components';
import type { EmailButton, EmailView } from '../functions/core/notifications/emails.js';
import { EmailLayout } from './email-layout.js';
import type { Palette } from './look.js';
import { safeLinkUrl } from './safe-url.js';
import { ActionTable, SessionFacts } from './session-details.js';

/**
 * Every session email (detection, follow-up, postponed, cancelled): the kinds
 * differ in their words and lists, which the view carries, not in layout.
 */
export function SessionEmail({ view }: { readonly view: EmailView }) {
  return (
    <EmailLayout branding={view.branding} title={view.subject} preheader={view.preheader} footer={view.footer}>
      {(palette) => (
        <>
          <Heading as="h1" style={{ margin: '0 0 16px', fontSize: '22px', lineHeight: '30px', fontWeight: 600, color: palette.text }}>
            {view.headline}
          </Heading>
          <Text style={paragraphStyle(palette)}>{view.greeting}</Text>
          {view.paragraphs.map((paragraph, index) => (
            <Text key={index} style={paragraphStyle(palette)}>
              {paragraph}
            </Text>
          ))}
          <SessionFacts computerName={view.computerName} windowOpensAt={view.windowOpensAt} palette={palette} />
          <ActionTable actions={view.actions} palette={palette} />
          {view.rebootNotice ? (
            <Section style={{ borderLeft: `4px solid ${palette.tableHeader}`, margin: '0 0 24px' }}>
              <Text style={{ ...paragraphStyle(palette), margin: 0, padding: '4px 12px', fontWeight: 600 }}>{view.rebootNotice}</Text>
            </Section>
          ) : null}
          <Buttons buttons={view.buttons} palette={palette} />
        </>
      )}
    </EmailLayout>
  );
}

const paragraphStyle = (palette: Palette) => ({ margin: '0 0 16px', fontSize: '15px', lineHeight: '24px', color: palette.text });

/** Link buttons in the branding's header colours; a URL that fails the check gets no button at all. */
function Buttons({ buttons, palette }: { readonly buttons: readonly EmailButton[]; readonly palette: Palette }) {
  const drawn = buttons.flatMap((button) => {
    const href = safeLinkUrl(button.url);
    return href ? [{ ...button, href }] : [];
  });
  if (drawn.length === 0) return null;
  return (
    <Section style={{ margin: '8px 0 0' }}>
      {drawn.map((button) => (
        // a block per button: inline-block side by side where CSS works, stacked in Outlook, one per line in the text version
        <div key={button.purpose} style={{ display: 'inline-block', margin: '0 12px 12px 0' }}>
          <Button
            href={button.href}
            style={{
              backgroundColor: palette.tableHeader,
              color: palette.tableHeaderText,
              borderRadius: '6px',
              fontSize: '15px',
              fontWeight: 600,
              padding: '12px 20px',
            }}
          >
            {button.label}
          </Button>
        </div>
      ))}
    </Section>
  );
}
