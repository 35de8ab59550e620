import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
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
const SECRET_MAX_AGE_SECONDS = 300;

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

/** AWS: both secrets in Secrets Manager, named by the stack; never in plaintext environment variables. */
export function secretsManagerSecrets(ids: {
  keyRing?: string | undefined;
  plivo?: string | undefined;
}): Secrets {
  const keyRing = memoByString(parseKeyRing);
  const plivo = memoByString(parsePlivoCredentials);
  const read = async (id: string, refresh = false) => {
    const value = await getSecret(id, { maxAge: SECRET_MAX_AGE_SECONDS, forceFetch: refresh });
    if (typeof value !== 'string') throw new Error(`Secret ${id} has no string value`);
    return value;
  };
  return {
    keyRing: async (options) => {
      if (!ids.keyRing) throw new Error('This function has no access to the key ring secret');
      return keyRing(await read(ids.keyRing, options?.refresh));
    },
    plivo: async () => {
      if (!ids.plivo) throw new Error('This function has no access to the Plivo secret');
      return plivo(await read(ids.plivo));
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
