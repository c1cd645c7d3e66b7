import { useEffect, useState } from 'react';

/**
 * `value` once it has stayed the same for `delayMs`: what the live preview
 * asks the API to draw, so typing a colour asks once, not per key. `value`
 * must keep its identity while it is unchanged (a memo), or it never settles.
 */
export function useDebounced<T>(value: T, delayMs: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => {
      setSettled(value);
    }, delayMs);
    return () => {
      clearTimeout(timer);
    };
  }, [value, delayMs]);
  return settled;
}
