import type { Computer, Deployment, MaintenanceTask, Software, StoredDeployment, StoredSoftware, StoredTask, Tenant } from '../model/catalog.js';

/**
 * The configuration an MSP engineer maintains. Entities arrive here already
 * validated (schema and references, see `save-catalog`). Tenants and
 * computers are written whole (repeating a write is harmless).
 *
 * Software items, tasks and deployments carry a revision (`Revised`), and
 * each of their writes is one conditional single-item write on what is
 * stored under the id: `expectedRevision` 0 when nothing may be (a create),
 * else the revision the stored one must still be at. Such a write answers
 * false, writing nothing, when the stored one is not as expected.
 *
 * An item stored before revisions were kept has none: it reads, and is
 * written over or deleted, as revision 1 (`LEGACY_REVISION`), so every
 * stored one says a revision of at least 1, as a new one does.
 *
 * Deleting a software item or task leaves a tombstone, not nothing: a
 * session under way froze which items it runs but reads each one's scripts
 * when it sends a step, possibly days later (its window, then the agent's
 * delivery), and by then the item's deployment, and the item, may have been
 * deleted. The tombstone is the item as it was, marked `deletedAt`, at the
 * deletion's revision, out of the lists, and expiring (TTL) once no session
 * can still hold it (`DELETED_ITEM_KEPT_DAYS`). Only the session's own steps
 * read it: `getSoftware`/`getTasks` with `{ includeDeleted: true }`
 * (agent-commands; the session store's action context reads the item by key
 * the same way). Everything else (the API's reads, lists, resolution of a new
 * session, reference checks of a save) asks without it and sees the item as
 * gone; forgetting the option on a session path fails loudly ("does not
 * exist"), never silently running a deleted item in a new session. A create
 * (`expectedRevision` 0) may write over a tombstone. Deployments have none:
 * a deleted one is removed (sessions hold their resolved items, not it).
 */
export interface CatalogStore {
  putTenant(tenant: Tenant): Promise<void>;
  getTenant(tenantId: string): Promise<Tenant | undefined>;
  listTenants(): Promise<Tenant[]>;

  putComputer(computer: Computer): Promise<void>;
  getComputer(computerId: string): Promise<Computer | undefined>;
  listComputers(): Promise<Computer[]>;

  /** Writes the software at its `revision` if the stored one is at `expectedRevision` (0: none is). */
  putSoftware(software: StoredSoftware, expectedRevision: number): Promise<boolean>;
  /**
   * Without an expected revision (seeding a fleet, tests): creates the
   * software or replaces whatever is stored, at the revision after it; still
   * conditional on the revision it read, so a write racing it is not lost.
   */
  putSoftware(software: Software): Promise<boolean>;
  /**
   * The software with these ids that exist (missing ids are simply absent
   * from the answer); deleted ones too only with `includeDeleted`, which only
   * a session's own steps ask for (see above).
   */
  getSoftware(softwareIds: readonly string[], options?: ReadOptions): Promise<Kept<StoredSoftware>[]>;
  /** Every software item, by name. */
  listSoftware(): Promise<StoredSoftware[]>;
  /** Leaves the software's tombstone (see above) at `deletion.revision` if it is at `expectedRevision`, not deleted. */
  deleteSoftware(softwareId: string, expectedRevision: number, deletion: Deletion): Promise<boolean>;

  putTask(task: StoredTask, expectedRevision: number): Promise<boolean>;
  putTask(task: MaintenanceTask): Promise<boolean>;
  getTasks(taskIds: readonly string[], options?: ReadOptions): Promise<Kept<StoredTask>[]>;
  /** Every maintenance task, by name. */
  listTasks(): Promise<StoredTask[]>;
  deleteTask(taskId: string, expectedRevision: number, deletion: Deletion): Promise<boolean>;

  putDeployment(deployment: StoredDeployment, expectedRevision: number): Promise<boolean>;
  putDeployment(deployment: Deployment): Promise<boolean>;
  getDeployment(deploymentId: string): Promise<StoredDeployment | undefined>;
  listDeployments(): Promise<StoredDeployment[]>;
  /** Removes the deployment outright (no tombstone) if it is at `expectedRevision`. */
  deleteDeployment(deploymentId: string, expectedRevision: number): Promise<boolean>;

  /** Keeps a deployment's secret references no longer named until their time comes (see `RetiredSecrets`); repeating one is harmless. */
  retireSecrets(retired: RetiredSecrets): Promise<void>;
  /** The retirements whose `deleteAfter` has passed, oldest first. */
  listRetiredSecretsDue(now: string, limit: number): Promise<RetiredSecrets[]>;
  /** Drops a retirement once its references are deleted; one already dropped is fine. */
  forgetRetiredSecrets(retired: RetiredSecrets): Promise<void>;
}

/**
 * Secret references a deployment stopped naming (it was deleted, its target
 * moved its secrets to another scope, or a value was unset), kept until
 * `deleteAfter`. A session under way froze the deployment's task item and
 * its secret scope, and its task step reads the value on the computer when
 * the step runs, possibly days later: deleting the value at once would fail
 * the step of a session that was promised it. `retire-secrets` deletes them
 * once due, except those the deployment names again by then.
 */
export interface RetiredSecrets {
  readonly deploymentId: string;
  /** The deployment's revision whose change retired them (its deletion's, for a deletion): a repeat of that change writes the same retirement. */
  readonly revision: number;
  readonly references: readonly string[];
  readonly retiredAt: string;
  readonly deleteAfter: string;
}

/**
 * How long a secret outlives the deployment that stopped naming it: a
 * session's detection may wait 31 days for an offline computer and its
 * window up to 15 days (the gate's own time limit), so a session notified
 * before the change still runs with the value. Shorter than a tombstone's
 * year (`DELETED_ITEM_KEPT_DAYS`) on purpose: a secret taken away should
 * not stay readable on the computers for long; a session that still holds
 * it later (an action step waiting weeks for an offline computer) fails
 * that step, naming the secret it could not read.
 */
export const RETIRED_SECRETS_KEPT_DAYS = 46;

export interface ReadOptions {
  /** Tombstones of deleted items too: for a session's own steps only (see `CatalogStore`). */
  readonly includeDeleted?: boolean;
}

/** A software item or task as read: `deletedAt` says it is a tombstone (only ever read with `includeDeleted`). */
export type Kept<T> = T & { readonly deletedAt?: string };

/** What a deletion writes into the tombstone. */
export interface Deletion {
  /** The deletion's own revision: the version of its audit entry, past the item's, so a re-creation continues the numbering. */
  readonly revision: number;
  /** When it was deleted (ISO 8601); the tombstone expires `DELETED_ITEM_KEPT_DAYS` after it. */
  readonly at: string;
}

/**
 * How long a tombstone is kept: the longest a session can live, so no
 * session still holding the item outlives it. No bound tighter than Step
 * Functions' own holds: a session's window may be `MAX_WINDOW_DAYS` away,
 * but then each agent step (detection, every action, restart, verification)
 * may wait up to 31 days for an offline computer, and a standard workflow
 * execution lives at most one year. A tombstone costs one item and hides
 * from everything but those sessions, so keeping it that long is cheap.
 */
export const DELETED_ITEM_KEPT_DAYS = 366;

/** What an item stored before revisions were kept reads as (see `CatalogStore`). */
export const LEGACY_REVISION = 1;
