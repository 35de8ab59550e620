import { ApiError } from './errors.ts';
import type { OutcomeEventType } from './outcome-events.ts';
import type { Secrets } from './secrets.ts';
import type { WebhookStore } from './store.ts';
import { newWebhookSecret, sealWebhookSecret } from './webhook-secret.ts';
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
