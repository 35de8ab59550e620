import { randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { MAX_DELIVERY_ATTEMPTS, type Visibility } from '#events/webhook-delivery.ts';
import type { Delivery, DeliveryQueue } from '#events/webhook-sink.ts';

/**
 * The local stack's stand-in for the SQS delivery queue and its DLQ, with SQS's semantics as the delivery
 * function relies on them: a received message is invisible for the visibility timeout, the handler may change
 * that (ChangeMessageVisibility), messages the handler reports failed come back when it ends, each receipt
 * counts (ApproximateReceiveCount) and a message received maxReceiveCount times and failed again goes to the
 * DLQ. It hands the same SQS event to the same handler the delivery function runs. `speed` compresses time
 * (the retry schedule) for tests, like SIMULATOR_SPEED.
 */
export interface LocalDeliveryQueueOptions {
  handler: (event: SQSEvent) => Promise<SQSBatchResponse>;
  /** Schedule seconds per real second; 1 is real time. */
  speed?: number;
  maxReceiveCount?: number;
  /** What a received message waits if the handler sets nothing (the queue's visibility timeout). */
  visibilityTimeoutSeconds?: number;
  batchSize?: number;
}

interface Message {
  messageId: string;
  body: string;
  receiveCount: number;
  visibleAt: number;
  receiptHandle: string;
  /** Handed to the handler and not yet answered for: not received again meanwhile. */
  inFlight: boolean;
}

export class LocalDeliveryQueue implements DeliveryQueue, Visibility {
  /** Messages that used up their attempts, oldest first (the DLQ). */
  readonly deadLetters: Delivery[] = [];
  readonly #messages = new Map<string, Message>();
  readonly #options: Required<LocalDeliveryQueueOptions>;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: LocalDeliveryQueueOptions) {
    this.#options = {
      speed: 1,
      maxReceiveCount: MAX_DELIVERY_ATTEMPTS,
      visibilityTimeoutSeconds: 90,
      batchSize: 10,
      ...options,
    };
  }

  /** Messages queued or waiting for a retry. */
  get size() {
    return this.#messages.size;
  }

  async enqueue(deliveries: readonly Delivery[]) {
    for (const delivery of deliveries) {
      const messageId = randomUUID();
      this.#messages.set(messageId, {
        messageId,
        body: JSON.stringify(delivery),
        receiveCount: 0,
        visibleAt: Date.now(),
        receiptHandle: '',
        inFlight: false,
      });
    }
    this.#schedule();
  }

  async retryAfter(receiptHandle: string, seconds: number) {
    for (const message of this.#messages.values()) {
      if (message.receiptHandle === receiptHandle) message.visibleAt = Date.now() + this.#ms(seconds);
    }
  }

  stop() {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** Schedule time, compressed by `speed`; the visibility timeout of a message in flight is real time. */
  #ms = (seconds: number) => (seconds * 1000) / this.#options.speed;

  #schedule() {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    const waiting = [...this.#messages.values()].filter((message) => !message.inFlight);
    const next = Math.min(...waiting.map((message) => message.visibleAt));
    if (!Number.isFinite(next)) return;
    this.#timer = setTimeout(() => void this.#receive(), Math.max(0, next - Date.now()));
  }

  async #receive() {
    const now = Date.now();
    const visible = [...this.#messages.values()].filter(
      (message) => !message.inFlight && message.visibleAt <= now,
    );
    const batch: Message[] = [];
    for (const message of visible) {
      // As SQS's redrive policy does: a message already received maxReceiveCount times goes to the DLQ.
      if (message.receiveCount >= this.#options.maxReceiveCount) {
        this.#messages.delete(message.messageId);
        this.deadLetters.push(JSON.parse(message.body) as Delivery);
        continue;
      }
      if (batch.length < this.#options.batchSize) batch.push(message);
    }
    for (const message of batch) {
      message.receiveCount += 1;
      message.receiptHandle = randomUUID();
      message.inFlight = true;
      message.visibleAt = now + this.#options.visibilityTimeoutSeconds * 1000;
    }
    this.#schedule();
    if (batch.length === 0) return;
    try {
      const { batchItemFailures } = await this.#options.handler({ Records: batch.map(toRecord) });
      const failed = new Set(batchItemFailures.map((failure) => failure.itemIdentifier));
      for (const message of batch)
        if (!failed.has(message.messageId)) this.#messages.delete(message.messageId);
    } catch {
      // A handler that throws fails the whole batch: every message comes back after its visibility.
    } finally {
      for (const message of batch) message.inFlight = false;
      this.#schedule();
    }
  }
}

const toRecord = (message: Message): SQSRecord =>
  ({
    messageId: message.messageId,
    receiptHandle: message.receiptHandle,
    body: message.body,
    attributes: { ApproximateReceiveCount: String(message.receiveCount) },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:local:000000000000:webhook-deliveries',
    awsRegion: 'local',
  }) as unknown as SQSRecord;
