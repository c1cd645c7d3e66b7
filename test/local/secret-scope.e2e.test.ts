import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_TENANT_TAG } from '../../functions/core/catalog/secrets.js';
import type { MaintenanceTask, Tenant } from '../../functions/core/model/catalog.js';
import { isErrorEnvelope } from '../../functions/handlers/handler-kit.js';
import { createLocalRuntime, type LocalRuntime } from '../../local/runtime.js';
import { LocalSecretStore } from '../../local/secret-store.local.js';
import { sequentialIds, testComputer } from '../support/fleet.js';

/**
 * Secrets kept per tenant, on the embedded runtime: the sandbox's `aws`
 * answers as the node policy does in AWS (shared secrets, and those of the
 * tenant its role is tagged with), so a computer reads its own client's
 * licence key and never another client's.
 */
const KEYED_TASK: MaintenanceTask = {
  id: 'keyed-app',
  name: 'Keyed app',
  platform: 'linux',
  scripts: {
    style: 'Combined',
    script: ['case "$NIGHTSHIFT_TASK_METHOD" in', '  test) [ -f "$NIGHTSHIFT_ROOT/opt/keyed" ] ;;', '  set) mkdir -p "$NIGHTSHIFT_ROOT/opt" && : > "$NIGHTSHIFT_ROOT/opt/keyed" ;;', 'esac', ''].join('\n'),
  },
  parameters: [{ name: 'licenceKey', type: 'secret', required: true }],
};
const CONTOSO: Tenant = { id: 'contoso', name: 'Contoso', excludeFromCrossTenant: false };
const FABRIKAM: Tenant = { id: 'fabrikam', name: 'Fabrikam', excludeFromCrossTenant: false };

describe('secrets kept per tenant (embedded runtime, sandbox aws as the node policy)', () => {
  let runtime: LocalRuntime;

  beforeAll(async () => {
    runtime = await createLocalRuntime({ logFile: false, retryIntervalMs: 0, ids: sequentialIds() });
    const save = async (kind: string, entity: unknown) => {
      const answer = await runtime.invoke('save-catalog', { kind, entity, by: { kind: 'Operator', name: 'ops@msp.example' } });
      if (isErrorEnvelope(answer)) throw new Error(`save-catalog refused ${kind}: ${answer.error.message}`);
    };
    await save('Tenant', CONTOSO);
    await save('Tenant', FABRIKAM);
    await save('Task', KEYED_TASK);
    // the machines' roles: tagged with their own tenant, one tagged with the wrong tenant, one not tagged
    const machines = [
      { computer: testComputer('contoso-pc', 'i-000000000000c0001', { tenantId: 'contoso' }), roleTenant: 'contoso' },
      { computer: testComputer('contoso-misfiled', 'i-000000000000c0002', { tenantId: 'contoso' }), roleTenant: 'fabrikam' },
      { computer: testComputer('contoso-untagged', 'i-000000000000c0003', { tenantId: 'contoso' }), roleTenant: undefined },
      { computer: testComputer('fabrikam-pc', 'i-000000000000f0001', { tenantId: 'fabrikam' }), roleTenant: 'fabrikam' },
    ];
    for (const { computer, roleTenant } of machines) {
      await save('Computer', computer);
      await runtime.agent.addMachine({
        agentId: computer.agentId,
        name: computer.id,
        platform: 'linux',
        online: true,
        latencyMs: 0,
        ...(roleTenant === undefined ? {} : { roleTags: { [NODE_TENANT_TAG]: roleTenant } }),
      });
    }
    await save('Deployment', { id: 'contoso-key', itemKind: 'Task', taskId: KEYED_TASK.id, target: { kind: 'Tenant', tenantId: 'contoso' }, mode: 'Enforce', parameters: { licenceKey: 'CONTOSO-KEY' } });
    await save('Deployment', { id: 'fabrikam-key', itemKind: 'Task', taskId: KEYED_TASK.id, target: { kind: 'Computer', computerId: 'fabrikam-pc' }, mode: 'Enforce', parameters: { licenceKey: 'FABRIKAM-KEY' } });
  }, 60_000);
  afterAll(() => runtime.close());

  const runOn = async (computerId: string) => runtime.waitForSession((await runtime.startSession(computerId)).sessionId);

  it("stores a one-tenant deployment's secret under its tenant", async () => {
    const secrets = runtime.deps.secrets;
    if (!(secrets instanceof LocalSecretStore)) throw new Error('the local runtime has another secret store');
    expect(await secrets.get('/nightshift/secrets/tenants/contoso/contoso-key/licenceKey')).toBe('CONTOSO-KEY');
    expect(await secrets.get('/nightshift/secrets/tenants/fabrikam/fabrikam-key/licenceKey')).toBe('FABRIKAM-KEY');
    expect(await secrets.get('/nightshift/secrets/shared/contoso-key/licenceKey')).toBeUndefined();
  });

  it("a computer whose role carries its tenant reads that tenant's secret and is made compliant", async () => {
    for (const computerId of ['contoso-pc', 'fabrikam-pc']) {
      const outcome = await runOn(computerId);
      expect(outcome.session.status, computerId).toBe('Passed');
      expect(outcome.actions, computerId).toMatchObject([{ type: 'TaskEnforce', result: 'Success' }]);
    }
  });

  it("a computer whose role names another tenant, or none, is refused the secret as IAM would: its item is undetermined, naming the parameter, and nothing runs with an empty key", async () => {
    for (const computerId of ['contoso-misfiled', 'contoso-untagged']) {
      const outcome = await runOn(computerId);
      const detection = await runtime.deps.sessions.getDetection(outcome.session.id, 'Initial');
      const item = detection?.items['task:keyed-app'];
      expect(item?.state, computerId).toBe('Undetermined');
      expect(item?.state === 'Undetermined' ? item.reason : undefined, computerId).toMatch(/secret parameter licenceKey could not be resolved from SSM parameter \/nightshift\/secrets\/tenants\/contoso\/contoso-key\/licenceKey: .*AccessDeniedException/);
      expect(outcome.actions, computerId).toEqual([]);
      // a refused secret is not compliance: the session fails for its critical deployment, and says which item
      expect(outcome.session.status, computerId).toBe('Failed');
      expect((await runtime.deps.sessionLog.read(outcome.session.id, { limit: 500 })).entries.map((line) => line.message), computerId).toContain('session ended Failed: 0 action(s), 0 failed; could not determine Keyed app');
      expect(JSON.stringify(detection), computerId).not.toMatch(/CONTOSO-KEY|FABRIKAM-KEY/);
    }
  });
});
