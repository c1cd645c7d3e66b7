import type { Branding } from '../../../functions/core/model/branding.js';
import type { paths } from '../api/schema.js';
import type { Schemas } from '../api/types.js';

/**
 * The branding form's fields and their words, the form's values to the
 * API's `BrandingInput` and back, and the API's field paths
 * (`body.branding.tableHeaderColour`, `path.brandingId`, `body.to`) to the
 * form's inputs. Pure: the console's tests run it in Node.
 */

export type BrandingInput = Schemas['BrandingInput'];
export type InheritedBranding = Schemas['InheritedBranding'];
export type { Branding };

/** Every field of a branding; a tenant's branding sets only those it changes. */
export type BrandingFieldName = keyof InheritedBranding;
export type PreviewBody = NonNullable<paths['/v1/branding/preview']['post']['requestBody']>['content']['application/json'];
export type EmailKind = PreviewBody['kind'];

type Control = 'text' | 'email' | 'url' | 'colour' | 'dateStyle';

export interface FieldSpec {
  readonly name: BrandingFieldName;
  readonly label: string;
  readonly control: Control;
  readonly hint?: string;
}

export interface FieldGroup {
  readonly legend: string;
  readonly fields: readonly FieldSpec[];
}

/** The form, in the order an MSP thinks of it: who writes, what it looks like, how dates read. */
export const FIELD_GROUPS: readonly FieldGroup[] = [
  {
    legend: 'Sender and addresses',
    fields: [
      { name: 'fromName', label: 'Sender name', control: 'text' },
      { name: 'fromAddress', label: 'Sender address', control: 'email', hint: 'Must be an address or domain verified in SES' },
      { name: 'supportEmail', label: 'Support address', control: 'email', hint: 'Shown in every email’s footer, for end users who need help' },
      { name: 'bccAddress', label: 'BCC address', control: 'email', hint: 'A copy of every email, for the MSP’s records' },
    ],
  },
  {
    legend: 'Company and logo',
    fields: [
      { name: 'companyName', label: 'Company name', control: 'text', hint: 'How the emails sign off, and the footer' },
      { name: 'logoUri', label: 'Logo URL', control: 'url', hint: 'https:// only; without one the header shows the logo text' },
      { name: 'logoAltText', label: 'Logo text', control: 'text', hint: 'Read out for the logo, and shown without one' },
      { name: 'mascotImageUri', label: 'Mascot image URL', control: 'url', hint: 'https:// only' },
      { name: 'mascotName', label: 'Mascot name', control: 'text' },
    ],
  },
  {
    legend: 'Colours',
    fields: [
      { name: 'tableHeaderColour', label: 'Primary colour', control: 'colour', hint: 'Buttons and table headers' },
      { name: 'tableHeaderTextColour', label: 'Text on the primary colour', control: 'colour' },
      { name: 'backgroundColour', label: 'Page background', control: 'colour' },
      { name: 'foregroundColour', label: 'Content panel', control: 'colour' },
      { name: 'textColour', label: 'Text colour', control: 'colour', hint: 'At least 4.5:1 against the panel and the background (WCAG AA)' },
    ],
  },
  {
    legend: 'Dates and times',
    fields: [
      { name: 'locale', label: 'Language for dates', control: 'text', hint: 'A language tag such as en-GB or de-DE' },
      { name: 'dateStyle', label: 'Date style', control: 'dateStyle' },
      { name: 'timeStyle', label: 'Time style', control: 'dateStyle' },
    ],
  },
];

export const BRANDING_FIELDS: readonly FieldSpec[] = FIELD_GROUPS.flatMap((group) => group.fields);

export const DATE_STYLES = ['full', 'long', 'medium', 'short'] as const;
export const DATE_STYLE_WORDS: Readonly<Record<(typeof DATE_STYLES)[number], string>> = {
  full: 'Full (Tuesday, 3 March 2026)',
  long: 'Long (3 March 2026)',
  medium: 'Medium (3 Mar 2026)',
  short: 'Short (03/03/2026)',
};

export const EMAIL_KINDS: readonly EmailKind[] = ['Detection', 'FollowUp', 'Postponed', 'Cancelled'];
export const EMAIL_KIND_WORDS: Readonly<Record<EmailKind, string>> = {
  Detection: 'Detection (before the maintenance)',
  FollowUp: 'Follow-up (after it)',
  Postponed: 'Postponed confirmation',
  Cancelled: 'Cancelled confirmation',
};

/** Inputs besides the branding fields whose problems the API names. */
export const SEASON_FIELDS = ['brandingId', 'dateRange.from', 'dateRange.to'] as const;
export const TEST_FIELDS = ['to', 'sessionId'] as const;
export type InputName = BrandingFieldName | (typeof SEASON_FIELDS)[number] | (typeof TEST_FIELDS)[number];

/** What the form holds: every field as typed, `''` for one the branding leaves to what it inherits. */
export type FormValues = Readonly<Record<BrandingFieldName | 'dateRange.from' | 'dateRange.to', string>>;

export const DEFAULT_BRANDING_ID = 'default';

/** The form's values for a stored branding, or an empty form (everything inherited). */
export function valuesOf(branding: Partial<Branding> | undefined): FormValues {
  const values = Object.fromEntries(BRANDING_FIELDS.map(({ name }) => [name, branding?.[name] ?? ''])) as Record<BrandingFieldName, string>;
  return { ...values, 'dateRange.from': branding?.dateRange?.from ?? '', 'dateRange.to': branding?.dateRange?.to ?? '' };
}

/**
 * The branding the form says: only the fields it sets (an empty one is
 * inherited), as typed; the API checks them and names any it refuses. A
 * date range only for a seasonal branding.
 */
export function inputOf(values: FormValues, seasonal: boolean): BrandingInput {
  // as typed: a value the API's schema refuses (a date style it does not know) is for the API to name
  const input: Record<string, unknown> = {};
  for (const { name } of BRANDING_FIELDS) {
    const value = values[name].trim();
    if (value !== '') input[name] = value;
  }
  if (seasonal) input.dateRange = { from: values['dateRange.from'].trim(), to: values['dateRange.to'].trim() };
  return input;
}

export const sameValues = (a: FormValues, b: FormValues): boolean => (Object.keys(a) as (keyof FormValues)[]).every((key) => a[key] === b[key]);

const FIELD_WORDS = new Map(BRANDING_FIELDS.map(({ name, label }) => [name, label.charAt(0).toLowerCase() + label.slice(1)]));

/** A problem in the form's words: the API names fields by their keys (`textColour on foregroundColour`), the form by their labels. */
export const inWords = (problem: string): string => problem.replace(/\b[a-z]+(?:[A-Z][a-z]*)+\b/g, (word) => FIELD_WORDS.get(word as BrandingFieldName) ?? word);

/** Where the API puts each part of a branding request: the path's id, the body's branding, the test's address and session. */
const PREFIXES: readonly (readonly [prefix: string, names: readonly string[]])[] = [
  ['body.branding.', [...BRANDING_FIELDS.map(({ name }) => name), 'dateRange.from', 'dateRange.to']],
  ['path.', ['brandingId']],
  ['body.', [...TEST_FIELDS]],
];

/** The form's input that shows the problem with `field` (an API path): the input of that path, or the first one inside it (`dateRange`). */
export function inputNameFor(field: string | undefined): InputName | undefined {
  if (field === undefined) return undefined;
  for (const [prefix, names] of PREFIXES) {
    if (!field.startsWith(prefix)) continue;
    const path = field.slice(prefix.length);
    const found = names.find((name) => name === path) ?? names.find((name) => name.startsWith(`${path}.`));
    if (found !== undefined) return found as InputName;
  }
  return undefined;
}

/** Who a branding belongs to, as the page names it: the MSP, or one tenant. */
export type OwnerChoice = { readonly kind: 'Msp' } | { readonly kind: 'Tenant'; readonly tenantId: string };

export const ownerKey = (owner: OwnerChoice): string => (owner.kind === 'Msp' ? 'msp' : `tenant/${owner.tenantId}`);

/** The page's address: `?tenant=acme&branding=winter`; no tenant is the MSP's, no branding its default. */
export interface BrandingSearch {
  readonly tenant?: string;
  readonly branding?: string;
}

export function brandingSearchFrom(search: Record<string, unknown>): BrandingSearch {
  const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
  const tenant = text(search.tenant);
  const branding = text(search.branding);
  return { ...(tenant === undefined ? {} : { tenant }), ...(branding === undefined || branding === DEFAULT_BRANDING_ID ? {} : { branding }) };
}
