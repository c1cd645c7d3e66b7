import { describe, expect, it, vi } from 'vitest';
import { NotFoundError } from '../../functions/core/errors.js';
import { sessionOptionsSchema, type Session } from '../../functions/core/model/session.js';
import type { DetectionEntry } from '../../functions/core/scripts/contract.js';
import { buildActionCommand, buildDetectionCommand, detectionTimeoutSeconds } from '../../functions/core/use-cases/agent-commands.js';
import { actionRecord, sessionRecord, software, softwareItem, task, taskItem } from '../support/domain.js';
import { APP, useCaseHarness, type Harness } from './harness.js';

/** The NAME=value pairs a bash script hands its steps (each value base64 in the script). */
const environmentOf = (script: string): Record<string, string> =>
  Object.fromEntries([...script.matchAll(/'(NIGHTSHIFT_[A-Za-z0-9_]*)=([A-Za-z0-9+/=]*)'/g)].map(([, name = '', value = '']) => [name, Buffer.from(value, 'base64').toString('utf8')]));

const entry = (timeoutSeconds: number, secrets: string[] = []): DetectionEntry => ({
  key: 'software:x',
  script: 'true',
  environment: secrets.length ? { NIGHTSHIFT_SECRET_REFS_JSON: JSON.stringify(Object.fromEntries(secrets.map((s) => [s, `/nightshift/secrets/d/${s}`]))) } : {},
  timeoutSeconds,
});

describe('how long a batched detection may run (pure)', () => {
  it('gives even an empty or quick batch a minute', () => {
    expect(detectionTimeoutSeconds([])).toBe(60);
    expect(detectionTimeoutSeconds([entry(1)])).toBe(60);
  });

  it('allows each turn of four items the slowest item twice (detection, then test), with its kill grace, plus 30 s', () => {
    // one item: 2 × (30 + 5) + 30
    expect(detectionTimeoutSeconds([entry(30)])).toBe(100);
    expect(detectionTimeoutSeconds([entry(30), entry(30), entry(30), entry(30)])).toBe(100);
    expect(detectionTimeoutSeconds([entry(30), entry(30), entry(30), entry(30), entry(30)])).toBe(170);
    expect(detectionTimeoutSeconds([entry(10), entry(100)])).toBe(2 * 105 + 30);
  });

  it("adds each secret's look-up, with its grace, to the item that needs it", () => {
    // 2 × (60 + 5) for the secrets, 2 × (30 + 5) for the item, 30 for the batch
    expect(detectionTimeoutSeconds([entry(30, ['a', 'b'])])).toBe(230);
  });

  it('never asks more than every agent allows', () => {
    expect(detectionTimeoutSeconds(Array.from({ length: 2_000 }, () => entry(120)))).toBe(28_800);
  });
});

describe('the commands sent to a computer (dynalite)', () => {
  const harness = useCaseHarness();
  let h: Harness;

  const vault = task('vault', {
    scripts: { style: 'Separate', test: 'exit 0', set: 'echo set', get: 'echo get' },
    parameters: [
      { name: 'user', type: 'string', required: false },
      { name: 'pin', type: 'secret', required: false },
    ],
  });
  const session = (overrides: Partial<Session> = {}): Session =>
    sessionRecord('s-cmd', {
      items: [softwareItem('app', { itemName: 'App' }), taskItem('vault', { itemName: 'Vault', deploymentId: 'dep-vault', parameters: { user: 'ana', pin: '(secret)' } })],
      ...overrides,
    });

  it('detects every managed item in one command, named after its session and nonce, bounded by the batch rule', async () => {
    h = harness();
    await h.catalog.putTask(vault);
    const s = session({ items: [...session().items, softwareItem('ghost', { origin: 'Unassigned' })] });
    const command = await buildDetectionCommand(h.deps, s, 'Detect', 'n1');
    expect(command).toMatchObject({
      agentId: s.agentId,
      platform: 'linux',
      comment: 'nightshift/s-cmd/Detect/n1',
      deliveryTimeoutSeconds: 600,
      // one turn of the slowest item, the task: its secret's look-up (60 + 5), detection and test (2 × (30 + 5)); then 30
      executionTimeoutSeconds: 165,
    });
    // the secret goes by its reference, never its value
    const environment = environmentOf(command.script);
    expect(environment.NIGHTSHIFT_PARAM_user).toBe('ana');
    expect(environment.NIGHTSHIFT_PARAM_pin).toBeUndefined();
    expect(JSON.parse(environment.NIGHTSHIFT_SECRET_REFS_JSON ?? '{}')).toEqual({ pin: '/nightshift/secrets/shared/dep-vault/pin' });
    expect(command.script).not.toContain(Buffer.from('software:ghost').toString('base64'));
  });

  it('gives up on delivery soon for a session that skips offline computers', async () => {
    h = harness();
    const command = await buildDetectionCommand(h.deps, session({ items: [softwareItem('app')], options: sessionOptionsSchema.parse({ offline: 'Skip' }) }), 'Verify', 'n2');
    expect(command.deliveryTimeoutSeconds).toBe(60);
    expect(command.comment).toBe('nightshift/s-cmd/Verify/n2');
  });

  it("keeps delivery within the session's own offline wait, when it sets a shorter one", async () => {
    h = harness();
    const waiting = (offlineWaitSeconds: number) => session({ items: [], options: sessionOptionsSchema.parse({ offlineWaitSeconds }) });
    expect((await buildDetectionCommand(h.deps, waiting(120), 'Detect', 'n')).deliveryTimeoutSeconds).toBe(120);
    expect((await buildDetectionCommand(h.deps, waiting(86_400), 'Detect', 'n')).deliveryTimeoutSeconds).toBe(600);
  });

  it('tells the computer where secrets are read when a Region is set', async () => {
    h = harness();
    await h.catalog.putTask(vault);
    const deps = { ...h.deps, agentSettings: { ...h.deps.agentSettings, secretsRegion: 'eu-west-1' } };
    expect(environmentOf((await buildDetectionCommand(deps, session(), 'Detect', 'n')).script).NIGHTSHIFT_SECRETS_REGION).toBe('eu-west-1');
    const action = actionRecord('s-cmd', '001', { itemKey: 'task:vault', itemId: 'vault', itemName: 'Vault', type: 'TaskEnforce', toVersion: undefined });
    expect(environmentOf((await buildActionCommand(deps, session(), action, 'Action#001', 'n')).script).NIGHTSHIFT_SECRETS_REGION).toBe('eu-west-1');
  });

  it('refuses to detect software or a task that left the catalog, naming it', async () => {
    h = harness();
    await expect(buildDetectionCommand(h.deps, session({ items: [softwareItem('gone')] }), 'Detect', 'n')).rejects.toThrow(new NotFoundError('software', 'gone'));
    await expect(buildDetectionCommand(h.deps, session({ items: [taskItem('gone-task')] }), 'Detect', 'n')).rejects.toThrow(new NotFoundError('maintenance task', 'gone-task'));
  });

  it('asks the catalog nothing for a session with no items', async () => {
    h = harness();
    const getSoftware = vi.spyOn(h.catalog, 'getSoftware');
    const getTasks = vi.spyOn(h.catalog, 'getTasks');
    expect((await buildDetectionCommand(h.deps, session({ items: [] }), 'Detect', 'n')).executionTimeoutSeconds).toBe(60);
    expect(getSoftware).not.toHaveBeenCalled();
    expect(getTasks).not.toHaveBeenCalled();
  });

  it('tells an installer what it does, on which session and item, and the versions involved', async () => {
    h = harness();
    const action = actionRecord('s-cmd', '004', { type: 'Update', fromVersion: '1.0', toVersion: '2.0' });
    const command = await buildActionCommand(h.deps, session(), action, 'Action#004', 'n4');
    expect(environmentOf(command.script)).toEqual({
      NIGHTSHIFT_ACTION: 'Update',
      NIGHTSHIFT_SESSION_ID: 's-cmd',
      NIGHTSHIFT_ITEM_ID: 'app',
      NIGHTSHIFT_VERSION: '2.0',
      NIGHTSHIFT_FROM_VERSION: '1.0',
    });
    expect(command.script).toContain('# Nightshift action: Update App (s-cmd action 004). Generated.');
    expect(command).toMatchObject({ comment: 'nightshift/s-cmd/Action#004/n4', executionTimeoutSeconds: 300 });
    const install = await buildActionCommand(h.deps, session(), actionRecord('s-cmd', '001', { toVersion: undefined }), 'Action#001', 'n');
    expect(Object.keys(environmentOf(install.script)).sort()).toEqual(['NIGHTSHIFT_ACTION', 'NIGHTSHIFT_ITEM_ID', 'NIGHTSHIFT_SESSION_ID']);
  });

  it('gives every step of an action its own time limit', async () => {
    h = harness();
    const reinstall = await buildActionCommand(h.deps, session(), actionRecord('s-cmd', '001', { type: 'Reinstall' }), 'Action#001', 'n');
    expect(reinstall.executionTimeoutSeconds).toBe(600);
  });

  it('uses the catalog entry the step read with the action, and reads it when the step read another', async () => {
    h = harness();
    const getSoftware = vi.spyOn(h.catalog, 'getSoftware');
    const read = software('app', { installScript: 'echo from-the-step' });
    const given = await buildActionCommand(h.deps, session(), actionRecord('s-cmd', '001'), 'Action#001', 'n', { software: read });
    expect(given.script).toContain(Buffer.from('echo from-the-step').toString('base64'));
    expect(getSoftware).not.toHaveBeenCalled();
    const other = await buildActionCommand(h.deps, session(), actionRecord('s-cmd', '001'), 'Action#001', 'n', { software: software('other') });
    expect(other.script).toContain(Buffer.from(APP.installScript).toString('base64'));
    expect(getSoftware).toHaveBeenCalledWith(['app'], { includeDeleted: true });
  });

  it('runs a task with its method and parameters, a secret only by reference', async () => {
    h = harness();
    const getTasks = vi.spyOn(h.catalog, 'getTasks');
    const action = actionRecord('s-cmd', '002', { itemKey: 'task:vault', itemId: 'vault', itemName: 'Vault', type: 'TaskAudit', toVersion: undefined });
    const command = await buildActionCommand(h.deps, session(), action, 'Action#002', 'n', { task: vault });
    expect(getTasks).not.toHaveBeenCalled();
    const environment = environmentOf(command.script);
    expect(environment).toMatchObject({ NIGHTSHIFT_ACTION: 'TaskAudit', NIGHTSHIFT_ITEM_ID: 'vault', NIGHTSHIFT_TASK_METHOD: 'get', NIGHTSHIFT_PARAM_user: 'ana' });
    expect(JSON.parse(environment.NIGHTSHIFT_PARAMETERS_JSON ?? '')).toEqual({ user: 'ana' });
    expect(JSON.parse(environment.NIGHTSHIFT_SECRET_REFS_JSON ?? '')).toEqual({ pin: '/nightshift/secrets/shared/dep-vault/pin' });
    expect(command.script).not.toContain('(secret)');
    expect(command.script).not.toContain(Buffer.from('(secret)').toString('base64'));
  });

  it("names a per-tenant deployment's secret under the session's own tenant, the one tenant such a deployment reaches", async () => {
    h = harness();
    const action = actionRecord('s-cmd', '002', { itemKey: 'task:vault', itemId: 'vault', itemName: 'Vault', type: 'TaskAudit', toVersion: undefined });
    const perTenant = session({
      tenantId: 'acme',
      items: [taskItem('vault', { itemName: 'Vault', deploymentId: 'dep-vault', parameters: { user: 'ana', pin: '(secret)' }, secretScope: 'Tenant' })],
    });
    const environment = environmentOf((await buildActionCommand(h.deps, perTenant, action, 'Action#002', 'n', { task: vault })).script);
    expect(JSON.parse(environment.NIGHTSHIFT_SECRET_REFS_JSON ?? '')).toEqual({ pin: '/nightshift/secrets/tenants/acme/dep-vault/pin' });
  });

  it('reads the task from the catalog when the step did not, and names one that left it', async () => {
    h = harness();
    await h.catalog.putTask(vault);
    const action = actionRecord('s-cmd', '002', { itemKey: 'task:vault', itemId: 'vault', itemName: 'Vault', type: 'TaskEnforce', toVersion: undefined });
    expect(environmentOf((await buildActionCommand(h.deps, session(), action, 'Action#002', 'n', { task: task('other') })).script).NIGHTSHIFT_TASK_METHOD).toBe('set');
    const gone = session({ items: [taskItem('gone-task')] });
    await expect(buildActionCommand(h.deps, gone, actionRecord('s-cmd', '003', { itemKey: 'task:gone-task', type: 'TaskEnforce' }), 'Action#003', 'n')).rejects.toThrow(
      new NotFoundError('maintenance task', 'gone-task'),
    );
    await expect(buildActionCommand(h.deps, session({ items: [softwareItem('gone')] }), actionRecord('s-cmd', '003', { itemKey: 'software:gone' }), 'Action#003', 'n')).rejects.toThrow(
      new NotFoundError('software', 'gone'),
    );
  });

  it('does not send the secret of an item that has no deployment to read it from', async () => {
    h = harness();
    const unassigned = session({ items: [taskItem('vault', { deploymentId: undefined, parameters: { user: 'ana', pin: '(secret)' } })] });
    const action = actionRecord('s-cmd', '002', { itemKey: 'task:vault', itemId: 'vault', type: 'TaskAudit', toVersion: undefined });
    const environment = environmentOf((await buildActionCommand(h.deps, unassigned, action, 'Action#002', 'n', { task: vault })).script);
    expect(environment.NIGHTSHIFT_SECRET_REFS_JSON).toBeUndefined();
    expect(environment.NIGHTSHIFT_PARAM_pin).toBeUndefined();
  });

  it('refuses an action on an item the session does not hold', async () => {
    h = harness();
    await expect(buildActionCommand(h.deps, session(), actionRecord('s-cmd', '009', { itemKey: 'software:nope' }), 'Action#009', 'n')).rejects.toThrow(
      new NotFoundError('session item', 'software:nope'),
    );
  });

  it('restarts the computer with an hour to come back', async () => {
    h = harness();
    const reboot = actionRecord('s-cmd', '005', { type: 'Reboot', itemKey: 'computer:restart', itemId: 'restart' });
    const command = await buildActionCommand(h.deps, session({ items: [] }), reboot, 'Action#005', 'n5');
    expect(command).toMatchObject({ comment: 'nightshift/s-cmd/Action#005/n5', executionTimeoutSeconds: 3_600, deliveryTimeoutSeconds: 600 });
    expect(command.script).not.toContain('NIGHTSHIFT_ACTION');
  });
});
