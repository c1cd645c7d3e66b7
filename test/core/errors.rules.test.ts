import { describe, expect, it } from 'vitest';
import {
  AgentFailedError,
  AgentUnreachableError,
  ConfigurationError,
  ConflictError,
  DispatchInProgressError,
  ERROR_KINDS,
  INTERNAL_FAILURE,
  IllegalTransitionError,
  NightshiftError,
  NotFoundError,
  RETRYABLE_ERROR_NAMES,
  RequestRefusedError,
  TransientError,
  ValidationError,
  WORKFLOW_FAILURE_KINDS,
  failureKind,
  isNightshiftError,
} from '../../functions/core/errors.js';

/**
 * The error table is a contract: `name` routes Step Functions' Retry/Catch,
 * `code` is what the console, emails and API key their text on and never
 * changes once shipped, `summary` is the operator's default text. Each row is
 * written out here so a changed code or retry rule is a failing test.
 */

const ERROR_TABLE = {
  ValidationError: { code: 'VALIDATION_FAILED', transient: false, summary: 'The input does not match its schema; the message names each field and its problem.' },
  NotFoundError: { code: 'NOT_FOUND', transient: false, summary: 'The tenant, computer, item, deployment or session does not exist (or is not yours to see).' },
  ConflictError: { code: 'CONFLICT', transient: false, summary: 'The record changed under the request or the id is already used for something else; read it again and decide.' },
  IllegalTransitionError: { code: 'ILLEGAL_TRANSITION', transient: false, summary: 'The session or action cannot go from its status to the one asked for.' },
  RequestRefusedError: { code: 'REQUEST_REFUSED', transient: false, summary: "The session's rules do not allow the request now (a postpone limit or deadline, a session already ended)." },
  ConfigurationError: { code: 'CONFIGURATION_INVALID', transient: false, summary: 'The catalog or the deployment setup cannot work as written (a missing script, too many items); fix it and start again.' },
  TransientError: { code: 'TRANSIENT', transient: true, summary: 'A service was throttled or timed out; the same request can succeed when tried again.' },
  DispatchInProgressError: { code: 'DISPATCH_IN_PROGRESS', transient: true, summary: "Another attempt of the same step holds the right to send its command; it is tried again once that attempt's lease is over." },
  AgentUnreachableError: { code: 'AGENT_UNREACHABLE', transient: false, summary: 'The agent could not reach the computer (offline, deregistered or not managed).' },
  AgentFailedError: { code: 'AGENT_FAILED', transient: false, summary: 'The agent reached the computer but the command could not run (wrong platform, access denied).' },
};

const WORKFLOW_TABLE = {
  'States.Timeout': { code: 'TIMED_OUT', transient: false, summary: "The session's workflow ran past its time limit." },
  ExecutionAborted: { code: 'ABORTED', transient: false, summary: "The session's workflow execution was stopped by hand." },
  SessionNotStarted: { code: 'NOT_STARTED', transient: false, summary: "The session's workflow execution never began the session." },
  'Sandbox.Timedout': { code: 'STEP_TIMED_OUT', transient: false, summary: 'A step of the session ran past its function’s time limit.' },
};

const INTERNAL = { code: 'INTERNAL', transient: false, summary: 'Something unexpected went wrong; it has been logged.' };

const cause = new Error('the underlying failure');

/** One instance of every class, built the way its callers build it, with a cause. */
const INSTANCES: readonly [keyof typeof ERROR_TABLE, NightshiftError, string][] = [
  ['ValidationError', new ValidationError('computer', [{ field: 'agentId', problem: 'is required' }], { cause }), 'invalid computer: agentId: is required'],
  ['NotFoundError', new NotFoundError('computer', 'pc-1'), 'computer pc-1 does not exist'],
  ['ConflictError', new ConflictError('deployment d1 changed', { cause }), 'deployment d1 changed'],
  ['IllegalTransitionError', new IllegalTransitionError('session', 'Passed', 'Running'), 'session cannot go from Passed to Running'],
  ['RequestRefusedError', new RequestRefusedError('the postpone limit is reached', { cause }), 'the postpone limit is reached'],
  ['ConfigurationError', new ConfigurationError('no install script', { cause }), 'no install script'],
  ['TransientError', new TransientError('throttled', { cause }), 'throttled'],
  ['DispatchInProgressError', new DispatchInProgressError('another attempt is sending', { cause }), 'another attempt is sending'],
  ['AgentUnreachableError', new AgentUnreachableError('pc-1 is offline', { cause }), 'pc-1 is offline'],
  ['AgentFailedError', new AgentFailedError('access denied', { cause }), 'access denied'],
];

describe('the error table', () => {
  it('holds exactly these names, codes, retry rules and summaries', () => {
    expect(ERROR_KINDS).toEqual(ERROR_TABLE);
  });

  it('holds exactly these workflow failures', () => {
    expect(WORKFLOW_FAILURE_KINDS).toEqual(WORKFLOW_TABLE);
  });

  it('has INTERNAL, permanent, for anything else', () => {
    expect(INTERNAL_FAILURE).toEqual(INTERNAL);
  });

  it('gives every failure a code of its own', () => {
    const codes = [...Object.values(ERROR_KINDS), ...Object.values(WORKFLOW_FAILURE_KINDS), INTERNAL_FAILURE].map((kind) => kind.code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('makes only TransientError and DispatchInProgressError transient', () => {
    expect(Object.entries(ERROR_KINDS).filter(([, kind]) => kind.transient).map(([name]) => name)).toEqual(['TransientError', 'DispatchInProgressError']);
  });

  it('has the state machine retry TransientError on every task, a name that is transient', () => {
    expect(RETRYABLE_ERROR_NAMES).toEqual(['TransientError']);
    for (const name of RETRYABLE_ERROR_NAMES) expect(ERROR_KINDS[name].transient).toBe(true);
  });
});

describe('each error class', () => {
  it('has one instance per row of the table here', () => {
    expect(INSTANCES.map(([name]) => name)).toEqual(Object.keys(ERROR_TABLE));
  });

  it.each(INSTANCES)('%s: carries its name, code and retry rule from the table', (name, error) => {
    expect(error.name).toBe(name);
    expect(error.code).toBe(ERROR_TABLE[name].code);
    expect(error.transient).toBe(ERROR_TABLE[name].transient);
  });

  it.each(INSTANCES)('%s: is an Error and a NightshiftError, recognised as one', (_, error) => {
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(NightshiftError);
    expect(isNightshiftError(error)).toBe(true);
  });

  it.each(INSTANCES)('%s: says what happened in its message', (_, error, message) => {
    expect(error.message).toBe(message);
  });

  it.each(INSTANCES)('%s: serialises to name, code and message only (no stack, no cause)', (name, error, message) => {
    expect(error.toJSON()).toEqual({ name, code: ERROR_TABLE[name].code, message });
    expect(JSON.parse(JSON.stringify(error))).toEqual({ name, code: ERROR_TABLE[name].code, message });
  });

  it.each(INSTANCES.filter(([name]) => name !== 'NotFoundError' && name !== 'IllegalTransitionError'))('%s: keeps the cause it was given', (_, error) => {
    expect(error.cause).toBe(cause);
  });

  it('leaves the cause absent when none is given', () => {
    expect(new TransientError('throttled').cause).toBeUndefined();
    expect(new ValidationError('computer', []).cause).toBeUndefined();
    expect(new NotFoundError('computer', 'pc-1').cause).toBeUndefined();
  });
});

describe('ValidationError', () => {
  it('names every offending field with its problem, joined by "; "', () => {
    const error = new ValidationError('deployment', [
      { field: 'deployments.3.version', problem: 'is required when desiredState is ThisVersion' },
      { field: 'target.kind', problem: 'is not known' },
    ]);
    expect(error.message).toBe('invalid deployment: deployments.3.version: is required when desiredState is ThisVersion; target.kind: is not known');
  });

  it('gives a problem of the whole input (no field) without a field prefix', () => {
    expect(new ValidationError('request', [{ field: '', problem: 'must be a JSON object' }, { field: 'id', problem: 'must not be empty' }]).message).toBe(
      'invalid request: must be a JSON object; id: must not be empty',
    );
  });

  it('keeps the entity and the problems for the API to list', () => {
    const problems = [{ field: 'agentId', problem: 'is required' }];
    const error = new ValidationError('computer', problems);
    expect(error.entity).toBe('computer');
    expect(error.problems).toEqual(problems);
  });
});

describe('NotFoundError and IllegalTransitionError', () => {
  it('NotFoundError keeps the entity and the id', () => {
    expect(new NotFoundError('session', 's-1')).toMatchObject({ entity: 'session', id: 's-1' });
  });

  it('IllegalTransitionError keeps the entity and both statuses', () => {
    expect(new IllegalTransitionError('action', 'Pending', 'Passed')).toMatchObject({ entity: 'action', from: 'Pending', to: 'Passed' });
  });
});

describe('failureKind', () => {
  it.each(Object.entries(ERROR_TABLE))('maps the Nightshift error %s to its row', (name, kind) => {
    expect(failureKind(name)).toEqual(kind);
  });

  it.each(Object.entries(WORKFLOW_TABLE))('maps the workflow failure %s to its row', (name, kind) => {
    expect(failureKind(name)).toEqual(kind);
  });

  it.each(['Error', 'TypeError', 'Lambda.ServiceException', 'States.TaskFailed', '', 'validationerror', 'NightshiftError'])('maps %j to INTERNAL', (name) => {
    expect(failureKind(name)).toEqual(INTERNAL);
  });

  it.each(['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'])("maps %j to INTERNAL, never to an Object prototype member", (name) => {
    expect(failureKind(name)).toEqual(INTERNAL);
  });
});

describe('isNightshiftError', () => {
  it.each([
    ['a plain Error', new Error('x')],
    ['an Error named like one of ours', Object.assign(new Error('x'), { name: 'TransientError' })],
    ['an object shaped like one of ours', { name: 'TransientError', code: 'TRANSIENT', message: 'x' }],
    ['null', null],
    ['a string', 'TransientError'],
  ])('is false for %s', (_, value) => {
    expect(isNightshiftError(value)).toBe(false);
  });
});
