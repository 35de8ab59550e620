import {
  ChangeMessageVisibilityCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { boundedClientOptions } from '#platform/aws-budget.ts';
import type { Config } from '#platform/config.ts';
import { SECRETS_TIME_BUDGET } from '#platform/secrets.ts';
import type { Visibility } from './webhook-delivery.ts';
import type { Delivery, DeliveryQueue } from './webhook-sink.ts';

/** SendMessageBatch takes at most 10 messages. */
const BATCH = 10;
/** Sends of the entries SQS failed for a reason of its own (not the request's), before giving up. */
const ENTRY_ATTEMPTS = 3;

/**
 * The webhook delivery queue on AWS (WEBHOOK_QUEUE_URL): the events function's sink queues into it, the
 * delivery function sets retry delays on it. Each message's MessageGroupId is its API key, which makes the
 * standard queue a fair queue (AWS, 2025): a tenant with a backlog or a slow endpoint is served after the
 * quiet ones. Its client is bounded like a secret read: a slow SQS fails the stream record (retried) or
 * leaves the message to the queue's own visibility timeout.
 */
export function sqsDeliveryQueue(
  config: Pick<Config, 'webhooks'>,
  /** Tests hand in a client of their own (the harness's granted one, or one on an SQS stand-in). */
  client: Pick<SQSClient, 'send'> = new SQSClient(boundedClientOptions(SECRETS_TIME_BUDGET)),
): DeliveryQueue & Visibility {
  const { queueUrl } = config.webhooks;
  if (!queueUrl) throw new Error('WEBHOOK_QUEUE_URL is not set');
  /**
   * One batch: SendMessageBatch answers 200 even when some entries failed (Failed, each with SenderFault).
   * Entries SQS failed on its side are sent again; a sender fault never becomes valid, so it, or entries
   * still failing, reject: the caller's stream record is retried, and receivers dedupe by webhook-id.
   */
  const sendBatch = async (batch: SendMessageBatchRequestEntry[]) => {
    let entries = batch;
    for (let attempt = 1; ; attempt++) {
      const out = await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
      const failed = out.Failed ?? [];
      if (failed.length === 0) return;
      const ours = failed.filter((failure) => failure.SenderFault);
      if (ours.length > 0 || attempt >= ENTRY_ATTEMPTS)
        throw new Error(
          `SQS refused ${failed.length} webhook deliveries (${[...new Set(failed.map((f) => f.Code))].join(', ')})`,
        );
      const again = new Set(failed.map((failure) => failure.Id));
      entries = entries.filter((entry) => again.has(entry.Id));
    }
  };
  return {
    async enqueue(deliveries: readonly Delivery[]) {
      for (let start = 0; start < deliveries.length; start += BATCH)
        await sendBatch(
          deliveries.slice(start, start + BATCH).map((delivery, index) => ({
            Id: String(index),
            MessageBody: JSON.stringify(delivery),
            // The tenant, for SQS fair queues: one API key's backlog or slow endpoint cannot delay another's.
            MessageGroupId: delivery.apiKeyId,
          })),
        );
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
