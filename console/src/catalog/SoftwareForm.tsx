import { useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { useId, useRef, useState, type ReactNode, type SubmitEvent } from 'react';
import { api, data } from '../api/client.js';
import { Field, SaveProblems, useCatalogSave, type ControlProps } from './CatalogForm.js';
import { dependenciesText, SOFTWARE_FIELDS, softwareFrom } from './form.js';
import type { Software } from './words.js';

/**
 * Create or edit a software item: its name, platform and versions as form
 * fields, detection by its method, each script in its own box, and one
 * dependency per line. The API judges it all; its refusals are shown on the
 * fields they name.
 */

type FieldName = (typeof SOFTWARE_FIELDS)[number];

/** `revision`: the stored item's, which the form edits; none for a new one. */
export function SoftwareForm({ base, revision, onReload }: { readonly base: Software; readonly revision?: number; readonly onReload: () => void }) {
  const editing = revision !== undefined;
  const id = useId();
  const form = useRef<HTMLFormElement>(null);
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [method, setMethod] = useState<string>(base.detection.method);
  const saving = useCatalogSave<Software>({
    what: 'software',
    revision,
    create: (software) => data(api.POST('/v1/software', { body: software })),
    change: (software, expectedRevision) => data(api.PUT('/v1/software/{softwareId}', { params: { path: { softwareId: software.id } }, body: { ...software, expectedRevision } })),
    names: SOFTWARE_FIELDS,
    form,
    onSaved: async (saved) => {
      await queryClient.invalidateQueries({ queryKey: ['software'] });
      await navigate({ to: '/software/$softwareId', params: { softwareId: saved.id } });
    },
  });
  const submit = (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (form.current !== null) saving.save(softwareFrom(new FormData(form.current), base, editing));
  };
  const field = (name: FieldName, label: string, control: (props: ControlProps) => ReactNode, hint?: string) => (
    <Field key={name} id={`${id}-${name}`} name={name} label={label} problem={saving.problemOf(name)} hint={hint}>
      {control}
    </Field>
  );
  const detection = base.detection;
  const scriptBox = (name: FieldName, label: string, value: string | undefined, hint?: string) =>
    field(name, label, (props) => <textarea {...props} className="script" rows={6} spellCheck={false} defaultValue={value ?? ''} />, hint);
  const problemShown = saving.conflict || saving.unplaced !== undefined;

  return (
    <form ref={form} onSubmit={submit} className="schedule-form catalog-form" noValidate aria-describedby={problemShown ? `${id}-problem` : undefined}>
      <SaveProblems id={`${id}-problem`} what="software" conflict={saving.conflict} unplaced={saving.unplaced} onReload={onReload} />
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
        {field('latestVersion', 'Latest version', (props) => <input {...props} type="text" spellCheck={false} defaultValue={base.latestVersion} />, 'What "Latest version" deployments install, e.g. 124.0.6367.91')}
        {field('versions', 'Known versions', (props) => <input {...props} type="text" spellCheck={false} defaultValue={base.versions.join(', ')} />, 'Separated by commas; optional')}
      </fieldset>
      <fieldset>
        <legend>Detection</legend>
        {field('detection.method', 'Detected by', (props) => (
          <select {...props} defaultValue={detection.method} onChange={(event) => { setMethod(event.currentTarget.value); }}>
            <option value="DisplayName">Display name of the installed program</option>
            <option value="PackageName">Package name (dpkg/rpm, or MSI product code)</option>
            <option value="Script">A script that prints the installed version</option>
          </select>
        ))}
        {method === 'DisplayName'
          ? field('detection.match', 'Match', (props) => (
              <select {...props} defaultValue={detection.method === 'DisplayName' ? detection.match : 'Contains'}>
                <option value="Contains">Contains the text</option>
                <option value="Regex">Matches the regular expression</option>
              </select>
            ))
          : null}
        {method === 'Script'
          ? scriptBox('detection.script', 'Detection script', detection.method === 'Script' ? detection.script : '', 'Prints the installed version, or nothing when it is absent')
          : field('detection.value', method === 'PackageName' ? 'Package name' : 'Display name', (props) => <input {...props} type="text" spellCheck={false} defaultValue={detection.method === 'Script' ? '' : detection.value} />)}
      </fieldset>
      <fieldset>
        <legend>Scripts</legend>
        {scriptBox('installScript', 'Install script', base.installScript, 'Gets the version to install in NIGHTSHIFT_VERSION')}
        {scriptBox('uninstallScript', 'Uninstall script', base.uninstallScript)}
        {scriptBox('upgradeScript', 'Upgrade script', base.upgradeScript, 'Optional: without one, the install script installs over the old version')}
        {scriptBox('testScript', 'Health check', base.testScript, 'Optional: exits 0 when the installed software works; a failure plans a reinstall')}
      </fieldset>
      <fieldset>
        <legend>Dependencies</legend>
        {field('dependencies', 'Dependencies', (props) => <textarea {...props} rows={3} spellCheck={false} defaultValue={dependenciesText(base.dependencies)} />, 'One per line: a software id, then Installed (a prerequisite) or Absent (must be removed first)')}
      </fieldset>
      <div className="filter-buttons">
        <button type="submit" disabled={saving.saving}>
          {editing ? 'Save changes' : 'Create software'}
        </button>
      </div>
    </form>
  );
}
