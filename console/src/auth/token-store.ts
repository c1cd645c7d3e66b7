/**
 * The signed-in operator's bearer token, kept in sessionStorage: it lives as
 * long as the tab, is not shared with other sites or other tabs' sign-outs,
 * and is gone when the tab closes. Components follow it through
 * `useSyncExternalStore` (subscribe/snapshot below).
 */

const TOKEN_KEY = 'nightshift.console.token';
/** A token this close to its expiry is treated as expired: a request made now would arrive after it. */
const EXPIRY_MARGIN_SECONDS = 30;

export interface SignInState {
  readonly token?: string;
  /** Why the operator is signed out (expired, refused, sign-in failed), for the sign-in page. */
  readonly notice?: string;
}

/** The `exp` claim of a JWT, read without checking it (the API checks; this only avoids sending a dead token). */
export function tokenExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const json: unknown = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/')));
    return typeof json === 'object' && json !== null && 'exp' in json && typeof json.exp === 'number' ? json.exp : undefined;
  } catch {
    return undefined;
  }
}

const isFresh = (token: string, nowMs: number): boolean => {
  const expiry = tokenExpiry(token);
  return expiry === undefined || expiry - EXPIRY_MARGIN_SECONDS > nowMs / 1000;
};

function createTokenStore(storage: Storage) {
  const listeners = new Set<() => void>();
  let state: SignInState = {};
  const stored = storage.getItem(TOKEN_KEY);
  if (stored !== null && isFresh(stored, Date.now())) state = { token: stored };
  else storage.removeItem(TOKEN_KEY);

  const set = (next: SignInState): void => {
    state = next;
    if (next.token === undefined) storage.removeItem(TOKEN_KEY);
    else storage.setItem(TOKEN_KEY, next.token);
    for (const listener of listeners) listener();
  };

  // arrow functions: React calls subscribe and snapshot detached from the store
  return {
    /** The token to send, unless it has expired (then the operator is signed out). */
    token: (): string | undefined => {
      if (state.token !== undefined && !isFresh(state.token, Date.now())) set({ notice: 'Your sign-in has expired. Sign in again.' });
      return state.token;
    },
    signIn: (token: string): void => {
      set({ token });
    },
    clear: (notice?: string): void => {
      if (state.token === undefined && notice === undefined) return;
      set(notice === undefined ? {} : { notice });
    },
    subscribe: (listener: () => void): (() => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    snapshot: (): SignInState => state,
  };
}

export const tokenStore = createTokenStore(globalThis.sessionStorage);
