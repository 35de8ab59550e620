import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, test } from 'vitest';
import { MAX_DELIVERY_ATTEMPTS } from '#events/webhook-delivery.ts';
import { type FunctionName, ROUTES } from '#platform/routes.ts';
import { TABLE } from '#store/table.ts';
import { APP_ROUTES, WEBHOOK_ROUTES } from '../../infra/api.ts';
import { FUNCTION_ACCESS } from '../../infra/function-access.ts';
import { synthTemplate } from './synth.ts';
import { apiResourcePaths, findDependencyCycle, logicalIdAt, ofType, resources } from './template.ts';

const FUNCTIONS: FunctionName[] = ['send', 'verify', 'answer', 'hangup', 'events', 'deliver'];
const pathOf = (name: FunctionName) => `VoiceOtp/${name[0]?.toUpperCase()}${name.slice(1)}Function`;

let template: Template;
const id = (path: string, type: string) => logicalIdAt(template, path, type);
const props = (logicalId: string) => resources(template)[logicalId]?.Properties ?? {};

beforeAll(() => {
  template = synthTemplate();
});

describe('functions', () => {
  test('six Node 24 functions on arm64, ESM bundles with source maps enabled', () => {
    const functions = ofType(template, 'AWS::Lambda::Function');
    expect(functions).toHaveLength(6);
    for (const name of FUNCTIONS) {
      const fn = props(id(`${pathOf(name)}/Handler`, 'AWS::Lambda::Function'));
      expect(fn).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        Environment: { Variables: expect.objectContaining({ NODE_OPTIONS: '--enable-source-maps' }) },
      });
    }
  });

  test('send waits for Plivo: more memory and a timeout above PLIVO_TIMEOUT_MS; hangup too, for a fallback', () => {
    expect(props(id(`${pathOf('send')}/Handler`, 'AWS::Lambda::Function'))).toMatchObject({
      MemorySize: 512,
      Timeout: 11,
    });
    expect(props(id(`${pathOf('hangup')}/Handler`, 'AWS::Lambda::Function'))).toMatchObject({
      MemorySize: 256,
      Timeout: 11,
    });
    // events: a batch of 10 records, each hang-up up to 7 Plivo waits of 4 s in a row (the request's DELETE,
    // the live-call list, 4 rounds of lookups, the call's DELETE), plus the store and EventBridge.
    expect(props(id(`${pathOf('events')}/Handler`, 'AWS::Lambda::Function'))).toMatchObject({ Timeout: 327 });
    for (const name of ['verify', 'answer'] as const) {
      expect(props(id(`${pathOf(name)}/Handler`, 'AWS::Lambda::Function'))).toMatchObject({
        MemorySize: 256,
        Timeout: 7,
      });
    }
  });

  test('each function logs to its own log group with a retention', () => {
    for (const name of FUNCTIONS) {
      const logGroup = id(`${pathOf(name)}/Logs`, 'AWS::Logs::LogGroup');
      expect(props(logGroup)).toMatchObject({ RetentionInDays: 30 });
      expect(props(id(`${pathOf(name)}/Handler`, 'AWS::Lambda::Function'))).toMatchObject({
        LoggingConfig: { LogGroup: { Ref: logGroup } },
      });
    }
    for (const [, logGroup] of ofType(template, 'AWS::Logs::LogGroup')) {
      expect(logGroup.Properties?.RetentionInDays).toBe(30);
    }
  });

  test('environment: what lib/platform/config.ts and lib/platform/runtime.ts read, and never a secret value', () => {
    const common = {
      APP_NAME: 'Voice OTP',
      CODE_LENGTH: '6',
      CODE_TTL_SECONDS: '300',
      MAX_ATTEMPTS: '5',
      RETENTION_SECONDS: '86400',
      DEFAULT_LOCALE: 'en-US',
      PLIVO_FROM_NUMBER: expect.stringMatching(/^\+\d+$/),
      PLIVO_TIMEOUT_MS: '4000',
      RING_TIMEOUT_SECONDS: '30',
      CALL_TIME_LIMIT_SECONDS: '120',
      MAX_REPEATS: '3',
      REQUIRE_KEYPRESS: 'false',
      POWERTOOLS_SERVICE_NAME: 'voice-otp',
      POWERTOOLS_METRICS_NAMESPACE: 'VoiceOtp',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      PUBLIC_URL: expect.anything(),
      // Unset: every source may call the webhooks (their signatures still decide).
      WEBHOOK_ALLOWED_CIDRS: '',
    };
    const expectedIds: Record<FunctionName, string[]> = {
      send: ['TABLE_NAME', 'KEYRING_SECRET_ID', 'PLIVO_SECRET_ID'],
      verify: ['TABLE_NAME', 'KEYRING_SECRET_ID'],
      answer: ['TABLE_NAME', 'KEYRING_SECRET_ID', 'PLIVO_SECRET_ID'],
      hangup: ['TABLE_NAME', 'KEYRING_SECRET_ID', 'PLIVO_SECRET_ID'],
      events: ['TABLE_NAME', 'PLIVO_SECRET_ID'],
      deliver: ['TABLE_NAME', 'KEYRING_SECRET_ID'],
    };
    for (const name of FUNCTIONS) {
      const variables = (
        props(id(`${pathOf(name)}/Handler`, 'AWS::Lambda::Function')) as {
          Environment: { Variables: Record<string, unknown> };
        }
      ).Environment.Variables;
      expect(variables).toMatchObject(common);
      const resourceIds = ['TABLE_NAME', 'KEYRING_SECRET_ID', 'PLIVO_SECRET_ID'].filter(
        (key) => key in variables,
      );
      expect(resourceIds, name).toEqual(expectedIds[name]);
      expect(Object.keys(variables).filter((key) => /TOKEN|PASSWORD|AUTH_ID|^KEYRING$/.test(key))).toEqual(
        [],
      );
    }
  });

  test("PUBLIC_URL is the webhook HTTP API's endpoint, for every function, and the template has no cycle", () => {
    const webhookApi = id('VoiceOtp/WebhookApi/Api/Resource', 'AWS::ApiGatewayV2::Api');
    for (const name of FUNCTIONS) {
      const variables = (
        props(id(`${pathOf(name)}/Handler`, 'AWS::Lambda::Function')) as {
          Environment: { Variables: Record<string, unknown> };
        }
      ).Environment.Variables;
      // https://<api id>.execute-api.<region>.<suffix>: the $default stage adds no path.
      expect(variables.PUBLIC_URL, name).toEqual({ 'Fn::GetAtt': [webhookApi, 'ApiEndpoint'] });
    }
    expect(findDependencyCycle(template)).toBeUndefined();
  });
});

describe('least privilege', () => {
  /** action → the resources it is allowed on, for one function's role. */
  function permissions(name: FunctionName): Record<string, string[]> {
    const role = id(`${pathOf(name)}/Role`, 'AWS::IAM::Role');
    const granted: Record<string, string[]> = {};
    for (const [, policy] of ofType(template, 'AWS::IAM::Policy')) {
      const p = policy.Properties as {
        Roles: Array<{ Ref: string }>;
        PolicyDocument: {
          Statement: Array<{ Effect: string; Action: string | string[]; Resource: unknown }>;
        };
      };
      if (!p.Roles.some((r) => r.Ref === role)) continue;
      for (const statement of p.PolicyDocument.Statement) {
        expect(statement.Effect).toBe('Allow');
        for (const action of [statement.Action].flat()) {
          const targets = [statement.Resource].flat().map((resource) => JSON.stringify(resource));
          granted[action] = [...(granted[action] ?? []), ...targets].sort();
        }
      }
    }
    return granted;
  }

  test('each function may do exactly its job, on exactly its table and secrets', () => {
    const table = JSON.stringify({ 'Fn::GetAtt': [id('VoiceOtp/Table', 'AWS::DynamoDB::Table'), 'Arn'] });
    const keyRing = JSON.stringify({ Ref: id('VoiceOtp/KeyRing', 'AWS::SecretsManager::Secret') });
    const plivo = JSON.stringify({ Ref: id('VoiceOtp/PlivoCredentials', 'AWS::SecretsManager::Secret') });
    const ownLogs = (name: FunctionName) =>
      JSON.stringify({ 'Fn::GetAtt': [id(`${pathOf(name)}/Logs`, 'AWS::Logs::LogGroup'), 'Arn'] });
    const base = (name: FunctionName) => ({
      'logs:CreateLogStream': [ownLogs(name)],
      'logs:PutLogEvents': [ownLogs(name)],
      // X-Ray has no resource-level permissions.
      'xray:PutTraceSegments': ['"*"'],
      'xray:PutTelemetryRecords': ['"*"'],
    });
    const sorted = (values: string[]) => [...values].sort();

    expect(permissions('send')).toEqual({
      ...base('send'),
      'dynamodb:GetItem': [table],
      'dynamodb:BatchGetItem': [table],
      'dynamodb:PutItem': [table],
      'dynamodb:UpdateItem': [table],
      'dynamodb:DeleteItem': [table],
      'secretsmanager:GetSecretValue': sorted([keyRing, plivo]),
    });
    expect(permissions('verify')).toEqual({
      ...base('verify'),
      'dynamodb:GetItem': [table],
      // Check by phone during a key rotation reads the pointers under both pseudonyms at once.
      'dynamodb:BatchGetItem': [table],
      'dynamodb:UpdateItem': [table],
      // The API key's webhook endpoint: set.
      'dynamodb:PutItem': [table],
      // Erasure deletes a phone's verifications and pointers; DELETE /v1/webhook the endpoint.
      'dynamodb:DeleteItem': [table],
      'secretsmanager:GetSecretValue': [keyRing],
    });
    expect(permissions('answer')).toEqual({
      ...base('answer'),
      'dynamodb:GetItem': [table],
      'secretsmanager:GetSecretValue': sorted([keyRing, plivo]),
    });
    expect(permissions('hangup')).toEqual({
      ...base('hangup'),
      // A fallback obeys the abuse rules: the fraud guard's items, the rate-limit counters.
      'dynamodb:BatchGetItem': [table],
      'dynamodb:UpdateItem': [table],
      // The key ring opens the sealed token a fallback sends from.
      'secretsmanager:GetSecretValue': sorted([keyRing, plivo]),
    });
  });

  test('events: the approval count (marker Put, counter Update), webhook endpoints (Get), the Plivo secret, its bus, its stream, the delivery queue', () => {
    const table = JSON.stringify({ 'Fn::GetAtt': [id('VoiceOtp/Table', 'AWS::DynamoDB::Table'), 'Arn'] });
    const stream = JSON.stringify({
      'Fn::GetAtt': [id('VoiceOtp/Table', 'AWS::DynamoDB::Table'), 'StreamArn'],
    });
    const plivo = JSON.stringify({ Ref: id('VoiceOtp/PlivoCredentials', 'AWS::SecretsManager::Secret') });
    const bus = JSON.stringify({ 'Fn::GetAtt': [id('VoiceOtp/Events/Bus', 'AWS::Events::EventBus'), 'Arn'] });
    const failures = JSON.stringify({
      'Fn::GetAtt': [id('VoiceOtp/Events/Failures', 'AWS::SQS::Queue'), 'Arn'],
    });
    const deliveries = JSON.stringify({
      'Fn::GetAtt': [id('VoiceOtp/Webhooks/Deliveries', 'AWS::SQS::Queue'), 'Arn'],
    });
    const granted = permissions('events');
    expect(granted).toMatchObject({
      'dynamodb:GetItem': [table],
      'dynamodb:PutItem': [table],
      'dynamodb:UpdateItem': [table],
      'secretsmanager:GetSecretValue': [plivo],
      'events:PutEvents': [bus],
      'dynamodb:GetRecords': [stream],
      'dynamodb:GetShardIterator': [stream],
      'dynamodb:DescribeStream': [stream],
      // ListStreams has no resource-level permissions (acknowledged in infra/nag.ts).
      'dynamodb:ListStreams': ['"*"'],
      'sqs:SendMessage': [failures, deliveries],
    });
    expect(
      Object.keys(granted)
        .filter((a) => a.startsWith('dynamodb:'))
        .sort(),
    ).toEqual([
      'dynamodb:DescribeStream',
      'dynamodb:GetItem',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
      'dynamodb:ListStreams',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
    // Only events may put on the bus.
    for (const name of FUNCTIONS.filter((n) => n !== 'events'))
      expect(permissions(name)['events:PutEvents'], name).toBeUndefined();
  });

  test('EventBridge and SQS: each role holds exactly the calls infra/function-access.ts lists for its code', () => {
    const SERVICE_ACTIONS = ['events:PutEvents', 'sqs:SendMessage', 'sqs:ChangeMessageVisibility'];
    for (const name of FUNCTIONS) {
      const held = SERVICE_ACTIONS.filter((action) => permissions(name)[action]);
      expect(held, name).toEqual([...FUNCTION_ACCESS[name].services].sort());
    }
  });

  test('deliver reads the endpoint and the key ring, and consumes its own queue alone', () => {
    const table = JSON.stringify({ 'Fn::GetAtt': [id('VoiceOtp/Table', 'AWS::DynamoDB::Table'), 'Arn'] });
    const keyRing = JSON.stringify({ Ref: id('VoiceOtp/KeyRing', 'AWS::SecretsManager::Secret') });
    const queue = JSON.stringify({
      'Fn::GetAtt': [id('VoiceOtp/Webhooks/Deliveries', 'AWS::SQS::Queue'), 'Arn'],
    });
    const logs = JSON.stringify({
      'Fn::GetAtt': [id(`${pathOf('deliver')}/Logs`, 'AWS::Logs::LogGroup'), 'Arn'],
    });
    expect(permissions('deliver')).toEqual({
      'logs:CreateLogStream': [logs],
      'logs:PutLogEvents': [logs],
      'xray:PutTraceSegments': ['"*"'],
      'xray:PutTelemetryRecords': ['"*"'],
      'dynamodb:GetItem': [table],
      'secretsmanager:GetSecretValue': [keyRing],
      'sqs:ReceiveMessage': [queue],
      'sqs:ChangeMessageVisibility': [queue],
      'sqs:GetQueueUrl': [queue],
      'sqs:DeleteMessage': [queue],
      'sqs:GetQueueAttributes': [queue],
    });
  });

  test('answer may only read the table (GetItem, never a write) and verify cannot read the Plivo secret', () => {
    expect(Object.keys(permissions('answer')).filter((action) => action.startsWith('dynamodb:'))).toEqual([
      'dynamodb:GetItem',
    ]);
    const plivo = JSON.stringify({ Ref: id('VoiceOtp/PlivoCredentials', 'AWS::SecretsManager::Secret') });
    expect(Object.values(permissions('verify')).flat()).not.toContain(plivo);
  });

  test('one role per function, no managed policies, no wildcard actions anywhere', () => {
    const roles = new Set(
      FUNCTIONS.map((name) => props(id(`${pathOf(name)}/Handler`, 'AWS::Lambda::Function')).Role),
    );
    expect(roles.size).toBe(6);
    for (const name of FUNCTIONS) {
      expect(props(id(`${pathOf(name)}/Role`, 'AWS::IAM::Role')).ManagedPolicyArns).toBeUndefined();
    }
    const actions = ofType(template, 'AWS::IAM::Policy').flatMap(([, policy]) =>
      (
        policy.Properties as { PolicyDocument: { Statement: Array<{ Action: string | string[] }> } }
      ).PolicyDocument.Statement.flatMap((statement) => [statement.Action].flat()),
    );
    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
  });
});

describe('webhook delivery queue', () => {
  test('SQS retries: a DLQ after the last attempt, encrypted, TLS only, partial batch failures reported', () => {
    const dlq = id('VoiceOtp/Webhooks/DeadLetters', 'AWS::SQS::Queue');
    expect(props(id('VoiceOtp/Webhooks/Deliveries', 'AWS::SQS::Queue'))).toMatchObject({
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] }, maxReceiveCount: 9 },
      // Outlives the whole schedule (about 27.6 h).
      MessageRetentionPeriod: 99_305 + 86_400,
      VisibilityTimeout: 90,
    });
    expect(MAX_DELIVERY_ATTEMPTS).toBe(9);
    expect(props(dlq)).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 86_400 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: id(`${pathOf('deliver')}/Handler`, 'AWS::Lambda::Function') },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      // Hanging app endpoints hold at most 20 environments, not the account's concurrency.
      ScalingConfig: { MaximumConcurrency: 20 },
    });
  });

  test('an alarm as soon as a delivery lands in the DLQ', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [id('VoiceOtp/Webhooks/DeadLetters', 'AWS::SQS::Queue'), 'QueueName'] },
        },
      ],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: id('VoiceOtp/Monitoring/AlarmTopic', 'AWS::SNS::Topic') }],
    });
  });

  test('the cloud stack never lets webhooks reach localhost', () => {
    for (const name of FUNCTIONS) {
      const variables = (
        props(id(`${pathOf(name)}/Handler`, 'AWS::Lambda::Function')) as {
          Environment: { Variables: Record<string, unknown> };
        }
      ).Environment.Variables;
      expect(variables.WEBHOOK_ALLOW_LOCALHOST, name).toBeUndefined();
    }
  });
});

describe('table', () => {
  test('on demand, pk string key and ttl from lib/store/table.ts, point-in-time recovery, kept by default', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: TABLE.partitionKey, KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: TABLE.partitionKey, AttributeType: 'S' }],
        TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      },
    });
  });

  test('its stream feeds the events function: partial batch failures, bisection, bounded retries, a failure queue', () => {
    const fn = id(`${pathOf('events')}/Handler`, 'AWS::Lambda::Function');
    const failures = id('VoiceOtp/Events/Failures', 'AWS::SQS::Queue');
    const mappings = ofType(template, 'AWS::Lambda::EventSourceMapping').filter(
      ([, mapping]) => JSON.stringify(mapping.Properties.FunctionName) === JSON.stringify({ Ref: fn }),
    );
    expect(mappings).toHaveLength(1);
    expect(mappings[0]?.[1].Properties).toMatchObject({
      FunctionName: { Ref: fn },
      EventSourceArn: { 'Fn::GetAtt': [id('VoiceOtp/Table', 'AWS::DynamoDB::Table'), 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 1,
      // Only verification items' records reach (and bill) the function: counters, pointers and markers do not.
      FilterCriteria: {
        Filters: [
          { Pattern: JSON.stringify({ dynamodb: { Keys: { pk: { S: [{ prefix: 'VERIFICATION#' }] } } } }) },
        ],
      },
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 8,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [failures, 'Arn'] } } },
    });
    expect(props(failures)).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1_209_600 });
    expect(props(fn)).toMatchObject({
      Environment: {
        Variables: expect.objectContaining({
          EVENT_BUS_NAME: { Ref: id('VoiceOtp/Events/Bus', 'AWS::Events::EventBus') },
        }),
      },
    });
  });

  test('alarms on the failure queue and on the stream iterator age', () => {
    const alarms = ofType(template, 'AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties ?? {});
    expect(alarms).toContainEqual(
      expect.objectContaining({
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Namespace: 'AWS/SQS',
        Threshold: 1,
      }),
    );
    expect(alarms).toContainEqual(
      expect.objectContaining({
        MetricName: 'IteratorAge',
        Namespace: 'AWS/Lambda',
        Statistic: 'Maximum',
        Threshold: 300_000,
        ComparisonOperator: 'GreaterThanThreshold',
      }),
    );
  });
});

describe('secrets', () => {
  test('generated by Secrets Manager: nothing secret in the template', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: {
        SecretStringTemplate: JSON.stringify({ current: 'k1' }),
        GenerateStringKey: 'k1',
        PasswordLength: 64,
        ExcludePunctuation: true,
      },
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ GenerateStringKey: 'authToken' }),
    });
    for (const [, secret] of ofType(template, 'AWS::SecretsManager::Secret')) {
      expect(secret.Properties?.SecretString).toBeUndefined();
    }
  });
});

describe('api', () => {
  type Method = {
    HttpMethod: string;
    ResourceId: { Ref: string };
    ApiKeyRequired?: boolean;
    Integration: { Type: string; Uri?: unknown };
    RequestModels?: Record<string, { Ref: string }>;
    RequestValidatorId?: unknown;
    RequestParameters?: Record<string, boolean>;
  };
  const methods = () => {
    const paths = apiResourcePaths(template);
    return ofType(template, 'AWS::ApiGateway::Method').map(([, method]) => {
      const p = method.Properties as unknown as Method;
      return { ...p, path: paths.get(p.ResourceId.Ref) ?? '?' };
    });
  };

  test('exactly the app routes of lib/platform/routes.ts, each to its function behind the API key; no webhook route', () => {
    const served = methods().filter((method) => method.HttpMethod !== 'ANY');
    expect(served.map((m) => `${m.HttpMethod} ${m.path}`).sort()).toEqual(
      APP_ROUTES.map((route) => `${route.method} ${route.resource}`).sort(),
    );
    expect(APP_ROUTES.length + WEBHOOK_ROUTES.length).toBe(ROUTES.length);
    // Plivo's webhooks are on the HTTP API only: not a method, not even a resource, here.
    expect(methods().filter((m) => m.path.startsWith('/v1/plivo'))).toEqual([]);
    expect([...apiResourcePaths(template).values()].filter((path) => path.startsWith('/v1/plivo'))).toEqual(
      [],
    );
    for (const route of APP_ROUTES) {
      const method = served.find((m) => m.HttpMethod === route.method && m.path === route.resource);
      expect(method?.ApiKeyRequired, route.resource).toBe(true);
      expect(method?.Integration.Type).toBe('AWS_PROXY');
      const fn = id(`${pathOf(route.function)}/Handler`, 'AWS::Lambda::Function');
      expect(JSON.stringify(method?.Integration.Uri)).toContain(`"${fn}"`);
    }
  });

  test('other methods on known paths: a mock 405 in the error shape, behind the key', () => {
    const resourcesWithRoutes = new Set(APP_ROUTES.map((route) => route.resource));
    const any = methods().filter((method) => method.HttpMethod === 'ANY');
    expect(any.map((m) => m.path).sort()).toEqual([...resourcesWithRoutes].sort());
    for (const method of any) {
      expect(method.ApiKeyRequired).toBe(true);
      expect(method.Integration).toMatchObject({
        Type: 'MOCK',
        IntegrationResponses: [
          {
            StatusCode: '405',
            ResponseTemplates: {
              'application/json': expect.stringContaining('"code":"method_not_allowed"'),
            },
          },
        ],
      });
    }
  });

  test("the functions decide every body (no gateway body model); the validator checks app methods' parameters", () => {
    // A model would answer 400 first where the function says 413, invalid_json or a field's own code
    // (integration/gateway-parity holds the two to the same answers).
    template.resourceCountIs('AWS::ApiGateway::Model', 0);
    const [validatorId, validator] = ofType(template, 'AWS::ApiGateway::RequestValidator')[0] ?? [];
    expect(validator?.Properties).toMatchObject({
      ValidateRequestBody: true,
      ValidateRequestParameters: true,
    });
    for (const method of methods().filter((m) => m.HttpMethod !== 'ANY')) {
      expect(method.RequestModels, method.path).toBeUndefined();
      expect(method.RequestValidatorId, method.path).toEqual({ Ref: validatorId });
    }
    const status = methods().find((m) => m.HttpMethod === 'GET' && m.path === '/v1/verifications/{id}');
    expect(status?.RequestParameters).toEqual({ 'method.request.path.id': true });
  });

  test("API Gateway's own errors use the contract's error shape", () => {
    const expected: Record<string, { status?: string; code: string; retryAfter?: boolean }> = {
      // A missing, unknown, disabled or rotated-away key: one response type, the gateway's own 403.
      INVALID_API_KEY: { status: '403', code: 'forbidden' },
      THROTTLED: { status: '429', code: 'rate_limited', retryAfter: true },
      QUOTA_EXCEEDED: { status: '429', code: 'rate_limited', retryAfter: true },
      BAD_REQUEST_BODY: { status: '400', code: 'invalid_request' },
      BAD_REQUEST_PARAMETERS: { status: '400', code: 'invalid_request' },
      // WAF, resource policy, authorizer and IAM signature denials keep the gateway's own 403.
      WAF_FILTERED: { code: 'forbidden' },
      ACCESS_DENIED: { code: 'forbidden' },
      EXPIRED_TOKEN: { code: 'forbidden' },
      INVALID_SIGNATURE: { code: 'forbidden' },
      UNAUTHORIZED: { status: '401', code: 'unauthorized' },
      RESOURCE_NOT_FOUND: { status: '404', code: 'route_not_found' },
      REQUEST_TOO_LARGE: { status: '413', code: 'payload_too_large' },
      UNSUPPORTED_MEDIA_TYPE: { status: '415', code: 'unsupported_media_type' },
      MISSING_AUTHENTICATION_TOKEN: { status: '404', code: 'route_not_found' },
      DEFAULT_4XX: { code: 'invalid_request' },
      DEFAULT_5XX: { status: '500', code: 'internal_error' },
      // The function outlived API Gateway's 29 s: its own answer, not internal_error (openapi.yaml).
      INTEGRATION_TIMEOUT: { status: '504', code: 'gateway_timeout' },
    };
    const responses = ofType(template, 'AWS::ApiGateway::GatewayResponse').map(
      ([, response]) =>
        response.Properties as {
          ResponseType: string;
          StatusCode?: string;
          ResponseTemplates: Record<string, string>;
          ResponseParameters: Record<string, string>;
        },
    );
    expect(responses.map((r) => r.ResponseType).sort()).toEqual(Object.keys(expected).sort());
    for (const response of responses) {
      const want = expected[response.ResponseType];
      expect(response.StatusCode).toBe(want?.status);
      const body = JSON.parse(response.ResponseTemplates['application/json'] ?? '') as {
        error: { code: string; message: string };
      };
      expect(Object.keys(body)).toEqual(['error']);
      expect(body.error.code).toBe(want?.code);
      expect(body.error.message).toMatch(/^[A-Z].+/);
      expect(response.ResponseParameters['gatewayresponse.header.Content-Type']).toMatch(
        /^'application\/json/,
      );
      if (want?.retryAfter)
        expect(response.ResponseParameters['gatewayresponse.header.Retry-After']).toMatch(/^'\d+'$/);
    }
    const badBody = responses.find((r) => r.ResponseType === 'BAD_REQUEST_BODY');
    expect(badBody?.ResponseTemplates['application/json']).toContain('$context.error.validationErrorString');
  });

  test('usage plan with throttling and quota holds the app key', () => {
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 10, BurstLimit: 20 },
      Quota: { Limit: 10000, Period: 'DAY' },
    });
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
    template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 1);
  });

  test('npm run tenants: the usage plan, the limits it holds tenants to, and a policy with exactly what it needs', () => {
    const plan = id('VoiceOtp/Api/Api/AppUsagePlan', 'AWS::ApiGateway::UsagePlan');
    template.hasOutput('UsagePlanId', { Value: { Ref: plan } });
    template.hasOutput('ApiKeyId', {
      Value: { Ref: id('VoiceOtp/Api/Api/DefaultApiKey', 'AWS::ApiGateway::ApiKey') },
    });
    template.hasOutput('ApiKeyMaxPerDay', { Value: '5000' });
    template.hasOutput('CodeTtlSeconds', { Value: '300' });
    template.hasOutput('Channels', { Value: 'voice,sms' });
    template.hasOutput('CounterShards', { Value: '1' });
    const policyId = id('VoiceOtp/Tenants/Policy', 'AWS::IAM::ManagedPolicy');
    template.hasOutput('TenantsPolicyArn', { Value: { Ref: policyId } });
    const statements = (
      props(policyId) as {
        PolicyDocument: {
          Statement: Array<{
            Sid: string;
            Action: string | string[];
            Resource: unknown;
            Condition?: unknown;
          }>;
        };
      }
    ).PolicyDocument.Statement;
    const bySid = Object.fromEntries(statements.map((statement) => [statement.Sid, statement]));
    expect(Object.keys(bySid).sort()).toEqual([
      'CreateAndListApiKeys',
      'EnableDisableDeleteApiKeys',
      'KeyRing',
      'StackOutputs',
      'TenantItems',
      'UsagePlanKeys',
    ]);
    expect(bySid.StackOutputs?.Resource).toEqual({ Ref: 'AWS::StackId' });
    expect(JSON.stringify(bySid.UsagePlanKeys?.Resource)).toContain(JSON.stringify({ Ref: plan }));
    // The tenants' and usage items alone, never a verification, counter or webhook.
    expect(bySid.TenantItems).toMatchObject({
      Resource: { 'Fn::GetAtt': [id('VoiceOtp/Table', 'AWS::DynamoDB::Table'), 'Arn'] },
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['TENANT#*', 'USAGE#*'] } },
    });
    expect(bySid.KeyRing?.Resource).toEqual({ Ref: id('VoiceOtp/KeyRing', 'AWS::SecretsManager::Secret') });
    // Attached to nothing: the operator attaches it to the role they run the command with.
    template.resourcePropertiesCountIs(
      'AWS::IAM::Role',
      { ManagedPolicyArns: Match.arrayWith([{ Ref: policyId }]) },
      0,
    );
  });

  test('JSON access logs never include the path or its query; execution logs at ERROR, no data trace', () => {
    const stage = ofType(template, 'AWS::ApiGateway::Stage')[0]?.[1].Properties as {
      AccessLogSetting: { Format: string };
      MethodSettings: Array<{ LoggingLevel: string; DataTraceEnabled: boolean }>;
      TracingEnabled: boolean;
    };
    const format = JSON.parse(stage.AccessLogSetting.Format) as Record<string, string>;
    expect(format.resourcePath).toBe('$context.resourcePath');
    expect(stage.AccessLogSetting.Format).not.toMatch(/\$context\.path|querystring|\$input/i);
    for (const setting of stage.MethodSettings) {
      expect(setting).toMatchObject({ LoggingLevel: 'ERROR', DataTraceEnabled: false });
    }
    expect(stage.TracingEnabled).toBe(false);
  });
});

describe('webhook API', () => {
  type Route = { ApiId: { Ref: string }; RouteKey: string; AuthorizationType: string; Target: unknown };
  type Integration = { IntegrationType: string; IntegrationUri: unknown; PayloadFormatVersion: string };
  const webhookApi = () => id('VoiceOtp/WebhookApi/Api/Resource', 'AWS::ApiGatewayV2::Api');
  const stage = () =>
    props(id('VoiceOtp/WebhookApi/Api/Stage', 'AWS::ApiGatewayV2::Stage')) as {
      StageName: string;
      AutoDeploy: boolean;
      AccessLogSettings: { DestinationArn: unknown; Format: string };
      RouteSettings: Record<string, { throttlingRateLimit: number; throttlingBurstLimit: number }>;
    };

  test("exactly Plivo's webhook routes, each to its function with the REST event shape (payload 1.0)", () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    expect(props(webhookApi())).toMatchObject({ ProtocolType: 'HTTP', Name: 'VoiceOtp-webhooks' });
    const routes = ofType(template, 'AWS::ApiGatewayV2::Route').map(
      ([, r]) => r.Properties as unknown as Route,
    );
    expect(routes.map((route) => route.RouteKey).sort()).toEqual(
      ['POST /v1/plivo/answer', 'POST /v1/plivo/hangup', 'POST /v1/plivo/message-status'].sort(),
    );
    expect(WEBHOOK_ROUTES.map((route) => `${route.method} ${route.resource}`).sort()).toEqual(
      routes.map((route) => route.RouteKey).sort(),
    );
    const integrations = resources(template);
    for (const route of WEBHOOK_ROUTES) {
      const found = routes.find((r) => r.RouteKey === `${route.method} ${route.resource}`);
      expect(found?.ApiId).toEqual({ Ref: webhookApi() });
      // No authorizer: the function checks Plivo's signature first (acknowledged in infra/nag.ts).
      expect(found?.AuthorizationType).toBe('NONE');
      const integrationId = JSON.stringify(found?.Target).match(/"Ref":"([^"]+)"/)?.[1] ?? '';
      const integration = integrations[integrationId]?.Properties as unknown as Integration;
      expect(integration).toMatchObject({
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '1.0',
        IntegrationUri: {
          'Fn::GetAtt': [id(`${pathOf(route.function)}/Handler`, 'AWS::Lambda::Function'), 'Arn'],
        },
      });
    }
  });

  test('each route its own throttle from the settings; the delivery-report route with hangup values', () => {
    expect(stage()).toMatchObject({ StageName: '$default', AutoDeploy: true });
    expect(stage().RouteSettings).toEqual({
      'POST /v1/plivo/answer': expect.objectContaining({
        throttlingRateLimit: 200,
        throttlingBurstLimit: 400,
      }),
      'POST /v1/plivo/hangup': expect.objectContaining({
        throttlingRateLimit: 50,
        throttlingBurstLimit: 100,
      }),
      'POST /v1/plivo/message-status': expect.objectContaining({
        throttlingRateLimit: 50,
        throttlingBurstLimit: 100,
      }),
    });
    const custom = ofType(
      synthTemplate({
        answerRateLimit: '300',
        answerBurstLimit: '600',
        hangupRateLimit: '60',
        hangupBurstLimit: '90',
      }),
      'AWS::ApiGatewayV2::Stage',
    ).map(([, resource]) => resource.Properties?.RouteSettings);
    expect(custom).toEqual([
      {
        'POST /v1/plivo/answer': expect.objectContaining({
          throttlingRateLimit: 300,
          throttlingBurstLimit: 600,
        }),
        'POST /v1/plivo/hangup': expect.objectContaining({
          throttlingRateLimit: 60,
          throttlingBurstLimit: 90,
        }),
        'POST /v1/plivo/message-status': expect.objectContaining({
          throttlingRateLimit: 60,
          throttlingBurstLimit: 90,
        }),
      },
    ]);
  });

  test('JSON access logs to their own log group, with the route key, never the path or its query', () => {
    const { AccessLogSettings } = stage();
    expect(AccessLogSettings.DestinationArn).toEqual({
      'Fn::GetAtt': [id('VoiceOtp/WebhookApi/AccessLogs', 'AWS::Logs::LogGroup'), 'Arn'],
    });
    const format = JSON.parse(AccessLogSettings.Format) as Record<string, string>;
    expect(format).toMatchObject({ routeKey: '$context.routeKey', status: '$context.status' });
    expect(AccessLogSettings.Format).not.toMatch(/\$context\.path|rawPath|querystring|\$input/i);
  });

  test('API Gateway may invoke answer and hangup from the webhook API only on their own paths', () => {
    const permissions = ofType(template, 'AWS::Lambda::Permission')
      .map(([, permission]) => permission.Properties as { FunctionName: unknown; SourceArn: unknown })
      .filter((permission) => JSON.stringify(permission.SourceArn).includes(`"${webhookApi()}"`));
    const fn = (name: FunctionName) => ({
      'Fn::GetAtt': [id(`${pathOf(name)}/Handler`, 'AWS::Lambda::Function'), 'Arn'],
    });
    expect(
      permissions.map((p) => [
        p.FunctionName,
        JSON.stringify(p.SourceArn).match(/\/v1\/plivo\/[a-z-]+/)?.[0],
      ]),
    ).toEqual([
      [fn('answer'), '/v1/plivo/answer'],
      [fn('hangup'), '/v1/plivo/hangup'],
      [fn('hangup'), '/v1/plivo/message-status'],
    ]);
  });

  test('outputs: ApiUrl for the apps, WebhookUrl for Plivo', () => {
    template.hasOutput('WebhookUrl', { Value: { 'Fn::GetAtt': [webhookApi(), 'ApiEndpoint'] } });
    template.hasOutput('ApiUrl', {
      Value: Match.objectLike({
        'Fn::Join': [
          '',
          Match.arrayWith([{ Ref: id('VoiceOtp/Api/Api/Resource', 'AWS::ApiGateway::RestApi') }]),
        ],
      }),
    });
  });
});

describe('alarms', () => {
  test('an encrypted, TLS-only topic that CloudWatch may publish to', () => {
    const key = id('VoiceOtp/Monitoring/TopicKey', 'AWS::KMS::Key');
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
          }),
        ]),
      },
    });
    expect(key).toBeTruthy();
    // The TLS-only topic policy replaces SNS's default one: CloudWatch needs its own Allow to publish.
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ]),
      },
    });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  test('API 5xx, errors and throttles per function, DynamoDB, call failures and toll-fraud shape', () => {
    const alarms = ofType(template, 'AWS::CloudWatch::Alarm').map(
      ([, alarm]) => alarm.Properties as Record<string, unknown>,
    );
    const topic = id('VoiceOtp/Monitoring/AlarmTopic', 'AWS::SNS::Topic');
    for (const alarm of alarms) expect(alarm.AlarmActions).toEqual([{ Ref: topic }]);

    const metricNames = alarms.map((alarm) => alarm.MetricName).filter(Boolean);
    expect(metricNames.filter((name) => name === 'Errors')).toHaveLength(FUNCTIONS.length);
    expect(metricNames.filter((name) => name === 'Throttles')).toHaveLength(FUNCTIONS.length);

    const expressions = alarms.flatMap((alarm) =>
      (
        (alarm.Metrics as Array<{ Expression?: string; MetricStat?: { Metric: { MetricName: string } } }>) ??
        []
      ).map((metric) => metric.Expression ?? metric.MetricStat?.Metric.MetricName),
    );
    // API 5xx: the REST API's and the webhook HTTP API's.
    expect(expressions).toContain('FILL(app, 0) + FILL(webhooks, 0)');
    for (const name of [
      '5XXError',
      '5xx',
      'SystemErrors',
      'ThrottledRequests',
      'CallsPlaced',
      'CallsNotPlaced',
      'CallsEnded',
      'MessagesSent',
      'MessagesNotSent',
      'MessagesFailed',
    ]) {
      expect(expressions).toContain(name);
    }
    // DynamoDB publishes these only when they happen: unfilled, a sum of them would stay empty.
    // Every operation a function sends, the approval count's TransactWriteItems included.
    const tableSum =
      'FILL(getitem, 0) + FILL(batchgetitem, 0) + FILL(putitem, 0) + FILL(updateitem, 0) + FILL(deleteitem, 0) + FILL(transactwriteitems, 0)';
    expect(expressions.filter((expression) => expression?.includes('getitem'))).toEqual([tableSum, tableSum]);
    expect(expressions).toContain('VerificationsStarted');
    expect(expressions).toContain('ChecksApproved');
    const lowApproval = alarms.find((alarm) => alarm.ComparisonOperator === 'LessThanThreshold');
    expect(lowApproval?.Threshold).toBe(0.2);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: {
              Namespace: 'VoiceOtp',
              MetricName: 'CallsEnded',
              Dimensions: Match.arrayWith([{ Name: 'CallStatus', Value: 'failed' }]),
            },
          }),
        }),
      ]),
    });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  test('the dashboard shows fallbacks sent by channel and refused by reason', () => {
    const [[, dashboard] = []] = ofType(template, 'AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(dashboard?.Properties?.DashboardBody);
    for (const text of [
      '"FallbacksSent","Channel","sms"',
      '"FallbacksSent","Channel","voice"',
      '{VoiceOtp,Reason,service}',
    ])
      expect(body).toContain(text.replaceAll('"', '\\"'));
  });

  test('SMS failures: refused sends and failed or undelivered reports over all sends, past 10 sends', () => {
    const [alarm] = ofType(template, 'AWS::CloudWatch::Alarm')
      .map(
        ([, resource]) =>
          resource.Properties as {
            AlarmDescription: string;
            Threshold: number;
            Metrics: Array<{ Expression?: string }>;
          },
      )
      .filter((properties) => properties.AlarmDescription.includes('of SMS were refused'));
    expect(alarm?.Threshold).toBe(0.25);
    expect(alarm?.Metrics.find((metric) => metric.Expression)?.Expression).toBe(
      'IF(FILL(smsSent, 0) + FILL(smsNotSent, 0) >= 10, (FILL(smsNotSent, 0) + FILL(smsFailed, 0)) / (FILL(smsSent, 0) + FILL(smsNotSent, 0)), 0)',
    );
    const custom = ofType(synthTemplate({ smsFailureRateAlarm: '0.5' }), 'AWS::CloudWatch::Alarm').filter(
      ([, resource]) => String(resource.Properties?.AlarmDescription).includes('of SMS were refused'),
    );
    expect(custom[0]?.[1].Properties?.Threshold).toBe(0.5);
  });

  test("webhook rejections: the webhook HTTP API's 4xx (429 included) over its requests", () => {
    type MetricQuery = {
      Id: string;
      Expression?: string;
      MetricStat?: {
        Metric: {
          Namespace: string;
          MetricName: string;
          Dimensions: Array<{ Name: string; Value: unknown }>;
        };
      };
    };
    const found = ofType(template, 'AWS::CloudWatch::Alarm')
      .map(
        ([, alarm]) =>
          alarm.Properties as { AlarmDescription: string; Threshold: number; Metrics: MetricQuery[] },
      )
      .filter((alarm) => alarm.AlarmDescription.includes("Plivo's webhooks"));
    expect(found).toHaveLength(1);
    const alarm = found[0] as (typeof found)[number];
    expect(alarm.Threshold).toBe(0.1);
    expect(alarm.AlarmDescription).toMatch(/real calls may be failing/);
    const stats = alarm.Metrics.filter((query) => query.MetricStat).map((query) => ({
      id: query.Id,
      name: `${query.MetricStat?.Metric.Namespace} ${query.MetricStat?.Metric.MetricName}`,
      dimensions: query.MetricStat?.Metric.Dimensions,
    }));
    // The HTTP API serves nothing but the webhooks: its own metrics, by API id, are theirs alone.
    const webhookApi = [
      { Name: 'ApiId', Value: { Ref: id('VoiceOtp/WebhookApi/Api/Resource', 'AWS::ApiGatewayV2::Api') } },
    ];
    expect(stats).toEqual([
      { id: 'refused', name: 'AWS/ApiGateway 4xx', dimensions: webhookApi },
      { id: 'served', name: 'AWS/ApiGateway Count', dimensions: webhookApi },
    ]);
    // Refused over served, once at least 20 requests came in.
    expect(alarm.Metrics.find((query) => query.Expression)?.Expression).toBe(
      'IF(FILL(served, 0) >= 20, FILL(refused, 0) / FILL(served, 0), 0)',
    );
  });
});
