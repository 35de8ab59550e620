import { openTable } from '../lib/dynamodb-client.ts';
import { webhookStore } from '../lib/dynamodb-webhooks.ts';
import { lambdaHandler } from '../lib/runtime.ts';
import { sqsDeliveryQueue } from '../lib/sqs-delivery-queue.ts';
import { createDeliverHandler } from '../lib/webhook-delivery.ts';

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
