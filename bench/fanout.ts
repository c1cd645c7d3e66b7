/**
 * `npm run bench:fanout -- --computers 10000 [--rate 250] [--burst 1000] [--deliveries 3]`
 *
 * One schedule over N computers fires; its fan-out starts one session per
 * computer against a simulated Step Functions StartExecution quota (a bucket
 * of 1,300 refilling at 300 per second; a start above it is throttled). The
 * fire is delivered `--deliveries` times at once, as Scheduler may deliver
 * it more than once. The table is real (dynalite); time is simulated: it
 * moves only when the pacer or a backoff waits, so the figure is the time the
 * quota imposes, not this machine's speed. Prints one line:
 *
 *   fanout: N computers, S s, D duplicates, T throttles retried, all sessions started: yes
 *
 * S is simulated seconds from the fire to the last session started; D counts
 * sessions created (or executions started) more than once for one computer.
 */
import { parseArgs } from 'node:util';
import { wholeNumberFlag } from './args.js';
import { createDocumentClient, createDynamoClient } from '../functions/adapters/aws-clients.js';
import { createDependencies } from '../functions/adapters/dependencies.js';
import { DEFAULT_START_PACING } from '../functions/adapters/paced-workflow.js';
const TABLE_NAME = 'nightshift-bench';
import { TransientError } from '../functions/core/errors.js';
import type { AgentPort } from '../functions/core/ports/agent.port.js';
import type { WorkflowPort } from '../functions/core/ports/workflow.port.js';
import { InMemoryMetrics } from '../functions/adapters/metrics.memory.js';
import { fireSchedule } from '../functions/core/use-cases/fire-schedule.js';
import { createSchedule } from '../functions/core/use-cases/manage-schedules.js';
import { scheduleInputSchema } from '../functions/core/model/schedule.js';
import { DynamoTable } from '../functions/adapters/dynamodb-table.js';
import { ensureTable, startDynalite } from '../local/dynalite.js';
import { InMemoryScheduleTriggers } from '../test/support/schedules.js';
import { computer, deploySoftware, software, tenant } from '../test/support/domain.js';

const { values: flags } = parseArgs({
  options: {
    computers: { type: 'string', default: '10000' },
    rate: { type: 'string', default: String(DEFAULT_START_PACING.ratePerSecond) },
    burst: { type: 'string', default: String(DEFAULT_START_PACING.burst) },
    deliveries: { type: 'string', default: '3' },
  },
  strict: true,
});
const whole = (name: string, text: string, max: number): number => wholeNumberFlag('bench:fanout', name, text, max);
const computerCount = whole('computers', flags.computers, 50_000);
const rate = whole('rate', flags.rate, 5_000);
const burst = whole('burst', flags.burst, 5_000);
const deliveries = whole('deliveries', flags.deliveries, 100);

// ---- simulated time: it moves only when someone waits ----
let simulatedMs = 0;
const simulatedNow = (): number => simulatedMs;
const simulatedSleep = (ms: number): Promise<void> => {
  simulatedMs += ms;
  return Promise.resolve();
};
const START = Date.parse('2026-12-01T14:00:00Z');
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const clock = { now: () => new Date(START + simulatedMs) };

/** Step Functions' StartExecution as the quota sees it: a token bucket on simulated time, and names that start once. */
class SimulatedStepFunctions implements WorkflowPort {
  private tokens = 1_300;
  private refilledAt = 0;
  readonly executions = new Map<string, number>();
  throttled = 0;
  lastStartMs = 0;
  startSession(sessionId: string): Promise<{ alreadyRunning: boolean }> {
    const now = simulatedNow();
    this.tokens = Math.min(1_300, this.tokens + ((now - this.refilledAt) * 300) / 1000);
    this.refilledAt = now;
    if (this.tokens < 1) {
      this.throttled++;
      return Promise.reject(new TransientError('starting a session failed: ThrottlingException'));
    }
    this.tokens -= 1;
    const earlier = this.executions.get(sessionId) ?? 0;
    this.executions.set(sessionId, earlier + 1);
    this.lastStartMs = Math.max(this.lastStartMs, now);
    return Promise.resolve({ alreadyRunning: earlier > 0 });
  }
  completeTask(): Promise<boolean> {
    return Promise.resolve(true);
  }
  failTask(): Promise<boolean> {
    return Promise.resolve(true);
  }
}

const unused = (): never => {
  throw new Error('the fan-out does not use this port');
};
const agent: AgentPort = { send: unused, getInvocation: unused, findCommand: unused, isOnline: unused, cancel: unused };

const dynamo = await startDynalite(undefined);
const client = createDynamoClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
await ensureTable(client, TABLE_NAME);
const workflow = new SimulatedStepFunctions();
let throttlesRetried = 0;
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const deps = createDependencies(
  {
    dynamo: client,
    tableName: TABLE_NAME,
    agent,
    inventory: { listByTag: unused },
    workflow,
    windowTimers: { set: unused, clear: unused },
    scheduleTriggers: new InMemoryScheduleTriggers(),
    // the bench fans out inline, as the fire does; nothing hands work to the worker
    runWork: { request: unused },
    events: { publish: () => Promise.resolve() },
    mailer: { send: unused },
    linkKeys: { issue: unused, check: unused },
    secrets: { put: unused, delete: unused },
    logger: quiet,
    metrics: new InMemoryMetrics(),
    clock,
  },
  { startPacing: { ratePerSecond: rate, burst, nowMs: simulatedNow, sleep: simulatedSleep, onThrottled: () => { throttlesRetried++; } }, notify: { linkBaseUrl: '' } },
);

// ---- the fleet: one tenant, one deployment to everything, N computers ----
const seedTable = new DynamoTable(createDocumentClient(client), TABLE_NAME);
await deps.catalog.putTenant(tenant('msp', { defaultTimeZone: 'Europe/Lisbon' }));
await deps.catalog.putSoftware(software('agent'));
await deps.catalog.putDeployment(deploySoftware('agent-everywhere', 'agent', { target: { kind: 'AllTenants' } }));
const fleet = Array.from({ length: computerCount }, (_, index) => computer(`pc-${String(index).padStart(5, '0')}`, { tenantId: 'msp', agentId: `i-${index.toString(16).padStart(17, '0')}` }));
// seeding is not what is measured: whole items, 25 to a call
await seedTable.batchPut(fleet.map((c) => ({ PK: `COMPUTER#${c.id}`, SK: 'COMPUTER', entity: 'Computer', GSI1PK: 'COMPUTERS', GSI1SK: `${c.tenantId}#${c.name}#${c.id}`, ...c })));
const { schedule } = await createSchedule(deps, {
  scheduleId: 'weekly',
  input: scheduleInputSchema.parse({ name: 'Weekly', target: { kind: 'AllComputers' }, recurrence: { kind: 'Weekly', days: ['TUE'] }, detectionTime: '14:00', maintenanceTime: '22:00' }),
  by: { kind: 'Operator', name: 'bench' },
});

// sessions created per computer, counted at the store
const created = new Map<string, number>();
const computerOfSession = new Map<string, string>();
const createSession = deps.sessions.createSession.bind(deps.sessions);
deps.sessions.createSession = async (session) => {
  await createSession(session);
  created.set(session.computerId, (created.get(session.computerId) ?? 0) + 1);
  computerOfSession.set(session.id, session.computerId);
};

const realStart = performance.now();
const fire = () => fireSchedule(deps, { scheduleId: schedule.id, scheduledTime: '2026-12-01T14:00:00.000Z', trigger: 'Schedule', by: { kind: 'Schedule', name: 'bench' } });
const results = await Promise.all(Array.from({ length: deliveries }, fire));
const realSeconds = (performance.now() - realStart) / 1000;

const runIds = new Set(results.map((r) => (r.fired ? r.run.id : '')));
const [runId = ''] = runIds;
const targets = await deps.schedules.listRunTargets(runId);
const started = targets.filter((t) => t.sessionId !== undefined).length;
// a repeated start of the same execution name is no second execution (Step Functions answers it with the first)
const executionsPerComputer = new Map<string, number>();
for (const name of workflow.executions.keys()) {
  const computerId = computerOfSession.get(name) ?? name;
  executionsPerComputer.set(computerId, (executionsPerComputer.get(computerId) ?? 0) + 1);
}
const extra = (counts: Iterable<number>): number => [...counts].reduce((sum, count) => sum + Math.max(0, count - 1), 0);
const duplicates = extra(created.values()) + extra(executionsPerComputer.values()) + (runIds.size - 1);
const allStarted = started === computerCount && executionsPerComputer.size === computerCount;

process.stdout.write(
  `fanout: ${computerCount} computers, ${(workflow.lastStartMs / 1000).toFixed(1)} s, ${duplicates} duplicates, ${throttlesRetried} throttles retried, all sessions started: ${allStarted ? 'yes' : 'no'}\n`,
);
process.stderr.write(
  `  pacing ${rate}/s after a burst of ${burst}; quota 300/s after 1,300; ${deliveries} deliveries of the fire; ${workflow.throttled} starts throttled by the quota; ${realSeconds.toFixed(1)} s of real time on this machine\n`,
);
await dynamo.close();
client.destroy();
process.exitCode = allStarted && duplicates === 0 ? 0 : 1;
