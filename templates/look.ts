import type { ResolvedBranding } from '../functions/core/model/branding.js';
import { MIN_TEXT_CONTRAST, NIGHTSHIFT_BRANDING, contrastRatio } from '../functions/core/model/branding.js';
import type { EmailActionLine } from '../functions/core/notifications/emails.js';
import type { LinkPageTone } from '../functions/core/notifications/links.js';

/** What every mail client and browser has without a web font. */
export const FONT_STACK = "-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";

/** Outlook and Gmail draw tables at this width without scaling. */
export const CONTAINER_WIDTH_PX = 600;

/**
 * The few words a template adds around the view's own: labels of what the
 * view already says. They are not per branding or locale yet; the core's view
 * has no field for them.
 */
export const LABELS = {
  computer: 'Computer',
  when: 'When',
  change: 'Change',
  result: 'Result',
} as const;

/** The colours a template draws; each is the branding's own unless it is not a `#rrggbb` colour. */
export interface Palette {
  readonly background: string;
  readonly panel: string;
  readonly text: string;
  readonly tableHeader: string;
  readonly tableHeaderText: string;
}

const COLOUR = /^#[0-9a-fA-F]{6}$/;
const colourOr = (value: string, fallback: string): string => (COLOUR.test(value) ? value.toLowerCase() : fallback);

/** The schema already insists on `#rrggbb`; a colour that slipped past it must not become CSS of its own. */
export function paletteOf(branding: ResolvedBranding): Palette {
  return {
    background: colourOr(branding.backgroundColour, NIGHTSHIFT_BRANDING.backgroundColour),
    panel: colourOr(branding.foregroundColour, NIGHTSHIFT_BRANDING.foregroundColour),
    text: colourOr(branding.textColour, NIGHTSHIFT_BRANDING.textColour),
    tableHeader: colourOr(branding.tableHeaderColour, NIGHTSHIFT_BRANDING.tableHeaderColour),
    tableHeaderText: colourOr(branding.tableHeaderTextColour, NIGHTSHIFT_BRANDING.tableHeaderTextColour),
  };
}

/** A badge: an icon and its own fill, readable on any panel colour (each pair passes WCAG AA). */
export interface Badge {
  readonly icon: string;
  readonly fill: string;
  readonly text: string;
}

type Outcome = NonNullable<EmailActionLine['outcome']>;

/** Outcomes are told by icon and words as well as colour, so no reader depends on the colour. */
export const OUTCOME_BADGES: Readonly<Record<Outcome, Badge & { readonly word: string }>> = {
  Done: { icon: '✓', fill: '#e3f1e6', text: '#1b5e2b', word: 'Done' },
  Failed: { icon: '✕', fill: '#fbe9e9', text: '#9b1c1c', word: 'Failed' },
  Skipped: { icon: '–', fill: '#eceef1', text: '#434a57', word: 'Skipped' },
  Cancelled: { icon: '–', fill: '#eceef1', text: '#434a57', word: 'Cancelled' },
  Unknown: { icon: '?', fill: '#fdf1dc', text: '#7a4a00', word: 'Unknown' },
};

export const TONE_BADGES: Readonly<Record<LinkPageTone, Badge>> = {
  Confirm: { icon: '?', fill: '#e6edf6', text: '#1f3a5f' },
  Done: { icon: '✓', fill: '#e3f1e6', text: '#1b5e2b' },
  AlreadyDone: { icon: '✓', fill: '#eceef1', text: '#434a57' },
  Refused: { icon: '✕', fill: '#fbe9e9', text: '#9b1c1c' },
  Invalid: { icon: '!', fill: '#fdf1dc', text: '#7a4a00' },
};

/** The tone's colour for a heading when it reads on the panel; the branding's text colour when it would not. */
export function headingColour(tone: LinkPageTone, palette: Palette): string {
  const colour = TONE_BADGES[tone].text;
  return tone !== 'Confirm' && contrastRatio(colour, palette.panel) >= MIN_TEXT_CONTRAST ? colour : palette.text;
}
