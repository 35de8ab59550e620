import type { HttpEvent } from '../lib/http.ts';
import { answerParams, apiEvent, hangupParams, webhookEvent } from '../test/support/events.ts';

/** The benchmark's requests: the same API Gateway events the tests build (test/support/events.ts). */
export const BENCH_API_KEY_ID = 'bench-key';

export { answerParams, hangupParams };

export const sendEvent = (phone: string, apiKeyId = BENCH_API_KEY_ID): HttpEvent =>
  apiEvent({ method: 'POST', resource: '/v1/verifications', body: { phone }, apiKeyId });

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
