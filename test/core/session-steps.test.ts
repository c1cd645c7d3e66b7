import { describe, expect, it } from 'vitest';
import { newStages, notifyOptionsSchema, sessionOptionsSchema, type PlanSnapshot, type Session } from '../../functions/core/model/session.js';
import { sessionSteps, type SessionStepState } from '../../functions/core/model/session-steps.js';
import { sessionRecord } from '../support/domain.js';

const PLAN: PlanSnapshot = { sessionId: 's', items: [], plannedAt: '2026-11-23T18:01:00.000Z' };
const at = '2026-11-23T18:00:00.000Z';
const states = (session: Session, plan?: PlanSnapshot): SessionStepState[] => sessionSteps(session, plan).map((step) => step.state);
const stages = (detection: Session['stages']['Detection']['status'], execution: Session['stages']['Execution']['status'] = 'Unstarted', verification: Session['stages']['Verification']['status'] = 'Unstarted') => ({
  ...newStages(),
  Detection: { status: detection, startedAt: at },
  Execution: { status: execution },
  Verification: { status: verification },
});
const withEmail = sessionOptionsSchema.parse({ executeAt: '2026-11-23T22:00:00.000Z', notify: notifyOptionsSchema.parse({}) });

describe('where a session stands among its eight steps (pure, from the record)', () => {
  it('detecting: resolved, detecting, the rest ahead', () => {
    expect(states(sessionRecord('s', { status: 'Running', stages: stages('Running') }))).toEqual(['done', 'current', 'pending', 'pending', 'pending', 'pending', 'pending', 'pending']);
  });

  it('waiting for its window after the detection email', () => {
    const session = sessionRecord('s', { status: 'Running', stages: stages('Succeeded'), executeAt: '2026-11-23T22:00:00.000Z', options: withEmail });
    expect(states(session, PLAN)).toEqual(['done', 'done', 'done', 'done', 'current', 'pending', 'pending', 'pending']);
  });

  it('executing at once after detection, without end-user email: notify and window passed over', () => {
    const session = sessionRecord('s', { status: 'Running', stages: stages('Succeeded', 'Running') });
    expect(states(session, PLAN)).toEqual(['done', 'done', 'done', 'skipped', 'skipped', 'current', 'pending', 'pending']);
  });

  it('passed: every step it took done, the report last', () => {
    const session = sessionRecord('s', { status: 'Passed', stages: stages('Succeeded', 'Succeeded', 'Succeeded'), endedAt: at, executeAt: '2026-11-23T22:00:00.000Z', options: withEmail });
    expect(states(session, PLAN)).toEqual(['done', 'done', 'done', 'done', 'done', 'done', 'done', 'done']);
  });

  it('cancelled while waiting: the window is where it stopped, the rest never came', () => {
    const session = sessionRecord('s', { status: 'Cancelled', stages: stages('Succeeded', 'Skipped', 'Skipped'), endedAt: at, executeAt: '2026-11-23T22:00:00.000Z', options: withEmail });
    expect(states(session, PLAN)).toEqual(['done', 'done', 'done', 'done', 'cancelled', 'skipped', 'skipped', 'done']);
  });

  it('failed in detection: the step that failed says so', () => {
    const session = sessionRecord('s', { status: 'Failed', failure: { code: 'AGENT_UNREACHABLE', message: 'offline' }, stages: stages('Failed'), endedAt: at });
    // the report step is the record of how it ended, written by the failure's catch
    expect(states(session)).toEqual(['done', 'failed', 'skipped', 'skipped', 'skipped', 'skipped', 'skipped', 'done']);
  });
});
