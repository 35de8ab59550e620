import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { boundedClientOptions, type TimeBudget } from '#platform/aws-budget.ts';
import type { EventSink, OutcomeEvent } from './outcome-events.ts';

/**
 * Outcome events on the stack's EventBridge bus, where operators route them with rules: source `voice-otp`,
 * detail-type the event's type, detail its payload (no code, hash, token or full number).
 */
export const EVENT_SOURCE = 'voice-otp';

/** PutEvents takes at most 10 entries per call. */
export const PUT_EVENTS_MAX_ENTRIES = 10;

/** Entries EventBridge refused are put again this many times before the record fails (and is retried). */
const ENTRY_RETRIES = 2;

const BUDGET: TimeBudget = {
  connectMs: 500,
  requestMs: 2000,
  attempts: 3,
  backoffMs: (retry) => 100 * retry,
};

export const createEventBridgeClient = () => new EventBridgeClient(boundedClientOptions(BUDGET));

export const toEntry = (busName: string, event: OutcomeEvent): PutEventsRequestEntry => ({
  EventBusName: busName,
  Source: EVENT_SOURCE,
  DetailType: event.payload.type,
  Detail: JSON.stringify(event.payload),
  Time: new Date(event.payload.createdAt),
});

export function eventBridgeSink(client: Pick<EventBridgeClient, 'send'>, busName: string): EventSink {
  return {
    async publish(events) {
      for (let start = 0; start < events.length; start += PUT_EVENTS_MAX_ENTRIES) {
        let entries = events.slice(start, start + PUT_EVENTS_MAX_ENTRIES).map((e) => toEntry(busName, e));
        for (let round = 0; entries.length > 0; round++) {
          const out = await client.send(new PutEventsCommand({ Entries: entries }));
          if (!out.FailedEntryCount) break;
          // Only the refused entries again (entries answer in order): the others are on the bus already.
          const failed = entries.filter((_, i) => out.Entries?.[i]?.ErrorCode);
          if (round >= ENTRY_RETRIES) {
            const codes = [...new Set((out.Entries ?? []).map((entry) => entry.ErrorCode).filter(Boolean))];
            throw new Error(`EventBridge refused ${failed.length} event(s): ${codes.join(', ')}`);
          }
          entries = failed;
        }
      }
    },
  };
}

/** The local stack's stand-in for the bus: it keeps what would have been put, oldest first. */
export function recordingSink(): EventSink & { entries: PutEventsRequestEntry[] } {
  const entries: PutEventsRequestEntry[] = [];
  return {
    entries,
    async publish(events) {
      entries.push(...events.map((event) => toEntry('local', event)));
    },
  };
}
