import type { CallRecord, Verification } from './verification.ts';

/**
 * Persistence for verifications. Every transition is one conditional write; when its condition fails the
 * store returns the current record (read in the same round trip) so the caller can say why.
 */
export interface VerificationStore {
  /** Stores a new pending verification; its id must be new. */
  create(verification: Verification): Promise<void>;
  get(id: string): Promise<Verification | undefined>;

  /** Makes `id` the phone's latest verification for this API key; returns the id it replaced, if any. */
  pointPhoneTo(
    apiKeyId: string,
    phoneHash: string,
    id: string,
    expiresAt: number,
  ): Promise<string | undefined>;
  /** The latest id pointed to under any of these pseudonyms (first found in their order), in one read. */
  latestIdForPhone(apiKeyId: string, phoneHashes: string[]): Promise<string | undefined>;

  /**
   * Reserves one attempt before any code is tested: adds 1 to `attempts` while the verification belongs to
   * `apiKeyId`, is pending, unexpired and under its limit. Done: the item as reserved, whose code the caller
   * may now test once. So however many checks arrive at once, at most `maxAttempts` codes are ever tested.
   */
  reserveAttempt(id: string, apiKeyId: string, now: number): Promise<TransitionResult>;
  /** After a reserved attempt tested right: approves while still pending. */
  approve(id: string, apiKeyId: string, now: number): Promise<TransitionResult>;
  /**
   * After the last reserved attempt tested wrong: `max_attempts_reached` while still pending, so the stored
   * status is the outcome. Approval and lock-out are both conditional on pending: the first written wins.
   */
  lockOut(id: string, apiKeyId: string, now: number): Promise<TransitionResult>;
  cancel(id: string, apiKeyId: string, now: number): Promise<TransitionResult>;
  /** Marks a pending verification failed because its call could not be placed. */
  fail(id: string, call: CallRecord, now: number): Promise<TransitionResult>;
  /** Records a call's outcome once per Plivo CallUUID; retries with the same CallUUID change nothing. */
  recordCall(id: string, call: CallRecord & { uuid: string }, now: number): Promise<TransitionResult>;
}

export type TransitionResult =
  | { done: true; verification: Verification }
  | { done: false; current: Verification | undefined };

/**
 * Counter items for rate limits and the fraud guard. One conditional write adds to an item's counters
 * unless that would take one past its limit (or break a minimum gap), so concurrent requests can never
 * be over-admitted.
 */
export interface CounterStore {
  count(key: string, change: CounterChange): Promise<CountResult>;
  /** Eventually consistent reads of several counter items in one round trip. */
  readCounters(keys: string[]): Promise<Map<string, Record<string, number>>>;
}

export interface CounterChange {
  add?: Record<string, number>;
  /** Highest value each attribute may hold once `add` is applied. */
  limits?: Record<string, number>;
  /** Refuse unless `attribute` (a time in ms) is at most `now - ms`; on success it becomes `now`. */
  gap?: { attribute: string; now: number; ms: number };
  set?: Record<string, number>;
  /** Epoch ms after which DynamoDB's TTL may delete the item. */
  expiresAt: number;
}

export type CountResult = { counted: true } | { counted: false; current: Record<string, number> };

/** Stored first responses for Idempotency-Key, scoped to the API key. */
export interface IdempotencyStore {
  /** Claims the key for a request with this body hash; when taken, returns the record that holds it. */
  claimIdempotencyKey(
    input: IdempotencyClaim,
  ): Promise<{ claimed: true } | { claimed: false; record: IdempotencyRecord }>;
  completeIdempotencyKey(key: string, response: StoredResponse): Promise<void>;
  /** Frees the key after a 5xx, so the client's retry runs again. */
  releaseIdempotencyKey(key: string): Promise<void>;
}

export interface IdempotencyClaim {
  key: string;
  bodyHash: string;
  now: number;
  expiresAt: number;
  /** A claim older than this (ms epoch) is from a request that died: it may be taken over. */
  staleBefore: number;
}

export interface StoredResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export interface IdempotencyRecord {
  bodyHash: string;
  startedAt: number;
  response?: StoredResponse;
}

export type Store = VerificationStore & CounterStore & IdempotencyStore;
