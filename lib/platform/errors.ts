/** Every failure a client can see: an HTTP status, a stable snake_case code and a sentence for a developer. */
export type ErrorCode =
  | 'invalid_json'
  | 'invalid_request'
  | 'invalid_phone'
  | 'invalid_code'
  | 'unsupported_locale'
  | 'unsupported_number_type'
  | 'invalid_webhook_url'
  // API Gateway's answer to an authorizer's refusal (infra/api.ts); this API has no authorizer.
  | 'unauthorized'
  // A request without a valid, enabled API key (missing, unknown, disabled or rotated away), and the refusals
  // of AWS WAF or a resource policy.
  | 'forbidden'
  | 'country_not_allowed'
  // A channel the stack (or the tenant) does not allow: WhatsApp without its settings.
  | 'channel_not_allowed'
  | 'number_blocked'
  | 'invalid_signature'
  | 'verification_not_found'
  | 'route_not_found'
  | 'webhook_not_found'
  // Operator routes of the local stack and `npm run tenants` only.
  | 'tenant_not_found'
  | 'method_not_allowed'
  | 'verification_not_pending'
  | 'idempotency_key_reused'
  | 'idempotency_request_in_progress'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'call_rejected'
  | 'message_rejected'
  | 'rate_limited'
  | 'telephony_unavailable'
  | 'daily_call_cap_reached'
  | 'store_unavailable'
  | 'internal_error'
  // Answered by API Gateway alone (infra/api.ts): the function did not answer within its 29 s.
  | 'gateway_timeout';

export class ApiError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly headers: Record<string, string>;

  constructor(status: number, code: ErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

export const invalidRequest = (message: string) => new ApiError(400, 'invalid_request', message);

/** The stack, or the calling key's tenant, does not send on this channel: nothing is stored or sent. */
export const channelNotAllowed = (channel: string) =>
  new ApiError(403, 'channel_not_allowed', `The ${channel} channel is not enabled for this API key.`);

/** What API Gateway answers, in our error shape, for a request whose key it does not take (infra/api.ts). */
export const API_KEY_REFUSED_MESSAGE =
  'A valid, enabled API key is required in x-api-key (this one is missing, unknown, disabled or was rotated away).';

export const apiKeyRefused = () => new ApiError(403, 'forbidden', API_KEY_REFUSED_MESSAGE);

export const verificationNotFound = () =>
  new ApiError(404, 'verification_not_found', 'No such verification for this API key, or it is not pending.');

export const verificationNotPending = (status: string) =>
  new ApiError(409, 'verification_not_pending', `The verification is ${status}, not pending.`);

export const retryAfterSeconds = (seconds: number) => ({
  'Retry-After': String(Math.max(1, Math.ceil(seconds))),
});
