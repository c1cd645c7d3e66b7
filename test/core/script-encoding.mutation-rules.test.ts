import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64 } from '../../functions/core/scripts/encoding.js';

describe('the base64 every value takes into a script, and back out of a record', () => {
  it('round-trips text as UTF-8, including characters outside the BMP and final newlines', () => {
    for (const text of ['', 'a', 'ab', 'abc', 'é😀\n\n', "it's $HOME `x` \\ \r\n"]) expect(decodeBase64(encodeBase64(text))).toBe(text);
    expect(encodeBase64('é😀')).toBe('w6nwn5iA');
  });

  it.each([
    ['QQ', 'a length that is not a multiple of 4'],
    ['QQ=', 'a length that is not a multiple of 4'],
    ['ab!d', 'a character outside the alphabet, at a length of 4'],
    ['ab!dQUFB', 'garbage before valid base64'],
    ['QUFBab!d', 'garbage after valid base64'],
    ['QUFB QUFB', 'a space inside'],
    ['Q===', 'three padding characters'],
    ['QQ==QUFB', 'padding in the middle'],
    ['QUF-', 'the URL-safe alphabet'],
    ['QR==', 'bits set after the last whole byte (QQ== is A)'],
    ['QUF=', 'bits set after the last whole byte (QUE= is AA)'],
  ])('refuses %j (%s) instead of decoding what Buffer would guess', (encoded) => {
    expect(decodeBase64(encoded)).toBeUndefined();
  });

  it('accepts canonical padding of one and two characters, and the empty string', () => {
    expect(decodeBase64('QQ==')).toBe('A');
    expect(decodeBase64('QUE=')).toBe('AA');
    expect(decodeBase64('')).toBe('');
    expect(decodeBase64('+/+/')).toBe(Buffer.from([0xfb, 0xff, 0xbf]).toString('utf8'));
  });
});
