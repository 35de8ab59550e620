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

function parsePlivoCredentials(secretString: string): PlivoCredentials {
  const value = JSON.parse(secretString) as Partial<PlivoCredentials>;
  if (
    typeof value.authId !== 'string' ||
    typeof value.authToken !== 'string' ||
    !value.authId ||
    !value.authToken
  ) {
    throw new Error('Plivo secret must be {"authId": "...", "authToken": "..."}');
  }
  return { authId: value.authId, authToken: value.authToken };
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
