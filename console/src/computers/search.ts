/** The computer page's tab, as it stands in the URL (`?tab=sessions`), so a tab can be linked to and survives a reload. */

export const COMPUTER_TABS = ['compliance', 'desired', 'sessions'] as const;
export type ComputerTab = (typeof COMPUTER_TABS)[number];

export interface ComputerSearch {
  readonly tab?: ComputerTab;
}

const isTab = (value: unknown): value is ComputerTab => typeof value === 'string' && (COMPUTER_TABS as readonly string[]).includes(value);

/** Anything but a known tab is dropped: the page opens on its first tab. */
export const computerSearchFrom = (search: Record<string, unknown>): ComputerSearch => (isTab(search.tab) ? { tab: search.tab } : {});

/** The computers list's filter. */
export interface ComputersSearch {
  readonly tenantId?: string;
}

const ID = /^[\x21-\x7e]{1,128}$/;

export const computersSearchFrom = (search: Record<string, unknown>): ComputersSearch =>
  typeof search.tenantId === 'string' && ID.test(search.tenantId) ? { tenantId: search.tenantId } : {};
