import { ApiError } from '#platform/errors.ts';

/** What placing a verification call needs; the number is in E.164 and lives only in this request. */
export interface CallRequest {
  verificationId: string;
  to: string;
  /** The destination's country (ISO 3166 alpha-2, or 001), which picks the caller ID. */
  country: string;
  answerUrl: string;
  /** Asked by the provider when the answer URL fails: the same route, marked as the last try. */
  fallbackUrl: string;
  hangupUrl: string;
}

export interface PlacedCall {
  /** The provider's id for the call request (Plivo's request_uuid). */
  requestId: string;
}

/** What sending a verification SMS needs; like a call's, the number lives only in this request. */
export interface MessageRequest {
  verificationId: string;
  to: string;
  /** The destination's country (ISO 3166 alpha-2, or 001), which picks the sender number. */
  country: string;
  /** The SMS text: it holds the code, so it goes to the provider and nowhere else (no log, no item). */
  text: string;
  /** Where the provider posts delivery reports: signed, with the verification id and the sealed token. */
  statusUrl: string;
}

/**
 * What sending the code in a WhatsApp authentication template needs: the number (E.164, in this request
 * only), the approved template's name and the language of its translation, and the code, which Meta puts in
 * the template's fixed text and its copy-code button. Like an SMS's text, the code goes to the provider only.
 */
export interface WhatsAppRequest {
  verificationId: string;
  to: string;
  template: string;
  /** Meta's language code of the template's translation, e.g. en_US. */
  language: string;
  code: string;
  /** Where the provider posts delivery and read reports: signed, with the verification id and the sealed token. */
  statusUrl: string;
}

export interface SentMessage {
  /** The provider's id for the message (Plivo's message_uuid). */
  messageId: string;
}

/** The provider's channels, each one request that either goes out or throws an ApiError. */
export interface Telephony {
  placeCall(request: CallRequest): Promise<PlacedCall>;
  sendMessage(request: MessageRequest): Promise<SentMessage>;
  sendWhatsApp(request: WhatsAppRequest): Promise<SentMessage>;
}

/** A call to end: the request id `placeCall` returned, and the country that picked its caller ID. */
export interface CallToEnd {
  requestId: string;
  country: string;
}

/** What the events function asks of the provider: to end a call a cancel or a resend made pointless. */
export interface CallEnder {
  /**
   * Ends a call placed with `placeCall`, whether still ringing or answered; a call already over resolves
   * too. Throws when the provider could not be asked (the caller retries).
   */
  endCall(call: CallToEnd): Promise<'ended' | 'already_over'>;
}

export const callRejected = () =>
  new ApiError(422, 'call_rejected', 'The telephony provider refused to call this number.');

export const messageRejected = () =>
  new ApiError(422, 'message_rejected', 'The telephony provider refused to send an SMS to this number.');

/** Plivo refused the WhatsApp message: most often, the number is not on WhatsApp. */
export const whatsAppRejected = () =>
  new ApiError(
    422,
    'message_rejected',
    'The telephony provider refused to send a WhatsApp message to this number (it may not be on WhatsApp).',
  );

export const telephonyUnavailable = () =>
  new ApiError(
    502,
    'telephony_unavailable',
    'The telephony provider could not be reached; try again shortly.',
  );

/** A send whose request went out and whose answer was lost: whether a call or message went out is unknown. */
export const callOutcomeUnknown = () =>
  new ApiError(
    502,
    'telephony_unavailable',
    'The call or message for this request could not be sent, or whether it was is unknown; send again with a new Idempotency-Key.',
  );
