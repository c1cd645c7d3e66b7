import type { Logger } from '../core/ports/logger.port.js';

type Level = 'INFO' | 'WARN' | 'ERROR';

/** One JSON object per line, the shape CloudWatch Logs Insights queries best. */
export function createJsonLogger(
  base: Readonly<Record<string, unknown>>,
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Logger & { with(fields: Record<string, unknown>): Logger } {
  const emit = (level: Level, message: string, fields?: Record<string, unknown>) =>
    write(JSON.stringify({ timestamp: new Date().toISOString(), level, message, ...base, ...fields }));
  return {
    info: (message, fields) => emit('INFO', message, fields),
    warn: (message, fields) => emit('WARN', message, fields),
    error: (message, fields) => emit('ERROR', message, fields),
    with: (fields) => createJsonLogger({ ...base, ...fields }, write),
  };
}
