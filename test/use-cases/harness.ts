import { afterAll, beforeAll } from 'vitest';
import { mailParts } from '../support/mail.js';
import { scheduleParts } from '../support/schedules.js';
import { InMemoryMetrics } from '../../functions/adapters/metrics.memory.js';
import { DynamoCatalogStore } from '../../functions/adapters/catalog-store.dynamodb.js';
import { DynamoSessionStore } from '../../functions/adapters/session-store.dynamodb.js';
import type { AgentCommand, AgentInvocation, InvocationStatus } from '../../functions/core/model/agent.js';
import type { MaintenanceTask, Software } from '../../functions/core/model/catalog.js';
import type { Action, Session, SessionLogEntry } from '../../functions/core/model/session.js';
import type { AgentPort } from '../../functions/core/ports/agent.port.js';
import type { WorkflowPort } from '../../functions/core/ports/workflow.port.js';
import type { Dependencies } from '../../functions/core/use-cases/dependencies.js';
import { actionRecord, sessionRecord, software, softwareItem, noInventory } from '../support/domain.js';
import { dynamoTable } from '../support/dynamo.js';
import { manualClock, sequentialIds } from '../support/fleet.js';

/**
 * Use-case tests against the real DynamoDB adapter on dynalite, with the
 * ports that talk to the outside (agent, workflow) recorded instead: what was
 * sent, cancelled, answered. One table per test file; every test makes its own
 * session ids, so tests do not see each other's records.
 */

/** An agent that records what it is asked. SSM's "which command has this comment?" answers from what was sent, unless told otherwise. */
export class RecordingAgent implements AgentPort {
  readonly sent: AgentCommand[] = [];
  readonly cancelled: string[] = [];
  online = true;
  /** SSM lists a new command only after a while: while true, findCommand finds nothing. */
  listingLags = false;
  /** Set to make `send` fail, as a Lambda that dies mid-call. */
  failSend: Error | undefined;
  failCancel: Error | undefined;
  /** Runs while a command is on its way: what else happens in that moment. */
  duringSend: (command: AgentCommand) => Promise<unknown> = () => Promise.resolve();
  readonly invocations = new Map<string, AgentInvocation>();

  async send(command: AgentCommand): Promise<{ commandId: string }> {
    if (this.failSend) throw this.failSend;
    this.sent.push(command);
    const commandId = `cmd-${this.sent.length}`;
    await this.duringSend(command);
    return { commandId };
  }

  /** Makes the command sent with `comment` end with this status and output. */
  finish(comment: string, status: InvocationStatus, output: { stdout?: string; stderr?: string; responseCode?: number } = {}): string {
    const index = this.sent.findIndex((command) => command.comment === comment);
    const commandId = index < 0 ? `cmd-foreign-${this.invocations.size}` : `cmd-${index + 1}`;
    this.invocations.set(commandId, {
      commandId,
      agentId: 'i-0123456789abcdef0',
      status,
      responseCode: output.responseCode ?? (status === 'Success' ? 0 : 1),
      stdout: output.stdout ?? '',
      stderr: output.stderr ?? '',
      stdoutTruncated: false,
      comment,
    });
    return commandId;
  }

  getInvocation(commandId: string): Promise<AgentInvocation> {
    const invocation = this.invocations.get(commandId);
    if (!invocation) throw new Error(`no invocation ${commandId}`);
    return Promise.resolve(invocation);
  }

  findCommand(_agentId: string, comment: string): Promise<string | undefined> {
    if (this.listingLags) return Promise.resolve(undefined);
    const index = this.sent.findIndex((command) => command.comment === comment);
    return Promise.resolve(index < 0 ? undefined : `cmd-${index + 1}`);
  }

  isOnline(_agentId: string): Promise<boolean> {
    return Promise.resolve(this.online);
  }

  cancel(commandId: string): Promise<void> {
    if (this.failCancel) return Promise.reject(this.failCancel);
    this.cancelled.push(commandId);
    return Promise.resolve();
  }
}

export interface Answer {
  readonly token: string;
  readonly kind: 'complete' | 'fail';
  readonly output?: unknown;
  readonly error?: string;
}

/** A workflow that records how each task token was answered. */
export class RecordingWorkflow implements WorkflowPort {
  readonly answers: Answer[] = [];
  /** Tokens that are no longer waiting: answering them reports false. */
  readonly gone = new Set<string>();
  startSession(): Promise<{ alreadyRunning: boolean }> {
    return Promise.resolve({ alreadyRunning: false });
  }
  completeTask(token: string, output: unknown): Promise<boolean> {
    this.answers.push({ token, kind: 'complete', output });
    return Promise.resolve(!this.gone.has(token));
  }
  failTask(token: string, error: string): Promise<boolean> {
    this.answers.push({ token, kind: 'fail', error });
    return Promise.resolve(!this.gone.has(token));
  }
}

export interface Harness {
  deps: Dependencies;
  agent: RecordingAgent;
  workflow: RecordingWorkflow;
  clock: ReturnType<typeof manualClock>;
  /** Every session log line written, in order. */
  lines: SessionLogEntry[];
  /** Every structured log line (the operator's logs), in order. */
  logged: { level: 'info' | 'warn' | 'error'; message: string; fields?: Record<string, unknown> }[];
  timers: { set: [string, string][]; cleared: string[] };
  catalog: DynamoCatalogStore;
  /** A fresh session id. */
  nextId(): string;
  /** Stores a session (status Running by default) with the item `app` on it; returns it. */
  session(overrides?: Partial<Session>): Promise<Session>;
  /** Stores actions on a session, filling what a test does not care about. */
  actions(sessionId: string, actions: readonly (Partial<Action> & Pick<Action, 'actionId'>)[]): Promise<void>;
}

export const APP: Software = software('app');
export const AUDIT_TASK: MaintenanceTask = { id: 'audit', name: 'Audit', platform: 'linux', scripts: { style: 'Combined', script: 'true' }, parameters: [] };

/**
 * Opens one dynalite table for the file (vitest hooks) and hands each test a
 * fresh set of recorders over it. Call at the top of a `describe`.
 */
export function useCaseHarness(): () => Harness {
  let table: Awaited<ReturnType<typeof dynamoTable>> | undefined;
  let n = 0;
  beforeAll(async () => {
    table = await dynamoTable();
    const catalog = new DynamoCatalogStore(table.table);
    await catalog.putSoftware(APP);
    await catalog.putTask(AUDIT_TASK);
  });
  afterAll(async () => {
    await table?.close();
  });
  return () => {
    if (!table) throw new Error('the harness is used before its table is open');
    const clock = manualClock();
    const agent = new RecordingAgent();
    const workflow = new RecordingWorkflow();
    const lines: SessionLogEntry[] = [];
    const logged: Harness['logged'] = [];
    const record = (level: 'info' | 'warn' | 'error') => (message: string, fields?: Record<string, unknown>) => {
      logged.push({ level, message, ...(fields ? { fields } : {}) });
    };
    const timers = { set: [] as [string, string][], cleared: [] as string[] };
    const catalog = new DynamoCatalogStore(table.table);
    const deps: Dependencies = {
      sessions: new DynamoSessionStore(table.table),
      sessionLog: {
        append: (entry) => {
          lines.push(entry);
          return Promise.resolve();
        },
        read: () => Promise.resolve({ entries: [] }),
      },
      catalog,
      secrets: { put: () => Promise.resolve(), delete: () => Promise.resolve() },
      ...scheduleParts(table.table),
      ...mailParts(table.table),
      inventory: noInventory,
      agent,
      workflow,
      windowTimers: {
        set: (sessionId, at) => {
          timers.set.push([sessionId, at]);
          return Promise.resolve();
        },
        clear: (sessionId) => {
          timers.cleared.push(sessionId);
          return Promise.resolve();
        },
      },
      clock,
      ids: sequentialIds(),
      logger: { info: record('info'), warn: record('warn'), error: record('error') },
      metrics: new InMemoryMetrics(),
      agentSettings: { deliveryTimeoutSeconds: 600, detectionItemTimeoutSeconds: 30, actionTimeoutSeconds: 300, skipOfflineAfterSeconds: 60 },
    };
    const harness: Harness = {
      deps,
      agent,
      workflow,
      clock,
      lines,
      logged,
      timers,
      catalog,
      nextId: () => `s${String(++n)}x${Date.now().toString(36)}`,
      session: async (overrides = {}) => {
        const session = sessionRecord(harness.nextId(), {
          createdAt: clock.now().toISOString(),
          updatedAt: clock.now().toISOString(),
          items: [softwareItem('app', { itemName: 'App' })],
          ...overrides,
        });
        await deps.sessions.createSession(session);
        return session;
      },
      actions: (sessionId, actions) =>
        deps.sessions.createActions(
          sessionId,
          actions.map((action) => actionRecord(sessionId, action.actionId, { toVersion: '2.0', ...action })),
        ),
    };
    return harness;
  };
}
