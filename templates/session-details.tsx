import type { CSSProperties } from 'react';
import type { EmailActionLine } from '../functions/core/notifications/emails.js';
import type { Palette } from './look.js';
import { LABELS, OUTCOME_BADGES } from './look.js';

/** Which computer and when, as a label/value list both emails and link pages show. */
export function SessionFacts({ computerName, windowOpensAt, palette }: { readonly computerName?: string; readonly windowOpensAt?: string; readonly palette: Palette }) {
  const facts: Array<[string, string]> = [];
  if (computerName !== undefined) facts.push([LABELS.computer, computerName]);
  if (windowOpensAt !== undefined) facts.push([LABELS.when, windowOpensAt]);
  if (facts.length === 0) return null;
  return (
    <table width="100%" cellPadding={0} cellSpacing={0} border={0} role="presentation" data-text-format="dataTable" style={{ width: '100%', margin: '8px 0 16px', borderLeft: `4px solid ${palette.tableHeader}` }}>
      <tbody>
        {facts.map(([label, value]) => (
          <tr key={label}>
            <td style={{ color: palette.text, fontSize: '14px', lineHeight: '22px', padding: '2px 12px', width: '96px', fontWeight: 600, verticalAlign: 'top' }}>{label}</td>
            <td style={{ color: palette.text, fontSize: '14px', lineHeight: '22px', padding: '2px 12px 2px 0', verticalAlign: 'top' }}>{value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * The action list as a data table (header cells, not layout), plain markup
 * both mail clients and browsers draw the same. A result column appears once
 * any line has an outcome: the follow-up email.
 */
export function ActionTable({ actions, palette }: { readonly actions: readonly EmailActionLine[]; readonly palette: Palette }) {
  if (actions.length === 0) return null;
  const withOutcome = actions.some((action) => action.outcome !== undefined);
  const headerCell: CSSProperties = {
    backgroundColor: palette.tableHeader,
    color: palette.tableHeaderText,
    fontSize: '13px',
    fontWeight: 600,
    textAlign: 'left',
    padding: '10px 12px',
  };
  const cell: CSSProperties = { color: palette.text, fontSize: '14px', lineHeight: '20px', padding: '10px 12px', borderBottom: `1px solid ${palette.background}`, verticalAlign: 'top' };
  return (
    <table width="100%" cellPadding={0} cellSpacing={0} border={0} data-text-format="dataTable" style={{ width: '100%', borderCollapse: 'collapse', margin: '8px 0 24px' }}>
      <thead>
        <tr>
          <th scope="col" style={headerCell}>
            {LABELS.change}
          </th>
          {withOutcome ? (
            <th scope="col" style={headerCell}>
              {LABELS.result}
            </th>
          ) : null}
        </tr>
      </thead>
      <tbody>
        {actions.map((action, index) => (
          <tr key={index}>
            <td style={cell}>{action.title}</td>
            {withOutcome ? <td style={cell}>{action.outcome ? <OutcomeBadge action={action} /> : null}</td> : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function OutcomeBadge({ action }: { readonly action: EmailActionLine }) {
  if (!action.outcome) return null;
  const badge = OUTCOME_BADGES[action.outcome];
  return (
    <span style={{ display: 'inline-block', backgroundColor: badge.fill, color: badge.text, borderRadius: '4px', padding: '2px 8px', fontSize: '13px', lineHeight: '20px' }}>
      <span aria-hidden="true">{badge.icon} </span>
      {action.outcomeText ?? badge.word}
    </span>
  );
}
