import { openTable } from '../lib/dynamodb-client.ts';
import { counterStore } from '../lib/dynamodb-counters.ts';
import { webhookStore } from '../lib/dynamodb-webhooks.ts';
import { createEventBridgeClient, eventBridgeSink } from '../lib/eventbridge-sink.ts';
import { telephonyFor } from '../lib/plivo-calls.ts';
import { lambdaHandler } from '../lib/runtime.ts';
import { sqsDeliveryQueue } from '../lib/sqs-delivery-queue.ts';
import { createStreamHandler, type EventsDeps } from '../lib/stream-events.ts';
import { createWebhookSink } from '../lib/webhook-sink.ts';

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
