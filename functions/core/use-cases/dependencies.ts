import type { AgentPort } from '../ports/agent.port.js';
import type { AuditStore } from '../ports/audit.port.js';
import type { BrandingStore } from '../ports/branding-store.port.js';
import type { EventPublisher } from '../ports/events.port.js';
import type { ManagedNodeInventory } from '../ports/inventory.port.js';
import type { CatalogStore } from '../ports/catalog-store.port.js';
import type { Clock, IdGenerator } from '../ports/clock.port.js';
import type { LinkTokens } from '../ports/link-tokens.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { Mailer } from '../ports/mailer.port.js';
import type { Metrics } from '../ports/metrics.port.js';
import type { NotificationStore } from '../ports/notification-store.port.js';
import type { Renderer } from '../ports/renderer.port.js';
import type { ScheduleStore } from '../ports/schedule-store.port.js';
import type { ScheduleTriggerPort } from '../ports/schedule-trigger.port.js';
import type { SecretStore } from '../ports/secret-store.port.js';
import type { SessionLog } from '../ports/session-log.port.js';
import type { SessionStore } from '../ports/session-store.port.js';
import type { WindowTimerPort } from '../ports/window-timer.port.js';
import type { RunWorkPort } from '../ports/run-work.port.js';
import type { WorkflowPort } from '../ports/workflow.port.js';

/** Limits applied to agent commands; read once from configuration. */
export interface AgentSettings {
  /** How long an offline computer may take to pick a command up. */
  readonly deliveryTimeoutSeconds: number;
  /** Per-item limit inside a batched detection. */
  readonly detectionItemTimeoutSeconds: number;
  /** Limit for one action script. */
  readonly actionTimeoutSeconds: number;
  /** Delivery timeout for sessions that skip offline computers: long enough for a blip, short enough to move on. */
  readonly skipOfflineAfterSeconds: number;
  /**
   * The Region computers read secret parameters from: a hybrid node's CLI
   * often has none configured. Unset locally, where the sandbox needs none.
   */
  readonly secretsRegion?: string;
}

/** Where end-user links point; read once from configuration. */
export interface NotifySettings {
  /** The public base URL of the link pages (the API's URL in AWS, the local server's locally), without a trailing slash. */
  readonly linkBaseUrl: string;
}

/** Everything a use case may touch, built once per process and passed in. */
export interface Dependencies {
  readonly sessions: SessionStore;
  readonly sessionLog: SessionLog;
  readonly catalog: CatalogStore;
  /** Where secret task parameter values are written when a deployment is saved; nothing reads them back but the computers. */
  readonly secrets: SecretStore;
  readonly agent: AgentPort;
  /** The managed nodes the agent service knows, by tag: what a computer import reads. */
  readonly inventory: ManagedNodeInventory;
  readonly workflow: WorkflowPort;
  readonly windowTimers: WindowTimerPort;
  readonly schedules: ScheduleStore;
  /** The recurring trigger behind each schedule. */
  readonly scheduleTriggers: ScheduleTriggerPort;
  /** The background run worker: a run's fan-out and starts, asked for by callers that must answer quickly. */
  readonly runWork: RunWorkPort;
  readonly audit: AuditStore;
  /** Run and session events for the MSP's own tools (EventBridge). */
  readonly events: EventPublisher;
  /** Send records and link outcomes: what makes each end-user email and link act once. */
  readonly notifications: NotificationStore;
  /** The MSP's and tenants' branding. */
  readonly branding: BrandingStore;
  /** End-user email (SES v2, or aws-ses-v2-local). */
  readonly mailer: Mailer;
  /** Signs and checks end-user link tokens. */
  readonly linkKeys: LinkTokens;
  /** The templates. */
  readonly renderer: Renderer;
  readonly notifySettings: NotifySettings;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly logger: Logger;
  /** Counts and lags for dashboards and alarms, recorded after the write they count. */
  readonly metrics: Metrics;
  readonly agentSettings: AgentSettings;
}
