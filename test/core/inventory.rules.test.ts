import { describe, expect, it } from 'vitest';
import { importRequestSchema, MAX_IMPORT_RULES } from '../../functions/core/model/inventory.js';

const RULE = { tag: { key: 'Customer', value: 'contoso' }, tenantId: 'contoso' };

/** Each refusal as `path: message`. */
const problems = (input: unknown): string[] => {
  const parsed = importRequestSchema.safeParse(input);
  return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
};
const ruleProblems = (rule: Record<string, unknown>): string[] => problems({ rules: [{ ...RULE, ...rule }] });

describe('an import request: which SSM tag maps to which tenant', () => {
  it('takes a rule naming a tag and a tenant, with no added tags and not a dry run unless it says so', () => {
    expect(importRequestSchema.parse({ rules: [RULE] })).toEqual({ rules: [{ ...RULE, addTags: [] }], dryRun: false });
    expect(importRequestSchema.parse({ rules: [{ ...RULE, addTags: ['kiosk'] }], dryRun: true })).toEqual({ rules: [{ ...RULE, addTags: ['kiosk'] }], dryRun: true });
  });

  it('lists between one and 50 rules', () => {
    expect(problems({ rules: [] })).toEqual(['rules: lists at least one rule']);
    expect(problems({ rules: Array.from({ length: MAX_IMPORT_RULES }, () => RULE) })).toEqual([]);
    expect(problems({ rules: Array.from({ length: MAX_IMPORT_RULES + 1 }, () => RULE) })).toEqual(['rules: at most 50 rules']);
    expect(problems({})).toHaveLength(1);
  });

  it('takes a tag key of 1 to 128 characters (SSM\'s limit) without control characters', () => {
    expect(ruleProblems({ tag: { key: 'k'.repeat(128), value: 'v' } })).toEqual([]);
    expect(ruleProblems({ tag: { key: '', value: 'v' } })).toEqual(['rules.0.tag.key: must not be empty', 'rules.0.tag.key: may not contain control characters']);
    expect(ruleProblems({ tag: { key: 'k'.repeat(129), value: 'v' } })).toEqual(['rules.0.tag.key: must be at most 128 characters']);
    for (const key of ['\u0007bell', 'tab\there', 'end\n']) expect(ruleProblems({ tag: { key, value: 'v' } }), JSON.stringify(key)).toEqual(['rules.0.tag.key: may not contain control characters']);
  });

  it('takes a tag value of up to 256 characters, empty included, without control characters', () => {
    expect(ruleProblems({ tag: { key: 'k', value: '' } })).toEqual([]);
    expect(ruleProblems({ tag: { key: 'k', value: 'v'.repeat(256) } })).toEqual([]);
    expect(ruleProblems({ tag: { key: 'k', value: 'v'.repeat(257) } })).toEqual(['rules.0.tag.value: must be at most 256 characters']);
    for (const value of ['\u0000', 'a\u001fb', 'end\r']) expect(ruleProblems({ tag: { key: 'k', value } }), JSON.stringify(value)).toEqual(['rules.0.tag.value: may not contain control characters']);
  });

  it('adds at most 10 Nightshift tags', () => {
    const tags = Array.from({ length: 11 }, (_, index) => `tag-${String(index)}`);
    expect(ruleProblems({ addTags: tags.slice(0, 10) })).toEqual([]);
    expect(ruleProblems({ addTags: tags })).toEqual(['rules.0.addTags: at most 10 tags']);
  });

  it('needs the tag and the tenant, and takes a device class and a time zone', () => {
    expect(ruleProblems({ tag: undefined })).toHaveLength(1);
    expect(ruleProblems({ tag: { value: 'v' } })).toHaveLength(1);
    expect(ruleProblems({ tag: { key: 'k' } })).toHaveLength(1);
    expect(ruleProblems({ tenantId: undefined })).toHaveLength(1);
    expect(importRequestSchema.parse({ rules: [{ ...RULE, deviceClass: 'Server', timeZone: 'Europe/Vienna' }] }).rules[0]).toMatchObject({ deviceClass: 'Server', timeZone: 'Europe/Vienna' });
    expect(ruleProblems({ deviceClass: 'Toaster' })).toHaveLength(1);
  });
});
