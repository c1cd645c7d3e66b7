import type { RunOutcome, RunStatus, SkipReason } from '../model/schedule-run.js';
import type { SessionStatus } from '../model/session.js';

/**
 * What Nightshift tells the MSP's own tools (PSA, chat, ticketing): one
 * EventBridge event per stage of a run and per session a run starts, with
 * source `nightshift`. Published after the write it reports; a publish that
 * fails is logged and counted, never retried into a second state change.
 */
export type RunEventName = 'RunStarted' | 'RingStarted' | 'RunHalted' | 'RunResumed' | 'RunCompleted' | 'RunCancelled';

export interface RunEventDetail {
  readonly event: RunEventName;
  readonly runId: string;
  readonly scheduleId: string;
  readonly scheduleName: string;
  readonly status: RunStatus;
  readonly currentRing: number;
  /** The current ring's name, for a run with rings. */
  readonly ringName?: string;
  /** Why it halted or was cancelled, in words. */
  readonly reason?: string;
  readonly targeted: number;
  readonly started: number;
  readonly skipped: Readonly<Partial<Record<SkipReason, number>>>;
  readonly outcome: RunOutcome;
  readonly at: string;
}

export interface SessionEventDetail {
  /** SessionStarted: a run started it. SessionEnded: it took its final status (Passed, PartialPassed, Failed, Cancelled). */
  readonly event: 'SessionStarted' | 'SessionEnded';
  readonly sessionId: string;
  readonly computerId: string;
  readonly computerName: string;
  readonly tenantId: string;
  /** The run and schedule behind it; events are published for sessions a schedule started. */
  readonly runId: string;
  readonly scheduleId: string;
  readonly status: SessionStatus;
  /** When its maintenance window opens; absent when execution follows detection. */
  readonly executeAt?: string;
  /** For SessionEnded: why it failed, in words, with its error code. */
  readonly failure?: { readonly code: string; readonly message: string };
  readonly at: string;
}

export type NightshiftEvent =
  | { readonly detailType: 'nightshift.run'; readonly detail: RunEventDetail }
  | { readonly detailType: 'nightshift.session'; readonly detail: SessionEventDetail };

export interface EventPublisher {
  /** Publishes the events (any number; the adapter batches them). */
  publish(events: readonly NightshiftEvent[]): Promise<void>;
}
