import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate } from '@tanstack/react-router';
import { useId, useRef, useState, type ReactNode, type SubmitEvent } from 'react';
import { api, ApiError, data } from '../api/client.js';
import { useDebounced } from '../branding/use-debounced.js';
import { tenantsQuery } from '../sessions/queries.js';
import { Field, SaveProblems, useCatalogSave, type ControlProps } from './CatalogForm.js';
import { deploymentFieldNames, deploymentFrom, parameterInputName, removeSecretInputName } from './form.js';
import { softwarePickerQuery, taskPickerQuery, taskQuery } from './queries.js';
import {
  DESIRED_STATE_LABELS,
  DESIRED_STATES,
  DEVICE_CLASS_WORDS,
  DEVICE_CLASSES,
  needsVersion,
  ORDERING_HINTS,
  ORDERING_LABELS,
  parameterDefaultWords,
  parameterRuleWords,
  SECRET_MARKER,
  TARGET_KIND_LABELS,
  TARGET_KINDS,
  TASK_MODE_LABELS,
  TASK_MODES,
  type Deployment,
  type MaintenanceTask,
  type TaskParameter,
} from './words.js';

/**
 * Create or edit a deployment: the item (software or task) and what it
 * should be, the computers it targets, and for a task its parameter values,
 * one input per parameter of the task's own definition. A secret's value is
 * never shown: an empty box keeps the stored one. The API judges the rest
 * (an unknown item, a version the desired state does not take, a value of
 * the wrong type) and its refusals are shown on the fields they name.
 */

/** How long the item box stays still before the task it names is looked up (its parameters make the form). */
const LOOKUP_DELAY_MS = 300;
const ENTITY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const initialItemId = (deployment: Deployment): string => (deployment.itemKind === 'Task' ? deployment.taskId : deployment.softwareId);

/** `revision`: the stored deployment's, which the form edits; none for a new one. */
export function DeploymentForm({ base, revision, onReload }: { readonly base: Deployment; readonly revision?: number; readonly onReload: () => void }) {
  const editing = revision !== undefined;
  const id = useId();
  const form = useRef<HTMLFormElement>(null);
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const tenants = useQuery(tenantsQuery);
  const [itemKind, setItemKind] = useState<string>(base.itemKind);
  const [itemId, setItemId] = useState(initialItemId(base));
  const [targetKind, setTargetKind] = useState<string>(base.target.kind);
  // held here, not by the select: its options arrive after it is drawn, and an uncontrolled select would lose the stored one
  const [tenantId, setTenantId] = useState((base.target.kind === 'Tenant' || base.target.kind === 'Tag' ? base.target.tenantId : undefined) ?? '');
  const [desiredState, setDesiredState] = useState<string>(base.itemKind === 'Software' ? base.desiredState : 'LatestVersion');
  const software = useQuery({ ...softwarePickerQuery, enabled: itemKind === 'Software' });
  const tasks = useQuery({ ...taskPickerQuery, enabled: itemKind === 'Task' });
  const lookupId = useDebounced(itemId.trim(), LOOKUP_DELAY_MS);
  const task = useQuery({ ...taskQuery(lookupId), enabled: itemKind === 'Task' && ENTITY_ID.test(lookupId) });
  const definition = itemKind === 'Task' && task.data?.id === itemId.trim() ? task.data : undefined;
  const saving = useCatalogSave<Deployment>({
    what: 'deployment',
    revision,
    create: (deployment) => data(api.POST('/v1/deployments', { body: deployment })),
    change: (deployment, expectedRevision) => data(api.PUT('/v1/deployments/{deploymentId}', { params: { path: { deploymentId: deployment.id } }, body: { ...deployment, expectedRevision } })),
    names: deploymentFieldNames(definition),
    form,
    onSaved: async (saved) => {
      await queryClient.invalidateQueries({ queryKey: ['deployments'] });
      await navigate({ to: '/deployments/$deploymentId', params: { deploymentId: saved.id } });
    },
  });
  const submit = (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (form.current !== null) saving.save(deploymentFrom(new FormData(form.current), base, editing, definition));
  };
  const field = (name: string, label: string, control: (props: ControlProps) => ReactNode, hint?: string) => (
    <Field key={name} id={`${id}-${name}`} name={name} label={label} problem={saving.problemOf(name)} hint={hint}>
      {control}
    </Field>
  );
  const check = (name: string, label: string, defaultChecked: boolean, hint?: string) => field(name, label, (props) => <input {...props} type="checkbox" defaultChecked={defaultChecked} />, hint);
  const target = base.target;
  const tenantOptions = (tenants.data?.items ?? []).map((tenant) => (
    <option key={tenant.id} value={tenant.id}>
      {tenant.name}
    </option>
  ));
  // a tenant the list does not hold (not read yet, or more than a page of them) still shows as itself
  const unlistedTenant = tenantId !== '' && !(tenants.data?.items ?? []).some((tenant) => tenant.id === tenantId) ? <option value={tenantId}>{tenantId}</option> : null;
  const pickerId = `${id}-items`;
  const pickerItems = (itemKind === 'Task' ? tasks.data?.items : software.data?.items) ?? [];
  const taskMissing = itemKind === 'Task' && task.error instanceof ApiError && task.error.status === 404 && lookupId === itemId.trim();
  const problemShown = saving.conflict || saving.unplaced !== undefined;

  return (
    <form ref={form} onSubmit={submit} className="schedule-form catalog-form" noValidate aria-describedby={problemShown ? `${id}-problem` : undefined}>
      <SaveProblems id={`${id}-problem`} what="deployment" conflict={saving.conflict} unplaced={saving.unplaced} onReload={onReload} />
      <fieldset>
        <legend>What</legend>
        {editing ? null : field('id', 'Id', (props) => <input {...props} type="text" spellCheck={false} defaultValue={base.id} />, 'Letters, digits, ".", "_" and "-", e.g. chrome-acme; it cannot change later')}
        {field('itemKind', 'Deploys', (props) => (
          <select {...props} defaultValue={base.itemKind} onChange={(event) => { setItemKind(event.currentTarget.value); }}>
            <option value="Software">Software</option>
            <option value="Task">A maintenance task</option>
          </select>
        ))}
        {field(
          itemKind === 'Task' ? 'taskId' : 'softwareId',
          itemKind === 'Task' ? 'Task' : 'Software',
          (props) => <input {...props} type="text" spellCheck={false} list={pickerId} value={itemId} onChange={(event) => { setItemId(event.currentTarget.value); }} />,
          taskMissing ? `There is no task ${itemId.trim()}.` : `The ${itemKind === 'Task' ? "task's" : "software's"} id; the catalog's are offered as you type`,
        )}
        <datalist id={pickerId}>
          {pickerItems.map((item) => (
            <option key={item.id} value={item.id}>
              {item.name}
            </option>
          ))}
        </datalist>
        {itemKind === 'Task'
          ? field('mode', 'Mode', (props) => (
              <select {...props} defaultValue={base.itemKind === 'Task' ? base.mode : 'Enforce'}>
                {TASK_MODES.map((mode) => (
                  <option key={mode} value={mode}>
                    {TASK_MODE_LABELS[mode]}
                  </option>
                ))}
              </select>
            ))
          : field('desiredState', 'Desired state', (props) => (
              <select {...props} defaultValue={desiredState} onChange={(event) => { setDesiredState(event.currentTarget.value); }}>
                {DESIRED_STATES.map((state) => (
                  <option key={state} value={state}>
                    {DESIRED_STATE_LABELS[state]}
                  </option>
                ))}
              </select>
            ))}
        {itemKind === 'Software' && needsVersion(desiredState)
          ? field('version', 'Version', (props) => <input {...props} type="text" spellCheck={false} defaultValue={base.itemKind === 'Software' ? (base.version ?? '') : ''} />, 'e.g. 1.2.3, 23.01 or 124.0.6367.91')
          : null}
      </fieldset>
      <fieldset>
        <legend>Target</legend>
        {field('target.kind', 'Targets', (props) => (
          <select {...props} defaultValue={target.kind} onChange={(event) => { setTargetKind(event.currentTarget.value); }}>
            {TARGET_KINDS.map((kind) => (
              <option key={kind} value={kind}>
                {TARGET_KIND_LABELS[kind]}
              </option>
            ))}
          </select>
        ))}
        {targetKind === 'Tenant' || targetKind === 'Tag'
          ? field('target.tenantId', 'Tenant', (props) => (
              <select {...props} value={tenantId} onChange={(event) => { setTenantId(event.currentTarget.value); }}>
                {targetKind === 'Tag' ? <option value="">Every tenant</option> : <option value="">Choose a tenant</option>}
                {tenantOptions}
                {unlistedTenant}
              </select>
            ))
          : null}
        {targetKind === 'Tenant' ? check('target.includeChildTenants', 'Its child tenants too', target.kind === 'Tenant' && target.includeChildTenants) : null}
        {targetKind === 'Tag' ? field('target.tag', 'Tag', (props) => <input {...props} type="text" spellCheck={false} defaultValue={target.kind === 'Tag' ? target.tag : ''} />) : null}
        {targetKind === 'Computer'
          ? field('target.computerId', 'Computer id', (props) => <input {...props} type="text" spellCheck={false} defaultValue={target.kind === 'Computer' ? target.computerId : ''} />)
          : null}
        {target.kind === 'Computer' && targetKind === 'Computer' ? (
          <p className="hint">
            Now: <Link to="/computers/$computerId" params={{ computerId: target.computerId }}>computer {target.computerId}</Link>
          </p>
        ) : null}
        {targetKind === 'Person' ? field('target.email', 'Email of the person', (props) => <input {...props} type="email" defaultValue={target.kind === 'Person' ? target.email : ''} />, 'Their computers: those whose primary user this is') : null}
        <DeviceClasses id={`${id}-deviceClasses`} stored={base.deviceClasses} problem={saving.problemOf('deviceClasses')} />
      </fieldset>
      {itemKind === 'Task' ? (
        <fieldset>
          <legend>Parameters</legend>
          {definition === undefined ? (
            <p className="hint">{taskMissing ? 'Name an existing task to set its parameters.' : task.isFetching ? 'Reading the task’s parameters…' : 'The task’s parameters appear here once it is named.'}</p>
          ) : definition.parameters.length === 0 ? (
            <p className="hint">The task takes no parameters.</p>
          ) : (
            // a new task is a new set of inputs, not the last one's values under new names
            <div key={definition.id} className="parameters">
              {definition.parameters.map((parameter) => (
                <ParameterInput key={parameter.name} id={`${id}-parameter-${parameter.name}`} parameter={parameter} stored={storedValue(base, definition, parameter.name)} problem={saving.problemOf(parameterInputName(parameter.name))} />
              ))}
            </div>
          )}
        </fieldset>
      ) : null}
      <fieldset>
        <legend>How</legend>
        {check('enabled', 'Enabled', base.enabled, 'A disabled deployment never wins: the computers it targets get what the next one says')}
        {check('critical', 'Critical', base.critical, 'Its failure fails the session; otherwise the session is partly passed')}
        {field('orderingHint', 'Order in a session', (props) => (
          <select {...props} defaultValue={base.orderingHint}>
            {ORDERING_HINTS.map((hint) => (
              <option key={hint} value={hint}>
                {ORDERING_LABELS[hint]}
              </option>
            ))}
          </select>
        ))}
      </fieldset>
      <div className="filter-buttons">
        <button type="submit" disabled={saving.saving}>
          {editing ? 'Save changes' : 'Create deployment'}
        </button>
      </div>
    </form>
  );
}

/** The stored value of a parameter, when the deployment as read deploys this same task. */
function storedValue(base: Deployment, task: MaintenanceTask, name: string): string | number | boolean | undefined {
  if (base.itemKind !== 'Task' || base.taskId !== task.id || !Object.hasOwn(base.parameters, name)) return undefined;
  return base.parameters[name];
}

/** None ticked: every class (the API's "leave it out"). */
function DeviceClasses({ id, stored, problem }: { readonly id: string; readonly stored: Deployment['deviceClasses']; readonly problem: string | undefined }) {
  return (
    <fieldset className={`checks${problem === undefined ? '' : ' field-invalid'}`} aria-describedby={`${id}-hint${problem === undefined ? '' : ` ${id}-problem`}`}>
      <legend>Device classes</legend>
      {DEVICE_CLASSES.map((deviceClass) => (
        <label key={deviceClass}>
          <input type="checkbox" name="deviceClasses" value={deviceClass} defaultChecked={stored?.includes(deviceClass) ?? false} aria-invalid={problem === undefined ? undefined : true} />
          {DEVICE_CLASS_WORDS[deviceClass]}
        </label>
      ))}
      <small id={`${id}-hint`} className="hint">
        None ticked: every class
      </small>
      {problem === undefined ? null : (
        <p id={`${id}-problem`} className="field-problem" role="alert">
          Device classes {problem}
        </p>
      )}
    </fieldset>
  );
}

function parameterHint(parameter: TaskParameter): string {
  const rule = parameterRuleWords(parameter);
  const fallback = parameterDefaultWords(parameter);
  return [parameter.required === true ? 'Required' : 'Optional', rule === '' ? undefined : rule, fallback === '—' ? undefined : `default ${fallback}`].filter((part) => part !== undefined).join('; ');
}

/** One parameter's value, by its type. A secret is a password box that is never filled in: its value is not the console's to show. */
function ParameterInput({ id, parameter, stored, problem }: { readonly id: string; readonly parameter: TaskParameter; readonly stored: string | number | boolean | undefined; readonly problem: string | undefined }) {
  const name = parameterInputName(parameter.name);
  const shown = stored === undefined ? '' : String(stored);
  switch (parameter.type) {
    case 'secret': {
      const isStored = stored === SECRET_MARKER;
      return (
        <>
          <Field id={id} name={name} label={`${parameter.name} (secret)`} problem={problem} hint={`${parameterHint(parameter)}. ${isStored ? 'A value is stored and never shown; leave this empty to keep it, or type a new one.' : 'No value is stored.'}`}>
            {(props) => <input {...props} type="password" autoComplete="new-password" defaultValue="" placeholder={isStored ? 'stored (hidden)' : ''} />}
          </Field>
          {isStored ? (
            <div className="field">
              <label>
                <input type="checkbox" name={removeSecretInputName(parameter.name)} /> Remove the stored {parameter.name}
              </label>
            </div>
          ) : null}
        </>
      );
    }
    case 'boolean':
      return (
        <Field id={id} name={name} label={parameter.name} problem={problem} hint={parameterHint(parameter)}>
          {(props) => (
            <select {...props} defaultValue={shown}>
              <option value="">Not set</option>
              <option value="true">Yes</option>
              <option value="false">No</option>
            </select>
          )}
        </Field>
      );
    case 'enum':
      return (
        <Field id={id} name={name} label={parameter.name} problem={problem} hint={parameterHint(parameter)}>
          {(props) => (
            <select {...props} defaultValue={shown}>
              <option value="">Not set</option>
              {parameter.values.map((value) => (
                <option key={value} value={value}>
                  {value}
                </option>
              ))}
              {shown !== '' && !parameter.values.includes(shown) ? <option value={shown}>{shown}</option> : null}
            </select>
          )}
        </Field>
      );
    default:
      return (
        <Field id={id} name={name} label={parameter.name} problem={problem} hint={parameterHint(parameter)}>
          {(props) => <input {...props} type="text" inputMode={parameter.type === 'number' ? 'decimal' : undefined} spellCheck={false} defaultValue={shown} />}
        </Field>
      );
  }
}
