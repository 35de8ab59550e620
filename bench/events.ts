import { randomUUID } from 'node:crypto';
import type { HttpEvent } from '../lib/http.ts';
import { plivoSignature } from '../lib/plivo-signature.ts';

/**
 * API Gateway REST proxy events, shaped as the gateway hands them to the functions: app routes carry the
 * API key id API Gateway matched, Plivo's webhooks a form body and a V3 signature over PUBLIC_URL.
 */
export const BENCH_API_KEY_ID = 'bench-key';

function proxyEvent(options: {
  method: string;
  resource: string;
  path: string;
  body: string | null;
  headers: Record<string, string>;
  pathParameters?: Record<string, string>;
  query?: URLSearchParams;
  apiKeyId: string | null;
}): HttpEvent {
  const query = options.query && [...options.query.keys()].length > 0 ? options.query : undefined;
  const multi: Record<string, string[]> = {};
  for (const [key, value] of query ?? []) multi[key] = [...(multi[key] ?? []), value];
  return {
    httpMethod: options.method,
    resource: options.resource,
    path: options.path,
    pathParameters: options.pathParameters ?? null,
    queryStringParameters: query ? Object.fromEntries(query) : null,
    multiValueQueryStringParameters: query ? multi : null,
    headers: options.headers,
    multiValueHeaders: {},
    body: options.body,
    isBase64Encoded: false,
    stageVariables: null,
    requestContext: {
      requestId: randomUUID(),
      stage: 'prod',
      identity: { apiKeyId: options.apiKeyId, sourceIp: '127.0.0.1' },
    } as unknown as HttpEvent['requestContext'],
  } as HttpEvent;
}

const jsonRoute = (method: string, resource: string, path: string, body: unknown, apiKeyId: string) =>
  proxyEvent({
    method,
    resource,
    path,
    body: body === undefined ? null : JSON.stringify(body),
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    apiKeyId,
  });

export const sendEvent = (phone: string, apiKeyId = BENCH_API_KEY_ID) =>
  jsonRoute('POST', '/v1/verifications', '/v1/verifications', { phone }, apiKeyId);

export const checkEvent = (id: string, code: string, apiKeyId = BENCH_API_KEY_ID) =>
  jsonRoute('POST', '/v1/verifications/check', '/v1/verifications/check', { id, code }, apiKeyId);

export const statusEvent = (id: string, apiKeyId = BENCH_API_KEY_ID) => ({
  ...jsonRoute('GET', '/v1/verifications/{id}', `/v1/verifications/${id}`, undefined, apiKeyId),
  pathParameters: { id },
});

export const cancelEvent = (id: string, apiKeyId = BENCH_API_KEY_ID) => ({
  ...jsonRoute(
    'POST',
    '/v1/verifications/{id}/cancel',
    `/v1/verifications/${id}/cancel`,
    undefined,
    apiKeyId,
  ),
  pathParameters: { id },
});

/** A webhook Plivo sends to `url` (a URL we gave it, under PUBLIC_URL), signed with the auth token. */
export function webhookEvent(url: string, params: Record<string, string>, authToken: string): HttpEvent {
  const parsed = new URL(url);
  const nonce = randomUUID().replace(/-/g, '');
  const signature = plivoSignature(url, Object.entries(params), nonce, authToken);
  // The resource is the path below the stage, as API Gateway reports it.
  const resource = parsed.pathname.replace(/^\/[^/]+(?=\/v1\/)/, '');
  return proxyEvent({
    method: 'POST',
    resource,
    path: resource,
    body: new URLSearchParams(params).toString(),
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      'X-Plivo-Signature-V3': signature,
      'X-Plivo-Signature-Ma-V3': signature,
      'X-Plivo-Signature-V3-Nonce': nonce,
    },
    query: parsed.searchParams,
    apiKeyId: null,
  });
}

/** What Plivo posts to the answer URL when the callee picks up. */
export const answerParams = (callUuid: string) => ({
  CallUUID: callUuid,
  ALegUUID: callUuid,
  RequestUUID: callUuid,
  ALegRequestUUID: callUuid,
  From: '14155550100',
  To: '14155550123',
  Direction: 'outbound',
  CallStatus: 'in-progress',
  Event: 'StartApp',
});

/** What Plivo posts to the hangup URL after a typical 20-second call, billed as one minute. */
export const hangupParams = (callUuid: string) => ({
  ...answerParams(callUuid),
  CallStatus: 'completed',
  Event: 'Hangup',
  Duration: '20',
  BillDuration: '60',
  TotalCost: '0.00850',
  HangupCause: 'NORMAL_CLEARING',
  HangupCauseName: 'Normal Hangup',
  HangupCauseCode: '4000',
  HangupSource: 'Callee',
});
