import { Option, type Command } from 'commander';
import type { SessionStatus } from '../../functions/core/model/session.js';
import { futureInstant, integerWithin, pastInstant, secondsAsMs } from '../arguments.js';
import type { Api } from '../client.js';
import { example, type Cli } from '../context.js';
import { instant, type View } from '../format.js';
import { logLines, sessionList, sessionProgress, sessionReport, type SessionReportView } from '../views.js';
import { pageQuery, type PageOptions } from './shared.js';

/** Every session status, and whether a session in it has ended: the CLI's `--status` choices and `follow`'s stop. */
const ENDED: Readonly<Record<SessionStatus, boolean>> = {
  Created: false,
  Running: false,
  PendingConnectivity: false,
  Postponed: false,
  Cancelled: true,
  Passed: true,
  PartialPassed: true,
  Failed: true,
};
const isEnded = (status: string): boolean => Object.hasOwn(ENDED, status) && ENDED[status as SessionStatus];

const DEFAULT_POLL_MS = 2_000;

interface ListOptions extends PageOptions {
  readonly tenant?: string;
  readonly computer?: string;
  readonly status?: SessionStatus;
  readonly run?: string;
  readonly since?: string;
  readonly until?: string;
}

interface StartOptions {
  readonly detectionOnly?: boolean;
  readonly executeAt?: string;
  readonly reboot?: 'IfNecessary' | 'Suppress' | 'Force';
  readonly limitTo?: string;
  readonly offline?: 'ApplyOnConnect' | 'Skip';
  readonly supersede?: boolean;
  readonly idempotencyKey?: string;
}

const idempotencyOption = () =>
  new Option('--idempotency-key <key>', 'the same key asks for the same session once: a script that retries after a timeout gets the session it started, not a second one');

export function sessionCommands(program: Command, cli: Cli): void {
  const sessions = program.command('sessions').description('maintenance sessions: list, read, follow, start and steer them');

  example(
    sessions
      .command('list')
      .description('sessions newest first, with counts per status (default: the last 7 days; a range is at most 31 days)')
      .option('--tenant <tenantId>', "only this tenant's sessions")
      .option('--computer <computerId>', "only this computer's sessions")
      .addOption(new Option('--status <status>', 'only sessions in this status').choices(Object.keys(ENDED)))
      .option('--run <runId>', "only this schedule run's sessions")
      .option('--since <when>', 'created at or after: an instant, or a duration ago (24h, 7d)', pastInstant(cli.now))
      .option('--until <when>', 'created before: an instant, or a duration ago', pastInstant(cli.now))
      .option('--limit <n>', "sessions per page (1-200, the API's default 50)", integerWithin(1, 200))
      .option('--cursor <cursor>', 'the page after this one (printed as "More results" by the page before)')
      .option('--all', 'every page, one after the other')
      .action(async (options: ListOptions, command: Command) => {
        const { client, call } = await cli.api(command);
        const filters = {
          ...(options.tenant === undefined ? {} : { tenantId: options.tenant }),
          ...(options.computer === undefined ? {} : { computerId: options.computer }),
          ...(options.status === undefined ? {} : { status: options.status }),
          ...(options.run === undefined ? {} : { runId: options.run }),
          ...(options.since === undefined ? {} : { from: options.since }),
          ...(options.until === undefined ? {} : { to: options.until }),
        };
        await cli.list(command, options, (cursor) => call(client.GET('/v1/sessions', { params: { query: { ...filters, ...pageQuery(options, cursor) } } })), sessionList);
      }),
    'nightshift sessions list --status Failed --since 24h',
    'nightshift sessions list --tenant contoso --all --json > sessions.json',
  );

  example(
    sessions
      .command('show')
      .argument('<sessionId>')
      .description('what the session did: status, each action before and after, and why')
      .action(async (sessionId: string, _options: unknown, command: Command) => {
        const { client, call } = await cli.api(command);
        const report = await call(client.GET('/v1/sessions/{sessionId}', { params: { path: { sessionId } } }));
        cli.show(command, report, sessionReport);
      }),
    'nightshift sessions show ses_0001',
  );

  example(
    sessions
      .command('log')
      .argument('<sessionId>')
      .description("the session's log, oldest first; --follow keeps reading until the session ends")
      .option('-f, --follow', 'keep reading new lines until the session has ended')
      .option('--interval <seconds>', 'with --follow: how long to wait between reads (default 2)', secondsAsMs)
      .action(async (sessionId: string, options: { follow?: boolean; interval?: number }, command: Command) => {
        const api = await cli.api(command);
        await readLog(cli, command, api, sessionId, options);
      }),
    'nightshift sessions log ses_0001',
    'nightshift sessions log ses_0001 --follow',
  );

  example(
    sessions
      .command('follow')
      .argument('<sessionId>')
      .description('show the session progress live (status, action by action) until it ends, then its report')
      .option('--interval <seconds>', 'how long to wait between looks (default 2)', secondsAsMs)
      .action(async (sessionId: string, options: { interval?: number }, command: Command) => {
        const api = await cli.api(command);
        await follow(cli, command, api, sessionId, options.interval ?? DEFAULT_POLL_MS);
      }),
    'nightshift sessions follow ses_0001',
  );

  example(
    sessions
      .command('start')
      .argument('<computerId>')
      .description('start a session for a computer now: detection, then execution at once or at --execute-at')
      .option('--detection-only', 'plan and report what would change; touch nothing')
      .option('--execute-at <when>', 'when the maintenance window opens: an instant, or a duration from now (2h)', futureInstant(cli.now))
      .addOption(new Option('--reboot <preference>', 'restarts an action asks for').choices(['IfNecessary', 'Suppress', 'Force']))
      .option('--limit-to <item>', 'only this item (and what it needs): software:<id> or task:<id>')
      .addOption(new Option('--offline <behaviour>', 'an offline computer: wait for it, or end the session').choices(['ApplyOnConnect', 'Skip']))
      .option('--supersede', "cancel the computer's unfinished session and start this one")
      .addOption(idempotencyOption())
      .action(async (computerId: string, options: StartOptions, command: Command) => {
        const { client, call } = await cli.api(command);
        const sessionOptions = {
          ...(options.detectionOnly === true ? { mode: 'DetectionOnly' as const } : {}),
          ...(options.executeAt === undefined ? {} : { executeAt: options.executeAt }),
          ...(options.reboot === undefined ? {} : { reboot: options.reboot }),
          ...(options.limitTo === undefined ? {} : { limitTo: options.limitTo }),
          ...(options.offline === undefined ? {} : { offline: options.offline }),
        };
        const started = await call(
          client.POST('/v1/sessions', {
            params: { header: options.idempotencyKey === undefined ? {} : { 'idempotency-key': options.idempotencyKey } },
            body: { computerId, ...(Object.keys(sessionOptions).length === 0 ? {} : { options: sessionOptions }), ...(options.supersede === true ? { supersede: true } : {}) },
          }),
        );
        cli.show(command, started, startedWords);
      }),
    'nightshift sessions start pc-frontdesk',
    'nightshift sessions start pc-frontdesk --detection-only',
    'nightshift sessions start pc-frontdesk --execute-at 2026-11-23T22:00:00+01:00 --idempotency-key ticket-4711',
  );

  example(
    sessions
      .command('cancel')
      .argument('<sessionId>')
      .description('cancel the session: before execution nothing is touched; during it the running command is cancelled')
      .action(async (sessionId: string, _options: unknown, command: Command) => {
        const { client, call } = await cli.api(command);
        const answer = await call(client.POST('/v1/sessions/{sessionId}/cancel', { params: { path: { sessionId } } }));
        cli.show(command, answer, (data) => `Session ${sessionId}: ${data.status}.`);
      }),
    'nightshift sessions cancel ses_0001',
  );

  example(
    sessions
      .command('postpone')
      .argument('<sessionId>')
      .description("move the maintenance later by the session's postpone delay, or to --until (within its count and deadline)")
      .option('--until <when>', 'the new maintenance time: an instant, or a duration from now (3h)', futureInstant(cli.now))
      .action(async (sessionId: string, options: { until?: string }, command: Command) => {
        const { client, call } = await cli.api(command);
        const answer = await call(client.POST('/v1/sessions/{sessionId}/postpone', { params: { path: { sessionId } }, body: options.until === undefined ? {} : { until: options.until } }));
        cli.show(command, answer, (data, view) => `Session ${sessionId} now executes at ${instantWords(data.executeAt, view)}; ${String(data.postponesLeft)} postpone(s) left.`);
      }),
    'nightshift sessions postpone ses_0001 --until 2026-11-24T03:00:00+01:00',
  );

  example(
    sessions
      .command('run-now')
      .argument('<sessionId>')
      .description('move the maintenance to now: a waiting or postponed session executes at once')
      .action(async (sessionId: string, _options: unknown, command: Command) => {
        const { client, call } = await cli.api(command);
        const answer = await call(client.POST('/v1/sessions/{sessionId}/run-now', { params: { path: { sessionId } } }));
        cli.show(command, answer, (data, view) => `Session ${sessionId} executes at ${instantWords(data.executeAt, view)}.`);
      }),
    'nightshift sessions run-now ses_0001',
  );

  example(
    sessions
      .command('rerun')
      .argument('<sessionId>')
      .description("a new session for the same computer with the same options; --action: only that action's item")
      .option('--action <actionId>', 'rerun only this action (its item and what it needs), e.g. 002')
      .addOption(idempotencyOption())
      .action(async (sessionId: string, options: { action?: string; idempotencyKey?: string }, command: Command) => {
        const { client, call } = await cli.api(command);
        const header = options.idempotencyKey === undefined ? {} : { 'idempotency-key': options.idempotencyKey };
        const started =
          options.action === undefined
            ? await call(client.POST('/v1/sessions/{sessionId}/rerun', { params: { path: { sessionId }, header } }))
            : await call(client.POST('/v1/sessions/{sessionId}/actions/{actionId}/rerun', { params: { path: { sessionId, actionId: options.action }, header } }));
        cli.show(command, started, startedWords);
      }),
    'nightshift sessions rerun ses_0001',
    'nightshift sessions rerun ses_0001 --action 002',
  );
}

const instantWords = (iso: string, view: View): string => instant(iso, view, { withZone: true }) ?? iso;

function startedWords(result: { sessionId: string; created: boolean; existing?: 'SameRequest' | 'ComputerBusy' }): string {
  if (result.created) return `Started session ${result.sessionId}.\nFollow it with: nightshift sessions follow ${result.sessionId}`;
  if (result.existing === 'ComputerBusy') return `The computer is busy with session ${result.sessionId}; no new session started (add --supersede to replace it).`;
  return `Session ${result.sessionId} was started by the same request before.`;
}

/**
 * Reads the log page by page. A page without a cursor is the end so far: the
 * next read asks for that page again and prints only what was added to it.
 */
async function readLog(cli: Cli, command: Command, api: Api, sessionId: string, options: { follow?: boolean; interval?: number }): Promise<void> {
  const json = cli.globals(command).json === true;
  const view = cli.view(command);
  const pollMs = options.interval ?? DEFAULT_POLL_MS;
  let cursor: string | undefined;
  let printedOfPage = 0;
  let ended = false;
  for (;;) {
    const page = await api.call(api.client.GET('/v1/sessions/{sessionId}/log', { params: { path: { sessionId }, query: cursor === undefined ? {} : { cursor } } }));
    if (options.follow !== true) {
      cli.show(command, page, (data) => (data.entries.length === 0 ? 'The log is empty.' : logLines(data.entries, view).join('\n')));
      return;
    }
    const fresh = page.entries.slice(printedOfPage);
    // following: one JSON document per line, each an entry as the API sent it
    if (fresh.length > 0) cli.out(json ? fresh.map((entry) => JSON.stringify(entry)).join('\n') : logLines(fresh, view).join('\n'));
    if (page.cursor !== undefined) {
      cursor = page.cursor;
      printedOfPage = 0;
      continue;
    }
    printedOfPage = page.entries.length;
    // the session's last lines are written before it ends: once it has, one more read finds them all
    if (ended) return;
    const report = await api.call(api.client.GET('/v1/sessions/{sessionId}', { params: { path: { sessionId } } }));
    ended = isEnded(report.status);
    if (!ended) await cli.sleep(pollMs);
  }
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * Looks at the session every interval until it ends. On a terminal one line
 * turns in place; elsewhere (a CI log) a line is printed whenever progress
 * changes. Then the report, or with --json the report as the API answered.
 */
async function follow(cli: Cli, command: Command, api: Api, sessionId: string, pollMs: number): Promise<void> {
  const view = cli.view(command);
  const json = cli.globals(command).json === true;
  const live = cli.io.stdout.isTTY === true && !json;
  let last = '';
  for (let tick = 0; ; tick += 1) {
    const report: SessionReportView = await api.call(api.client.GET('/v1/sessions/{sessionId}', { params: { path: { sessionId } } }));
    if (isEnded(report.status)) {
      if (live) cli.io.stdout.write('\r\u001b[2K');
      cli.show(command, report, sessionReport);
      return;
    }
    const progress = sessionProgress(report, view);
    if (live) cli.io.stdout.write(`\r\u001b[2K${SPINNER[tick % SPINNER.length] ?? ''} ${progress}`);
    else if (!json && progress !== last) cli.out(progress);
    last = progress;
    await cli.sleep(pollMs);
  }
}
