import { useRef, type KeyboardEvent, type ReactNode } from 'react';

/**
 * Tabs as WAI-ARIA's tabs pattern: one tab stop for the row (the selected
 * tab), arrow keys, Home and End move between tabs and select them, and the
 * panel is labelled by its tab. Which tab is selected is the caller's state
 * (the page keeps it in its URL).
 */
export function Tabs<T extends string>({
  label,
  idPrefix,
  tabs,
  selected,
  onSelect,
  children,
}: {
  readonly label: string;
  readonly idPrefix: string;
  readonly tabs: readonly { readonly id: T; readonly label: ReactNode }[];
  readonly selected: T;
  readonly onSelect: (id: T) => void;
  /** The selected tab's panel. */
  readonly children: ReactNode;
}) {
  const buttons = useRef(new Map<T, HTMLButtonElement>());
  const move = (event: KeyboardEvent<HTMLButtonElement>, index: number) => {
    const last = tabs.length - 1;
    const to = { ArrowRight: index === last ? 0 : index + 1, ArrowLeft: index === 0 ? last : index - 1, Home: 0, End: last }[event.key];
    const tab = to === undefined ? undefined : tabs[to];
    if (tab === undefined) return;
    event.preventDefault();
    onSelect(tab.id);
    buttons.current.get(tab.id)?.focus();
  };
  return (
    <div className="tabs">
      <div role="tablist" aria-label={label}>
        {tabs.map((tab, index) => (
          <button
            key={tab.id}
            ref={(element) => {
              if (element === null) buttons.current.delete(tab.id);
              else buttons.current.set(tab.id, element);
            }}
            type="button"
            role="tab"
            className="tab"
            id={`${idPrefix}-tab-${tab.id}`}
            aria-selected={tab.id === selected}
            aria-controls={`${idPrefix}-panel-${tab.id}`}
            tabIndex={tab.id === selected ? 0 : -1}
            onClick={() => { onSelect(tab.id); }}
            onKeyDown={(event) => { move(event, index); }}
          >
            {tab.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" className="tab-panel" id={`${idPrefix}-panel-${selected}`} aria-labelledby={`${idPrefix}-tab-${selected}`} tabIndex={0}>
        {children}
      </div>
    </div>
  );
}
