import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MAX_DELIVERY_ATTEMPTS, RETRY_DELAYS_SECONDS } from '#events/webhook-delivery.ts';
import { acknowledge } from './nag.ts';

export interface WebhookQueueProps {
  /** The delivery function: consumes the queue and sets each failed message's retry delay on it. */
  deliver: IFunction & { addEnvironment(key: string, value: string): unknown };
  /** The events function: queues one delivery per subscribed outcome event. */
  producer: IFunction & { addEnvironment(key: string, value: string): unknown };
  /** The delivery function's timeout: a message in flight stays invisible well beyond it. */
  deliverTimeout: Duration;
  /** Most deliver invocations at once: a batch of hanging endpoints holds one for DELIVERY_TIMEOUT_MS. */
  maxConcurrency: number;
  removalPolicy: RemovalPolicy;
}

/** Every retry's delay added up: a message must outlive the whole schedule in the queue. */
const SCHEDULE_SECONDS = RETRY_DELAYS_SECONDS.reduce((sum: number, seconds) => sum + seconds, 0);

/**
 * App webhook deliveries in SQS, retried by SQS itself (lib/events/webhook-delivery.ts): the delivery function sets a
 * failed message's visibility to the schedule's next delay and reports it failed; the redrive policy moves
 * a message to the DLQ once it has been received MAX_DELIVERY_ATTEMPTS times. An alarm on the DLQ is added
 * by the stack (Monitoring).
 */
export class WebhookQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetters: Queue;

  constructor(scope: Construct, id: string, props: WebhookQueueProps) {
    super(scope, id);
    this.deadLetters = new Queue(this, 'DeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: props.removalPolicy,
    });
    // A DLQ has no DLQ of its own.
    acknowledge(this.deadLetters, 'AwsSolutions-SQS3');
    this.queue = new Queue(this, 'Deliveries', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // The schedule (about 27.6 h) plus a day's margin, under SQS's 14-day maximum.
      retentionPeriod: Duration.seconds(SCHEDULE_SECONDS + 86_400),
      // Lambda's advice for SQS event sources: six times the function's timeout.
      visibilityTimeout: Duration.seconds(props.deliverTimeout.toSeconds() * 6),
      deadLetterQueue: { queue: this.deadLetters, maxReceiveCount: MAX_DELIVERY_ATTEMPTS },
      removalPolicy: props.removalPolicy,
    });
    // The event source grants receive, delete and ChangeMessageVisibility on this queue alone.
    props.deliver.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: 10,
        reportBatchItemFailures: true,
        maxConcurrency: props.maxConcurrency,
      }),
    );
    props.deliver.addEnvironment('WEBHOOK_QUEUE_URL', this.queue.queueUrl);
    this.queue.grantSendMessages(props.producer);
    props.producer.addEnvironment('WEBHOOK_QUEUE_URL', this.queue.queueUrl);
  }
}
