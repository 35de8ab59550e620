import type { Channel } from './config.ts';

/**
 * Every route of the v1 API, in one place: the handlers dispatch on it, the local stack serves it, the CDK
 * stack provisions it and a test holds openapi.yaml to it.
 */
export type FunctionName = 'send' | 'verify' | 'answer' | 'hangup' | 'events' | 'deliver';

/** The functions behind API Gateway; `events` reads the table's stream and `deliver` the webhook queue instead. */
export type ApiFunctionName = Exclude<FunctionName, 'events' | 'deliver'>;

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** API Gateway's resource template; `event.resource` carries it. */
  resource: string;
  function: ApiFunctionName;
  /** App routes need an API key; Plivo's webhooks are authenticated by their signature instead. */
  auth: 'api-key' | 'plivo-signature';
}

export const ROUTES: readonly Route[] = [
  { method: 'POST', resource: '/v1/verifications', function: 'send', auth: 'api-key' },
  { method: 'POST', resource: '/v1/verifications/check', function: 'verify', auth: 'api-key' },
  { method: 'GET', resource: '/v1/verifications/{id}', function: 'verify', auth: 'api-key' },
  { method: 'POST', resource: '/v1/verifications/{id}/cancel', function: 'verify', auth: 'api-key' },
  // The app's webhook endpoint: verify holds the key ring that seals its secret, and no Plivo secret.
  { method: 'PUT', resource: '/v1/webhook', function: 'verify', auth: 'api-key' },
  { method: 'GET', resource: '/v1/webhook', function: 'verify', auth: 'api-key' },
  { method: 'DELETE', resource: '/v1/webhook', function: 'verify', auth: 'api-key' },
  // "Forget my number": verify holds the key ring and the table access it needs (lib/verification/erasure.ts).
  { method: 'POST', resource: '/v1/phones/erase', function: 'verify', auth: 'api-key' },
  // The calling key's usage, counted by the events function: verify reads it (one BatchGetItem).
  { method: 'GET', resource: '/v1/usage', function: 'verify', auth: 'api-key' },
  { method: 'POST', resource: '/v1/plivo/answer', function: 'answer', auth: 'plivo-signature' },
  { method: 'POST', resource: '/v1/plivo/hangup', function: 'hangup', auth: 'plivo-signature' },
  // SMS and WhatsApp delivery reports: hangup records delivery outcomes, calls' and messages' alike.
  { method: 'POST', resource: '/v1/plivo/message-status', function: 'hangup', auth: 'plivo-signature' },
];

/** The media types the API speaks: JSON on app routes, Plivo's forms on webhooks. */
export const MEDIA_TYPES = ['application/json', 'application/x-www-form-urlencoded'] as const;

export const ANSWER_PATH = '/v1/plivo/answer';
export const HANGUP_PATH = '/v1/plivo/hangup';
export const MESSAGE_STATUS_PATH = '/v1/plivo/message-status';

/** The step Plivo's fallback_url names: the first answer again, asked because the answer_url failed. */
export const FALLBACK_STEP = 'fallback';

/** The answer webhook's URL: its query is covered by Plivo's signature and holds no plaintext code. */
export const answerUrl = (publicUrl: string, query: Record<string, string>) =>
  `${publicUrl}${ANSWER_PATH}?${new URLSearchParams(query)}`;

/**
 * The hangup and delivery-report URLs carry the sealed token as the answer URL does, so the hangup function
 * can send the code on the other channel (fallback) without any code being stored.
 */
export const hangupUrl = (publicUrl: string, verificationId: string, token: string) =>
  `${publicUrl}${HANGUP_PATH}?${new URLSearchParams({ v: verificationId, t: token })}`;

/**
 * A WhatsApp message's reports name their channel (`c=whatsapp`), so they can only ever be recorded on that
 * message, never on the SMS that may fall back from it. An SMS's URL has no `c`, as before WhatsApp existed.
 */
export const messageStatusUrl = (
  publicUrl: string,
  verificationId: string,
  token: string,
  channel: Extract<Channel, 'sms' | 'whatsapp'> = 'sms',
) =>
  `${publicUrl}${MESSAGE_STATUS_PATH}?${new URLSearchParams({
    v: verificationId,
    t: token,
    ...(channel === 'whatsapp' && { c: channel }),
  })}`;
