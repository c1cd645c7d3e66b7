/** A whole-number flag from 1 to `max`; anything else stops the bench with the flag named. */
export function wholeNumberFlag(bench: string, name: string, text: string, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    process.stderr.write(`${bench}: --${name} must be a whole number from 1 to ${max}, got ${JSON.stringify(text)}\n`);
    process.exit(2);
  }
  return value;
}
