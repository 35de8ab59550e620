import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { ComparisonOperator } from 'aws-cdk-lib/aws-cloudwatch';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { FilterCriteria, FilterRule, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { VERIFICATION_PREFIX } from '#store/table.ts';
import type { Monitoring } from './monitoring.ts';
import { acknowledge } from './nag.ts';
import type { ServiceFunction } from './service-function.ts';

/** Stream records per invocation: small, so a batch of hang-ups (each may wait for Plivo) stays short. */
export const EVENTS_BATCH_SIZE = 10;
/**
 * How long the mapping gathers records before invoking: at low volume most invocations would carry one
 * record, and each costs a request and its own EventBridge call. A second's delay on an outcome event, an
 * approval count or a hang-up is well within what they promise.
 */
export const EVENTS_BATCHING_WINDOW = Duration.seconds(1);
/** Tries of a failing record (bisected down to itself) before it goes to the failure queue. */
export const EVENTS_RETRY_ATTEMPTS = 8;
/** An iterator age above this means outcome events, approvals counted and hang-ups are running late. */
export const ITERATOR_AGE_ALARM = Duration.minutes(5);

export interface OutcomeEventsProps {
  fn: ServiceFunction;
  table: Table;
  removalPolicy: RemovalPolicy;
}

/**
 * The table's stream into the events function, and where its outcome events go. The event source mapping
 * reports partial batch failures (Powertools' batch utility answers which records failed), bisects a failing
 * batch so one poisoned record cannot hold the others back, retries a record a bounded number of times and
 * then sends its description (not its images) to a failure queue with an alarm; a second alarm watches the
 * stream's iterator age.
 */
export class OutcomeEvents extends Construct {
  readonly bus: EventBus;
  readonly failures: Queue;
  readonly #fn: ServiceFunction;

  constructor(scope: Construct, id: string, props: OutcomeEventsProps) {
    super(scope, id);
    this.#fn = props.fn;
    this.bus = new EventBus(this, 'Bus', { description: 'voice-otp outcome events (source voice-otp)' });
    // Always destroyed with the stack, whatever removalPolicy says: it holds no data, and its name is fixed (an
    // event bus must be named), so a bus left behind would make the next deploy under this stack name fail.
    this.bus.applyRemovalPolicy(RemovalPolicy.DESTROY);
    this.bus.grantPutEventsTo(props.fn.handler);
    props.fn.handler.addEnvironment('EVENT_BUS_NAME', this.bus.eventBusName);

    this.failures = new Queue(this, 'Failures', {
      // The stream keeps records 24 hours; their descriptions here outlive that for an operator to look at.
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy: props.removalPolicy,
    });
    acknowledge(this.failures, 'AwsSolutions-SQS3');

    props.fn.handler.addEventSource(
      new DynamoEventSource(props.table, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: EVENTS_BATCH_SIZE,
        maxBatchingWindow: EVENTS_BATCHING_WINDOW,
        // Verification items only (lib/store/table.ts isVerificationKey): records filtered out are not billed.
        filters: [
          FilterCriteria.filter({
            dynamodb: { Keys: { pk: { S: FilterRule.beginsWith(VERIFICATION_PREFIX) } } },
          }),
        ],
        bisectBatchOnError: true,
        retryAttempts: EVENTS_RETRY_ATTEMPTS,
        reportBatchItemFailures: true,
        onFailure: new SqsDlq(this.failures),
        // Within the stream's 24 hours: a record this old goes to the failure queue rather than be lost.
        maxRecordAge: Duration.hours(23),
      }),
    );
  }

  addAlarms(monitoring: Monitoring): void {
    monitoring.alarm(
      'EventsFailedRecords',
      this.failures.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      1,
      'Stream records the events function gave up on (outcome events, approvals or hang-ups missed).',
    );
    monitoring.alarm(
      'EventsIteratorAge',
      this.#fn.handler.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(5) }),
      ITERATOR_AGE_ALARM.toMilliseconds(),
      `The events function is more than ${ITERATOR_AGE_ALARM.toMinutes()} minutes behind the table's stream.`,
      ComparisonOperator.GREATER_THAN_THRESHOLD,
    );
  }
}
