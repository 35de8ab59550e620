import { type Config, loadConfig } from './config.ts';
import { createDocumentClient, DynamoDbStore } from './dynamodb-store.ts';
import { createLogger, type Logger } from './logger.ts';
import { type Counters, createCounters } from './metrics.ts';
import { createPlivoTelephony } from './plivo-calls.ts';
import { type Secrets, secretsManagerSecrets, staticSecrets } from './secrets.ts';
import type { Store } from './store.ts';
import type { Telephony } from './telephony.ts';

/**
 * What a Lambda container builds once, from its environment: config, logger, secrets, and on request the
 * store and telephony clients. Each function takes only what it uses, so the verify function never holds
 * a Plivo client and the answer function never opens a database connection.
 */
export interface Container {
  config: Config;
  logger: Logger;
  metrics: Counters;
  secrets: Secrets;
  clock: () => number;
  store(): Store;
  telephony(): Telephony;
}

export function containerFromEnvironment(env: Record<string, string | undefined> = process.env): Container {
  const config = loadConfig(env);
  const logger = createLogger();
  // On AWS each function is given the ids of just the secrets it may read; locally the values themselves.
  const secrets =
    env.KEYRING_SECRET_ID || env.PLIVO_SECRET_ID
      ? secretsManagerSecrets({ keyRing: env.KEYRING_SECRET_ID, plivo: env.PLIVO_SECRET_ID })
      : staticSecrets(
          requireLocal(env, 'KEYRING'),
          env.PLIVO_AUTH_ID && env.PLIVO_AUTH_TOKEN
            ? { authId: env.PLIVO_AUTH_ID, authToken: env.PLIVO_AUTH_TOKEN }
            : undefined,
        );
  return {
    config,
    logger,
    metrics: createCounters(),
    secrets,
    clock: Date.now,
    store: () =>
      new DynamoDbStore(
        createDocumentClient({ endpoint: config.dynamodbEndpoint }),
        requireSetting(config.tableName, 'TABLE_NAME'),
        config.retentionSeconds,
      ),
    telephony: () =>
      createPlivoTelephony({
        ...config.plivo,
        credentials: () => secrets.plivo(),
        onError: (detail) => logger.warn('Plivo refused the call request', detail),
      }),
  };
}

function requireSetting(value: string | undefined, name: string): string {
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function requireLocal(env: Record<string, string | undefined>, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`Set KEYRING_SECRET_ID (AWS) or ${name} (local runs only)`);
  return value;
}

/** Builds the handler on the first invocation and keeps it for the container's life. */
export function lambdaHandler<E, R>(build: (container: Container) => (event: E) => Promise<R>) {
  let handle: ((event: E) => Promise<R>) | undefined;
  return (event: E): Promise<R> => {
    handle ??= build(containerFromEnvironment());
    return handle(event);
  };
}
