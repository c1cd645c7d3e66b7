import { describe, expect, it } from 'vitest';
import { newStages, sessionOptionsSchema, type PlanSnapshot, type Session, type StageStatus } from '../../functions/core/model/session.js';
import { sessionSteps, type SessionStepState } from '../../functions/core/model/session-steps.js';
import { sessionRecord } from '../support/domain.js';

const PLAN: PlanSnapshot = { sessionId: 's', items: [], plannedAt: '2026-11-23T18:01:00.000Z' };
const at = '2026-11-23T18:00:00.000Z';
const states = (session: Session, plan?: PlanSnapshot): SessionStepState[] => sessionSteps(session, plan).map((step) => step.state);
const stages = (detection: StageStatus, execution: StageStatus = 'Unstarted', verification: StageStatus = 'Unstarted'): Session['stages'] => ({
  ...newStages(),
  Detection: { status: detection },
  Execution: { status: execution },
  Verification: { status: verification },
});
const FAILURE = { code: 'STEP_TIMED_OUT', message: 'the step ran out of time' } as const;

describe('session steps: the rules behind each state (pure, from the record)', () => {
  it('a created session has reached no step; one running before detection is resolving its computer', () => {
    expect(states(sessionRecord('s', { status: 'Created', stages: stages('Unstarted') }))).toEqual(Array.from({ length: 8 }, () => 'pending'));
    expect(states(sessionRecord('s', { status: 'Running', stages: stages('Unstarted') }))[0]).toBe('current');
    // a plan means the computer was resolved, whatever the detection stage says
    expect(states(sessionRecord('s', { status: 'Running', stages: stages('Unstarted') }), PLAN)[0]).toBe('done');
  });

  it('a detection that succeeded makes planning the current step until the plan is stored', () => {
    expect(states(sessionRecord('s', { status: 'Running', stages: stages('Succeeded') }))).toEqual(['done', 'done', 'current', 'pending', 'pending', 'pending', 'pending', 'pending']);
  });

  it('reads a stage that failed or was skipped as such', () => {
    const steps = states(sessionRecord('s', { status: 'Running', stages: stages('Succeeded', 'Failed', 'Skipped') }), PLAN);
    expect(steps.slice(5, 7)).toEqual(['failed', 'skipped']);
  });

  it('counts the window as done once execution began, if it waited for one (a time, or a postponement), else as passed over', () => {
    const postponed = { at, by: { kind: 'EndUser', name: 'ana' }, from: at, to: '2026-11-23T20:00:00.000Z' } as const;
    for (const execution of ['Running', 'Succeeded', 'Failed'] as const) {
      expect(states(sessionRecord('s', { status: 'Running', stages: stages('Succeeded', execution) }), PLAN)[4], execution).toBe('skipped');
      expect(states(sessionRecord('s', { status: 'Running', stages: stages('Succeeded', execution), executeAt: at }), PLAN)[4], execution).toBe('done');
      expect(states(sessionRecord('s', { status: 'Running', stages: stages('Succeeded', execution), postponements: [postponed] }), PLAN)[4], execution).toBe('done');
    }
  });

  it('waits for the window only in a full session whose execution has not started or been passed over', () => {
    const full = sessionRecord('s', { status: 'Running', stages: stages('Succeeded') });
    expect(states(full, PLAN)[4]).toBe('current');
    expect(states(full)[4]).toBe('pending');
    const detectionOnly = sessionRecord('s', { status: 'Running', stages: stages('Succeeded'), options: sessionOptionsSchema.parse({ mode: 'DetectionOnly' }) });
    expect(states(detectionOnly, PLAN)[4]).toBe('pending');
    expect(states(sessionRecord('s', { status: 'Running', stages: stages('Succeeded', 'Skipped') }), PLAN)[4]).toBe('pending');
  });

  it('a session cancelled mid-step stops at that step, the rest never came, its record still its report', () => {
    const session = sessionRecord('s', { status: 'Cancelled', stages: stages('Succeeded', 'Running'), endedAt: at });
    expect(states(session, PLAN)).toEqual(['done', 'done', 'done', 'skipped', 'skipped', 'cancelled', 'skipped', 'done']);
  });

  it('a session that failed without a failed stage (it ran out of time) stops at the step it was in, marked failed', () => {
    const session = sessionRecord('s', { status: 'Failed', failure: FAILURE, stages: stages('Succeeded', 'Running'), endedAt: at });
    expect(states(session, PLAN)).toEqual(['done', 'done', 'done', 'skipped', 'skipped', 'failed', 'skipped', 'done']);
    // before it reached a step: the first one it never reached is where it stopped
    const early = sessionRecord('s', { status: 'Failed', failure: FAILURE, stages: stages('Succeeded'), endedAt: at });
    expect(states(early)).toEqual(['done', 'done', 'failed', 'skipped', 'skipped', 'skipped', 'skipped', 'done']);
  });

  it('a failed session that records no failure, and an ended one that passed, mark nothing as where they stopped', () => {
    const unexplained = sessionRecord('s', { status: 'Failed', stages: stages('Succeeded', 'Running'), endedAt: at });
    expect(states(unexplained, PLAN)).toEqual(['done', 'done', 'done', 'skipped', 'skipped', 'skipped', 'skipped', 'done']);
    // only a Failed session is marked failed where it stopped, whatever failure another record carries
    const partly = sessionRecord('s', { status: 'PartialPassed', failure: FAILURE, stages: stages('Succeeded', 'Running'), endedAt: at });
    expect(states(partly, PLAN)[5]).toBe('skipped');
    const passed = sessionRecord('s', { status: 'Passed', stages: stages('Succeeded', 'Skipped', 'Skipped'), endedAt: at, options: sessionOptionsSchema.parse({ mode: 'DetectionOnly' }) });
    expect(states(passed, PLAN)).toEqual(['done', 'done', 'done', 'skipped', 'skipped', 'skipped', 'skipped', 'done']);
  });

  it('never marks the report as where a session stopped: an ended session whose end is not written yet has it passed over', () => {
    const session = sessionRecord('s', { status: 'Cancelled', stages: stages('Succeeded', 'Succeeded', 'Succeeded'), executeAt: at });
    expect(states(session, PLAN)).toEqual(['done', 'done', 'done', 'skipped', 'done', 'done', 'done', 'skipped']);
  });
});
