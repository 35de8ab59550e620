import { Validations } from 'aws-cdk-lib';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, test } from 'vitest';
import { ACKNOWLEDGED_RULES } from '../../infra/nag.ts';
import { buildStack } from './synth.ts';

/** Every acknowledgement recorded in the construct tree: rule id → construct paths. */
function acknowledgements(root: ReturnType<typeof buildStack>['app']): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const construct of root.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const key of Object.keys(entry.data as object)) {
        const rule = key.replace(/^annotation::/i, '');
        found.set(rule, [...(found.get(rule) ?? []), construct.node.path]);
      }
    }
  }
  return found;
}

describe('cdk-nag AwsSolutions', () => {
  // The plugin runs on every synth and throws on any finding, warnings included.
  test.each([
    ['defaults', {}],
    [
      'every option on',
      {
        waf: 'true',
        webhookAllowedCidrs: '203.0.113.0/24,2001:db8::/32',
        alarmEmail: 'ops@example.com',
        customDomain: 'otp.example.com',
        certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc-123',
        removalPolicy: 'destroy',
      },
    ],
    ['no API Gateway logging role', { apiGatewayLogsRole: 'false' }],
    ['no X-Ray tracing', { tracing: 'false' }],
  ])('%s: synth passes with no finding', (_name, settings) => {
    const { app } = buildStack(settings);
    expect(() => app.synth()).not.toThrow();
  });

  test('an unacknowledged finding fails synth', () => {
    const { app, stack } = buildStack();
    new Secret(stack, 'NotRotated');
    expect(() => app.synth()).toThrow(/VoiceOtp\/NotRotated[\s\S]*AwsSolutions-SMG4/);
  });

  test('acknowledgements are the documented ones, each on the narrowest construct', () => {
    const found = acknowledgements(buildStack().app);
    for (const rule of found.keys()) expect(Object.keys(ACKNOWLEDGED_RULES)).toContain(rule);
    expect(found.get('AwsSolutions-SMG4')).toEqual(['VoiceOtp/PlivoCredentials', 'VoiceOtp/KeyRing']);
    expect(found.get('AwsSolutions-IAM5[Resource::*]')).toEqual([
      'VoiceOtp/SendFunction/Role',
      'VoiceOtp/VerifyFunction/Role',
      'VoiceOtp/AnswerFunction/Role',
      'VoiceOtp/HangupFunction/Role',
      'VoiceOtp/EventsFunction/Role',
      'VoiceOtp/DeliverFunction/Role',
    ]);
    expect(found.get('AwsSolutions-APIG3')).toEqual(['VoiceOtp/Api/Api/DeploymentStage.prod']);
    // The REST API (API keys) and each webhook route of the HTTP API (Plivo's signatures).
    expect(found.get('AwsSolutions-APIG4')).toEqual([
      'VoiceOtp/Api/Api',
      'VoiceOtp/WebhookApi/Api/POST--v1--plivo--answer',
      'VoiceOtp/WebhookApi/Api/POST--v1--plivo--hangup',
      'VoiceOtp/WebhookApi/Api/POST--v1--plivo--message-status',
    ]);
    expect(
      found.get(
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      ),
    ).toEqual(['VoiceOtp/Api/Api/CloudWatchRole']);
    expect(found.get('AwsSolutions-SQS3')).toEqual([
      'VoiceOtp/Events/Failures',
      'VoiceOtp/Webhooks/DeadLetters',
    ]);
    // With the WAF on, nothing about it is acknowledged; without tracing, only the stream needs a wildcard.
    expect(acknowledgements(buildStack({ waf: 'true' }).app).has('AwsSolutions-APIG3')).toBe(false);
    expect(
      acknowledgements(buildStack({ tracing: 'false' }).app).get('AwsSolutions-IAM5[Resource::*]'),
    ).toEqual(['VoiceOtp/EventsFunction/Role']);
  });
});
