import { describe, expect, it } from 'vitest';
import {
  DEFAULT_BRANDING_ID,
  NIGHTSHIFT_BRANDING,
  brandingAsSaved,
  brandingIdSchema,
  brandingInputSchema,
  contrastProblems,
  relativeLuminance,
  resolveBranding,
  type Branding,
  type BrandingInput,
} from '../../functions/core/model/branding.js';

const stored = (owner: Branding['owner'], fields: BrandingInput, id = DEFAULT_BRANDING_ID): Branding => ({ ...fields, owner, id, version: 1, updatedAt: '2026-01-01T00:00:00.000Z' });
const msp = (fields: BrandingInput, id?: string): Branding => stored({ kind: 'Msp' }, fields, id);
const acme = (fields: BrandingInput, id?: string): Branding => stored({ kind: 'Tenant', tenantId: 'acme' }, fields, id);

/** The problem a refused input reports at `path`; fails when the input is accepted. */
const problemAt = (input: unknown, path: string): string | undefined => {
  const parsed = brandingInputSchema.safeParse(input);
  if (parsed.success) throw new Error(`expected ${JSON.stringify(input)} to be refused`);
  return parsed.error.issues.find((issue) => issue.path.join('.') === path)?.message;
};

describe('branding rules: what a branding may hold, and what it says when it may not', () => {
  it('takes colours as #rrggbb, trimmed and in lower case, and says so when not', () => {
    expect(brandingInputSchema.parse({ textColour: ' #A0b1C2 ' })).toEqual({ textColour: '#a0b1c2' });
    for (const colour of ['#fff', '#a0b1c2f', 'a0b1c2f', '#a0b1cg', 'x#a0b1c2']) expect(problemAt({ textColour: colour }, 'textColour')).toBe('must be a colour as #rrggbb');
  });

  it('takes images over https only, trimmed, without credentials, up to 2,048 characters', () => {
    expect(brandingInputSchema.parse({ logoUri: ' https://bright.example/logo.png ' })).toEqual({ logoUri: 'https://bright.example/logo.png' });
    expect(problemAt({ logoUri: 'https://user@bright.example/logo.png' }, 'logoUri')).toBe('must be an https:// URL');
    expect(problemAt({ logoUri: 'https://:secret@bright.example/logo.png' }, 'logoUri')).toBe('must be an https:// URL');
    expect(problemAt({ mascotImageUri: 'not a url' }, 'mascotImageUri')).toBe('must be an https:// URL');
    expect(problemAt({ logoUri: `https://bright.example/${'a'.repeat(2048)}` }, 'logoUri')).toBe('must be at most 2048 characters');
  });

  it('takes texts trimmed, not empty and within their length', () => {
    expect(brandingInputSchema.parse({ companyName: '  Bright IT ' })).toEqual({ companyName: 'Bright IT' });
    expect(problemAt({ companyName: '   ' }, 'companyName')).toBe('must not be empty');
    expect(problemAt({ mascotName: 'x'.repeat(61) }, 'mascotName')).toBe('must be at most 60 characters');
    expect(brandingInputSchema.parse({ mascotName: 'x'.repeat(60) }).mascotName).toHaveLength(60);
  });

  it('takes a locale tag the runtime knows, trimmed, and date and time styles by name', () => {
    expect(brandingInputSchema.parse({ locale: ' de-DE ', dateStyle: 'long', timeStyle: 'medium' })).toEqual({ locale: 'de-DE', dateStyle: 'long', timeStyle: 'medium' });
    expect(problemAt({ locale: 'not a tag' }, 'locale')).toBe('must be a language tag such as en-GB or de-DE');
    expect(problemAt({ dateStyle: 'tiny' }, 'dateStyle')).toBeDefined();
  });

  it('takes each of the four Intl styles, full to short, for dates and for times', () => {
    for (const style of ['full', 'long', 'medium', 'short'] as const) {
      expect(brandingInputSchema.parse({ dateStyle: style, timeStyle: style }), style).toEqual({ dateStyle: style, timeStyle: style });
    }
    expect(problemAt({ timeStyle: '' }, 'timeStyle')).toBeDefined();
  });

  it('takes addresses, the sender in lower case', () => {
    expect(brandingInputSchema.parse({ fromAddress: 'IT@Bright.Example', supportEmail: 'help@bright.example', bccAddress: 'records@bright.example' })).toEqual({
      fromAddress: 'it@bright.example',
      supportEmail: 'help@bright.example',
      bccAddress: 'records@bright.example',
    });
    for (const field of ['fromAddress', 'supportEmail', 'bccAddress']) expect(problemAt({ [field]: 'nobody' }, field), field).toBe('must be an email address');
  });

  it('takes a date range of real YYYY-MM-DD days, one day long at the least', () => {
    expect(brandingInputSchema.parse({ dateRange: { from: '2026-12-24', to: '2026-12-24' } })).toEqual({ dateRange: { from: '2026-12-24', to: '2026-12-24' } });
    expect(problemAt({ dateRange: { from: '2026-12-1', to: '2026-12-24' } }, 'dateRange.from')).toBe('must be a date as YYYY-MM-DD');
    expect(problemAt({ dateRange: { from: 'x2026-12-01', to: '2026-12-24' } }, 'dateRange.from')).toBe('must be a date as YYYY-MM-DD');
    expect(problemAt({ dateRange: { from: '2026-12-01x', to: '2026-12-24' } }, 'dateRange.from')).toBe('must be a date as YYYY-MM-DD');
    expect(problemAt({ dateRange: { from: '2026-02-29', to: '2026-03-01' } }, 'dateRange.from')).toBe('must be a real date');
    expect(problemAt({ dateRange: { from: '2026-13-01', to: '2026-12-31' } }, 'dateRange.from')).toBe('must be a real date');
    expect(problemAt({ dateRange: { from: '2026-12-24', to: '2026-12-23' } }, 'dateRange.to')).toBe('must not end before it starts');
  });

  it('names brandings in lower case letters, digits and dashes, starting with a letter or digit, up to 40 characters', () => {
    expect(DEFAULT_BRANDING_ID).toBe('default');
    for (const id of ['default', 'winter-2026', '2027', 'a'.repeat(40)]) expect(brandingIdSchema.safeParse(id).success, id).toBe(true);
    const problem = (id: string): string | undefined => brandingIdSchema.safeParse(id).error?.issues[0]?.message;
    expect(problem('Winter')).toBe('may contain only lowercase letters, digits and "-"');
    expect(problem('-winter')).toBe('may contain only lowercase letters, digits and "-"');
    expect(problem('winter!')).toBe('may contain only lowercase letters, digits and "-"');
    expect(problem('')).toBe('must not be empty');
    expect(problem('a'.repeat(41))).toBe('must be at most 40 characters');
  });
});

describe('branding rules: Nightshift defaults and contrast', () => {
  it('signs with a plain sender and company, no logo, in US English', () => {
    expect(NIGHTSHIFT_BRANDING).toEqual({
      fromAddress: 'maintenance@example.com',
      fromName: 'IT maintenance',
      companyName: 'Your IT team',
      logoAltText: 'Your IT team',
      backgroundColour: '#f4f5f7',
      foregroundColour: '#ffffff',
      tableHeaderColour: '#1f3a5f',
      tableHeaderTextColour: '#ffffff',
      textColour: '#1d1d1f',
      locale: 'en-US',
      dateStyle: 'full',
      timeStyle: 'short',
    });
  });

  it('weighs red, green and blue as WCAG does, linear below 0.03928 and by the power curve above', () => {
    expect(relativeLuminance('#000000')).toBe(0);
    expect(relativeLuminance('#ffffff')).toBeCloseTo(1, 10);
    expect(relativeLuminance('#ff0000')).toBeCloseTo(0.2126, 10);
    expect(relativeLuminance('#00ff00')).toBeCloseTo(0.7152, 10);
    expect(relativeLuminance('#0000ff')).toBeCloseTo(0.0722, 10);
    // 10/255 = 0.0392 is on the linear side, 11/255 on the curve
    expect(relativeLuminance('#0a0a0a')).toBeCloseTo(10 / 255 / 12.92, 10);
    expect(relativeLuminance('#0b0b0b')).toBeCloseTo(((11 / 255 + 0.055) / 1.055) ** 2.4, 10);
    expect(relativeLuminance('#808080')).toBeCloseTo(0.2158605, 6);
  });

  it('checks each text on its own fill, naming the field the save changed', () => {
    // white header text on a pale header: only that pair fails
    const pale = { ...NIGHTSHIFT_BRANDING, tableHeaderColour: '#dddddd' };
    expect(contrastProblems(pale, {})).toEqual([
      {
        field: 'tableHeaderTextColour',
        problem: 'tableHeaderTextColour #ffffff on tableHeaderColour #dddddd has a contrast of 1.36:1; WCAG AA needs at least 4.5:1',
      },
    ]);
    // a page background as dark as the text fails only the text-on-background pair
    expect(contrastProblems({ ...NIGHTSHIFT_BRANDING, backgroundColour: '#333333' }, { backgroundColour: '#333333' }).map((p) => p.field)).toEqual(['backgroundColour']);
    // the save changed both: the text colour is the one to fix
    expect(contrastProblems(pale, { tableHeaderColour: '#dddddd', tableHeaderTextColour: '#ffffff' }).map((p) => p.field)).toEqual(['tableHeaderTextColour']);
  });
});

describe('branding rules: resolution and what a save would draw', () => {
  it('picks, among seasonal brandings in range, the one that started last, then the first by id', () => {
    const brandings = [
      msp({ companyName: 'Plain' }),
      msp({ companyName: 'December', dateRange: { from: '2026-12-01', to: '2026-12-31' } }, 'december'),
      msp({ companyName: 'Holidays', dateRange: { from: '2026-12-20', to: '2027-01-06' } }, 'holidays'),
      msp({ companyName: 'Also holidays', dateRange: { from: '2026-12-20', to: '2026-12-26' } }, 'also-holidays'),
    ];
    expect(resolveBranding(brandings, [], '2026-12-10').companyName).toBe('December');
    expect(resolveBranding(brandings, [], '2026-12-24').companyName).toBe('Also holidays');
    expect(resolveBranding(brandings, [], '2026-12-30').companyName).toBe('Holidays');
    expect(resolveBranding(brandings, [], '2027-02-01').companyName).toBe('Plain');
  });

  it('picks the same whatever order the brandings are stored in, the default found by its id', () => {
    const brandings = [
      msp({ companyName: 'Holidays', dateRange: { from: '2026-12-20', to: '2027-01-06' } }, 'holidays'),
      msp({ companyName: 'December', dateRange: { from: '2026-12-01', to: '2026-12-31' } }, 'december'),
      msp({ companyName: 'Plain' }),
    ];
    for (const order of [brandings, [...brandings].reverse()]) {
      expect(resolveBranding(order, [], '2026-12-30').companyName).toBe('Holidays');
      expect(resolveBranding(order, [], '2026-12-10').companyName).toBe('December');
      expect(resolveBranding(order, [], '2027-02-01').companyName).toBe('Plain');
    }
  });

  it('merges only branding fields: no owner, id, version or date range comes out', () => {
    const resolved = resolveBranding([msp({ companyName: 'Bright IT', dateRange: { from: '2026-01-01', to: '2026-12-31' } }, 'year')], [], '2026-06-01');
    expect(Object.keys(resolved).sort()).toEqual(Object.keys(NIGHTSHIFT_BRANDING).sort());
    expect(resolved.companyName).toBe('Bright IT');
  });

  it("draws a tenant's seasonal save over that tenant's default, its parents' and the MSP's, on its first day", () => {
    const mspBrandings = [msp({ companyName: 'Bright IT', textColour: '#222222' }), msp({ mascotName: 'Snowy', dateRange: { from: '2026-12-01', to: '2026-12-31' } }, 'winter')];
    const parents = [[stored({ kind: 'Tenant', tenantId: 'group' }, { tableHeaderColour: '#004400' })]];
    const own = [acme({ foregroundColour: '#fafafa' }), acme({ companyName: 'Old winter' }, 'winter')];
    const drawn = brandingAsSaved({ companyName: 'Acme winter', dateRange: { from: '2026-12-10', to: '2026-12-20' } }, 'winter', { kind: 'Tenant', tenantId: 'acme' }, mspBrandings, '2026-06-01', parents, own);
    expect(drawn).toMatchObject({ companyName: 'Acme winter', foregroundColour: '#fafafa', tableHeaderColour: '#004400', textColour: '#222222', mascotName: 'Snowy' });
  });

  it('draws a seasonal save on its owner default only, never under another seasonal branding in range', () => {
    const own = [msp({ textColour: '#222222' }), msp({ textColour: '#444444', dateRange: { from: '2026-12-01', to: '2026-12-31' } }, 'advent')];
    const drawn = brandingAsSaved({ companyName: 'Winter', dateRange: { from: '2026-12-10', to: '2026-12-20' } }, 'winter', { kind: 'Msp' }, own, '2026-06-01');
    expect(drawn).toMatchObject({ companyName: 'Winter', textColour: '#222222' });
  });

  it("draws a default save in place of the stored default, not over it", () => {
    const own = [msp({ companyName: 'Stored', textColour: '#222222' })];
    const drawn = brandingAsSaved({ companyName: 'Saved' }, DEFAULT_BRANDING_ID, { kind: 'Msp' }, own, '2026-06-01');
    expect(drawn.companyName).toBe('Saved');
    expect(drawn.textColour).toBe(NIGHTSHIFT_BRANDING.textColour);
    // a tenant's default sits on the MSP's, not on the tenant's stored default
    const tenantDrawn = brandingAsSaved({ companyName: 'Acme' }, DEFAULT_BRANDING_ID, { kind: 'Tenant', tenantId: 'acme' }, own, '2026-06-01', [], [acme({ textColour: '#333333' })]);
    expect(tenantDrawn).toMatchObject({ companyName: 'Acme', textColour: '#222222' });
  });
});

describe('branding rules: a tenant save with nothing of its own stored', () => {
  it("draws a tenant's first seasonal save over its parents and the MSP, never the MSP's default again over its parents", () => {
    // the tenant has no stored branding yet: only the MSP's are passed, and they are not the tenant's own
    const mspBrandings = [msp({ companyName: 'Bright IT', textColour: '#222222' })];
    const parents = [[stored({ kind: 'Tenant', tenantId: 'group' }, { textColour: '#333333' })]];
    const drawn = brandingAsSaved({ mascotName: 'Snowy', dateRange: { from: '2026-12-10', to: '2026-12-20' } }, 'winter', { kind: 'Tenant', tenantId: 'acme' }, mspBrandings, '2026-06-01', parents);
    expect(drawn).toMatchObject({ companyName: 'Bright IT', textColour: '#333333', mascotName: 'Snowy' });
  });
});
