import type { ScheduleRun } from '../model/schedule-run.js';
import { isFinalSessionStatus, type Session } from '../model/session.js';
import type { NightshiftEvent, RunEventName } from '../ports/events.port.js';
import type { Dependencies } from './dependencies.js';

/** The events Nightshift tells the MSP's tools, built from the records they report. */

/** A run event as EventBridge carries it. */
export function runEvent(event: RunEventName, run: ScheduleRun, at: string): NightshiftEvent {
  const ring = run.rollout.rings[run.currentRing];
  return {
    detailType: 'nightshift.run',
    detail: {
      event,
      runId: run.id,
      scheduleId: run.scheduleId,
      scheduleName: run.scheduleName,
      status: run.status,
      currentRing: run.currentRing,
      ...(ring ? { ringName: ring.name } : {}),
      ...(run.haltReason ? { reason: run.haltReason } : {}),
      targeted: run.targeted,
      started: run.started,
      skipped: run.skipped,
      outcome: run.outcome,
      at,
    },
  };
}

/**
 * Publishes after the write it reports. A failed publish is logged with the
 * events and counted, and the step carries on: retrying the step would not
 * publish again (its write is done), and the state is what matters.
 */
export async function publishEvents(deps: Pick<Dependencies, 'events' | 'metrics' | 'logger'>, events: readonly NightshiftEvent[]): Promise<void> {
  if (events.length === 0) return;
  try {
    await deps.events.publish(events);
  } catch (error) {
    deps.metrics.count('EventsNotPublished', events.length);
    deps.logger.error('events not published', { events, error: error instanceof Error ? error.message : String(error) });
  }
}

/** The event a schedule-started session's end stands for; none for a session no run started. */
export function sessionEndedEvents(session: Session, at: string): NightshiftEvent[] {
  if (!session.origin || !isFinalSessionStatus(session.status)) return [];
  return [
    {
      detailType: 'nightshift.session',
      detail: {
        event: 'SessionEnded',
        sessionId: session.id,
        computerId: session.computerId,
        computerName: session.computerName,
        tenantId: session.tenantId,
        runId: session.origin.runId,
        scheduleId: session.origin.scheduleId,
        status: session.status,
        ...(session.failure ? { failure: { code: session.failure.code, message: session.failure.message } } : {}),
        at,
      },
    },
  ];
}
