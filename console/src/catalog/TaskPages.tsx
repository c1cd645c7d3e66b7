import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { getRouteApi, Link, useNavigate } from '@tanstack/react-router';
import { useState, type ReactNode } from 'react';
import { usePageTitle } from '../app/page-title.js';
import { useMay } from '../auth/me.js';
import { DataTable, type TableFeatureSet } from '../components/DataTable.js';
import { Pager } from '../components/Pager.js';
import { Problem } from '../components/Problem.js';
import { api, data } from '../api/client.js';
import { DeleteEntity } from './DeleteEntity.js';
import { Facts, ScriptView } from './Facts.js';
import { NEW_TASK } from './form.js';
import { taskListQuery, taskQuery } from './queries.js';
import { TaskForm } from './TaskForm.js';
import { PARAMETER_TYPE_WORDS, parameterDefaultWords, parameterRuleWords, PLATFORM_WORDS, scriptsWords, type MaintenanceTask, type TaskParameter } from './words.js';
import './catalog.css';

/**
 * The maintenance task catalog: every task a page at a time, one task with
 * its scripts and typed parameters (a secret one says so; its values are on
 * deployments, in the secret store), and for an MSP admin its form.
 */

/** A parameter's name, marked when it is a secret. */
function ParameterName({ parameter }: { readonly parameter: TaskParameter }) {
  return (
    <>
      {parameter.name}
      {parameter.type === 'secret' ? (
        <>
          {' '}
          <span className="badge tone-warn">secret</span>
        </>
      ) : null}
    </>
  );
}

const helper = createColumnHelper<TableFeatureSet, MaintenanceTask>();
const COLUMNS = helper.columns([
  helper.accessor('name', { header: 'Name', cell: (info) => <Link to="/tasks/$taskId" params={{ taskId: info.row.original.id }}>{info.getValue()}</Link> }),
  helper.accessor('id', { header: 'Id' }),
  helper.accessor('platform', { header: 'Platform', cell: (info) => PLATFORM_WORDS[info.getValue()] }),
  helper.accessor('scripts', { header: 'Scripts', cell: (info) => scriptsWords(info.getValue()) }),
  helper.accessor('parameters', {
    header: 'Parameters',
    cell: (info) =>
      info.getValue().length === 0 ? (
        '—'
      ) : (
        <span className="parameter-names">
          {info.getValue().map((parameter) => (
            <span key={parameter.name}>
              <ParameterName parameter={parameter} />
            </span>
          ))}
        </span>
      ),
  }),
]);

export function TaskListPage() {
  usePageTitle('Maintenance tasks');
  const mayEdit = useMay('editCatalog');
  const [cursors, setCursors] = useState<readonly string[]>([]);
  const list = useQuery(taskListQuery(cursors.at(-1)));
  return (
    <>
      <div className="page-heading">
        <h1>Maintenance tasks</h1>
        {mayEdit ? (
          <Link to="/tasks/new" className="button-link">
            New task
          </Link>
        ) : null}
      </div>
      {list.error ? <Problem error={list.error} title="The tasks could not be listed" /> : null}
      <DataTable caption={`Maintenance tasks, by id (page ${cursors.length + 1})`} columns={COLUMNS} data={list.data?.items ?? []} rowId={(task) => task.id} busy={list.isFetching} empty={list.isPending ? 'Loading…' : 'No maintenance tasks yet.'} />
      <Pager label="Pages of maintenance tasks" cursors={cursors} setCursors={setCursors} nextCursor={list.data?.nextCursor} waiting={list.isPlaceholderData} />
    </>
  );
}

const parameterHelper = createColumnHelper<TableFeatureSet, TaskParameter>();
const PARAMETER_COLUMNS = parameterHelper.columns([
  parameterHelper.accessor('name', { header: 'Name', cell: (info) => <ParameterName parameter={info.row.original} /> }),
  parameterHelper.accessor('type', { header: 'Type', cell: (info) => PARAMETER_TYPE_WORDS[info.getValue()] }),
  parameterHelper.accessor('required', { header: 'Required', cell: (info) => (info.getValue() === true ? 'Yes' : 'No') }),
  parameterHelper.display({ id: 'default', header: 'Default', cell: (info) => parameterDefaultWords(info.row.original) }),
  parameterHelper.display({ id: 'rule', header: 'Rule', cell: (info) => parameterRuleWords(info.row.original) || '—' }),
]);

const route = getRouteApi('/tasks/$taskId');

export function TaskPage() {
  const { taskId } = route.useParams();
  const mayEdit = useMay('editCatalog');
  const task = useQuery(taskQuery(taskId));
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  usePageTitle(task.data?.name ?? `Task ${taskId}`);
  if (task.error) {
    return (
      <>
        <h1>Task {taskId}</h1>
        <Problem error={task.error} title="The task could not be read" />
        <p>
          <Link to="/tasks">All maintenance tasks</Link>
        </p>
      </>
    );
  }
  if (task.data === undefined) return <p aria-busy="true">Loading task {taskId}…</p>;
  const item = task.data;
  const scripts = item.scripts;
  const facts: [string, ReactNode][] = [
    ['Task', item.id],
    ['Platform', PLATFORM_WORDS[item.platform]],
    ['Scripts', scriptsWords(scripts)],
    ['Enforceable', scripts.style === 'Separate' && scripts.set === undefined ? 'No: no set script (audit or monitor only)' : 'Yes'],
  ];
  const hasSecret = item.parameters.some((parameter) => parameter.type === 'secret');
  return (
    <>
      <p className="breadcrumb">
        <Link to="/tasks">Maintenance tasks</Link> / {taskId}
      </p>
      <h1>{item.name}</h1>
      <Facts facts={facts} />
      {mayEdit ? (
        <section className="controls" aria-label="Task requests">
          <Link to="/tasks/$taskId/edit" params={{ taskId }} className="button-link">
            Edit
          </Link>
          <DeleteEntity
            what="maintenance task"
            id={taskId}
            explanation={`${item.name} leaves the catalog; its history stays. It is refused while a deployment runs it.`}
            remove={() => data(api.DELETE('/v1/tasks/{taskId}', { params: { path: { taskId }, query: { expectedRevision: item.revision } } }))}
            onDeleted={async () => {
              // gone: nothing may read it again on the way out
              queryClient.removeQueries({ queryKey: taskQuery(taskId).queryKey });
              await queryClient.invalidateQueries({ queryKey: ['tasks'] });
              await navigate({ to: '/tasks' });
            }}
          />
        </section>
      ) : null}
      <section aria-labelledby="parameters-title">
        <h2 id="parameters-title">Parameters</h2>
        {hasSecret ? <p className="secret-note">A secret parameter’s values are set on each deployment and kept in the secret store; no page shows them.</p> : null}
        <DataTable caption="The task's parameters" columns={PARAMETER_COLUMNS} data={item.parameters} rowId={(parameter) => parameter.name} empty="It takes no parameters." />
      </section>
      <section aria-labelledby="scripts-title">
        <h2 id="scripts-title">Scripts</h2>
        {scripts.style === 'Combined' ? (
          <ScriptView label="Script" script={scripts.script} />
        ) : (
          <>
            <ScriptView label="Test script" script={scripts.test} />
            {scripts.get === undefined ? null : <ScriptView label="Get script" script={scripts.get} />}
            {scripts.set === undefined ? null : <ScriptView label="Set script" script={scripts.set} />}
          </>
        )}
      </section>
    </>
  );
}

export function NewTaskPage() {
  usePageTitle('New maintenance task');
  const mayEdit = useMay('editCatalog');
  return (
    <>
      <p className="breadcrumb">
        <Link to="/tasks">Maintenance tasks</Link> / new
      </p>
      <h1>New maintenance task</h1>
      {mayEdit ? <TaskForm base={NEW_TASK} onReload={() => undefined} /> : <p>Your role may read the task catalog, not add to it.</p>}
    </>
  );
}

const editRoute = getRouteApi('/tasks/$taskId/edit');

/** A stored task, edited as it was read: a change meanwhile is refused, not overwritten. */
export function EditTaskPage() {
  const { taskId } = editRoute.useParams();
  const mayEdit = useMay('editCatalog');
  const task = useQuery({ ...taskQuery(taskId), staleTime: Infinity, refetchOnWindowFocus: false });
  const name = task.data?.name ?? taskId;
  usePageTitle(`Edit ${name}`);
  return (
    <>
      <p className="breadcrumb">
        <Link to="/tasks">Maintenance tasks</Link> / <Link to="/tasks/$taskId" params={{ taskId }}>{name}</Link> / edit
      </p>
      <h1>Edit {name}</h1>
      {task.error ? <Problem error={task.error} title="The task could not be read" /> : null}
      {!mayEdit ? <p>Your role may read the task catalog, not change it.</p> : null}
      {mayEdit && task.data !== undefined ? <TaskForm key={task.dataUpdatedAt} base={task.data} revision={task.data.revision} onReload={() => void task.refetch()} /> : null}
    </>
  );
}
