import { PutEventsCommand, type EventBridgeClient, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { ConfigurationError, TransientError } from '../core/errors.js';
import type { EventPublisher, NightshiftEvent } from '../core/ports/events.port.js';
import { translateAwsError } from './aws-errors.js';

export interface EventBusSettings {
  /** The Nightshift event bus (the stack's own, named after the stack). */
  readonly eventBusName: string;
}

/** Every event's `source`; the stack's PutEvents grant allows this source and no other. */
export const EVENT_SOURCE = 'nightshift';

/** Every detail type the port can publish: a new one fails to compile here until it is listed (and granted). */
const DETAIL_TYPES: { readonly [T in NightshiftEvent['detailType']]: true } = { 'nightshift.run': true, 'nightshift.session': true };
export const EVENT_DETAIL_TYPES = Object.keys(DETAIL_TYPES) as readonly NightshiftEvent['detailType'][];

/** PutEvents takes at most 10 entries a call. */
export const MAX_ENTRIES_PER_CALL = 10;
/** The entries of one call must total less than 256 KB, measured as `entrySize` does. */
export const MAX_BYTES_PER_CALL = 256 * 1024;

/**
 * An entry's size as EventBridge counts it against the 256 KB of a call
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html):
 * the UTF-8 bytes of Source, DetailType and Detail, 14 bytes for a Time and
 * the bytes of each Resources entry. The bus name is not counted; Nightshift
 * sends no Time and no Resources.
 */
export function entrySize(entry: PutEventsRequestEntry): number {
  const bytes = (text: string | undefined) => (text === undefined ? 0 : Buffer.byteLength(text, 'utf8'));
  return (
    (entry.Time === undefined ? 0 : 14) +
    bytes(entry.Source) +
    bytes(entry.DetailType) +
    bytes(entry.Detail) +
    (entry.Resources ?? []).reduce((sum, resource) => sum + bytes(resource), 0)
  );
}

/** Consecutive batches of at most 10 entries, each totalling less than 256 KB, in the order given. */
export function batchEntries(entries: readonly PutEventsRequestEntry[]): PutEventsRequestEntry[][] {
  const batches: PutEventsRequestEntry[][] = [];
  let batch: PutEventsRequestEntry[] = [];
  let batchBytes = 0;
  for (const entry of entries) {
    const size = entrySize(entry);
    if (batch.length === MAX_ENTRIES_PER_CALL || (batch.length > 0 && batchBytes + size >= MAX_BYTES_PER_CALL)) {
      batches.push(batch);
      batch = [];
      batchBytes = 0;
    }
    batch.push(entry);
    batchBytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

interface FailedEntry {
  readonly entry: PutEventsRequestEntry;
  readonly errorCode: string;
}

/** `InternalFailure ×2, ThrottlingException ×1`: each error code once, with how many entries got it. */
const describeCodes = (failed: readonly FailedEntry[]): string => {
  const counts = new Map<string, number>();
  for (const { errorCode } of failed) counts.set(errorCode, (counts.get(errorCode) ?? 0) + 1);
  return [...counts].map(([code, count]) => `${code} ×${count}`).join(', ');
};

/**
 * Run and session events on the Nightshift event bus, with PutEvents. Events
 * go in the order given, in as few calls as the limits allow (10 entries and
 * under 256 KB a call). EventBridge accepts or refuses each entry on its own:
 * the refused ones are sent once more, and what is still refused then makes
 * the publish fail with a TransientError naming how many and why. Nothing is
 * retried beyond that: the caller logs and counts what was not published
 * (a publish never repeats the state change it reports).
 */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly settings: EventBusSettings | undefined,
  ) {}

  async publish(events: readonly NightshiftEvent[]): Promise<void> {
    if (!this.settings) throw new ConfigurationError('the EVENT_BUS_NAME setting is not set for this function');
    if (events.length === 0) return;
    const { eventBusName } = this.settings;
    const entries = events.map(
      (event): PutEventsRequestEntry => ({ Source: EVENT_SOURCE, DetailType: event.detailType, Detail: JSON.stringify(event.detail), EventBusName: eventBusName }),
    );
    // one entry that alone reaches the limit can never be sent; the others still are
    const oversized = entries.filter((entry) => entrySize(entry) >= MAX_BYTES_PER_CALL);
    const sendable = entries.filter((entry) => !oversized.includes(entry));

    const refused = await this.send(sendable);
    const stillRefused = refused.length === 0 ? [] : await this.send(refused.map(({ entry }) => entry));

    if (oversized.length > 0) {
      const what = oversized.map((entry) => `${entry.DetailType} of ${entrySize(entry)} bytes`).join(', ');
      const alsoRefused = stillRefused.length > 0 ? `; ${stillRefused.length} more refused after a retry (${describeCodes(stillRefused)})` : '';
      throw new Error(`${oversized.length} of ${events.length} events were too large for event bus ${eventBusName} (${what}; the limit is under ${MAX_BYTES_PER_CALL} bytes)${alsoRefused}`);
    }
    if (stillRefused.length > 0) {
      throw new TransientError(
        `${stillRefused.length} of ${events.length} events were refused by event bus ${eventBusName}, again after a retry: ${describeCodes(stillRefused)}`,
      );
    }
  }

  /** Sends the entries in batches; answers the ones EventBridge refused, with their error codes. */
  private async send(entries: readonly PutEventsRequestEntry[]): Promise<FailedEntry[]> {
    const refused: FailedEntry[] = [];
    for (const batch of batchEntries(entries)) {
      let response;
      try {
        response = await this.client.send(new PutEventsCommand({ Entries: batch }));
      } catch (error) {
        throw translateAwsError(error, `publishing ${batch.length} events to event bus ${this.settings?.eventBusName ?? '?'}`);
      }
      if (!response.FailedEntryCount) continue;
      // results come in the order of the entries; a refused one has an ErrorCode instead of an EventId
      batch.forEach((entry, index) => {
        const result = response.Entries?.[index];
        if (result?.EventId === undefined) refused.push({ entry, errorCode: result?.ErrorCode ?? 'NoResult' });
      });
    }
    return refused;
  }
}
