import { describe, expect, it } from 'vitest';
import { BRANDING_FIELDS, brandingSearchFrom, inputNameFor, inputOf, inWords, sameValues, valuesOf, type Branding } from '../../console/src/branding/fields.js';
import { brandingFieldsSchema } from '../../functions/core/model/branding.js';

/**
 * The Branding page's form: what it sends (only what the operator set, so a
 * tenant keeps inheriting the rest), what it shows of a stored branding, and
 * where each of the API's refusals is shown.
 */

const STORED: Branding = {
  owner: { kind: 'Tenant', tenantId: 'acme' },
  id: 'winter',
  version: 3,
  updatedAt: '2026-11-30T10:00:00.000Z',
  tableHeaderColour: '#7a1f1f',
  companyName: 'Acme IT',
  dateRange: { from: '2026-12-01', to: '2027-01-06' },
};

describe('the branding form', () => {
  it('has an input for every field the API accepts, and no other (proves a new branding field cannot be missed)', () => {
    expect(BRANDING_FIELDS.map(({ name }) => name).sort()).toEqual(Object.keys(brandingFieldsSchema.shape).sort());
  });

  it('sends only the fields set, trimmed, so everything else stays inherited; a date range only for a seasonal branding', () => {
    const values = { ...valuesOf(STORED), companyName: '  Acme Helpdesk ', textColour: '   ' };
    expect(inputOf(values, true)).toEqual({ tableHeaderColour: '#7a1f1f', companyName: 'Acme Helpdesk', dateRange: { from: '2026-12-01', to: '2027-01-06' } });
    expect(inputOf(values, false)).toEqual({ tableHeaderColour: '#7a1f1f', companyName: 'Acme Helpdesk' });
    expect(inputOf(valuesOf(undefined), false)).toEqual({});
  });

  it('shows a stored branding as it was saved, and knows when the form differs from it', () => {
    const values = valuesOf(STORED);
    expect(values).toMatchObject({ tableHeaderColour: '#7a1f1f', companyName: 'Acme IT', logoUri: '', 'dateRange.from': '2026-12-01', 'dateRange.to': '2027-01-06' });
    expect(sameValues(values, valuesOf(STORED))).toBe(true);
    expect(sameValues({ ...values, logoUri: 'https://acme.example/logo.png' }, values)).toBe(false);
  });

  it('puts each refusal on the input it names: a branding field, a date of the range, the id in the path, the test address', () => {
    expect(inputNameFor('body.branding.tableHeaderColour')).toBe('tableHeaderColour');
    expect(inputNameFor('body.branding.dateRange.to')).toBe('dateRange.to');
    // a problem with the range as a whole is shown on its first date
    expect(inputNameFor('body.branding.dateRange')).toBe('dateRange.from');
    expect(inputNameFor('path.brandingId')).toBe('brandingId');
    expect(inputNameFor('body.to')).toBe('to');
    expect(inputNameFor('body.sessionId')).toBe('sessionId');
    for (const elsewhere of [undefined, 'body.branding.headerColour', 'body.tenantId', 'path.tenantId', 'body', 'request']) expect(inputNameFor(elsewhere), String(elsewhere)).toBeUndefined();
  });

  it('words a contrast refusal with the labels the form shows, leaving every other word alone', () => {
    expect(inWords('textColour #cccccc on foregroundColour #ffffff has a contrast of 1.61:1; WCAG AA needs at least 4.5:1')).toBe(
      'text colour #cccccc on content panel #ffffff has a contrast of 1.61:1; WCAG AA needs at least 4.5:1',
    );
    expect(inWords('tableHeaderTextColour #ffffff on tableHeaderColour #eeeeee')).toBe('text on the primary colour #ffffff on primary colour #eeeeee');
    expect(inWords('must be an https:// URL; see camelCase')).toBe('must be an https:// URL; see camelCase');
  });

  it('reads the page address: a tenant and a seasonal branding, the default and the MSP left out', () => {
    expect(brandingSearchFrom({ tenant: 'acme', branding: 'winter' })).toEqual({ tenant: 'acme', branding: 'winter' });
    expect(brandingSearchFrom({ branding: 'default' })).toEqual({});
    expect(brandingSearchFrom({ tenant: '', branding: 7, other: 'x' })).toEqual({});
  });
});
