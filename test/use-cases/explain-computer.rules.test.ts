import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoCatalogStore } from '../../functions/adapters/catalog-store.dynamodb.js';
import { NotFoundError } from '../../functions/core/errors.js';
import { explainComputer } from '../../functions/core/use-cases/explain-computer.js';
import { computer, deploySoftware, deployTask, software, task, tenant } from '../support/domain.js';
import { dynamoTable } from '../support/dynamo.js';

/**
 * "Why does this computer get that?" answered from the catalog as it is now
 * (the real DynamoDB adapter on dynalite): per item what the winning
 * deployment wants, and the resolution's own explanation and problems.
 */

let catalog: DynamoCatalogStore;
let close: () => Promise<void>;

beforeAll(async () => {
  const dynamo = await dynamoTable();
  close = dynamo.close;
  catalog = new DynamoCatalogStore(dynamo.table);
  await catalog.putTenant(tenant('t1'));
  await catalog.putComputer(computer('pc-1'));
  await catalog.putSoftware(software('app', { name: 'App', dependencies: [{ softwareId: 'runtime', requires: 'Installed' }] }));
  await catalog.putSoftware(software('runtime', { name: 'Runtime' }));
  await catalog.putSoftware(software('legacy', { name: 'Legacy' }));
  await catalog.putTask(task('disk-check', { name: 'Disk check' }));
  await catalog.putDeployment(deploySoftware('d-app', 'app'));
  await catalog.putDeployment(deploySoftware('d-legacy', 'legacy', { desiredState: 'ThisVersion', version: '1.0' }));
  await catalog.putDeployment(deployTask('d-disk', 'disk-check', { mode: 'Audit' }));
  await catalog.putDeployment(deploySoftware('d-ghost', 'ghost'));
}, 60_000);
afterAll(() => close());

describe('explaining what a computer gets, without a session', () => {
  it('answers per item with what the winner wants (a state, its version when it names one, or a task mode), its origin and the rule that decided', async () => {
    const explained = await explainComputer({ catalog }, 'pc-1');
    expect(explained.computerId).toBe('pc-1');
    expect(explained.items.map(({ key, itemName, origin, wants }) => ({ key, itemName, origin, wants }))).toEqual([
      { key: 'software:app', itemName: 'App', origin: 'Deployed', wants: 'LatestVersion' },
      { key: 'task:disk-check', itemName: 'Disk check', origin: 'Deployed', wants: 'Audit' },
      { key: 'software:legacy', itemName: 'Legacy', origin: 'Deployed', wants: 'ThisVersion 1.0' },
      { key: 'software:runtime', itemName: 'Runtime', origin: 'Prerequisite', wants: 'AnyVersion' },
    ]);
    const legacy = explained.items.find((item) => item.key === 'software:legacy');
    expect(legacy?.explanation).toMatchObject({ rule: 'OnlyCandidate', candidates: [expect.objectContaining({ deploymentId: 'd-legacy' })] });
    expect(explained.items.every((item) => Object.keys(item).sort().join() === 'explanation,itemName,key,origin,wants')).toBe(true);
  });

  it('passes on what resolving noticed but could not use (a deployment of an item not in the catalog)', async () => {
    const explained = await explainComputer({ catalog }, 'pc-1');
    expect(explained.problems).toEqual(['deployment d-ghost names an item that is not in the catalog']);
  });

  it('refuses a computer that does not exist as not found, naming it', async () => {
    await expect(explainComputer({ catalog }, 'pc-nowhere')).rejects.toThrow(new NotFoundError('computer', 'pc-nowhere'));
    await expect(explainComputer({ catalog }, 'pc-nowhere')).rejects.toBeInstanceOf(NotFoundError);
  });
});
