import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import { ApiError } from '#platform/errors.ts';
import type { KeySet } from '#platform/keyring.ts';

/** A one-time code of `length` digits from the CSPRNG, leading zeros kept. */
export function generateCode(length: number): string {
  // randomInt takes ranges below 2**48; 10**10 is well inside.
  return randomInt(0, 10 ** length)
    .toString()
    .padStart(length, '0');
}

/**
 * The only form of a code that is stored: HMAC-SHA256 over the verification id and the code. The id is a
 * fixed-length prefix, so the concatenation is unambiguous, and binding it means a hash cannot be replayed
 * against another verification.
 */
export const hashCode = (key: KeySet, verificationId: string, code: string) =>
  createHmac('sha256', key.hmac).update(verificationId).update(code).digest('base64url');

export function hashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

const SUBMITTED_CODE = /^[0-9]{4,10}$/;

/** Accepts what people type: ASCII spaces and hyphens are dropped; what remains must be 4 to 10 ASCII digits. */
export function normaliseSubmittedCode(code: string): string {
  const digits = code.replace(/[ -]/g, '');
  if (!SUBMITTED_CODE.test(digits)) {
    throw new ApiError(400, 'invalid_code', 'code must be 4 to 10 digits (spaces and hyphens are ignored).');
  }
  return digits;
}
