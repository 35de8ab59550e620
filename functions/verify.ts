import { deleteWebhook, getWebhook, setWebhook, webhookRequest } from '#events/app-webhooks.ts';
import { invalidRequest } from '#platform/errors.ts';
import {
  apiKeyIdOf,
  type HttpEvent,
  httpHandler,
  json,
  noContent,
  parseJsonBody,
  routeNotServed,
} from '#platform/http.ts';
import { ROUTES } from '#platform/routes.ts';
import { lambdaHandler } from '#platform/runtime.ts';
import { createStore } from '#store/dynamodb-store.ts';
import { erasePhone } from '#verification/erasure.ts';
import { isVerificationId } from '#verification/ids.ts';
import { checkRequest, eraseRequest } from '#verification/requests.ts';
import { usageDays, usageReport } from '#verification/tenants.ts';
import {
  cancelVerification,
  checkById,
  checkByPhone,
  getVerification,
  type ServiceDeps,
} from '#verification/verifications.ts';
import { canceledView, statusView } from '#verification/views.ts';

/**
 * Check, status, cancel and erasure, and the API key's webhook endpoint. Never touches telephony, so this
 * function holds no Plivo secret.
 */
export const createVerifyHandler = (deps: ServiceDeps) =>
  httpHandler(deps, async (event) => {
    const apiKeyId = apiKeyIdOf(event);
    switch (`${event.httpMethod} ${event.resource}`) {
      case 'POST /v1/verifications/check': {
        const request = parseJsonBody(event, checkRequest);
        const result =
          request.by === 'id'
            ? await checkById(deps, apiKeyId, verificationId(request.id), request.code)
            : await checkByPhone(deps, apiKeyId, request.phone, request.code);
        return json(200, result);
      }
      case 'GET /v1/verifications/{id}': {
        const verification = await getVerification(deps, apiKeyId, verificationId(pathId(event)));
        return json(200, statusView(verification, deps.clock()));
      }
      case 'POST /v1/phones/erase': {
        const request = parseJsonBody(event, eraseRequest);
        return json(200, await erasePhone(deps, apiKeyId, request.phone));
      }
      case 'POST /v1/verifications/{id}/cancel': {
        const verification = await cancelVerification(deps, apiKeyId, verificationId(pathId(event)));
        return json(200, canceledView(verification));
      }
      case 'PUT /v1/webhook':
        return json(200, await setWebhook(deps, apiKeyId, parseJsonBody(event, webhookRequest)));
      case 'GET /v1/webhook':
        return json(200, await getWebhook(deps, apiKeyId));
      case 'DELETE /v1/webhook':
        await deleteWebhook(deps, apiKeyId);
        return noContent();
      case 'GET /v1/usage': {
        const days = usageDays(usageQuery(event), deps.clock());
        return json(200, await usageReport(deps.store, apiKeyId, days, deps.config.abuse.counterShards));
      }
      default:
        return routeNotServed(event, ROUTES);
    }
  });

const pathId = (event: HttpEvent) => event.pathParameters?.id ?? '';

/** `from` and `to`, each at most once; any other parameter is refused, as unknown body fields are. */
function usageQuery(event: HttpEvent): { from?: string; to?: string } {
  const query: { from?: string; to?: string } = {};
  for (const [name, values] of Object.entries(event.multiValueQueryStringParameters ?? {})) {
    if (name !== 'from' && name !== 'to')
      throw invalidRequest(`Unknown query parameter: ${JSON.stringify(name.slice(0, 40))}.`);
    if (values?.length !== 1) throw invalidRequest(`Give ${name} once.`);
    query[name] = values[0];
  }
  return query;
}

function verificationId(value: string): string {
  if (!isVerificationId(value))
    throw invalidRequest('id must be "vrf_" followed by 26 Crockford base32 characters.');
  return value;
}

export const handler = lambdaHandler((container) =>
  createVerifyHandler({ ...container, store: createStore(container.config) }),
);
