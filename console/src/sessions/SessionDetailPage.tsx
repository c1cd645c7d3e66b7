import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { useMay } from '../auth/me.js';
import { createColumnHelper } from '@tanstack/react-table';
import { getRouteApi, Link } from '@tanstack/react-router';
import type { SessionLogEntry, SessionReport } from '../api/types.js';
import { usePageTitle } from '../app/page-title.js';
import { DataTable, type TableFeatureSet } from '../components/DataTable.js';
import { LocalTimes } from '../components/LocalTimes.js';
import { Problem } from '../components/Problem.js';
import { StatusBadge } from '../components/StatusBadge.js';
import { Time } from '../components/Time.js';
import { formatCount, formatDecimal, formatDuration, formatTime, formatUsd } from '../format.js';
import { STEP_LABELS, type StepState } from './progress.js';
import { sessionReportQuery, tenantsQuery } from './queries.js';
import { RerunActionButton } from './RerunActionButton.js';
import { SessionControls } from './SessionControls.js';
import { useSessionLog } from './use-session-log.js';
import { RequesterLabel } from './RequesterLabel.js';
import { isFinal, RESULT_LABELS, TRIGGER_LABELS } from './words.js';

/**
 * One session: where it stands among its steps, what it planned and did per
 * action and why, who decided what (operators and end users), what it cost,
 * and its log, growing while it runs.
 */

const route = getRouteApi('/sessions/$sessionId');
const REPORT_POLL_MS = 2_000;

type Row = SessionReport['rows'][number];
const helper = createColumnHelper<TableFeatureSet, Row>();
/** Which deployment the action carries out, linked, and how its item was decided in a sentence. */
function DecidedBy({ row }: { readonly row: Row }) {
  if (row.decidedBy === undefined) return <>—</>;
  return (
    <>
      {row.deploymentId === undefined ? null : (
        <>
          <Link to="/deployments/$deploymentId" params={{ deploymentId: row.deploymentId }}>
            {row.deploymentId}
          </Link>
          :{' '}
        </>
      )}
      <span className="decided-by">{row.decidedBy}</span>
    </>
  );
}

/** The actions' columns; an operator looking at an ended session may rerun one action's item on its own. */
const actionColumns = (sessionId: string, rerunnable: boolean) =>
  helper.columns([
    helper.accessor('itemName', { header: 'Item' }),
    helper.accessor('type', { header: 'Action' }),
    helper.accessor('before', { header: 'Before' }),
    helper.accessor('after', { header: 'After' }),
    helper.accessor('result', { header: 'Result', cell: (info) => <span className={`result result-${info.getValue()}`}>{RESULT_LABELS[info.getValue()]}</span> }),
    helper.accessor('durationMs', { header: 'Took', cell: (info) => { const ms = info.getValue(); return ms === undefined ? '—' : formatDuration(ms); } }),
    helper.accessor('why', { header: 'Why', cell: (info) => info.getValue() || '—' }),
    helper.display({ id: 'decidedBy', header: 'Which deployment won', cell: (info) => <DecidedBy row={info.row.original} /> }),
    ...(rerunnable
      ? [helper.display({ id: 'rerun', header: 'Rerun', cell: (info) => (info.row.original.type === 'Reboot' ? '—' : <RerunActionButton sessionId={sessionId} actionId={info.row.original.actionId} itemName={info.row.original.itemName} />) })]
      : []),
  ]);

const STEP_WORDS: Readonly<Record<StepState, string>> = { done: 'done', current: 'now', pending: 'not yet', skipped: 'skipped', failed: 'failed here', cancelled: 'cancelled here' };

export function SessionDetailPage() {
  const { sessionId } = route.useParams();
  const report = useQuery({ ...sessionReportQuery(sessionId), refetchInterval: (query) => (query.state.data !== undefined && isFinal(query.state.data.status) ? false : REPORT_POLL_MS) });
  const ended = report.data !== undefined && isFinal(report.data.status);
  const log = useSessionLog(sessionId, report.data !== undefined && !ended);
  usePageTitle(report.data === undefined ? `Session ${sessionId}` : `Session on ${report.data.computerName}`);
  const mayOperate = useMay('operate');
  const tenants = useQuery(tenantsQuery);
  const columns = useMemo(() => actionColumns(sessionId, ended && mayOperate), [sessionId, ended, mayOperate]);

  if (report.error) {
    return (
      <>
        <h1>Session {sessionId}</h1>
        <Problem error={report.error} title="The session could not be read" />
        <p>
          <Link to="/sessions">All sessions</Link>
        </p>
      </>
    );
  }
  if (report.data === undefined) return <p aria-busy="true">Loading session {sessionId}…</p>;
  const session = report.data;
  const entries = log.data ?? [];
  const tenantName = tenants.data?.items.find((tenant) => tenant.id === session.tenantId)?.name ?? session.tenantId;
  return (
    <>
      <p className="breadcrumb">
        <Link to="/sessions">Sessions</Link> / {sessionId}
      </p>
      <div className="page-heading">
        <h1>
          Session on {session.computerName} <StatusBadge status={session.status} />
        </h1>
      </div>
      <dl className="facts">
        <div>
          <dt>Session</dt>
          <dd>{session.sessionId}</dd>
        </div>
        <div>
          <dt>Computer</dt>
          <dd>
            <Link to="/computers/$computerId" params={{ computerId: session.computerId }}>{session.computerName}</Link> ({session.computerId})
          </dd>
        </div>
        <div>
          <dt>Tenant</dt>
          <dd>{tenantName}</dd>
        </div>
        {session.trigger === undefined ? null : (
          <div>
            <dt>Type</dt>
            <dd>{TRIGGER_LABELS[session.trigger]}</dd>
          </div>
        )}
        {session.requestedBy === undefined ? null : (
          <div>
            <dt>Triggered by</dt>
            <dd>
              <RequesterLabel by={session.requestedBy} />
            </dd>
          </div>
        )}
        {session.origin === undefined ? null : (
          // the run's page holds what this session is part of: its counts, rings, and the halt that would stop the rest
          <div>
            <dt>Schedule run</dt>
            <dd>
              <Link to="/runs/$runId" params={{ runId: session.origin.runId }}>{session.origin.runId}</Link> of schedule{' '}
              <Link to="/schedules/$scheduleId" params={{ scheduleId: session.origin.scheduleId }}>{session.origin.scheduleId}</Link>
            </dd>
          </div>
        )}
        <div>
          <dt>Started</dt>
          <dd>
            <Time at={session.createdAt} />
          </dd>
        </div>
        {ended ? (
          session.endedAt === undefined ? null : (
            <div>
              <dt>Ended</dt>
              <dd>
                <Time at={session.endedAt} />
              </dd>
            </div>
          )
        ) : (
          // what an operator (or the end user's postpone) moves: when the changes may start on the computer
          <div>
            <dt>Maintenance</dt>
            <dd>{session.executeAt === undefined ? 'right after detection' : <Time at={session.executeAt} />}</dd>
          </div>
        )}
        <div>
          <dt>Duration</dt>
          <dd>{ended ? formatDuration(session.durationMs) : `${formatDuration(session.durationMs)} so far`}</dd>
        </div>
        <div>
          <dt>Cost</dt>
          <dd>{session.cost === undefined ? '—' : `${formatUsd(session.cost.priceUsd.total)}${session.cost.final ? '' : ' so far'}`}</dd>
        </div>
      </dl>
      {session.failure === undefined ? null : (
        <p className="problem" role="note">
          <strong>Failed:</strong> {session.failure.message} ({session.failure.code})
        </p>
      )}
      <SessionControls sessionId={sessionId} status={session.status} allowed={session.allowed} executeAt={session.executeAt} />
      <StageIndicator report={session} />
      <section aria-labelledby="actions-title">
        <h2 id="actions-title">Actions</h2>
        <DataTable caption="Planned and performed actions, in order" columns={columns} data={session.rows} rowId={(row) => row.actionId} empty={session.changedNothing && session.rows.length === 0 ? 'Nothing to do: every item is as deployed.' : 'No actions planned yet.'} />
        {session.leftAlone.length > 0 ? (
          <details>
            <summary>Left alone ({formatCount(session.leftAlone.length)})</summary>
            <ul>
              {session.leftAlone.map((line) => (
                <li key={line}>{line}</li>
              ))}
            </ul>
          </details>
        ) : null}
        {session.why.length > 0 ? (
          <>
            <h3>Why</h3>
            <ul>
              {session.why.map((line) => (
                <li key={line}>{line}</li>
              ))}
            </ul>
          </>
        ) : null}
        {session.observed.length > 0 ? (
          <>
            <h3>Observed</h3>
            <ul>
              {session.observed.map((line) => (
                <li key={line}>{line}</li>
              ))}
            </ul>
          </>
        ) : null}
      </section>
      <Decisions entries={entries} />
      <Cost report={session} />
      <section aria-labelledby="log-title">
        <h2 id="log-title">Log</h2>
        {log.error ? <Problem error={log.error} title="The log could not be read" /> : null}
        <SessionLog entries={entries} live={!ended} />
      </section>
    </>
  );
}

/** The API reads the steps from the session's record: the console draws them as they come. */
function StageIndicator({ report }: { readonly report: SessionReport }) {
  const steps = report.steps;
  return (
    <nav aria-label="Session steps" className="steps">
      <ol>
        {steps.map(({ step, state }) => (
          <li key={step} className={`step step-${state}`} aria-current={state === 'current' ? 'step' : undefined}>
            <span className="step-name">{STEP_LABELS[step]}</span> <span className="step-state">{STEP_WORDS[state]}</span>
          </li>
        ))}
      </ol>
    </nav>
  );
}

/** Who asked what of the session (operators, end users from the email links, schedules), from its log. */
function Decisions({ entries }: { readonly entries: readonly SessionLogEntry[] }) {
  const decisions = entries.filter((entry) => entry.kind === 'Request' && entry.by !== undefined);
  return (
    <section aria-labelledby="decisions-title">
      <h2 id="decisions-title">Decisions</h2>
      {decisions.length === 0 ? (
        <p>No one has asked anything of this session.</p>
      ) : (
        <ul className="decisions">
          {decisions.map((entry, index) => (
            <li key={`${entry.at}-${index}`} className={entry.by?.kind === 'EndUser' ? 'by-end-user' : undefined}>
              <Time at={entry.at} />: <LocalTimes text={entry.message} />
              {entry.by === undefined ? null : <> — <RequesterLabel by={entry.by} /></>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Cost({ report }: { readonly report: SessionReport }) {
  const cost = report.cost;
  if (cost === undefined) return null;
  const parts: [string, number][] = [
    ['Step Functions', cost.priceUsd.stepFunctions],
    ['Lambda', cost.priceUsd.lambda],
    ['DynamoDB', cost.priceUsd.dynamodb],
    ['EventBridge events', cost.priceUsd.events],
    ['EventBridge Scheduler', cost.priceUsd.scheduler],
    ['Email (SES)', cost.priceUsd.email],
  ];
  const counted: [string, number][] = [
    ['State transitions', cost.counted.stateTransitions],
    ['Lambda invocations', cost.counted.lambdaInvocations],
    ['Lambda GB-seconds', cost.counted.lambdaGbSeconds],
    ['Table read units', cost.counted.tableReadUnits],
    ['Table write units', cost.counted.tableWriteUnits],
    ['Emails sent', cost.counted.emailsSent],
  ];
  return (
    <section aria-labelledby="cost-title">
      <h2 id="cost-title">Cost</h2>
      <p>
        {formatUsd(cost.priceUsd.total)} at {cost.pricing.region} list prices of {cost.pricing.asOf}
        {cost.final ? '' : ' (so far: the session has not ended)'}.{cost.pricing.note === undefined ? '' : ` ${cost.pricing.note}.`}
      </p>
      <details>
        <summary>What it used</summary>
        <div className="cost-tables">
          <table>
            <caption>Price by service (US dollars)</caption>
            <tbody>
              {parts.map(([name, usd]) => (
                <tr key={name}>
                  <th scope="row">{name}</th>
                  <td>{formatUsd(usd)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <table>
            <caption>Counted</caption>
            <tbody>
              {counted.map(([name, count]) => (
                <tr key={name}>
                  <th scope="row">{name}</th>
                  <td>{formatDecimal(count)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </section>
  );
}

/**
 * The log, oldest first; `role="log"` makes new lines polite announcements,
 * not interruptions. The role sits on a wrapper: on the list itself it would
 * replace the list's own role and orphan its items.
 */
function SessionLog({ entries, live }: { readonly entries: readonly SessionLogEntry[]; readonly live: boolean }) {
  if (entries.length === 0) return <p>{live ? 'No lines yet: the log fills as the session runs.' : 'The log is empty.'}</p>;
  return (
    <div role="log" aria-label="Session log">
      <ol className="log">
        {entries.map((entry, index) => (
          <li key={`${entry.at}-${index}`} className={`log-line log-${entry.kind}`}>
            <time dateTime={entry.at}>{formatTime(entry.at)}</time> <span className="log-kind">{entry.kind}</span> <span className="log-message"><LocalTimes text={entry.message} /></span>
            {entry.by === undefined ? null : <span className="log-by"> — <RequesterLabel by={entry.by} /></span>}
            {entry.output === undefined || entry.output === '' ? null : <pre className="log-output">{entry.output}</pre>}
          </li>
        ))}
      </ol>
    </div>
  );
}
