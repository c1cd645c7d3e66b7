/**
 * Names the first `max` of a list and counts the rest, so a message about a
 * whole fleet's items (a denied secret, a deleted package's referrers) stays
 * one readable line.
 */
export const namedList = (names: readonly string[], max: number): string =>
  names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${String(names.length - max)} more`;
