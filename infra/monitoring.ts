import { Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IAlarm,
  type IMetric,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Operation, type Table } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, type MetricName, SERVICE_NAME } from '#platform/metrics.ts';
import type { FunctionName } from '#platform/routes.ts';
import { FUNCTION_ACCESS, type TableAction } from './function-access.ts';
import type { Settings } from './settings.ts';

/** The DynamoDB operation each granted action shows up under in CloudWatch. */
const OPERATION_OF: Record<TableAction, Operation> = {
  'dynamodb:GetItem': Operation.GET_ITEM,
  'dynamodb:BatchGetItem': Operation.BATCH_GET_ITEM,
  'dynamodb:PutItem': Operation.PUT_ITEM,
  'dynamodb:UpdateItem': Operation.UPDATE_ITEM,
  'dynamodb:DeleteItem': Operation.DELETE_ITEM,
};

/** Below this many webhook requests in 5 minutes, a rejection rate says nothing (a stray scanner). */
const WEBHOOK_MIN_REQUESTS = 20;
/** Below this many call attempts in a window, a failure rate says nothing (one busy line is not an outage). */
const CALL_FAILURE_MIN_ATTEMPTS = 10;
const CALL_WINDOW = Duration.minutes(15);
/** The same for SMS: a handful of undelivered messages to dead numbers is not an outage. */
const SMS_FAILURE_MIN_ATTEMPTS = 10;
/** Codes live minutes and people are slow: an hour smooths the approval rate without hiding an attack. */
const APPROVAL_WINDOW = Duration.hours(1);
const FIVE_MINUTES = Duration.minutes(5);

export interface MonitoringProps {
  /** The app routes. */
  api: RestApi;
  /** Plivo's webhooks, alone on their HTTP API (infra/webhook-api.ts). */
  webhookApi: HttpApi;
  functions: Record<FunctionName, IFunction>;
  table: Table;
  alarmEmail: string | undefined;
  thresholds: Settings['alarms'];
  removalPolicy: RemovalPolicy;
}

/**
 * Alarms to an encrypted SNS topic, and a small dashboard. Service metrics come from the functions through
 * Powertools EMF (lib/platform/metrics.ts): namespace VoiceOtp, dimension service=voice-otp.
 */
export class Monitoring extends Construct {
  readonly topic: Topic;
  readonly alarms: IAlarm[] = [];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const stack = Stack.of(this);

    // SNS encrypts with a customer-managed key so CloudWatch can be allowed to use it: the AWS managed
    // aws/sns key's policy cannot be changed, and CloudWatch alarms cannot publish to a topic under it.
    const cloudWatch = new ServicePrincipal('cloudwatch.amazonaws.com');
    const key = new Key(this, 'TopicKey', {
      description: 'voice-otp alarm topic encryption',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [cloudWatch],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    this.topic = new Topic(this, 'AlarmTopic', {
      displayName: 'voice-otp alarms',
      masterKey: key,
      enforceSSL: true,
    });
    // The topic's own policy (it enforces TLS) replaces SNS's default one, so CloudWatch must be let in.
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [cloudWatch],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));

    const service = (name: MetricName, extra: Record<string, string> = {}, period = FIVE_MINUTES) =>
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: name,
        dimensionsMap: { service: SERVICE_NAME, ...extra },
        statistic: 'Sum',
        period,
      });

    // API Gateway, both APIs: their 5xx include the functions' 502/503 (Plivo or DynamoDB unavailable).
    const apiErrors = new MathExpression({
      label: 'API 5xx (app and webhook APIs)',
      expression: 'FILL(app, 0) + FILL(webhooks, 0)',
      usingMetrics: {
        app: props.api.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
        webhooks: props.webhookApi.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
      },
      period: FIVE_MINUTES,
    });
    this.alarm('Api5xx', apiErrors, 5, 'The app and webhook APIs answered 5 or more 5xx in 5 minutes.');

    // Plivo's webhooks refused before or by the functions: throttled (429), from outside webhookAllowedCidrs
    // (403) or badly signed (403). Each is a call that may have failed for a real user.
    const webhookRejectionRate = this.webhookRejectionRate(props.webhookApi);
    this.alarm(
      'WebhookRejectionRate',
      webhookRejectionRate,
      props.thresholds.webhookRejectionRate,
      `${props.thresholds.webhookRejectionRate * 100}% or more of the requests to Plivo's webhooks (answer, hangup, message-status) ` +
        `were refused in 5 minutes (4xx or 429 on the webhook HTTP API; at least ${WEBHOOK_MIN_REQUESTS} requests): ` +
        'real calls may be failing. A flood of junk being throttled or refused: set webhookAllowedCidrs to ' +
        "Plivo's ranges. Plivo refused: check the webhook API's access logs by status, webhookAllowedCidrs (out " +
        'of date: 403 forbidden), answerRateLimit and hangupRateLimit (429), the Plivo auth token in its secret ' +
        'and PUBLIC_URL (403 invalid_signature). docs/deploying.md, "Webhook capacity".',
    );

    for (const [name, fn] of Object.entries(props.functions)) {
      // httpHandler turns every error into a response, so a Lambda error is a crash or a timeout.
      this.alarm(
        `${name}Errors`,
        fn.metricErrors({ period: FIVE_MINUTES }),
        1,
        `${name}: invocation errors.`,
      );
      this.alarm(`${name}Throttles`, fn.metricThrottles({ period: FIVE_MINUTES }), 1, `${name}: throttled.`);
    }

    const operations = [
      ...new Set(
        Object.values(FUNCTION_ACCESS).flatMap((access) =>
          access.table.map((action) => OPERATION_OF[action]),
        ),
      ),
    ];
    // Summed with FILL: DynamoDB publishes these only when they happen, and CDK's
    // metricSystemErrorsForOperations adds the raw series, which stays empty unless every operation has data.
    const sumOverOperations = (metricName: string, label: string) =>
      new MathExpression({
        label,
        expression: operations.map((operation) => `FILL(${operation.toLowerCase()}, 0)`).join(' + '),
        usingMetrics: Object.fromEntries(
          operations.map((operation) => [
            operation.toLowerCase(),
            props.table.metric(metricName, {
              dimensionsMap: { TableName: props.table.tableName, Operation: operation },
              statistic: 'Sum',
              period: FIVE_MINUTES,
            }),
          ]),
        ),
        period: FIVE_MINUTES,
      });
    const tableSystemErrors = sumOverOperations('SystemErrors', 'DynamoDB system errors');
    const tableThrottles = sumOverOperations('ThrottledRequests', 'DynamoDB throttled requests');
    this.alarm('TableSystemErrors', tableSystemErrors, 1, 'DynamoDB system errors.');
    this.alarm('TableThrottles', tableThrottles, 1, 'DynamoDB throttled requests.');

    // Calls that could not be placed or ended failed, against all attempts. FILL: a quiet window has no data.
    const attempts = 'FILL(placed, 0) + FILL(notPlaced, 0)';
    const callFailureRate = new MathExpression({
      label: 'Call failure rate',
      expression: `IF(${attempts} >= ${CALL_FAILURE_MIN_ATTEMPTS}, (FILL(notPlaced, 0) + FILL(failed, 0)) / (${attempts}), 0)`,
      usingMetrics: {
        placed: service('CallsPlaced', {}, CALL_WINDOW),
        notPlaced: service('CallsNotPlaced', {}, CALL_WINDOW),
        failed: service('CallsEnded', { CallStatus: 'failed' }, CALL_WINDOW),
      },
      period: CALL_WINDOW,
    });
    this.alarm(
      'CallFailureRate',
      callFailureRate,
      props.thresholds.callFailureRate,
      `More than ${props.thresholds.callFailureRate * 100}% of calls failed or were refused by Plivo in 15 minutes.`,
    );

    // SMS that Plivo refused or could not be reached for, or that its delivery reports say failed or were
    // undelivered, against all sends. Refusals at the send are counted at once; delivery failures within
    // minutes, so the window is the calls' one.
    const smsAttempts = 'FILL(smsSent, 0) + FILL(smsNotSent, 0)';
    const smsFailureRate = new MathExpression({
      label: 'SMS failure rate',
      expression: `IF(${smsAttempts} >= ${SMS_FAILURE_MIN_ATTEMPTS}, (FILL(smsNotSent, 0) + FILL(smsFailed, 0)) / (${smsAttempts}), 0)`,
      usingMetrics: {
        smsSent: service('MessagesSent', {}, CALL_WINDOW),
        smsNotSent: service('MessagesNotSent', {}, CALL_WINDOW),
        smsFailed: service('MessagesFailed', {}, CALL_WINDOW),
      },
      period: CALL_WINDOW,
    });
    this.alarm(
      'SmsFailureRate',
      smsFailureRate,
      props.thresholds.smsFailureRate,
      `More than ${props.thresholds.smsFailureRate * 100}% of SMS were refused by Plivo or reported failed or ` +
        'undelivered in 15 minutes: check Plivo (sender number, 10DLC or sender-ID registration, geo permissions).',
    );

    // Toll fraud's shape: many calls started, few codes ever checked right.
    const approvalRate = new MathExpression({
      label: 'Approval rate (checks approved / verifications started)',
      expression: `IF(FILL(started, 0) >= ${props.thresholds.approvalMinStarted}, FILL(approved, 0) / FILL(started, 0), 1)`,
      usingMetrics: {
        started: service('VerificationsStarted', {}, APPROVAL_WINDOW),
        approved: service('ChecksApproved', {}, APPROVAL_WINDOW),
      },
      period: APPROVAL_WINDOW,
    });
    this.alarm(
      'LowApprovalRate',
      approvalRate,
      props.thresholds.approvalRate,
      `Fewer than ${props.thresholds.approvalRate * 100}% of verifications approved in an hour with at least ` +
        `${props.thresholds.approvalMinStarted} started: possible toll fraud (calls to premium numbers) or SMS pumping.`,
      ComparisonOperator.LESS_THAN_THRESHOLD,
    );

    // Abuse defences at work: each is a decision an operator should look at (RUNBOOK.md).
    this.alarm(
      'FraudGuardPaused',
      service('FraudGuardPaused'),
      1,
      'The fraud guard paused verifications to a number range (for one API key or for all): codes sent there ' +
        'went unapproved. See RUNBOOK.md "FraudGuardPaused".',
    );
    this.alarm(
      'DailyCapReached',
      service('DailyCapReached'),
      1,
      "The service's daily call or SMS cap was reached: every send is refused (503 daily_call_cap_reached) " +
        'until UTC midnight. See RUNBOOK.md "DailyCapReached".',
    );

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `${stack.stackName}-voice-otp`,
      defaultInterval: Duration.hours(24),
    });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: "# voice-otp\nVerifications, calls and errors. Alarms go to the stack's SNS topic.",
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Verifications',
        left: [
          service('VerificationsStarted'),
          service('ChecksApproved'),
          service('ChecksRefused'),
          service('RateLimited'),
        ],
        width: 12,
      }),
      new GraphWidget({
        title: 'Calls',
        left: [
          service('CallsPlaced'),
          service('CallsNotPlaced'),
          service('CallsEnded', { CallStatus: 'completed' }),
          service('CallsEnded', { CallStatus: 'failed' }),
          service('CallsEnded', { CallStatus: 'no-answer' }),
          service('CallsEnded', { CallStatus: 'busy' }),
          service('CallsEnded', { CallStatus: 'machine' }),
        ],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'SMS',
        left: [
          service('MessagesSent'),
          service('MessagesNotSent'),
          service('MessagesDelivered'),
          service('MessagesFailed'),
        ],
        width: 12,
      }),
      new GraphWidget({ title: 'SMS failure rate', left: [smsFailureRate], width: 12 }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Fallbacks (the other channel, once per verification)',
        left: [
          service('FallbacksSent', { Channel: 'sms' }),
          service('FallbacksSent', { Channel: 'voice' }),
          // One line per reason (an error code), whichever have occurred.
          new MathExpression({
            expression: `SEARCH('{${METRICS_NAMESPACE},Reason,service} MetricName="FallbacksRefused"', 'Sum', 300)`,
            label: 'FallbacksRefused',
            period: FIVE_MINUTES,
          }),
        ],
        width: 24,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'APIs (app routes, webhooks)',
        left: [
          props.api.metricCount({ period: FIVE_MINUTES }),
          props.api.metricClientError({ period: FIVE_MINUTES }),
          props.webhookApi.metricCount({ period: FIVE_MINUTES, statistic: 'Sum' }),
          props.webhookApi.metricClientError({ period: FIVE_MINUTES, statistic: 'Sum' }),
          apiErrors,
        ],
        right: [
          props.api.metricLatency({ period: FIVE_MINUTES, statistic: 'p99' }),
          props.webhookApi.metricLatency({ period: FIVE_MINUTES, statistic: 'p99' }),
        ],
        width: 12,
      }),
      new GraphWidget({
        title: 'Function duration p99 (ms)',
        left: Object.values(props.functions).map((fn) =>
          fn.metricDuration({ period: FIVE_MINUTES, statistic: 'p99' }),
        ),
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Rates',
        left: [callFailureRate, smsFailureRate, approvalRate, webhookRejectionRate],
        width: 12,
      }),
      new AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 12 }),
    );
  }

  /**
   * Refused webhook requests over all webhook requests, in 5 minutes: the webhook HTTP API's 4xx (429
   * throttles included) over its requests. It serves nothing but Plivo's webhooks, so its API-wide metrics are
   * theirs.
   */
  private webhookRejectionRate(webhookApi: HttpApi): MathExpression {
    return new MathExpression({
      label: 'Webhook rejection rate',
      expression: `IF(FILL(served, 0) >= ${WEBHOOK_MIN_REQUESTS}, FILL(refused, 0) / FILL(served, 0), 0)`,
      usingMetrics: {
        refused: webhookApi.metricClientError({ period: FIVE_MINUTES, statistic: 'Sum' }),
        served: webhookApi.metricCount({ period: FIVE_MINUTES, statistic: 'Sum' }),
      },
      period: FIVE_MINUTES,
    });
  }

  /** An alarm to the topic (and the dashboard's list); constructs that own their metrics add theirs (infra/events.ts). */
  alarm(
    id: string,
    metric: IMetric,
    threshold: number,
    description: string,
    comparisonOperator = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  ): void {
    const alarm = new Alarm(this, id, {
      metric,
      threshold,
      comparisonOperator,
      evaluationPeriods: 1,
      alarmDescription: description,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    alarm.addOkAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}
