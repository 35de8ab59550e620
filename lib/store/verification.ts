import type { Channel, FallbackChannel } from '#platform/config.ts';

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

/** The channels that send a message (Plivo's Message API): their records share the `message` block. */
export type MessageChannel = Extract<Channel, 'sms' | 'whatsapp'>;

/** Plivo's message statuses; `read` is WhatsApp's alone (lib/verification/record-message.ts). */
export type MessageStatus = 'queued' | 'sent' | 'delivered' | 'read' | 'undelivered' | 'failed';

/**
 * The statuses a report of each status may follow: a delivery report only moves a message forward (queued →
 * sent → delivered → read, or undelivered / failed), so a late or replayed report never moves it back, and
 * read, undelivered and failed never change. Delivered is final for an SMS: only WhatsApp reports `read`.
 */
export const MESSAGE_STATUS_AFTER: Record<MessageStatus, readonly MessageStatus[]> = {
  queued: [],
  sent: ['queued'],
  delivered: ['queued', 'sent'],
  read: ['queued', 'sent', 'delivered'],
  undelivered: ['queued', 'sent'],
  failed: ['queued', 'sent'],
};

export const isMessageStatus = (value: string): value is MessageStatus =>
  Object.hasOwn(MESSAGE_STATUS_AFTER, value);

export interface MessageRecord {
  status: MessageStatus;
  /** `whatsapp` for a WhatsApp message; absent for an SMS (items written before WhatsApp existed, too). */
  channel?: 'whatsapp';
  /** Plivo's MessageUUID, set by the first delivery report; later reports must carry the same one. */
  uuid?: string;
  /** Units Plivo billed (Units): SMS segments; always 1 for WhatsApp. */
  units?: number;
  /** Plivo's TotalAmount as given (a decimal string in the account's currency). */
  cost?: string;
  /** Plivo's ErrorCode for a failed or undelivered message. */
  errorCode?: string;
}

/** The block a send on `channel` writes first (`queued`), or when it could not go out (`failed`). */
export const deliveryOutcome = (
  channel: Channel,
  status: 'queued' | 'failed',
): { call: CallRecord } | { message: MessageRecord } =>
  channel === 'voice'
    ? { call: { status } }
    : { message: { status, ...(channel === 'whatsapp' && { channel: 'whatsapp' as const }) } };

/** The channel a message record was sent on. */
export const messageChannel = (message: Pick<MessageRecord, 'channel'>): MessageChannel =>
  message.channel ?? 'sms';

/**
 * The fallback's progress (lib/verification/fallback.ts): `claimed` by the one webhook whose conditional write won (so the
 * other channel is used at most once), then `used` just before the other channel is asked to send, or
 * `refused` with the refusal's error code (a limit, the fraud guard, Plivo refusing or down).
 */
export interface FallbackRecord {
  channel: FallbackChannel;
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
  /**
   * Set when an SMS or WhatsApp message was sent (or tried): the latest one, so a WhatsApp message's SMS
   * fallback takes its place (the fallback block says one was used).
   */
  message?: MessageRecord;
  /** The fraud guard's window key for this send, where its approval is counted (lib/abuse/abuse.ts). */
  guardWindow?: string;
  /**
   * Fixed at creation from the tenant's settings, for its fallback (the hangup function never reads them): the
   * tenant's own day cap when below the stack's, and whether the number is on its safe list.
   */
  dayCap?: number;
  safeListed?: boolean;
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
