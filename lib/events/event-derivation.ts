import { createHash } from 'node:crypto';
import { VERIFICATION_PREFIX } from '#store/table.ts';
import type { CallStatus, Verification, VerificationStatus } from '#store/verification.ts';
import { channelOf, deliveryBlocks } from '#verification/views.ts';
import type { OutcomeEvent, OutcomeEventType, OutcomePayload } from './outcome-events.ts';

/**
 * What each write to the table means to an app: the outcome events of one stream record, from its old and
 * new images. Only verification items have outcomes (counters, pointers, idempotency records and markers
 * have none), and only a write can be an event: expiry writes nothing, so it is none (apps know `expiresAt`).
 * A deletion by DynamoDB's TTL is none either; an erasure (`POST /v1/phones/erase` deletes the item) is
 * `verification.erased`, so apps can forget the verification too.
 */
export interface ChangeRecord {
  /** The stream record's eventID: the same on every redelivery of the record. */
  eventId: string;
  kind: 'INSERT' | 'MODIFY' | 'REMOVE';
  /** A REMOVE by DynamoDB's TTL (the record's userIdentity is the DynamoDB service), not by a request. */
  byTtl: boolean;
  /** When the write happened (the record's ApproximateCreationDateTime), ms. */
  at: number | undefined;
  old: Record<string, unknown> | undefined;
  new: Record<string, unknown> | undefined;
}

const LEFT_PENDING: Partial<Record<VerificationStatus, OutcomeEventType>> = {
  approved: 'verification.approved',
  canceled: 'verification.canceled',
  failed: 'verification.failed',
  max_attempts_reached: 'verification.max_attempts_reached',
};

/** Calls still ringing or queued, or answered and running: what a cancel must hang up. */
export const IN_FLIGHT_CALL: readonly CallStatus[] = ['queued', 'ringing', 'in-progress'];

export const isVerificationItem = (image: Record<string, unknown> | undefined) =>
  typeof image?.pk === 'string' && image.pk.startsWith(VERIFICATION_PREFIX);

/** The verification of a verification item's image (the item's key and TTL dropped). */
export const verificationOf = (image: Record<string, unknown> | undefined): Verification | undefined => {
  if (!isVerificationItem(image)) return undefined;
  const { pk: _pk, ttl: _ttl, ...verification } = image as Record<string, unknown>;
  return verification as unknown as Verification;
};

export function deriveEvents(record: ChangeRecord): OutcomeEvent[] {
  if (record.kind === 'REMOVE') return erasure(record);
  const after = verificationOf(record.new);
  if (!after) return [];
  const before = record.kind === 'MODIFY' ? verificationOf(record.old) : undefined;
  const types: OutcomeEventType[] = [];
  if (!before) {
    if (after.status === 'pending') types.push('verification.started');
  } else {
    const left = before.status === 'pending' ? LEFT_PENDING[after.status] : undefined;
    if (left) types.push(left);
    // Plivo's hangup webhook binds the CallUUID once (retries with it rewrite the same block): once per call.
    if (after.call?.uuid && !before.call?.uuid) types.push('call.ended');
    // A message moved on, or another took its place: a WhatsApp message's SMS fallback starts at queued, after
    // the WhatsApp message's failed.
    if (after.message && after.message.status !== before.message?.status) types.push('message.status');
  }
  return types.map((type) => ({
    id: eventId(record.eventId, type),
    apiKeyId: after.apiKeyId,
    payload: payloadOf(type, after),
  }));
}

/** An erased verification: its id, status, channel and masked number, nothing of its blocks. */
function erasure(record: ChangeRecord): OutcomeEvent[] {
  const erased = verificationOf(record.old);
  if (!erased || record.byTtl) return [];
  const type = 'verification.erased';
  const payload: OutcomePayload = {
    type,
    createdAt: iso(record.at ?? erased.updatedAt),
    data: {
      verificationId: erased.id,
      status: erased.status,
      channel: channelOf(erased),
      to: erased.to,
    },
  };
  return [{ id: eventId(record.eventId, type), apiKeyId: erased.apiKeyId, payload }];
}

/** `evt_` + 26 characters from the record's id and the type: the same event keeps its id on redelivery. */
export const eventId = (recordId: string, type: OutcomeEventType) =>
  `evt_${createHash('sha256').update(`${recordId}\n${type}`).digest('base64url').slice(0, 26)}`;

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * What an app is told: ids, statuses and the masked number, as the status view shows them. Never the code's
 * hash, the key id, attempts' reservations, the phone's pseudonym, nor Plivo's ids.
 */
function payloadOf(type: OutcomeEventType, v: Verification): OutcomePayload {
  return {
    type,
    // The write's own time: a redelivered record gives the same payload.
    createdAt: iso(type === 'verification.started' ? v.createdAt : v.updatedAt),
    data: {
      verificationId: v.id,
      status: v.status,
      channel: channelOf(v),
      to: v.to,
      ...deliveryBlocks(v),
      ...(v.fallbackTo &&
        v.fallbackTo.state !== 'claimed' && {
          // The status view's null (the other channel was used) is `sent` here.
          fallback: { channel: v.fallbackTo.channel, reason: v.fallbackTo.reason ?? 'sent' },
        }),
    },
  };
}

/**
 * The call a verification that just left pending by a cancel or a resend (superseded) still has in flight,
 * by the provider's request id; also when the request id is written after the cancel (the send's write
 * raced the cancel). Undefined when there is nothing to hang up.
 */
export function callToEnd(record: ChangeRecord): string | undefined {
  if (record.kind !== 'MODIFY') return undefined;
  const before = verificationOf(record.old);
  const after = verificationOf(record.new);
  const requestId = after?.call?.requestId;
  if (!before || !after || after.status !== 'canceled' || !requestId) return undefined;
  if (!IN_FLIGHT_CALL.includes(after.call?.status ?? 'completed')) return undefined;
  const justCanceled = before.status === 'pending';
  const justKnown = before.call?.requestId !== requestId;
  return justCanceled || justKnown ? requestId : undefined;
}
