import { SQSClient } from '@aws-sdk/client-sqs';
import { boundedClientOptions } from '../lib/aws-budget.ts';
import { createStore } from '../lib/dynamodb-store.ts';
import { lambdaHandler } from '../lib/runtime.ts';
import { SECRETS_TIME_BUDGET } from '../lib/secrets.ts';
import { sqsDeliveryQueue } from '../lib/sqs-delivery-queue.ts';
import { createDeliverHandler } from '../lib/webhook-delivery.ts';

/**
 * Delivers the apps' webhooks from the SQS delivery queue: reads the endpoint (GetItem), opens its secret
 * (key ring), signs and posts. Holds no Plivo secret and writes nothing to the table.
 */
export const handler = lambdaHandler((container) => {
  const { queueUrl } = container.config.webhooks;
  if (!queueUrl) throw new Error('WEBHOOK_QUEUE_URL is not set');
  return createDeliverHandler({
    ...container,
    store: createStore(container.config),
    // Bounded like a secret read: a slow SQS leaves the message to its queue's own visibility timeout.
    visibility: sqsDeliveryQueue(new SQSClient(boundedClientOptions(SECRETS_TIME_BUDGET)), queueUrl),
  });
});
