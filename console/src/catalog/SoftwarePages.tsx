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
import { NEW_SOFTWARE } from './form.js';
import { softwareListQuery, softwareQuery } from './queries.js';
import { SoftwareForm } from './SoftwareForm.js';
import { detectionWords, PLATFORM_WORDS, type Software } from './words.js';
import './catalog.css';

/**
 * The software catalog: every item a page at a time through the API's
 * cursors, one item with its versions, detection and scripts, and (for an
 * MSP admin, the one role that may change it) its form.
 */

const helper = createColumnHelper<TableFeatureSet, Software>();
const COLUMNS = helper.columns([
  helper.accessor('name', { header: 'Name', cell: (info) => <Link to="/software/$softwareId" params={{ softwareId: info.row.original.id }}>{info.getValue()}</Link> }),
  helper.accessor('id', { header: 'Id' }),
  helper.accessor('platform', { header: 'Platform', cell: (info) => PLATFORM_WORDS[info.getValue()] }),
  helper.accessor('latestVersion', { header: 'Latest version' }),
  helper.accessor('detection', { header: 'Detection', cell: (info) => detectionWords(info.getValue()) }),
  helper.accessor('dependencies', { header: 'Dependencies', cell: (info) => (info.getValue().length === 0 ? '—' : info.getValue().map((d) => (d.requires === 'Absent' ? `not ${d.softwareId}` : d.softwareId)).join(', ')) }),
]);

export function SoftwareListPage() {
  usePageTitle('Software');
  const mayEdit = useMay('editCatalog');
  const [cursors, setCursors] = useState<readonly string[]>([]);
  const list = useQuery(softwareListQuery(cursors.at(-1)));
  return (
    <>
      <div className="page-heading">
        <h1>Software</h1>
        {mayEdit ? (
          <Link to="/software/new" className="button-link">
            New software
          </Link>
        ) : null}
      </div>
      {list.error ? <Problem error={list.error} title="The software could not be listed" /> : null}
      <DataTable caption={`Software, by id (page ${cursors.length + 1})`} columns={COLUMNS} data={list.data?.items ?? []} rowId={(software) => software.id} busy={list.isFetching} empty={list.isPending ? 'Loading…' : 'No software in the catalog yet.'} />
      <Pager label="Pages of software" cursors={cursors} setCursors={setCursors} nextCursor={list.data?.nextCursor} waiting={list.isPlaceholderData} />
    </>
  );
}

const route = getRouteApi('/software/$softwareId');

export function SoftwarePage() {
  const { softwareId } = route.useParams();
  const mayEdit = useMay('editCatalog');
  const software = useQuery(softwareQuery(softwareId));
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  usePageTitle(software.data?.name ?? `Software ${softwareId}`);
  if (software.error) {
    return (
      <>
        <h1>Software {softwareId}</h1>
        <Problem error={software.error} title="The software could not be read" />
        <p>
          <Link to="/software">All software</Link>
        </p>
      </>
    );
  }
  if (software.data === undefined) return <p aria-busy="true">Loading software {softwareId}…</p>;
  const item = software.data;
  const detection = item.detection;
  const facts: [string, ReactNode][] = [
    ['Software', item.id],
    ['Platform', PLATFORM_WORDS[item.platform]],
    ['Latest version', item.latestVersion],
    ['Known versions', item.versions.length === 0 ? 'None listed' : item.versions.join(', ')],
    ['Detection', detectionWords(detection)],
    ['Health check', item.testScript === undefined ? 'None' : 'Yes'],
    ['Upgrade', item.upgradeScript === undefined ? 'Installs over the old version' : 'Its own script'],
    [
      'Dependencies',
      item.dependencies.length === 0 ? (
        'None'
      ) : (
        <ul className="plain-list">
          {item.dependencies.map((dependency) => (
            <li key={dependency.softwareId}>
              <Link to="/software/$softwareId" params={{ softwareId: dependency.softwareId }}>
                {dependency.softwareId}
              </Link>{' '}
              {dependency.requires === 'Installed' ? 'installed first' : 'removed first'}
            </li>
          ))}
        </ul>
      ),
    ],
  ];
  return (
    <>
      <p className="breadcrumb">
        <Link to="/software">Software</Link> / {softwareId}
      </p>
      <h1>{item.name}</h1>
      <Facts facts={facts} />
      {mayEdit ? (
        <section className="controls" aria-label="Software requests">
          <Link to="/software/$softwareId/edit" params={{ softwareId }} className="button-link">
            Edit
          </Link>
          <DeleteEntity
            what="software"
            id={softwareId}
            explanation={`${item.name} leaves the catalog; its history stays. It is refused while a deployment deploys it or other software depends on it.`}
            remove={() => data(api.DELETE('/v1/software/{softwareId}', { params: { path: { softwareId }, query: { expectedRevision: item.revision } } }))}
            onDeleted={async () => {
              // gone: nothing may read it again on the way out
              queryClient.removeQueries({ queryKey: softwareQuery(softwareId).queryKey });
              await queryClient.invalidateQueries({ queryKey: ['software'] });
              await navigate({ to: '/software' });
            }}
          />
        </section>
      ) : null}
      <section aria-labelledby="scripts-title">
        <h2 id="scripts-title">Scripts</h2>
        {detection.method === 'Script' ? <ScriptView label="Detection script" script={detection.script} /> : null}
        <ScriptView label="Install script" script={item.installScript} />
        <ScriptView label="Uninstall script" script={item.uninstallScript} />
        {item.upgradeScript === undefined ? null : <ScriptView label="Upgrade script" script={item.upgradeScript} />}
        {item.testScript === undefined ? null : <ScriptView label="Health check" script={item.testScript} />}
      </section>
    </>
  );
}

export function NewSoftwarePage() {
  usePageTitle('New software');
  const mayEdit = useMay('editCatalog');
  return (
    <>
      <p className="breadcrumb">
        <Link to="/software">Software</Link> / new
      </p>
      <h1>New software</h1>
      {mayEdit ? <SoftwareForm base={NEW_SOFTWARE} onReload={() => undefined} /> : <p>Your role may read the software catalog, not add to it.</p>}
    </>
  );
}

const editRoute = getRouteApi('/software/$softwareId/edit');

/** A stored item, edited as it was read: a change meanwhile is refused, not overwritten. */
export function EditSoftwarePage() {
  const { softwareId } = editRoute.useParams();
  const mayEdit = useMay('editCatalog');
  // read once: a refetch under the operator's typing would change what the save compares against, not the form
  const software = useQuery({ ...softwareQuery(softwareId), staleTime: Infinity, refetchOnWindowFocus: false });
  const name = software.data?.name ?? softwareId;
  usePageTitle(`Edit ${name}`);
  return (
    <>
      <p className="breadcrumb">
        <Link to="/software">Software</Link> / <Link to="/software/$softwareId" params={{ softwareId }}>{name}</Link> / edit
      </p>
      <h1>Edit {name}</h1>
      {software.error ? <Problem error={software.error} title="The software could not be read" /> : null}
      {!mayEdit ? <p>Your role may read the software catalog, not change it.</p> : null}
      {mayEdit && software.data !== undefined ? <SoftwareForm key={software.dataUpdatedAt} base={software.data} revision={software.data.revision} onReload={() => void software.refetch()} /> : null}
    </>
  );
}
