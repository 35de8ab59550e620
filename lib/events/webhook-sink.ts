import type { WebhookStore } from '#store/store.ts';
import type { EventSink, OutcomeEvent, OutcomePayload } from './outcome-events.ts';

/**
 * The app-webhook EventSink: for each outcome event, the API key's endpoint (`WEBHOOK#<api key id>`) is
 * looked up and, when it subscribes to the event's type, one delivery is queued. The delivery keeps the
 * event's id as its `webhook-id` on every attempt; the queue (SQS on AWS, lib's local queue on the local
 * stack) retries it on the schedule in lib/events/webhook-delivery.ts.
 */
export interface Delivery {
  /** The event's id: the `webhook-id` header, the same on every retry, so receivers can dedupe. */
  id: string;
  apiKeyId: string;
  payload: OutcomePayload;
}

export interface DeliveryQueue {
  /** Queues every delivery or rejects (the caller's stream record is then retried: receivers dedupe). */
  enqueue(deliveries: readonly Delivery[]): Promise<void>;
}

export function createWebhookSink(deps: {
  store: Pick<WebhookStore, 'getWebhook'>;
  queue: DeliveryQueue;
}): EventSink {
  return {
    async publish(events: readonly OutcomeEvent[]) {
      // One read per API key in the batch, not per event.
      const subscribed = new Map<string, Promise<Set<string> | undefined>>();
      const typesOf = (apiKeyId: string) => {
        let types = subscribed.get(apiKeyId);
        if (!types) {
          types = deps.store.getWebhook(apiKeyId).then((webhook) => webhook && new Set(webhook.events));
          subscribed.set(apiKeyId, types);
        }
        return types;
      };
      const deliveries: Delivery[] = [];
      for (const event of events) {
        if ((await typesOf(event.apiKeyId))?.has(event.payload.type))
          deliveries.push({ id: event.id, apiKeyId: event.apiKeyId, payload: event.payload });
      }
      if (deliveries.length > 0) await deps.queue.enqueue(deliveries);
    },
  };
}
