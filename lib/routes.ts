/**
 * Every route of the v1 API, in one place: the handlers dispatch on it, the local stack serves it, the CDK
 * stack provisions it and a test holds openapi.yaml to it.
 */
export type FunctionName = 'send' | 'verify' | 'answer' | 'hangup';

export interface Route {
  method: 'GET' | 'POST';
  /** API Gateway's resource template; `event.resource` carries it. */
  resource: string;
  function: FunctionName;
  /** App routes need an API key; Plivo's webhooks are authenticated by their signature instead. */
  auth: 'api-key' | 'plivo-signature';
}

export const ROUTES: readonly Route[] = [
  { method: 'POST', resource: '/v1/verifications', function: 'send', auth: 'api-key' },
  { method: 'POST', resource: '/v1/verifications/check', function: 'verify', auth: 'api-key' },
  { method: 'GET', resource: '/v1/verifications/{id}', function: 'verify', auth: 'api-key' },
  { method: 'POST', resource: '/v1/verifications/{id}/cancel', function: 'verify', auth: 'api-key' },
  { method: 'POST', resource: '/v1/plivo/answer', function: 'answer', auth: 'plivo-signature' },
  { method: 'POST', resource: '/v1/plivo/hangup', function: 'hangup', auth: 'plivo-signature' },
];

/** The media types the API speaks: JSON on app routes, Plivo's forms on webhooks. */
export const MEDIA_TYPES = ['application/json', 'application/x-www-form-urlencoded'] as const;

export const ANSWER_PATH = '/v1/plivo/answer';
export const HANGUP_PATH = '/v1/plivo/hangup';

/** The step Plivo's fallback_url names: the first answer again, asked because the answer_url failed. */
export const FALLBACK_STEP = 'fallback';

/** The answer webhook's URL: its query is covered by Plivo's signature and holds no plaintext code. */
export const answerUrl = (publicUrl: string, query: Record<string, string>) =>
  `${publicUrl}${ANSWER_PATH}?${new URLSearchParams(query)}`;

export const hangupUrl = (publicUrl: string, verificationId: string) =>
  `${publicUrl}${HANGUP_PATH}?${new URLSearchParams({ v: verificationId })}`;
