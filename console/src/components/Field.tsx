import type { ReactNode } from 'react';

/**
 * One labelled form input with its hint and the API's problem with it: the
 * problem is announced (role="alert") and tied to the input by
 * aria-describedby, and the input is marked invalid. Every form of the
 * console (schedules, catalog, branding) lays its inputs out with it.
 */

/** What the input itself is given: its id and name, and its invalid and described-by state. */
export interface ControlProps {
  readonly id: string;
  readonly name: string;
  readonly 'aria-invalid': boolean | undefined;
  readonly 'aria-describedby': string | undefined;
}

/** The ids that describe an input: its hint's and its problem's, when it has them. */
export const describedBy = (id: string, hint: boolean, problem: boolean): string | undefined => {
  const ids = [hint ? `${id}-hint` : undefined, problem ? `${id}-problem` : undefined].filter((part) => part !== undefined);
  return ids.length === 0 ? undefined : ids.join(' ');
};

export function Field({
  id,
  name,
  label,
  problem,
  hint,
  problemAfter = ' ',
  children,
}: {
  readonly id: string;
  readonly name: string;
  readonly label: string;
  readonly problem: string | undefined;
  readonly hint?: string | undefined;
  /** What joins the label and the problem in the problem's line: a space where the problem reads on from the label ("Time zone is not …"), ": " where it stands alone. */
  readonly problemAfter?: ' ' | ': ';
  readonly children: (props: ControlProps) => ReactNode;
}) {
  return (
    <div className={`field${problem === undefined ? '' : ' field-invalid'}`}>
      <label htmlFor={id}>{label}</label>
      {children({ id, name, 'aria-invalid': problem === undefined ? undefined : true, 'aria-describedby': describedBy(id, hint !== undefined, problem !== undefined) })}
      {hint === undefined ? null : (
        <small id={`${id}-hint`} className="hint">
          {hint}
        </small>
      )}
      {problem === undefined ? null : (
        <p id={`${id}-problem`} className="field-problem" role="alert">
          {label}
          {problemAfter}
          {problem}
        </p>
      )}
    </div>
  );
}
