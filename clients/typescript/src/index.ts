export {
  type CanceledVerification,
  type CheckRequest,
  type CheckResult,
  type CreatedVerification,
  newIdempotencyKey,
  type StartVerificationRequest,
  type Verification,
  VoiceOtpClient,
  type VoiceOtpClientOptions,
  type WebhookEndpoint,
  type WebhookEndpointWithSecret,
  type WebhookEventType,
} from './client.ts';
export { type ErrorCode, isVoiceOtpError, VoiceOtpError } from './errors.ts';
export type { components, operations, paths, webhooks } from './openapi.ts';
export {
  type OutcomeEvent,
  type OutcomeEventOf,
  type OutcomeEventType,
  verifyWebhook,
  type WebhookHeaders,
  WebhookVerificationError,
} from './webhooks.ts';
