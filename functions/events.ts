import { telephonyFor } from '#channels/plivo-calls.ts';
import { createEventBridgeClient, eventBridgeSink } from '#events/eventbridge-sink.ts';
import { sqsDeliveryQueue } from '#events/sqs-delivery-queue.ts';
import { createStreamHandler, type EventsDeps } from '#events/stream-events.ts';
import { createWebhookSink } from '#events/webhook-sink.ts';
import { lambdaHandler } from '#platform/runtime.ts';
import { openTable } from '#store/dynamodb-client.ts';
import { counterStore } from '#store/dynamodb-counters.ts';
import { webhookStore } from '#store/dynamodb-webhooks.ts';

/**
 * The table's stream (not behind API Gateway): approvals counted for the fraud guard, calls of canceled or
 * superseded verifications hung up, outcome events put on the EventBridge bus and queued for the apps'
 * webhooks (the deliver function posts them).
 */
export const createEventsHandler = (deps: EventsDeps) => createStreamHandler(deps);

export const handler = lambdaHandler((container) => {
  const { eventBusName } = container.config;
  if (!eventBusName) throw new Error('EVENT_BUS_NAME is not set');
  // Only the store parts it uses: the approvals' counters and the apps' webhook endpoints.
  const table = openTable(container.config);
  const deliveries = sqsDeliveryQueue(container.config);
  return createEventsHandler({
    ...container,
    store: counterStore(table),
    telephony: telephonyFor(container),
    sinks: [
      eventBridgeSink(createEventBridgeClient(), eventBusName),
      createWebhookSink({ store: webhookStore(table), queue: deliveries }),
    ],
  });
});
