import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../functions/core/errors.js';
import type { DeploymentTarget } from '../../functions/core/model/catalog.js';
import { sessionOptionsSchema } from '../../functions/core/model/session.js';
import { loadCatalogFor, prepareSession } from '../../functions/core/use-cases/prepare-session.js';
import { computer, deploySoftware, deployTask, software, tenant } from '../support/domain.js';
import { useCaseHarness, type Harness } from './harness.js';

describe('preparing a session: what applies to its computer is frozen into it (dynalite)', () => {
  const harness = useCaseHarness();
  let h: Harness;
  let n = 0;

  /** A computer of its own, and deployments that target it alone, so tests sharing the table do not see each other's. */
  const setUp = async () => {
    const id = `pc-prep-${String(++n)}`;
    await h.catalog.putTenant(tenant('t1'));
    await h.catalog.putComputer(computer(id, { name: `Desk ${String(n)}`, tenantId: 't1' }));
    const target: DeploymentTarget = { kind: 'Computer', computerId: id };
    const session = await h.session({ status: 'Created', computerId: id, items: [] });
    return { id, target, session };
  };

  it('freezes the deployed items and their prerequisites, starts the session and its detection, and says what applies', async () => {
    h = harness();
    const { id, target, session } = await setUp();
    await h.catalog.putSoftware(software('lib'));
    await h.catalog.putSoftware(software('tool', { dependencies: [{ softwareId: 'lib', requires: 'Installed' }] }));
    await h.catalog.putDeployment(deploySoftware(`d-tool-${id}`, 'tool', { target }));
    await h.catalog.putDeployment(deployTask(`d-audit-${id}`, 'audit', { target, mode: 'Audit' }));
    h.clock.advance(1_000);
    expect(await prepareSession(h.deps, session.id)).toEqual({ sessionId: session.id, itemCount: 3 });
    const stored = await h.deps.sessions.getSession(session.id);
    expect(stored?.status).toBe('Running');
    expect(stored?.items.map((i) => [i.key, i.origin]).sort()).toEqual([
      ['software:lib', 'Prerequisite'],
      ['software:tool', 'Deployed'],
      ['task:audit', 'Deployed'],
    ]);
    expect(stored?.stages.Detection).toEqual({ status: 'Running', startedAt: h.clock.now().toISOString() });
    expect(h.lines.map((l) => [l.kind, l.message])).toEqual([['Stage', '2 deployed item(s) apply, with 1 prerequisite(s); detection started']]);
    expect(h.logged).toEqual([{ level: 'info', message: 'session prepared', fields: { sessionId: session.id, computerId: id, itemCount: 3 } }]);
  });

  it('skips detection when nothing applies, and does not mention prerequisites it does not have', async () => {
    h = harness();
    const { session } = await setUp();
    expect(await prepareSession(h.deps, session.id)).toEqual({ sessionId: session.id, itemCount: 0 });
    const now = h.clock.now().toISOString();
    expect((await h.deps.sessions.getSession(session.id))?.stages.Detection).toEqual({ status: 'Skipped', startedAt: now, endedAt: now });
    expect(h.lines.map((l) => l.message)).toEqual(['0 deployed item(s) apply; detection started']);
  });

  it('reports a disabled deployment’s item without detecting it', async () => {
    h = harness();
    const { id, target, session } = await setUp();
    await h.catalog.putDeployment(deploySoftware(`d-off-${id}`, 'app', { target, enabled: false }));
    expect(await prepareSession(h.deps, session.id)).toEqual({ sessionId: session.id, itemCount: 0 });
    const stored = await h.deps.sessions.getSession(session.id);
    expect(stored?.items.map((i) => [i.key, i.origin])).toEqual([['software:app', 'Unassigned']]);
    expect(stored?.stages.Detection.status).toBe('Skipped');
    // repeated: answers from the frozen items, still not counting the unassigned one
    expect(await prepareSession(h.deps, session.id)).toEqual({ sessionId: session.id, itemCount: 0 });
  });

  it('keeps only the item a limited session names, with what it needs', async () => {
    h = harness();
    const { id, target } = await setUp();
    const session = await h.session({ status: 'Created', computerId: id, items: [], options: sessionOptionsSchema.parse({ limitTo: 'software:tool2' }) });
    await h.catalog.putSoftware(software('lib2'));
    await h.catalog.putSoftware(software('tool2', { dependencies: [{ softwareId: 'lib2', requires: 'Installed' }] }));
    await h.catalog.putDeployment(deploySoftware(`d-tool2-${id}`, 'tool2', { target }));
    await h.catalog.putDeployment(deploySoftware(`d-app-${id}`, 'app', { target }));
    expect(await prepareSession(h.deps, session.id)).toEqual({ sessionId: session.id, itemCount: 2 });
    expect((await h.deps.sessions.getSession(session.id))?.items.map((i) => i.key).sort()).toEqual(['software:lib2', 'software:tool2']);
  });

  it('says what it could not resolve, in the operator logs and the session log', async () => {
    h = harness();
    const { id, target, session } = await setUp();
    await h.catalog.putDeployment(deploySoftware(`d-ghost-${id}`, 'ghost', { target }));
    await prepareSession(h.deps, session.id);
    const problem = `deployment d-ghost-${id} names an item that is not in the catalog`;
    expect(h.logged.filter((l) => l.level === 'warn')).toEqual([{ level: 'warn', message: problem, fields: { sessionId: session.id, computerId: id } }]);
    expect(h.lines.map((l) => [l.kind, l.message])).toEqual([
      ['Stage', '0 deployed item(s) apply; detection started'],
      ['Problem', problem],
    ]);
  });

  it('answers a repeated step from what the first froze, changing nothing', async () => {
    h = harness();
    const { id, target, session } = await setUp();
    await h.catalog.putDeployment(deploySoftware(`d-app1-${id}`, 'app', { target }));
    await prepareSession(h.deps, session.id);
    const prepared = await h.deps.sessions.getSession(session.id);
    // a deployment added afterwards does not move the frozen target
    await h.catalog.putDeployment(deploySoftware(`d-audit1-${id}`, 'audit', { target }));
    expect(await prepareSession(h.deps, session.id)).toEqual({ sessionId: session.id, itemCount: 1 });
    expect(await h.deps.sessions.getSession(session.id)).toEqual(prepared);
    expect(h.lines).toHaveLength(1);
  });

  it('refuses a session whose computer left the catalog', async () => {
    h = harness();
    const session = await h.session({ status: 'Created', computerId: 'pc-gone' });
    await expect(prepareSession(h.deps, session.id)).rejects.toThrow(new NotFoundError('computer', 'pc-gone'));
  });
});

describe('reading the catalog a computer resolves against (dynalite)', () => {
  const harness = useCaseHarness();

  it('reads the deployed software and tasks, and prerequisites nobody deploys, however deep', async () => {
    const h = harness();
    await h.catalog.putTenant(tenant('tq'));
    await h.catalog.putSoftware(software('deep3'));
    await h.catalog.putSoftware(software('deep2', { dependencies: [{ softwareId: 'deep3', requires: 'Installed' }] }));
    await h.catalog.putSoftware(software('deep1', { dependencies: [{ softwareId: 'deep2', requires: 'Installed' }, { softwareId: 'app', requires: 'Absent' }] }));
    await h.catalog.putSoftware(software('unrelated'));
    await h.catalog.putDeployment(deploySoftware('d-deep1', 'deep1'));
    await h.catalog.putDeployment(deploySoftware('d-app', 'app'));
    await h.catalog.putDeployment(deployTask('d-audit', 'audit'));
    const { catalog, deployments } = await loadCatalogFor(h.deps);
    expect([...catalog.software.keys()].sort()).toEqual(['app', 'deep1', 'deep2', 'deep3']);
    expect([...catalog.tasks.keys()]).toEqual(['audit']);
    expect([...catalog.tenants.keys()]).toEqual(['tq']);
    expect(deployments.map((d) => d.id).sort()).toEqual(['d-app', 'd-audit', 'd-deep1']);
  });

  it('reads each prerequisite once, and ends even on a loop of prerequisites stored behind the door', async () => {
    const h = harness();
    await h.catalog.putSoftware(software('loop1', { dependencies: [{ softwareId: 'loop2', requires: 'Installed' }] }));
    await h.catalog.putSoftware(software('loop2', { dependencies: [{ softwareId: 'loop1', requires: 'Installed' }] }));
    await h.catalog.putSoftware(software('user', { dependencies: [{ softwareId: 'loop1', requires: 'Installed' }] }));
    await h.catalog.putDeployment(deploySoftware('d-user', 'user'));
    const { catalog } = await loadCatalogFor(h.deps);
    expect([...catalog.software.keys()]).toEqual(expect.arrayContaining(['user', 'loop1', 'loop2']));
  });
});
