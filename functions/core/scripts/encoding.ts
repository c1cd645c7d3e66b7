/** UTF-8 base64, the one encoding every value takes on its way into a generated script. */
export const encodeBase64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

/** Strict decode: `undefined` for anything that is not canonical base64, so garbled records are noticed. */
export function decodeBase64(encoded: string): string | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(encoded, 'base64');
  // the bits after the last whole byte must be zero (`QR==` is not `QQ==`): only the canonical form encodes back to itself
  if (bytes.toString('base64') !== encoded) return undefined;
  return bytes.toString('utf8');
}
