import type { ReactNode } from 'react';
import { linesWords } from './words.js';

/** A catalog entity's facts as name and value pairs, the console's `facts` list. */
export function Facts({ facts }: { readonly facts: readonly (readonly [string, ReactNode])[] }) {
  return (
    <dl className="facts">
      {facts.map(([name, value]) => (
        <div key={name}>
          <dt>{name}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A script, folded: its size in the summary, its text (as stored, never run here) when opened. */
export function ScriptView({ label, script }: { readonly label: string; readonly script: string }) {
  return (
    <details className="script-view">
      <summary>
        {label} <span className="hint">({linesWords(script)})</span>
      </summary>
      <pre>
        <code>{script}</code>
      </pre>
    </details>
  );
}
