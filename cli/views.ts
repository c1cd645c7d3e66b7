/**
 * What each resource looks like to a person: one function per view, from the
 * API's JSON to text. Each takes only the fields it shows (declared here), so
 * a field the API renames breaks the CLI at compile time where it is shown.
 */
import type { components } from '../console/src/api/schema.js';
import { formatUsd } from '../functions/core/model/usage.js';
import { clean, counts, details, dim, duration, instant, painted, red, status, table, truncate, yellow, type Cell, type View } from './format.js';

const when = (iso: string | undefined, view: View): Cell => instant(iso, view);
const whenInDetail = (iso: string | undefined, view: View): Cell => instant(iso, view, { withZone: true });
const list = (values: readonly string[] | undefined): Cell => (values === undefined || values.length === 0 ? undefined : values.join(', '));
const yesNo = (value: boolean | undefined): Cell => (value === undefined ? undefined : value ? 'yes' : 'no');
const paintedStatus = (text: string | undefined, view: View): Cell => (text === undefined ? undefined : painted(status(text, view)));

/** The API's answers as its OpenAPI document names them (the types both clients are generated from). */
type Schemas = components['schemas'];

const section = (title: string, body: string, view: View): string => `\n${dim(view)(title)}\n${body}`;

const nothing = (what: string): string => `No ${what}.`;

/** More pages wait: says how to get them, on stderr's behalf (the caller decides where it goes). */
export const morePages = (hint: string): string => `More results: ${hint}`;

// ---- who -------------------------------------------------------------------

export interface PrincipalView {
  readonly subject: string;
  readonly name: string;
  readonly role: string;
  readonly tenantId?: string;
}

export const principal = (me: PrincipalView, apiUrl: string, view: View): string =>
  details(
    [
      ['name', me.name],
      ['role', me.role],
      ['tenant', me.tenantId ?? 'all tenants'],
      ['subject', me.subject],
      ['api', apiUrl],
    ],
    view,
  );

// ---- sessions --------------------------------------------------------------

export interface SessionSummaryView {
  readonly id: string;
  readonly computerId: string;
  readonly computerName?: string;
  readonly tenantId: string;
  readonly status: string;
  readonly stage?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly endedAt?: string;
  readonly trigger: string;
  readonly actionCount?: number;
  readonly executeAt?: string;
  readonly awaitingExecution?: boolean;
}

export function sessionList(page: { readonly items: readonly SessionSummaryView[]; readonly counts?: Readonly<Record<string, number>> }, view: View): string {
  const lines: string[] = [];
  if (page.items.length === 0) lines.push(nothing('sessions match'));
  else
    lines.push(
      table(
        ['SESSION', 'STATUS', 'STAGE', 'COMPUTER', 'TENANT', 'TRIGGER', 'CREATED', 'DURATION', 'ACTIONS'],
        page.items.map((session) => [
          session.id,
          paintedStatus(session.status, view),
          // detected and parked for its window (Running for hours): when it opens says more than "Detection"
          session.awaitingExecution && session.executeAt !== undefined ? `window ${instant(session.executeAt, view) ?? ''}` : session.stage,
          session.computerName ?? session.computerId,
          session.tenantId,
          session.trigger,
          when(session.createdAt, view),
          // a session still under way has no duration yet (its last update says nothing about now)
          session.endedAt === undefined ? undefined : duration(Date.parse(session.endedAt) - Date.parse(session.createdAt)),
          session.actionCount,
        ]),
        view,
      ),
    );
  if (page.counts) lines.push('', `${dim(view)('counts')}  ${counts(page.counts, view)}`);
  return lines.join('\n');
}

/** The session report as the API answers it (the fields the CLI draws). */
export type SessionReportView = Pick<Schemas['SessionReport'], 'sessionId' | 'computerId' | 'computerName' | 'status' | 'durationMs' | 'failure' | 'rows' | 'leftAlone' | 'observed' | 'why' | 'cost' | 'origin'>;

/** What the session (or run) cost at list prices, with the counts it comes from: one line an MSP can bill by. */
export function costWords(cost: Omit<Schemas['SessionCost'], 'final'> & { readonly final?: boolean }): string {
  const { counted, priceUsd, pricing } = cost;
  const parts = [
    `Step Functions ${formatUsd(priceUsd.stepFunctions)}`,
    `Lambda ${formatUsd(priceUsd.lambda)}`,
    `DynamoDB ${formatUsd(priceUsd.dynamodb)}`,
    ...(priceUsd.events > 0 ? [`events ${formatUsd(priceUsd.events)}`] : []),
    ...(priceUsd.scheduler > 0 ? [`Scheduler ${formatUsd(priceUsd.scheduler)}`] : []),
    ...(priceUsd.email > 0 ? [`email ${formatUsd(priceUsd.email)}`] : []),
  ];
  const counts = `${String(counted.stateTransitions)} transitions, ${String(counted.lambdaInvocations)} invocations, ${String(counted.tableReadUnits)} read / ${String(counted.tableWriteUnits)} write units`;
  return `${formatUsd(priceUsd.total)} at ${pricing.region} list prices${cost.final === false ? ' so far' : ''} (${parts.join(', ')}; ${counts})`;
}

/** Why a session has no actions: nothing to do, nothing done, or nothing planned yet. */
function noActions(sessionStatus: string): string {
  if (sessionStatus === 'Passed' || sessionStatus === 'PartialPassed') return 'No actions: the computer was compliant.';
  if (sessionStatus === 'Failed' || sessionStatus === 'Cancelled') return 'No actions ran.';
  return 'No actions planned yet.';
}

/** The session report: who, how it ended, then one row per action, then what was left alone and why. */
export function sessionReport(report: SessionReportView, view: View): string {
  const out = [
    details(
      [
        ['session', report.sessionId],
        ['computer', `${report.computerName} (${report.computerId})`],
        ['status', paintedStatus(report.status, view)],
        // `nightshift runs show <id>` from here: the run's counts, and halt for the rest of its computers
        ['run', report.origin ? `${clean(report.origin.runId)} (schedule ${clean(report.origin.scheduleId)})` : undefined],
        ['duration', duration(report.durationMs)],
        ['failure', report.failure ? `${report.failure.code}: ${report.failure.message}` : undefined],
        ['cost', report.cost ? costWords(report.cost) : undefined],
      ],
      view,
    ),
  ];
  out.push(
    section(
      'actions',
      report.rows.length === 0
        ? noActions(report.status)
        : table(
            ['#', 'ACTION', 'ITEM', 'BEFORE', 'AFTER', 'RESULT', 'TIME', 'WHY'],
            report.rows.map((row) => [row.actionId, row.type, row.itemName, row.before, row.after, paintedStatus(row.result, view), duration(row.durationMs), truncate(clean(row.why), 60)]),
            view,
          ),
      view,
    ),
  );
  if (report.leftAlone.length > 0) out.push(section('left alone', report.leftAlone.map((item) => `  ${clean(item)}`).join('\n'), view));
  if (report.observed.length > 0) out.push(section('observed', report.observed.map((item) => `  ${clean(item)}`).join('\n'), view));
  if (report.why.length > 0) out.push(section('why', report.why.map((item) => `  ${clean(item)}`).join('\n'), view));
  return out.join('\n');
}

const UNDER_WAY = new Set(['PerformingAction', 'DeterminingResult']);
const NOT_DONE = new Set(['NotStarted', ...UNDER_WAY]);

/** One line of a running session's progress: status, actions done of all, the one under way. */
export function sessionProgress(report: SessionReportView, view: View): string {
  const done = report.rows.filter((row) => !NOT_DONE.has(row.result)).length;
  const current = report.rows.find((row) => UNDER_WAY.has(row.result));
  return [
    `${clean(report.sessionId)} ${status(report.status, view)}`,
    report.rows.length === 0 ? 'no actions planned yet' : `${String(done)}/${String(report.rows.length)} actions done`,
    ...(current ? [`${clean(current.type)} ${clean(current.itemName)}…`] : []),
  ].join(' · ');
}

export interface LogEntryView {
  readonly at: string;
  readonly kind: string;
  readonly message: string;
  readonly by?: { readonly kind: string; readonly name: string };
  readonly actionId?: string;
  readonly output?: string;
}

/** Log lines as they come: time, kind, message (and who asked); script output indented under its line. */
export function logLines(entries: readonly LogEntryView[], view: View): string[] {
  return entries.flatMap((entry) => {
    const who = entry.by ? ` ${dim(view)(`(${clean(entry.by.kind)} ${clean(entry.by.name)})`)}` : '';
    const action = entry.actionId === undefined ? '' : `[${clean(entry.actionId)}] `;
    const kind = clean(entry.kind).padEnd(7);
    const head = `${instant(entry.at, view) ?? ''}  ${entry.kind === 'Problem' ? red(view)(kind) : kind}  ${action}${clean(entry.message)}${who}`;
    const output = (entry.output ?? '')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => `    ${dim(view)('│')} ${clean(line)}`);
    return [head, ...output];
  });
}

// ---- schedules and runs ----------------------------------------------------

export interface ScheduleSummaryView {
  readonly id: string;
  readonly name: string;
  readonly enabled: boolean;
  readonly tenantId?: string;
  readonly target: { readonly kind: string; readonly tag?: string; readonly computerIds?: readonly string[] };
  readonly recurrence: { readonly kind: string; readonly days?: readonly (string | number)[]; readonly expression?: string };
  readonly detectionTime?: string;
  readonly maintenanceTime?: string;
  readonly executeImmediatelyAfterDetection?: boolean;
  readonly detectionOnly?: boolean;
  readonly timeZone?: string;
  readonly useComputerTimeZone?: boolean;
}

export function targetWords(target: ScheduleSummaryView['target']): string {
  switch (target.kind) {
    case 'AllComputers':
      return 'all computers';
    case 'Tag':
      return `tag ${target.tag ?? '?'}`;
    case 'Computers':
      return `${String(target.computerIds?.length ?? 0)} computer(s)`;
    default:
      return target.kind;
  }
}

export function recurrenceWords(recurrence: ScheduleSummaryView['recurrence']): string {
  switch (recurrence.kind) {
    case 'Daily':
      return 'daily';
    case 'Weekly':
      return `weekly ${(recurrence.days ?? []).join(',')}`;
    case 'Monthly':
      return `monthly ${(recurrence.days ?? []).join(',')}`;
    case 'Cron':
      return `cron ${recurrence.expression ?? ''}`;
    default:
      return recurrence.kind;
  }
}

const executionWords = (schedule: ScheduleSummaryView): string | undefined => {
  if (schedule.detectionOnly === true) return 'detection only';
  if (schedule.executeImmediatelyAfterDetection === true) return 'after detection';
  if (schedule.maintenanceTime === undefined) return undefined;
  return schedule.useComputerTimeZone === true ? `${schedule.maintenanceTime} (computer's zone)` : schedule.maintenanceTime;
};

export function scheduleList(items: readonly ScheduleSummaryView[], view: View): string {
  if (items.length === 0) return nothing('schedules');
  return table(
    ['SCHEDULE', 'NAME', 'ENABLED', 'TENANT', 'TARGET', 'RECURS', 'DETECT', 'EXECUTE', 'ZONE'],
    items.map((schedule) => [
      schedule.id,
      truncate(clean(schedule.name), 40),
      schedule.enabled ? 'yes' : painted(dim(view)('no')),
      schedule.tenantId ?? 'all',
      targetWords(schedule.target),
      recurrenceWords(schedule.recurrence),
      schedule.detectionTime ?? (schedule.recurrence.kind === 'Cron' ? 'cron' : undefined),
      executionWords(schedule),
      schedule.timeZone ?? 'tenant/UTC',
    ]),
    view,
  );
}

export interface ScheduleView extends ScheduleSummaryView {
  readonly version: number;
  readonly includeChildTenants?: boolean;
  readonly deviceClasses?: readonly string[];
  readonly limitTo?: string;
  readonly offline?: { readonly behaviour: string; readonly waitHours?: number };
  readonly reboot?: { readonly preference: string };
  readonly flexibleWindowMinutes?: number;
  readonly rollout?: {
    readonly maxConcurrent?: { readonly kind: string; readonly value: number };
    readonly errorBudget?: { readonly kind: string; readonly value: number };
    readonly rings?: readonly { readonly name: string; readonly percent: number; readonly successThresholdPercent?: number; readonly soakMinutes?: number }[];
  };
  readonly createdAt: string;
  readonly createdBy: { readonly name: string };
  readonly updatedAt: string;
  readonly updatedBy: { readonly name: string };
}

const amount = (value: { readonly kind: string; readonly value: number } | undefined): Cell =>
  value === undefined ? undefined : value.kind === 'Percent' ? `${String(value.value)} %` : String(value.value);

export function schedule(item: ScheduleView, view: View): string {
  const out = [
    details(
      [
        ['schedule', item.id],
        ['name', item.name],
        ['enabled', yesNo(item.enabled)],
        ['version', item.version],
        ['tenant', item.tenantId === undefined ? 'all tenants' : `${item.tenantId}${item.includeChildTenants === true ? ' and its children' : ''}`],
        ['target', targetWords(item.target)],
        ['computers', item.target.kind === 'Computers' ? list(item.target.computerIds) : undefined],
        ['device classes', list(item.deviceClasses)],
        ['limited to', item.limitTo],
        ['recurs', recurrenceWords(item.recurrence)],
        ['detection', item.detectionTime],
        ['execution', executionWords(item)],
        ['time zone', item.timeZone ?? "the tenant's, else UTC"],
        ['offline', item.offline ? `${item.offline.behaviour}${item.offline.behaviour === 'ApplyOnConnect' && item.offline.waitHours !== undefined ? ` (wait ${String(item.offline.waitHours)} h)` : ''}` : undefined],
        ['reboot', item.reboot?.preference],
        ['flexible window', item.flexibleWindowMinutes ? `${String(item.flexibleWindowMinutes)} min` : undefined],
        ['max concurrent', amount(item.rollout?.maxConcurrent)],
        ['error budget', amount(item.rollout?.errorBudget)],
        ['created', `${instant(item.createdAt, view, { withZone: true }) ?? ''} by ${item.createdBy.name}`],
        ['updated', `${instant(item.updatedAt, view, { withZone: true }) ?? ''} by ${item.updatedBy.name}`],
      ],
      view,
    ),
  ];
  const rings = item.rollout?.rings ?? [];
  if (rings.length > 0) {
    out.push(
      section(
        'rings',
        table(
          ['RING', 'REACHES', 'MUST PASS', 'SOAK'],
          rings.map((ring) => [ring.name, `${String(ring.percent)} %`, ring.successThresholdPercent === undefined ? undefined : `${String(ring.successThresholdPercent)} %`, ring.soakMinutes === undefined ? undefined : `${String(ring.soakMinutes)} min`]),
          view,
        ),
        view,
      ),
    );
  }
  return out.join('\n');
}

export function preview(item: Schemas['SchedulePreview'], view: View): string {
  const out = [
    details([['schedule zone', item.timeZone]], view),
    section('next fires', item.nextFires.length === 0 ? '  none (the recurrence has no date ahead)' : item.nextFires.map((fire) => `  ${instant(fire, view, { withZone: true }) ?? fire}`).join('\n'), view),
  ];
  out.push(
    section(
      'at the next fire',
      item.targets.length === 0
        ? nothing('computers are targeted')
        : table(
            ['COMPUTER', 'NAME', 'TENANT', 'ZONE', 'WINDOW OPENS', 'SKIPPED'],
            item.targets.map((target) => [
              target.computerId,
              target.computerName,
              target.tenantId,
              target.timeZone,
              when(target.windowOpensAt, view),
              target.skipped === undefined ? undefined : painted(yellow(view)(clean(`${target.skipped}${target.detail ? `: ${target.detail}` : ''}`))),
            ]),
            view,
          ),
      view,
    ),
  );
  if (item.unknownComputerIds.length > 0) out.push(section('unknown computers', `  ${clean(item.unknownComputerIds.join(', '))}`, view));
  return out.join('\n');
}

export interface RunView {
  /** What its sessions and its fan-out cost; absent from servers older than cost metering. */
  readonly cost?: Schemas['RunCost'];
  readonly id: string;
  readonly scheduleId: string;
  readonly scheduleName: string;
  readonly scheduleVersion: number;
  readonly scheduledTime: string;
  readonly trigger: string;
  readonly by: { readonly kind: string; readonly name: string };
  readonly status: string;
  readonly currentRing: number;
  readonly haltReason?: string;
  readonly outcome: Schemas['RunOutcome'];
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly targeted: number;
  readonly started: number;
  readonly skipped: Readonly<Partial<Record<string, number>>>;
  readonly rollout?: { readonly rings?: readonly { readonly name: string }[] };
}

/** Of a run's running sessions, those at work (detecting, maintaining, verifying) and those detected and waiting for their window; a run counted before the split waits for none. */
const runningSplit = (outcome: Schemas['RunOutcome']): { readonly atWork: number; readonly waiting: number } => ({
  atWork: outcome.running - (outcome.awaitingExecution ?? 0),
  waiting: outcome.awaitingExecution ?? 0,
});

export function runList(items: readonly RunView[], view: View): string {
  if (items.length === 0) return nothing('runs');
  return table(
    ['RUN', 'STATUS', 'TRIGGER', 'SCHEDULED', 'TARGETED', 'STARTED', 'SKIPPED', 'PASSED', 'PARTIAL', 'FAILED', 'RUNNING', 'WAITING', 'QUEUED'],
    items.map((run) => {
      const { atWork, waiting } = runningSplit(run.outcome);
      return [
        run.id,
        paintedStatus(run.status, view),
        run.trigger,
        when(run.scheduledTime, view),
        run.targeted,
        run.started,
        Object.values(run.skipped).reduce<number>((sum, count) => sum + (count ?? 0), 0),
        run.outcome.passed,
        run.outcome.partiallyPassed,
        run.outcome.failed,
        atWork,
        waiting,
        run.outcome.queued,
      ];
    }),
    view,
  );
}

export function run(item: RunView, view: View): string {
  const { atWork, waiting } = runningSplit(item.outcome);
  const rings = item.rollout?.rings ?? [];
  const skipped = Object.entries(item.skipped).filter(([, count]) => (count ?? 0) > 0);
  return details(
    [
      ['run', item.id],
      ['schedule', `${item.scheduleName} (${item.scheduleId}, version ${String(item.scheduleVersion)})`],
      ['status', paintedStatus(item.status, view)],
      ['halted', item.haltReason],
      ['trigger', `${item.trigger} by ${item.by.name}`],
      ['cost', item.cost ? `${costWords(item.cost)} over ${String(item.cost.sessionsCounted)} ended session(s)` : undefined],
      ['scheduled', whenInDetail(item.scheduledTime, view)],
      ['ring', rings.length === 0 ? undefined : `${String(item.currentRing + 1)} of ${String(rings.length)} (${rings[item.currentRing]?.name ?? '?'})`],
      ['targeted', item.targeted],
      ['started', item.started],
      ['skipped', skipped.length === 0 ? undefined : skipped.map(([reason, count]) => `${String(count)} ${reason}`).join(', ')],
      [
        'sessions',
        painted(
          counts(
            {
              Passed: item.outcome.passed,
              PartialPassed: item.outcome.partiallyPassed,
              Failed: item.outcome.failed,
              Cancelled: item.outcome.cancelled,
              Running: atWork,
              'Waiting for window': waiting,
              Queued: item.outcome.queued,
            },
            view,
          ),
        ),
      ],
      ['updated', whenInDetail(item.updatedAt, view)],
    ],
    view,
  );
}

export interface RunTargetView {
  readonly computerId: string;
  readonly computerName: string;
  readonly tenantId: string;
  readonly sessionId?: string;
  readonly skipped?: string;
  readonly detail?: string;
  readonly executeAt?: string;
  readonly ring: number;
  /** The session's status, when the API adds it. */
  readonly status?: string;
}

export function runTargets(items: readonly RunTargetView[], view: View): string {
  if (items.length === 0) return nothing('targets');
  return table(
    ['COMPUTER', 'NAME', 'TENANT', 'RING', 'SESSION', 'STATUS', 'WINDOW OPENS', 'SKIPPED'],
    items.map((target) => [
      target.computerId,
      target.computerName,
      target.tenantId,
      target.ring + 1,
      target.sessionId,
      paintedStatus(target.status, view),
      when(target.executeAt, view),
      target.skipped === undefined ? undefined : `${target.skipped}${target.detail ? `: ${truncate(target.detail, 60)}` : ''}`,
    ]),
    view,
  );
}

// ---- fleet and catalog -----------------------------------------------------

export interface ComputerView {
  readonly id: string;
  readonly name: string;
  readonly tenantId: string;
  readonly platform: string;
  readonly deviceClass?: string;
  readonly tags?: readonly string[];
  readonly primaryUser?: { readonly name: string; readonly email: string };
  readonly timeZone?: string;
  readonly online?: boolean;
  readonly agentId: string;
  readonly activeHours?: { readonly start: string; readonly end: string };
}

export function computerList(items: readonly ComputerView[], view: View): string {
  if (items.length === 0) return nothing('computers');
  return table(
    ['COMPUTER', 'NAME', 'TENANT', 'PLATFORM', 'CLASS', 'ONLINE', 'USER', 'ZONE', 'TAGS'],
    items.map((computer) => [
      computer.id,
      computer.name,
      computer.tenantId,
      computer.platform,
      computer.deviceClass,
      computer.online === false ? painted(red(view)('no')) : yesNo(computer.online),
      computer.primaryUser?.email,
      computer.timeZone,
      list(computer.tags),
    ]),
    view,
  );
}

export const computer = (item: ComputerView, view: View): string =>
  details(
    [
      ['computer', item.id],
      ['name', item.name],
      ['tenant', item.tenantId],
      ['agent', item.agentId],
      ['platform', item.platform],
      ['class', item.deviceClass],
      ['online', yesNo(item.online)],
      ['user', item.primaryUser ? `${item.primaryUser.name} <${item.primaryUser.email}>` : undefined],
      ['time zone', item.timeZone],
      ['active hours', item.activeHours ? `${item.activeHours.start}–${item.activeHours.end}` : undefined],
      ['tags', list(item.tags)],
    ],
    view,
  );

export interface ExplanationView {
  readonly computerId: string;
  readonly items: readonly {
    readonly key: string;
    readonly itemName: string;
    readonly origin: string;
    readonly wants: string;
    readonly explanation: { readonly winner?: string; readonly rule: string; readonly summary: string };
  }[];
  readonly problems: readonly string[];
}

/** "Why does this computer get this?": one row per item, the winning deployment, the deciding rule, the sentence. */
export function explanation(item: ExplanationView, view: View): string {
  const out = [
    item.items.length === 0
      ? nothing('deployments apply to this computer')
      : table(
          ['ITEM', 'WANTS', 'DEPLOYMENT', 'RULE', 'WHY'],
          item.items.map((entry) => [entry.itemName, entry.wants, entry.explanation.winner ?? (entry.origin === 'Prerequisite' ? 'prerequisite' : undefined), entry.explanation.rule, entry.explanation.summary]),
          view,
        ),
  ];
  if (item.problems.length > 0) out.push(section('problems', item.problems.map((problem) => `  ${clean(problem)}`).join('\n'), view));
  return out.join('\n');
}

export interface TenantView {
  readonly id: string;
  readonly name: string;
  readonly parentTenantId?: string;
  readonly excludeFromCrossTenant?: boolean;
  readonly enabled?: boolean;
  readonly defaultTimeZone?: string;
}

export function tenantList(items: readonly TenantView[], view: View): string {
  if (items.length === 0) return nothing('tenants');
  return table(
    ['TENANT', 'NAME', 'PARENT', 'ENABLED', 'CROSS-TENANT', 'ZONE'],
    items.map((tenant) => [
      tenant.id,
      tenant.name,
      tenant.parentTenantId,
      tenant.enabled === false ? painted(yellow(view)('on hold')) : 'yes',
      tenant.excludeFromCrossTenant === true ? 'excluded' : 'included',
      tenant.defaultTimeZone,
    ]),
    view,
  );
}

export interface DeploymentView {
  readonly id: string;
  readonly itemKind: string;
  readonly softwareId?: string;
  readonly taskId?: string;
  readonly desiredState?: string;
  readonly version?: string;
  readonly mode?: string;
  readonly target: { readonly kind: string; readonly tenantId?: string; readonly tag?: string; readonly computerId?: string; readonly email?: string; readonly includeChildTenants?: boolean };
  readonly deviceClasses?: readonly string[];
  readonly enabled?: boolean;
  readonly critical?: boolean;
}

export function deploymentTargetWords(target: DeploymentView['target']): string {
  switch (target.kind) {
    case 'AllTenants':
      return 'all tenants';
    case 'Tenant':
      return `tenant ${target.tenantId ?? '?'}${target.includeChildTenants === true ? ' and children' : ''}`;
    case 'Tag':
      return `tag ${target.tag ?? '?'}${target.tenantId === undefined ? ' (all tenants)' : ` in ${target.tenantId}`}`;
    case 'Computer':
      return `computer ${target.computerId ?? '?'}`;
    case 'Person':
      return `person ${target.email ?? '?'}`;
    default:
      return target.kind;
  }
}

export function deploymentList(items: readonly DeploymentView[], view: View): string {
  if (items.length === 0) return nothing('deployments');
  return table(
    ['DEPLOYMENT', 'ITEM', 'WANTS', 'TARGET', 'CLASSES', 'ENABLED', 'CRITICAL'],
    items.map((deployment) => [
      deployment.id,
      deployment.itemKind === 'Software' ? `software:${deployment.softwareId ?? '?'}` : `task:${deployment.taskId ?? '?'}`,
      deployment.itemKind === 'Software' ? `${deployment.desiredState ?? '?'}${deployment.version === undefined ? '' : ` ${deployment.version}`}` : deployment.mode,
      deploymentTargetWords(deployment.target),
      list(deployment.deviceClasses) ?? 'all',
      deployment.enabled === false ? painted(dim(view)('no')) : 'yes',
      yesNo(deployment.critical),
    ]),
    view,
  );
}

// ---- audit -----------------------------------------------------------------

export interface AuditEntryView {
  readonly resource: string;
  readonly resourceId: string;
  readonly tenantId?: string;
  readonly version: number;
  readonly at: string;
  readonly by: { readonly kind: string; readonly name: string };
  readonly action: string;
  readonly changes: readonly { readonly field: string }[];
}

export function auditList(items: readonly AuditEntryView[], view: View): string {
  if (items.length === 0) return nothing('changes recorded');
  return table(
    ['WHEN', 'WHO', 'ACTION', 'RESOURCE', 'ID', 'TENANT', 'VERSION', 'FIELDS'],
    items.map((entry) => [
      when(entry.at, view),
      entry.by.name,
      entry.action,
      entry.resource,
      entry.resourceId,
      entry.tenantId,
      entry.version,
      truncate(entry.changes.map((change) => change.field).join(', '), 60),
    ]),
    view,
  );
}

// ---- anything else -----------------------------------------------------------

/**
 * A record shown field by field: scalars as they are, lists of scalars
 * joined, anything nested as one line of JSON. For resources with no view of
 * their own (a software item's scripts are better read with --json).
 */
export function record(value: Readonly<Record<string, unknown>>, view: View): string {
  return details(
    Object.entries(value).map(([key, field]): [string, Cell] => {
      if (field === undefined || field === null) return [key, undefined];
      // a script reads badly on one line: say what it is and where to read it
      if (typeof field === 'string') return [key, field.includes('\n') ? `(${String(field.trimEnd().split('\n').length)} lines: add --json to read)` : truncate(field, 120)];
      if (typeof field === 'number' || typeof field === 'boolean') return [key, String(field)];
      if (Array.isArray(field) && field.every((entry) => typeof entry === 'string' || typeof entry === 'number')) return [key, list(field.map(String)) ?? '(none)'];
      return [key, truncate(JSON.stringify(field), 120)];
    }),
    view,
  );
}

export interface CatalogItemView {
  readonly id: string;
  readonly name: string;
  readonly platform: string;
  /** Software only: the newest version the catalog knows. */
  readonly latestVersion?: string;
}

/** Software items or tasks: id, name, platform, and for software the latest version. */
export function catalogList(items: readonly CatalogItemView[], view: View): string {
  if (items.length === 0) return nothing('items');
  return table(['ID', 'NAME', 'PLATFORM', 'LATEST'], items.map((item) => [item.id, item.name, item.platform, item.latestVersion]), view);
}

/** What an import did (or, dry, would do): the counts, then each computer and each node skipped with its reason. */
export function importReport(report: Schemas['ComputerImportReport'], view: View): string {
  const { counts } = report;
  const out = [
    `${report.dryRun ? 'Dry run, nothing changed: would have' : 'Imported:'} ${String(counts.Created)} created, ${String(counts.Updated)} updated, ${String(counts.Moved)} moved, ${String(counts.Unchanged)} unchanged, ${String(counts.skipped)} skipped.`,
  ];
  if (report.computers.length > 0) {
    out.push('', table(['COMPUTER', 'NAME', 'TENANT', 'OUTCOME'], report.computers.map((c) => [c.computerId, c.name, c.tenantId, c.outcome === 'Moved' ? painted(yellow(view)(c.outcome)) : c.outcome]), view));
  }
  if (report.skipped.length > 0) {
    out.push('', table(['SKIPPED NODE', 'REASON', 'DETAIL'], report.skipped.map((s) => [s.agentId, painted(yellow(view)(s.reason)), clean(s.detail)]), view));
  }
  return out.join('\n');
}

// ---- branding ----------------------------------------------------------------

export interface BrandingView {
  readonly owner: { readonly kind: string; readonly tenantId?: string };
  readonly id: string;
  readonly version: number;
  readonly updatedAt: string;
  readonly dateRange?: { readonly from: string; readonly to: string };
}

/** What a branding does not set itself: it inherits it. */
const BRANDING_BOOKKEEPING = new Set(['owner', 'id', 'version', 'updatedAt', 'dateRange']);

/** An owner's brandings, each with when it applies and the fields it sets (the rest come from the MSP's, then Nightshift's). */
export function brandingList(items: readonly (BrandingView & Readonly<Record<string, unknown>>)[], owner: string, view: View): string {
  if (items.length === 0) return `${nothing('branding')} ${owner === 'the MSP' ? "Nightshift's plain look applies." : "The MSP's branding applies."}`;
  return items
    .map((branding) => {
      const applies = branding.dateRange === undefined ? 'all year (unless a seasonal one is in range)' : `${branding.dateRange.from} to ${branding.dateRange.to}`;
      const fields = Object.entries(branding)
        .filter(([key, value]) => !BRANDING_BOOKKEEPING.has(key) && value !== undefined)
        .map(([key, value]): [string, Cell] => [key, typeof value === 'string' ? truncate(value, 120) : truncate(JSON.stringify(value), 120)]);
      const header = details(
        [
          ['branding', `${branding.id} of ${owner}`],
          ['applies', applies],
          ['version', branding.version],
          ['updated', whenInDetail(branding.updatedAt, view)],
        ],
        view,
      );
      const sets = fields.length === 0 ? 'nothing: everything is inherited' : details(fields, view);
      return `${header}\n${section('sets', sets.replace(/^/gm, '  '), view)}`;
    })
    .join('\n\n');
}
