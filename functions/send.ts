import { parsePhone } from '#channels/phone.ts';
import { telephonyFor } from '#channels/plivo-calls.ts';
import { callOutcomeUnknown } from '#channels/telephony.ts';
import {
  apiKeyIdOf,
  header,
  httpHandler,
  json,
  parseJsonBody,
  respond,
  routeNotServed,
} from '#platform/http.ts';
import { resolveLocale } from '#platform/locales.ts';
import { ROUTES } from '#platform/routes.ts';
import { lambdaHandler } from '#platform/runtime.ts';
import { createStore } from '#store/dynamodb-store.ts';
import { idempotent } from '#verification/idempotency.ts';
import { sendRequest } from '#verification/requests.ts';
import { getVerification, type SendDeps, startVerification } from '#verification/verifications.ts';
import { createdView } from '#verification/views.ts';

/** POST /v1/verifications: start a verification and place its call or send its SMS. */
export const createSendHandler = (deps: SendDeps) =>
  httpHandler(deps, async (event) => {
    const apiKeyId = apiKeyIdOf(event);
    if (event.httpMethod !== 'POST' || event.resource !== '/v1/verifications') routeNotServed(event, ROUTES);
    const body = parseJsonBody(event, sendRequest);
    const idempotencyKey = header(event, 'idempotency-key');
    return idempotent(
      deps,
      { apiKeyId, idempotencyKey, body },
      {
        run: ({ bind, record }) =>
          respond(deps.logger, async () => {
            const phone = parsePhone(body.phone);
            // What the body leaves out is the tenant's default, else the stack's (lib/verification/tenants.ts).
            const verification = await startVerification(
              deps,
              {
                apiKeyId,
                phone,
                locale: body.locale === undefined ? undefined : resolveLocale(body.locale),
                channel: body.channel,
                fallback: body.fallback,
                appHash: body.appHash,
                idempotencyRecord: record,
              },
              { beforeCall: (created) => bind(created.id) },
            );
            return json(202, createdView(verification));
          }),
        // The first answer was lost after its call may have been placed: say what became of the verification.
        replay: (id) =>
          respond(deps.logger, async () => {
            const verification = await getVerification(deps, apiKeyId, id);
            if (verification.status === 'failed') throw callOutcomeUnknown();
            return json(202, createdView(verification));
          }),
      },
    );
  });

export const handler = lambdaHandler((container) =>
  createSendHandler({
    ...container,
    store: createStore(container.config),
    telephony: telephonyFor(container),
  }),
);
