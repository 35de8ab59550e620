import { telephonyFor } from '#channels/plivo-calls.ts';
import { parseKeyRing } from '#platform/keyring.ts';
import { containerFromEnvironment } from '#platform/runtime.ts';
import { createDocumentClient } from '#store/dynamodb-client.ts';
import { dynamoDbStore } from '#store/dynamodb-store.ts';
import { createAnswerHandler } from '../functions/answer.ts';
import { createHangupHandler } from '../functions/hangup.ts';
import { createSendHandler } from '../functions/send.ts';
import { createVerifyHandler } from '../functions/verify.ts';
import { DynamoDbMeter } from './dynamodb-meter.ts';
import { capturingTelephony } from './fixtures.ts';

/**
 * The request handlers wired as the Lambdas wire them (config, logger, metrics and secrets from the
 * environment; the real DynamoDB store, metered; the real Plivo client, its requests captured), for the
 * phases that drive them in one process.
 */
export function meteredHandlers(env: Record<string, string>) {
  const container = containerFromEnvironment(env);
  const { config } = container;
  const meter = new DynamoDbMeter();
  const documentClient = createDocumentClient({
    endpoint: config.dynamodbEndpoint,
    credentials: config.dynamodbCredentials,
  });
  meter.attach(documentClient);
  const store = dynamoDbStore({
    db: documentClient,
    tableName: config.tableName ?? '',
    retentionSeconds: config.retentionSeconds,
  });
  const telephony = capturingTelephony(telephonyFor(container));
  return {
    container,
    config,
    tableName: config.tableName ?? '',
    meter,
    store,
    telephony,
    send: createSendHandler({ ...container, store, telephony }),
    verify: createVerifyHandler({ ...container, store }),
    answer: createAnswerHandler({ ...container, store }),
    hangup: createHangupHandler({ ...container, publicUrl: config.publicUrl, store, telephony }),
    ring: parseKeyRing(env.KEYRING ?? ''),
    authToken: env.PLIVO_AUTH_TOKEN ?? '',
  };
}
