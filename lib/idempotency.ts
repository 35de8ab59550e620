import { createHash } from 'node:crypto';
import { ApiError, invalidRequest, retryAfterSeconds } from './errors.ts';
import type { HttpResult } from './http.ts';
import { canonicalJson } from './json.ts';
import type { Logger } from './logger.ts';
import type { IdempotencyStore } from './store.ts';

/**
 * Idempotency-Key on send, scoped to the API key: the same key and body (compared as canonical JSON)
 * within 24 hours replays the first response, whatever it was short of a 5xx, and places no second call.
 * A duplicate that arrives while the first is still running gets 409 idempotency_request_in_progress; the
 * same key with another body gets 409 idempotency_key_reused.
 */
export interface IdempotencyDeps {
  store: IdempotencyStore;
  clock: () => number;
  logger: Logger;
}

const RETENTION_MS = 24 * 60 * 60 * 1000;
/** Longer than the send function can run: a claim this old belongs to a request that died. */
const STALE_CLAIM_MS = 60_000;
const KEY = /^[\x21-\x7e]{1,255}$/;

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');

export async function idempotent(
  deps: IdempotencyDeps,
  request: { apiKeyId: string; idempotencyKey: string | undefined; body: unknown },
  run: () => Promise<HttpResult>,
): Promise<HttpResult> {
  if (request.idempotencyKey === undefined) return run();
  if (!KEY.test(request.idempotencyKey)) {
    throw invalidRequest('Idempotency-Key must be 1 to 255 visible ASCII characters.');
  }
  // The client's key is hashed into the item key: any characters, fixed length, nothing echoed back.
  const key = `IDEMPOTENCY#${request.apiKeyId}#${sha256(request.idempotencyKey)}`;
  const bodyHash = sha256(canonicalJson(request.body));
  const now = deps.clock();
  const claim = await deps.store.claimIdempotencyKey({
    key,
    bodyHash,
    now,
    expiresAt: now + RETENTION_MS,
    staleBefore: now - STALE_CLAIM_MS,
  });
  if (!claim.claimed) {
    const { record } = claim;
    if (record.bodyHash !== bodyHash) {
      throw new ApiError(
        409,
        'idempotency_key_reused',
        'This Idempotency-Key was used with another request body.',
      );
    }
    if (!record.response) {
      throw new ApiError(
        409,
        'idempotency_request_in_progress',
        'A request with this Idempotency-Key is still running; retry shortly.',
        retryAfterSeconds(1),
      );
    }
    deps.logger.info('Idempotent replay', { statusCode: record.response.statusCode });
    return { ...record.response, headers: { ...record.response.headers, 'Idempotent-Replayed': 'true' } };
  }
  // Bookkeeping failures are logged, never answered: the response is what happened (a call may be out).
  const release = () =>
    deps.store.releaseIdempotencyKey(key).catch((error: unknown) => {
      deps.logger.error('Could not release an Idempotency-Key', { error: error as Error });
    });
  let response: HttpResult;
  try {
    response = await run();
  } catch (error) {
    await release();
    throw error;
  }
  if (response.statusCode >= 500) {
    await release();
  } else {
    await deps.store
      .completeIdempotencyKey(key, {
        statusCode: response.statusCode,
        headers: (response.headers ?? {}) as Record<string, string>,
        body: response.body,
      })
      .catch((error: unknown) => {
        deps.logger.error('Could not store the response for an Idempotency-Key', { error: error as Error });
      });
  }
  return response;
}
