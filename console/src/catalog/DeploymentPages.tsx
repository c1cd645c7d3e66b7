import { useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { getRouteApi, Link, useNavigate } from '@tanstack/react-router';
import { useMemo, useState, type ReactNode } from 'react';
import { usePageTitle } from '../app/page-title.js';
import { useMay } from '../auth/me.js';
import { DataTable, type TableFeatureSet } from '../components/DataTable.js';
import { Pager } from '../components/Pager.js';
import { Problem } from '../components/Problem.js';
import { useTenantName } from '../app/use-tenant-name.js';
import { api, data } from '../api/client.js';
import { DeleteEntity } from './DeleteEntity.js';
import { DeploymentForm } from './DeploymentForm.js';
import { Facts } from './Facts.js';
import { NEW_DEPLOYMENT } from './form.js';
import { deploymentListQuery, deploymentQuery, softwareQuery, taskQuery } from './queries.js';
import { DEVICE_CLASS_WORDS, ORDERING_LABELS, SECRET_MARKER, targetWords, wantsWords, type Deployment } from './words.js';
import './catalog.css';

/**
 * Deployments: which computers get which item, and what it should be. The
 * list pages through the API's cursors; each row links to its item (for a
 * role that may read the catalog) and, for a computer target, the computer.
 * A role that may operate creates and edits them; a tenant viewer reads the
 * ones aimed at its tenants.
 */

interface Names {
  readonly tenant: (id: string) => string;
  /** The item's name, when the role may read the catalog and it has been read. */
  readonly item: (deployment: Deployment) => string | undefined;
  readonly mayReadCatalog: boolean;
}

const itemIdOf = (deployment: Deployment): string => (deployment.itemKind === 'Task' ? deployment.taskId : deployment.softwareId);

/** Each read item's name by id; at module scope, so useQueries keeps the same map while no read changes. */
const namesById = (reads: readonly { readonly data?: { readonly id: string; readonly name: string } | undefined }[]): ReadonlyMap<string, string> =>
  new Map(reads.flatMap((read) => (read.data === undefined ? [] : [[read.data.id, read.data.name] as const])));

/** The tenants' names, and the names of the items a page of deployments deploys: one read per item, shared with the item pages. */
function useNames(deployments: readonly Deployment[]): Names {
  const mayReadCatalog = useMay('readCatalog');
  const tenantName = useTenantName();
  const softwareIds = [...new Set(deployments.flatMap((d) => (d.itemKind === 'Software' ? [d.softwareId] : [])))];
  const taskIds = [...new Set(deployments.flatMap((d) => (d.itemKind === 'Task' ? [d.taskId] : [])))];
  const softwareNames = useQueries({ queries: softwareIds.map((id) => ({ ...softwareQuery(id), enabled: mayReadCatalog, staleTime: 60_000 })), combine: namesById });
  const taskNames = useQueries({ queries: taskIds.map((id) => ({ ...taskQuery(id), enabled: mayReadCatalog, staleTime: 60_000 })), combine: namesById });
  // one object while nothing it reads changes: the tables' columns are built from it
  return useMemo(
    () => ({
      tenant: tenantName,
      item: (deployment: Deployment) => (deployment.itemKind === 'Task' ? taskNames.get(deployment.taskId) : softwareNames.get(deployment.softwareId)),
      mayReadCatalog,
    }),
    [tenantName, softwareNames, taskNames, mayReadCatalog],
  );
}

/** The item, linked to its page for a role that may read the catalog; its id alone for one that may not. */
function ItemCell({ deployment, names }: { readonly deployment: Deployment; readonly names: Names }) {
  const itemId = itemIdOf(deployment);
  const name = names.item(deployment) ?? itemId;
  const kind = deployment.itemKind === 'Task' ? <span className="hint"> (task)</span> : null;
  if (!names.mayReadCatalog) {
    return (
      <>
        {itemId}
        {kind}
      </>
    );
  }
  return (
    <>
      {deployment.itemKind === 'Task' ? (
        <Link to="/tasks/$taskId" params={{ taskId: itemId }}>
          {name}
        </Link>
      ) : (
        <Link to="/software/$softwareId" params={{ softwareId: itemId }}>
          {name}
        </Link>
      )}
      {kind}
    </>
  );
}

/** The target in words; a computer target links to the computer. */
function TargetCell({ deployment, names }: { readonly deployment: Deployment; readonly names: Names }) {
  const target = deployment.target;
  if (target.kind !== 'Computer') return <>{targetWords(target, names.tenant)}</>;
  return (
    <>
      Computer{' '}
      <Link to="/computers/$computerId" params={{ computerId: target.computerId }}>
        {target.computerId}
      </Link>
    </>
  );
}

const classesWords = (deployment: Deployment): string => (deployment.deviceClasses === undefined ? 'All' : deployment.deviceClasses.map((deviceClass) => DEVICE_CLASS_WORDS[deviceClass]).join(', '));

const EnabledBadge = ({ enabled }: { readonly enabled: boolean }) => (enabled ? <span className="badge tone-good">On</span> : <span className="badge tone-neutral">Off</span>);

const helper = createColumnHelper<TableFeatureSet, Deployment>();

const columnsFor = (names: Names) =>
  helper.columns([
    helper.accessor('id', { header: 'Deployment', cell: (info) => <Link to="/deployments/$deploymentId" params={{ deploymentId: info.getValue() }}>{info.getValue()}</Link> }),
    helper.display({ id: 'item', header: 'Item', cell: (info) => <ItemCell deployment={info.row.original} names={names} /> }),
    helper.display({ id: 'wants', header: 'Desired state', cell: (info) => wantsWords(info.row.original) }),
    helper.accessor('target', { header: 'Target', cell: (info) => <TargetCell deployment={info.row.original} names={names} /> }),
    helper.display({ id: 'classes', header: 'Device classes', cell: (info) => classesWords(info.row.original) }),
    helper.accessor('enabled', { header: 'Enabled', cell: (info) => <EnabledBadge enabled={info.getValue()} /> }),
    helper.accessor('orderingHint', { header: 'Order', cell: (info) => ORDERING_LABELS[info.getValue()] }),
  ]);

export function DeploymentsPage() {
  usePageTitle('Deployments');
  const mayOperate = useMay('operate');
  const [cursors, setCursors] = useState<readonly string[]>([]);
  const list = useQuery(deploymentListQuery(cursors.at(-1)));
  const names = useNames(list.data?.items ?? []);
  // the names arrive one read at a time; the columns follow them, and only them
  const columns = useMemo(() => columnsFor(names), [names]);
  return (
    <>
      <div className="page-heading">
        <h1>Deployments</h1>
        {mayOperate ? (
          <Link to="/deployments/new" className="button-link">
            New deployment
          </Link>
        ) : null}
      </div>
      {list.error ? <Problem error={list.error} title="The deployments could not be listed" /> : null}
      <DataTable caption={`Deployments, by id (page ${cursors.length + 1})`} columns={columns} data={list.data?.items ?? []} rowId={(deployment) => deployment.id} busy={list.isFetching} empty={list.isPending ? 'Loading…' : 'No deployments yet.'} />
      <Pager label="Pages of deployments" cursors={cursors} setCursors={setCursors} nextCursor={list.data?.nextCursor} waiting={list.isPlaceholderData} />
    </>
  );
}

const route = getRouteApi('/deployments/$deploymentId');

export function DeploymentPage() {
  const { deploymentId } = route.useParams();
  const mayOperate = useMay('operate');
  const deployment = useQuery(deploymentQuery(deploymentId));
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const names = useNames(deployment.data === undefined ? [] : [deployment.data]);
  usePageTitle(`Deployment ${deploymentId}`);
  if (deployment.error) {
    return (
      <>
        <h1>Deployment {deploymentId}</h1>
        <Problem error={deployment.error} title="The deployment could not be read" />
        <p>
          <Link to="/deployments">All deployments</Link>
        </p>
      </>
    );
  }
  if (deployment.data === undefined) return <p aria-busy="true">Loading deployment {deploymentId}…</p>;
  const item = deployment.data;
  const facts: [string, ReactNode][] = [
    ['Deployment', item.id],
    [item.itemKind === 'Task' ? 'Task' : 'Software', <ItemCell deployment={item} names={names} />],
    [item.itemKind === 'Task' ? 'Mode' : 'Desired state', wantsWords(item)],
    ['Target', <TargetCell deployment={item} names={names} />],
    ['Device classes', classesWords(item)],
    ['Enabled', <EnabledBadge enabled={item.enabled} />],
    ['Critical', item.critical ? 'Yes: its failure fails the session' : 'No: its failure leaves the session partly passed'],
    ['Order', ORDERING_LABELS[item.orderingHint]],
  ];
  return (
    <>
      <p className="breadcrumb">
        <Link to="/deployments">Deployments</Link> / {deploymentId}
      </p>
      <h1>
        Deployment {deploymentId} <EnabledBadge enabled={item.enabled} />
      </h1>
      <Facts facts={facts} />
      <section className="controls" aria-label="Deployment requests">
        {mayOperate ? (
          <>
            <Link to="/deployments/$deploymentId/edit" params={{ deploymentId }} className="button-link">
              Edit
            </Link>
            <DeleteEntity
              what="deployment"
              id={deploymentId}
              explanation="Its computers no longer get its item from it, and its stored secrets are deleted; its history stays. A session under way keeps what it froze, but a step of it still to run that needs those secrets fails."
              remove={() => data(api.DELETE('/v1/deployments/{deploymentId}', { params: { path: { deploymentId }, query: { expectedRevision: item.revision } } }))}
              onDeleted={async () => {
                // gone: nothing may read it again on the way out
                queryClient.removeQueries({ queryKey: deploymentQuery(deploymentId).queryKey });
                await queryClient.invalidateQueries({ queryKey: ['deployments'] });
                await navigate({ to: '/deployments' });
              }}
            />
          </>
        ) : null}
        <Link to="/audit" search={{ resource: 'Deployment', resourceId: deploymentId }}>
          Its changes
        </Link>
      </section>
      {item.itemKind === 'Task' ? <ParameterValues parameters={item.parameters} /> : null}
    </>
  );
}

/** A task deployment's values; a secret's is the API's marker, and it reads as "set", never as a value. */
function ParameterValues({ parameters }: { readonly parameters: Readonly<Record<string, string | number | boolean>> }) {
  const entries = Object.entries(parameters).sort(([a], [b]) => a.localeCompare(b));
  return (
    <section aria-labelledby="values-title">
      <h2 id="values-title">Parameter values</h2>
      {entries.length === 0 ? (
        <p>None set: every parameter takes its default.</p>
      ) : (
        <dl className="facts">
          {entries.map(([name, value]) => (
            <div key={name}>
              <dt>{name}</dt>
              <dd>{value === SECRET_MARKER ? <span className="badge tone-warn">secret, set</span> : typeof value === 'boolean' ? (value ? 'Yes' : 'No') : String(value)}</dd>
            </div>
          ))}
        </dl>
      )}
    </section>
  );
}

export function NewDeploymentPage() {
  usePageTitle('New deployment');
  const mayOperate = useMay('operate');
  return (
    <>
      <p className="breadcrumb">
        <Link to="/deployments">Deployments</Link> / new
      </p>
      <h1>New deployment</h1>
      {mayOperate ? <DeploymentForm base={NEW_DEPLOYMENT} onReload={() => undefined} /> : <p>Your role may read deployments, not create them.</p>}
    </>
  );
}

const editRoute = getRouteApi('/deployments/$deploymentId/edit');

/** A stored deployment, edited as it was read: a change meanwhile is refused, not overwritten. */
export function EditDeploymentPage() {
  const { deploymentId } = editRoute.useParams();
  const mayOperate = useMay('operate');
  const deployment = useQuery({ ...deploymentQuery(deploymentId), staleTime: Infinity, refetchOnWindowFocus: false });
  usePageTitle(`Edit deployment ${deploymentId}`);
  return (
    <>
      <p className="breadcrumb">
        <Link to="/deployments">Deployments</Link> / <Link to="/deployments/$deploymentId" params={{ deploymentId }}>{deploymentId}</Link> / edit
      </p>
      <h1>Edit deployment {deploymentId}</h1>
      {deployment.error ? <Problem error={deployment.error} title="The deployment could not be read" /> : null}
      {!mayOperate ? <p>Your role may read deployments, not change them.</p> : null}
      {mayOperate && deployment.data !== undefined ? <DeploymentForm key={deployment.dataUpdatedAt} base={deployment.data} revision={deployment.data.revision} onReload={() => void deployment.refetch()} /> : null}
    </>
  );
}
