import { createStore } from '../lib/dynamodb-store.ts';
import { httpHandler, routeNotServed, xml } from '../lib/http.ts';
import { type HangupDeps, recordHangup } from '../lib/record-hangup.ts';
import { HANGUP_PATH, ROUTES } from '../lib/routes.ts';
import { lambdaHandler } from '../lib/runtime.ts';
import type { Secrets } from '../lib/secrets.ts';
import { authenticateWebhook, webhookQuery } from '../lib/webhooks.ts';

/** POST /v1/plivo/hangup: Plivo reports how the call ended. Signed, idempotent per CallUUID. */
export const createHangupHandler = (deps: HangupDeps & { publicUrl: string; secrets: Secrets }) =>
  httpHandler(deps, async (event) => {
    if (event.httpMethod !== 'POST' || event.resource !== HANGUP_PATH) routeNotServed(event, ROUTES);
    const params = await authenticateWebhook(event, deps, HANGUP_PATH);
    await recordHangup(deps, webhookQuery(event), params);
    return xml('<Response/>');
  });

export const handler = lambdaHandler((container) =>
  createHangupHandler({
    ...container,
    publicUrl: container.config.publicUrl,
    store: createStore(container.config),
  }),
);
