import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { getRouteApi, Link, useNavigate } from '@tanstack/react-router';
import { useState, type ReactNode } from 'react';
import type { ComputerExplanation } from '../../../functions/core/use-cases/explain-computer.js';
import { api, data } from '../api/client.js';
import { usePageTitle } from '../app/page-title.js';
import { useMay } from '../auth/me.js';
import { DataTable, type TableFeatureSet } from '../components/DataTable.js';
import { Problem } from '../components/Problem.js';
import { Time } from '../components/Time.js';
import { formatCount } from '../format.js';
import { tenantsQuery } from '../sessions/queries.js';
import { ComputerSessions } from './ComputerSessions.js';
import { computerComplianceQuery, computerExplanationQuery, computerQuery } from './queries.js';
import type { ComputerTab } from './search.js';
import { Tabs } from './Tabs.js';
import {
  candidateWords,
  ComplianceBadge,
  COMPLIANCE_LABELS,
  COMPLIANCE_ORDER,
  COMPLIANCE_TONE,
  DEVICE_CLASS_LABELS,
  ORIGIN_LABELS,
  PLATFORM_LABELS,
  wantsWords,
  type Computer,
  type ComputerCompliance,
  type ItemCompliance,
} from './words.js';
import './computers.css';

/**
 * One computer: what it is (details), how each item it gets stands as last
 * detected (compliance), what it gets and why (desired state), and its
 * sessions. An operator who may operate can have it detected again now.
 */

const route = getRouteApi('/computers/$computerId');

const TABS: readonly { readonly id: ComputerTab; readonly label: string }[] = [
  { id: 'compliance', label: 'Compliance' },
  { id: 'desired', label: 'Desired state' },
  { id: 'sessions', label: 'Sessions' },
];

export function ComputerPage() {
  const { computerId } = route.useParams();
  const { tab = 'compliance' } = route.useSearch();
  const navigate = route.useNavigate();
  const computer = useQuery(computerQuery(computerId));
  usePageTitle(computer.data?.name ?? `Computer ${computerId}`);
  if (computer.error) {
    return (
      <>
        <h1>Computer {computerId}</h1>
        <Problem error={computer.error} title="The computer could not be read" />
        <p>
          <Link to="/computers">All computers</Link>
        </p>
      </>
    );
  }
  if (computer.data === undefined) return <p aria-busy="true">Loading computer {computerId}…</p>;
  const item = computer.data;
  return (
    <>
      <p className="breadcrumb">
        <Link to="/computers">Computers</Link> / {computerId}
      </p>
      <h1>
        {item.name} {item.online ? <span className="badge tone-good">Online</span> : <span className="badge tone-warn">Offline</span>}
      </h1>
      <ComputerFacts computer={item} />
      <ComputerControls computerId={computerId} />
      <Tabs
        label={`About ${item.name}`}
        idPrefix="computer"
        tabs={TABS}
        selected={tab}
        // the tab is where the operator is, not a step: switching replaces the address rather than stacking history
        onSelect={(next) => void navigate({ search: next === 'compliance' ? {} : { tab: next }, replace: true })}
      >
        {tab === 'compliance' ? <CompliancePanel computerId={computerId} /> : tab === 'desired' ? <DesiredStatePanel computerId={computerId} /> : <ComputerSessions computerId={computerId} />}
      </Tabs>
    </>
  );
}

function ComputerFacts({ computer }: { readonly computer: Computer }) {
  const tenants = useQuery(tenantsQuery);
  const tenant = tenants.data?.items.find((candidate) => candidate.id === computer.tenantId);
  const facts: [string, ReactNode][] = [
    ['Computer', computer.id],
    ['Tenant', tenant === undefined ? computer.tenantId : tenant.name],
    ['Platform', PLATFORM_LABELS[computer.platform]],
    ['Device class', DEVICE_CLASS_LABELS[computer.deviceClass]],
    ['Agent', <code>{computer.agentId}</code>],
    ['Time zone', computer.timeZone],
    ['Active hours', computer.activeHours === undefined ? 'Not set' : `${computer.activeHours.start}–${computer.activeHours.end}`],
    ['Primary user', computer.primaryUser === undefined ? 'None' : `${computer.primaryUser.name} <${computer.primaryUser.email}>`],
    [
      'Tags',
      computer.tags.length === 0 ? (
        'None'
      ) : (
        <span className="tags">
          {computer.tags.map((tag) => (
            <span key={tag} className="badge tone-neutral">
              {tag}
            </span>
          ))}
        </span>
      ),
    ],
  ];
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

/** Detect now: a detection-only session (it reads, it changes nothing); not offered to a role that may not operate. */
function ComputerControls({ computerId }: { readonly computerId: string }) {
  const mayOperate = useMay('operate');
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  // one key per intention: a double click or a retry starts one session
  const [key, setKey] = useState(() => crypto.randomUUID());
  const detect = useMutation({
    mutationFn: async () => {
      const result = await data(api.POST('/v1/sessions', { params: { header: { 'idempotency-key': key } }, body: { computerId, options: { mode: 'DetectionOnly' } } }));
      setKey(crypto.randomUUID());
      await navigate({ to: '/sessions/$sessionId', params: { sessionId: result.sessionId } });
    },
    onSettled: () => Promise.all([queryClient.invalidateQueries({ queryKey: ['sessions'] }), queryClient.invalidateQueries({ queryKey: ['computers', 'compliance', computerId] })]),
  });
  if (!mayOperate) return null;
  return (
    <section className="controls" aria-label="Computer requests">
      <button type="button" disabled={detect.isPending} onClick={() => { detect.mutate(); }}>
        Detect now
      </button>
      <span className="hint">A detection-only session: reads every item, changes nothing.</span>
      {detect.error ? <Problem error={detect.error} title="The detection could not be started" /> : null}
    </section>
  );
}

const PHASE_WORDS: Readonly<Record<NonNullable<ItemCompliance['detected']>['phase'], string>> = { Initial: 'detection', Verification: 'verification' };

const complianceHelper = createColumnHelper<TableFeatureSet, ItemCompliance>();
const COMPLIANCE_COLUMNS = complianceHelper.columns([
  complianceHelper.accessor('itemName', { header: 'Item', cell: (info) => <>{info.getValue()}{info.row.original.kind === 'Task' ? <span className="hint"> (task)</span> : null}</> }),
  complianceHelper.accessor('wants', { header: 'Wants', cell: (info) => wantsWords(info.getValue()) }),
  complianceHelper.accessor('state', { header: 'Compliance', cell: (info) => <ComplianceBadge state={info.getValue()} /> }),
  complianceHelper.display({
    id: 'found',
    header: 'Found',
    cell: (info) => {
      const detected = info.row.original.detected;
      if (detected === undefined) return '—';
      return `${detected.found}${detected.test === 'Failed' ? ', health check failed' : ''}${detected.detail === undefined ? '' : ` (${detected.detail})`}`;
    },
  }),
  complianceHelper.accessor('why', { header: 'Why' }),
  complianceHelper.display({
    id: 'detected',
    header: 'Detected',
    cell: (info) => {
      const detected = info.row.original.detected;
      if (detected === undefined) return '—';
      return (
        <span className="detected-from">
          <Time at={detected.detectedAt} />, by the{' '}
          <Link to="/sessions/$sessionId" params={{ sessionId: detected.sessionId }} aria-label={`${PHASE_WORDS[detected.phase]} of session ${detected.sessionId}`}>
            {PHASE_WORDS[detected.phase]} of session {detected.sessionId}
          </Link>
        </span>
      );
    },
  }),
]);

function ComplianceCounts({ compliance }: { readonly compliance: ComputerCompliance }) {
  return (
    <dl className="counts" aria-label="Items by compliance">
      {COMPLIANCE_ORDER.map((state) => (
        <div key={state} className={`count tone-${compliance.counts[state] > 0 ? COMPLIANCE_TONE[state] : 'neutral'}`}>
          <dt>{COMPLIANCE_LABELS[state]}</dt>
          <dd>{formatCount(compliance.counts[state])}</dd>
        </div>
      ))}
    </dl>
  );
}

function Problems({ problems }: { readonly problems: readonly string[] }) {
  if (problems.length === 0) return null;
  return (
    <div className="problem" role="note">
      <strong>Deployments that could not be used:</strong>
      <ul>
        {problems.map((problem) => (
          <li key={problem}>{problem}</li>
        ))}
      </ul>
    </div>
  );
}

function CompliancePanel({ computerId }: { readonly computerId: string }) {
  const compliance = useQuery(computerComplianceQuery(computerId));
  const answer = compliance.data;
  return (
    <section aria-labelledby="compliance-title">
      <h2 id="compliance-title">Compliance per item</h2>
      <p className="hint">
        Each item the computer gets now, as the latest detection found it
        {answer === undefined ? '' : ` (looked through its last ${formatCount(answer.sessionsRead)} session${answer.sessionsRead === 1 ? '' : 's'})`}, judged against the deployments as they are now.
      </p>
      {compliance.error ? <Problem error={compliance.error} title="The compliance could not be read" /> : null}
      {answer === undefined ? null : <ComplianceCounts compliance={answer} />}
      <DataTable
        caption="Compliance per item, by item name"
        columns={COMPLIANCE_COLUMNS}
        data={answer?.items ?? []}
        rowId={(item) => item.key}
        busy={compliance.isFetching}
        empty={compliance.isPending ? 'Loading…' : 'No deployment applies to this computer.'}
      />
      {answer === undefined ? null : <Problems problems={answer.problems} />}
    </section>
  );
}

type ExplainedItem = ComputerExplanation['items'][number];

const desiredHelper = createColumnHelper<TableFeatureSet, ExplainedItem>();
const DESIRED_COLUMNS = desiredHelper.columns([
  desiredHelper.accessor('itemName', { header: 'Item' }),
  desiredHelper.accessor('wants', { header: 'Wants', cell: (info) => wantsWords(info.getValue()) }),
  desiredHelper.accessor('origin', { header: 'From', cell: (info) => ORIGIN_LABELS[info.getValue()] }),
  desiredHelper.accessor((item) => item.explanation.winner, { id: 'deployment', header: 'Deployment', cell: (info) => info.getValue() ?? '—' }),
  desiredHelper.accessor((item) => item.explanation, {
    id: 'why',
    header: 'Why',
    cell: (info) => {
      const explanation = info.getValue();
      const others = explanation.candidates.filter((candidate) => candidate.lostBy !== undefined);
      return (
        <>
          {explanation.summary}
          {explanation.requiredBy === undefined || explanation.requiredBy.length === 0 ? null : <> Needed by {explanation.requiredBy.join(', ')}.</>}
          {others.length === 0 ? null : (
            <ul className="candidates" aria-label={`Deployments of ${info.row.original.itemName} that lost`}>
              {others.map((candidate) => (
                <li key={candidate.deploymentId}>{candidateWords(candidate)}</li>
              ))}
            </ul>
          )}
        </>
      );
    },
  }),
]);

function DesiredStatePanel({ computerId }: { readonly computerId: string }) {
  const explanation = useQuery(computerExplanationQuery(computerId));
  const answer = explanation.data;
  return (
    <section aria-labelledby="desired-title">
      <h2 id="desired-title">Desired state</h2>
      <p className="hint">What the deployments ask of this computer now, per item: the deployment that wins, and why it beats the others.</p>
      {explanation.error ? <Problem error={explanation.error} title="The desired state could not be read" /> : null}
      <DataTable
        caption="Desired state per item, by item name"
        columns={DESIRED_COLUMNS}
        data={answer?.items ?? []}
        rowId={(item) => item.key}
        busy={explanation.isFetching}
        empty={explanation.isPending ? 'Loading…' : 'No deployment applies to this computer.'}
      />
      {answer === undefined ? null : <Problems problems={answer.problems} />}
    </section>
  );
}
