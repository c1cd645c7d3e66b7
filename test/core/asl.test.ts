import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RETRYABLE_ERROR_NAMES } from '../../functions/core/errors.js';
import { MAX_WINDOW_DAYS } from '../../functions/core/model/session.js';
import { taskStates } from '../../local/local-workflow.js';
import { SESSION_ASL_PATH } from '../../local/runtime.js';

interface State {
  Type: string;
  Resource?: string;
  Retry?: { ErrorEquals: string[] }[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
  TimestampPath?: string;
  TimeoutSeconds?: number;
  Parameters?: Record<string, unknown>;
  ItemProcessor?: { States: Record<string, State> };
}
const asl = JSON.parse(readFileSync(SESSION_ASL_PATH, 'utf8')) as { QueryLanguage?: string; States: Record<string, State> };

describe('the session state machine definition', () => {
  it('uses JSONPath only (the local engine ignores JSONata silently)', () => {
    expect(asl.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
    expect(JSON.stringify(asl)).not.toMatch(/\{%|"Arguments"|"Output"|"Assign"/);
  });

  it('retries every task on the transient errors the code raises, and only those plus Lambda service faults', () => {
    for (const [name, state] of taskStates(asl)) {
      const retried = state.Retry?.flatMap((r) => r.ErrorEquals) ?? [];
      for (const errorName of RETRYABLE_ERROR_NAMES) expect(retried, name).toContain(errorName);
      expect(retried, name).not.toContain('States.ALL');
    }
  });

  it('catches every top-level stage into RecordFailure, so a failure always ends in a recorded session (Notify: into the next stage, mail never fails maintenance)', () => {
    for (const [name, state] of Object.entries(asl.States)) {
      if ((state.Type !== 'Task' && state.Type !== 'Map') || name === 'RecordFailure') continue;
      expect(state.Catch?.map((c) => c.Next), name).toEqual([name === 'Notify' ? 'ShouldExecute' : 'RecordFailure']);
    }
    // the Notify failure is kept apart from the session's own error, which RecordFailure reads
    expect((asl.States.Notify?.Catch?.[0] as { ResultPath?: string } | undefined)?.ResultPath).toBe('$.notifyError');
    // and RecordFailure itself ends the execution failed, which the status-change rule records
    expect(asl.States.RecordFailure?.Catch?.map((c) => c.Next)).toEqual(['SessionFailed']);
    expect(asl.States.SessionFailed?.Type).toBe('Fail');
  });

  it('waits for agent commands and for the window with task tokens, never by polling, and bounds every wait', () => {
    const tokenSteps = [...taskStates(asl)].filter(([, s]) => s.Resource?.endsWith('.waitForTaskToken'));
    expect(tokenSteps.map(([name]) => name).sort()).toEqual(['Detect', 'Gate', 'Restart', 'RunAction', 'Verify']);
    for (const [name, state] of tokenSteps) {
      expect(JSON.stringify(state.Parameters), name).toContain('"taskToken.$":"$$.Task.Token"');
      // agent commands: past SSM's 30-day delivery limit; the window: past the furthest window a session may have
      const atLeastSeconds = name === 'Gate' ? (MAX_WINDOW_DAYS + 1) * 86_400 : 30 * 24 * 3600;
      expect(state.TimeoutSeconds, name).toBeGreaterThanOrEqual(atLeastSeconds);
    }
    // a Wait state would make a long window cost transitions; the window is one parked token and one timer
    expect(Object.entries(asl.States).filter(([, s]) => s.Type === 'Wait')).toEqual([]);
  });

  it('executes actions one at a time', () => {
    expect(asl.States.Execute).toMatchObject({ Type: 'Map', MaxConcurrency: 1 });
  });
});
