import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqsDeliveryQueue } from '#events/sqs-delivery-queue.ts';
import type { Delivery } from '#events/webhook-sink.ts';
import { type AwsStandIn, awsStandIn, standInClientConfig } from '../support/aws-stand-in.ts';
import { outcomeEvent } from '../support/events.ts';

/**
 * The SQS delivery queue adapter (lib/events/sqs-delivery-queue.ts) through the real SQS client, against a
 * stand-in speaking SQS's JSON protocol with its documented batch semantics (test/support/aws-stand-in.ts).
 */
let aws: AwsStandIn;
beforeAll(async () => {
  aws = await awsStandIn();
});
afterAll(() => aws.close());

let queues = 0;
/** A queue of its own in the stand-in, and the adapter on it. */
function queue() {
  const path = `/123456789012/deliveries-${++queues}`;
  aws.sqs.queues.set(path, []);
  return {
    path,
    messages: () => aws.sqs.queues.get(path) ?? [],
    adapter: sqsDeliveryQueue(
      { webhooks: { queueUrl: `${aws.url}${path}` } } as never,
      new SQSClient(standInClientConfig(aws)),
    ),
  };
}

const deliveries = (count: number, apiKeyId = 'key-a'): Delivery[] =>
  Array.from({ length: count }, (_, i) => {
    const event = outcomeEvent({ id: `evt_${String(i).padStart(26, '0')}`, now: Date.now(), apiKeyId });
    return { id: event.id, apiKeyId, payload: event.payload };
  });

describe('queueing deliveries (SendMessageBatch)', () => {
  it('sends ten at a time, each with its API key as MessageGroupId (fair queues)', async () => {
    const q = queue();
    const sent = [...deliveries(12, 'key-a'), ...deliveries(3, 'key-b')];
    await q.adapter.enqueue(sent);
    expect(q.messages().map((m) => JSON.parse(m.body))).toEqual(sent);
    expect(q.messages().map((m) => m.groupId)).toEqual(sent.map((d) => d.apiKeyId));
    expect(aws.sqs.batches.slice(-2).map((ids) => ids.length)).toEqual([10, 5]);
  });

  it('sends again only the entries SQS failed on its side, so none is queued twice', async () => {
    const q = queue();
    let failures = 0;
    aws.sqs.failEntry = (entry) =>
      ['3', '7'].includes(entry.Id) && failures++ < 2
        ? { code: 'InternalError', senderFault: false }
        : undefined;
    try {
      const sent = deliveries(10);
      const before = aws.sqs.batches.length;
      await q.adapter.enqueue(sent);
      expect(aws.sqs.batches.slice(before)).toEqual([
        ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
        ['3', '7'],
      ]);
      expect(
        q
          .messages()
          .map((m) => JSON.parse(m.body).id)
          .sort(),
      ).toEqual(sent.map((d) => d.id).sort());
    } finally {
      aws.sqs.failEntry = () => undefined;
    }
  });

  it('rejects (the stream record is retried) when an entry keeps failing, or failed for a fault of ours', async () => {
    const q = queue();
    aws.sqs.failEntry = (entry) =>
      entry.Id === '2' ? { code: 'InternalError', senderFault: false } : undefined;
    try {
      const before = aws.sqs.batches.length;
      await expect(q.adapter.enqueue(deliveries(4))).rejects.toThrow(
        'SQS refused 1 webhook deliveries (InternalError)',
      );
      // The first send and two more of the failing entry alone.
      expect(aws.sqs.batches.slice(before)).toEqual([['0', '1', '2', '3'], ['2'], ['2']]);
      aws.sqs.failEntry = (entry) =>
        entry.Id === '1' ? { code: 'InvalidParameterValue', senderFault: true } : undefined;
      const again = aws.sqs.batches.length;
      await expect(q.adapter.enqueue(deliveries(3))).rejects.toThrow('(InvalidParameterValue)');
      expect(aws.sqs.batches.slice(again)).toHaveLength(1);
    } finally {
      aws.sqs.failEntry = () => undefined;
    }
  });
});

describe('retry delays (ChangeMessageVisibility)', () => {
  it('sets the received message’s visibility to the delay', async () => {
    const q = queue();
    await q.adapter.enqueue(deliveries(2));
    const received = aws.sqs.receive(q.path);
    await q.adapter.retryAfter(received?.receiptHandle ?? '', 300);
    expect(q.messages().map((m) => m.visibility)).toEqual([300, undefined]);
    await q.adapter.retryAfter(received?.receiptHandle ?? '', 0);
    expect(q.messages()[0]?.visibility).toBe(0);
  });

  it('passes SQS’s refusals on: an unknown receipt handle, a delay over 12 hours', async () => {
    const q = queue();
    await q.adapter.enqueue(deliveries(1));
    const received = aws.sqs.receive(q.path);
    await expect(q.adapter.retryAfter('not-a-handle', 5)).rejects.toMatchObject({
      name: 'ReceiptHandleIsInvalid',
    });
    await expect(q.adapter.retryAfter(received?.receiptHandle ?? '', 43_201)).rejects.toMatchObject({
      name: 'InvalidParameterValue',
    });
  });
});
