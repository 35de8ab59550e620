import { createHmac, randomInt } from 'node:crypto';
import { plivoSignature } from '#channels/plivo-signature.ts';

/**
 * What the simulated Plivo's Call and Message APIs share: the Basic-auth check, the number formats Plivo
 * uses on the wire, and callbacks signed the way Plivo signs them.
 */
export interface SimulatorOptions {
  authId: string;
  authToken: string;
  /** Simulated seconds per real second: 10 plays a 20-second call in 2 seconds. */
  speed: number;
  log: (line: string) => void;
}

export interface ApiReply {
  status: number;
  body: unknown;
}

/** Plivo's 401 for a wrong auth id or token, or null when the request may go on. */
export function authFailure(
  options: SimulatorOptions,
  authorization: string | undefined,
  authId: string,
  apiId: string,
): ApiReply | null {
  const expected = `Basic ${Buffer.from(`${options.authId}:${options.authToken}`).toString('base64')}`;
  return authorization === expected && authId === options.authId
    ? null
    : { status: 401, body: { api_id: apiId, error: 'Authentication credentials invalid' } };
}

/** Plivo's numbers on the wire: digits, country code first, no plus. */
export const plivoNumber = (value: unknown) => (typeof value === 'string' ? value.replace(/^\+/, '') : '');
export const e164 = (digits: string) => `+${digits}`;
export const validNumber = (digits: string) => /^[1-9][0-9]{6,14}$/.test(digits);
/** How the phone labels its own lines: country code and the last two digits. */
export const mask = (number: string) =>
  `${number.slice(0, 2)}${'*'.repeat(Math.max(0, number.length - 4))}${number.slice(-2)}`;

/** A nonce like Plivo's: 20 decimal digits. */
const nonce = () => Array.from({ length: 20 }, () => randomInt(10)).join('');

/**
 * Plivo's older V2 signature, which its messaging docs still describe: HMAC-SHA256 over
 * scheme://host[:port]/path + nonce, so neither the query nor the body is covered.
 */
export function plivoSignatureV2(url: string, nonceValue: string, authToken: string): string {
  const parsed = new URL(url);
  return createHmac('sha256', authToken)
    .update(`${parsed.protocol}//${parsed.host}${parsed.pathname}${nonceValue}`)
    .digest('base64');
}

/**
 * Headers of a signed Plivo callback: V3 (URL with its query, and the form parameters) always; with `v2`,
 * also the V2 headers Plivo's message status callbacks carry. One account, so -Ma- equals the plain one.
 */
export function callbackHeaders(
  url: string,
  params: Record<string, string>,
  authToken: string,
  { v2 = false } = {},
): Record<string, string> {
  const v3Nonce = nonce();
  const v3 = plivoSignature(url, Object.entries(params), v3Nonce, authToken);
  const headers: Record<string, string> = {
    'Content-Type': 'application/x-www-form-urlencoded',
    'X-Plivo-Signature-V3': v3,
    'X-Plivo-Signature-Ma-V3': v3,
    'X-Plivo-Signature-V3-Nonce': v3Nonce,
    'User-Agent': 'PlivoPhoneSimulator/1.0',
  };
  if (v2) {
    const v2Nonce = nonce();
    const signature = plivoSignatureV2(url, v2Nonce, authToken);
    Object.assign(headers, {
      'X-Plivo-Signature-V2': signature,
      'X-Plivo-Signature-Ma-V2': signature,
      'X-Plivo-Signature-V2-Nonce': v2Nonce,
    });
  }
  return headers;
}
