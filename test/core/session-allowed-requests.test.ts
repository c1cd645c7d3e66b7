import { describe, expect, it } from 'vitest';
import { newStages, sessionOptionsSchema, type Session } from '../../functions/core/model/session.js';
import { allowedRequests, decidePostpone } from '../../functions/core/use-cases/session-requests.js';
import { sessionRecord } from '../support/domain.js';

/**
 * What the console offers on a session's page comes from `allowedRequests`,
 * which judges each request by the request's own rule: these cases prove the
 * two cannot disagree, and that a refusal carries the request's own words.
 */

const NOW = new Date('2026-11-23T12:00:00.000Z');
const TONIGHT = '2026-11-23T22:00:00.000Z';

const waiting = (overrides: Partial<Session> = {}): Session =>
  sessionRecord('s', { status: 'Running', executeAt: TONIGHT, stages: { ...newStages(), Detection: { status: 'Succeeded' } }, ...overrides });

describe('what may be asked of a session now', () => {
  it('a session waiting for tonight may be run now, postponed and cancelled, not rerun', () => {
    expect(allowedRequests(waiting(), NOW)).toEqual({
      runNow: { allowed: true },
      postpone: { allowed: true },
      cancel: { allowed: true },
      rerun: { allowed: false, reason: 'the session has not ended yet: cancel it, or wait for its end' },
    });
  });

  it('a session postponed as often as it may be says so on postpone, in the words the postpone request answers with', () => {
    const options = sessionOptionsSchema.parse({ postpone: { delayMinutes: 60, maxCount: 1 } });
    const session = waiting({ options, postponements: [{ at: NOW.toISOString(), by: { kind: 'EndUser', name: 'ana' }, from: TONIGHT, to: '2026-11-23T23:00:00.000Z' }] });
    const allowed = allowedRequests(session, NOW);
    expect(allowed.postpone).toEqual({ allowed: false, reason: 'the session was already postponed 1 time(s); the limit is 1' });
    expect(() => decidePostpone(session, NOW, { kind: 'Operator', name: 'bob' })).toThrow(allowed.postpone.reason);
    expect(allowed.runNow).toEqual({ allowed: true });
  });

  it('a session executing may be cancelled but not postponed or moved; one that ended may only be rerun', () => {
    const executing = waiting({ stages: { ...newStages(), Detection: { status: 'Succeeded' }, Execution: { status: 'Running', startedAt: NOW.toISOString() } } });
    expect(allowedRequests(executing, NOW)).toMatchObject({ postpone: { allowed: false, reason: 'execution has already started, so it can no longer be postponed' }, cancel: { allowed: true } });
    expect(allowedRequests(executing, NOW).runNow.allowed).toBe(true);
    expect(allowedRequests(sessionRecord('s', { status: 'Passed' }), NOW)).toEqual({
      runNow: { allowed: false, reason: 'the session has already ended (Passed)' },
      postpone: { allowed: false, reason: 'the session has already ended (Passed)' },
      cancel: { allowed: false, reason: 'the session has already ended (Passed)' },
      rerun: { allowed: true },
    });
    expect(allowedRequests(sessionRecord('s', { status: 'Cancelled' }), NOW).cancel).toEqual({ allowed: false, reason: 'the session is already cancelled' });
  });

  it('a detection-only session has no execution to move', () => {
    const detectOnly = waiting({ options: sessionOptionsSchema.parse({ mode: 'DetectionOnly' }) });
    expect(allowedRequests(detectOnly, NOW)).toMatchObject({
      runNow: { allowed: false, reason: 'this session only detects; there is no execution to run now' },
      postpone: { allowed: false, reason: 'this session only detects; there is no execution to postpone' },
    });
  });
});
