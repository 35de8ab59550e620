import type { Channel, FallbackChannel } from '#platform/config.ts';

/**
 * Outcome events: derived by the events function from the table's stream, published to EventBridge and to
 * the app's webhook. Payloads hold no code, hash, token or full number (`to` is masked).
 */
export type OutcomeEventType =
  | 'verification.started'
  | 'verification.approved'
  | 'verification.canceled'
  | 'verification.failed'
  | 'verification.max_attempts_reached'
  | 'verification.erased'
  | 'call.ended'
  | 'message.status';

export const OUTCOME_EVENT_TYPES: readonly OutcomeEventType[] = [
  'verification.started',
  'verification.approved',
  'verification.canceled',
  'verification.failed',
  'verification.max_attempts_reached',
  'verification.erased',
  'call.ended',
  'message.status',
];

/** What an app receives: the EventBridge detail and the webhook body. */
export interface OutcomePayload {
  type: OutcomeEventType;
  createdAt: string;
  data: {
    verificationId: string;
    status: string;
    channel: Channel;
    to: string;
    call?: Record<string, unknown>;
    message?: Record<string, unknown>;
    fallback?: { channel: FallbackChannel; reason: string };
  };
}

export interface OutcomeEvent {
  /** `evt_` + an id derived from the stream record and the type: the same on every redelivery. */
  id: string;
  /** Whose verification it is: routes the event to that key's webhook; never sent out. */
  apiKeyId: string;
  payload: OutcomePayload;
}

/** Where events go. A rejection fails the stream record, which Lambda retries (bisecting the batch). */
export interface EventSink {
  publish(events: readonly OutcomeEvent[]): Promise<void>;
}
