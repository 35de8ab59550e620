import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Every cdk-nag AwsSolutions finding this stack accepts, with the reason; everything else fails synth.
 * Acknowledge on the narrowest construct that needs it, through `acknowledge` below.
 */
export const ACKNOWLEDGED_RULES = {
  'AwsSolutions-APIG4':
    'No IAM or Cognito authorizer on purpose: app backends authenticate with API keys (usage plan), and ' +
    "Plivo's webhooks with HMAC signatures (X-Plivo-Signature-V3) that the functions check before anything else.",
  'AwsSolutions-COG4':
    'No Cognito user pool: callers are app backends with API keys and Plivo with signed webhooks, not end users.',
  'AwsSolutions-SMG4':
    "No automatic rotation. The Plivo auth token is rotated in Plivo's console, then stored here by the " +
    'operator. The key ring must keep its old keys until every code and phone pseudonym they protect has ' +
    'expired, so it is rotated by the documented manual procedure (add a key, switch "current", drop the old ' +
    'key after code lifetime plus retention).',
  'AwsSolutions-APIG3':
    'WAF is off (setting waf=false): app routes are throttled per API key by the usage plan. Turn on waf=true ' +
    "for a per-IP rate limit on them. Plivo's webhooks are not on this API but on the HTTP API, which WAF " +
    'cannot guard: route throttles there (infra/webhook-api.ts).',
  'AwsSolutions-SQS3':
    'Both queues without a DLQ are dead-letter queues themselves, the end of the line: the webhook ' +
    "deliveries' DLQ, and the events function's failure queue (the stream event source mapping's on-failure " +
    'destination). Nothing consumes them but an operator, and an alarm fires on the first message in each.',
  'AwsSolutions-IAM5[Resource::*]':
    'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions; ' +
    "nor does dynamodb:ListStreams, which the events function's stream event source mapping needs.",
  'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:apigateway:<AWS::Region>::/apikeys/*]':
    "The operator's tenants policy (infra/tenants-policy.ts) enables, disables and deletes the API keys it " +
    'creates at run time, whose ids cannot be known in the template, and API Gateway has no condition key that ' +
    'ties a key to a usage plan. It is attached to no role by the stack: the operator attaches it to their own.',
  'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]':
    "API Gateway's account-wide logging role (setting apiGatewayLogsRole) uses the AWS managed policy made " +
    'for it; it serves every API of the account and region, not this stack alone.',
} as const;

export type AcknowledgedRule = keyof typeof ACKNOWLEDGED_RULES;

export function acknowledge(scope: IConstruct, ...rules: AcknowledgedRule[]): void {
  Validations.of(scope).acknowledge(...rules.map((id) => ({ id, reason: ACKNOWLEDGED_RULES[id] })));
}
