import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import type { components } from './openapi.ts';

type Schemas = components['schemas'];

/** Every outcome event type (schemas/events, as openapi.yaml's webhooks deliver them). */
export type OutcomeEventType = Schemas['WebhookEventType'];

/** The outcome events, each with its own `data` (schemas/events/<type>.json); narrow on `type`. */
export type OutcomeEvent = { [T in OutcomeEventType]: Schemas[T] }[OutcomeEventType];

/** The event of one type: `OutcomeEventOf<'call.ended'>`. */
export type OutcomeEventOf<T extends OutcomeEventType> = Extract<OutcomeEvent, { type: T }>;

export { WebhookVerificationError };

const EVENT_TYPES: ReadonlySet<string> = new Set<OutcomeEventType>([
  'verification.started',
  'verification.approved',
  'verification.canceled',
  'verification.failed',
  'verification.max_attempts_reached',
  'verification.erased',
  'call.ended',
  'message.status',
]);

/** The request's headers as fetch, Node's http module or a framework hands them over. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

/**
 * Verifies one delivery to your webhook endpoint and returns its event. `payload` is the raw request body, as
 * received (not parsed and serialized again); `secret` the `whsec_…` the API showed when the webhook was set.
 * Throws WebhookVerificationError when a header is missing, the signature does not match, or the timestamp is
 * more than five minutes from now (a replay); answer such a request 4xx and do nothing else. Deliveries are
 * retried with the same `webhook-id`: deduplicate on it (returned as `id`).
 */
export function verifyWebhook(
  payload: string,
  headers: WebhookHeaders,
  secret: string,
): { id: string; event: OutcomeEvent } {
  const flat = flatten(headers);
  const event = new Webhook(secret).verify(payload, flat) as unknown;
  const type = (event as { type?: unknown } | null)?.type;
  if (typeof type !== 'string' || !EVENT_TYPES.has(type)) {
    throw new WebhookVerificationError(`Not an outcome event: ${String(type)}`);
  }
  return { id: flat['webhook-id'] ?? '', event: event as OutcomeEvent };
}

function flatten(headers: WebhookHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  if (headers instanceof Headers) {
    headers.forEach((value, name) => {
      flat[name.toLowerCase()] = value;
    });
    return flat;
  }
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
