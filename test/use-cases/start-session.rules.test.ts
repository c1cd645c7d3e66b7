import { describe, expect, it, vi } from 'vitest';
import { InMemoryMetrics } from '../../functions/adapters/metrics.memory.js';
import { ConflictError, NotFoundError, ValidationError } from '../../functions/core/errors.js';
import { newStages, sessionOptionsSchema, type Requester } from '../../functions/core/model/session.js';
import type { Metrics } from '../../functions/core/ports/metrics.port.js';
import { startSession } from '../../functions/core/use-cases/start-session.js';
import { computer } from '../support/domain.js';
import { useCaseHarness, type Harness } from './harness.js';

const memory = (metrics: Metrics): InMemoryMetrics => {
  if (!(metrics instanceof InMemoryMetrics)) throw new Error('the harness records metrics in memory');
  return metrics;
};
const ana: Requester = { kind: 'Operator', name: 'ana' };
const DAY = 86_400_000;
const options = (input: Record<string, unknown> = {}) => sessionOptionsSchema.parse(input);

describe('starting a session (dynalite)', () => {
  const harness = useCaseHarness();
  let h: Harness;
  let pcs = 0;
  /** A computer of its own for each test: the active-session claim is per computer. */
  const newComputer = async () => {
    const pc = computer(`pc-start-${String(++pcs)}`, { name: `Desk ${String(pcs)}`, agentId: 'mi-0123456789abcdef0', platform: 'windows', tenantId: 'acme' });
    await h.catalog.putComputer(pc);
    return pc;
  };

  it('creates the session from the computer, counts it, logs who asked, and starts its workflow', async () => {
    h = harness();
    const pc = await newComputer();
    const sessionId = h.nextId();
    const start = vi.spyOn(h.workflow, 'startSession');
    expect(await startSession(h.deps, { computerId: pc.id, sessionId, options: options(), by: ana })).toEqual({ sessionId, created: true });
    const now = h.clock.now().toISOString();
    expect(await h.deps.sessions.getSession(sessionId)).toEqual({
      id: sessionId,
      computerId: pc.id,
      computerName: pc.name,
      agentId: 'mi-0123456789abcdef0',
      platform: 'windows',
      tenantId: 'acme',
      status: 'Created',
      version: 1,
      createdAt: now,
      updatedAt: now,
      stages: newStages(),
      items: [],
      options: options(),
      postponements: [],
      // what lists show as the session's type and who started it
      trigger: 'Manual',
      requestedBy: ana,
    });
    expect(memory(h.deps.metrics).total('SessionsStarted')).toBe(1);
    expect(h.lines.map((l) => [l.sessionId, l.kind, l.message, l.by])).toEqual([[sessionId, 'Request', `session created for ${pc.name} (execution right after detection)`, ana]]);
    expect(start.mock.calls).toEqual([[sessionId]]);
    expect(h.logged).toEqual([{ level: 'info', message: 'session created', fields: { sessionId, computerId: pc.id } }]);
  });

  it('says when execution will run: at its window, or not at all for detection only', async () => {
    h = harness();
    const window = new Date(h.clock.now().getTime() + DAY).toISOString();
    const windowed = h.nextId();
    await startSession(h.deps, { computerId: (await newComputer()).id, sessionId: windowed, options: options({ executeAt: window }), by: ana });
    expect((await h.deps.sessions.getSession(windowed))?.executeAt).toBe(window);
    const detecting = h.nextId();
    await startSession(h.deps, { computerId: (await newComputer()).id, sessionId: detecting, options: options({ mode: 'DetectionOnly' }), by: ana });
    expect(h.lines.map((l) => l.message.replace(/^session created for Desk \d+ /, ''))).toEqual([`(execution at ${window})`, '(detection only)']);
    expect(await h.deps.sessions.getSession(detecting)).not.toHaveProperty('executeAt');
  });

  it('refuses an unknown computer', async () => {
    h = harness();
    await expect(startSession(h.deps, { computerId: 'pc-nowhere', options: options(), by: ana })).rejects.toThrow(new NotFoundError('computer', 'pc-nowhere'));
  });

  it('refuses a window or a postpone deadline more than 14 days ahead, naming each, and takes exactly 14 days', async () => {
    h = harness();
    const pc = await newComputer();
    const at = (ms: number) => new Date(h.clock.now().getTime() + ms).toISOString();
    const error: unknown = await startSession(h.deps, {
      computerId: pc.id,
      options: options({ executeAt: at(14 * DAY + 1), postpone: { deadline: at(15 * DAY) } }),
      by: ana,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error instanceof ValidationError && error.problems).toEqual([
      { field: 'options.executeAt', problem: 'must be within 14 days from now' },
      { field: 'options.postpone.deadline', problem: 'must be within 14 days from now' },
    ]);
    const sessionId = h.nextId();
    await startSession(h.deps, { computerId: pc.id, sessionId, options: options({ executeAt: at(14 * DAY), postpone: { deadline: at(14 * DAY) } }), by: ana });
    expect((await h.deps.sessions.getSession(sessionId))?.status).toBe('Created');
  });

  it('answers the same request again with the same session, starting its workflow again and counting nothing', async () => {
    h = harness();
    const pc = await newComputer();
    const sessionId = h.nextId();
    await startSession(h.deps, { computerId: pc.id, sessionId, options: options({ reboot: 'Force' }), by: ana });
    const start = vi.spyOn(h.workflow, 'startSession');
    // the same options, their keys in another order and an absent one spelled out
    const reordered = { ...options({ reboot: 'Force' }), limitTo: undefined };
    expect(await startSession(h.deps, { computerId: pc.id, sessionId, options: reordered, by: ana })).toEqual({ sessionId, created: false, existing: 'SameRequest' });
    expect(start.mock.calls).toEqual([[sessionId]]);
    expect(memory(h.deps.metrics).total('SessionsStarted')).toBe(1);
    expect(h.lines).toHaveLength(1);
    expect(h.logged.at(-1)).toEqual({ level: 'info', message: 'session already existed', fields: { sessionId, computerId: pc.id } });
  });

  it('refuses a session id reused for another computer or other options', async () => {
    h = harness();
    const pc = await newComputer();
    const sessionId = h.nextId();
    await startSession(h.deps, { computerId: pc.id, sessionId, options: options(), by: ana });
    await expect(startSession(h.deps, { computerId: (await newComputer()).id, sessionId, options: options(), by: ana })).rejects.toThrow(
      new ConflictError(`session id ${sessionId} is already used by a session for another computer`),
    );
    for (const other of [options({ reboot: 'Suppress' }), options({ postpone: { delayMinutes: 30 } }), options({ limitTo: 'software:app' })]) {
      await expect(startSession(h.deps, { computerId: pc.id, sessionId, options: other, by: ana })).rejects.toThrow(
        new ConflictError(`session id ${sessionId} is already used by a session with other options`),
      );
    }
  });

  it('answers with the unfinished session of a busy computer, or cancels it when told to supersede it', async () => {
    h = harness();
    const pc = await newComputer();
    const first = h.nextId();
    await startSession(h.deps, { computerId: pc.id, sessionId: first, options: options(), by: ana });
    const second = h.nextId();
    expect(await startSession(h.deps, { computerId: pc.id, sessionId: second, options: options(), by: ana })).toEqual({ sessionId: first, created: false, existing: 'ComputerBusy' });
    expect(await h.deps.sessions.getSession(second)).toBeUndefined();

    const ops: Requester = { kind: 'Api', name: 'ops' };
    expect(await startSession(h.deps, { computerId: pc.id, sessionId: second, options: options(), by: ops, supersede: true })).toEqual({ sessionId: second, created: true });
    expect((await h.deps.sessions.getSession(first))?.status).toBe('Cancelled');
    expect(h.lines.filter((l) => l.sessionId === first).map((l) => [l.message, l.by])).toContainEqual(['superseded by a new session for the same computer', ops]);
  });

  it('takes the computer from a session that has finished', async () => {
    h = harness();
    const pc = await newComputer();
    const first = h.nextId();
    await startSession(h.deps, { computerId: pc.id, sessionId: first, options: options(), by: ana });
    const created = await h.deps.sessions.getSession(first);
    await h.deps.sessions.updateSession(first, created?.version ?? 0, { status: 'Failed' }, h.clock.now().toISOString());
    const second = h.nextId();
    expect(await startSession(h.deps, { computerId: pc.id, sessionId: second, options: options(), by: ana })).toEqual({ sessionId: second, created: true });
    expect(h.lines.filter((l) => l.sessionId === first)).toHaveLength(1);
  });

  it('waits a minute for a start that claimed the computer but has not created its session, then takes over', async () => {
    h = harness();
    const pc = await newComputer();
    await h.deps.sessions.claimComputer(pc.id, 'still-starting', undefined, h.clock.now().toISOString());
    h.clock.advance(59_999);
    const busy = await startSession(h.deps, { computerId: pc.id, sessionId: h.nextId(), options: options(), by: ana, supersede: true });
    expect(busy).toEqual({ sessionId: 'still-starting', created: false, existing: 'ComputerBusy' });
    h.clock.advance(1);
    const sessionId = h.nextId();
    expect(await startSession(h.deps, { computerId: pc.id, sessionId, options: options(), by: ana })).toEqual({ sessionId, created: true });
  });

  it('gives up, asking to try again, when other starts keep taking the computer', async () => {
    h = harness();
    const pc = await newComputer();
    const claim = vi.spyOn(h.deps.sessions, 'claimComputer').mockResolvedValue({ holder: 'someone-else', claimedAt: '2026-01-01T00:00:00.000Z' });
    await expect(startSession(h.deps, { computerId: pc.id, sessionId: h.nextId(), options: options(), by: ana })).rejects.toThrow(
      new ConflictError(`computer ${pc.id} is being started by several requests at once; try again`),
    );
    expect(claim).toHaveBeenCalledTimes(6);
  });

  it('answers a concurrent create of the same session as the same request, and lets other failures through', async () => {
    h = harness();
    const pc = await newComputer();
    const sessionId = h.nextId();
    const create = h.deps.sessions.createSession.bind(h.deps.sessions);
    // the other start creates it between our claim and our create
    vi.spyOn(h.deps.sessions, 'createSession').mockImplementationOnce(async (session) => {
      await create(session);
      throw new ConflictError('exists');
    });
    expect(await startSession(h.deps, { computerId: pc.id, sessionId, options: options(), by: ana })).toEqual({ sessionId, created: false, existing: 'SameRequest' });
    expect(memory(h.deps.metrics).total('SessionsStarted')).toBe(0);

    const lost = h.nextId();
    vi.spyOn(h.deps.sessions, 'createSession').mockRejectedValueOnce(new ConflictError('exists, then vanished'));
    await expect(startSession(h.deps, { computerId: (await newComputer()).id, sessionId: lost, options: options(), by: ana })).rejects.toThrow('exists, then vanished');

    vi.spyOn(h.deps.sessions, 'createSession').mockRejectedValueOnce(new Error('table gone'));
    await expect(startSession(h.deps, { computerId: (await newComputer()).id, sessionId: h.nextId(), options: options(), by: ana })).rejects.toThrow('table gone');
  });
});

describe('starting a session without an id (dynalite)', () => {
  const harness = useCaseHarness();

  it('names it with a fresh session id', async () => {
    const h = harness();
    await h.catalog.putComputer(computer('pc-unnamed'));
    expect(await startSession(h.deps, { computerId: 'pc-unnamed', options: options(), by: ana })).toEqual({ sessionId: 'ses_0001', created: true });
    expect((await h.deps.sessions.getSession('ses_0001'))?.computerId).toBe('pc-unnamed');
  });
});
