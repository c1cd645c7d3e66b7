/** A whole-number flag from `min` (1 unless given) to `max`; anything else stops the bench with the flag named. */
export function wholeNumberFlag(bench: string, name: string, text: string, max: number, min = 1): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    process.stderr.write(`${bench}: --${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}\n`);
    process.exit(2);
  }
  return value;
}
