import { useMutation } from '@tanstack/react-query';
import { useState, type RefObject } from 'react';
import { ApiError } from '../api/client.js';
import { Problem } from '../components/Problem.js';
import { fieldProblemsOf } from '../schedules/form.js';
import { inputNameFor, type FieldProblem } from './form.js';

/**
 * What the software, task and deployment forms share: the labelled input
 * (components/Field.tsx) and the save. A create goes to the API's create
 * route, which refuses an id that is taken; a change names the revision the
 * form was opened on, and the API refuses it when someone else saved the
 * entity since.
 */

export { Field, type ControlProps } from '../components/Field.js';

/** A refusal the form makes itself, before asking the API (an id already taken, parameters that are not JSON). */
export class FormRefusal extends Error {
  override readonly name = 'FormRefusal';
  constructor(readonly problems: readonly FieldProblem[]) {
    super(problems.map((problem) => `${problem.field}: ${problem.problem}`).join('; '));
  }
}

export interface CatalogSaveOptions<T extends { readonly id: string }> {
  /** "software", "maintenance task", "deployment": for the messages. */
  readonly what: string;
  /** The revision of the entity the form was opened on; undefined when the form creates one. */
  readonly revision: number | undefined;
  /** The API's create (409 when the id is taken). */
  readonly create: (entity: T) => Promise<{ readonly id: string }>;
  /** The API's change at the revision the form was opened on (409 when it has moved on). */
  readonly change: (entity: T, expectedRevision: number) => Promise<{ readonly id: string }>;
  /** The form's inputs, in order: the first with a problem takes the focus. */
  readonly names: readonly string[];
  readonly form: RefObject<HTMLFormElement | null>;
  readonly onSaved: (saved: { readonly id: string }) => Promise<void>;
}

function focusInput(form: HTMLFormElement | null, name: string): void {
  const found = form?.elements.namedItem(name);
  // a group of boxes (device classes) is a list: the first of them
  const element = found instanceof RadioNodeList ? found[0] : found;
  if (element instanceof HTMLElement) element.focus();
}

/**
 * The save of a catalog form. A change carries the revision the form read:
 * the API refuses it (409) when someone else saved the entity since, and
 * the form says so and offers a reload rather than overwriting their change.
 * A create's 409 is its id, taken, shown on the id field.
 */
export function useCatalogSave<T extends { readonly id: string }>({ what, revision, create, change, names, form, onSaved }: CatalogSaveOptions<T>) {
  // each input's problem, by input name, from the last refusal
  const [problems, setProblems] = useState<ReadonlyMap<string, string>>(new Map());
  const [unplaced, setUnplaced] = useState<unknown>();
  const [conflict, setConflict] = useState(false);

  const showProblem = (error: unknown) => {
    if (error instanceof ApiError && error.code === 'CONFLICT') {
      setConflict(true);
      return;
    }
    const found = error instanceof FormRefusal ? error.problems : error instanceof ApiError && error.code === 'VALIDATION_FAILED' ? fieldProblemsOf(error.message, error.field) : undefined;
    if (found === undefined) {
      setUnplaced(error);
      return;
    }
    const placed = new Map<string, string>();
    const left: string[] = [];
    for (const { field, problem } of found) {
      const name = inputNameFor(field, names);
      if (name === undefined) left.push(`${field}: ${problem}`);
      else placed.set(name, placed.has(name) ? `${placed.get(name) ?? ''}; ${problem}` : problem);
    }
    setProblems(placed);
    setUnplaced(left.length === 0 ? undefined : new Error(left.join('; ')));
    const first = names.find((name) => placed.has(name));
    // the first field at fault takes the focus, so the keyboard and a screen reader land on it
    if (first !== undefined) requestAnimationFrame(() => { focusInput(form.current, first); });
  };

  const save = useMutation({
    mutationFn: async (entity: T): Promise<{ readonly id: string }> => {
      if (revision !== undefined) return change(entity, revision);
      if (entity.id === '') throw new FormRefusal([{ field: 'body.id', problem: 'must not be empty' }]);
      try {
        return await create(entity);
      } catch (error) {
        if (error instanceof ApiError && error.code === 'CONFLICT') {
          throw new FormRefusal([{ field: 'body.id', problem: `is taken: a ${what} ${entity.id} exists already; choose another id, or edit that one` }]);
        }
        throw error;
      }
    },
    onMutate: () => {
      setProblems(new Map());
      setUnplaced(undefined);
      setConflict(false);
    },
    onError: showProblem,
    onSuccess: onSaved,
  });

  return {
    save: (entity: T) => { save.mutate(entity); },
    refuse: (refusal: FormRefusal) => {
      setConflict(false);
      showProblem(refusal);
    },
    saving: save.isPending,
    problemOf: (name: string) => problems.get(name),
    unplaced,
    conflict,
  };
}

/** What stopped the last save: someone else's change (with a reload), or the API's words that fit no input. */
export function SaveProblems({ what, conflict, unplaced, onReload, id }: { readonly what: string; readonly conflict: boolean; readonly unplaced: unknown; readonly onReload: () => void; readonly id: string }) {
  return (
    <div id={id}>
      {conflict ? (
        <div role="alert" className="problem conflict">
          <p>
            <strong>Someone else changed this {what}</strong> since you opened it, so nothing was saved. Reload it to see their change; your edits here will be lost.
          </p>
          <button type="button" onClick={onReload}>
            Reload
          </button>
        </div>
      ) : null}
      {unplaced === undefined ? null : <Problem error={unplaced} title={`The ${what} was not saved`} />}
    </div>
  );
}
