import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../functions/core/errors.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { everywhere, runtimeWithFleet, testComputer, testSoftware } from '../support/fleet.js';

describe('handlers reject bad input by naming the field, and change nothing', () => {
  let runtime: LocalRuntime;
  beforeAll(async () => {
    runtime = await runtimeWithFleet({
      software: [testSoftware('app', '1.0')],
      deployments: [everywhere('app')],
      machines: [{ computer: testComputer('pc-1', 'i-0000000000000b001') }],
    });
  });
  afterAll(() => runtime.close());

  // step handlers throw: the ASL's Retry and Catch route on the error's name
  it.each([
    ['prepare-session', {}, 'sessionId'],
    ['dispatch-command', { sessionId: 's1', purpose: 'Action', taskToken: 't' }, 'actionId'],
    ['dispatch-command', { sessionId: 's1', purpose: 'Reboot', taskToken: 't' }, 'purpose'],
    ['dispatch-command', { sessionId: 's1', purpose: 'Action', actionId: '1', taskToken: 't' }, 'actionId'],
    ['dispatch-command', { sessionId: 's1', purpose: 'Action', actionId: '001', itemKey: 'software:../../etc', taskToken: 't' }, 'itemKey'],
    ['dispatch-command', { sessionId: 's1', purpose: 'Action', actionId: '001', itemKey: 'computer:restart', taskToken: 't' }, 'itemKey'],
    ['record-failure', { sessionId: 's1', error: { Cause: 'x' } }, 'error.Error'],
    ['complete-command', { source: 'aws.ssm', 'detail-type': 'EC2 Command Invocation Status-change Notification', detail: {} }, 'detail.command-id'],
    ['mail-events', { id: 'e1', time: '2026-11-23T18:05:03Z', detail: { eventType: 'Bounce', mail: { messageId: 'm1' }, bounce: { bouncedRecipients: [] } } }, 'detail.bounce.bounceType'],
    ['mail-events', { id: 'e1', time: '2026-11-23T18:05:03Z', detail: { eventType: 'Opened', mail: { messageId: 'm1' } } }, 'detail.eventType'],
  ])('step handler %s with %j throws a ValidationError naming %s', async (handler, event, field) => {
    const error: unknown = await runtime.invoke(handler, event).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).name).toBe('ValidationError');
    expect((error as ValidationError).problems.map((p) => p.field)).toContain(field);
    expect((error as ValidationError).message).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it("advance-runs takes the scheduled rule's EventBridge envelope (its fields are not ours) and one run to step, and refuses a malformed run id", async () => {
    const scheduled = { version: '0', id: 'e1', 'detail-type': 'Scheduled Event', source: 'aws.events', account: '111111111111', time: '2026-11-30T22:00:00Z', region: 'eu-west-1', resources: [], detail: {} };
    expect(await runtime.invoke('advance-runs', scheduled)).toEqual({ looked: 0, changed: 0 });
    expect(await runtime.invoke('advance-runs', { runId: 'run_gone' })).toEqual({ stepped: 'NotFound' });
    const error: unknown = await runtime.invoke('advance-runs', { runId: '../../etc' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems.map((p) => p.field).join(' ')).toContain('runId');
  });

  // operator handlers answer: one envelope, the field named, no stack trace
  it.each([
    ['start-session', { computerId: '' }, 'computerId'],
    ['start-session', { computerId: 'pc-1', sessionId: 'has spaces; and more' }, 'sessionId'],
    ['start-session', { computerId: 'pc-1', options: { reboot: 'Sometimes' } }, 'options.reboot'],
    ['start-session', { computerId: 'pc-1', sessionId: 'x'.repeat(65) }, 'sessionId'],
    ['start-session', { computerId: 'pc-1', options: { executeAt: 'tonight' } }, 'options.executeAt'],
    ['postpone-session', { sessionId: 's1', by: { kind: 'Hacker', name: 'x' } }, 'by.kind'],
    ['cancel-session', { sessionId: 's1' }, 'by'],
    ['get-session-log', { sessionId: 's1', limit: 5000 }, 'limit'],
    ['start-session', { computerId: 'pc-1', by: { kind: 'Operator', name: 'eve\u0000' } }, 'by.name'],
  ])('operator handler %s with %j answers a VALIDATION_FAILED envelope naming %s', async (handler, event, field) => {
    const answer = await runtime.invoke(handler, event);
    expect(answer).toEqual({ error: { code: 'VALIDATION_FAILED', message: expect.any(String) as string, field } });
    expect(JSON.stringify(answer)).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it('creates no session for a computer that does not exist, and says so in the envelope', async () => {
    expect(await runtime.invoke('start-session', { computerId: 'ghost', sessionId: 'ses_ghost' })).toEqual({
      error: { code: 'NOT_FOUND', message: 'computer ghost does not exist' },
    });
    expect(await runtime.deps.sessions.getSession('ses_ghost')).toBeUndefined();
  });
});
