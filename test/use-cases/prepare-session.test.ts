import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoCatalogStore } from '../../functions/adapters/catalog-store.dynamodb.js';
import { DynamoSessionStore } from '../../functions/adapters/session-store.dynamodb.js';
import { ConfigurationError } from '../../functions/core/errors.js';
import type { Dependencies } from '../../functions/core/use-cases/dependencies.js';
import { MAX_FROZEN_ITEMS_BYTES, prepareSession } from '../../functions/core/use-cases/prepare-session.js';
import { computer, deploySoftware, sessionRecord, software, tenant } from '../support/domain.js';
import { dynamoTable } from '../support/dynamo.js';
import { manualClock } from '../support/fleet.js';

describe('preparing a session whose frozen deployments would not fit in one DynamoDB item', () => {
  let deps: Dependencies;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const dynamo = await dynamoTable();
    close = dynamo.close;
    const catalog = new DynamoCatalogStore(dynamo.table);
    await catalog.putTenant(tenant('t1'));
    await catalog.putComputer(computer('pc-crowded', { name: 'Crowded PC' }));
    // each item freezes its deployment and a long explanation: enough of them pass what one item can hold
    for (let index = 0; index < 900; index++) {
      const id = `app-${String(index).padStart(4, '0')}`;
      await catalog.putSoftware(software(id, { name: `Application number ${index} with a long descriptive name` }));
      await catalog.putDeployment(deploySoftware(`deploy-${id}`, id));
    }
    deps = {
      sessions: new DynamoSessionStore(dynamo.table),
      sessionLog: { append: () => Promise.resolve(), read: () => Promise.resolve({ entries: [] }) },
      catalog,
      clock: manualClock(),
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    } as unknown as Dependencies;
  }, 120_000);
  afterAll(() => close());

  it('refuses with the computer, the count and the size named, and leaves the session as it was', async () => {
    await deps.sessions.createSession(sessionRecord('ses-crowded', { computerId: 'pc-crowded', tenantId: 't1', status: 'Created', items: [] }));
    const refusal: unknown = await prepareSession(deps, 'ses-crowded').catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ConfigurationError);
    expect((refusal as Error).message).toMatch(new RegExp(`^900 items apply to Crowded PC, .* take \\d+ KB, more than the ${MAX_FROZEN_ITEMS_BYTES / 1024} KB one session can hold`));
    expect(await deps.sessions.getSession('ses-crowded')).toMatchObject({ status: 'Created', items: [], version: 1 });
  });
});
