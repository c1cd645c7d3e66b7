import { describe, expect, it, vi } from 'vitest';
import { ConflictError, IllegalTransitionError, NotFoundError, TransientError } from '../../functions/core/errors.js';
import type { Session } from '../../functions/core/model/session.js';
import { closeUnfinishedActions, loadSession, log, moveAction, mutateSessionReporting, withStage } from '../../functions/core/use-cases/session-updates.js';
import { sessionRecord } from '../support/domain.js';
import { useCaseHarness, type Harness } from './harness.js';

describe('read, decide, conditionally write (dynalite)', () => {
  const harness = useCaseHarness();
  let h: Harness;

  /** Someone else writes the session each time this one is about to: every round is lost. */
  const alwaysRaced = (times = Number.POSITIVE_INFINITY) => {
    const update = vi.spyOn(h.deps.sessions, 'updateSession');
    let lost = 0;
    update.mockImplementation(() => (lost++ < times ? Promise.reject(new ConflictError('version moved')) : Promise.reject(new Error('not expected'))));
    return update;
  };

  it('refuses a session that does not exist', async () => {
    h = harness();
    await expect(loadSession(h.deps, 'no-such-session')).rejects.toThrow(new NotFoundError('session', 'no-such-session'));
    await expect(mutateSessionReporting(h.deps, 'no-such-session', () => ({ status: 'Running' }))).rejects.toBeInstanceOf(NotFoundError);
  });

  it('writes the changes at the version it read, stamped with the clock, and says it wrote', async () => {
    h = harness();
    const session = await h.session();
    h.clock.advance(5_000);
    const { session: written, written: wrote } = await mutateSessionReporting(h.deps, session.id, () => ({ rebootPending: true }));
    expect(wrote).toBe(true);
    expect(written).toMatchObject({ rebootPending: true, version: session.version + 1, updatedAt: h.clock.now().toISOString() });
  });

  it('writes nothing, and says so, when the session is already where it should be', async () => {
    h = harness();
    const session = await h.session();
    const update = vi.spyOn(h.deps.sessions, 'updateSession');
    expect(await mutateSessionReporting(h.deps, session.id, () => undefined)).toEqual({ session, written: false });
    expect(update).not.toHaveBeenCalled();
  });

  it('refuses an illegal status change before writing, and lets the same status be written again', async () => {
    h = harness();
    const session = await h.session({ status: 'Passed' });
    const update = vi.spyOn(h.deps.sessions, 'updateSession');
    await expect(mutateSessionReporting(h.deps, session.id, () => ({ status: 'Running' }))).rejects.toThrow(new IllegalTransitionError('session', 'Passed', 'Running'));
    expect(update).not.toHaveBeenCalled();
    expect((await mutateSessionReporting(h.deps, session.id, () => ({ status: 'Passed', rebootPending: true }))).written).toBe(true);
  });

  it('reads and decides again after a lost race, deciding on what the winner wrote', async () => {
    h = harness();
    const session = await h.session();
    const update = h.deps.sessions.updateSession.bind(h.deps.sessions);
    const seen: number[] = [];
    vi.spyOn(h.deps.sessions, 'updateSession').mockImplementationOnce(async (id, version, changes, now) => {
      // the winner lands first; this write, at the old version, loses
      await update(id, version, { rebootPending: true }, now);
      return update(id, version, changes, now);
    });
    const { session: after, written } = await mutateSessionReporting(h.deps, session.id, (s: Session) => {
      seen.push(s.version);
      return { status: 'Postponed' };
    });
    expect(written).toBe(true);
    expect(seen).toEqual([session.version, session.version + 1]);
    expect(after).toMatchObject({ status: 'Postponed', rebootPending: true, version: session.version + 2 });
  });

  it('gives up after 5 lost rounds with a TransientError, for the workflow to retry', async () => {
    h = harness();
    const session = await h.session();
    const update = alwaysRaced();
    const error: unknown = await mutateSessionReporting(h.deps, session.id, () => ({ rebootPending: true })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect(error instanceof Error && error.message).toBe(`session ${session.id} kept changing under us`);
    // the lost race it gave up on stays attached, for the operator's logs
    expect(error instanceof Error && error.cause).toBeInstanceOf(ConflictError);
    expect(update).toHaveBeenCalledTimes(5);
  });

  it('wins on the last of its rounds', async () => {
    h = harness();
    const session = await h.session();
    const update = h.deps.sessions.updateSession.bind(h.deps.sessions);
    let calls = 0;
    vi.spyOn(h.deps.sessions, 'updateSession').mockImplementation((...args) => (++calls < 5 ? Promise.reject(new ConflictError('moved')) : update(...args)));
    expect((await mutateSessionReporting(h.deps, session.id, () => ({ rebootPending: true }))).written).toBe(true);
    expect(calls).toBe(5);
  });

  it("gives a person's request 50 rounds, then a ConflictError saying where the session stands", async () => {
    h = harness();
    const session = await h.session({ status: 'Postponed' });
    const update = alwaysRaced();
    const error: unknown = await mutateSessionReporting(h.deps, session.id, () => ({ status: 'Running' }), { contended: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error instanceof Error && error.message).toBe(`session ${session.id} is being changed by many requests at once (now Postponed); try again`);
    expect(error instanceof Error && error.cause).toEqual(new ConflictError('version moved'));
    expect(update).toHaveBeenCalledTimes(50);
  });

  it('lets a failure other than a lost race through at once', async () => {
    h = harness();
    const session = await h.session();
    const update = vi.spyOn(h.deps.sessions, 'updateSession').mockRejectedValue(new Error('table gone'));
    await expect(mutateSessionReporting(h.deps, session.id, () => ({ rebootPending: true }))).rejects.toThrow('table gone');
    expect(update).toHaveBeenCalledTimes(1);
  });

  describe('with the copy the caller just read', () => {
    it('writes from that copy without reading the session again', async () => {
      h = harness();
      const session = await h.session();
      const read = vi.spyOn(h.deps.sessions, 'getSession');
      const { session: after, written } = await mutateSessionReporting(h.deps, session.id, () => ({ rebootPending: true }), { current: session });
      expect(written).toBe(true);
      expect(after).toMatchObject({ rebootPending: true, version: session.version + 1 });
      expect(read).not.toHaveBeenCalled();
    });

    it('reads and decides again when the copy went stale, deciding on what the other writer wrote', async () => {
      h = harness();
      const stale = await h.session();
      await mutateSessionReporting(h.deps, stale.id, () => ({ status: 'Postponed' }));
      const seen: string[] = [];
      const { session: after, written } = await mutateSessionReporting(
        h.deps,
        stale.id,
        (s) => {
          seen.push(s.status);
          return s.status === 'Postponed' ? { status: 'Running', rebootPending: true } : { rebootPending: true };
        },
        { current: stale },
      );
      expect(written).toBe(true);
      // decided once on the stale copy (its write lost on the version), then on the session as it is
      expect(seen).toEqual(['Running', 'Postponed']);
      expect(after).toMatchObject({ status: 'Running', rebootPending: true, version: stale.version + 2 });
    });

    it('does not believe a copy that calls for no change: the session is read first', async () => {
      h = harness();
      const stale = await h.session({ rebootPending: true });
      await mutateSessionReporting(h.deps, stale.id, () => ({ rebootPending: false }));
      const { session: after, written } = await mutateSessionReporting(h.deps, stale.id, (s) => (s.rebootPending ? undefined : { rebootPending: true }), {
        current: stale,
      });
      expect(written).toBe(true);
      expect(after).toMatchObject({ rebootPending: true, version: stale.version + 2 });
    });

    it('does not refuse a change as illegal on the copy alone: the session as it is decides', async () => {
      h = harness();
      const stale = await h.session({ status: 'Passed' });
      const current = await mutateSessionReporting(h.deps, stale.id, () => ({ rebootPending: true }));
      // a copy that says Passed, of a session the store says is Passed too: the refusal stands, after the read
      const read = vi.spyOn(h.deps.sessions, 'getSession');
      await expect(mutateSessionReporting(h.deps, stale.id, () => ({ status: 'Running' }), { current: stale })).rejects.toBeInstanceOf(IllegalTransitionError);
      expect(read).toHaveBeenCalledTimes(1);
      expect(current.written).toBe(true);
    });
  });

  it('replaces one stage and keeps the others', () => {
    const session = sessionRecord('s', { stages: { Detection: { status: 'Succeeded' }, Execution: { status: 'Unstarted' }, Verification: { status: 'Unstarted' } } });
    expect(withStage(session, 'Execution', { status: 'Running', startedAt: 'now' })).toEqual({
      Detection: { status: 'Succeeded' },
      Execution: { status: 'Running', startedAt: 'now' },
      Verification: { status: 'Unstarted' },
    });
  });
});

describe('action writes (dynalite)', () => {
  const harness = useCaseHarness();
  let h: Harness;

  it('refuses a change that is illegal from any status it may start from, naming that status, before writing', async () => {
    h = harness();
    const session = await h.session();
    await h.actions(session.id, [{ actionId: '001' }]);
    const update = vi.spyOn(h.deps.sessions, 'updateAction');
    await expect(moveAction(h.deps, session.id, '001', ['NotStarted', 'Complete'], { status: 'PerformingAction' })).rejects.toThrow(
      new IllegalTransitionError('action', 'Complete', 'PerformingAction'),
    );
    expect(update).not.toHaveBeenCalled();
  });

  it('writes a legal change, and a change of fields alone, with the options it was given', async () => {
    h = harness();
    const session = await h.session();
    await h.actions(session.id, [{ actionId: '001', status: 'Complete', result: 'Success' }]);
    const update = vi.spyOn(h.deps.sessions, 'updateAction');
    expect(await moveAction(h.deps, session.id, '001', ['Complete'], { resultReason: 'noted' }, { settleDispatch: true })).toMatchObject({ status: 'Complete', resultReason: 'noted' });
    expect(update).toHaveBeenCalledWith(session.id, '001', ['Complete'], { resultReason: 'noted' }, { settleDispatch: true });
  });

  it('closes the actions a session will not run: unstarted ones cancelled, started ones of unknown effect, ended ones as they are', async () => {
    h = harness();
    const session = await h.session();
    await h.actions(session.id, [
      { actionId: '001' },
      { actionId: '002', status: 'PerformingAction' },
      { actionId: '003', status: 'DeterminingResult' },
      { actionId: '004', status: 'Complete', result: 'Success' },
      { actionId: '005', status: 'Skipped', result: 'Failed' },
    ]);
    h.clock.advance(1_000);
    const now = h.clock.now().toISOString();
    const closed = await closeUnfinishedActions(h.deps, session.id, 'stopped');
    expect(closed.map((a) => [a.actionId, a.status, a.result, a.resultReason, a.endedAt])).toEqual([
      ['001', 'Cancelled', 'Cancelled', 'stopped', now],
      ['002', 'Complete', 'Indeterminable', 'stopped; its effect is unknown', now],
      ['003', 'Complete', 'Indeterminable', 'stopped; its effect is unknown', now],
      ['004', 'Complete', 'Success', undefined, undefined],
      ['005', 'Skipped', 'Failed', undefined, undefined],
    ]);
    expect(await h.deps.sessions.getActions(session.id)).toEqual(closed);
  });

  it('keeps what a late completion recorded when it moved the action on meanwhile', async () => {
    h = harness();
    const session = await h.session();
    await h.actions(session.id, [{ actionId: '001', status: 'PerformingAction' }, { actionId: '002' }]);
    const update = h.deps.sessions.updateAction.bind(h.deps.sessions);
    vi.spyOn(h.deps.sessions, 'updateAction').mockImplementationOnce(async (...args) => {
      await update(session.id, '001', ['PerformingAction'], { status: 'Complete', result: 'Success' });
      return update(...args);
    });
    const closed = await closeUnfinishedActions(h.deps, session.id, 'stopped');
    expect(closed.map((a) => [a.actionId, a.status, a.result])).toEqual([
      ['001', 'Complete', 'Success'],
      ['002', 'Cancelled', 'Cancelled'],
    ]);
  });

  it('leaves out an action that vanished in a lost race, and lets other failures through', async () => {
    h = harness();
    const session = await h.session();
    await h.actions(session.id, [{ actionId: '001' }]);
    vi.spyOn(h.deps.sessions, 'updateAction').mockRejectedValueOnce(new ConflictError('moved'));
    vi.spyOn(h.deps.sessions, 'getAction').mockResolvedValueOnce(undefined);
    expect(await closeUnfinishedActions(h.deps, session.id, 'stopped')).toEqual([]);
    vi.spyOn(h.deps.sessions, 'updateAction').mockRejectedValueOnce(new Error('table gone'));
    await expect(closeUnfinishedActions(h.deps, session.id, 'stopped')).rejects.toThrow('table gone');
  });

  it("appends a log line stamped with the clock, with who asked and the action when given", async () => {
    h = harness();
    h.clock.advance(42);
    await log(h.deps, 's-log', 'Request', 'postponed', { by: { kind: 'EndUser', name: 'ana' }, actionId: '007' });
    await log(h.deps, 's-log', 'Stage', 'plain');
    expect(h.lines).toEqual([
      { sessionId: 's-log', at: h.clock.now().toISOString(), kind: 'Request', message: 'postponed', by: { kind: 'EndUser', name: 'ana' }, actionId: '007' },
      { sessionId: 's-log', at: h.clock.now().toISOString(), kind: 'Stage', message: 'plain' },
    ]);
  });
});
