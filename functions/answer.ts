import { authenticateWebhook, webhookQuery } from '#channels/plivo-webhooks.ts';
import { httpHandler, routeNotServed, xml } from '#platform/http.ts';
import { ANSWER_PATH, ROUTES } from '#platform/routes.ts';
import { lambdaHandler } from '#platform/runtime.ts';
import { openTable } from '#store/dynamodb-client.ts';
import { verificationStore } from '#store/dynamodb-verifications.ts';
import { type AnswerDeps, answerCall } from '#verification/answer-call.ts';

/** POST /v1/plivo/answer: Plivo asks what to say. Signed; reads the verification, writes nothing; answers XML. */
export const createAnswerHandler = (deps: AnswerDeps) =>
  httpHandler(deps, async (event) => {
    if (event.httpMethod !== 'POST' || event.resource !== ANSWER_PATH) routeNotServed(event, ROUTES);
    const params = await authenticateWebhook(
      event,
      {
        publicUrl: deps.config.publicUrl,
        webhookAllowedCidrs: deps.config.webhookAllowedCidrs,
        secrets: deps.secrets,
      },
      ANSWER_PATH,
    );
    return xml(await answerCall(deps, webhookQuery(event), params));
  });

export const handler = lambdaHandler((container) =>
  createAnswerHandler({ ...container, store: verificationStore(openTable(container.config)) }),
);
