import { ApiError } from './errors.ts';

/** What placing a verification call needs; the number is in E.164 and lives only in this request. */
export interface CallRequest {
  verificationId: string;
  to: string;
  answerUrl: string;
  /** Asked by the provider when the answer URL fails: the same route, marked as the last try. */
  fallbackUrl: string;
  hangupUrl: string;
}

export interface PlacedCall {
  /** The provider's id for the call request (Plivo's request_uuid). */
  requestId: string;
}

export interface Telephony {
  placeCall(request: CallRequest): Promise<PlacedCall>;
}

export const callRejected = () =>
  new ApiError(422, 'call_rejected', 'The telephony provider refused to call this number.');

export const telephonyUnavailable = () =>
  new ApiError(
    502,
    'telephony_unavailable',
    'The telephony provider could not be reached; try again shortly.',
  );

/** A send whose call request went out and whose answer was lost: whether a call was placed is unknown. */
export const callOutcomeUnknown = () =>
  new ApiError(
    502,
    'telephony_unavailable',
    'The call for this request could not be placed, or whether it was is unknown; send again with a new Idempotency-Key.',
  );
