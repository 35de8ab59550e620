import type { HttpEvent } from '#platform/http.ts';
import { answerParams, apiEvent, hangupParams, webhookEvent } from '../test/support/events.ts';

/** The benchmark's requests: the same API Gateway events the tests build (test/support/events.ts). */
export const BENCH_API_KEY_ID = 'bench-key';

export { answerParams, hangupParams };

export const sendEvent = (phone: string, apiKeyId = BENCH_API_KEY_ID): HttpEvent =>
  apiEvent({ method: 'POST', resource: '/v1/verifications', body: { phone }, apiKeyId });

/** A send that asks for the code by SMS (the default channel is voice). */
export const smsSendEvent = (phone: string, apiKeyId = BENCH_API_KEY_ID): HttpEvent =>
  apiEvent({ method: 'POST', resource: '/v1/verifications', body: { phone, channel: 'sms' }, apiKeyId });

/** A send that asks for the code in a WhatsApp authentication template. */
export const whatsappSendEvent = (phone: string, apiKeyId = BENCH_API_KEY_ID): HttpEvent =>
  apiEvent({
    method: 'POST',
    resource: '/v1/verifications',
    body: { phone, channel: 'whatsapp' },
    apiKeyId,
  });

export const checkEvent = (id: string, code: string, apiKeyId = BENCH_API_KEY_ID): HttpEvent =>
  apiEvent({ method: 'POST', resource: '/v1/verifications/check', body: { id, code }, apiKeyId });

const byId = (method: string, resource: string, id: string, apiKeyId: string): HttpEvent =>
  apiEvent({ method, resource, path: resource.replace('{id}', id), pathParameters: { id }, apiKeyId });

export const statusEvent = (id: string, apiKeyId = BENCH_API_KEY_ID) =>
  byId('GET', '/v1/verifications/{id}', id, apiKeyId);

export const cancelEvent = (id: string, apiKeyId = BENCH_API_KEY_ID) =>
  byId('POST', '/v1/verifications/{id}/cancel', id, apiKeyId);

/** A webhook Plivo sends to `url` (a URL we gave it, under PUBLIC_URL), signed with the auth token. */
export const signedWebhook = (url: string, params: Record<string, string>, authToken: string): HttpEvent =>
  webhookEvent(url, params, { authToken });

/** The delivery reports Plivo posts for an SMS that arrives, in order: one per status. */
export const DELIVERY_STATUSES = ['queued', 'sent', 'delivered'] as const;

/** For a WhatsApp message that arrives and is opened: read after delivered. */
export const WHATSAPP_STATUSES = ['queued', 'sent', 'delivered', 'read'] as const;

/**
 * What Plivo posts to a WhatsApp message's report URL for one status, with the parameters the phone
 * simulator sends (local/message-simulator.ts). The amount is a placeholder the service records unread.
 */
export function whatsappReportParams(
  messageUuid: string,
  status: (typeof WHATSAPP_STATUSES)[number],
): Record<string, string> {
  return {
    MessageUUID: messageUuid,
    ParentMessageUUID: messageUuid,
    PartInfo: '1 of 1',
    To: '14155550123',
    From: BENCH_WHATSAPP.number.slice(1),
    Type: 'whatsapp',
    Status: status,
    Units: '1',
    TotalRate: '0.00140',
    TotalAmount: '0.00140',
    Sequence: String(WHATSAPP_STATUSES.indexOf(status) + 1),
    MessageTime: '2026-11-30 10:00:00.000000',
    ConversationID: messageUuid.replaceAll('-', ''),
    ConversationOrigin: 'authentication',
  };
}

/** The bench's WhatsApp Business number and approved template: the stack's settings and the simulator's account. */
export const BENCH_WHATSAPP = { number: '+14155550010', template: 'verification_code' } as const;

/**
 * What Plivo posts to the delivery-report URL for one status of a one-segment message, with the parameters
 * the phone simulator sends (local/message-simulator.ts). The rate is a placeholder: the service records it
 * without reading it.
 */
export function deliveryReportParams(
  messageUuid: string,
  status: (typeof DELIVERY_STATUSES)[number],
): Record<string, string> {
  const sequence = DELIVERY_STATUSES.indexOf(status) + 1;
  return {
    MessageUUID: messageUuid,
    ParentMessageUUID: messageUuid,
    PartInfo: '1 of 1',
    To: '14155550123',
    From: '14155550100',
    Type: 'sms',
    Status: status,
    Units: '1',
    TotalRate: '0.00500',
    TotalAmount: '0.00500',
    MCC: '001',
    MNC: '01',
    Sequence: String(sequence),
    MessageTime: '2026-11-30 10:00:00.000000',
    QueuedTime: '2026-11-30 10:00:00.000000',
    SentTime: sequence >= 2 ? '2026-11-30 10:00:01.000000' : '',
    DeliveryReportTime: sequence >= 3 ? '2026-11-30 10:00:03.000000' : '',
    PowerpackUUID: '',
  };
}
