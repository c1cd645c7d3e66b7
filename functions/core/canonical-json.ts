/**
 * JSON text with every object's keys sorted, at every depth: two values that
 * are equal whatever order their keys come in (DynamoDB does not keep the
 * order of a map's keys) give the same text.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? // Stryker disable next-line EqualityOperator,ConditionalExpression: an object's keys are unique, and V8's sort only asks whether an answer is below 0, so 0 and 1 mean the same to it
        Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}
