import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { KeyRing, KeySet } from '#platform/keyring.ts';
import type { Secrets } from '#platform/secrets.ts';
import { isVerificationId } from './ids.ts';

/**
 * The code travels to the answer webhook sealed inside its URL (AES-256-GCM, the verification id as
 * associated data), so no URL, log or database holds it in plaintext; the answer webhook reads only the
 * verification's status (lib/verification/answer-call.ts), never anything it could rebuild the code from.
 * Token: `<key id>.<base64url(iv ‖ ciphertext ‖ tag)>`.
 */
export interface SealedCall {
  code: string;
  locale: string;
  /** Epoch milliseconds; the token is refused after this. */
  expiresAt: number;
  /**
   * The number and what the abuse rules judge it by, so the hangup function can send the other channel
   * (fallback) from the token alone: no number stored, no libphonenumber in its bundle.
   */
  phone?: SealedPhone;
  /** Android's SMS Retriever hash the send asked for, for an SMS sent as a fallback. */
  appHash?: string;
  /** The app name the call speaks and the SMS writes: the tenant's at creation (absent in older tokens). */
  appName?: string;
}

export interface SealedPhone {
  e164: string;
  country: string;
  callingCode: string;
  /** libphonenumber-js's number type, e.g. MOBILE. */
  type: string;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

export function sealCall(key: KeySet, verificationId: string, call: SealedCall): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.seal, iv);
  cipher.setAAD(Buffer.from(verificationId));
  const { phone, appHash, appName } = call;
  const plaintext = JSON.stringify({
    c: call.code,
    l: call.locale,
    e: call.expiresAt,
    ...(phone && { n: [phone.e164, phone.country, phone.callingCode, phone.type] }),
    ...(appHash && { h: appHash }),
    ...(appName && { a: appName }),
  });
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${key.id}.${Buffer.concat([iv, ciphertext, cipher.getAuthTag()]).toString('base64url')}`;
}

export type OpenedCall = { kind: 'valid'; call: SealedCall } | { kind: 'expired' } | { kind: 'invalid' };

export function openCall(ring: KeyRing, verificationId: string, token: string, now: number): OpenedCall {
  const [keyId, body, extra] = token.split('.');
  const key = keyId === undefined ? undefined : ring.get(keyId);
  if (!key || !body || extra !== undefined) return { kind: 'invalid' };
  // A token too short to hold an IV and a tag fails GCM's authentication below, like any forgery.
  const bytes = Buffer.from(body, 'base64url');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.seal, bytes.subarray(0, IV_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(verificationId));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    const plaintext = Buffer.concat([
      decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)),
      decipher.final(),
    ]);
    const { c, l, e, n, h, a } = JSON.parse(plaintext.toString('utf8')) as {
      c: string;
      l: string;
      e: number;
      n?: [string, string, string, string];
      h?: string;
      a?: string;
    };
    if (now >= e) return { kind: 'expired' };
    const phone = n && { e164: n[0], country: n[1], callingCode: n[2], type: n[3] };
    return {
      kind: 'valid',
      call: {
        code: c,
        locale: l,
        expiresAt: e,
        ...(phone && { phone }),
        ...(h && { appHash: h }),
        ...(typeof a === 'string' && { appName: a }),
      },
    };
  } catch {
    return { kind: 'invalid' };
  }
}

/**
 * Opens a webhook's sealed token (answer, hangup, delivery report), bound to the verification id it was
 * sealed for. A token sealed under a key this container has not loaded yet (the ring was just rotated) reads
 * the ring afresh.
 */
export async function openWebhookToken(
  secrets: Pick<Secrets, 'keyRing'>,
  verificationId: string,
  token: string,
  now: number,
): Promise<OpenedCall> {
  if (!isVerificationId(verificationId) || !token) return { kind: 'invalid' };
  let ring = await secrets.keyRing();
  if (!ring.get(token.split('.')[0] ?? '')) ring = await secrets.keyRing({ refresh: true });
  return openCall(ring, verificationId, token, now);
}
