import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { KeyRing, KeySet } from '#platform/keyring.ts';

/**
 * An app's webhook signing secret: `whsec_` + base64 of 32 random bytes (the Standard Webhooks format), shown
 * once in the PUT's answer and stored only sealed (AES-256-GCM under the key ring's webhook subkey, the API
 * key id as associated data, so a sealed secret copied to another key's item does not open).
 * Sealed: `<key id>.<base64url(iv ‖ ciphertext ‖ tag)>`.
 */
export const SECRET_PREFIX = 'whsec_';
const SECRET_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export const newWebhookSecret = () => `${SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;

/** The bytes the HMAC is keyed with: the base64 part of `whsec_…`, decoded. */
export const secretBytes = (secret: string) => Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');

const associatedData = (apiKeyId: string) => Buffer.from(`webhook-secret:${apiKeyId}`);

export function sealWebhookSecret(key: KeySet, apiKeyId: string, secret: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.webhook, iv);
  cipher.setAAD(associatedData(apiKeyId));
  const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return `${key.id}.${Buffer.concat([iv, ciphertext, cipher.getAuthTag()]).toString('base64url')}`;
}

/** The id of the key a secret was sealed under (the part before the dot). */
export const sealedKeyId = (sealed: string) => sealed.split('.')[0] ?? '';

/** The secret, or undefined when the key it was sealed under is gone from the ring or it was tampered with. */
export function openWebhookSecret(ring: KeyRing, apiKeyId: string, sealed: string): string | undefined {
  const [keyId, body, extra] = sealed.split('.');
  const key = keyId === undefined ? undefined : ring.get(keyId);
  if (!key || !body || extra !== undefined) return undefined;
  const bytes = Buffer.from(body, 'base64url');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.webhook, bytes.subarray(0, IV_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(associatedData(apiKeyId));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    return Buffer.concat([
      decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    return undefined;
  }
}
