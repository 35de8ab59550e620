import { openTable } from '../lib/dynamodb-client.ts';
import { counterStore } from '../lib/dynamodb-counters.ts';
import { verificationStore } from '../lib/dynamodb-verifications.ts';
import { httpHandler, routeNotServed, xml } from '../lib/http.ts';
import { telephonyFor } from '../lib/plivo-calls.ts';
import { type HangupDeps, recordHangup } from '../lib/record-hangup.ts';
import { recordMessageStatus } from '../lib/record-message.ts';
import { HANGUP_PATH, MESSAGE_STATUS_PATH, ROUTES } from '../lib/routes.ts';
import { lambdaHandler } from '../lib/runtime.ts';
import { authenticateWebhook, webhookQuery } from '../lib/webhooks.ts';

/**
 * Delivery outcomes from Plivo, each signed and idempotent: how a call ended, how far an SMS got. When the
 * first channel failed, the same code goes out once on the other (lib/fallback.ts).
 */
const RECORDERS = {
  // POST /v1/plivo/hangup: once per CallUUID.
  [HANGUP_PATH]: recordHangup,
  // POST /v1/plivo/message-status: once per MessageUUID and status, forward only.
  [MESSAGE_STATUS_PATH]: recordMessageStatus,
} as const;

export const createHangupHandler = (deps: HangupDeps & { publicUrl: string }) =>
  httpHandler(deps, async (event) => {
    const path = event.resource;
    if (event.httpMethod !== 'POST' || (path !== HANGUP_PATH && path !== MESSAGE_STATUS_PATH))
      routeNotServed(event, ROUTES);
    const params = await authenticateWebhook(
      event,
      { ...deps, webhookAllowedCidrs: deps.config.webhookAllowedCidrs },
      path,
    );
    await RECORDERS[path](deps, webhookQuery(event), params);
    return xml('<Response/>');
  });

export const handler = lambdaHandler((container) => {
  // The verifications' transitions and the fallback's abuse counters: no phone pointers, no idempotency keys.
  const table = openTable(container.config);
  return createHangupHandler({
    ...container,
    publicUrl: container.config.publicUrl,
    store: { ...verificationStore(table), ...counterStore(table) },
    telephony: telephonyFor(container),
  });
});
