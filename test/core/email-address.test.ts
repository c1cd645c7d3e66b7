import { describe, expect, it } from 'vitest';
import { computerSchema } from '../../functions/core/model/catalog.js';
import { EMAIL_ADDRESS_MAX_LENGTH, emailAddressSchema, lowerCaseEmailAddressSchema } from '../../functions/core/model/email-address.js';

const problems = (value: unknown): string[] => {
  const parsed = emailAddressSchema.safeParse(value);
  return parsed.success ? [] : parsed.error.issues.map((issue) => issue.message);
};

describe('an email address, wherever a schema takes one', () => {
  it('takes an address up to SMTP\'s 254 characters, and tells one longer that it is too long, not that it is no address', () => {
    const longest = `${'a'.repeat(64)}@${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(59)}.example`;
    expect(longest.length).toBe(EMAIL_ADDRESS_MAX_LENGTH);
    expect(problems(longest)).toEqual([]);
    expect(problems(`${'a'.repeat(250)}@x.com`)).toEqual(['must be at most 254 characters']);
    expect(problems(`a@${Array.from({ length: 60 }, () => 'bbbb').join('.')}.com`)).toEqual(['must be at most 254 characters']);
  });

  it('tells text that is no address and too long that it is too long, and text of exactly 254 characters that it is no address', () => {
    expect(problems('x'.repeat(EMAIL_ADDRESS_MAX_LENGTH + 1)).filter((message) => message !== 'must be at most 254 characters')).toEqual([]);
    expect(problems('x'.repeat(EMAIL_ADDRESS_MAX_LENGTH + 1))).not.toEqual([]);
    expect(problems('x'.repeat(EMAIL_ADDRESS_MAX_LENGTH))).toEqual(['must be an email address']);
  });

  it('calls anything else that is not an address what it is', () => {
    for (const value of ['nope', 'a@b', '@contoso.example', 'ana@@contoso.example', '', 5, null]) expect(problems(value), String(value)).toEqual(['must be an email address']);
  });

  it('keeps the case as given, or lower-cases it where addresses are compared', () => {
    expect(emailAddressSchema.parse('Ana@Contoso.Example')).toBe('Ana@Contoso.Example');
    expect(lowerCaseEmailAddressSchema.parse('Ana@Contoso.Example')).toBe('ana@contoso.example');
  });

  it('names the field with the length problem in a computer\'s primary user', () => {
    const parsed = computerSchema.safeParse({ id: 'pc-1', tenantId: 't', name: 'PC', agentId: 'i-0123456789abcdef0', platform: 'linux', primaryUser: { name: 'Ana', email: `${'a'.repeat(250)}@x.com` } });
    expect(parsed.success ? [] : parsed.error.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([['primaryUser.email', 'must be at most 254 characters']]);
  });
});
