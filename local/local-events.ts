import { EventEmitter } from 'node:events';
import { EVENT_SOURCE } from '../functions/adapters/events.eventbridge.js';
import type { Logger } from '../functions/core/ports/logger.port.js';
import type { EventPublisher, NightshiftEvent } from '../functions/core/ports/events.port.js';

/**
 * The local twin of the Nightshift event bus: events are kept in order (for
 * the demo's report and the tests), emitted to listeners, and written to the
 * log as EventBridge would show them (source, detail-type, detail).
 */
export class LocalEventBus implements EventPublisher {
  readonly published: NightshiftEvent[] = [];
  readonly emitter = new EventEmitter();

  constructor(private readonly logger: Logger) {}

  publish(events: readonly NightshiftEvent[]): Promise<void> {
    for (const event of events) {
      this.published.push(event);
      this.logger.info('event published', { source: EVENT_SOURCE, 'detail-type': event.detailType, detail: event.detail });
      this.emitter.emit('event', event);
    }
    return Promise.resolve();
  }
}
