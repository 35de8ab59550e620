import type { Channel } from '#platform/config.ts';

/** The verification record and its vocabulary, shared by the store, the service and the HTTP views. */
export type VerificationStatus =
  | 'pending'
  | 'approved'
  | 'expired'
  | 'max_attempts_reached'
  | 'canceled'
  | 'failed';

export type CallStatus =
  | 'queued'
  | 'ringing'
  | 'in-progress'
  | 'completed'
  | 'busy'
  | 'no-answer'
  | 'failed'
  | 'machine'
  | 'canceled';

export interface CallRecord {
  status: CallStatus;
  /** Plivo's CallUUID, set by the first hangup webhook; later webhooks must carry the same one. */
  uuid?: string;
  /** Plivo's request_uuid, written once the call is placed: what a cancel hangs up (lib/events/stream-events.ts). */
  requestId?: string;
  durationSeconds?: number;
  billDurationSeconds?: number;
  hangupCause?: string;
  /** Plivo's TotalCost as given (a decimal string in the account's currency). */
  cost?: string;
}

/** Plivo's message statuses, in the order they may follow one another (lib/verification/record-message.ts). */
export type MessageStatus = 'queued' | 'sent' | 'delivered' | 'undelivered' | 'failed';

/**
 * Where each status stands: a delivery report may only move a message forward (queued → sent → one of the
 * three final ones), and a final status never changes.
 */
export const MESSAGE_STATUS_RANK: Record<MessageStatus, number> = {
  queued: 0,
  sent: 1,
  delivered: 2,
  undelivered: 2,
  failed: 2,
};

export const isFinalMessageStatus = (status: MessageStatus) => MESSAGE_STATUS_RANK[status] === 2;

export interface MessageRecord {
  status: MessageStatus;
  /** Plivo's MessageUUID, set by the first delivery report; later reports must carry the same one. */
  uuid?: string;
  /** SMS segments Plivo billed (Units). */
  units?: number;
  /** Plivo's TotalAmount as given (a decimal string in the account's currency). */
  cost?: string;
  /** Plivo's ErrorCode for a failed or undelivered message. */
  errorCode?: string;
}

/**
 * The fallback's progress (lib/verification/fallback.ts): `claimed` by the one webhook whose conditional write won (so the
 * other channel is used at most once), then `used` just before the other channel is asked to send, or
 * `refused` with the refusal's error code (a limit, the fraud guard, Plivo refusing or down).
 */
export interface FallbackRecord {
  channel: Channel;
  state: 'claimed' | 'used' | 'refused';
  /** Why the other channel was not used: the error code a send refused the same way would answer. */
  reason?: string;
}

export interface Verification {
  id: string;
  apiKeyId: string;
  status: VerificationStatus;
  /** HMAC of id ‖ code under key `keyId`; the code itself is never stored. */
  codeHash: string;
  keyId: string;
  /** Keyed pseudonym of the E.164 number (lib/channels/phone.ts). */
  phoneHash: string;
  /** Masked number, e.g. +1********23. */
  to: string;
  country: string;
  locale: string;
  attempts: number;
  /**
   * One token per check that reserved an attempt, so a reservation the SDK retried after a timeout (each
   * retry may land once the store recovers) counts once. Never shown.
   */
  reservations?: Set<string>;
  maxAttempts: number;
  /** Epoch milliseconds. */
  createdAt: number;
  expiresAt: number;
  updatedAt: number;
  /** The channel the code was first sent on; absent on items written before SMS existed (voice). */
  channel?: Channel;
  /** Whether the other channel may be used once if this one fails; absent on items older than SMS (no). */
  fallback?: boolean;
  /** Set once a webhook claimed the fallback: what became of it. */
  fallbackTo?: FallbackRecord;
  /** Set when a call was placed (or tried). */
  call?: CallRecord;
  /** Set when an SMS was sent (or tried). */
  message?: MessageRecord;
  /** The fraud guard's window key for this send, where its approval is counted (lib/abuse/abuse.ts). */
  guardWindow?: string;
  /** Set when a newer send for the phone canceled this one, so its late-answered call can say so. */
  supersededBy?: string;
  /**
   * The Idempotency-Key record of the send that made it (its item key), so erasure can remove the answer
   * stored there, which names the masked number.
   */
  idempotencyRecord?: string;
}

/** What the answer webhook reads before it speaks: the status and what decides its effective value. */
export type VerificationState = Pick<
  Verification,
  'status' | 'attempts' | 'maxAttempts' | 'expiresAt' | 'locale' | 'supersededBy'
>;

/**
 * What a client sees: expiry is enforced here, in code, because DynamoDB's TTL only deletes items some
 * time after the retention period. Attempts are not: a verification whose last attempt is reserved stays
 * pending until that check settles it (approved, or max_attempts_reached when the code was wrong).
 */
export function effectiveStatus(
  v: Pick<Verification, 'status' | 'attempts' | 'maxAttempts' | 'expiresAt'>,
  now: number,
): VerificationStatus {
  if (v.status !== 'pending') return v.status;
  return now >= v.expiresAt ? 'expired' : 'pending';
}
