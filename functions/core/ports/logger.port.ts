/**
 * Structured log lines. The adapter stamps every line with the invocation's
 * correlation keys (sessionId, computerId, tenantId, executionName,
 * correlation_id when known, and the Lambda context); `fields` add what only
 * this line knows.
 */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}
