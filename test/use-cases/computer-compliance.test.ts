import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoCatalogStore } from '../../functions/adapters/catalog-store.dynamodb.js';
import { DynamoSessionStore } from '../../functions/adapters/session-store.dynamodb.js';
import { NotFoundError } from '../../functions/core/errors.js';
import type { DetectedItem, DetectionPhase } from '../../functions/core/model/session.js';
import { COMPLIANCE_LOOKBACK_SESSIONS, computerCompliance, type ItemCompliance } from '../../functions/core/use-cases/computer-compliance.js';
import type { Dependencies } from '../../functions/core/use-cases/dependencies.js';
import { computer, deploySoftware, deployTask, sessionRecord, software, task, tenant } from '../support/domain.js';
import { dynamoTable } from '../support/dynamo.js';

/**
 * A computer's compliance per item, from the detections its sessions
 * stored (the real DynamoDB adapter on dynalite) and the catalog as it is
 * now: which detection counts, how it is judged, and what is said when no
 * session detected an item.
 */

type Deps = Pick<Dependencies, 'catalog' | 'sessions'>;

let deps: Deps;
let close: () => Promise<void>;

beforeAll(async () => {
  const dynamo = await dynamoTable();
  close = dynamo.close;
  const catalog = new DynamoCatalogStore(dynamo.table);
  deps = { catalog, sessions: new DynamoSessionStore(dynamo.table) };
  await catalog.putTenant(tenant('t1'));
  for (const id of ['pc-1', 'pc-quiet', 'pc-busy']) await catalog.putComputer(computer(id, { name: id.toUpperCase() }));
  await catalog.putSoftware(software('app', { name: 'App', latestVersion: '2.0' }));
  await catalog.putSoftware(software('legacy', { name: 'Legacy', latestVersion: '3.0' }));
  await catalog.putSoftware(software('toolbar', { name: 'Toolbar' }));
  await catalog.putSoftware(software('viewer', { name: 'Viewer' }));
  await catalog.putSoftware(software('games', { name: 'Games' }));
  await catalog.putTask(task('disk-check', { name: 'Disk check' }));
  await catalog.putTask(task('firewall', { name: 'Firewall' }));
  await catalog.putDeployment(deploySoftware('d-app', 'app'));
  await catalog.putDeployment(deploySoftware('d-legacy', 'legacy', { desiredState: 'ThisVersion', version: '1.0' }));
  await catalog.putDeployment(deploySoftware('d-toolbar', 'toolbar', { desiredState: 'NotPresent' }));
  await catalog.putDeployment(deploySoftware('d-viewer', 'viewer'));
  await catalog.putDeployment(deploySoftware('d-games', 'games', { desiredState: 'Ignored' }));
  await catalog.putDeployment(deployTask('d-disk', 'disk-check', { mode: 'Audit' }));
  await catalog.putDeployment(deployTask('d-firewall', 'firewall', { mode: 'Enforce' }));
}, 60_000);
afterAll(() => close());

/** A stored session of `computerId` created at `createdAt`, with the detections given per phase. */
async function sessionWith(id: string, computerId: string, createdAt: string, detections: Partial<Record<DetectionPhase, { at: string; items: Record<string, DetectedItem> }>>): Promise<void> {
  await deps.sessions.createSession(sessionRecord(id, { computerId, tenantId: 't1', status: 'Passed', createdAt, updatedAt: createdAt }));
  for (const [phase, detection] of Object.entries(detections) as [DetectionPhase, { at: string; items: Record<string, DetectedItem> }][]) {
    await deps.sessions.saveDetection({ sessionId: id, phase, items: detection.items, completedAt: detection.at });
  }
}

const byName = (items: readonly ItemCompliance[]) => Object.fromEntries(items.map((item) => [item.itemName, item]));

describe('a computer’s compliance per item, as last detected', () => {
  it('takes each item from the latest detection that found it (a verification over the detection before it, an older session for what a limited one skipped) and judges it against what is deployed now', async () => {
    await sessionWith('ses-older', 'pc-1', '2026-11-20T09:00:00.000Z', {
      Initial: {
        at: '2026-11-20T09:01:00.000Z',
        items: {
          'software:app': { state: 'Present', version: '1.0' },
          'software:legacy': { state: 'Present', version: '1.0' },
          'software:toolbar': { state: 'Present', version: '5.1' },
          'software:games': { state: 'Present', version: '7' },
          'task:disk-check': { state: 'NotCompliant', detail: '3 % free' },
          'task:firewall': { state: 'Undetermined', reason: 'the test timed out' },
        },
      },
    });
    // limited to app: it detected nothing else, and its verification came after its own detection
    await sessionWith('ses-newer', 'pc-1', '2026-11-22T09:00:00.000Z', {
      Initial: { at: '2026-11-22T09:01:00.000Z', items: { 'software:app': { state: 'Present', version: '1.0' } } },
      Verification: { at: '2026-11-22T09:05:00.000Z', items: { 'software:app': { state: 'Present', version: '2.0' } } },
    });

    const compliance = await computerCompliance(deps, 'pc-1');

    const items = byName(compliance.items);
    expect(items.App).toEqual({
      key: 'software:app',
      itemName: 'App',
      kind: 'Software',
      origin: 'Deployed',
      wants: 'LatestVersion',
      state: 'Compliant',
      reason: 'UpToDate',
      why: 'up to date',
      detected: { sessionId: 'ses-newer', phase: 'Verification', detectedAt: '2026-11-22T09:05:00.000Z', state: 'Present', version: '2.0', found: '2.0' },
    });
    expect(items.Legacy).toMatchObject({ wants: 'ThisVersion 1.0', state: 'Compliant', reason: 'UpToDate', detected: { sessionId: 'ses-older', phase: 'Initial' } });
    expect(items.Toolbar).toMatchObject({ wants: 'NotPresent', state: 'NotCompliant', reason: 'SoftwareDetected', why: 'installed, must not be', detected: { version: '5.1', found: '5.1' } });
    expect(items.Games).toMatchObject({ state: 'NotEnforced', reason: 'Ignored', why: 'ignored by deployment' });
    expect(items['Disk check']).toMatchObject({ kind: 'Task', wants: 'Audit', state: 'NotCompliant', why: 'not compliant (audited)', detected: { state: 'NotCompliant', detail: '3 % free', found: 'not compliant' } });
    expect(items.Firewall).toMatchObject({ wants: 'Enforce', state: 'Undetermined', reason: 'Undetermined', detected: { state: 'Undetermined', detail: 'the test timed out', found: '?' } });
    expect(items.Viewer).toEqual({ key: 'software:viewer', itemName: 'Viewer', kind: 'Software', origin: 'Deployed', wants: 'LatestVersion', state: 'NotDetected', why: 'not detected by a recent session' });
    expect(compliance.counts).toEqual({ Compliant: 2, NotCompliant: 2, Undetermined: 1, NotEnforced: 1, NotDetected: 1 });
    expect(compliance.sessionsRead).toBe(2);
    expect(compliance.problems).toEqual([]);
  });

  it('says every enforced item is not detected, and an ignored one not enforced, for a computer no session has detected (proves nothing is guessed)', async () => {
    const compliance = await computerCompliance(deps, 'pc-quiet');
    expect(compliance.sessionsRead).toBe(0);
    expect(compliance.items).toHaveLength(7);
    expect(compliance.items.every((item) => item.detected === undefined && item.reason === undefined)).toBe(true);
    expect(compliance.counts).toEqual({ Compliant: 0, NotCompliant: 0, Undetermined: 0, NotEnforced: 1, NotDetected: 6 });
  });

  it('stops reading sessions once every item has a detection, and reads at most its lookback (proves the cost is bounded by the newest sessions, not the history)', async () => {
    const everything: Record<string, DetectedItem> = {
      'software:app': { state: 'Absent' },
      'software:legacy': { state: 'Absent' },
      'software:toolbar': { state: 'Absent' },
      'software:viewer': { state: 'Absent' },
      'software:games': { state: 'Absent' },
      'task:disk-check': { state: 'Compliant' },
      'task:firewall': { state: 'Compliant' },
    };
    for (let day = 1; day <= COMPLIANCE_LOOKBACK_SESSIONS + 5; day++) {
      const at = `2026-10-${String(day).padStart(2, '0')}T09:00:00.000Z`;
      // only the oldest session detected the viewer: it is past the lookback
      const items = day === 1 ? { 'software:viewer': { state: 'Present' as const, version: '2.0' } } : day === COMPLIANCE_LOOKBACK_SESSIONS + 5 ? everything : {};
      await sessionWith(`ses-busy-${String(day).padStart(2, '0')}`, 'pc-busy', at, { Initial: { at, items } });
    }
    const newestKnowsAll = await computerCompliance(deps, 'pc-busy');
    expect(newestKnowsAll.sessionsRead).toBeLessThan(COMPLIANCE_LOOKBACK_SESSIONS);
    expect(byName(newestKnowsAll.items).App).toMatchObject({ state: 'NotCompliant', reason: 'SoftwareMissing', detected: { sessionId: 'ses-busy-25', found: 'absent' } });
    expect(byName(newestKnowsAll.items).Toolbar).toMatchObject({ state: 'Compliant', reason: 'SoftwareAbsent' });
    expect(byName(newestKnowsAll.items)['Disk check']).toMatchObject({ state: 'Compliant', why: 'compliant (audited)' });

    // the newest session now detected only the app: the viewer, seen only by the oldest, is out of reach
    await deps.sessions.saveDetection({ sessionId: 'ses-busy-25', phase: 'Initial', items: { 'software:app': { state: 'Absent' } }, completedAt: '2026-10-25T09:00:00.000Z' });
    const partly = await computerCompliance(deps, 'pc-busy');
    expect(partly.sessionsRead).toBe(COMPLIANCE_LOOKBACK_SESSIONS);
    expect(byName(partly.items).Viewer).toMatchObject({ state: 'NotDetected' });
  });

  it('refuses a computer that does not exist as not found', async () => {
    await expect(computerCompliance(deps, 'pc-nowhere')).rejects.toBeInstanceOf(NotFoundError);
  });
});
