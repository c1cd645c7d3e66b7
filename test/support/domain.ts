import type { ManagedNodeInventory } from '../../functions/core/ports/inventory.port.js';
import type { Computer, MaintenanceTask, Software, SoftwareDeployment, TaskDeployment, Tenant } from '../../functions/core/model/catalog.js';
import { newStages, sessionOptionsSchema, type Action, type Session, type SoftwareSessionItem, type TaskSessionItem } from '../../functions/core/model/session.js';
import type { Catalog } from '../../functions/core/planning/resolution.js';

/** Builders for pure domain tests: valid entities with the fields a test does not care about filled in. */

export const software = (id: string, overrides: Partial<Software> = {}): Software => ({
  id,
  name: id.charAt(0).toUpperCase() + id.slice(1),
  platform: 'linux',
  detection: { method: 'Script', script: 'true' },
  installScript: 'true',
  uninstallScript: 'true',
  versions: [],
  latestVersion: '2.0',
  dependencies: [],
  ...overrides,
});

export const task = (id: string, overrides: Partial<MaintenanceTask> = {}): MaintenanceTask => ({
  id,
  name: id,
  platform: 'linux',
  scripts: { style: 'Combined', script: 'true' },
  parameters: [],
  ...overrides,
});

export const tenant = (id: string, overrides: Partial<Tenant> = {}): Tenant => ({ id, name: id, excludeFromCrossTenant: false, ...overrides });

export const computer = (id: string, overrides: Partial<Computer> = {}): Computer => ({
  id,
  agentId: 'i-0123456789abcdef0',
  name: id,
  tenantId: 't1',
  platform: 'linux',
  deviceClass: 'Workstation',
  tags: [],
  timeZone: 'UTC',
  online: true,
  ...overrides,
});


export const deploySoftware = (id: string, softwareId: string, overrides: Partial<SoftwareDeployment> = {}): SoftwareDeployment => ({
  id,
  itemKind: 'Software',
  softwareId,
  target: { kind: 'AllTenants' },
  desiredState: 'LatestVersion',
  enabled: true,
  critical: true,
  orderingHint: 'Unordered',
  ...overrides,
});

export const deployTask = (id: string, taskId: string, overrides: Partial<TaskDeployment> = {}): TaskDeployment => ({
  id,
  itemKind: 'Task',
  taskId,
  target: { kind: 'AllTenants' },
  mode: 'Enforce',
  parameters: {},
  enabled: true,
  critical: true,
  orderingHint: 'Unordered',
  ...overrides,
});

export const catalogOf = (entries: { tenants?: Tenant[]; software?: Software[]; tasks?: MaintenanceTask[] }): Catalog => ({
  tenants: new Map((entries.tenants ?? [tenant('t1')]).map((t) => [t.id, t])),
  software: new Map((entries.software ?? []).map((s) => [s.id, s])),
  tasks: new Map((entries.tasks ?? []).map((t) => [t.id, t])),
});

/** What every session item has, whatever its kind. */
const itemCommon = (id: string) =>
  ({
    itemId: id,
    itemName: id,
    origin: 'Deployed',
    deploymentId: `d-${id}`,
    critical: true,
    orderingHint: 'Unordered',
    explanation: { rule: 'OnlyCandidate', candidates: [], summary: '' },
  }) as const;

export const softwareItem = (id: string, overrides: Partial<SoftwareSessionItem> = {}): SoftwareSessionItem => ({
  kind: 'Software',
  key: `software:${id}`,
  ...itemCommon(id),
  desiredState: 'LatestVersion',
  targetVersion: '2.0',
  dependencies: [],
  hasTest: false,
  ...overrides,
});

export const taskItem = (id: string, overrides: Partial<TaskSessionItem> = {}): TaskSessionItem => ({
  kind: 'Task',
  key: `task:${id}`,
  ...itemCommon(id),
  mode: 'Enforce',
  parameters: {},
  ...overrides,
});

/** A stored session as the workflow would have left it, for use-case tests that start mid-way. */
export const sessionRecord = (id: string, overrides: Partial<Session> = {}): Session => ({
  id,
  computerId: 'pc',
  computerName: 'PC',
  agentId: 'i-0123456789abcdef0',
  platform: 'linux',
  tenantId: 't',
  status: 'Running',
  version: 1,
  createdAt: '2026-11-23T09:00:00.000Z',
  updatedAt: '2026-11-23T09:00:00.000Z',
  stages: newStages(),
  items: [],
  options: sessionOptionsSchema.parse({}),
  postponements: [],
  ...overrides,
});

/** A planned action as the store keeps it: an install of `app`, not started yet. */
export const actionRecord = (sessionId: string, actionId: string, overrides: Partial<Action> = {}): Action => ({
  sessionId,
  actionId,
  itemKey: 'software:app',
  itemId: 'app',
  itemName: 'App',
  type: 'Install',
  reason: 'SoftwareMissing',
  toVersion: '1.0',
  dependsOn: [],
  critical: true,
  status: 'NotStarted',
  result: 'Pending',
  ...overrides,
});

/** For tests whose code never imports computers: a call would be a wiring mistake, named. */
export const noInventory: ManagedNodeInventory = { listByTag: () => Promise.reject(new Error('this test has no managed-node inventory')) };
