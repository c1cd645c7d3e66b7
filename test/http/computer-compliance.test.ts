import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComputerCompliance } from '../../functions/core/use-cases/computer-compliance.js';
import { apiHarness, type ApiHarness } from './support.js';

/** GET /v1/computers/{computerId}/compliance over the local runtime: what a real session detected, per item, for the callers who may see the computer. */

let api: ApiHarness;
let sessionId: string;

beforeAll(async () => {
  api = await apiHarness();
  sessionId = (await api.runtime.startSession('pc-acme')).sessionId;
  expect((await api.runtime.waitForSession(sessionId)).session.status).toBe('Passed');
}, 60_000);
afterAll(async () => {
  await api.close();
});

describe('a computer’s compliance through the API', () => {
  it('answers, per deployed item, compliant after the session installed it, resting on that session’s verification (proves the route reads real detections)', async () => {
    const answer = await api.call('ViewerAcme', 'GET', '/v1/computers/pc-acme/compliance');
    expect(answer.status).toBe(200);
    const compliance = answer.body as ComputerCompliance;
    expect(compliance).toMatchObject({ computerId: 'pc-acme', sessionsRead: 1, problems: [], counts: { Compliant: 1, NotCompliant: 0, Undetermined: 0, NotEnforced: 0, NotDetected: 0 } });
    expect(compliance.items).toEqual([
      expect.objectContaining({ key: 'software:app', wants: 'LatestVersion', state: 'Compliant', reason: 'UpToDate', detected: expect.objectContaining({ sessionId, phase: 'Verification', state: 'Present', version: '2.0.0' }) as unknown }),
    ]);
    expect(Date.parse(compliance.items[0]?.detected?.detectedAt ?? '')).not.toBeNaN();
  });

  it('says "not detected" for a computer no session has reached, rather than guessing', async () => {
    const answer = await api.call('Technician', 'GET', '/v1/computers/pc-east/compliance');
    expect(answer).toMatchObject({ status: 200, body: { sessionsRead: 0, items: [{ key: 'software:app', state: 'NotDetected' }] } });
  });

  it("answers another tenant's computer exactly as a missing one (proves ids cannot be probed)", async () => {
    const foreign = await api.call('ViewerGlobex', 'GET', '/v1/computers/pc-acme/compliance');
    const missing = await api.call('ViewerGlobex', 'GET', '/v1/computers/pc-nowhere/compliance');
    expect(foreign).toEqual({ status: 404, body: { error: { code: 'NOT_FOUND', message: 'computer pc-acme does not exist' } } });
    expect(missing).toEqual({ status: 404, body: { error: { code: 'NOT_FOUND', message: 'computer pc-nowhere does not exist' } } });
    expect((await api.call('Admin', 'GET', '/v1/computers/pc-nowhere/compliance')).status).toBe(404);
  });
});
