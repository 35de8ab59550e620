import { effectiveStatus, messageChannel, type Verification } from '#store/verification.ts';

/** The JSON shapes of the API contract (openapi.yaml), built from stored verifications. */
const iso = (ms: number) => new Date(ms).toISOString();

/** Items written before SMS existed have no channel: they were calls. The message block says its own. */
export const channelOf = (v: Verification) => v.channel ?? 'voice';

/** Once the other channel was used or refused; a claim still in flight shows nothing yet. */
const fallbackBlock = (v: Verification) =>
  v.fallbackTo && v.fallbackTo.state !== 'claimed'
    ? { fallback: { channel: v.fallbackTo.channel, reason: v.fallbackTo.reason ?? null } }
    : {};

export const createdView = (v: Verification) => ({
  id: v.id,
  status: v.status,
  channel: channelOf(v),
  to: v.to,
  locale: v.locale,
  createdAt: iso(v.createdAt),
  expiresAt: iso(v.expiresAt),
  ...(v.call && { call: { status: v.call.status } }),
  ...(v.message && { message: { channel: messageChannel(v.message), status: v.message.status } }),
  // A send-time fallback: the first channel was refused and the other one went out instead.
  ...fallbackBlock(v),
});

/** The call and message blocks as the status view and the outcome events show them. */
export const deliveryBlocks = (v: Verification) => ({
  ...(v.call && {
    call: {
      status: v.call.status,
      durationSeconds: v.call.durationSeconds ?? null,
      billDurationSeconds: v.call.billDurationSeconds ?? null,
      hangupCause: v.call.hangupCause ?? null,
      cost: v.call.cost ?? null,
    },
  }),
  ...(v.message && {
    message: {
      // SMS or WhatsApp: a WhatsApp message's SMS fallback takes its place on the block.
      channel: messageChannel(v.message),
      status: v.message.status,
      units: v.message.units ?? null,
      cost: v.message.cost ?? null,
      errorCode: v.message.errorCode ?? null,
    },
  }),
});

export const statusView = (v: Verification, now: number) => ({
  id: v.id,
  status: effectiveStatus(v, now),
  channel: channelOf(v),
  to: v.to,
  locale: v.locale,
  createdAt: iso(v.createdAt),
  expiresAt: iso(v.expiresAt),
  attempts: v.attempts,
  attemptsLeft: Math.max(0, v.maxAttempts - v.attempts),
  ...deliveryBlocks(v),
  ...fallbackBlock(v),
});

export const canceledView = (v: Verification) => ({ id: v.id, status: 'canceled' as const });
