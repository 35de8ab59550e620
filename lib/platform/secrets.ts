import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsServiceUnavailable, boundedClientOptions, type TimeBudget } from './aws-budget.ts';
import { ApiError, retryAfterSeconds } from './errors.ts';
import { type KeyRing, parseKeyRing } from './keyring.ts';

export interface PlivoCredentials {
  authId: string;
  authToken: string;
}

/** Secrets are fetched when first needed and cached per container; each function only asks for its own. */
export interface Secrets {
  /** `refresh` skips the cache: a key id this container does not know yet means the ring was rotated. */
  keyRing(options?: { refresh?: boolean }): Promise<KeyRing>;
  plivo(): Promise<PlivoCredentials>;
}

/** Re-read every few minutes so a rotated key ring or Plivo token reaches warm containers. */
export const SECRET_MAX_AGE_SECONDS = 300;

/**
 * Errors name the secret and the expected shape, never a fragment of the value: JSON.parse's own message
 * quotes its input, and this one holds the auth token.
 */
export function parsePlivoCredentials(secretString: string): PlivoCredentials {
  const shape = 'Plivo secret must be JSON {"authId": "...", "authToken": "..."}';
  let value: unknown;
  try {
    value = JSON.parse(secretString);
  } catch {
    throw new Error(`${shape}; it is not JSON`);
  }
  const { authId, authToken } = (typeof value === 'object' && value !== null ? value : {}) as Record<
    string,
    unknown
  >;
  if (typeof authId !== 'string' || typeof authToken !== 'string' || !authId || !authToken) {
    throw new Error(shape);
  }
  return { authId, authToken };
}

/** Parses each distinct secret string once: deriving the key ring's subkeys is not free. */
function memoByString<T>(parse: (secretString: string) => T): (secretString: string) => T {
  let last: { source: string; value: T } | undefined;
  return (secretString) => {
    if (last?.source !== secretString) last = { source: secretString, value: parse(secretString) };
    return last.value;
  };
}

/**
 * A cold start reads its secrets before anything else: bounded like the store (lib/store/dynamodb-client.ts), two
 * attempts of at most 1 s, so a slow Secrets Manager answers 503 well inside every function's timeout
 * instead of running into it.
 */
export const SECRETS_TIME_BUDGET: TimeBudget = {
  connectMs: 500,
  requestMs: 1000,
  attempts: 2,
  backoffMs: (retry) => 100 * retry,
};

/** AWS: both secrets in Secrets Manager, named by the stack; never in plaintext environment variables. */
export function secretsManagerSecrets(
  ids: { keyRing?: string | undefined; plivo?: string | undefined },
  /** Tests point the client at a server of their own. */
  client: ConstructorParameters<typeof SecretsManagerClient>[0] = {},
  clock: () => number = Date.now,
): Secrets {
  const keyRing = memoByString(parseKeyRing);
  const plivo = memoByString(parsePlivoCredentials);
  const secretsManager = new SecretsManagerClient({
    ...boundedClientOptions(SECRETS_TIME_BUDGET),
    ...client,
  });
  // Each value is kept SECRET_MAX_AGE_SECONDS from when it was read (a cache of our own: Powertools'
  // parameters utility did only this, for 6 KB of bundle).
  const cache = new Map<string, { value: string; until: number }>();
  const read = async (id: string, refresh = false) => {
    const cached = cache.get(id);
    if (cached && !refresh && clock() < cached.until) return cached.value;
    let value: unknown;
    try {
      value = (await secretsManager.send(new GetSecretValueCommand({ SecretId: id }))).SecretString;
    } catch (error) {
      if (!awsServiceUnavailable(error)) throw error;
      throw new ApiError(
        503,
        'store_unavailable',
        "The service's keys could not be read; retry shortly.",
        retryAfterSeconds(1),
      );
    }
    if (typeof value !== 'string') throw new Error(`Secret ${id} has no string value`);
    cache.set(id, { value, until: clock() + SECRET_MAX_AGE_SECONDS * 1000 });
    return value;
  };
  // A cold start's first read fetches every secret this function may read at once, so their time budgets
  // run side by side rather than one after the other (send and hangup read both).
  let firstReads: Map<string, Promise<string>> | undefined;
  const readSecret = (id: string, refresh = false) => {
    firstReads ??= new Map(
      [ids.keyRing, ids.plivo]
        .filter((each): each is string => Boolean(each))
        .map((each) => {
          const reading = read(each);
          // Awaited by its own accessor; until then a failure must not be an unhandled rejection.
          reading.catch(() => undefined);
          return [each, reading] as const;
        }),
    );
    const first = firstReads.get(id);
    firstReads.delete(id);
    return first && !refresh ? first : read(id, refresh);
  };
  return {
    keyRing: async (options) => {
      if (!ids.keyRing) throw new Error('This function has no access to the key ring secret');
      return keyRing(await readSecret(ids.keyRing, options?.refresh));
    },
    plivo: async () => {
      if (!ids.plivo) throw new Error('This function has no access to the Plivo secret');
      return plivo(await readSecret(ids.plivo));
    },
  };
}

/** Local runs and tests: the values themselves. */
export function staticSecrets(keyRingSecret: string, plivo?: PlivoCredentials): Secrets {
  const ring = parseKeyRing(keyRingSecret);
  return {
    keyRing: async () => ring,
    plivo: async () => {
      if (!plivo) throw new Error('No Plivo credentials configured');
      return plivo;
    },
  };
}
