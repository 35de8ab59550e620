import * as z from 'zod/mini';
import { ApiError } from '#platform/errors.ts';
import type { KeyRing } from '#platform/keyring.ts';
import type { Secrets } from '#platform/secrets.ts';
import type { WebhookSecretStore, WebhookStore } from '#store/store.ts';
import { field, unknownFields } from '#verification/requests.ts';
import { OUTCOME_EVENT_TYPES, type OutcomeEventType } from './outcome-events.ts';
import { newWebhookSecret, openWebhookSecret, sealedKeyId, sealWebhookSecret } from './webhook-secret.ts';
import { checkWebhookUrl } from './webhook-url.ts';

/**
 * An API key's webhook endpoint: set (PUT, a new secret each time, shown only then), read (GET, never the
 * secret), removed (DELETE). One endpoint per key, stored as `WEBHOOK#<api key id>`.
 */
export interface AppWebhookDeps {
  config: { webhooks: { allowLocalhost: boolean } };
  store: WebhookStore;
  secrets: Pick<Secrets, 'keyRing'>;
  clock: () => number;
}

export interface WebhookView {
  url: string;
  events: OutcomeEventType[];
}

/** PUT /v1/webhook's body, in the words of the other request bodies (lib/verification/requests.ts). */
export const webhookRequest = z.strictObject(
  {
    // The URL rules themselves (lib/events/webhook-url.ts) answer invalid_webhook_url; a 2,048-character URL is
    // their limit, this one only keeps a huge string from being parsed.
    url: field('url', 4096),
    events: z
      .array(
        z.enum(OUTCOME_EVENT_TYPES as [OutcomeEventType, ...OutcomeEventType[]], {
          error: `events may hold only ${OUTCOME_EVENT_TYPES.map((type) => `"${type}"`).join(', ')}.`,
        }),
        {
          error: (issue) =>
            issue.input === undefined ? 'events is required.' : 'events must be a JSON array of event types.',
        },
      )
      .check(
        z.minLength(1, 'events must name at least one event type.'),
        z.refine((events) => new Set(events).size === events.length, 'events names an event type twice.'),
      ),
  },
  unknownFields,
);

export const webhookNotFound = () =>
  new ApiError(404, 'webhook_not_found', 'No webhook is set for this API key.');

export async function setWebhook(
  deps: AppWebhookDeps,
  apiKeyId: string,
  request: WebhookView,
): Promise<WebhookView & { secret: string }> {
  const url = checkWebhookUrl(request.url, deps.config.webhooks.allowLocalhost).href;
  const secret = newWebhookSecret();
  const ring = await deps.secrets.keyRing();
  await deps.store.putWebhook(apiKeyId, {
    url,
    events: request.events,
    sealedSecret: sealWebhookSecret(ring.current, apiKeyId, secret),
    updatedAt: deps.clock(),
  });
  return { url, events: request.events, secret };
}

export async function getWebhook(deps: AppWebhookDeps, apiKeyId: string): Promise<WebhookView> {
  const webhook = await deps.store.getWebhook(apiKeyId);
  if (!webhook) throw webhookNotFound();
  return { url: webhook.url, events: webhook.events as OutcomeEventType[] };
}

export async function deleteWebhook(deps: AppWebhookDeps, apiKeyId: string): Promise<void> {
  if (!(await deps.store.deleteWebhook(apiKeyId))) throw webhookNotFound();
}

/** What resealing the endpoints' secrets did, by API key id (never a secret). */
export interface ResealReport {
  /** Sealed again under the ring's current key. */
  resealed: string[];
  /** Already under the current key, or changed by a PUT or DELETE meanwhile (which used the current key). */
  current: number;
  /** Opens under no key of the ring (its key is gone, or it was altered): its deliveries already fail. */
  unreadable: string[];
}

/**
 * Before a key rotation's phase 2 removes the old keys: every endpoint's secret sealed under an older key is
 * opened and sealed again under the current one, so app webhooks survive the rotation. Each rewrite is
 * conditional on the item still holding the secret that was read, so a PUT's new secret is never overwritten.
 */
export async function resealWebhookSecrets(store: WebhookSecretStore, ring: KeyRing): Promise<ResealReport> {
  const report: ResealReport = { resealed: [], current: 0, unreadable: [] };
  for (const { apiKeyId, sealedSecret } of await store.listSealedSecrets()) {
    if (sealedKeyId(sealedSecret) === ring.current.id) {
      report.current += 1;
      continue;
    }
    const secret = openWebhookSecret(ring, apiKeyId, sealedSecret);
    if (secret === undefined) {
      report.unreadable.push(apiKeyId);
      continue;
    }
    const resealed = sealWebhookSecret(ring.current, apiKeyId, secret);
    if (await store.replaceSealedSecret(apiKeyId, sealedSecret, resealed)) report.resealed.push(apiKeyId);
    // Changed meanwhile: only a PUT (sealing under the current key) or a DELETE can have done it.
    else report.current += 1;
  }
  return report;
}
