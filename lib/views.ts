import { effectiveStatus, type Verification } from './verification.ts';

/** The JSON shapes of the API contract (openapi.yaml), built from stored verifications. */
const iso = (ms: number) => new Date(ms).toISOString();

export const createdView = (v: Verification) => ({
  id: v.id,
  status: v.status,
  channel: 'voice',
  to: v.to,
  locale: v.locale,
  createdAt: iso(v.createdAt),
  expiresAt: iso(v.expiresAt),
  call: { status: v.call.status },
});

export const statusView = (v: Verification, now: number) => ({
  id: v.id,
  status: effectiveStatus(v, now),
  channel: 'voice',
  to: v.to,
  locale: v.locale,
  createdAt: iso(v.createdAt),
  expiresAt: iso(v.expiresAt),
  attempts: v.attempts,
  attemptsLeft: Math.max(0, v.maxAttempts - v.attempts),
  call: {
    status: v.call.status,
    durationSeconds: v.call.durationSeconds ?? null,
    billDurationSeconds: v.call.billDurationSeconds ?? null,
    hangupCause: v.call.hangupCause ?? null,
    cost: v.call.cost ?? null,
  },
});

export const canceledView = (v: Verification) => ({ id: v.id, status: 'canceled' as const });
