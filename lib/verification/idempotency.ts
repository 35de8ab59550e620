import { createHash, createHmac, randomUUID } from 'node:crypto';
import { ApiError, invalidRequest, retryAfterSeconds } from '#platform/errors.ts';
import type { HttpResult } from '#platform/http.ts';
import { canonicalJson } from '#platform/json.ts';
import type { KeySet } from '#platform/keyring.ts';
import type { Logger } from '#platform/logger.ts';
import type { Secrets } from '#platform/secrets.ts';
import type { IdempotencyStore } from '#store/store.ts';

/**
 * Idempotency-Key on send, scoped to the API key: the same key and body (compared as canonical JSON) within
 * 24 hours never places a second call.
 * - Before placing its call, a send binds the key to its verification. A bound key never runs again, however
 *   old its claim: a retry replays the stored answer or, if the first request died or could not store it,
 *   an answer built from the verification. (A Plivo timeout may still have placed the call, so even a 502
 *   after the binding is final for the key.)
 * - An answer given before the binding is replayed when final (2xx, 4xx); a transient refusal (429, 503,
 *   anything with Retry-After) or a 5xx frees the key, so a retry runs afresh.
 * A duplicate that arrives while the first is running and not yet bound gets 409
 * idempotency_request_in_progress; the same key with another body gets 409 idempotency_key_reused.
 *
 * The body holds the phone number, so its stored hash is keyed (HMAC under the key ring's idempotency
 * subkey): an unkeyed hash beside the masked number would give the number back to anyone with the table
 * after some 10^8 tries. A record made before a key rotation is compared under every key of the ring.
 */
export interface IdempotencyDeps {
  store: IdempotencyStore;
  secrets: Pick<Secrets, 'keyRing'>;
  clock: () => number;
  logger: Logger;
}

/** A claimed key: `bind` must be awaited before a call may be placed; `record` is the record's own key. */
export interface IdempotencyClaimed {
  bind(verificationId: string): Promise<void>;
  /** The Idempotency-Key record's item key, kept on the verification so erasure can find it. */
  record?: string;
}

/** What a send does under a key: `run` must await `bind` before a call may be placed. */
export interface IdempotentSend {
  run(claimed: IdempotencyClaimed): Promise<HttpResult>;
  /** The answer for a key bound to a verification whose own answer was never stored. */
  replay(verificationId: string): Promise<HttpResult>;
}

const RETENTION_MS = 24 * 60 * 60 * 1000;
/** Longer than the send function can run: an unbound claim this old belongs to a request that died. */
const STALE_CLAIM_MS = 60_000;
const KEY = /^[\x21-\x7e]{1,255}$/;

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');

/** The body's hash under one ring key: a pseudonym like the phone's, testable only with the key ring. */
export const bodyHash = (key: KeySet, body: unknown) =>
  createHmac('sha256', key.idempotency).update(canonicalJson(body)).digest('base64url');

const inProgress = () =>
  new ApiError(
    409,
    'idempotency_request_in_progress',
    'A request with this Idempotency-Key is still running; retry shortly.',
    retryAfterSeconds(1),
  );

/** Worth retrying later as it stands: storing it would refuse the client's obedient retry for a day. */
const transient = (response: HttpResult) =>
  response.statusCode === 429 ||
  response.statusCode === 503 ||
  Object.keys(response.headers ?? {}).some((name) => name.toLowerCase() === 'retry-after');

const replayed = (response: HttpResult): HttpResult => ({
  ...response,
  headers: { ...response.headers, 'Idempotent-Replayed': 'true' },
});

export async function idempotent(
  deps: IdempotencyDeps,
  request: { apiKeyId: string; idempotencyKey: string | undefined; body: unknown },
  send: IdempotentSend,
): Promise<HttpResult> {
  if (request.idempotencyKey === undefined) return send.run({ bind: async () => {} });
  if (!KEY.test(request.idempotencyKey)) {
    throw invalidRequest('Idempotency-Key must be 1 to 255 visible ASCII characters.');
  }
  // The client's key is hashed into the item key: any characters, fixed length, nothing echoed back.
  const key = `IDEMPOTENCY#${request.apiKeyId}#${sha256(request.idempotencyKey)}`;
  // The current key's first: it is the one stored.
  const bodyHashes = (await deps.secrets.keyRing()).all.map((ringKey) => bodyHash(ringKey, request.body));
  const claimId = randomUUID();
  const now = deps.clock();
  const claim = await deps.store.claimIdempotencyKey({
    key,
    claimId,
    bodyHashes,
    now,
    expiresAt: now + RETENTION_MS,
    staleBefore: now - STALE_CLAIM_MS,
  });
  if (!claim.claimed) {
    const { record } = claim;
    if (!bodyHashes.includes(record.bodyHash)) {
      throw new ApiError(
        409,
        'idempotency_key_reused',
        'This Idempotency-Key was used with another request body.',
      );
    }
    if (record.response) {
      deps.logger.info('Idempotent replay', { statusCode: record.response.statusCode });
      return replayed(record.response);
    }
    if (record.verificationId) {
      deps.logger.info('Idempotent replay from the verification', { verificationId: record.verificationId });
      return replayed(await send.replay(record.verificationId));
    }
    throw inProgress();
  }

  let bound = false;
  let lost = false;
  const bind = async (verificationId: string) => {
    // Taken over as abandoned (this request ran past the stale time): the other one owns the key now.
    if (!(await deps.store.bindIdempotencyKey(key, claimId, verificationId))) {
      lost = true;
      throw inProgress();
    }
    bound = true;
  };
  // Bookkeeping failures are logged, never answered: the response is what happened (a call may be out).
  const release = () =>
    deps.store.releaseIdempotencyKey(key, claimId).catch((error: unknown) => {
      deps.logger.error('Could not release an Idempotency-Key', { error: error as Error });
    });
  let response: HttpResult;
  try {
    response = await send.run({ bind, record: key });
  } catch (error) {
    // Once bound, the claim stays: a retry answers from the verification.
    if (!bound && !lost) await release();
    throw error;
  }
  if (lost) return response;
  // Once bound, any answer but a transient one is final for the key (a call may be out, even after a 502).
  const final = bound ? !transient(response) : response.statusCode < 500 && !transient(response);
  if (final) {
    await deps.store
      .completeIdempotencyKey(key, claimId, {
        statusCode: response.statusCode,
        headers: (response.headers ?? {}) as Record<string, string>,
        body: response.body,
      })
      .catch((error: unknown) => {
        deps.logger.error('Could not store the response for an Idempotency-Key', { error: error as Error });
      });
  } else if (!bound) {
    await release();
  }
  return response;
}
