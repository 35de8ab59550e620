import { randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { MAX_DELIVERY_ATTEMPTS, type Visibility } from '#events/webhook-delivery.ts';
import type { Delivery, DeliveryQueue } from '#events/webhook-sink.ts';

/**
 * The local stack's stand-in for the SQS delivery queue, its DLQ and the deliver function's event source
 * mapping, with their semantics as the delivery function relies on them:
 * - SQS: a received message is in flight, invisible for the visibility timeout, which the handler may change
 *   (ChangeMessageVisibility); messages the handler reports failed come back when it ends; each receipt counts
 *   (ApproximateReceiveCount); a message received maxReceiveCount times and failed again goes to the DLQ.
 * - SQS fair queues (AWS's "How Amazon SQS fair queues work"): each message's MessageGroupId (the API key,
 *   as lib/events/sqs-delivery-queue.ts sends it) names its tenant. A tenant is a noisy neighbour when it holds
 *   more than 10 % of the messages in flight and at least 30 of its own, or more than 10 % of the recent
 *   processing time (here: the last minute's, from each receive to the handler's answer). Receives return quiet tenants'
 *   messages first, oldest first; then noisy tenants', the one with the fewest messages in flight first.
 * - Lambda's SQS event source: batches of `batchSize`, at most `maxConcurrency` handler invocations at once
 *   (the mapping's MaximumConcurrency, infra/webhook-queue.ts).
 * It hands the same SQS event to the same handler the delivery function runs. `speed` compresses time (the
 * retry schedule, and `scheduleClock` for the handler's circuits) for tests, like SIMULATOR_SPEED.
 */
export interface LocalDeliveryQueueOptions {
  handler: (event: SQSEvent) => Promise<SQSBatchResponse>;
  /** Schedule seconds per real second; 1 is real time. */
  speed?: number;
  maxReceiveCount?: number;
  /** What a received message waits if the handler sets nothing (the queue's visibility timeout). */
  visibilityTimeoutSeconds?: number;
  batchSize?: number;
  /** Handler invocations at once (the event source mapping's MaximumConcurrency). */
  maxConcurrency?: number;
}

interface Message {
  messageId: string;
  /** MessageGroupId: the tenant, for fair queues. */
  group: string;
  body: string;
  /** Order of arrival: oldest first among equals. */
  seq: number;
  receiveCount: number;
  visibleAt: number;
  receiptHandle: string;
  /** Handed to the handler and not yet answered for: not received again meanwhile. */
  handling: boolean;
  /** When its current receipt began. */
  receivedAt: number;
}

/** Fair queues' thresholds (AWS documents them as approximate). */
const NOISY_SHARE = 0.1;
const NOISY_MIN_IN_FLIGHT = 30;
/** How far back "recent processing time" looks. */
const PROCESSING_WINDOW_MS = 60_000;

export class LocalDeliveryQueue implements DeliveryQueue, Visibility {
  /** Messages that used up their attempts, oldest first (the DLQ). */
  readonly deadLetters: Delivery[] = [];
  readonly #messages = new Map<string, Message>();
  readonly #options: Required<LocalDeliveryQueueOptions>;
  /** Each tenant's processing time, as batches ended: [group, ms, ended at]. */
  #processed: Array<[string, number, number]> = [];
  readonly #started = Date.now();
  #seq = 0;
  #invocations = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: LocalDeliveryQueueOptions) {
    this.#options = {
      speed: 1,
      maxReceiveCount: MAX_DELIVERY_ATTEMPTS,
      visibilityTimeoutSeconds: 90,
      batchSize: 10,
      maxConcurrency: 20,
      ...options,
    };
  }

  /** Messages queued or waiting for a retry. */
  get size() {
    return this.#messages.size;
  }

  /** The schedule's time (real time × speed): what the delivery handler's circuits should measure with. */
  readonly scheduleClock = () => this.#started + (Date.now() - this.#started) * this.#options.speed;

  async enqueue(deliveries: readonly Delivery[]) {
    for (const delivery of deliveries) {
      const messageId = randomUUID();
      this.#messages.set(messageId, {
        messageId,
        group: delivery.apiKeyId,
        body: JSON.stringify(delivery),
        seq: this.#seq++,
        receiveCount: 0,
        visibleAt: Date.now(),
        receiptHandle: '',
        handling: false,
        receivedAt: 0,
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
    const waiting = [...this.#messages.values()].filter((message) => !message.handling);
    const next = Math.min(...waiting.map((message) => message.visibleAt));
    if (!Number.isFinite(next)) return;
    this.#timer = setTimeout(() => void this.#receive(), Math.max(0, next - Date.now()));
  }

  /** In flight: received, not deleted, and not visible again yet. */
  #inFlight(message: Message, now: number) {
    return message.receiveCount > 0 && (message.handling || message.visibleAt > now);
  }

  /** Each tenant's messages in flight, and which tenants are noisy neighbours now. */
  #tenants(now: number) {
    const inFlight = new Map<string, number>();
    const processing = new Map<string, number>();
    this.#processed = this.#processed.filter(([, , endedAt]) => endedAt > now - PROCESSING_WINDOW_MS);
    for (const [group, ms] of this.#processed) processing.set(group, (processing.get(group) ?? 0) + ms);
    for (const message of this.#messages.values()) {
      if (!this.#inFlight(message, now)) continue;
      inFlight.set(message.group, (inFlight.get(message.group) ?? 0) + 1);
      if (message.handling)
        processing.set(message.group, (processing.get(message.group) ?? 0) + (now - message.receivedAt));
    }
    const totalInFlight = [...inFlight.values()].reduce((sum, n) => sum + n, 0);
    const totalProcessing = [...processing.values()].reduce((sum, ms) => sum + ms, 0);
    const noisy = new Set<string>();
    for (const [group, n] of inFlight)
      if (n > NOISY_SHARE * totalInFlight && n >= NOISY_MIN_IN_FLIGHT) noisy.add(group);
    for (const [group, ms] of processing) if (ms > NOISY_SHARE * totalProcessing) noisy.add(group);
    return { inFlight, noisy };
  }

  async #receive() {
    if (this.#invocations >= this.#options.maxConcurrency) return;
    const now = Date.now();
    const visible: Message[] = [];
    for (const message of this.#messages.values()) {
      if (message.handling || message.visibleAt > now) continue;
      // As SQS's redrive policy does: a message already received maxReceiveCount times goes to the DLQ.
      if (message.receiveCount >= this.#options.maxReceiveCount) {
        this.#messages.delete(message.messageId);
        this.deadLetters.push(JSON.parse(message.body) as Delivery);
        continue;
      }
      visible.push(message);
    }
    const batch = this.#fairBatch(visible, now);
    for (const message of batch) {
      message.receiveCount += 1;
      message.receiptHandle = randomUUID();
      message.handling = true;
      message.receivedAt = now;
      message.visibleAt = now + this.#options.visibilityTimeoutSeconds * 1000;
    }
    if (batch.length > 0) this.#invocations += 1;
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
      const ended = Date.now();
      // The consumer's processing time, by tenant: from the receive to the handler's answer.
      for (const message of batch) {
        message.handling = false;
        this.#processed.push([message.group, ended - message.receivedAt, ended]);
      }
      this.#invocations -= 1;
      this.#schedule();
    }
  }

  /** Up to a batch of visible messages, in fair queues' order; each pick counts as in flight for the next. */
  #fairBatch(visible: Message[], now: number): Message[] {
    const { inFlight, noisy } = this.#tenants(now);
    const left = [...visible].sort((a, b) => a.seq - b.seq);
    const batch: Message[] = [];
    while (batch.length < this.#options.batchSize && left.length > 0) {
      let best = 0;
      for (let i = 1; i < left.length; i++) if (this.#before(left[i], left[best], inFlight, noisy)) best = i;
      const [picked] = left.splice(best, 1) as [Message];
      batch.push(picked);
      inFlight.set(picked.group, (inFlight.get(picked.group) ?? 0) + 1);
    }
    return batch;
  }

  /** Quiet tenants' messages first, oldest first; then noisy tenants', the fewest in flight first. */
  #before(a: Message | undefined, b: Message | undefined, inFlight: Map<string, number>, noisy: Set<string>) {
    if (!a || !b) return false;
    const aNoisy = noisy.has(a.group);
    if (aNoisy !== noisy.has(b.group)) return !aNoisy;
    if (aNoisy) {
      const byLoad = (inFlight.get(a.group) ?? 0) - (inFlight.get(b.group) ?? 0);
      if (byLoad !== 0) return byLoad < 0;
    }
    return a.seq < b.seq;
  }
}

const toRecord = (message: Message): SQSRecord =>
  ({
    messageId: message.messageId,
    receiptHandle: message.receiptHandle,
    body: message.body,
    attributes: { ApproximateReceiveCount: String(message.receiveCount), MessageGroupId: message.group },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:local:000000000000:webhook-deliveries',
    awsRegion: 'local',
  }) as unknown as SQSRecord;
