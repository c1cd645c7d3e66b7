/** A Node system error with this `code` (`ENOENT`, `EEXIST`, `EADDRINUSE`…), as the fs and net calls throw them. */
export const isSystemError = (error: unknown, code: string): boolean => error instanceof Error && 'code' in error && error.code === code;
