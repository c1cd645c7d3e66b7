import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { decodeOpaque, encodeOpaque } from '../../functions/core/opaque-text.js';

const shape = z.strictObject({ a: z.number() });
const anything = z.unknown().transform(() => 'accepted');
const base64url = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');

describe('opaque text: base64url of JSON, read back only by its maker', () => {
  it('encodes the JSON of the content in base64url, with no padding and none of base64\'s + or /', () => {
    const text = encodeOpaque({ a: '?>?>', é: 'ü' });
    expect(text).toBe(base64url('{"a":"?>?>","é":"ü"}'));
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('gives back the content the schema accepts', () => {
    expect(decodeOpaque(encodeOpaque({ a: 1 }), 100, shape)).toEqual({ a: 1 });
  });

  it('refuses content the schema does not accept', () => {
    expect(decodeOpaque(encodeOpaque({ a: 'one' }), 100, shape)).toBeUndefined();
    expect(decodeOpaque(encodeOpaque({ a: 1, b: 2 }), 100, shape)).toBeUndefined();
  });

  it('refuses text that is not JSON before the schema is asked, even a schema that takes anything', () => {
    expect(decodeOpaque(base64url('{not json'), 100, anything)).toBeUndefined();
    expect(decodeOpaque(base64url('{"a":1}'), 100, anything)).toBe('accepted');
  });

  it('refuses text that is empty, longer than the maximum, or not base64url', () => {
    expect(decodeOpaque('', 100, anything)).toBeUndefined();
    expect(decodeOpaque(base64url('{"a":1}'), 5, anything)).toBeUndefined();
    expect(decodeOpaque('eyJhIjoxfQ==', 100, anything)).toBeUndefined();
  });
});
