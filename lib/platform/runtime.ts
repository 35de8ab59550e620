import { type Config, loadConfig } from './config.ts';
import { createLogger, type Logger } from './logger.ts';
import { type Counters, createCounters } from './metrics.ts';
import { type Secrets, secretsManagerSecrets, staticSecrets } from './secrets.ts';

/**
 * What every Lambda container builds once, from its environment: config, logger, metrics and secrets.
 * The store (lib/store/dynamodb-*.ts, only the parts each uses) and telephony (lib/channels/plivo-calls.ts) are built by the
 * functions that use them, so verify's and answer's bundles carry no Plivo client (answer reads the
 * verification, so it has the DynamoDB client like the others).
 */
export interface Container {
  config: Config;
  logger: Logger;
  metrics: Counters;
  secrets: Secrets;
  clock: () => number;
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
  };
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
