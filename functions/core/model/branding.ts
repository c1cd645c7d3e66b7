import { z } from 'zod';
import { emailAddressSchema, lowerCaseEmailAddressSchema } from './email-address.js';

/**
 * How an MSP (and, over it, each tenant) brands what the end user sees: the
 * emails and the link pages. A tenant's branding only names what it changes;
 * every field it leaves out comes from the MSP's. A seasonal branding (one
 * with a date range) wins over the plain one of the same owner while its
 * range lasts.
 */

/** `#rrggbb`: what every mail client renders the same way. */
const colourSchema = z
  .string()
  .trim()
  .regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour as #rrggbb')
  .transform((colour) => colour.toLowerCase());

/**
 * Images the end user's mail client fetches: https only. `javascript:`,
 * `data:` and plain http are refused, so a branding cannot carry script or
 * leak the reader over cleartext.
 */
const imageUriSchema = z
  .string()
  .trim()
  .max(2048, 'must be at most 2048 characters')
  .refine((uri) => {
    if (!URL.canParse(uri)) return false;
    const url = new URL(uri);
    return url.protocol === 'https:' && url.username === '' && url.password === '';
  }, 'must be an https:// URL');

const textSchema = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

/** A calendar day, `YYYY-MM-DD`, read in the recipient's time zone. */
const daySchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD')
  .refine((day) => !Number.isNaN(Date.parse(`${day}T00:00:00Z`)) && new Date(`${day}T00:00:00Z`).toISOString().startsWith(day), 'must be a real date');

const localeSchema = z
  .string()
  .trim()
  .max(35)
  .refine((locale) => {
    try {
      return Intl.DateTimeFormat.supportedLocalesOf([locale]).length === 1;
      // Stryker disable next-line BlockStatement: an empty catch answers undefined, which refuses the tag just as false does
    } catch {
      return false;
    }
  }, 'must be a language tag such as en-GB or de-DE');

const dateStyleSchema = z.enum(['full', 'long', 'medium', 'short']);

export const brandingFieldsSchema = z
  .object({
    /** The sender's address; must be an address (or domain) verified in SES. */
    fromAddress: lowerCaseEmailAddressSchema,
    fromName: textSchema(100),
    /** The MSP's own name, as the emails sign off. */
    companyName: textSchema(100),
    logoUri: imageUriSchema,
    logoAltText: textSchema(200),
    mascotImageUri: imageUriSchema,
    mascotName: textSchema(60),
    backgroundColour: colourSchema,
    foregroundColour: colourSchema,
    tableHeaderColour: colourSchema,
    tableHeaderTextColour: colourSchema,
    textColour: colourSchema,
    /** How dates and times read: a locale and Intl date/time styles. */
    locale: localeSchema,
    dateStyle: dateStyleSchema,
    timeStyle: dateStyleSchema,
    /** Where end users ask for help, shown in every email's footer. */
    supportEmail: emailAddressSchema,
    /** A copy of every email, for the MSP's records. */
    bccAddress: emailAddressSchema,
  })
  .partial()
  .strict();
export type BrandingFields = z.infer<typeof brandingFieldsSchema>;

export const dateRangeSchema = z
  .object({ from: daySchema, to: daySchema })
  .strict()
  .refine((range) => range.from <= range.to, { message: 'must not end before it starts', path: ['to'] });

/** What an operator saves: fields, and an optional date range for a seasonal branding. */
export const brandingInputSchema = brandingFieldsSchema.extend({ dateRange: dateRangeSchema.optional() }).strict();
export type BrandingInput = z.infer<typeof brandingInputSchema>;

/** The MSP's branding, or one tenant's override of it. */
export type BrandingOwner = { readonly kind: 'Msp' } | { readonly kind: 'Tenant'; readonly tenantId: string };

/** A stored branding: its owner, an id among that owner's brandings (`default` or a seasonal one's name) and a version. */
export interface Branding extends BrandingInput {
  readonly owner: BrandingOwner;
  readonly id: string;
  readonly version: number;
  readonly updatedAt: string;
}

export const brandingIdSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(40, 'must be at most 40 characters')
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'may contain only lowercase letters, digits and "-"');
export const DEFAULT_BRANDING_ID = 'default';

/** Every field set: what rendering needs. */
export type ResolvedBranding = Required<Omit<BrandingFields, 'bccAddress' | 'supportEmail' | 'mascotImageUri' | 'mascotName' | 'logoUri'>> &
  Pick<BrandingFields, 'bccAddress' | 'supportEmail' | 'mascotImageUri' | 'mascotName' | 'logoUri'>;

/** What Nightshift uses for anything neither the MSP nor the tenant set: plain, readable, AA everywhere. */
export const NIGHTSHIFT_BRANDING: ResolvedBranding = {
  fromAddress: 'maintenance@example.com',
  fromName: 'IT maintenance',
  companyName: 'Your IT team',
  // no logo until the MSP sets one: the header shows the company name instead of a broken image
  logoAltText: 'Your IT team',
  backgroundColour: '#f4f5f7',
  foregroundColour: '#ffffff',
  tableHeaderColour: '#1f3a5f',
  tableHeaderTextColour: '#ffffff',
  textColour: '#1d1d1f',
  locale: 'en-US',
  dateStyle: 'full',
  timeStyle: 'short',
};

/** WCAG 2.x relative luminance of an `#rrggbb` colour. */
export function relativeLuminance(colour: string): number {
  const channel = (offset: number): number => {
    const value = Number.parseInt(colour.slice(offset, offset + 2), 16) / 255;
    // Stryker disable next-line EqualityOperator: a channel is k/255, and no k/255 is exactly 0.03928 (255 × 0.03928 = 10.0164), so < and <= split the same
    return value <= 0.039_28 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
}

/** WCAG contrast ratio, 1 (none) to 21 (black on white). */
export function contrastRatio(a: string, b: string): number {
  const [light, dark] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

/** WCAG AA for body text. */
export const MIN_TEXT_CONTRAST = 4.5;

/**
 * The text-on-fill pairs the templates draw, each named by the field an
 * operator would change to fix it. Body text sits on the content panel
 * (foreground); the page around it shows the MSP name in text colour on the background.
 */
const TEXT_PAIRS: ReadonlyArray<{ readonly text: keyof ResolvedBranding; readonly fill: keyof ResolvedBranding }> = [
  { text: 'textColour', fill: 'foregroundColour' },
  { text: 'textColour', fill: 'backgroundColour' },
  { text: 'tableHeaderTextColour', fill: 'tableHeaderColour' },
];

export interface ContrastProblem {
  readonly field: string;
  readonly problem: string;
}

/**
 * Every text colour the branding would draw below WCAG AA, naming the field
 * the saved branding changed (the text colour when it changed both, or neither).
 */
export function contrastProblems(branding: ResolvedBranding, changed: BrandingFields): ContrastProblem[] {
  const problems: ContrastProblem[] = [];
  for (const { text, fill } of TEXT_PAIRS) {
    const ratio = contrastRatio(String(branding[text]), String(branding[fill]));
    if (ratio >= MIN_TEXT_CONTRAST) continue;
    const field = changed[fill] !== undefined && changed[text] === undefined ? fill : text;
    problems.push({
      field,
      problem: `${text} ${String(branding[text])} on ${fill} ${String(branding[fill])} has a contrast of ${ratio.toFixed(2)}:1; WCAG AA needs at least ${MIN_TEXT_CONTRAST}:1`,
    });
  }
  return problems;
}

/** The calendar day `at` falls on in `timeZone`, as `YYYY-MM-DD`. */
export function dayIn(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

const inRange = (branding: BrandingInput, day: string): boolean =>
  branding.dateRange !== undefined && branding.dateRange.from <= day && day <= branding.dateRange.to;

/**
 * The owner's fields for `day`: its default, under its seasonal branding in
 * range (the one with the latest start when ranges overlap, then by id). A
 * seasonal branding names only what changes for the season.
 */
function fieldsFor(brandings: readonly Branding[], day: string): BrandingFields {
  // Stryker disable next-line OptionalChaining,StringLiteral: every branding in range has a date range; the `?.` and `''` are for the types
  const latestStartFirst = (a: Branding, b: Branding): number => (b.dateRange?.from ?? '').localeCompare(a.dateRange?.from ?? '') || a.id.localeCompare(b.id);
  const seasonal = brandings.filter((branding) => inRange(branding, day)).sort(latestStartFirst);
  return { ...fieldsOf(brandings.find((branding) => branding.id === DEFAULT_BRANDING_ID)), ...fieldsOf(seasonal[0]) };
}

/** Drops the bookkeeping so only branding fields are merged. */
function fieldsOf(branding: BrandingInput | undefined): BrandingFields {
  if (!branding) return {};
  // a stored branding also carries its owner, id and version: only the fields are merged
  const fields: BrandingFields = Object.fromEntries(Object.entries(branding).filter(([key]) => key in brandingFieldsSchema.shape));
  return fields;
}

/**
 * What the end user sees for a tenant on `day`: Nightshift's plain defaults,
 * under the MSP's branding, under each tenant's override from the outermost
 * parent tenant down to the tenant itself.
 */
export function resolveBranding(msp: readonly Branding[], tenantChain: ReadonlyArray<readonly Branding[]>, day: string): ResolvedBranding {
  return Object.assign({}, NIGHTSHIFT_BRANDING, fieldsFor(msp, day), ...tenantChain.map((tenant) => fieldsFor(tenant, day))) as ResolvedBranding;
}

/**
 * What a save would draw, for its contrast check, with the resolver that
 * sends: the saved fields over its owner's default (for a seasonal one), over
 * its parent tenants' and the MSP's brandings, on a day inside its range (or `day`).
 */
export function brandingAsSaved(
  input: BrandingInput,
  id: string,
  owner: BrandingOwner,
  msp: readonly Branding[],
  day: string,
  parentTenants: ReadonlyArray<readonly Branding[]> = [],
  // Stryker disable next-line ArrayDeclaration: the list is only searched for a stored default by id; a list without a branding has none, as the empty list has none
  ownBrandings: readonly Branding[] = owner.kind === 'Msp' ? msp : [],
): ResolvedBranding {
  const effectiveDay = input.dateRange?.from ?? day;
  // the saved branding takes the place of the one stored under its id; a seasonal one sits on its owner's default
  const others = ownBrandings.filter((branding) => branding.id !== id && branding.id === DEFAULT_BRANDING_ID);
  const above = owner.kind === 'Msp' ? resolveBranding(others, [], effectiveDay) : resolveBranding(msp, [...parentTenants, others], effectiveDay);
  return { ...above, ...fieldsOf(input) };
}
