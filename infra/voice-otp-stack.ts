import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { AttributeType, BillingMode, StreamViewType, Table } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { HANG_UP_PLIVO_WAITS } from '#channels/plivo-calls.ts';
import { DELIVERY_TIMEOUT_MS } from '#events/webhook-delivery.ts';
import { METRICS_NAMESPACE, type MetricName, SERVICE_NAME } from '#platform/metrics.ts';
import type { FunctionName } from '#platform/routes.ts';
import { TABLE } from '#store/table.ts';
import { VoiceOtpApi } from './api.ts';
import { bindAccess } from './bind-access.ts';
import { EVENTS_BATCH_SIZE, OutcomeEvents } from './events.ts';
import { FUNCTION_ACCESS } from './function-access.ts';
import { Monitoring } from './monitoring.ts';
import { acknowledge } from './nag.ts';
import { ServiceFunction } from './service-function.ts';
import type { Settings } from './settings.ts';
import { TenantsPolicy } from './tenants-policy.ts';
import { ApiFirewall } from './waf.ts';
import { PlivoWebhookApi } from './webhook-api.ts';
import type { WebhookFunction } from './webhook-capacity.ts';
import { WebhookQueue } from './webhook-queue.ts';

export interface VoiceOtpStackProps extends StackProps {
  settings: Settings;
}

interface FunctionSizing {
  description: string;
  memorySize: number;
  timeout: Duration;
}

/**
 * Memory buys CPU on Lambda, and cold starts (bundle parse, key derivation) are CPU-bound, so even light
 * handlers get 256 MB. Timeouts cover the worst case of the AWS time budgets (lib/platform/aws-budget.ts): a cold
 * start whose secret reads time out (2.1 s) followed by a store call that does (3.3 s), plus the work, so a
 * request always ends in our own 503 rather than the Lambda's timeout; and they stay far below API
 * Gateway's 29 s integration timeout. test/infra/store-budget.test.ts holds them to that arithmetic.
 */
export function functionSizing(settings: Settings): Record<FunctionName, FunctionSizing> {
  return {
    send: {
      description: 'POST /v1/verifications: starts a verification and places the call',
      // The busiest bundle (phone metadata, both secrets, DynamoDB): 512 MB keeps its cold start short.
      memorySize: 512,
      // Waits up to PLIVO_TIMEOUT_MS for Plivo, plus cold start, secrets, the rate-limit counters and writes.
      timeout: Duration.seconds(Math.ceil(settings.service.plivo.timeoutMs / 1000) + 7),
    },
    verify: {
      description: 'Check, status and cancel: DynamoDB only, never telephony',
      memorySize: 256,
      timeout: Duration.seconds(7),
    },
    answer: {
      description: "Plivo's answer webhook: checks the signature, reads the status, speaks a pending code",
      // Plivo is waiting with a caller on the line: one read, and the same fast cold start matters.
      memorySize: 256,
      timeout: Duration.seconds(7),
    },
    hangup: {
      description:
        "Plivo's hangup and SMS delivery-report webhooks: check the signature, record the outcome, send a fallback",
      memorySize: 256,
      // A fallback waits up to PLIVO_TIMEOUT_MS for Plivo, like a send.
      timeout: Duration.seconds(Math.ceil(settings.service.plivo.timeoutMs / 1000) + 7),
    },
    events: {
      description:
        "The table's stream: counts approvals for the fraud guard, hangs up canceled calls, puts outcome events",
      memorySize: 256,
      // A batch of EVENTS_BATCH_SIZE records, each of which may wait for Plivo HANG_UP_PLIVO_WAITS times one
      // after the other (a hang-up tries the call request, then looks the answered call up and ends it), and
      // for the store and EventBridge.
      timeout: Duration.seconds(
        EVENTS_BATCH_SIZE * (HANG_UP_PLIVO_WAITS * Math.ceil(settings.service.plivo.timeoutMs / 1000) + 4) +
          7,
      ),
    },
    deliver: {
      description: 'App webhooks from the delivery queue: read the endpoint, sign, post; SQS retries',
      memorySize: 256,
      // A batch's deliveries run side by side, each waiting up to DELIVERY_TIMEOUT_MS for the app.
      timeout: Duration.seconds(Math.ceil(DELIVERY_TIMEOUT_MS / 1000) + 10),
    },
  };
}

/**
 * The whole service in one stack: table and its stream, secrets, six functions, the REST API for the app
 * routes with its optional WAF, the HTTP API for Plivo's webhooks, the outcome events' bus, alarms.
 */
export class VoiceOtpStack extends Stack {
  readonly table: Table;
  readonly functions: Record<FunctionName, ServiceFunction>;
  readonly webhooks: WebhookQueue;
  readonly api: VoiceOtpApi;
  readonly webhookApi: PlivoWebhookApi;
  readonly events: OutcomeEvents;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: VoiceOtpStackProps) {
    super(scope, id, props);
    const { settings } = props;
    const removalPolicy = settings.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const logRetention = settings.logRetentionDays as RetentionDays;

    this.table = new Table(this, 'Table', {
      partitionKey: { name: TABLE.partitionKey, type: AttributeType.STRING },
      timeToLiveAttribute: TABLE.ttlAttribute,
      billingMode: BillingMode.PAY_PER_REQUEST,
      // Read by the events function (outcome events, approvals for the fraud guard, hang-ups).
      stream: StreamViewType.NEW_AND_OLD_IMAGES,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: settings.deletionProtection,
      removalPolicy,
    });

    const secrets = {
      // The operator stores the real credentials after deployment (docs/deploying.md); until then the placeholder makes
      // Plivo refuse calls and webhook signatures fail, and nothing secret is in the template.
      plivo: new Secret(this, 'PlivoCredentials', {
        description: 'voice-otp: Plivo credentials {"authId","authToken"}; set the real values after deploy',
        generateSecretString: {
          secretStringTemplate: JSON.stringify({ authId: 'REPLACE_WITH_PLIVO_AUTH_ID' }),
          generateStringKey: 'authToken',
          excludePunctuation: true,
        },
        removalPolicy,
      }),
      // Shaped as lib/platform/keyring.ts reads it; Secrets Manager generates the key material itself.
      keyRing: new Secret(this, 'KeyRing', {
        description:
          'voice-otp: key ring for code hashes, sealed tokens and phone pseudonyms (lib/platform/keyring.ts)',
        generateSecretString: {
          secretStringTemplate: JSON.stringify({ current: 'k1' }),
          generateStringKey: 'k1',
          passwordLength: 64,
          excludePunctuation: true,
        },
        removalPolicy,
      }),
    };
    acknowledge(secrets.plivo, 'AwsSolutions-SMG4');
    acknowledge(secrets.keyRing, 'AwsSolutions-SMG4');

    const sizing = functionSizing(settings);
    this.functions = byFunction((name) => {
      const fn = new ServiceFunction(this, `${capitalize(name)}Function`, {
        name,
        ...sizing[name],
        environment: {
          ...settings.functionEnvironment,
          POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
          POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
          POWERTOOLS_LOG_LEVEL: settings.logLevel,
        },
        logRetention,
        removalPolicy,
        tracing: settings.tracing,
        allowedCountries: settings.service.abuse.allowedCountries,
        // Plivo's webhooks keep their concurrency through a flood of sends (SCALING.md 3.2), when set.
        reservedConcurrency: isWebhookFunction(name) ? settings.webhookReservedConcurrency : undefined,
      });
      bindAccess(fn.handler, FUNCTION_ACCESS[name], { table: this.table, secrets });
      // Only tracing, and the events function's stream (dynamodb:ListStreams), need a wildcard resource:
      // those actions have no resource-level permissions.
      if (settings.tracing || name === 'events') acknowledge(fn.role, 'AwsSolutions-IAM5[Resource::*]');
      return fn;
    });
    const handlers = byFunction<IFunction>((name) => this.functions[name].handler);
    this.events = new OutcomeEvents(this, 'Events', {
      fn: this.functions.events,
      table: this.table,
      removalPolicy,
    });

    this.api = new VoiceOtpApi(this, 'Api', { functions: handlers, settings, logRetention, removalPolicy });
    acknowledge(this.api.restApi, 'AwsSolutions-APIG4', 'AwsSolutions-COG4');
    // Plivo's webhooks where a request costs least (infra/webhook-api.ts weighs the choice). Every URL given
    // to Plivo starts with its endpoint, and the signatures are checked against it.
    this.webhookApi = new PlivoWebhookApi(this, 'WebhookApi', {
      functions: { answer: handlers.answer, hangup: handlers.hangup },
      settings,
      logRetention,
      removalPolicy,
    });
    for (const fn of Object.values(this.functions))
      fn.handler.addEnvironment('PUBLIC_URL', this.webhookApi.url);
    // Present only with apiGatewayLogsRole=true.
    const logsRole = this.api.restApi.node.tryFindChild('CloudWatchRole');
    if (logsRole) {
      acknowledge(
        logsRole,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      );
    }

    if (settings.waf.enabled) {
      new ApiFirewall(this, 'Firewall', {
        stage: this.api.restApi.deploymentStage,
        rateLimitPerFiveMinutes: settings.waf.rateLimitPerFiveMinutes,
      });
    } else {
      acknowledge(this.api.restApi.deploymentStage, 'AwsSolutions-APIG3');
    }

    this.webhooks = new WebhookQueue(this, 'Webhooks', {
      deliver: this.functions.deliver.handler,
      producer: this.functions.events.handler,
      deliverTimeout: sizing.deliver.timeout,
      maxConcurrency: settings.deliverMaxConcurrency,
      removalPolicy,
    });

    this.monitoring = new Monitoring(this, 'Monitoring', {
      api: this.api.restApi,
      webhookApi: this.webhookApi.httpApi,
      functions: handlers,
      table: this.table,
      alarmEmail: settings.alarmEmail,
      thresholds: settings.alarms,
      whatsapp: settings.service.whatsapp !== undefined,
      removalPolicy,
    });
    this.events.addAlarms(this.monitoring);

    this.monitoring.alarm(
      'WebhookDeadLetters',
      this.webhooks.deadLetters.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      1,
      'App webhook deliveries gave up after every retry (about 27.6 h) and wait in the DLQ: an app endpoint is ' +
        'down, refuses our signature or resolves to a refused address (logs: "Webhook delivery gave up"). ' +
        'Redrive them from the console once it is fixed, or purge. docs/events-and-webhooks.md.',
    );
    this.monitoring.alarm(
      'WebhookSecretUnreadable',
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: 'WebhookSecretUnreadable' satisfies MetricName,
        dimensionsMap: { service: SERVICE_NAME },
        statistic: 'Sum',
        period: Duration.minutes(5),
      }),
      1,
      'An app webhook\'s signing secret opens under no key of the key ring (logs: "Webhook secret does not ' +
        'open", with the API key id and key id): its deliveries fail and wait for their retries, then the DLQ. ' +
        'A key removed by hand before its secrets were resealed: put it back, or ask the app to PUT /v1/webhook ' +
        'again. RUNBOOK "WebhookSecretUnreadable".',
    );

    new CfnOutput(this, 'ApiUrl', {
      value: this.api.publicUrl,
      description: 'Base URL of the app routes (they start with /v1)',
    });
    new CfnOutput(this, 'WebhookUrl', {
      value: this.webhookApi.url,
      description: "Base URL of Plivo's webhooks (PUBLIC_URL): the functions give Plivo URLs under it",
    });
    new CfnOutput(this, 'ApiKeyId', {
      value: this.api.apiKey.keyId,
      description: 'The first tenant’s API key: aws apigateway get-api-key --include-value --api-key <id>',
    });
    // What npm run tenants reads (ops/tenants.ts): the plan its keys go on, and the limits tenants are held to.
    new CfnOutput(this, 'UsagePlanId', {
      value: this.api.usagePlan.usagePlanId,
      description: 'The app backends’ usage plan: every API key on it is a tenant (npm run tenants)',
    });
    const tenants = new TenantsPolicy(this, 'Tenants', {
      usagePlan: this.api.usagePlan,
      table: this.table,
      keyRing: secrets.keyRing,
    });
    new CfnOutput(this, 'TenantsPolicyArn', {
      value: tenants.policy.managedPolicyArn,
      description: 'Attach to the role you run npm run tenants -- --stack with: all it needs, nothing more',
    });
    new CfnOutput(this, 'ApiKeyMaxPerDay', { value: String(settings.service.abuse.apiKeyMaxPerDay) });
    new CfnOutput(this, 'Channels', { value: settings.service.channels.join(',') });
    new CfnOutput(this, 'CounterShards', { value: String(settings.service.abuse.counterShards) });
    new CfnOutput(this, 'PlivoSecretArn', {
      value: secrets.plivo.secretArn,
      description: 'Put {"authId","authToken"} here after deploying',
    });
    new CfnOutput(this, 'KeyRingSecretArn', { value: secrets.keyRing.secretArn });
    // What `npm run preflight` checks against the Plivo account: each caller ID, `*` the default.
    new CfnOutput(this, 'PlivoNumbers', {
      value: JSON.stringify(settings.service.plivo.fromNumbers),
      description: 'Caller IDs by destination country ("*": the default), as the functions use them',
    });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });
    // What the operator commands and RUNBOOK.md read: key rotation's safe time, each function's logs.
    new CfnOutput(this, 'CodeTtlSeconds', { value: String(settings.service.codeTtlSeconds) });
    new CfnOutput(this, 'RetentionSeconds', { value: String(settings.service.retentionSeconds) });
    for (const [name, fn] of Object.entries(this.functions)) {
      new CfnOutput(this, `${name[0]?.toUpperCase()}${name.slice(1)}LogGroup`, {
        value: fn.logGroup.logGroupName,
      });
    }
    new CfnOutput(this, 'EventBusName', {
      value: this.events.bus.eventBusName,
      description: 'Outcome events (source voice-otp): route them with EventBridge rules',
    });
    const customDomain = this.api.restApi.domainName;
    if (customDomain) {
      new CfnOutput(this, 'CustomDomainTarget', {
        value: customDomain.domainNameAliasDomainName,
        description: 'Point a CNAME (or Route 53 alias) for the custom domain at this host',
      });
    }
  }
}

/** One value per function, in FUNCTION_ACCESS order. */
function byFunction<T>(make: (name: FunctionName) => T): Record<FunctionName, T> {
  const names = Object.keys(FUNCTION_ACCESS) as FunctionName[];
  return Object.fromEntries(names.map((name) => [name, make(name)])) as Record<FunctionName, T>;
}

const isWebhookFunction = (name: FunctionName): name is WebhookFunction =>
  name === 'answer' || name === 'hangup';

const capitalize = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);
