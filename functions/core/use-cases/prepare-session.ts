import { ConfigurationError, NotFoundError } from '../errors.js';
import type { Deployment } from '../model/catalog.js';
import { limitItems } from '../model/session.js';
import { indexDeployments, resolveComputer, type Catalog } from '../planning/resolution.js';
import type { Dependencies } from './dependencies.js';
import { loadSession, log, mutateSession, withStage } from './session-updates.js';

/**
 * The resolved items are frozen into the session item, which DynamoDB caps at
 * 400 KB; this leaves room for the rest of the session (stages, postponements).
 */
export const MAX_FROZEN_ITEMS_BYTES = 300 * 1024;

export interface PrepareSessionResult {
  readonly sessionId: string;
  /** Items detection will look at (unassigned items are reported, not detected). */
  readonly itemCount: number;
}

/** Everything resolution needs for one computer, read from the catalog store. */
export async function loadCatalogFor(deps: Pick<Dependencies, 'catalog'>): Promise<{ catalog: Catalog; deployments: Deployment[] }> {
  const [tenants, deployments] = await Promise.all([deps.catalog.listTenants(), deps.catalog.listDeployments()]);
  const softwareIds = new Set<string>();
  const taskIds = new Set<string>();
  for (const deployment of deployments) {
    if (deployment.itemKind === 'Software') softwareIds.add(deployment.softwareId);
    else taskIds.add(deployment.taskId);
  }
  const software = await deps.catalog.getSoftware([...softwareIds]);
  // prerequisites may be software nobody deploys: follow dependencies until nothing new turns up
  // Stryker disable next-line MethodExpression: this first filter only spares reading again the deployed software just read; the map below keeps one entry per id
  for (let missing = software.flatMap((s) => s.dependencies.map((d) => d.softwareId)).filter((id) => !softwareIds.has(id)); missing.length > 0; ) {
    for (const id of missing) softwareIds.add(id);
    const found = await deps.catalog.getSoftware(missing);
    software.push(...found);
    missing = found.flatMap((s) => s.dependencies.map((d) => d.softwareId)).filter((id) => !softwareIds.has(id));
  }
  const tasks = await deps.catalog.getTasks([...taskIds]);
  return {
    catalog: {
      tenants: new Map(tenants.map((t) => [t.id, t])),
      software: new Map(software.map((s) => [s.id, s])),
      tasks: new Map(tasks.map((t) => [t.id, t])),
    },
    deployments,
  };
}

/**
 * First stage: the session starts running and freezes the deployments that
 * apply to its computer (winners, explanations, prerequisites), so later
 * catalog edits do not move the target mid-way.
 */
export async function prepareSession(deps: Dependencies, sessionId: string): Promise<PrepareSessionResult> {
  const current = await loadSession(deps, sessionId);
  const detectable = (items: typeof current.items) => items.filter((item) => item.origin !== 'Unassigned').length;
  if (current.status !== 'Created') return { sessionId, itemCount: detectable(current.items) };

  const [computer, { catalog, deployments }] = await Promise.all([deps.catalog.getComputer(current.computerId), loadCatalogFor(deps)]);
  if (!computer) throw new NotFoundError('computer', current.computerId);
  const resolved = resolveComputer(computer, indexDeployments(deployments), catalog);
  const { problems } = resolved;
  const limitTo = current.options.limitTo;
  const items = limitTo === undefined ? resolved.items : limitItems(resolved.items, limitTo);
  for (const problem of problems) deps.logger.warn(problem, { sessionId, computerId: computer.id });
  const frozenBytes = new TextEncoder().encode(JSON.stringify(items)).length;
  if (frozenBytes > MAX_FROZEN_ITEMS_BYTES) {
    // refused by name here rather than by DynamoDB's 400 KB item limit as a raw error mid-write
    throw new ConfigurationError(
      `${items.length} items apply to ${computer.name}, and their frozen deployments and explanations take ${Math.ceil(frozenBytes / 1024)} KB, ` +
        `more than the ${MAX_FROZEN_ITEMS_BYTES / 1024} KB one session can hold; split the deployments of this computer across sessions`,
    );
  }

  const now = deps.clock.now().toISOString();
  const session = await mutateSession(deps, sessionId, (s) =>
    s.status !== 'Created'
      ? undefined
      : {
          status: 'Running',
          items,
          stages: withStage(
            s,
            'Detection',
            detectable(items) > 0 ? { status: 'Running', startedAt: now } : { status: 'Skipped', startedAt: now, endedAt: now },
          ),
        },
    { current },
  );
  const prerequisites = items.filter((i) => i.origin === 'Prerequisite').length;
  await log(deps, sessionId, 'Stage', `${items.length - prerequisites} deployed item(s) apply${prerequisites ? `, with ${prerequisites} prerequisite(s)` : ''}; detection started`);
  for (const problem of problems) await log(deps, sessionId, 'Problem', problem);
  deps.logger.info('session prepared', { sessionId, computerId: session.computerId, itemCount: session.items.length });
  return { sessionId, itemCount: detectable(session.items) };
}
