import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import * as errors from '../../functions/core/errors.js';
import { ConflictError, ERROR_KINDS, INTERNAL_FAILURE, NightshiftError, NotFoundError, RequestRefusedError, TransientError, ValidationError, WORKFLOW_FAILURE_KINDS } from '../../functions/core/errors.js';
import { describeWorkflowError } from '../../functions/core/use-cases/record-failure.js';
import type { Dependencies } from '../../functions/core/use-cases/dependencies.js';
import { createHandler as explainComputer } from '../../functions/handlers/explain-computer.js';
import { createHandler as planSession } from '../../functions/handlers/plan-session.js';
import { createHandler as recordFailure } from '../../functions/handlers/record-failure.js';
import { createHandler as saveCatalog } from '../../functions/handlers/save-catalog.js';
import { errorEnvelope } from '../../functions/handlers/handler-kit.js';

const context = {} as Context;

/** Dependencies whose catalog and session store fail with `error`, and a logger that keeps what it is told. */
function failingWith(error: unknown) {
  const logged: { message: string; fields?: Record<string, unknown> }[] = [];
  const fail = () => Promise.reject(error instanceof Error ? error : new Error(String(error)));
  const deps = {
    catalog: { getComputer: fail, getTenant: fail, getSoftware: fail, getTasks: fail, putTenant: fail },
    sessions: { getSession: fail, getSessionWith: fail, getDetection: fail, getPlan: fail },
    logger: { info: () => undefined, warn: () => undefined, error: (message: string, fields?: Record<string, unknown>) => logged.push({ message, ...(fields ? { fields } : {}) }) },
  } as unknown as Dependencies;
  return { provide: () => deps, logged };
}

describe('operator handlers answer with one error envelope; step handlers keep throwing', () => {
  it('hides an unexpected error behind INTERNAL and logs it with its stack (proves no internals reach the caller)', async () => {
    const internal = new Error('AccessDeniedException: arn:aws:dynamodb:eu-west-1:123456789012:table/nightshift is not authorized');
    const { provide, logged } = failingWith(internal);
    expect(await explainComputer(provide)({ computerId: 'pc-1' }, context)).toEqual({
      error: { code: 'INTERNAL', message: 'something went wrong; it has been logged' },
    });
    expect(logged).toEqual([{ message: internal.message, fields: expect.objectContaining({ handler: 'explain-computer', errorName: 'Error', stack: internal.stack }) as object }]);
  });

  it('answers Nightshift errors with their stable code and message, never a stack (proves one envelope for every client error)', async () => {
    for (const [error, code] of [
      [new NotFoundError('computer', 'pc-9'), 'NOT_FOUND'],
      [new ConflictError('the session moved on'), 'CONFLICT'],
      [new RequestRefusedError('the session has already ended (Cancelled)'), 'REQUEST_REFUSED'],
      [new TransientError('throttled; try again'), 'TRANSIENT'],
    ] as const) {
      const answer = await explainComputer(failingWith(error).provide)({ computerId: 'pc-1' }, context);
      expect(answer).toEqual({ error: { code, message: error.message } });
      expect(JSON.stringify(answer)).not.toContain('at ');
    }
  });

  it('names the field of a validation failure and quotes the input only in an excerpt', async () => {
    const { provide } = failingWith(new Error('unused'));
    const answer = await saveCatalog(provide)({ kind: 'Tenant', by: { kind: 'Operator', name: 'ops' }, entity: { id: 't1', name: 'x'.repeat(100_000) } }, context);
    expect(answer).toEqual({ error: { code: 'VALIDATION_FAILED', message: 'invalid tenant: name: must be at most 255 characters', field: 'name' } });
    const hostileKey = await saveCatalog(provide)({ kind: 'Deployment', by: { kind: 'Operator', name: 'ops' }, entity: { parameters: { ['k'.repeat(100_000)]: 1 } } }, context);
    expect(JSON.stringify(hostileKey).length).toBeLessThan(2_000);
    expect(errorEnvelope(new ValidationError('thing', [{ field: '', problem: 'expected object' }]))).toEqual({
      error: { code: 'VALIDATION_FAILED', message: 'invalid thing: expected object', field: '' },
    });
  });

  it('keeps a step handler throwing, so Step Functions Retry and Catch still route on the error name', async () => {
    await expect(planSession(failingWith(new TransientError('throttled')).provide)({ sessionId: 'ses_1' }, context)).rejects.toMatchObject({ name: 'TransientError' });
    await expect(planSession(failingWith(new Error('boom')).provide)({ sessionId: 'ses_1' }, context)).rejects.toThrow('boom');
    await expect(planSession(failingWith(new Error('unused')).provide)({}, context)).rejects.toBeInstanceOf(ValidationError);
  });

  it('lets a NUL in a workflow-written error cause through to the use case (proves recording a failure is never refused over a character)', async () => {
    const event = { sessionId: 'ses_1', error: { Error: 'States.TaskFailed', Cause: 'script printed \u0000 and died' } };
    // the stub dependencies fail the use case itself; what matters is that parsing let it run
    const error: unknown = await recordFailure(failingWith(new Error('use case reached')).provide)(event, context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(ValidationError);
  });
});

/** Every subclass errors.ts exports, found by what it is rather than listed, so a new one cannot be left out. */
const nightshiftErrorClasses = (Object.values(errors) as unknown[]).filter(
  (value): value is new (...args: unknown[]) => NightshiftError => typeof value === 'function' && value.prototype instanceof NightshiftError,
);
/** One instance of each: constructor arguments vary, and these fit every signature in the family. */
const oneOfEach = nightshiftErrorClasses.map((ErrorClass) => new ErrorClass('thing', [], 'other'));

describe('one error-code table', () => {
  it('has every NightshiftError subclass once, under its own name, with the code and retry rule its instances carry', () => {
    expect(oneOfEach.length).toBeGreaterThanOrEqual(10);
    const names = oneOfEach.map((error) => error.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.sort()).toEqual(Object.keys(ERROR_KINDS).sort());
    for (const error of oneOfEach) {
      const kind = ERROR_KINDS[error.name];
      expect({ name: error.name, code: error.code, transient: error.transient }).toEqual({ name: error.name, code: kind.code, transient: kind.transient });
      expect(kind.summary.length, error.name).toBeGreaterThan(20);
    }
  });

  it('gives every failure a code no other failure has (proves a code names one thing on the console and in emails)', () => {
    const codes = [...Object.values(ERROR_KINDS), ...Object.values(WORKFLOW_FAILURE_KINDS), INTERNAL_FAILURE].map((kind) => kind.code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('is what record-failure writes on a session and what the envelope answers, for every name (proves no second mapping)', () => {
    for (const [name, kind] of [...Object.entries(ERROR_KINDS), ...Object.entries(WORKFLOW_FAILURE_KINDS)]) {
      expect(describeWorkflowError({ Error: name, Cause: JSON.stringify({ errorMessage: 'why' }) }), name).toEqual({ code: kind.code, message: 'why' });
      // without a message, the summary is the reason a person reads
      expect(describeWorkflowError({ Error: name }), name).toEqual({ code: kind.code, message: kind.summary });
    }
    for (const error of oneOfEach) expect(errorEnvelope(error).error.code).toBe(ERROR_KINDS[error.name].code);
    expect(describeWorkflowError({ Error: 'Lambda.Unknown' })).toEqual({ code: 'INTERNAL', message: 'Lambda.Unknown' });
    expect(describeWorkflowError({ Error: 'toString' }).code).toBe('INTERNAL');
  });
});
