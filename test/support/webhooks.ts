import { expect, vi } from 'vitest';
import { endpointCircuit } from '#events/endpoint-circuit.ts';
import type { OutcomeEventType } from '#events/outcome-events.ts';
import { sqsDeliveryQueue } from '#events/sqs-delivery-queue.ts';
import { createDeliverHandler, type Resolver } from '#events/webhook-delivery.ts';
import { createWebhookSink } from '#events/webhook-sink.ts';
import type { Secrets } from '#platform/secrets.ts';
import { LocalDeliveryQueue, type LocalDeliveryQueueOptions } from '../../local/delivery-queue.ts';
import { type CapturedRequest, captureServer } from './capture-server.ts';
import { API_KEY_ID, apiEvent, type Harness, parse } from './harness.ts';

/**
 * App webhooks below the events function, for the tests that deliver them: the delivery function's handler
 * over a local queue with SQS's semantics, the sink the events function runs, receivers on 127.0.0.1, and
 * setting an endpoint through the verify function. Call `stopWebhookParts` after each test.
 */

/** Schedule seconds per real second: the whole schedule (about 27.6 h) takes about half a second. */
export const FAST = 200_000;

const running: Array<{ stop(): void } | { close(): Promise<void> }> = [];

export async function stopWebhookParts() {
  await Promise.all(running.splice(0).map((part) => ('stop' in part ? part.stop() : part.close())));
}

/** A receiver on 127.0.0.1 that records every request and answers as `reply` says (the nth request: index n). */
export async function webhookReceiver(
  reply: (request: CapturedRequest, index: number) => ReturnType<Parameters<typeof captureServer>[0]>,
) {
  let index = 0;
  const server = await captureServer((request) => reply(request, index++));
  running.push(server);
  return server;
}

/** Sets `apiKeyId`'s endpoint through the verify function (`handler`, the harness's by default); the secret. */
export async function setWebhook(
  harness: Pick<Harness, 'verify'>,
  url: string,
  events: OutcomeEventType[],
  apiKeyId = API_KEY_ID,
  handler = harness.verify,
) {
  const response = await handler(
    apiEvent({ method: 'PUT', resource: '/v1/webhook', body: { url, events }, apiKeyId }),
  );
  expect(response.statusCode).toBe(200);
  return parse(response).secret as string;
}

/**
 * The delivery function's handler over a local queue, and the sink the events function runs, reading with
 * the events function's store (so test/grants counts its reads as events', not deliver's). `delays` are
 * the retry delays the handler set, in order.
 */
const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/voice-otp-deliveries';

export function deliveryPipeline(
  harness: Harness,
  options: {
    speed?: number;
    resolve?: Resolver;
    timeoutMs?: number;
    secrets?: Secrets;
    queue?: Partial<LocalDeliveryQueueOptions>;
  } = {},
) {
  const delays: number[] = [];
  // What the functions send SQS on AWS, through the real SQS client each is granted (test/grants checks it);
  // the local queue then does what SQS would.
  const sqs = (name: 'events' | 'deliver') =>
    sqsDeliveryQueue(
      { webhooks: { ...harness.config.webhooks, queueUrl: QUEUE_URL } },
      harness.awsFor(name).sqs,
    );
  const queue: LocalDeliveryQueue = new LocalDeliveryQueue({
    speed: options.speed ?? FAST,
    ...options.queue,
    handler: (event) => deliver(event),
  });
  const deliver = createDeliverHandler({
    ...harness.depsFor('deliver'),
    ...(options.secrets && { secrets: options.secrets }),
    ...(options.resolve && { resolve: options.resolve }),
    ...(options.timeoutMs && { timeoutMs: options.timeoutMs }),
    // The circuits keep the queue's compressed time, as the retries do.
    circuit: endpointCircuit(queue.scheduleClock),
    visibility: {
      retryAfter: async (handle, seconds) => {
        delays.push(seconds);
        await sqs('deliver').retryAfter(handle, seconds);
        return queue.retryAfter(handle, seconds);
      },
    },
  });
  running.push(queue);
  const queued = {
    enqueue: async (deliveries: Parameters<LocalDeliveryQueue['enqueue']>[0]) => {
      await sqs('events').enqueue(deliveries);
      return queue.enqueue(deliveries);
    },
  };
  return {
    queue,
    delays,
    sink: createWebhookSink({ store: harness.depsFor('events').store, queue: queued }),
  };
}

/** Waits until nothing is queued or waiting for a retry. */
export const settled = (queue: LocalDeliveryQueue) =>
  vi.waitFor(() => expect(queue.size).toBe(0), { timeout: 20_000, interval: 20 });
