import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { DynamoCatalogStore } from '../../functions/adapters/catalog-store.dynamodb.js';
import { DynamoSessionStore } from '../../functions/adapters/session-store.dynamodb.js';
import { NotFoundError } from '../../functions/core/errors.js';
import type { DetectedItem, DetectionPhase } from '../../functions/core/model/session.js';
import { computerCompliance, computerComplianceSchema, itemComplianceSchema, type ItemCompliance } from '../../functions/core/use-cases/computer-compliance.js';
import type { Dependencies } from '../../functions/core/use-cases/dependencies.js';
import { computer, deploySoftware, deployTask, sessionRecord, software, task, tenant } from '../support/domain.js';
import { dynamoTable } from '../support/dynamo.js';

/**
 * A computer's compliance, rule by rule (dynalite): how each of the
 * planner's reasons is judged, what a detection carries into the answer,
 * which detection counts, and the answer's schema as the API documents it.
 */

type Deps = Pick<Dependencies, 'catalog' | 'sessions'>;
let deps: Deps;
let close: () => Promise<void>;

const only = (computerId: string) => ({ target: { kind: 'Computer' as const, computerId } });

beforeAll(async () => {
  const dynamo = await dynamoTable();
  close = dynamo.close;
  const catalog = new DynamoCatalogStore(dynamo.table);
  deps = { catalog, sessions: new DynamoSessionStore(dynamo.table) };
  await catalog.putTenant(tenant('t1'));
  for (const id of ['pc-reasons', 'pc-tasks', 'pc-order', 'pc-quiet']) await catalog.putComputer(computer(id));
  // pc-reasons: one software item per planner reason
  const sw = [
    software('newer', { name: 'Newer' }),
    software('anyv', { name: 'Anyv' }),
    software('iffound', { name: 'Iffound' }),
    software('upd', { name: 'Upd' }),
    software('old', { name: 'Old' }),
    software('tested', { name: 'Tested', testScript: 'true' }),
    software('app', { name: 'App', dependencies: [{ softwareId: 'runtime', requires: 'Installed' }, { softwareId: 'adware', requires: 'Absent' }] }),
    software('runtime', { name: 'Runtime' }),
    software('adware', { name: 'Adware' }),
    software('tool', { name: 'Tool', dependencies: [{ softwareId: 'lib', requires: 'Installed' }] }),
    software('lib', { name: 'Lib' }),
    software('left', { name: 'Left', dependencies: [{ softwareId: 'shared', requires: 'Installed' }] }),
    software('right', { name: 'Right', dependencies: [{ softwareId: 'shared', requires: 'Absent' }] }),
    software('shared', { name: 'Shared' }),
    software('off', { name: 'Off' }),
    software('offquiet', { name: 'Offquiet' }),
    software('unseen', { name: 'Unseen' }),
  ];
  for (const s of sw) await catalog.putSoftware(s);
  const r = only('pc-reasons');
  await catalog.putDeployment(deploySoftware('d-newer', 'newer', r));
  await catalog.putDeployment(deploySoftware('d-anyv', 'anyv', { ...r, desiredState: 'AnyVersion' }));
  await catalog.putDeployment(deploySoftware('d-iffound', 'iffound', { ...r, desiredState: 'UpdateIfFound' }));
  await catalog.putDeployment(deploySoftware('d-upd', 'upd', r));
  await catalog.putDeployment(deploySoftware('d-old', 'old', { ...r, desiredState: 'ThisVersion', version: '1.0' }));
  await catalog.putDeployment(deploySoftware('d-tested', 'tested', r));
  await catalog.putDeployment(deploySoftware('d-app', 'app', r));
  await catalog.putDeployment(deploySoftware('d-tool', 'tool', { ...r, desiredState: 'UpdateIfFound' }));
  await catalog.putDeployment(deploySoftware('d-left', 'left', r));
  await catalog.putDeployment(deploySoftware('d-right', 'right', r));
  await catalog.putDeployment(deploySoftware('d-off', 'off', { ...r, enabled: false }));
  await catalog.putDeployment(deploySoftware('d-offquiet', 'offquiet', { ...r, enabled: false }));
  await catalog.putDeployment(deploySoftware('d-unseen', 'unseen', r));
  // pc-tasks: each task mode
  await catalog.putTask(task('fw', { name: 'Firewall' }));
  await catalog.putTask(task('av', { name: 'Antivirus' }));
  await catalog.putTask(task('audit-undetermined', { name: 'Audit undetermined' }));
  await catalog.putTask(task('audit-ok', { name: 'Audit ok' }));
  await catalog.putTask(task('ignored', { name: 'Ignored' }));
  const t = only('pc-tasks');
  await catalog.putDeployment(deployTask('d-fw', 'fw', t));
  await catalog.putDeployment(deployTask('d-av', 'av', t));
  await catalog.putDeployment(deployTask('d-audit-u', 'audit-undetermined', { ...t, mode: 'Audit' }));
  await catalog.putDeployment(deployTask('d-audit-ok', 'audit-ok', { ...t, mode: 'Audit' }));
  await catalog.putDeployment(deployTask('d-ignored', 'ignored', { ...t, mode: 'Ignore' }));
  // pc-order: one item, detected by two sessions
  await catalog.putSoftware(software('ordered', { name: 'Ordered' }));
  await catalog.putDeployment(deploySoftware('d-ordered', 'ordered', only('pc-order')));
}, 60_000);
afterAll(() => close());

async function sessionWith(id: string, computerId: string, createdAt: string, detections: Partial<Record<DetectionPhase, { at: string; items: Record<string, DetectedItem> }>>): Promise<void> {
  await deps.sessions.createSession(sessionRecord(id, { computerId, tenantId: 't1', status: 'Passed', createdAt, updatedAt: createdAt }));
  for (const [phase, detection] of Object.entries(detections) as [DetectionPhase, { at: string; items: Record<string, DetectedItem> }][]) {
    await deps.sessions.saveDetection({ sessionId: id, phase, items: detection.items, completedAt: detection.at });
  }
}

const byName = (items: readonly ItemCompliance[]): Record<string, ItemCompliance> => Object.fromEntries(items.map((item) => [item.itemName, item]));
const verdicts = (items: readonly ItemCompliance[]) => Object.fromEntries(items.map((item) => [item.itemName, [item.state, item.reason ?? null, item.why]]));

describe('how each planner reason is judged', () => {
  it('judges software by the planner’s reason: newer, any and absent-if-found are compliant; update, downgrade, failed test and missing or conflicting prerequisites are not; a disabled deployment is not enforced', async () => {
    const at = '2026-11-20T09:01:00.000Z';
    await sessionWith('ses-reasons', 'pc-reasons', '2026-11-20T09:00:00.000Z', {
      Initial: {
        at,
        items: {
          'software:newer': { state: 'Present', version: '3.0' },
          'software:anyv': { state: 'Present', version: '0.1' },
          'software:iffound': { state: 'Absent' },
          'software:upd': { state: 'Present', version: '1.0' },
          'software:old': { state: 'Present', version: '2.0' },
          'software:tested': { state: 'Present', version: '2.0', test: 'Failed' },
          'software:app': { state: 'Present', version: '2.0' },
          'software:runtime': { state: 'Absent' },
          'software:adware': { state: 'Present', version: '1.0' },
          'software:tool': { state: 'Absent' },
          'software:lib': { state: 'Absent' },
          'software:left': { state: 'Present', version: '2.0' },
          'software:right': { state: 'Present', version: '2.0' },
          'software:shared': { state: 'Present', version: '2.0' },
          'software:off': { state: 'Present', version: '2.0' },
        },
      },
    });
    const compliance = await computerCompliance(deps, 'pc-reasons');
    expect(verdicts(compliance.items)).toMatchObject({
      Newer: ['Compliant', 'NewerVersionInstalled', 'newer than the catalog'],
      Anyv: ['Compliant', 'AnyVersionInstalled', expect.any(String)],
      Iffound: ['Compliant', 'NotInstalledUpdateIfFound', expect.any(String)],
      Lib: ['Compliant', 'PrerequisiteNotNeeded', expect.any(String)],
      Upd: ['NotCompliant', 'UpdateAvailable', expect.any(String)],
      Old: ['NotCompliant', 'OlderVersionRequired', expect.any(String)],
      Tested: ['NotCompliant', 'TestFailed', expect.any(String)],
      Runtime: ['NotCompliant', 'PrerequisiteMissing', expect.any(String)],
      Adware: ['NotCompliant', 'ConflictingSoftware', expect.any(String)],
      Off: ['NotEnforced', 'NotAssigned', expect.any(String)],
      Offquiet: ['NotEnforced', null, 'not enforced'],
      Unseen: ['NotDetected', null, 'not detected by a recent session'],
    });
    const conflicted = compliance.items.filter((item) => item.reason === 'DependencyConflict');
    expect(conflicted.length).toBeGreaterThan(0);
    expect(conflicted.every((item) => item.state === 'NotCompliant')).toBe(true);
    expect(byName(compliance.items).Offquiet).toStrictEqual({ key: 'software:offquiet', itemName: 'Offquiet', kind: 'Software', origin: 'Unassigned', wants: 'LatestVersion', state: 'NotEnforced', why: 'not enforced' });
    expect(byName(compliance.items).Off?.origin).toBe('Unassigned');
    const counted = compliance.items.reduce<Record<string, number>>((counts, item) => ({ ...counts, [item.state]: (counts[item.state] ?? 0) + 1 }), {});
    expect(compliance.counts).toEqual({ Compliant: 0, NotCompliant: 0, Undetermined: 0, NotEnforced: 0, NotDetected: 0, ...counted });
  });

  it('judges tasks: an enforced one by its test, an audit by what its test found (undetermined included), an ignored one not detected as not enforced', async () => {
    await sessionWith('ses-tasks', 'pc-tasks', '2026-11-20T09:00:00.000Z', {
      Initial: {
        at: '2026-11-20T09:01:00.000Z',
        items: {
          'task:fw': { state: 'Compliant' },
          'task:av': { state: 'NotCompliant', detail: 'signatures 9 days old' },
          'task:audit-undetermined': { state: 'Undetermined', reason: 'the test timed out' },
          'task:audit-ok': { state: 'Compliant', detail: 'all good' },
        },
      },
    });
    const items = byName((await computerCompliance(deps, 'pc-tasks')).items);
    expect(items.Firewall).toMatchObject({ state: 'Compliant', reason: 'TaskCompliant' });
    expect(items.Antivirus).toMatchObject({ state: 'NotCompliant', reason: 'TaskNotCompliant', detected: { state: 'NotCompliant', detail: 'signatures 9 days old' } });
    expect(items['Audit undetermined']).toMatchObject({ state: 'Undetermined', reason: 'AuditRequested', why: 'could not be determined (audited)' });
    expect(items['Audit ok']).toMatchObject({ state: 'Compliant', why: 'compliant (audited)', detected: { detail: 'all good' } });
    expect(items.Ignored).toStrictEqual({ key: 'task:ignored', itemName: 'Ignored', kind: 'Task', origin: 'Deployed', wants: 'Ignore', state: 'NotEnforced', why: 'not enforced' });
  });
});

describe('what a detection carries into the answer', () => {
  it('gives a present item its version (and its test only when it has one), an undetermined one its reason, a task its words only when it has some, and an absent one neither', async () => {
    await sessionWith('ses-carry', 'pc-reasons', '2026-11-21T09:00:00.000Z', {
      Initial: {
        at: '2026-11-21T09:01:00.000Z',
        items: {
          'software:newer': { state: 'Present', version: '3.0' },
          'software:tested': { state: 'Present', version: '2.0', test: 'Passed' },
          'software:upd': { state: 'Undetermined', reason: 'detection script failed' },
          'software:iffound': { state: 'Absent' },
        },
      },
    });
    await sessionWith('ses-carry-t', 'pc-tasks', '2026-11-21T09:00:00.000Z', {
      Initial: { at: '2026-11-21T09:01:00.000Z', items: { 'task:fw': { state: 'Compliant' }, 'task:av': { state: 'NotCompliant' } } },
    });
    const software = byName((await computerCompliance(deps, 'pc-reasons')).items);
    const base = { sessionId: 'ses-carry', phase: 'Initial', detectedAt: '2026-11-21T09:01:00.000Z' };
    expect(software.Newer?.detected).toStrictEqual({ ...base, state: 'Present', version: '3.0', found: '3.0' });
    expect(software.Tested?.detected).toStrictEqual({ ...base, state: 'Present', version: '2.0', test: 'Passed', found: expect.any(String) as unknown });
    expect(software.Upd?.detected).toStrictEqual({ ...base, state: 'Undetermined', detail: 'detection script failed', found: '?' });
    expect(software.Iffound?.detected).toStrictEqual({ ...base, state: 'Absent', found: 'absent' });
    const tasks = byName((await computerCompliance(deps, 'pc-tasks')).items);
    expect(tasks.Firewall?.detected).toStrictEqual({ ...base, sessionId: 'ses-carry-t', state: 'Compliant', found: 'compliant' });
    expect(tasks.Antivirus?.detected).toStrictEqual({ ...base, sessionId: 'ses-carry-t', state: 'NotCompliant', found: 'not compliant' });
  });

  it('takes the detection that completed last, whichever session started last (a long session’s verification beats a newer session’s early detection)', async () => {
    await sessionWith('ses-long', 'pc-order', '2026-11-22T08:00:00.000Z', {
      Initial: { at: '2026-11-22T08:01:00.000Z', items: { 'software:ordered': { state: 'Present', version: '1.0' } } },
      Verification: { at: '2026-11-22T12:00:00.000Z', items: { 'software:ordered': { state: 'Present', version: '2.0' } } },
    });
    await sessionWith('ses-short', 'pc-order', '2026-11-22T09:00:00.000Z', {
      Initial: { at: '2026-11-22T09:01:00.000Z', items: { 'software:ordered': { state: 'Present', version: '1.5' } } },
    });
    const [item] = (await computerCompliance(deps, 'pc-order')).items;
    expect(item?.detected).toMatchObject({ sessionId: 'ses-long', phase: 'Verification', version: '2.0' });
    expect(item?.state).toBe('Compliant');
  });

  it('refuses a computer that does not exist as not found, naming it', async () => {
    await expect(computerCompliance(deps, 'pc-nowhere')).rejects.toThrow(new NotFoundError('computer', 'pc-nowhere'));
  });
});

describe('the answer’s schema, as the API documents it', () => {
  it('keeps every field of a real answer, for every state, kind, origin and detection state', async () => {
    const answers = await Promise.all(['pc-reasons', 'pc-tasks', 'pc-quiet'].map((id) => computerCompliance(deps, id)));
    for (const answer of answers) expect(computerComplianceSchema.parse(answer)).toEqual(answer);
    const items = answers.flatMap((answer) => answer.items);
    expect(new Set(items.map((item) => item.state))).toEqual(new Set(['Compliant', 'NotCompliant', 'Undetermined', 'NotEnforced', 'NotDetected']));
    expect(new Set(items.map((item) => item.kind))).toEqual(new Set(['Software', 'Task']));
    expect(new Set(items.map((item) => item.origin))).toEqual(new Set(['Deployed', 'Prerequisite', 'Unassigned']));
  });

  it('accepts every detection state, phase and test result, and refuses one it does not know', () => {
    const item = (detected: Record<string, unknown>) => ({ key: 'software:app', itemName: 'App', kind: 'Software', origin: 'Deployed', wants: 'LatestVersion', state: 'Compliant', why: 'up to date', detected: { sessionId: 's', phase: 'Initial', detectedAt: 'x', state: 'Present', found: '2.0', ...detected } });
    for (const state of ['Present', 'Absent', 'Compliant', 'NotCompliant', 'Undetermined']) expect(itemComplianceSchema.parse(item({ state })).detected?.state).toBe(state);
    for (const phase of ['Initial', 'Verification']) expect(itemComplianceSchema.parse(item({ phase })).detected?.phase).toBe(phase);
    for (const test of ['Passed', 'Failed']) expect(itemComplianceSchema.parse(item({ test })).detected?.test).toBe(test);
    expect(() => itemComplianceSchema.parse(item({ state: 'Gone' }))).toThrow();
    expect(() => itemComplianceSchema.parse({ ...item({}), kind: 'Patch' })).toThrow();
  });

  it('documents each field the API explains', () => {
    const described = (shape: Record<string, z.ZodType>): Record<string, string | undefined> => Object.fromEntries(Object.entries(shape).map(([field, schema]) => [field, schema.meta()?.description]));
    const nonEmpty = expect.stringMatching(/\w/) as unknown;
    expect(described(computerComplianceSchema.shape)).toMatchObject({ counts: nonEmpty, sessionsRead: expect.stringContaining('(at most 20)') as unknown, problems: nonEmpty });
    expect(described(itemComplianceSchema.shape)).toMatchObject({ wants: nonEmpty, state: nonEmpty, reason: nonEmpty, why: nonEmpty, detected: nonEmpty });
    const detection = itemComplianceSchema.shape.detected.unwrap();
    expect(described(detection.shape)).toMatchObject({ sessionId: nonEmpty, phase: nonEmpty, detectedAt: nonEmpty, version: nonEmpty, test: nonEmpty, detail: nonEmpty, found: nonEmpty });
  });
});
