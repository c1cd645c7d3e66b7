import { useEffect } from 'react';

/** The tab's title names the page first, so a screen reader and a row of tabs say where one is. */
export function usePageTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · Nightshift`;
  }, [title]);
}
