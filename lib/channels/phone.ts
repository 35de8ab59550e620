import { createHmac } from 'node:crypto';
import { type NumberType, parsePhoneNumberFromString } from 'libphonenumber-js/core';
// The full set here; a deployed bundle gets the allowed countries' subset instead (infra/phone-metadata.ts).
import metadata from 'libphonenumber-js/metadata.max.json';
import { ApiError } from '#platform/errors.ts';
import type { KeySet } from '#platform/keyring.ts';

export interface Phone {
  e164: string;
  /** ISO 3166-1 alpha-2, or "001" for non-geographic numbers. */
  country: string;
  callingCode: string;
  type: NumberType;
}

const E164 = /^\+[1-9][0-9]{6,14}$/;

const invalidPhone = () =>
  new ApiError(400, 'invalid_phone', 'phone must be a valid number in E.164 format, such as +14155550123.');

/**
 * The E.164 form alone, without number metadata: enough to look up a verification, since sends only ever
 * store numbers that passed `parsePhone`. Keeps libphonenumber-js out of the verify function.
 */
export function e164Only(input: string): string {
  if (!E164.test(input)) throw invalidPhone();
  return input;
}

export function parsePhone(input: string): Phone {
  if (!E164.test(input)) throw invalidPhone();
  const parsed = parsePhoneNumberFromString(input, metadata);
  if (!parsed?.isValid() || parsed.number !== input) throw invalidPhone();
  return {
    e164: parsed.number,
    country: parsed.country ?? '001',
    callingCode: parsed.countryCallingCode,
    type: parsed.getType(),
  };
}

/** Keeps the country calling code and the last two digits: +14155550123 → +1********23. */
export function maskPhone(phone: Pick<Phone, 'e164' | 'callingCode'>): string {
  const national = phone.e164.slice(1 + phone.callingCode.length);
  return `+${phone.callingCode}${'*'.repeat(Math.max(0, national.length - 2))}${national.slice(-2)}`;
}

/** The pseudonym a phone number is stored and looked up under: never the number itself. */
export const phoneHash = (key: KeySet, e164: string) =>
  `${key.id}.${createHmac('sha256', key.phone).update(e164).digest('base64url')}`;
