import type { FallbackChannel, TenantSettingsChange } from '#platform/config.ts';
import type { SafeListEntry, Tenant, UsageRow } from './tenant.ts';
import type { CallRecord, MessageRecord, Verification, VerificationState } from './verification.ts';

/**
 * Persistence for verifications. Every transition is one conditional write; when its condition fails the
 * store returns the current record (read in the same round trip) so the caller can say why.
 */
export interface VerificationStore {
  /**
   * Stores a new pending verification (its id must be new) and lists it in its phone's pointer, in one
   * write: erasure finds it from the moment it exists, also while its call is being placed.
   */
  create(verification: Verification): Promise<void>;
  get(id: string): Promise<Verification | undefined>;
  /** A strongly consistent read of the status fields alone (no hashes): what the answer webhook needs. */
  getState(id: string): Promise<VerificationState | undefined>;

  /**
   * Reserves one attempt before any code is tested: adds 1 to `attempts` while the verification belongs to
   * `apiKeyId`, is pending, unexpired and under its limit. Done: the item as reserved, whose code the caller
   * may now test once. So however many checks arrive at once, at most `maxAttempts` codes are ever tested.
   * `token` is the check's own: a retry of the same write (after a timeout) finds it and reserves nothing more.
   */
  reserveAttempt(id: string, apiKeyId: string, now: number, token: string): Promise<TransitionResult>;
  /** After a reserved attempt tested right: approves while still pending. */
  approve(id: string, apiKeyId: string, now: number): Promise<TransitionResult>;
  /**
   * After the last reserved attempt tested wrong: `max_attempts_reached` while still pending, so the stored
   * status is the outcome. Approval and lock-out are both conditional on pending: the first written wins.
   */
  lockOut(id: string, apiKeyId: string, now: number): Promise<TransitionResult>;
  /** `supersededBy`: the newer verification of the same phone that replaces this one. */
  cancel(id: string, apiKeyId: string, now: number, supersededBy?: string): Promise<TransitionResult>;
  /** Marks a pending verification failed because its call could not be placed or its SMS not sent. */
  fail(
    id: string,
    outcome: { call: CallRecord } | { message: MessageRecord },
    now: number,
  ): Promise<TransitionResult>;
  /**
   * Keeps the provider's id for the call placed, so a cancel or a resend can hang it up. Only adds the id:
   * an outcome the hangup webhook recorded first stays.
   */
  recordCallRequest(id: string, requestId: string, now: number): Promise<TransitionResult>;
  /** Records a call's outcome once per Plivo CallUUID; retries with the same CallUUID change nothing. */
  recordCall(id: string, call: CallRecord & { uuid: string }, now: number): Promise<TransitionResult>;
  /**
   * Records a delivery report on a verification whose message block is of the report's channel (SMS or
   * WhatsApp): the first report binds its MessageUUID (reports for another one change nothing), and only a
   * forward step in MESSAGE_STATUS_AFTER is written, so replays and reports arriving out of order never move
   * a message back, and a final status stays.
   */
  recordMessage(id: string, report: MessageRecord & { uuid: string }, now: number): Promise<TransitionResult>;

  /**
   * Claims the verification's one fallback to `channel`: only while it asked for one (`fallback`), none was
   * claimed yet, and it is pending (the caller opened its unexpired token). However many webhooks race
   * (Plivo's retries, replays), one claim wins; the others change nothing. `failed`, at send time, records
   * in the same write that the first channel's provider refused it.
   */
  claimFallback(
    id: string,
    channel: FallbackChannel,
    now: number,
    failed?: { call: CallRecord } | { message: MessageRecord },
  ): Promise<TransitionResult>;
  /**
   * Marks a claimed fallback used, writing the other channel's block (`queued`) before it is asked to send,
   * so its own hangup or delivery reports find it. Only while still pending and unexpired.
   */
  useFallback(
    id: string,
    outcome: { call: CallRecord } | { message: MessageRecord },
    now: number,
  ): Promise<TransitionResult>;
  /** Records why a claimed (or used) fallback went nowhere; `outcome` marks the other channel's block failed. */
  refuseFallback(
    id: string,
    reason: string,
    outcome: { call: CallRecord } | { message: MessageRecord } | undefined,
    now: number,
  ): Promise<TransitionResult>;
}

/**
 * Each phone's pointer (per API key): the latest verification, which a newer one supersedes, and the recent
 * ids erasure must find.
 */
export interface PhoneStore {
  /**
   * Makes the verification its phone's latest for its API key, unless the pointer already holds a newer one
   * (a later `createdAt`): the pointer only moves forward. The verification's creation already listed it in
   * the pointer; a pointer that is gone was erased with it (`erased`), and stays gone.
   */
  pointPhoneTo(verification: PhoneEntry, keep: RecentLimit): Promise<PointResult>;
  /**
   * Drops the ids past their items' TTL, and any beyond the limit, from the phone's pointer: what moving the
   * pointer does, for a send whose code never went out (so never moved it).
   */
  pruneForPhone(verification: PhoneEntry, keep: RecentLimit): Promise<void>;
  /**
   * Deletes every verification listed in the phone's pointers under these pseudonyms for this API key, then
   * the pointers themselves; returns how many verifications it deleted. Counters stay (SECURITY.md).
   */
  erasePhone(apiKeyId: string, phoneHashes: string[]): Promise<number>;
  /** The latest id pointed to under any of these pseudonyms (first found in their order), in one read. */
  latestIdForPhone(apiKeyId: string, phoneHashes: string[]): Promise<string | undefined>;
}

export type PhoneEntry = Pick<Verification, 'id' | 'apiKeyId' | 'phoneHash' | 'createdAt' | 'expiresAt'>;

/**
 * The phone pointer keeps the ids of the phone's verifications that may still exist (until their items'
 * TTL), so erasure can find them; `atMost` bounds the list whatever happens (lib/verification/erasure.ts derives it from
 * the phone's daily limit).
 */
export interface RecentLimit {
  atMost: number;
}

/** Either the pointer moved (and names the id it replaced), or it already held this newer one. */
export type PointResult =
  | { moved: true; replaced: string | undefined }
  | { moved: false; newer: string }
  /** The pointer was erased (with this verification) while its send ran. */
  | { moved: false; erased: true };

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
  /**
   * Adds each `add` to its counter item once per `marker`: the marker item and the counts are written together
   * (one transaction), so a retry after either outcome never counts twice. False when the marker already
   * existed. `expiresAt` is the marker's; each counter item keeps its own.
   */
  countOnce(counts: CountOnce[], marker: string, expiresAt: number): Promise<boolean>;
  /**
   * Reads of several items in one round trip: eventually consistent unless `consistent`. Counter items, and
   * with them whatever else the same read needs (send's tenant item): items come back as stored.
   */
  readCounters(
    keys: string[],
    options?: { consistent?: boolean },
  ): Promise<Map<string, Record<string, number>>>;
}

export interface CountOnce {
  key: string;
  add: Record<string, number>;
  /** Epoch ms after which DynamoDB's TTL may delete the counter item. */
  expiresAt: number;
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

/** Counted: the counted attributes' values after the write. Refused: the item as it was. */
export type CountResult =
  | { counted: true; current: Record<string, number> }
  | { counted: false; current: Record<string, number> };

/**
 * Idempotency-Key records, scoped to the API key: a claim by one request, then either the verification whose
 * call it may place (after which the key is never run again) and its stored response, or nothing (released).
 */
export interface IdempotencyStore {
  /** Claims the key for a request with this body hash; when taken, returns the record that holds it. */
  claimIdempotencyKey(
    input: IdempotencyClaim,
  ): Promise<{ claimed: true } | { claimed: false; record: IdempotencyRecord }>;
  /**
   * Binds this request's claim to the verification whose call it is about to place: from then on the key is
   * never run again, however old the claim. False when the claim is no longer this request's.
   */
  bindIdempotencyKey(key: string, claimId: string, verificationId: string): Promise<boolean>;
  completeIdempotencyKey(key: string, claimId: string, response: StoredResponse): Promise<void>;
  /** Frees this request's claim so a retry runs afresh; a claim bound to a verification is never freed. */
  releaseIdempotencyKey(key: string, claimId: string): Promise<void>;
}

export interface IdempotencyClaim {
  key: string;
  /** This request's own id for its claim (random): the later writes apply only to its own claim. */
  claimId: string;
  /**
   * The request body's keyed hash under each key of the ring, the current key's first (the one stored): a
   * claim made before a key rotation still matches its own retry.
   */
  bodyHashes: string[];
  now: number;
  expiresAt: number;
  /** An unbound claim older than this (ms epoch) is from a request that died: it may be taken over. */
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
  /** Set before the call was placed: a call may be out for it. */
  verificationId?: string;
  response?: StoredResponse;
}

/** An API key's webhook endpoint (`WEBHOOK#<api key id>`): its secret is stored sealed, never in plaintext. */
export interface WebhookRecord {
  url: string;
  events: string[];
  /** `whsec_…` sealed under the key ring (lib/events/webhook-secret.ts). */
  sealedSecret: string;
  updatedAt: number;
}

/** One endpoint per API key: set replaces it (and its secret), delete says whether there was one. */
export interface WebhookStore {
  putWebhook(apiKeyId: string, webhook: WebhookRecord): Promise<void>;
  getWebhook(apiKeyId: string): Promise<WebhookRecord | undefined>;
  deleteWebhook(apiKeyId: string): Promise<boolean>;
}

/**
 * Tenants' items (`TENANT#<tenant id>`): written by the operator's `npm run tenants`, read by send inside the
 * BatchGetItem it makes anyway (its counters' store), never by check, answer or hangup.
 */
export interface TenantStore {
  getTenant(id: string): Promise<Tenant | undefined>;
  /** Several tenants in as few round trips as BatchGetItem allows; those with no item are absent. */
  getTenants(ids: string[]): Promise<Map<string, Tenant>>;
  /** Writes a new tenant's item; false when it already has one. */
  createTenant(tenant: Tenant): Promise<boolean>;
  /**
   * Changes a tenant's item, creating it (with `name`) when the key had none yet: the stack's first key and
   * keys made by hand are tenants with the stack's settings until changed. Returns the tenant as written.
   */
  updateTenant(id: string, change: TenantChange, now: number): Promise<Tenant>;
}

export interface TenantChange {
  name: string;
  keyId?: string;
  disabled?: boolean;
  settings?: TenantSettingsChange;
  /** Replaces the safe list (empty clears it). */
  safeList?: SafeListEntry[];
}

/** Usage counts per tenant and UTC day (counted by the events function, lib/events/usage.ts). */
export interface UsageStore {
  /** The rows of these days (YYYY-MM-DD), the shards of each summed; rows with no count are absent. */
  readUsage(tenantId: string, days: string[], shards: number): Promise<UsageRow[]>;
}

/**
 * What a key rotation needs of the endpoints (ops/rotate-keys.ts, never a function): every sealed secret, and
 * a secret sealed again under the current key, written only while the item still holds the one it replaces.
 */
export interface WebhookSecretStore {
  /** Every endpoint's API key id and sealed secret: a Scan of the table, filtered (an operator's rare read). */
  listSealedSecrets(): Promise<Array<{ apiKeyId: string; sealedSecret: string }>>;
  /** False when the item changed meanwhile (a PUT issued a new secret, or a DELETE removed it). */
  replaceSealedSecret(apiKeyId: string, from: string, to: string): Promise<boolean>;
}

export type Store = VerificationStore &
  PhoneStore &
  CounterStore &
  IdempotencyStore &
  WebhookStore &
  TenantStore &
  UsageStore;
