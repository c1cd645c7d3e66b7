import { Option, type Command } from 'commander';
import { integerWithin } from '../arguments.js';
import type { Api } from '../client.js';
import { example, type Cli } from '../context.js';
import { UsageError } from '../errors.js';
import { auditList, preview, run, runList, runTargets, schedule, scheduleList } from '../views.js';
import { asBody, pageQuery, withPaging, type PageOptions } from './shared.js';

/**
 * What the API adds to a schedule it stores. A file written by
 * `schedules show --json` carries them; they are not the operator's input,
 * so they are taken off (its `version` becomes the expected version).
 */
const STORED_FIELDS = ['id', 'version', 'createdAt', 'createdBy', 'updatedAt', 'updatedBy'] as const;

interface ScheduleFile {
  readonly input: Readonly<Record<string, unknown>>;
  readonly id?: string;
  readonly version?: number;
}

async function scheduleFromFile(cli: Cli, file: string | undefined): Promise<ScheduleFile> {
  const parsed = await cli.jsonInput(file);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError(`${file ?? 'stdin'} must hold one schedule as a JSON object`);
  const record = parsed as Readonly<Record<string, unknown>>;
  const input = Object.fromEntries(Object.entries(record).filter(([key]) => !(STORED_FIELDS as readonly string[]).includes(key)));
  return {
    input,
    ...(typeof record.id === 'string' ? { id: record.id } : {}),
    ...(typeof record.version === 'number' ? { version: record.version } : {}),
  };
}

/** The version a change is decided on: the one given, else the one stored now (read just before). */
async function versionToChange(api: Api, scheduleId: string, given: number | undefined): Promise<number> {
  if (given !== undefined) return given;
  const current = await api.call(api.client.GET('/v1/schedules/{scheduleId}', { params: { path: { scheduleId } } }));
  return current.version;
}

const expectedVersionOption = (command: Command): Command =>
  command.option('--expected-version <n>', 'the version you decided on (refused with CONFLICT if it changed since); default: the version stored now', integerWithin(1, Number.MAX_SAFE_INTEGER));

const changedWords = (verb: string) => (data: { schedule: { id: string; version: number; enabled: boolean }; triggerInSync: boolean }) =>
  [
    `${verb} schedule ${data.schedule.id} (version ${String(data.schedule.version)}, ${data.schedule.enabled ? 'enabled' : 'disabled'}).`,
    ...(data.triggerInSync ? [] : ['The scheduler was not updated yet; the reconcile sweep brings it in line.']),
  ].join('\n');

const runOperations = {
  halt: 'halt the run: no more sessions start; started ones run to their end',
  resume: 'resume a halted run, accepting the failures so far',
  promote: 'move the run to its next ring now',
  cancel: 'cancel the run: its queued computers never start',
} as const;

/** How long `run-now` waits for the run worker's fan-out by default, and how often it looks. */
const DEFAULT_RUN_NOW_WAIT_SECONDS = 60;
const RUN_NOW_POLL_MS = 1_000;

export function scheduleCommands(program: Command, cli: Cli): void {
  const schedules = program.command('schedules').description('schedules: when sessions start, for which computers, in which rings');

  example(
    withPaging(schedules.command('list').description('the schedules you can see')).action(async (options: PageOptions, command: Command) => {
      const { client, call } = await cli.api(command);
      await cli.list(command, options, (cursor) => call(client.GET('/v1/schedules', { params: { query: pageQuery(options, cursor) } })), (page, view) => scheduleList(page.items, view));
    }),
    'nightshift schedules list',
  );

  example(
    schedules
      .command('show')
      .argument('<scheduleId>')
      .description('one schedule (with --json: a file `schedules update` takes back)')
      .action(async (scheduleId: string, _options: unknown, command: Command) => {
        const { client, call } = await cli.api(command);
        cli.show(command, await call(client.GET('/v1/schedules/{scheduleId}', { params: { path: { scheduleId } } })), schedule);
      }),
    'nightshift schedules show nightly-dms',
    'nightshift schedules show nightly-dms --json > nightly-dms.json',
  );

  example(
    schedules
      .command('create')
      .description('create a schedule from JSON (--file, or stdin); its trigger follows')
      .option('--file <path>', 'the schedule as JSON ("-" or no option: stdin)')
      .option('--id <scheduleId>', 'the id to give it (default: the file\'s "id", else one the API makes)')
      .action(async (options: { file?: string; id?: string }, command: Command) => {
        const file = await scheduleFromFile(cli, options.file);
        const scheduleId = options.id ?? file.id;
        const { client, call } = await cli.api(command);
        const created = await call(client.POST('/v1/schedules', { body: { ...(scheduleId === undefined ? {} : { scheduleId }), schedule: asBody(file.input) } }));
        cli.show(command, created, changedWords('Created'));
      }),
    'nightshift schedules create --file nightly-dms.json',
    'cat nightly-dms.json | nightshift schedules create --id nightly-dms',
  );

  example(
    expectedVersionOption(
      schedules
        .command('update')
        .argument('<scheduleId>')
        .description('replace a schedule with JSON (--file, or stdin); a file from `schedules show --json` names its version')
        .option('--file <path>', 'the schedule as JSON ("-" or no option: stdin)'),
    ).action(async (scheduleId: string, options: { file?: string; expectedVersion?: number }, command: Command) => {
      const file = await scheduleFromFile(cli, options.file);
      if (file.id !== undefined && file.id !== scheduleId) throw new UsageError(`the file is schedule ${file.id}, not ${scheduleId}`);
      const api = await cli.api(command);
      const expectedVersion = await versionToChange(api, scheduleId, options.expectedVersion ?? file.version);
      const updated = await api.call(api.client.PUT('/v1/schedules/{scheduleId}', { params: { path: { scheduleId } }, body: { expectedVersion, schedule: asBody(file.input) } }));
      cli.show(command, updated, changedWords('Updated'));
    }),
    'nightshift schedules update nightly-dms --file nightly-dms.json',
  );

  for (const [name, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    example(
      expectedVersionOption(
        schedules
          .command(name)
          .argument('<scheduleId>')
          .description(enabled ? 'enable a schedule: it fires again' : 'disable a schedule: it stops firing (runs under way go on)'),
      ).action(async (scheduleId: string, options: { expectedVersion?: number }, command: Command) => {
        const api = await cli.api(command);
        const expectedVersion = await versionToChange(api, scheduleId, options.expectedVersion);
        const change = { params: { path: { scheduleId } }, body: { expectedVersion } };
        const changed = await api.call(enabled ? api.client.POST('/v1/schedules/{scheduleId}/enable', change) : api.client.POST('/v1/schedules/{scheduleId}/disable', change));
        cli.show(command, changed, changedWords(enabled ? 'Enabled' : 'Disabled'));
      }),
      `nightshift schedules ${name} nightly-dms`,
    );
  }

  example(
    schedules
      .command('duplicate')
      .argument('<scheduleId>')
      .description('copy a schedule, disabled, to edit')
      .option('--new-id <scheduleId>', 'the id of the copy (default: one the API makes)')
      .option('--name <name>', 'the name of the copy')
      .action(async (scheduleId: string, options: { newId?: string; name?: string }, command: Command) => {
        const { client, call } = await cli.api(command);
        const copy = await call(
          client.POST('/v1/schedules/{scheduleId}/duplicate', {
            params: { path: { scheduleId } },
            body: { ...(options.newId === undefined ? {} : { newScheduleId: options.newId }), ...(options.name === undefined ? {} : { name: options.name }) },
          }),
        );
        cli.show(command, copy, changedWords('Copied to'));
      }),
    'nightshift schedules duplicate nightly-dms --new-id nightly-dms-test --name "DMS test"',
  );

  example(
    expectedVersionOption(schedules.command('delete').argument('<scheduleId>').description('delete a schedule and its trigger (its history stays)')).action(
      async (scheduleId: string, options: { expectedVersion?: number }, command: Command) => {
        const api = await cli.api(command);
        const expectedVersion = await versionToChange(api, scheduleId, options.expectedVersion);
        const deleted = await api.call(api.client.DELETE('/v1/schedules/{scheduleId}', { params: { path: { scheduleId }, query: { expectedVersion } } }));
        cli.show(command, deleted, (data) => `Deleted schedule ${data.deleted}.`);
      },
    ),
    'nightshift schedules delete nightly-dms',
  );

  example(
    schedules
      .command('run-now')
      .alias('run')
      .argument('<scheduleId>')
      .description('fire the schedule now, as its trigger would (also a disabled one): one run, a session per targeted computer, started in the background')
      .addOption(new Option('--idempotency-key <key>', 'the same key asks for the same run once: a script that retries after a timeout gets the run it started, not a second one'))
      .option('--no-wait', 'answer as soon as the run is recorded, without waiting for its fan-out')
      .option('--wait-seconds <n>', 'how long to wait for the fan-out to target the computers (1-900, default 60)', integerWithin(1, 900))
      .action(async (scheduleId: string, options: { idempotencyKey?: string; wait: boolean; waitSeconds?: number }, command: Command) => {
        const { client, call } = await cli.api(command);
        const fired = await call(
          client.POST('/v1/schedules/{scheduleId}/run-now', { params: { path: { scheduleId }, header: options.idempotencyKey === undefined ? {} : { 'idempotency-key': options.idempotencyKey } } }),
        );
        // the API hands the fan-out to the run worker; a person wants to see the computers it targeted
        let shown = fired.run;
        const lookUntil = cli.now().getTime() + (options.waitSeconds ?? DEFAULT_RUN_NOW_WAIT_SECONDS) * 1_000;
        while (options.wait && shown.status === 'Starting' && cli.now().getTime() < lookUntil) {
          await cli.sleep(RUN_NOW_POLL_MS);
          shown = await call(client.GET('/v1/runs/{runId}', { params: { path: { runId: shown.id } } }));
        }
        const still = shown.status === 'Starting' ? '\nIts fan-out is still under way.' : '';
        cli.show(command, { ...fired, run: shown }, (data, view) => `${data.created ? 'Started' : 'Already started:'} run ${data.run.id}${still}\n\n${run(data.run, view)}\n\nFollow it with: nightshift runs show ${data.run.id}`);
      }),
    'nightshift schedules run-now nightly-dms',
  );

  example(
    schedules
      .command('preview')
      .argument('[scheduleId]', 'a stored schedule; leave out and give --file for one being edited')
      .description('the next fires, and for each targeted computer when its window would open or why it would be skipped')
      .option('--file <path>', 'preview this schedule JSON instead of a stored one ("-": stdin)')
      .option('--fires <n>', 'how many fires to list (1-50, default 5)', integerWithin(1, 50))
      .action(async (scheduleId: string | undefined, options: { file?: string; fires?: number }, command: Command) => {
        if ((scheduleId === undefined) === (options.file === undefined)) throw new UsageError('give a schedule id, or --file with a schedule being edited (not both)');
        const { client, call } = await cli.api(command);
        const fires = options.fires === undefined ? {} : { fires: options.fires };
        const answer =
          scheduleId !== undefined
            ? await call(client.GET('/v1/schedules/{scheduleId}/preview', { params: { path: { scheduleId }, query: fires } }))
            : await call(client.POST('/v1/schedules/preview', { body: { schedule: asBody((await scheduleFromFile(cli, options.file)).input), ...fires } }));
        cli.show(command, answer, preview);
      }),
    'nightshift schedules preview nightly-dms --fires 3',
    'nightshift schedules preview --file nightly-dms.json',
  );

  example(
    withPaging(
      schedules
        .command('history')
        .argument('<scheduleId>')
        .description("the schedule's changes, oldest first: who, when, which fields (before and after: add --json)"),
    ).action(async (scheduleId: string, options: PageOptions, command: Command) => {
      const { client, call } = await cli.api(command);
      await cli.list(command, options, (cursor) => call(client.GET('/v1/schedules/{scheduleId}/history', { params: { path: { scheduleId }, query: pageQuery(options, cursor) } })), (page, view) => auditList(page.items, view));
    }),
    'nightshift schedules history nightly-dms',
  );

  // ---- runs
  const runs = program.command('runs').description("a schedule's runs: one per fire, its rollout and what became of each computer");

  example(
    runs
      .command('list')
      .argument('<scheduleId>')
      .description("the schedule's latest runs, newest first")
      .option('--limit <n>', 'how many (1-100, default 20)', integerWithin(1, 100))
      .action(async (scheduleId: string, options: { limit?: number }, command: Command) => {
        const { client, call } = await cli.api(command);
        const answer = await call(client.GET('/v1/schedules/{scheduleId}/runs', { params: { path: { scheduleId }, query: options.limit === undefined ? {} : { limit: options.limit } } }));
        cli.show(command, answer, (data, view) => runList(data.items, view));
      }),
    'nightshift runs list nightly-dms',
  );

  example(
    runs
      .command('show')
      .argument('<runId>')
      .description('one run: status, ring, counts and outcome')
      .action(async (runId: string, _options: unknown, command: Command) => {
        const { client, call } = await cli.api(command);
        cli.show(command, await call(client.GET('/v1/runs/{runId}', { params: { path: { runId } } })), run);
      }),
    'nightshift runs show run_0001',
  );

  example(
    withPaging(runs.command('targets').argument('<runId>').description("the run's computers: each one's session, or why it got none")).action(
      async (runId: string, options: PageOptions, command: Command) => {
        const { client, call } = await cli.api(command);
        await cli.list(command, options, (cursor) => call(client.GET('/v1/runs/{runId}/targets', { params: { path: { runId }, query: pageQuery(options, cursor) } })), (page, view) => runTargets(page.items, view));
      },
    ),
    'nightshift runs targets run_0001 --all',
  );

  for (const [operation, description] of Object.entries(runOperations) as [keyof typeof runOperations, string][]) {
    example(
      runs
        .command(operation)
        .argument('<runId>')
        .description(description)
        .option('--reason <words>', 'why, for the log and the audit trail')
        .action(async (runId: string, options: { reason?: string }, command: Command) => {
          const { client, call } = await cli.api(command);
          const answer = await call(client.POST(`/v1/runs/{runId}/${operation}`, { params: { path: { runId } }, body: options.reason === undefined ? {} : { reason: options.reason } }));
          cli.show(command, answer, (data, view) => run(data.run, view));
        }),
      `nightshift runs ${operation} run_0001${operation === 'halt' ? ' --reason "ticket 4711: installer breaks the scanner"' : ''}`,
    );
  }
}
