import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, test } from 'vitest';
import { readSettings, SettingsError } from '../../infra/settings.ts';
import { plivoWebhookPeak } from '../../infra/webhook-capacity.ts';
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
      waf: { enabled: false, rateLimitPerFiveMinutes: 1000 },
      throttle: { rateLimit: 10, burstLimit: 20 },
      webhookThrottles: {
        answer: { rateLimit: 200, burstLimit: 400 },
        hangup: { rateLimit: 50, burstLimit: 100 },
      },
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

  test('fromNumbers: a JSON map in cdk.json or on the command line; the default stays PLIVO_FROM_NUMBER', () => {
    const map = { GB: '+447700900100', '*': '+14155550111' };
    for (const fromNumbers of [map, JSON.stringify(map)]) {
      const settings = read({ fromNumbers });
      expect(settings.service.plivo.fromNumbers).toEqual(map);
      expect(settings.functionEnvironment).toMatchObject({
        PLIVO_FROM_NUMBER: '+14155550111',
        FROM_NUMBERS: '{"GB":"+447700900100"}',
      });
    }
  });

  test('WhatsApp: off by default; the number and the template turn it on, with the languages over the defaults', () => {
    const off = read({});
    expect(off.service.whatsapp).toBeUndefined();
    expect(off.functionEnvironment).toMatchObject({
      WHATSAPP_FROM_NUMBER: '',
      WHATSAPP_TEMPLATE: '',
      WHATSAPP_LANGUAGES: '',
      WHATSAPP_FALLBACK: 'sms',
      DAILY_WHATSAPP_CAP: '5000',
    });
    const languages = { 'es-US': 'es', 'pt-BR': 'pt_BR' };
    for (const whatsappLanguages of [languages, JSON.stringify(languages)]) {
      const on = read({
        whatsappFromNumber: '+14155550111',
        whatsappTemplate: 'acme_verification',
        whatsappLanguages,
        whatsappFallback: 'voice',
        dailyWhatsAppCap: 800,
      });
      expect(on.service.whatsapp).toMatchObject({
        fromNumber: '+14155550111',
        template: 'acme_verification',
        fallback: 'voice',
        languages: { 'en-US': 'en_US', 'es-US': 'es', 'pt-BR': 'pt_BR' },
      });
      expect(on.functionEnvironment).toMatchObject({
        WHATSAPP_FROM_NUMBER: '+14155550111',
        WHATSAPP_TEMPLATE: 'acme_verification',
        WHATSAPP_FALLBACK: 'voice',
        DAILY_WHATSAPP_CAP: '800',
      });
      // What the functions get reads back into the same settings (lib/platform/config.ts, at cold start).
      expect(JSON.parse(on.functionEnvironment.WHATSAPP_LANGUAGES ?? '')).toEqual(
        on.service.whatsapp?.languages,
      );
    }
  });

  test.each([
    [{ codeLength: '12' }, /codeLength \(CODE_LENGTH\): Too big/],
    [
      { whatsappFromNumber: '+14155550111' },
      /set both whatsappFromNumber \(WHATSAPP_FROM_NUMBER\) and whatsappTemplate \(WHATSAPP_TEMPLATE\)/,
    ],
    [
      { whatsappTemplate: 'acme_verification' },
      /set both whatsappFromNumber \(WHATSAPP_FROM_NUMBER\) and whatsappTemplate \(WHATSAPP_TEMPLATE\)/,
    ],
    [
      { whatsappFromNumber: '0414 555 0111', whatsappTemplate: 'acme' },
      /whatsappFromNumber \(WHATSAPP_FROM_NUMBER\): must be E\.164/,
    ],
    [
      { whatsappFromNumber: '+14155550111', whatsappTemplate: 'Acme Verification' },
      /whatsappTemplate \(WHATSAPP_TEMPLATE\): must be the template's name at Meta/,
    ],
    [
      { whatsappFromNumber: '+14155550111', whatsappTemplate: 'acme', whatsappLanguages: { 'xx-XX': 'en' } },
      /whatsappLanguages \(WHATSAPP_LANGUAGES\): keys must be locales of the service/,
    ],
    [
      {
        whatsappFromNumber: '+14155550111',
        whatsappTemplate: 'acme',
        whatsappLanguages: { 'en-US': 'english' },
      },
      /whatsappLanguages \(WHATSAPP_LANGUAGES\).*values must be Meta's language codes/,
    ],
    [{ whatsappLanguages: '{"en-US":' }, /whatsappLanguages \(WHATSAPP_LANGUAGES\): must be a JSON object/],
    [{ whatsappFallback: 'whatsapp' }, /whatsappFallback \(WHATSAPP_FALLBACK\)/],
    [{ dailyWhatsAppCap: '0' }, /dailyWhatsAppCap \(DAILY_WHATSAPP_CAP\)/],
    [
      { defaultChannel: 'whatsapp' },
      /defaultChannel \(DEFAULT_CHANNEL\): whatsapp needs whatsappFromNumber \(WHATSAPP_FROM_NUMBER\)/,
    ],
    [{ defaultLocale: 'xx-XX' }, /defaultLocale \(DEFAULT_LOCALE\)/],
    [{ fromNumber: '555-0100' }, /fromNumber \(PLIVO_FROM_NUMBER\)/],
    [{ fromNumbers: '{"GB":' }, /fromNumbers \(FROM_NUMBERS\): must be a JSON object/],
    [{ fromNumbers: { gb: '+447700900000' } }, /fromNumbers \(FROM_NUMBERS\).*ISO 3166 alpha-2/],
    [{ fromNumbers: { GB: '07700 900000' } }, /fromNumbers \(FROM_NUMBERS\).*E\.164/],
    [{ defaultChannel: 'email' }, /defaultChannel \(DEFAULT_CHANNEL\)/],
    [
      { smsWebOtpDomain: 'https://example.com' },
      /smsWebOtpDomain \(SMS_WEBOTP_DOMAIN\): must be a lower-case host/,
    ],
    [{ dailySmsCap: '0' }, /dailySmsCap \(DAILY_SMS_CAP\)/],
    [{ counterShards: '0' }, /counterShards \(COUNTER_SHARDS\)/],
    [{ counterShards: '101' }, /counterShards \(COUNTER_SHARDS\): Too big/],
    [{ counterShardsBefore: '4' }, /counterShardsBefore \(COUNTER_SHARDS_BEFORE\): must be "<shard count/],
    [{ counterShardsBefore: '0@2026-12-08' }, /counterShardsBefore \(COUNTER_SHARDS_BEFORE\)/],
    [{ counterShardsBefore: '4@2026-02-30' }, /counterShardsBefore \(COUNTER_SHARDS_BEFORE\)/],
    [{ smsFailureRateAlarm: '1.5' }, /smsFailureRateAlarm/],
    [{ logRetentionDays: 31 }, /logRetentionDays .*must be one of/],
    [{ deliverMaxConcurrency: '1' }, /deliverMaxConcurrency .*Too small/],
    [{ waf: 'yes' }, /waf \(-c waf=…\): must be true or false/],
    [{ alarmEmail: 'ops' }, /alarmEmail .*email/],
    [{ customDomain: 'otp.example.com' }, /customDomain and certificateArn go together/],
    [{ removalPolicy: 'destroy', deletionProtection: 'true' }, /deletionProtection/],
    [{ throttleRateLimit: 50, throttleBurstLimit: 10 }, /throttleBurstLimit/],
    [{ answerRateLimit: 500 }, /answerBurstLimit .*must be at least answerRateLimit/],
    [{ webhookRateLimit: 80 }, /webhookRateLimit .*replaced by answerRateLimit and hangupRateLimit/],
    [{ webhookBurstLimit: 80 }, /webhookBurstLimit .*replaced by answerBurstLimit and hangupBurstLimit/],
    [{ webhookAllowedCidrs: '203.0.113.0/33' }, /webhookAllowedCidrs \(WEBHOOK_ALLOWED_CIDRS\).*CIDRs/],
    [{ webhookAllowedCidrs: '203.0.113.7' }, /webhookAllowedCidrs \(WEBHOOK_ALLOWED_CIDRS\).*CIDRs/],
    [{ webhookAllowedCidrs: 'plivo.com/24' }, /webhookAllowedCidrs \(WEBHOOK_ALLOWED_CIDRS\).*CIDRs/],
    [
      { waf: 'true', wafWebhookRateLimit: '20000' },
      /wafWebhookRateLimit .*replaced by the webhook HTTP API's route throttles/,
    ],
  ])('%o is refused with a message naming the setting', (context, message) => {
    expect(() => read(context)).toThrow(SettingsError);
    expect(() => read(context)).toThrow(message);
  });

  test('webhook limits below what Plivo needs at the daily call cap are refused, naming the need', () => {
    // 100,000 calls in the peak hour, 8 answer and 2 hangup requests each (docs/deploying.md, "Webhook capacity").
    expect(() => read({ dailyCallCap: '100000' })).toThrow(
      /answerRateLimit .*Plivo needs at least 223 requests\/s at dailyCallCap 100000.*; hangupRateLimit .*at least 56 requests\/s/,
    );
    // A key press before the code adds an answer per call: 90,000 calls, 10 answers each, is 250 requests/s.
    expect(() => read({ dailyCallCap: '90000' })).not.toThrow();
    expect(() => read({ requireKeypress: 'true', dailyCallCap: '90000' })).toThrow(
      /answerRateLimit .*at least 250 requests\/s/,
    );
  });

  test("the delivery-report route, throttled with hangup's values, must carry the SMS cap's reports", () => {
    // 60,000 SMS in the peak hour, 3 reports each, each possibly twice: 100 requests/s.
    expect(() =>
      read({
        dailyCallCap: '60000',
        dailySmsCap: '60000',
        answerRateLimit: '1000',
        answerBurstLimit: '1000',
      }),
    ).toThrow(
      /hangupRateLimit .*Plivo needs at least 100 requests\/s at dailyCallCap 60000 and dailySmsCap 60000/,
    );
    expect(() =>
      read({
        dailyCallCap: '60000',
        dailySmsCap: '60000',
        answerRateLimit: '1000',
        answerBurstLimit: '1000',
        hangupRateLimit: '100',
        hangupBurstLimit: '100',
      }),
    ).not.toThrow();
    // The SMS cap cannot make more reports than the call cap's sends allow.
    expect(plivoWebhookPeak(read({ dailySmsCap: '1000000' }).service).messageStatusPerSecond).toBeCloseTo(
      (10_000 / 3600) * 6,
      5,
    );
  });

  test('with WhatsApp on, the route carries its four reports a message too, within the daily call cap', () => {
    const whatsapp = { whatsappFromNumber: '+14155550111', whatsappTemplate: 'acme' };
    // 30,000 WhatsApp messages (4 reports) and 30,000 SMS (3), each possibly twice: 116.67 requests/s.
    const context = {
      ...whatsapp,
      dailyCallCap: '60000',
      dailySmsCap: '60000',
      dailyWhatsAppCap: '30000',
      answerRateLimit: '1000',
      answerBurstLimit: '1000',
      hangupRateLimit: '110',
      hangupBurstLimit: '200',
    };
    expect(
      plivoWebhookPeak(read({ ...context, hangupRateLimit: '117' }).service).messageStatusPerSecond,
    ).toBeCloseTo((2 * (30_000 * 4 + 30_000 * 3)) / 3600, 5);
    expect(() => read(context)).toThrow(
      /hangupRateLimit .*Plivo needs at least 117 requests\/s at dailyCallCap 60000 and dailySmsCap 60000 and dailyWhatsAppCap 30000/,
    );
    // Without WhatsApp settings its cap sends nothing.
    const { whatsappFromNumber: _n, whatsappTemplate: _t, ...off } = context;
    expect(plivoWebhookPeak(read(off).service).messageStatusPerSecond).toBeCloseTo(
      (2 * 60_000 * 3) / 3600,
      5,
    );
  });

  test("the defaults carry Plivo's peak at the default daily call cap with room to spare", () => {
    const settings = read({ requireKeypress: 'true' });
    const need = plivoWebhookPeak(settings.service);
    // 10,000 calls in one hour is 2.78 calls/s; with a key press, 10 answer and 2 hangup requests per call.
    expect(need.answerPerSecond).toBeCloseTo(27.78, 2);
    expect(need.hangupPerSecond).toBeCloseTo(5.56, 2);
    expect(settings.webhookThrottles.answer.rateLimit / need.answerPerSecond).toBeGreaterThan(7);
    expect(settings.webhookThrottles.hangup.rateLimit / need.hangupPerSecond).toBeGreaterThan(8);
    // 5,000 SMS in one hour, 3 delivery reports each, each possibly twice: 8.33 requests/s.
    expect(need.messageStatusPerSecond).toBeCloseTo(8.33, 2);
    expect(settings.webhookThrottles.hangup.rateLimit / need.messageStatusPerSecond).toBeGreaterThan(5);
  });

  test("webhookReservedConcurrency: off by default; set, it must carry Plivo's peak and leave 100 unreserved", () => {
    expect(read({}).webhookReservedConcurrency).toBeUndefined();
    expect(read({ webhookReservedConcurrency: '0' }).webhookReservedConcurrency).toBeUndefined();
    // 22.2 answer requests/s at the default caps, each holding an environment up to a second: 23 at least.
    expect(() => read({ webhookReservedConcurrency: '22' })).toThrow(
      /webhookReservedConcurrency .*Plivo needs at least 23 concurrent executions/,
    );
    expect(read({ webhookReservedConcurrency: '23' }).webhookReservedConcurrency).toBe(23);
    // Two reservations of 451 would leave fewer than 100 of the default 1,000 unreserved.
    expect(read({ webhookReservedConcurrency: '450' }).webhookReservedConcurrency).toBe(450);
    expect(() => read({ webhookReservedConcurrency: '451' })).toThrow(/webhookReservedConcurrency .*<=450/);
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
      deliverMaxConcurrency: '50',
      alarmEmail: 'ops@example.com',
      logLevel: 'WARN',
      defaultChannel: 'sms',
      fallback: 'false',
      dailySmsCap: '700',
      counterShards: '8',
      counterShardsBefore: '1@2026-12-08',
      smsWebOtpDomain: 'login.example.com',
      whatsappFromNumber: '+14155550111',
      whatsappTemplate: 'acme_verification',
      dailyWhatsAppCap: '900',
    });
    template.allResourcesProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          APP_NAME: 'Acme',
          CODE_LENGTH: '8',
          POWERTOOLS_LOG_LEVEL: 'WARN',
          DEFAULT_CHANNEL: 'sms',
          FALLBACK: 'false',
          DAILY_SMS_CAP: '700',
          COUNTER_SHARDS: '8',
          COUNTER_SHARDS_BEFORE: '1@2026-12-08',
          SMS_WEBOTP_DOMAIN: 'login.example.com',
          WHATSAPP_FROM_NUMBER: '+14155550111',
          WHATSAPP_TEMPLATE: 'acme_verification',
          WHATSAPP_LANGUAGES: Match.stringLikeRegexp('"pt-BR":"pt_BR"'),
          WHATSAPP_FALLBACK: 'sms',
          DAILY_WHATSAPP_CAP: '900',
        }),
      },
    });
    // send's timeout follows Plivo's: 8 s of waiting plus its own work.
    template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 512, Timeout: 15 });
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
    });
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 3, BurstLimit: 6 },
      Quota: { Limit: 500, Period: 'MONTH' },
    });
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ScalingConfig: { MaximumConcurrency: 50 },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });

  test('waf=true: a per-IP rate limit on the REST API (the app routes alone) in our error shape', () => {
    const template = synthTemplate({ waf: 'true', wafRateLimit: '300' });
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      DefaultAction: { Allow: {} },
      Rules: [
        Match.objectLike({
          Name: 'app-routes-rate-limit-per-ip',
          Priority: 0,
          Action: {
            Block: {
              CustomResponse: Match.objectLike({
                ResponseCode: 429,
                CustomResponseBodyKey: 'rateLimited',
                ResponseHeaders: [{ Name: 'Retry-After', Value: Match.stringLikeRegexp('^\\d+$') }],
              }),
            },
          },
          // Every route on the REST API is an app route: no scope-down statement.
          Statement: { RateBasedStatement: { Limit: 300, AggregateKeyType: 'IP' } },
        }),
      ],
    });
    const bodies = ofType(template, 'AWS::WAFv2::WebACL').map(
      ([, acl]) => acl.Properties.CustomResponseBodies as Record<string, { Content: string }>,
    );
    expect(JSON.parse(bodies[0]?.rateLimited?.Content ?? '')).toMatchObject({
      error: { code: 'rate_limited' },
    });
    // On the REST API's stage only: WAF cannot attach to the webhook HTTP API.
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      ResourceArn: Match.objectLike({
        'Fn::Join': ['', Match.arrayWith([{ Ref: Match.stringLikeRegexp('^Api') }])],
      }),
    });
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
    template.resourceCountIs('AWS::WAFv2::IPSet', 0);
  });

  test('webhookAllowedCidrs reaches the webhook functions as WEBHOOK_ALLOWED_CIDRS, with or without the WAF', () => {
    const template = synthTemplate({ webhookAllowedCidrs: '203.0.113.0/24, 198.51.100.7/32,2001:db8::/32' });
    template.allResourcesProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          WEBHOOK_ALLOWED_CIDRS: '203.0.113.0/24,198.51.100.7/32,2001:db8::/32',
        }),
      },
    });
    template.resourceCountIs('AWS::WAFv2::WebACL', 0);
  });

  test("a custom domain is the app routes' base, mapped at the root; PUBLIC_URL stays the webhook API's", () => {
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
    template.hasOutput('ApiUrl', { Value: 'https://otp.example.com' });
    template.allResourcesProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ PUBLIC_URL: { 'Fn::GetAtt': [Match.anyValue(), 'ApiEndpoint'] } }),
      },
    });
  });

  test('apiGatewayLogsRole=false leaves the account-wide logging role alone', () => {
    synthTemplate({ apiGatewayLogsRole: 'false' }).resourceCountIs('AWS::ApiGateway::Account', 0);
    synthTemplate().resourceCountIs('AWS::ApiGateway::Account', 1);
  });
});
