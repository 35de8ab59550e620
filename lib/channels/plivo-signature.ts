import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Plivo's V3 webhook signature (X-Plivo-Signature-V3 / -Ma-V3 with X-Plivo-Signature-V3-Nonce), as the
 * official SDKs compute it for POST: HMAC-SHA256 with the auth token, base64, over
 *   scheme://host[:port]/path + "?" + [sorted query "k=v" joined by "&" + "."] + sorted body "kv" pairs + "." + nonce
 * and, when the body has no parameters, over the URL with its sorted query and then "." + nonce.
 * A test holds this to the official `plivo.validateV3Signature` for the same inputs.
 */
export type Params = ReadonlyArray<readonly [string, string]>;

const byKeyThenValue = (a: readonly [string, string], b: readonly [string, string]) =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;

export function plivoSignatureBase(url: string, bodyParams: Params): string {
  const parsed = new URL(url);
  const base = `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  const query = [...parsed.searchParams]
    .sort(byKeyThenValue)
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
  if (bodyParams.length === 0) return query ? `${base}?${query}` : base;
  const body = [...bodyParams]
    .sort(byKeyThenValue)
    .map(([key, value]) => `${key}${value}`)
    .join('');
  return `${base}?${query ? `${query}.` : ''}${body}`;
}

export function plivoSignature(url: string, bodyParams: Params, nonce: string, authToken: string): string {
  return createHmac('sha256', authToken)
    .update(`${plivoSignatureBase(url, bodyParams)}.${nonce}`)
    .digest('base64');
}

/** True when any of the comma-separated signatures in either header matches. */
export function plivoSignatureValid(input: {
  url: string;
  bodyParams: Params;
  nonce: string | undefined;
  signatures: ReadonlyArray<string | undefined>;
  authToken: string;
}): boolean {
  if (!input.nonce) return false;
  const expected = Buffer.from(plivoSignature(input.url, input.bodyParams, input.nonce, input.authToken));
  let valid = false;
  for (const header of input.signatures) {
    for (const candidate of header?.split(',') ?? []) {
      const given = Buffer.from(candidate.trim());
      // No early exit: every candidate is compared, in constant time each.
      if (given.length === expected.length && timingSafeEqual(given, expected)) valid = true;
    }
  }
  return valid;
}
