import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../functions/core/errors.js';
import { getSessionReport } from '../../functions/core/use-cases/session-report.js';
import { allowedRequests } from '../../functions/core/use-cases/session-requests.js';
import { useCaseHarness } from '../use-cases/harness.js';

/**
 * The session report as the API reads it (dynalite): the use case gathers the
 * session's stored plan, its verification (not its initial detection), its
 * usage priced as asked, and what may be asked of it now, into one report.
 */
describe('getSessionReport: one session read side by side', () => {
  const harness = useCaseHarness();

  it('reads the plan, the verification detection and the closed usage, priced at the Region asked for', async () => {
    const h = harness();
    const session = await h.session({ status: 'Running' });
    await h.actions(session.id, [{ actionId: '001', type: 'Update', reason: 'UpdateAvailable', status: 'Complete', result: 'Success', versionAfter: undefined }]);
    await h.deps.sessions.savePlan({
      sessionId: session.id,
      plannedAt: session.createdAt,
      items: [
        { key: 'software:app', itemName: 'App', action: 'Update', reason: 'UpdateAvailable', detected: { state: 'Present', version: '1.0' }, actionId: '001' },
        { key: 'software:zip', itemName: 'Zip', reason: 'UpToDate', detected: { state: 'Present', version: '3.1' } },
      ],
    });
    // the initial detection says something else: only the verification decides what is there after
    await h.deps.sessions.saveDetection({ sessionId: session.id, phase: 'Initial', items: { 'software:app': { state: 'Present', version: '1.0' } }, completedAt: session.createdAt });
    await h.deps.sessions.saveDetection({ sessionId: session.id, phase: 'Verification', items: { 'software:app': { state: 'Present', version: '2.0' } }, completedAt: session.createdAt });
    await h.deps.sessions.closeUsage(session.id, { stateTransitions: 40, at: session.createdAt });
    h.clock.advance(60_000);

    const report = await getSessionReport(h.deps, session.id, { region: 'eu-west-1', architecture: 'x86_64' });

    expect(report.leftAlone).toEqual(['Zip (up to date 3.1)']);
    expect(report.rows.map((row) => [row.actionId, row.before, row.after])).toEqual([['001', '1.0', '2.0']]);
    expect(report.steps.find((step) => step.step === 'Plan')?.state).toBe('done');
    expect(report.cost?.final).toBe(true);
    expect(report.cost?.counted.stateTransitions).toBe(40);
    expect(report.cost?.pricing).toMatchObject({ region: 'eu-west-1', architecture: 'x86_64' });
    const stored = await h.deps.sessions.getSession(session.id);
    if (!stored) throw new Error('the session was stored above');
    expect(report.allowed).toEqual(allowedRequests(stored, h.clock.now()));
    expect(report.allowed?.cancel.allowed).toBe(true);
  });

  it('reports a session with nothing stored beside it: no plan, no verification, nothing used yet, at us-east-1 arm64 prices', async () => {
    const h = harness();
    const session = await h.session({ status: 'Running' });
    await h.actions(session.id, [{ actionId: '001', versionAfter: undefined }]);

    const report = await getSessionReport(h.deps, session.id);

    expect(report.sessionId).toBe(session.id);
    expect(report.leftAlone).toEqual([]);
    expect(report.rows.map((row) => [row.actionId, row.before, row.after])).toEqual([['001', '—', '—']]);
    expect(report.steps.find((step) => step.step === 'Plan')?.state).not.toBe('done');
    expect(report.cost?.final).toBe(false);
    expect(report.cost?.priceUsd.total).toBe(0);
    expect(report.cost?.pricing).toMatchObject({ region: 'us-east-1', architecture: 'arm64' });
    expect(report.allowed).toBeDefined();
  });

  it('reads the session with its plan and verification in one store call, beside the actions and usage: three reads, none waiting on another', async () => {
    const h = harness();
    const session = await h.session({ status: 'Running' });
    await h.actions(session.id, [{ actionId: '001', versionAfter: undefined }]);
    const calls: string[] = [];
    let inFlight = 0;
    let mostInFlight = 0;
    const sessions = new Proxy(h.deps.sessions, {
      get(target, name, receiver) {
        const value: unknown = Reflect.get(target, name, receiver);
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          calls.push(String(name));
          inFlight++;
          mostInFlight = Math.max(mostInFlight, inFlight);
          try {
            return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          } finally {
            inFlight--;
          }
        };
      },
    });

    await getSessionReport({ ...h.deps, sessions }, session.id);

    expect(calls.sort()).toEqual(['getActions', 'getSessionWith', 'getUsage']);
    expect(mostInFlight).toBe(3);
  });

  it('refuses a session that does not exist', async () => {
    const h = harness();
    await expect(getSessionReport(h.deps, 'no-such-session')).rejects.toBeInstanceOf(NotFoundError);
  });
});
