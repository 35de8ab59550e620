import type { SQSEvent } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Delivery } from '#events/webhook-sink.ts';
import { LocalDeliveryQueue } from '../../local/delivery-queue.ts';

/**
 * The local stand-in for the delivery queue and the deliver function's event source: what the delivery
 * function relies on (SQS fair queues, the mapping's MaximumConcurrency), modelled as AWS documents it.
 */
const queues: LocalDeliveryQueue[] = [];
afterEach(() => {
  for (const queue of queues.splice(0)) queue.stop();
});

const delivery = (apiKeyId: string, i: number): Delivery =>
  ({
    id: `evt_${apiKeyId}_${i}`,
    apiKeyId,
    payload: { type: 'verification.approved' },
  }) as unknown as Delivery;

const idsOf = (event: SQSEvent) => event.Records.map((record) => JSON.parse(record.body).id as string);

describe('the local delivery queue', () => {
  it('runs at most maxConcurrency handler invocations at once, batchSize messages each', async () => {
    let running = 0;
    let most = 0;
    const sizes: number[] = [];
    const queue = new LocalDeliveryQueue({
      maxConcurrency: 3,
      batchSize: 4,
      handler: async (event) => {
        running++;
        most = Math.max(most, running);
        sizes.push(event.Records.length);
        await new Promise((resolve) => setTimeout(resolve, 50));
        running--;
        return { batchItemFailures: [] };
      },
    });
    queues.push(queue);
    await queue.enqueue(Array.from({ length: 30 }, (_, i) => delivery('key-a', i)));
    await vi.waitFor(() => expect(queue.size).toBe(0), { timeout: 5000, interval: 10 });
    expect(most).toBe(3);
    expect(Math.max(...sizes)).toBe(4);
  });

  it('hands a quiet tenant’s message out before a noisy tenant’s backlog (fair queues)', async () => {
    const batches: string[][] = [];
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const queue = new LocalDeliveryQueue({
      maxConcurrency: 1,
      batchSize: 10,
      handler: async (event) => {
        batches.push(idsOf(event));
        // The first batch is slow: the noisy tenant's processing time makes it noisy.
        if (batches.length === 1) await held;
        return { batchItemFailures: [] };
      },
    });
    queues.push(queue);
    await queue.enqueue(Array.from({ length: 25 }, (_, i) => delivery('noisy', i)));
    await vi.waitFor(() => expect(batches).toHaveLength(1), { interval: 5 });
    await queue.enqueue([delivery('quiet', 0), delivery('quiet', 1)]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    release();
    await vi.waitFor(() => expect(queue.size).toBe(0), { timeout: 5000, interval: 10 });
    // After the first batch: the quiet tenant's two first, though fifteen of the noisy one's came before them.
    expect(batches[1]?.slice(0, 2)).toEqual(['evt_quiet_0', 'evt_quiet_1']);
    // Without a noisy tenant, oldest first.
    expect(batches[0]).toEqual(Array.from({ length: 10 }, (_, i) => `evt_noisy_${i}`));
  });

  it('tells the handler each message’s tenant (MessageGroupId)', async () => {
    const groups: string[] = [];
    const queue = new LocalDeliveryQueue({
      handler: async (event) => {
        groups.push(...event.Records.map((record) => record.attributes.MessageGroupId ?? ''));
        return { batchItemFailures: [] };
      },
    });
    queues.push(queue);
    await queue.enqueue([delivery('key-a', 0), delivery('key-b', 0)]);
    await vi.waitFor(() => expect(queue.size).toBe(0), { interval: 5 });
    expect(groups.sort()).toEqual(['key-a', 'key-b']);
  });
});
