/**
 * Every form a leaked secret could take in stored bytes: as written, and
 * inside base64 (how scripts carry values, in UTF-8 for bash and UTF-16LE for
 * PowerShell's -EncodedCommand) at each of the three byte alignments. For a
 * base64 form only the characters that depend on the secret's bytes alone
 * are kept, so the needle matches whatever surrounds the secret.
 */
export function secretNeedles(secret: string): string[] {
  const needles = new Set<string>([secret, JSON.stringify(secret).slice(1, -1)]);
  for (const bytes of [Buffer.from(secret, 'utf8'), Buffer.from(secret, 'utf16le')]) {
    for (let offset = 0; offset < 3; offset++) {
      const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
      // 3-byte groups that lie wholly inside the secret give 4 characters each that nothing else affects
      const firstGroup = Math.ceil(offset / 3);
      const endGroup = Math.floor((offset + bytes.length) / 3);
      if (endGroup > firstGroup) needles.add(encoded.slice(firstGroup * 4, endGroup * 4));
    }
  }
  return [...needles];
}

/** The needles found in `haystack` (none, when nothing leaked). */
export const leaksIn = (haystack: string | Buffer, needles: readonly string[]): string[] => {
  const text = typeof haystack === 'string' ? haystack : haystack.toString('latin1');
  // latin1 keeps every byte as one character, so ASCII needles match raw bytes whatever the file's encoding
  return needles.filter((needle) => text.includes(needle));
};
