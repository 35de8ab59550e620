import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, test } from 'vitest';
import { readSettings, SettingsError } from '../../infra/settings.ts';
import { synthTemplate } from './synth.ts';
import { ofType } from './template.ts';

const read = (context: Record<string, unknown>) => readSettings((key) => context[key]);

describe('reading settings', () => {
  test('defaults need no context at all', () => {
    const settings = read({});
    expect(settings).toMatchObject({
      stackName: 'VoiceOtp',
      removalPolicy: 'retain',
      deletionProtection: true,
      waf: { enabled: false },
      throttle: { rateLimit: 10, burstLimit: 20 },
      quota: { limit: 10_000, period: 'DAY' },
      logRetentionDays: 30,
      customDomain: undefined,
      alarmEmail: undefined,
      apiGatewayLogsRole: true,
    });
    expect(settings.functionEnvironment).toMatchObject({ CODE_LENGTH: '6', DEFAULT_LOCALE: 'en-US' });
  });

  test('command-line strings and cdk.json values both work', () => {
    const fromCli = read({ codeLength: '8', waf: 'true', requireKeypress: 'true', throttleRateLimit: '5' });
    const fromJson = read({ codeLength: 8, waf: true, requireKeypress: true, throttleRateLimit: 5 });
    for (const settings of [fromCli, fromJson]) {
      expect(settings.functionEnvironment).toMatchObject({ CODE_LENGTH: '8', REQUIRE_KEYPRESS: 'true' });
      expect(settings.waf.enabled).toBe(true);
      expect(settings.throttle.rateLimit).toBe(5);
    }
  });

  test.each([
    [{ codeLength: '12' }, /codeLength \(CODE_LENGTH\): Too big/],
    [{ defaultLocale: 'xx-XX' }, /defaultLocale \(DEFAULT_LOCALE\)/],
    [{ fromNumber: '555-0100' }, /fromNumber \(PLIVO_FROM_NUMBER\)/],
    [{ logRetentionDays: 31 }, /logRetentionDays .*must be one of/],
    [{ waf: 'yes' }, /waf \(-c waf=…\): must be true or false/],
    [{ alarmEmail: 'ops' }, /alarmEmail .*email/],
    [{ customDomain: 'otp.example.com' }, /customDomain and certificateArn go together/],
    [{ removalPolicy: 'destroy', deletionProtection: 'true' }, /deletionProtection/],
    [{ throttleRateLimit: 50, throttleBurstLimit: 10 }, /throttleBurstLimit/],
  ])('%o is refused with a message naming the setting', (context, message) => {
    expect(() => read(context)).toThrow(SettingsError);
    expect(() => read(context)).toThrow(message);
  });

  test('destroying the stack also drops deletion protection unless asked', () => {
    expect(read({ removalPolicy: 'destroy' })).toMatchObject({
      removalPolicy: 'destroy',
      deletionProtection: false,
    });
  });
});

describe('settings in the template', () => {
  test('operator values reach the functions, table, usage plan and logs', () => {
    const template = synthTemplate({
      appName: 'Acme',
      codeLength: '8',
      plivoTimeoutMs: '8000',
      removalPolicy: 'destroy',
      throttleRateLimit: '3',
      throttleBurstLimit: '6',
      quotaLimit: '500',
      quotaPeriod: 'MONTH',
      logRetentionDays: '90',
      alarmEmail: 'ops@example.com',
      logLevel: 'WARN',
    });
    template.allResourcesProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ APP_NAME: 'Acme', CODE_LENGTH: '8', POWERTOOLS_LOG_LEVEL: 'WARN' }),
      },
    });
    // send's timeout follows Plivo's: 8 s of waiting plus its own work.
    template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 512, Timeout: 14 });
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
    });
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 3, BurstLimit: 6 },
      Quota: { Limit: 500, Period: 'MONTH' },
    });
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });

  test('waf=true adds a per-IP rate limit on app routes that spares the webhooks, in our error shape', () => {
    const template = synthTemplate({ waf: 'true', wafRateLimit: '300' });
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      DefaultAction: { Allow: {} },
      Rules: [
        Match.objectLike({
          Action: {
            Block: {
              CustomResponse: Match.objectLike({
                ResponseCode: 429,
                ResponseHeaders: [{ Name: 'Retry-After', Value: Match.stringLikeRegexp('^\\d+$') }],
              }),
            },
          },
          Statement: {
            RateBasedStatement: Match.objectLike({
              Limit: 300,
              AggregateKeyType: 'IP',
              ScopeDownStatement: {
                NotStatement: {
                  Statement: {
                    OrStatement: {
                      Statements: [
                        Match.objectLike({
                          ByteMatchStatement: Match.objectLike({ SearchString: '/v1/plivo/answer' }),
                        }),
                        Match.objectLike({
                          ByteMatchStatement: Match.objectLike({ SearchString: '/v1/plivo/hangup' }),
                        }),
                      ],
                    },
                  },
                },
              },
            }),
          },
        }),
      ],
    });
    const bodies = ofType(template, 'AWS::WAFv2::WebACL').map(
      ([, acl]) => (acl.Properties.CustomResponseBodies as Record<string, { Content: string }>).rateLimited,
    );
    expect(JSON.parse(bodies[0]?.Content ?? '')).toMatchObject({ error: { code: 'rate_limited' } });
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
  });

  test('a custom domain becomes PUBLIC_URL and is mapped at the root', () => {
    const template = synthTemplate({
      customDomain: 'otp.example.com',
      certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc-123',
    });
    template.hasResourceProperties('AWS::ApiGateway::DomainName', {
      DomainName: 'otp.example.com',
      SecurityPolicy: 'TLS_1_2',
      EndpointConfiguration: { Types: ['REGIONAL'] },
    });
    template.hasResourceProperties('AWS::ApiGateway::BasePathMapping', { BasePath: Match.absent() });
    template.allResourcesProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ PUBLIC_URL: 'https://otp.example.com' }) },
    });
  });

  test('apiGatewayLogsRole=false leaves the account-wide logging role alone', () => {
    synthTemplate({ apiGatewayLogsRole: 'false' }).resourceCountIs('AWS::ApiGateway::Account', 0);
    synthTemplate().resourceCountIs('AWS::ApiGateway::Account', 1);
  });
});
