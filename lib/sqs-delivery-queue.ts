import { ChangeMessageVisibilityCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Visibility } from './webhook-delivery.ts';
import type { Delivery, DeliveryQueue } from './webhook-sink.ts';

/** SendMessageBatch takes at most 10 messages. */
const BATCH = 10;

/** The webhook delivery queue on AWS: the sink queues into it, the delivery function sets retry delays on it. */
export function sqsDeliveryQueue(client: SQSClient, queueUrl: string): DeliveryQueue & Visibility {
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
