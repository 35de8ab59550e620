/** Every failure a client can see: an HTTP status, a stable snake_case code and a sentence for a developer. */
export type ErrorCode =
  | 'invalid_json'
  | 'invalid_request'
  | 'invalid_phone'
  | 'invalid_code'
  | 'unsupported_locale'
  | 'unsupported_number_type'
  | 'invalid_webhook_url'
  | 'unauthorized'
  // Answered by API Gateway alone (infra/api.ts): AWS WAF, resource policy or authorizer denials.
  | 'forbidden'
  | 'country_not_allowed'
  // A channel the stack (or the tenant) does not allow: WhatsApp without its settings.
  | 'channel_not_allowed'
  | 'number_blocked'
  | 'invalid_signature'
  | 'verification_not_found'
  | 'route_not_found'
  | 'webhook_not_found'
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

/** The stack (or the tenant) does not send on this channel: nothing is stored or sent. */
export const channelNotAllowed = (channel: string) =>
  new ApiError(403, 'channel_not_allowed', `The ${channel} channel is not enabled for this service.`);

export const verificationNotFound = () =>
  new ApiError(404, 'verification_not_found', 'No such verification for this API key, or it is not pending.');

export const verificationNotPending = (status: string) =>
  new ApiError(409, 'verification_not_pending', `The verification is ${status}, not pending.`);

export const retryAfterSeconds = (seconds: number) => ({
  'Retry-After': String(Math.max(1, Math.ceil(seconds))),
});
