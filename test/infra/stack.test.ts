import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, test } from 'vitest';
import { type FunctionName, ROUTES } from '../../lib/routes.ts';
import { TABLE } from '../../lib/table.ts';
import { MAX_DELIVERY_ATTEMPTS } from '../../lib/webhook-delivery.ts';
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

  test('environment: what lib/config.ts and lib/runtime.ts read, and never a secret value', () => {
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

  test('PUBLIC_URL is built from the API id and the stage name, and the template has no cycle', () => {
    const api = id('VoiceOtp/Api/Api/Resource', 'AWS::ApiGateway::RestApi');
    const variables = (
      props(id(`${pathOf('send')}/Handler`, 'AWS::Lambda::Function')) as {
        Environment: { Variables: Record<string, unknown> };
      }
    ).Environment.Variables;
    expect(variables.PUBLIC_URL).toEqual({
      'Fn::Join': [
        '',
        [
          'https://',
          { Ref: api },
          '.execute-api.',
          { Ref: 'AWS::Region' },
          '.',
          { Ref: 'AWS::URLSuffix' },
          '/prod',
        ],
      ],
    });
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
  test('on demand, pk string key and ttl from lib/table.ts, point-in-time recovery, kept by default', () => {
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

  test('exactly the routes of lib/routes.ts, each to its function, API key on app routes only', () => {
    const served = methods().filter((method) => method.HttpMethod !== 'ANY');
    expect(served.map((m) => `${m.HttpMethod} ${m.path}`).sort()).toEqual(
      ROUTES.map((route) => `${route.method} ${route.resource}`).sort(),
    );
    for (const route of ROUTES) {
      const method = served.find((m) => m.HttpMethod === route.method && m.path === route.resource);
      expect(method?.ApiKeyRequired ?? false, route.resource).toBe(route.auth === 'api-key');
      expect(method?.Integration.Type).toBe('AWS_PROXY');
      const fn = id(`${pathOf(route.function)}/Handler`, 'AWS::Lambda::Function');
      expect(JSON.stringify(method?.Integration.Uri)).toContain(`"${fn}"`);
    }
  });

  test('other methods on known paths: a mock 405 in the error shape, behind the key on app paths', () => {
    const resourcesWithRoutes = new Map(ROUTES.map((route) => [route.resource, route.auth]));
    const any = methods().filter((method) => method.HttpMethod === 'ANY');
    expect(any.map((m) => m.path).sort()).toEqual([...resourcesWithRoutes.keys()].sort());
    for (const method of any) {
      expect(method.ApiKeyRequired ?? false).toBe(resourcesWithRoutes.get(method.path) === 'api-key');
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
      const app = ROUTES.some((route) => route.resource === method.path && route.auth === 'api-key');
      expect(method.RequestValidatorId, method.path).toEqual(app ? { Ref: validatorId } : undefined);
    }
    const status = methods().find((m) => m.HttpMethod === 'GET' && m.path === '/v1/verifications/{id}');
    expect(status?.RequestParameters).toEqual({ 'method.request.path.id': true });
  });

  test("API Gateway's own errors use the contract's error shape", () => {
    const expected: Record<string, { status?: string; code: string; retryAfter?: boolean }> = {
      INVALID_API_KEY: { status: '401', code: 'unauthorized' },
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
    expect(metricNames).toContain('5XXError');

    const expressions = alarms.flatMap((alarm) =>
      (
        (alarm.Metrics as Array<{ Expression?: string; MetricStat?: { Metric: { MetricName: string } } }>) ??
        []
      ).map((metric) => metric.Expression ?? metric.MetricStat?.Metric.MetricName),
    );
    for (const name of [
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
    const tableSum =
      'FILL(getitem, 0) + FILL(batchgetitem, 0) + FILL(putitem, 0) + FILL(updateitem, 0) + FILL(deleteitem, 0)';
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

  test("webhook rejections: 4xx and 429 of Plivo's webhook methods, and the WAF's webhook blocks, over all", () => {
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
    const rejectionAlarm = (t: Template) => {
      const found = ofType(t, 'AWS::CloudWatch::Alarm')
        .map(
          ([, alarm]) =>
            alarm.Properties as { AlarmDescription: string; Threshold: number; Metrics: MetricQuery[] },
        )
        .filter((alarm) => alarm.AlarmDescription.includes("Plivo's webhooks"));
      expect(found).toHaveLength(1);
      const alarm = found[0] as (typeof found)[number];
      const dims = (query: MetricQuery) =>
        Object.fromEntries((query.MetricStat?.Metric.Dimensions ?? []).map((d) => [d.Name, d.Value]));
      const stats = alarm.Metrics.filter((query) => query.MetricStat).map((query) => ({
        id: query.Id,
        name: `${query.MetricStat?.Metric.Namespace} ${query.MetricStat?.Metric.MetricName}`,
        ...dims(query),
      }));
      return { alarm, stats, expression: alarm.Metrics.find((query) => query.Expression)?.Expression ?? '' };
    };

    const { alarm, stats, expression } = rejectionAlarm(template);
    expect(alarm.Threshold).toBe(0.1);
    expect(alarm.AlarmDescription).toMatch(/real calls may be failing/);
    const perMethod = (name: string) =>
      ['/v1/plivo/answer', '/v1/plivo/hangup', '/v1/plivo/message-status'].map((resource) =>
        expect.objectContaining({
          name: `AWS/ApiGateway ${name}`,
          ApiName: 'VoiceOtp-api',
          Stage: 'prod',
          Method: 'POST',
          Resource: resource,
        }),
      );
    expect(stats).toEqual([...perMethod('4XXError'), ...perMethod('Count')]);
    // Refused over served, once at least 20 requests came in.
    const served = 'FILL(served0, 0) + FILL(served1, 0) + FILL(served2, 0)';
    expect(expression).toBe(
      `IF((${served}) >= 20, (FILL(refused0, 0) + FILL(refused1, 0) + FILL(refused2, 0)) / (${served}), 0)`,
    );

    // With the WAF, its blocks on webhook routes count too: they never reach API Gateway's metrics.
    const withWaf = synthTemplate({ waf: 'true', webhookAllowedCidrs: '203.0.113.0/24' });
    const [acl] = ofType(withWaf, 'AWS::WAFv2::WebACL').map(([, resource]) => resource.Properties) as Array<{
      Name: string;
      Rules: Array<{ Name: string; VisibilityConfig: { MetricName: string } }>;
    }>;
    const blocked = rejectionAlarm(withWaf);
    const webhookRules = ['webhook-source-allowlist', 'webhook-rate-limit-per-ip'];
    expect(blocked.stats.filter((stat) => stat.name === 'AWS/WAFV2 BlockedRequests')).toEqual(
      webhookRules.map((rule) => expect.objectContaining({ WebACL: acl?.Name, Rule: rule })),
    );
    for (const rule of webhookRules) {
      expect(acl?.Rules.find((r) => r.Name === rule)?.VisibilityConfig.MetricName).toBe(rule);
    }
    expect(blocked.expression).toContain(
      '(FILL(refused0, 0) + FILL(refused1, 0) + FILL(refused2, 0) + FILL(blocked0, 0) + FILL(blocked1, 0)) /',
    );
  });
});
