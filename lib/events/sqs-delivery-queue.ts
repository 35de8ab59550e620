import { ChangeMessageVisibilityCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { boundedClientOptions } from '#platform/aws-budget.ts';
import type { Config } from '#platform/config.ts';
import { SECRETS_TIME_BUDGET } from '#platform/secrets.ts';
import type { Visibility } from './webhook-delivery.ts';
import type { Delivery, DeliveryQueue } from './webhook-sink.ts';

/** SendMessageBatch takes at most 10 messages. */
const BATCH = 10;

/**
 * The webhook delivery queue on AWS (WEBHOOK_QUEUE_URL): the events function's sink queues into it, the
 * delivery function sets retry delays on it. Its client is bounded like a secret read: a slow SQS fails the
 * stream record (retried) or leaves the message to the queue's own visibility timeout.
 */
export function sqsDeliveryQueue(
  config: Pick<Config, 'webhooks'>,
  /** Tests hand in a client of their own. */
  client: Pick<SQSClient, 'send'> = new SQSClient(boundedClientOptions(SECRETS_TIME_BUDGET)),
): DeliveryQueue & Visibility {
  const { queueUrl } = config.webhooks;
  if (!queueUrl) throw new Error('WEBHOOK_QUEUE_URL is not set');
  return {
    async enqueue(deliveries: readonly Delivery[]) {
      for (let start = 0; start < deliveries.length; start += BATCH) {
        const entries = deliveries.slice(start, start + BATCH).map((delivery, index) => ({
          Id: String(index),
          MessageBody: JSON.stringify(delivery),
        }));
        const out = await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
        // Rejecting retries the whole stream record; deliveries queued twice share a webhook-id.
        if (out.Failed?.length) throw new Error(`SQS refused ${out.Failed.length} webhook deliveries`);
      }
    },
    async retryAfter(receiptHandle: string, seconds: number) {
      await client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: receiptHandle,
          VisibilityTimeout: seconds,
        }),
      );
    },
  };
}
