import { sqsDeliveryQueue } from '#events/sqs-delivery-queue.ts';
import { createDeliverHandler } from '#events/webhook-delivery.ts';
import { lambdaHandler } from '#platform/runtime.ts';
import { openTable } from '#store/dynamodb-client.ts';
import { webhookStore } from '#store/dynamodb-webhooks.ts';

/**
 * Delivers the apps' webhooks from the SQS delivery queue: reads the endpoint (GetItem), opens its secret
 * (key ring), signs and posts. Holds no Plivo secret and writes nothing to the table.
 */
export const handler = lambdaHandler((container) => {
  return createDeliverHandler({
    ...container,
    store: webhookStore(openTable(container.config)),
    visibility: sqsDeliveryQueue(container.config),
  });
});
