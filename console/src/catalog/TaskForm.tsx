import { useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { useId, useRef, useState, type ReactNode, type SubmitEvent } from 'react';
import { api, data } from '../api/client.js';
import { Field, FormRefusal, SaveProblems, useCatalogSave, type ControlProps } from './CatalogForm.js';
import { parametersText, TASK_FIELDS, taskFrom } from './form.js';
import type { MaintenanceTask } from './words.js';

/**
 * Create or edit a maintenance task: name and platform as fields, its
 * scripts (one combined, or test / get / set), and its typed parameters as
 * JSON, the one shape too varied for fixed fields. A secret parameter is
 * declared here like any other; its values live on deployments, never here.
 */

type FieldName = (typeof TASK_FIELDS)[number];

/** `revision`: the stored task's, which the form edits; none for a new one. */
export function TaskForm({ base, revision, onReload }: { readonly base: MaintenanceTask; readonly revision?: number; readonly onReload: () => void }) {
  const editing = revision !== undefined;
  const id = useId();
  const form = useRef<HTMLFormElement>(null);
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [style, setStyle] = useState<string>(base.scripts.style);
  const saving = useCatalogSave<MaintenanceTask>({
    what: 'maintenance task',
    revision,
    create: (task) => data(api.POST('/v1/tasks', { body: task })),
    change: (task, expectedRevision) => data(api.PUT('/v1/tasks/{taskId}', { params: { path: { taskId: task.id } }, body: { ...task, expectedRevision } })),
    names: TASK_FIELDS,
    form,
    onSaved: async (saved) => {
      await queryClient.invalidateQueries({ queryKey: ['tasks'] });
      await navigate({ to: '/tasks/$taskId', params: { taskId: saved.id } });
    },
  });
  const submit = (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (form.current === null) return;
    const read = taskFrom(new FormData(form.current), base, editing);
    if ('problem' in read) saving.refuse(new FormRefusal([read.problem]));
    else saving.save(read.task);
  };
  const field = (name: FieldName, label: string, control: (props: ControlProps) => ReactNode, hint?: string) => (
    <Field key={name} id={`${id}-${name}`} name={name} label={label} problem={saving.problemOf(name)} hint={hint}>
      {control}
    </Field>
  );
  const scripts = base.scripts;
  const scriptBox = (name: FieldName, label: string, value: string | undefined, hint?: string) =>
    field(name, label, (props) => <textarea {...props} className="script" rows={6} spellCheck={false} defaultValue={value ?? ''} />, hint);
  const problemShown = saving.conflict || saving.unplaced !== undefined;

  return (
    <form ref={form} onSubmit={submit} className="schedule-form catalog-form" noValidate aria-describedby={problemShown ? `${id}-problem` : undefined}>
      <SaveProblems id={`${id}-problem`} what="maintenance task" conflict={saving.conflict} unplaced={saving.unplaced} onReload={onReload} />
      <fieldset>
        <legend>What</legend>
        {editing ? null : field('id', 'Id', (props) => <input {...props} type="text" spellCheck={false} defaultValue={base.id} />, 'Letters, digits, ".", "_" and "-"; it cannot change later')}
        {field('name', 'Name', (props) => <input {...props} type="text" defaultValue={base.name} />)}
        {field('platform', 'Platform', (props) => (
          <select {...props} defaultValue={base.platform}>
            <option value="windows">Windows</option>
            <option value="linux">Linux</option>
          </select>
        ))}
      </fieldset>
      <fieldset>
        <legend>Scripts</legend>
        {field('scripts.style', 'Scripts', (props) => (
          <select {...props} defaultValue={scripts.style} onChange={(event) => { setStyle(event.currentTarget.value); }}>
            <option value="Combined">One script, told its method in NIGHTSHIFT_TASK_METHOD</option>
            <option value="Separate">Separate test, get and set scripts</option>
          </select>
        ))}
        {style === 'Combined' ? (
          scriptBox('scripts.script', 'Script', scripts.style === 'Combined' ? scripts.script : '', 'test exits 0 when compliant and 1 when not; get prints the value; set makes it compliant')
        ) : (
          <>
            {scriptBox('scripts.test', 'Test script', scripts.style === 'Separate' ? scripts.test : '', 'Exits 0 when compliant, 1 when not; anything else means it could not tell')}
            {scriptBox('scripts.get', 'Get script', scripts.style === 'Separate' ? scripts.get : '', 'Optional: prints the current value (for Monitor)')}
            {scriptBox('scripts.set', 'Set script', scripts.style === 'Separate' ? scripts.set : '', 'Optional: without one the task can be audited or monitored, not enforced')}
          </>
        )}
      </fieldset>
      <fieldset>
        <legend>Parameters</legend>
        {field(
          'parameters',
          'Parameters (JSON)',
          (props) => <textarea {...props} rows={10} spellCheck={false} defaultValue={parametersText(base.parameters)} />,
          'A list of {"name", "type": string | number | boolean | enum | secret, "required", "default"}, with "pattern" (string), "min"/"max" (number) or "values" (enum). A secret has no default: deployments give its value, which is never shown again.',
        )}
      </fieldset>
      <div className="filter-buttons">
        <button type="submit" disabled={saving.saving}>
          {editing ? 'Save changes' : 'Create task'}
        </button>
      </div>
    </form>
  );
}
