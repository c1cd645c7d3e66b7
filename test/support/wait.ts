import { vi } from 'vitest';

/** Waits for a state to be reached (polling it), never for a stretch of wall-clock time. */
export const until = (check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> =>
  vi.waitFor(
    async () => {
      if (!(await check())) throw new Error('not yet');
    },
    { timeout: timeoutMs, interval: 20 },
  );
