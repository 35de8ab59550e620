import { telephonyFor } from '#channels/plivo-calls.ts';
import { authenticateWebhook, webhookQuery } from '#channels/plivo-webhooks.ts';
import { httpHandler, routeNotServed, xml } from '#platform/http.ts';
import { HANGUP_PATH, MESSAGE_STATUS_PATH, ROUTES } from '#platform/routes.ts';
import { lambdaHandler } from '#platform/runtime.ts';
import { openTable } from '#store/dynamodb-client.ts';
import { counterStore } from '#store/dynamodb-counters.ts';
import { verificationStore } from '#store/dynamodb-verifications.ts';
import { type HangupDeps, recordHangup } from '#verification/record-hangup.ts';
import { recordMessageStatus } from '#verification/record-message.ts';

/**
 * Delivery outcomes from Plivo, each signed and idempotent: how a call ended, how far an SMS got. When the
 * first channel failed, the same code goes out once on the other (lib/verification/fallback.ts).
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
