import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAuditStore } from '../../functions/adapters/audit-store.dynamodb.js';
import { DynamoCatalogStore } from '../../functions/adapters/catalog-store.dynamodb.js';
import { ValidationError, type FieldProblem } from '../../functions/core/errors.js';
import type { SecretStore } from '../../functions/core/ports/secret-store.port.js';
import { MAX_STORED_ENTITY_BYTES, saveCatalogEntity, type CatalogEntityInput, type SavedEntity } from '../../functions/core/use-cases/save-catalog.js';
import { computer, deploySoftware, deployTask, software, task, tenant } from '../support/domain.js';
import { dynamoTable } from '../support/dynamo.js';
import { manualClock } from '../support/fleet.js';

const BY = { kind: 'Operator', name: 'ops@msp.example' } as const;

/** A secret store in memory that remembers every call, in order. */
class RecordingSecrets implements SecretStore {
  readonly values = new Map<string, string>();
  readonly calls: string[] = [];
  put(reference: string, value: string): Promise<void> {
    this.calls.push(`put ${reference}`);
    this.values.set(reference, value);
    return Promise.resolve();
  }
  delete(references: readonly string[]): Promise<void> {
    this.calls.push(`delete ${references.join(',')}`);
    for (const reference of references) this.values.delete(reference);
    return Promise.resolve();
  }
}

const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value), 'utf8');
const kb = (bytes: number): number => Math.ceil(bytes / 1024);
/** 32,768 characters of one control character: a script within its 32 KB, six bytes each once written as JSON. */
const escapedScript = (length = 32_768): string => '\u0001'.repeat(length);

describe('the rules of saving catalog entities (dynalite)', () => {
  let catalog: DynamoCatalogStore;
  let audit: DynamoAuditStore;
  const clock = manualClock();
  let secrets: RecordingSecrets;
  let close: () => Promise<void>;
  const save = (input: CatalogEntityInput): Promise<SavedEntity> => saveCatalogEntity({ catalog, secrets, audit, clock }, input, BY);
  const problems = async (input: CatalogEntityInput): Promise<readonly FieldProblem[]> => {
    const error: unknown = await save(input).catch((e: unknown) => e);
    if (!(error instanceof ValidationError)) throw new Error(`expected a ValidationError, got ${String(error)}`);
    return error.problems;
  };

  beforeAll(async () => {
    const dynamo = await dynamoTable();
    catalog = new DynamoCatalogStore(dynamo.table);
    audit = new DynamoAuditStore(dynamo.table);
    secrets = new RecordingSecrets();
    close = () => dynamo.close();
    await save({ kind: 'Tenant', entity: tenant('root') });
  });
  afterAll(() => close());

  describe('the size of one stored item', () => {
    it('is 350 KB of JSON at most', () => {
      expect(MAX_STORED_ENTITY_BYTES).toBe(358_400);
    });

    it('stores an entity of exactly 350 KB, and refuses one a byte larger, naming the field that makes it so', async () => {
      const sized = (id: string, padding: number) =>
        software(id, { installScript: escapedScript(), uninstallScript: escapedScript(26_000), testScript: 'x'.repeat(padding) });
      const padding = 1 + MAX_STORED_ENTITY_BYTES - jsonBytes(sized('edge', 1));
      expect(jsonBytes(sized('edge', padding))).toBe(MAX_STORED_ENTITY_BYTES);
      await save({ kind: 'Software', entity: sized('edge', padding) });
      expect(await catalog.getSoftware(['edge'])).toHaveLength(1);

      const over = sized('over', padding + 1);
      expect(await problems({ kind: 'Software', entity: over })).toEqual([
        {
          field: 'installScript',
          problem: `is ${kb(jsonBytes(over.installScript))} KB and makes the software ${kb(jsonBytes(over))} KB; a software is stored whole and may be at most 350 KB`,
        },
      ]);
      expect(kb(jsonBytes(over.installScript))).toBe(193);
      expect(await catalog.getSoftware(['over'])).toEqual([]);
    });

    it('names the part inside the largest field when one part holds most of it', async () => {
      const heavy = task('heavy', {
        scripts: { style: 'Separate', test: escapedScript(), set: 'true' },
        parameters: [
          { name: 'level', type: 'enum', required: false, values: Array.from({ length: 100 }, (_, i) => `${String(i).padStart(3, '0')}${'\u0001'.repeat(252)}`) },
          { name: 'size', type: 'enum', required: false, values: Array.from({ length: 10 }, (_, i) => `${String(i).padStart(3, '0')}${'\u0001'.repeat(252)}`) },
        ],
      });
      expect(await problems({ kind: 'Task', entity: heavy })).toEqual([
        {
          field: 'scripts.test',
          problem: `is ${kb(jsonBytes(heavy.scripts.style === 'Separate' ? heavy.scripts.test : ''))} KB and makes the maintenance task ${kb(jsonBytes(heavy))} KB; a maintenance task is stored whole and may be at most 350 KB`,
        },
      ]);
    });

    it('stops at the largest field when no part inside it holds most of it', async () => {
      const values = (prefix: string) => Array.from({ length: 100 }, (_, i) => `${prefix}${String(i).padStart(3, '0')}${'\u0001'.repeat(251)}`);
      const wide = task('wide', {
        parameters: [
          { name: 'a', type: 'enum', required: false, values: values('a') },
          { name: 'b', type: 'enum', required: false, values: values('b') },
          { name: 'c', type: 'enum', required: false, values: values('c') },
        ],
      });
      const [problem] = await problems({ kind: 'Task', entity: wide });
      expect(problem?.field).toBe('parameters');
    });

    it('measures a deployment too, and a computer and tenant that fit are stored', async () => {
      const parameters = Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`p${String(i)}`, '\u0001'.repeat(16_384)]));
      await save({ kind: 'Task', entity: task('wide-open', { parameters: Object.keys(parameters).map((name) => ({ name, type: 'string' as const, required: false })) }) });
      const [problem] = await problems({ kind: 'Deployment', entity: deployTask('too-big', 'wide-open', { parameters }) });
      expect(problem?.field).toBe('parameters');
      expect(problem?.problem).toMatch(/ and makes the deployment \d+ KB; a deployment is stored whole and may be at most 350 KB$/);
      expect(await save({ kind: 'Computer', entity: computer('pc-fits', { tenantId: 'root' }) })).toEqual({ kind: 'Computer', entity: computer('pc-fits', { tenantId: 'root' }) });
      expect(await catalog.getComputer('pc-fits')).toMatchObject({ tenantId: 'root' });
    });
  });

  describe('tenants', () => {
    it('stores a tenant under an existing chain of parents', async () => {
      await save({ kind: 'Tenant', entity: tenant('region', { parentTenantId: 'root' }) });
      expect(await save({ kind: 'Tenant', entity: tenant('branch', { parentTenantId: 'region' }) })).toEqual({ kind: 'Tenant', entity: tenant('branch', { parentTenantId: 'region' }) });
      expect(await catalog.getTenant('branch')).toMatchObject({ parentTenantId: 'region' });
    });

    it('refuses a tenant as its own parent, and a parent that does not exist, anywhere up the chain', async () => {
      expect(await problems({ kind: 'Tenant', entity: tenant('self', { parentTenantId: 'self' }) })).toEqual([{ field: 'parentTenantId', problem: 'a tenant cannot be its own parent' }]);
      expect(await problems({ kind: 'Tenant', entity: tenant('orphan', { parentTenantId: 'nowhere' }) })).toEqual([{ field: 'parentTenantId', problem: 'tenant nowhere does not exist' }]);
      // a stored tenant whose parent was never saved: the walk up finds the gap
      await catalog.putTenant(tenant('dangling', { parentTenantId: 'vanished' }));
      expect(await problems({ kind: 'Tenant', entity: tenant('below', { parentTenantId: 'dangling' }) })).toEqual([{ field: 'parentTenantId', problem: 'tenant vanished does not exist' }]);
      expect(await catalog.getTenant('below')).toBeUndefined();
    });

    it('refuses a loop of parents more than one step long, naming the whole loop', async () => {
      await save({ kind: 'Tenant', entity: tenant('l1', { parentTenantId: 'root' }) });
      await save({ kind: 'Tenant', entity: tenant('l2', { parentTenantId: 'l1' }) });
      await save({ kind: 'Tenant', entity: tenant('l3', { parentTenantId: 'l2' }) });
      expect(await problems({ kind: 'Tenant', entity: tenant('l1', { parentTenantId: 'l3' }) })).toEqual([{ field: 'parentTenantId', problem: 'would make a loop of parents: l1 → l3 → l2 → l1' }]);
      expect((await catalog.getTenant('l1'))?.parentTenantId).toBe('root');
    });
  });

  describe('software dependencies', () => {
    it('stores software whose prerequisites exist, following the chain of their own prerequisites', async () => {
      await save({ kind: 'Software', entity: software('base') });
      await save({ kind: 'Software', entity: software('middle', { dependencies: [{ softwareId: 'base', requires: 'Installed' }] }) });
      await save({ kind: 'Software', entity: software('top', { dependencies: [{ softwareId: 'middle', requires: 'Installed' }, { softwareId: 'base', requires: 'Installed' }] }) });
      expect((await catalog.getSoftware(['top']))[0]?.dependencies).toHaveLength(2);
    });

    it('refuses a dependency on software of the other platform', async () => {
      await save({ kind: 'Software', entity: software('winlib', { platform: 'windows' }) });
      expect(await problems({ kind: 'Software', entity: software('tux', { dependencies: [{ softwareId: 'base', requires: 'Installed' }, { softwareId: 'winlib', requires: 'Absent' }] }) })).toEqual([
        { field: 'dependencies.1.softwareId', problem: 'winlib is windows software; tux is linux' },
      ]);
    });

    it('refuses a cycle closed through stored software, naming every item in it', async () => {
      await save({ kind: 'Software', entity: software('c1') });
      await save({ kind: 'Software', entity: software('c2', { dependencies: [{ softwareId: 'c1', requires: 'Installed' }] }) });
      await save({ kind: 'Software', entity: software('c3', { dependencies: [{ softwareId: 'c2', requires: 'Installed' }] }) });
      const [problem] = await problems({ kind: 'Software', entity: software('c1', { dependencies: [{ softwareId: 'c3', requires: 'Installed' }] }) });
      expect(problem?.field).toBe('dependencies');
      expect(problem?.problem).toMatch(/^would make a dependency cycle: (c1|c2|c3), (c1|c2|c3), (c1|c2|c3) depend on each other$/);
      expect(new Set(problem?.problem.match(/c\d/g))).toEqual(new Set(['c1', 'c2', 'c3']));
    });

    it('does not hold against new software a cycle it is not part of', async () => {
      // stored behind the door's back: the door refuses to make such a cycle
      await catalog.putSoftware(software('x1', { dependencies: [{ softwareId: 'x2', requires: 'Installed' }] }));
      await catalog.putSoftware(software('x2', { dependencies: [{ softwareId: 'x1', requires: 'Installed' }] }));
      await save({ kind: 'Software', entity: software('user-of-x', { dependencies: [{ softwareId: 'x1', requires: 'Installed' }] }) });
      expect(await catalog.getSoftware(['user-of-x'])).toHaveLength(1);
    });
  });

  describe('deployments', () => {
    it('checks that a tenant target exists, and needs no tenant for a tag anywhere', async () => {
      await save({ kind: 'Software', entity: software('tool') });
      expect(await problems({ kind: 'Deployment', entity: deploySoftware('to-ghost', 'tool', { target: { kind: 'Tenant', tenantId: 'ghost', includeChildTenants: false } }) })).toEqual([
        { field: 'target.tenantId', problem: 'tenant ghost does not exist' },
      ]);
      await save({ kind: 'Deployment', entity: deploySoftware('to-root', 'tool', { target: { kind: 'Tenant', tenantId: 'root', includeChildTenants: true } }) });
      await save({ kind: 'Deployment', entity: deploySoftware('to-tag', 'tool', { target: { kind: 'Tag', tag: 'kiosk' } }) });
      await save({ kind: 'Deployment', entity: deploySoftware('to-tag-in-root', 'tool', { target: { kind: 'Tag', tag: 'kiosk', tenantId: 'root' } }) });
      await save({ kind: 'Deployment', entity: deploySoftware('to-person', 'tool', { target: { kind: 'Person', email: 'ana@example.com' } }) });
      await save({ kind: 'Deployment', entity: deploySoftware('to-pc', 'tool', { target: { kind: 'Computer', computerId: 'pc-fits' } }) });
      expect((await Promise.all(['to-root', 'to-tag', 'to-tag-in-root', 'to-person', 'to-pc'].map((id) => catalog.getDeployment(id)))).every(Boolean)).toBe(true);
    });

    it('names every problem of one deployment at once', async () => {
      expect(await problems({ kind: 'Deployment', entity: deploySoftware('all-wrong', 'nothing', { target: { kind: 'Tag', tag: 'kiosk', tenantId: 'ghost' } }) })).toEqual([
        { field: 'softwareId', problem: 'software nothing does not exist' },
        { field: 'target.tenantId', problem: 'tenant ghost does not exist' },
      ]);
    });

    it('enforces a task with separate scripts only when it has a set script; a combined script always can', async () => {
      await save({ kind: 'Task', entity: task('fixable', { scripts: { style: 'Separate', test: 'exit 0', set: 'true' } }) });
      await save({ kind: 'Task', entity: task('combined', { scripts: { style: 'Combined', script: 'true' } }) });
      await save({ kind: 'Task', entity: task('probe-only', { scripts: { style: 'Separate', test: 'exit 0' } }) });
      await save({ kind: 'Deployment', entity: deployTask('fix', 'fixable') });
      await save({ kind: 'Deployment', entity: deployTask('comb', 'combined') });
      await save({ kind: 'Deployment', entity: deployTask('watch', 'probe-only', { mode: 'Monitor' }) });
      expect(await problems({ kind: 'Deployment', entity: deployTask('force', 'probe-only') })).toEqual([
        { field: 'mode', problem: 'task probe-only has no set script, so it can be audited or monitored but not enforced' },
      ]);
    });

    it('touches the secret store only when there is something to write or delete', async () => {
      secrets.calls.length = 0;
      await save({ kind: 'Deployment', entity: deployTask('plain', 'combined') });
      await save({ kind: 'Deployment', entity: deploySoftware('plain-sw', 'tool') });
      expect(secrets.calls).toEqual([]);
    });
  });

  describe('a parameter changing secrecy', () => {
    const vault = (types: { key: 'secret' | 'string'; note: 'secret' | 'string' }, extra: { name: string; type: 'secret'; required: boolean }[] = []) =>
      task('vault', {
        parameters: [{ name: 'key', type: types.key, required: false }, { name: 'note', type: types.note, required: false }, ...extra],
      });

    it('names the deployments that set it, at most five of them', async () => {
      await save({ kind: 'Task', entity: vault({ key: 'string', note: 'string' }) });
      for (const n of [1, 2, 3, 4, 5, 6]) await save({ kind: 'Deployment', entity: deployTask(`vault-${String(n)}`, 'vault', { parameters: { key: 'k' } }) });
      await save({ kind: 'Deployment', entity: deployTask('vault-quiet', 'vault') });
      expect(await problems({ kind: 'Task', entity: vault({ key: 'secret', note: 'string' }) })).toEqual([
        { field: 'parameters.0.type', problem: 'parameter key cannot become secret while deployment(s) vault-1, vault-2, vault-3, vault-4, vault-5, … set it; save them without it first' },
      ]);
    });

    it('lists all the deployments when there are five or fewer, without an ellipsis', async () => {
      await save({ kind: 'Task', entity: task('safe', { parameters: [{ name: 'pin', type: 'secret', required: false }] }) });
      await save({ kind: 'Deployment', entity: deployTask('safe-1', 'safe', { parameters: { pin: '1234' } }) });
      expect(await problems({ kind: 'Task', entity: task('safe', { parameters: [{ name: 'pin', type: 'string', required: false }] }) })).toEqual([
        { field: 'parameters.0.type', problem: 'parameter pin cannot stop being secret while deployment(s) safe-1 set it; save them without it first' },
      ]);
    });

    it('lets a parameter change secrecy when no deployment sets it, and a new secret parameter be added', async () => {
      // no deployment sets note; a parameter the task did not have before changes no secrecy
      await save({ kind: 'Task', entity: vault({ key: 'string', note: 'secret' }, [{ name: 'extra', type: 'secret', required: false }]) });
      const [stored] = await catalog.getTasks(['vault']);
      expect(stored?.parameters.map((p) => `${p.name}:${p.type}`)).toEqual(['key:string', 'note:secret', 'extra:secret']);
    });

    it("does not count another task's deployments that set a parameter of the same name", async () => {
      await save({ kind: 'Task', entity: task('other', { parameters: [{ name: 'key', type: 'string', required: false }] }) });
      await save({ kind: 'Deployment', entity: deployTask('other-1', 'other', { parameters: { key: 'k' } }) });
      await save({ kind: 'Task', entity: task('fresh', { parameters: [{ name: 'key', type: 'string', required: false }] }) });
      await save({ kind: 'Task', entity: task('fresh', { parameters: [{ name: 'key', type: 'secret', required: false }] }) });
      expect((await catalog.getTasks(['fresh']))[0]?.parameters[0]?.type).toBe('secret');
    });
  });
});
