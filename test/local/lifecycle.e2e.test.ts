import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { MaintenanceTask } from '../../functions/core/model/catalog.js';
import type { SessionOptions } from '../../functions/core/model/session.js';
import type { LogPage } from '../../functions/core/ports/session-log.port.js';
import type { LocalRuntime, LocalRuntimeOptions } from '../../local/runtime.js';
import { everywhere, manualClock, runtimeWithFleet, testComputer, testSoftware } from '../support/fleet.js';
import { until } from '../support/wait.js';

const HOUR = 3_600_000;
const operator = { kind: 'Operator', name: 'ops@msp.example' } as const;
const endUser = { kind: 'EndUser', name: 'ana@contoso.example' } as const;

describe('the session lifecycle through the local runtime', () => {
  let runtime: LocalRuntime | undefined;
  const clock = manualClock(new Date('2026-11-23T14:00:00Z'));
  afterEach(async () => {
    await runtime?.close();
    runtime = undefined;
  });

  async function fleet(options: { software?: ReturnType<typeof testSoftware>[]; online?: boolean; runtime?: LocalRuntimeOptions } = {}) {
    const computer = testComputer(`pc-${Math.random().toString(36).slice(2, 8)}`, `i-${Math.random().toString(16).slice(2, 12).padEnd(10, '0')}`);
    const software = options.software ?? [testSoftware('one', '2.0'), testSoftware('two', '2.0')];
    runtime = await runtimeWithFleet(
      { software, deployments: software.map((s) => everywhere(s.id)), machines: [{ computer, ...(options.online === false ? { online: false } : {}) }] },
      { clock, timerPollMs: 10, agentPollMs: 10, ...options.runtime },
    );
    return computer;
  }
  const start = (computerId: string, options: Partial<SessionOptions> = {}) => {
    if (!runtime) throw new Error('no runtime');
    return runtime.startSession(computerId, undefined, options);
  };
  const session = async (id: string) => {
    const found = await runtime?.deps.sessions.getSession(id);
    if (!found) throw new Error(`no session ${id}`);
    return found;
  };
  /** Planned and parked at the gate: its task token waits on the session, its one timer is armed. */
  const waitingForWindow = async (id: string) => {
    const s = await session(id);
    return s.stages.Execution.status === 'Unstarted' && s.windowWait !== undefined && runtime?.timers.armed().some((t) => t.sessionId === id) === true;
  };

  it('detection only: plans what would change and touches nothing', async () => {
    const computer = await fleet();
    const { sessionId } = await start(computer.id, { mode: 'DetectionOnly' });
    const outcome = await runtime!.waitForSession(sessionId);
    expect(outcome.session.status).toBe('Passed');
    expect(outcome.actions.map((a) => [a.type, a.status])).toEqual([
      ['Install', 'NotStarted'],
      ['Install', 'NotStarted'],
    ]);
    expect(outcome.session.stages.Execution.status).toBe('Skipped');
    expect(runtime!.agent.history(computer.agentId)).toHaveLength(1);
  });

  it('executes at the maintenance time, not before', async () => {
    const computer = await fleet();
    const executeAt = new Date(clock.now().getTime() + 8 * HOUR).toISOString();
    const { sessionId } = await start(computer.id, { executeAt });
    await until(() => waitingForWindow(sessionId));
    // due timers are delivered: none is due before the window, so nothing runs
    await runtime!.timers.fireDue();
    expect(runtime!.agent.history(computer.agentId)).toHaveLength(1);
    expect((await session(sessionId)).status).toBe('Running');

    clock.advance(8 * HOUR);
    const outcome = await runtime!.waitForSession(sessionId);
    expect(outcome.session.status).toBe('Passed');
    expect(outcome.session.stages.Execution.startedAt).toBe(executeAt);
  });

  it('postpones once, twice, then refuses at the limit; and refuses a postpone past the deadline', async () => {
    const computer = await fleet();
    const executeAt = new Date(clock.now().getTime() + HOUR).toISOString();
    const deadline = new Date(clock.now().getTime() + 4 * HOUR).toISOString();
    const { sessionId } = await start(computer.id, { executeAt, postpone: { delayMinutes: 60, maxCount: 2, deadline } });
    await until(() => waitingForWindow(sessionId));

    expect(await runtime!.invoke('postpone-session', { sessionId, by: endUser })).toEqual({
      executeAt: new Date(clock.now().getTime() + 2 * HOUR).toISOString(),
      postponesLeft: 1,
    });
    expect((await session(sessionId)).status).toBe('Postponed');
    expect(await runtime!.invoke('postpone-session', { sessionId, by: endUser })).toMatchObject({ postponesLeft: 0 });
    expect(await runtime!.invoke('postpone-session', { sessionId, by: endUser })).toEqual({
      error: { code: 'REQUEST_REFUSED', message: 'the session was already postponed 2 time(s); the limit is 2' },
    });

    const s = await session(sessionId);
    expect(s.postponements.map((p) => [p.by.name, p.to])).toEqual([
      [endUser.name, new Date(clock.now().getTime() + 2 * HOUR).toISOString()],
      [endUser.name, new Date(clock.now().getTime() + 3 * HOUR).toISOString()],
    ]);
    await runtime!.invoke('cancel-session', { sessionId, by: operator });

    // a fresh session whose deadline is close: the first postpone already overshoots it
    const tight = await start(computer.id, { executeAt, postpone: { delayMinutes: 120, maxCount: 5, deadline: new Date(Date.parse(executeAt) + HOUR).toISOString() } });
    await until(() => waitingForWindow(tight.sessionId));
    expect(await runtime!.invoke('postpone-session', { sessionId: tight.sessionId, by: endUser })).toMatchObject({
      error: { code: 'REQUEST_REFUSED', message: expect.stringMatching(/past its deadline/) as string },
    });
    expect((await session(tight.sessionId)).executeAt).toBe(executeAt);
    await runtime!.invoke('cancel-session', { sessionId: tight.sessionId, by: operator });
  });

  it('a postponed session runs at its new time', async () => {
    const computer = await fleet();
    const { sessionId } = await start(computer.id, { executeAt: new Date(clock.now().getTime() + HOUR).toISOString() });
    await until(() => waitingForWindow(sessionId));
    await runtime!.invoke('postpone-session', { sessionId, by: endUser });
    clock.advance(HOUR + 1);
    await runtime!.timers.fireDue();
    expect(runtime!.timers.armed()).toEqual([{ sessionId, at: new Date(clock.now().getTime() + HOUR - 1).toISOString() }]);
    expect(runtime!.agent.history(computer.agentId)).toHaveLength(1);
    clock.advance(HOUR);
    const outcome = await runtime!.waitForSession(sessionId);
    expect(outcome.session.status).toBe('Passed');
  });

  it('cancel before the window ends the session at the gate without touching the computer', async () => {
    const computer = await fleet();
    const { sessionId } = await start(computer.id, { executeAt: new Date(clock.now().getTime() + HOUR).toISOString() });
    await until(() => waitingForWindow(sessionId));
    expect(await runtime!.invoke('cancel-session', { sessionId, by: endUser })).toEqual({ status: 'Cancelled' });
    const outcome = await runtime!.waitForSession(sessionId);
    expect(outcome.executionStatus).toBe('SUCCEEDED');
    expect(outcome.session).toMatchObject({ status: 'Cancelled', cancelled: { by: endUser } });
    expect(outcome.actions.map((a) => [a.status, a.result])).toEqual([
      ['Cancelled', 'Cancelled'],
      ['Cancelled', 'Cancelled'],
    ]);
    expect(runtime!.agent.history(computer.agentId)).toHaveLength(1);
    // a finished session refuses further requests, and cancelling again changes nothing
    expect(await runtime!.invoke('postpone-session', { sessionId, by: endUser })).toEqual({
      error: { code: 'REQUEST_REFUSED', message: 'the session has already ended (Cancelled)' },
    });
    expect(await runtime!.invoke('cancel-session', { sessionId, by: operator })).toEqual({ status: 'Cancelled' });
  });

  it('cancel during execution stops before the next action, cancels the running command, and skips verification', async () => {
    const hanging = { ...testSoftware('slow', '1.0'), installScript: 'touch "$NIGHTSHIFT_ROOT/started"\nsleep 600\n' };
    const computer = await fleet({ software: [hanging, testSoftware('zz-after', '1.0')] });
    const { sessionId } = await start(computer.id);
    const root = runtime!.agent.rootOf(computer.agentId);
    await until(() => existsSync(path.join(root, 'started')));

    await runtime!.invoke('cancel-session', { sessionId, by: operator });
    const outcome = await runtime!.waitForSession(sessionId);
    expect(outcome.session.status).toBe('Cancelled');
    expect(outcome.actions.map((a) => [a.itemId, a.status, a.result])).toEqual([
      ['slow', 'Cancelled', 'Cancelled'],
      ['zz-after', 'Cancelled', 'Cancelled'],
    ]);
    const commands = runtime!.agent.history(computer.agentId);
    expect(commands.map((c) => c.invocation.status)).toEqual(['Success', 'Cancelled']);
    expect(commands.some((c) => c.comment.includes('/Verify/'))).toBe(false);
  });

  it('run now pulls a waiting session to now', async () => {
    const computer = await fleet();
    const { sessionId } = await start(computer.id, { executeAt: new Date(clock.now().getTime() + 12 * HOUR).toISOString() });
    await until(() => waitingForWindow(sessionId));
    expect(await runtime!.invoke('run-session-now', { sessionId, by: operator })).toEqual({ executeAt: clock.now().toISOString() });
    const outcome = await runtime!.waitForSession(sessionId);
    expect(outcome.session.status).toBe('Passed');
  });

  it('offline with ApplyOnConnect: waits as PendingConnectivity, carries on when the computer is back', async () => {
    const computer = await fleet({ online: false });
    const { sessionId } = await start(computer.id, { offline: 'ApplyOnConnect' });
    await until(async () => (await session(sessionId)).status === 'PendingConnectivity');
    await runtime!.agent.setOnline(computer.agentId, true);
    const outcome = await runtime!.waitForSession(sessionId);
    expect(outcome.session.status).toBe('Passed');
    const log = (await runtime!.invoke('get-session-log', { sessionId, limit: 100 })) as LogPage;
    expect(log.entries.map((e) => e.message)).toEqual(expect.arrayContaining([`${computer.name} is offline; waiting for it to connect`, `${computer.name} is back online`]));
  });

  it('offline with Skip: ends the session as unreachable, sending nothing', async () => {
    const computer = await fleet({ online: false });
    const { sessionId } = await start(computer.id, { offline: 'Skip' });
    const outcome = await runtime!.waitForSession(sessionId);
    expect(outcome.session).toMatchObject({
      status: 'Failed',
      failure: { code: 'AGENT_UNREACHABLE', message: `${computer.name} is offline, and this session skips offline computers` },
    });
    expect(runtime!.agent.history(computer.agentId)).toHaveLength(0);
  });

  describe('reboot preferences', () => {
    const needsRestart = () => ({ ...testSoftware('driver', '2.0'), installScript: 'mkdir -p "$NIGHTSHIFT_ROOT/opt/driver"\necho 2.0 > "$NIGHTSHIFT_ROOT/opt/driver/VERSION"\necho NIGHTSHIFT-REBOOT-REQUIRED\n' });
    const kinds = (outcome: Awaited<ReturnType<LocalRuntime['waitForSession']>>) => outcome.actions.map((a) => a.type);

    it('IfNecessary restarts once at the end when an action asked, then verifies', async () => {
      const computer = await fleet({ software: [needsRestart(), testSoftware('plain', '1.0')] });
      const outcome = await runtime!.waitForSession((await start(computer.id, { reboot: 'IfNecessary' })).sessionId);
      expect(kinds(outcome)).toEqual(['Install', 'Install', 'Reboot']);
      expect(outcome.session.status).toBe('Passed');
      const purposes = runtime!.agent.history(computer.agentId).map((c) => c.comment.split('/')[2]);
      expect(purposes).toEqual(['Detect', 'Action#001', 'Action#002', 'Action#003', 'Verify']);
    });

    it('IfNecessary does not restart when nothing asked', async () => {
      const computer = await fleet({ software: [testSoftware('plain', '1.0')] });
      const outcome = await runtime!.waitForSession((await start(computer.id, { reboot: 'IfNecessary' })).sessionId);
      expect(kinds(outcome)).toEqual(['Install']);
    });

    it('Suppress never restarts and records that a restart is pending', async () => {
      const computer = await fleet({ software: [needsRestart()] });
      const outcome = await runtime!.waitForSession((await start(computer.id, { reboot: 'Suppress' })).sessionId);
      expect(kinds(outcome)).toEqual(['Install']);
      expect(outcome.session).toMatchObject({ status: 'Passed', rebootPending: true });
    });

    it('Force restarts at the end regardless', async () => {
      const computer = await fleet({ software: [testSoftware('plain', '1.0')] });
      const outcome = await runtime!.waitForSession((await start(computer.id, { reboot: 'Force' })).sessionId);
      expect(outcome.actions.map((a) => [a.type, a.reason, a.result])).toEqual([
        ['Install', 'SoftwareMissing', 'Success'],
        ['Reboot', 'RebootForced', 'Success'],
      ]);
    });
  });

  it('starting the same session twice yields one session and one execution', async () => {
    const computer = await fleet();
    const first = await runtime!.startSession(computer.id, 'sched_2026-11-23_pc');
    const second = await runtime!.startSession(computer.id, 'sched_2026-11-23_pc');
    expect([first.created, second.created]).toEqual([true, false]);
    expect(runtime!.workflow.executionNames().filter((n) => n === 'sched_2026-11-23_pc')).toHaveLength(1);
    const outcome = await runtime!.waitForSession('sched_2026-11-23_pc');
    expect(outcome.session.status).toBe('Passed');
    expect(runtime!.agent.history(computer.agentId)).toHaveLength(4);
  });

  it('keeps a log that reads in order, a page at a time, while the session waits', async () => {
    const computer = await fleet();
    const { sessionId } = await start(computer.id, { executeAt: new Date(clock.now().getTime() + HOUR).toISOString() });
    await until(() => waitingForWindow(sessionId));
    await runtime!.invoke('postpone-session', { sessionId, by: endUser });

    const pages: LogPage[] = [(await runtime!.invoke('get-session-log', { sessionId, limit: 2 })) as LogPage];
    while (pages.at(-1)?.cursor) pages.push((await runtime!.invoke('get-session-log', { sessionId, limit: 2, cursor: pages.at(-1)?.cursor })) as LogPage);
    const entries = pages.flatMap((p) => p.entries);
    expect(pages[0]?.entries).toHaveLength(2);
    expect(entries.map((e) => e.kind)).toEqual(['Request', 'Stage', 'Stage', 'Stage', 'Stage', 'Request']);
    expect(entries.at(-1)).toMatchObject({ kind: 'Request', by: endUser });
    expect(entries.at(-1)?.message).toMatch(/^maintenance postponed to /);
    expect([...entries].sort((a, b) => a.at.localeCompare(b.at))).toEqual(entries);
    await runtime!.invoke('cancel-session', { sessionId, by: operator });
  });
});

describe('partial success', () => {
  let runtime: LocalRuntime | undefined;
  afterEach(async () => {
    await runtime?.close();
    runtime = undefined;
  });

  it('a failed non-critical deployment leaves the session PartialPassed; a critical one fails it', async () => {
    const computer = testComputer('pc-partial', 'i-0000000000000a0f1');
    runtime = await runtimeWithFleet({
      software: [testSoftware('nice-to-have', '1.0', { failInstall: true }), testSoftware('must-have', '1.0')],
      deployments: [everywhere('nice-to-have', { critical: false }), everywhere('must-have')],
      machines: [{ computer }],
    });
    const partial = await runtime.waitForSession((await runtime.startSession(computer.id)).sessionId);
    expect(partial.session.status).toBe('PartialPassed');
    expect(partial.actions.map((a) => [a.itemId, a.critical, a.result])).toEqual([
      ['must-have', true, 'Success'],
      ['nice-to-have', false, 'Failed'],
    ]);

    await runtime.deps.catalog.putDeployment(everywhere('nice-to-have', { critical: true }));
    const failed = await runtime.waitForSession((await runtime.startSession(computer.id)).sessionId);
    expect(failed.session.status).toBe('Failed');
  });
});

describe('lifecycle edge cases', () => {
  let runtime: LocalRuntime | undefined;
  const clock = manualClock(new Date('2026-11-23T14:00:00Z'));
  afterEach(async () => {
    await runtime?.close();
    runtime = undefined;
  });

  it('a postpone that lands during detection is honoured: planning goes on, execution waits for the new time', async () => {
    const computer = testComputer('pc-early', 'i-0000000000000a0f2');
    // detection holds until the test lets it go, so the postpone lands mid-detection
    const held = testSoftware('held', '1.0', {
      detection: 'while [ ! -f "$NIGHTSHIFT_ROOT/go" ]; do sleep 0.05; done\nf="$NIGHTSHIFT_ROOT/opt/held/VERSION"; [ -f "$f" ] && cat "$f"; exit 0\n',
    });
    runtime = await runtimeWithFleet({ software: [held], deployments: [everywhere('held')], machines: [{ computer }] }, { clock, timerPollMs: 10, agentPollMs: 10 });
    const executeAt = new Date(clock.now().getTime() + HOUR).toISOString();
    const { sessionId } = await runtime.startSession(computer.id, undefined, { executeAt });
    await until(() => runtime?.agent.history(computer.agentId)[0]?.invocation.status === 'InProgress');
    expect(await runtime.invoke('postpone-session', { sessionId, by: endUser })).toMatchObject({ executeAt: new Date(clock.now().getTime() + 2 * HOUR).toISOString() });
    await writeFile(path.join(runtime.agent.rootOf(computer.agentId), 'go'), '');
    await until(async () => (await runtime?.deps.sessions.getPlan(sessionId)) !== undefined);
    clock.advance(HOUR + 1);
    await runtime.timers.fireDue();
    expect(runtime.agent.history(computer.agentId)).toHaveLength(1);
    clock.advance(HOUR);
    const outcome = await runtime.waitForSession(sessionId);
    expect(outcome.actions.map((a) => [a.type, a.result])).toEqual([['Install', 'Success']]);
    expect(outcome.session.status).toBe('Passed');
    // not before the postponed time (the clock stands just past it)
    expect(outcome.session.stages.Execution.startedAt).toBe(clock.now().toISOString());
    expect(Date.parse(outcome.session.stages.Execution.startedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(executeAt) + HOUR);
  });

  it('an action that cannot even be sent fails alone: its session goes on with the rest', async () => {
    const computer = testComputer('pc-catch', 'i-0000000000000a0f3');
    const probe: MaintenanceTask = { id: 'probe', name: 'Probe', platform: 'linux', scripts: { style: 'Separate', test: 'exit 1\n' }, parameters: [] };
    runtime = await runtimeWithFleet({
      software: [testSoftware('fine', '1.0')],
      tasks: [probe],
      // enforced although it cannot be: a catalog edited around the validation, as after a task lost its set script
      deployments: [everywhere('fine'), { id: 'enforce-probe', itemKind: 'Task', taskId: 'probe', target: { kind: 'AllTenants' }, mode: 'Enforce', parameters: {}, enabled: true, critical: true, orderingHint: 'Unordered' }],
      machines: [{ computer }],
    });
    const outcome = await runtime.waitForSession((await runtime.startSession(computer.id)).sessionId);
    expect(outcome.actions.map((a) => [a.itemId, a.result, a.resultReason])).toEqual([
      ['fine', 'Success', 'Compliant'],
      ['probe', 'Failed', 'could not run: task probe has no set script, so it cannot be enforced'],
    ]);
    expect(outcome.session.status).toBe('Failed');
    expect(outcome.session.failure).toBeUndefined();
  });
});
