import type { components } from './openapi.ts';

/** Every stable error code the API documents (openapi.yaml, components.schemas.Error). */
export type ErrorCode = components['schemas']['Error']['error']['code'];

/**
 * An answer that was not the operation's success: `code` is the API's stable error code, or
 * `unexpected_response` when the answer was not the API's error shape (a proxy's page, say).
 */
export class VoiceOtpError extends Error {
  override readonly name = 'VoiceOtpError';
  readonly status: number;
  readonly code: ErrorCode | 'unexpected_response';
  /** Seconds to wait before trying again: set on 429 `rate_limited` and on 503s (from Retry-After). */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    status: number,
    code: ErrorCode | 'unexpected_response',
    message: string,
    retryAfterSeconds?: number,
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Narrows an unknown error to a VoiceOtpError, and optionally to some codes: `isVoiceOtpError(e, 'rate_limited')`. */
export function isVoiceOtpError<C extends VoiceOtpError['code']>(
  error: unknown,
  ...codes: C[]
): error is VoiceOtpError & { code: C } {
  return error instanceof VoiceOtpError && (codes.length === 0 || (codes as string[]).includes(error.code));
}

/** The error an answer carries (its parsed body): its `error.code` and message when it has the API's shape. */
export function errorFrom(response: Response, body: unknown): VoiceOtpError {
  const header = response.headers.get('retry-after');
  const retryAfter = header !== null && /^[0-9]+$/.test(header) ? Number(header) : undefined;
  const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (typeof error?.code === 'string' && typeof error.message === 'string') {
    return new VoiceOtpError(response.status, error.code as ErrorCode, error.message, retryAfter);
  }
  return new VoiceOtpError(
    response.status,
    'unexpected_response',
    `The API answered ${response.status} without an error body.`,
    retryAfter,
  );
}
