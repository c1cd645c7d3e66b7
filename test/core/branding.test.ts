import { describe, expect, it } from 'vitest';
import {
  brandingAsSaved,
  brandingInputSchema,
  contrastProblems,
  contrastRatio,
  dayIn,
  NIGHTSHIFT_BRANDING,
  resolveBranding,
  type Branding,
  type BrandingInput,
} from '../../functions/core/model/branding.js';

const msp = (fields: BrandingInput, id = 'default'): Branding => ({ ...fields, owner: { kind: 'Msp' }, id, version: 1, updatedAt: '2026-01-01T00:00:00.000Z' });
const tenant = (tenantId: string, fields: BrandingInput, id = 'default'): Branding => ({ ...fields, owner: { kind: 'Tenant', tenantId }, id, version: 1, updatedAt: '2026-01-01T00:00:00.000Z' });

describe('branding resolution', () => {
  it('takes each field from the most specific owner that sets it: tenant over parent over MSP over Nightshift', () => {
    const resolved = resolveBranding(
      [msp({ companyName: 'Bright IT', textColour: '#222222', logoUri: 'https://bright.example/logo.png' })],
      [[tenant('acme', { companyName: 'Acme IT desk', tableHeaderColour: '#004400' })], [tenant('acme-east', { companyName: 'Acme East' })]],
      '2026-06-01',
    );
    expect(resolved).toMatchObject({
      companyName: 'Acme East',
      tableHeaderColour: '#004400',
      textColour: '#222222',
      logoUri: 'https://bright.example/logo.png',
      backgroundColour: NIGHTSHIFT_BRANDING.backgroundColour,
    });
  });

  it('uses a seasonal branding only inside its date range, inclusive, and the default outside it', () => {
    const brandings = [msp({ companyName: 'Bright IT' }), msp({ companyName: 'Bright IT — happy holidays', dateRange: { from: '2026-12-15', to: '2027-01-02' } }, 'winter')];
    expect(resolveBranding(brandings, [], '2026-12-14').companyName).toBe('Bright IT');
    expect(resolveBranding(brandings, [], '2026-12-15').companyName).toBe('Bright IT — happy holidays');
    expect(resolveBranding(brandings, [], '2027-01-02').companyName).toBe('Bright IT — happy holidays');
    expect(resolveBranding(brandings, [], '2027-01-03').companyName).toBe('Bright IT');
  });

  it("reads the day in the recipient's time zone (already tomorrow in Auckland)", () => {
    const at = new Date('2026-12-14T12:00:00.000Z');
    expect(dayIn(at, 'Pacific/Auckland')).toBe('2026-12-15');
    expect(dayIn(at, 'America/Los_Angeles')).toBe('2026-12-14');
  });
});

describe('branding input', () => {
  const field = (input: unknown): string[] => {
    const parsed = brandingInputSchema.safeParse(input);
    return parsed.success ? [] : parsed.error.issues.map((issue) => issue.path.join('.'));
  };

  it.each([
    ['a javascript: logo', { logoUri: 'javascript:alert(1)' }, 'logoUri'],
    ['a data: mascot', { mascotImageUri: 'data:image/png;base64,AAAA' }, 'mascotImageUri'],
    ['a cleartext logo', { logoUri: 'http://bright.example/logo.png' }, 'logoUri'],
    ['credentials in an image URL', { logoUri: 'https://user:pass@bright.example/logo.png' }, 'logoUri'],
    ['a colour name', { textColour: 'red' }, 'textColour'],
    ['a short colour', { backgroundColour: '#fff' }, 'backgroundColour'],
    ['an unknown field', { fontFamily: 'Comic Sans' }, ''],
    ['a range ending before it starts', { dateRange: { from: '2026-12-20', to: '2026-12-01' } }, 'dateRange.to'],
    ['a date that does not exist', { dateRange: { from: '2026-02-30', to: '2026-03-01' } }, 'dateRange.from'],
    ['an unknown locale', { locale: 'xx-nope-nope-nope' }, 'locale'],
  ])('refuses %s, naming the field', (_, input, path) => {
    expect(field(input)).toContain(path);
  });

  it('keeps colours and addresses in one case', () => {
    expect(brandingInputSchema.parse({ textColour: '#AABBCC', fromAddress: 'IT@Bright.Example' })).toEqual({ textColour: '#aabbcc', fromAddress: 'it@bright.example' });
  });
});

describe('colour contrast (WCAG AA)', () => {
  it('computes the WCAG ratios of known pairs', () => {
    expect(contrastRatio('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrastRatio('#ffffff', '#ffffff')).toBeCloseTo(1, 5);
    // #767676 on white is the classic just-AA grey
    expect(contrastRatio('#767676', '#ffffff')).toBeGreaterThanOrEqual(4.5);
    expect(contrastRatio('#777777', '#ffffff')).toBeLessThan(4.5);
  });

  it('accepts Nightshift\'s own defaults', () => {
    expect(contrastProblems(NIGHTSHIFT_BRANDING, {})).toEqual([]);
  });

  it('names the field the save changed: the fill when only the fill changed, else the text colour', () => {
    const paleHeader = brandingAsSaved({ tableHeaderColour: '#eeeeee' }, 'default', { kind: 'Msp' }, [], '2026-06-01');
    expect(contrastProblems(paleHeader, { tableHeaderColour: '#eeeeee' }).map((problem) => problem.field)).toEqual(['tableHeaderColour']);
    const greyText = brandingAsSaved({ textColour: '#aaaaaa' }, 'default', { kind: 'Msp' }, [], '2026-06-01');
    expect(contrastProblems(greyText, { textColour: '#aaaaaa' }).map((problem) => problem.field)).toEqual(['textColour', 'textColour']);
    expect(contrastProblems(greyText, { textColour: '#aaaaaa' })[0]?.problem).toMatch(/has a contrast of 2\.\d\d:1; WCAG AA needs at least 4\.5:1/);
  });

  it("checks a tenant's save against the MSP's colours it inherits", () => {
    const mspDark = [msp({ foregroundColour: '#111111', backgroundColour: '#000000', textColour: '#eeeeee' })];
    // dark text is fine on Nightshift's white, but not on the MSP's dark panel
    const saved = brandingAsSaved({ textColour: '#333333' }, 'default', { kind: 'Tenant', tenantId: 'acme' }, mspDark, '2026-06-01');
    expect(contrastProblems(saved, { textColour: '#333333' }).map((problem) => problem.field)).toContain('textColour');
  });
});

describe('seasonal brandings sit on their owner\'s default', () => {
  it('keeps the default fields a seasonal branding does not name (its sender, its colours)', () => {
    const brandings = [msp({ fromAddress: 'it@bright.example', companyName: 'Bright IT', textColour: '#222222' }), msp({ mascotName: 'Snowy', dateRange: { from: '2026-12-01', to: '2026-12-31' } }, 'winter')];
    expect(resolveBranding(brandings, [], '2026-12-10')).toMatchObject({ fromAddress: 'it@bright.example', companyName: 'Bright IT', textColour: '#222222', mascotName: 'Snowy' });
  });

  it("checks a seasonal save against its owner's default, as it will be drawn", () => {
    const own = [msp({ foregroundColour: '#111111', backgroundColour: '#000000', textColour: '#eeeeee' })];
    // a winter branding that changes only the text colour to dark is unreadable on the default's dark panel
    const saved = brandingAsSaved({ textColour: '#333333', dateRange: { from: '2026-12-01', to: '2026-12-31' } }, 'winter', { kind: 'Msp' }, own, '2026-06-01');
    expect(contrastProblems(saved, { textColour: '#333333' }).map((problem) => problem.field)).toContain('textColour');
  });
});
