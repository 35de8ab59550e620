import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { awsServiceUnavailable, boundedClientOptions, type SdkError, type TimeBudget } from './aws-budget.ts';
import type { Config } from './config.ts';
import { ApiError, retryAfterSeconds } from './errors.ts';
import type {
  CounterChange,
  CountResult,
  IdempotencyClaim,
  IdempotencyRecord,
  PhoneEntry,
  PointResult,
  RecentLimit,
  Store,
  StoredResponse,
  TransitionResult,
  WebhookRecord,
} from './store.ts';
import { keys as itemKeys } from './table.ts';
import {
  type CallRecord,
  type Channel,
  isFinalMessageStatus,
  MESSAGE_STATUS_RANK,
  type MessageRecord,
  type MessageStatus,
  type Verification,
  type VerificationState,
} from './verification.ts';

/**
 * The time one DynamoDB call may take, so a store that stops answering becomes a 503 long before the
 * function's timeout (README, "Store time budget"). Each attempt ends within `requestMs`, connecting
 * included; a call makes at most `attempts`, pausing up to `backoffMs(n)` before retry n.
 */
export const STORE_TIME_BUDGET: TimeBudget & { failFastMs: number } = {
  connectMs: 500,
  requestMs: 1000,
  attempts: 3,
  backoffMs: (retry: number) => 100 * retry,
  /** After a call ran out of time, the container's next calls fail at once for this long (= Retry-After). */
  failFastMs: 1000,
};

/**
 * The region a DynamoDB endpoint (DynamoDB Local) is addressed in. DynamoDB Local keeps one database per
 * access key id and region, so every client of one stack (the service, the table's creator, the tests) must
 * agree: one function, AWS_REGION when set.
 */
export const endpointRegion = () => process.env.AWS_REGION ?? 'us-east-1';

export type DynamoDbCredentials = NonNullable<Config['dynamodbCredentials']>;

/** An endpoint's key pair when none is given (DynamoDB Local's usual one, shared with anyone who guesses it). */
export const DEFAULT_ENDPOINT_CREDENTIALS: DynamoDbCredentials = {
  accessKeyId: 'local',
  secretAccessKey: 'local',
};

/**
 * On AWS (no endpoint) the SDK's default credential chain. With an endpoint (DynamoDB Local), the key pair
 * given, else the shared default: DynamoDB Local keeps one database per access key id.
 */
export function createDocumentClient(
  options: { endpoint?: string | undefined; credentials?: DynamoDbCredentials | undefined } = {},
): DynamoDBDocumentClient {
  const budget = STORE_TIME_BUDGET;
  const client = new DynamoDBClient({
    ...boundedClientOptions(budget),
    ...(options.endpoint && {
      endpoint: options.endpoint,
      region: endpointRegion(),
      credentials: options.credentials ?? DEFAULT_ENDPOINT_CREDENTIALS,
    }),
  });
  failFastAfterTimeouts(client, budget.failFastMs);
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/**
 * The budget bounds one call; a request makes several, some best-effort after the call is placed. Once a
 * call has timed out, waiting the whole budget again for each of the others would take the function past
 * its timeout, so for a moment they fail at once (a 503, like the first).
 */
function failFastAfterTimeouts(client: DynamoDBClient, pauseMs: number) {
  let waitUntil = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      if (Date.now() < waitUntil) {
        throw Object.assign(new Error('DynamoDB timed out moments ago; not waiting for it again yet.'), {
          name: 'TimeoutError',
        });
      }
      try {
        return await next(args);
      } catch (error) {
        const e = error as SdkError;
        if (e.name === 'TimeoutError' || e.code === 'ETIMEDOUT') waitUntil = Date.now() + pauseMs;
        throw error;
      }
    },
    { step: 'initialize', name: 'failFastAfterTimeouts' },
  );
}

/** The store for a function's configuration: one client per container. */
export function createStore(
  config: Pick<Config, 'dynamodbEndpoint' | 'dynamodbCredentials' | 'tableName' | 'retentionSeconds'>,
): DynamoDbStore {
  if (!config.tableName) throw new Error('TABLE_NAME is not set');
  return new DynamoDbStore(
    createDocumentClient({ endpoint: config.dynamodbEndpoint, credentials: config.dynamodbCredentials }),
    config.tableName,
    config.retentionSeconds,
  );
}

const epochSeconds = (ms: number) => Math.ceil(ms / 1000);

/** One of a phone's recent verifications, as its pointer lists it. */
interface RecentEntry {
  id: string;
  /** Epoch seconds: the verification item's TTL. */
  until: number;
}

interface PointerItem {
  pk: string;
  verificationId?: string;
  recent?: RecentEntry[];
}

/** Reads of a phone's pointers an erasure makes before it gives up on a pointer that keeps changing. */
const ERASE_ROUNDS = 5;

const fromItem = (item: Record<string, unknown>): Verification => {
  const { pk: _pk, ttl: _ttl, ...verification } = item;
  return verification as unknown as Verification;
};

/**
 * DynamoDB being down, throttled or slower than STORE_TIME_BUDGET is the client's cue to retry (503), not
 * a bug of ours (500).
 */
export function storeError(error: unknown): unknown {
  return awsServiceUnavailable(error) ? storeUnavailable() : error;
}

const storeUnavailable = () =>
  new ApiError(
    503,
    'store_unavailable',
    'The verification store is unavailable; retry shortly.',
    retryAfterSeconds(1),
  );

export class DynamoDbStore implements Store {
  readonly #db: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #retentionSeconds: number;

  constructor(db: DynamoDBDocumentClient, tableName: string, retentionSeconds: number) {
    this.#db = db;
    this.#table = tableName;
    this.#retentionSeconds = retentionSeconds;
  }

  async create(verification: Verification): Promise<void> {
    const item = {
      pk: itemKeys.verification(verification.id),
      ttl: epochSeconds(verification.expiresAt) + this.#retentionSeconds,
      ...verification,
    };
    try {
      await this.#db.send(
        new PutCommand({
          TableName: this.#table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      // The SDK retries a write whose answer timed out; if the first try landed, the retry finds our own
      // item (the id is random, its code hash keyed to it): the verification is created, not a 500.
      const failed = error as { name?: string; Item?: Record<string, never> };
      const found = failed.Item && unmarshall(failed.Item);
      if (
        failed.name === 'ConditionalCheckFailedException' &&
        found?.codeHash === verification.codeHash &&
        found.createdAt === verification.createdAt
      )
        return;
      throw storeError(error);
    }
  }

  async get(id: string): Promise<Verification | undefined> {
    const key = { pk: itemKeys.verification(id) };
    const out = await this.#call((db) =>
      db.send(new GetCommand({ TableName: this.#table, Key: key, ConsistentRead: true })),
    );
    return out.Item ? fromItem(out.Item) : undefined;
  }

  async getState(id: string): Promise<VerificationState | undefined> {
    const out = await this.#call((db) =>
      db.send(
        new GetCommand({
          TableName: this.#table,
          Key: { pk: itemKeys.verification(id) },
          ConsistentRead: true,
          ProjectionExpression: '#status, #attempts, #maxAttempts, #expiresAt, #locale, #supersededBy',
          ExpressionAttributeNames: {
            '#status': 'status',
            '#attempts': 'attempts',
            '#maxAttempts': 'maxAttempts',
            '#expiresAt': 'expiresAt',
            '#locale': 'locale',
            '#supersededBy': 'supersededBy',
          },
        }),
      ),
    );
    return out.Item as VerificationState | undefined;
  }

  async pointPhoneTo(verification: PhoneEntry, keep: RecentLimit): Promise<PointResult> {
    const { id, createdAt } = verification;
    const entry = this.#recentEntry(verification);
    try {
      const out = await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: this.#pointerKey(verification) },
          UpdateExpression:
            'SET verificationId = :id, createdAt = :createdAt, #ttl = :ttl, recent = list_append(if_not_exists(recent, :none), :entry)',
          // Equal times: the last writer wins, which still leaves one pending. Pointers written before they
          // carried createdAt count as older.
          ConditionExpression: 'attribute_not_exists(createdAt) OR createdAt <= :createdAt',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':id': id,
            ':createdAt': createdAt,
            // The pointer lives as long as the newest verification it lists.
            ':ttl': entry.until,
            ':none': [],
            ':entry': [entry],
          },
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const old = (out.Attributes ?? {}) as PointerItem;
      await this.#pruneRecent(verification, [...(old.recent ?? []), entry], keep);
      return { moved: true, replaced: old.verificationId };
    } catch (error) {
      const failed = error as { name?: string; Item?: Record<string, never> };
      if (failed.name !== 'ConditionalCheckFailedException' || !failed.Item) throw storeError(error);
      // A newer verification holds the pointer; this one is still the phone's, and listed.
      await this.rememberForPhone(verification, keep);
      return { moved: false, newer: unmarshall(failed.Item).verificationId as string };
    }
  }

  async rememberForPhone(verification: PhoneEntry, keep: RecentLimit): Promise<void> {
    const entry = this.#recentEntry(verification);
    const out = await this.#call((db) =>
      db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: this.#pointerKey(verification) },
          UpdateExpression:
            'SET recent = list_append(if_not_exists(recent, :none), :entry), #ttl = if_not_exists(#ttl, :ttl)',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':none': [], ':entry': [entry], ':ttl': entry.until },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    await this.#pruneRecent(verification, (out.Attributes as PointerItem | undefined)?.recent ?? [], keep);
  }

  /**
   * Drops from the front of the pointer's list the ids whose items DynamoDB's TTL may already have removed,
   * and any beyond `atMost`. Appends go to the end and drops come off the front, so the write is conditional
   * on the last dropped entry still sitting where it was read; when another write moved it, the next send
   * prunes instead.
   */
  async #pruneRecent(verification: PhoneEntry, recent: RecentEntry[], keep: RecentLimit) {
    const nowSeconds = epochSeconds(verification.createdAt);
    let drop = 0;
    while (
      drop < recent.length &&
      (recent.length - drop > keep.atMost || (recent[drop]?.until ?? 0) < nowSeconds)
    )
      drop++;
    const last = recent[drop - 1];
    if (!last) return;
    try {
      await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: this.#pointerKey(verification) },
          UpdateExpression: `REMOVE ${Array.from({ length: drop }, (_, i) => `recent[${i}]`).join(', ')}`,
          ConditionExpression: `recent[${drop - 1}].id = :last`,
          ExpressionAttributeValues: { ':last': last.id },
        }),
      );
    } catch (error) {
      if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw storeError(error);
    }
  }

  #pointerKey = (verification: Pick<Verification, 'apiKeyId' | 'phoneHash'>) =>
    itemKeys.phone(verification.apiKeyId, verification.phoneHash);

  /** `until`: the verification item's own TTL, after which it may be gone. */
  #recentEntry = (verification: PhoneEntry): RecentEntry => ({
    id: verification.id,
    until: epochSeconds(verification.expiresAt) + this.#retentionSeconds,
  });

  async erasePhone(apiKeyId: string, phoneHashes: string[]): Promise<number> {
    let erased = 0;
    // A send may list a new id between the read and the pointer's delete: then read again.
    for (let round = 0; round < ERASE_ROUNDS; round++) {
      const pointers = await this.#readPointers(apiKeyId, phoneHashes);
      if (pointers.length === 0) return erased;
      const ids = new Set(
        pointers.flatMap((pointer) => [
          ...(pointer.recent ?? []).map((entry) => entry.id),
          ...(pointer.verificationId ? [pointer.verificationId] : []),
        ]),
      );
      const deleted = await Promise.all(
        [...ids].map((id) => this.#eraseVerification(id, apiKeyId, phoneHashes)),
      );
      erased += deleted.filter(Boolean).length;
      const removed = await Promise.all(pointers.map((pointer) => this.#erasePointer(pointer)));
      if (removed.every(Boolean)) return erased;
    }
    throw storeUnavailable();
  }

  async #readPointers(apiKeyId: string, phoneHashes: string[]): Promise<PointerItem[]> {
    const keys = phoneHashes.map((hash) => ({ pk: itemKeys.phone(apiKeyId, hash) }));
    const out = await this.#call((db) =>
      db.send(new BatchGetCommand({ RequestItems: { [this.#table]: { Keys: keys, ConsistentRead: true } } })),
    );
    if (Object.keys(out.UnprocessedKeys ?? {}).length > 0) {
      throw storeUnavailable();
    }
    return (out.Responses?.[this.#table] ?? []) as PointerItem[];
  }

  /** Only this API key's verification of this phone: a pointer is never trusted to name another's. */
  async #eraseVerification(id: string, apiKeyId: string, phoneHashes: string[]): Promise<boolean> {
    const hashes = Object.fromEntries(phoneHashes.map((hash, i) => [`:h${i}`, hash]));
    try {
      const out = await this.#db.send(
        new DeleteCommand({
          TableName: this.#table,
          Key: { pk: itemKeys.verification(id) },
          ConditionExpression: `apiKeyId = :apiKeyId AND phoneHash IN (${Object.keys(hashes).join(', ')})`,
          ExpressionAttributeValues: { ':apiKeyId': apiKeyId, ...hashes },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return out.Attributes !== undefined;
    } catch (error) {
      // Already gone (erased before, or removed by TTL), or not this key's phone: nothing to erase.
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw storeError(error);
    }
  }

  /** Deletes the pointer as read: refused when a send listed another id meanwhile. */
  async #erasePointer(pointer: PointerItem): Promise<boolean> {
    const recent = pointer.recent ?? [];
    const last = recent.at(-1);
    try {
      await this.#db.send(
        new DeleteCommand({
          TableName: this.#table,
          Key: { pk: pointer.pk },
          ConditionExpression: last
            ? `size(recent) = :size AND recent[${recent.length - 1}].id = :last`
            : 'attribute_not_exists(recent)',
          ...(last && { ExpressionAttributeValues: { ':size': recent.length, ':last': last.id } }),
        }),
      );
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw storeError(error);
    }
  }

  async latestIdForPhone(apiKeyId: string, phoneHashes: string[]) {
    const pointers = phoneHashes.map((hash) => ({ pk: itemKeys.phone(apiKeyId, hash) }));
    if (pointers.length === 1) {
      const out = await this.#call((db) =>
        db.send(new GetCommand({ TableName: this.#table, Key: pointers[0], ConsistentRead: true })),
      );
      return out.Item?.verificationId as string | undefined;
    }
    const out = await this.#call((db) =>
      db.send(
        new BatchGetCommand({ RequestItems: { [this.#table]: { Keys: pointers, ConsistentRead: true } } }),
      ),
    );
    const found = new Map(
      (out.Responses?.[this.#table] ?? []).map((item) => [item.pk as string, item.verificationId as string]),
    );
    return pointers.map(({ pk }) => found.get(pk)).find(Boolean);
  }

  async reserveAttempt(id: string, apiKeyId: string, now: number, token: string) {
    const result = await this.#transition(id, {
      UpdateExpression: 'SET updatedAt = :now ADD attempts :one, reservations :token',
      // The token makes the write idempotent: the SDK retries a write that timed out, and every one of its
      // attempts may still land once the store recovers.
      ConditionExpression:
        'apiKeyId = :apiKeyId AND #status = :pending AND expiresAt > :now AND attempts < maxAttempts AND NOT contains(reservations, :tokenValue)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':one': 1,
        ':token': new Set([token]),
        ':tokenValue': token,
        ':pending': 'pending',
        ':apiKeyId': apiKeyId,
        ':now': now,
      },
    });
    // Refused because an earlier attempt of this very write landed: the attempt is reserved, once.
    if (!result.done && result.current?.reservations?.has(token))
      return { done: true, verification: result.current } as const;
    return result;
  }

  approve(id: string, apiKeyId: string, now: number) {
    return this.#transition(id, {
      UpdateExpression: 'SET #status = :approved, updatedAt = :now',
      ConditionExpression: 'apiKeyId = :apiKeyId AND #status = :pending',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':approved': 'approved',
        ':pending': 'pending',
        ':apiKeyId': apiKeyId,
        ':now': now,
      },
    });
  }

  lockOut(id: string, apiKeyId: string, now: number) {
    return this.#transition(id, {
      UpdateExpression: 'SET #status = :locked, updatedAt = :now',
      ConditionExpression: 'apiKeyId = :apiKeyId AND #status = :pending AND attempts >= maxAttempts',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':locked': 'max_attempts_reached',
        ':pending': 'pending',
        ':apiKeyId': apiKeyId,
        ':now': now,
      },
    });
  }

  cancel(id: string, apiKeyId: string, now: number, supersededBy?: string) {
    return this.#transition(id, {
      UpdateExpression: `SET #status = :canceled, updatedAt = :now${supersededBy ? ', supersededBy = :by' : ''}`,
      // A verification whose last attempt is still being tested is pending: its outcome becomes canceled.
      ConditionExpression: 'apiKeyId = :apiKeyId AND #status = :pending AND expiresAt > :now',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':canceled': 'canceled',
        ':pending': 'pending',
        ':apiKeyId': apiKeyId,
        ':now': now,
        ...(supersededBy && { ':by': supersededBy }),
      },
    });
  }

  fail(id: string, outcome: { call: CallRecord } | { message: MessageRecord }, now: number) {
    const [channel, record] = 'call' in outcome ? ['call', outcome.call] : ['message', outcome.message];
    return this.#transition(id, {
      UpdateExpression: 'SET #status = :failed, #channel = :record, updatedAt = :now',
      ConditionExpression: '#status = :pending',
      ExpressionAttributeNames: { '#status': 'status', '#channel': channel },
      ExpressionAttributeValues: {
        ':failed': 'failed',
        ':pending': 'pending',
        ':record': record,
        ':now': now,
      },
    });
  }

  recordMessage(id: string, report: MessageRecord & { uuid: string }, now: number) {
    const statuses = Object.keys(MESSAGE_STATUS_RANK) as MessageStatus[];
    const rank = MESSAGE_STATUS_RANK[report.status];
    // Bound to this MessageUUID: any status before this one. Not bound yet (the send wrote `queued`): the
    // same or an earlier status that is not final, so the first report binds even when it says `queued`.
    const bound = statuses.filter((status) => MESSAGE_STATUS_RANK[status] < rank);
    const unbound = statuses.filter(
      (status) => MESSAGE_STATUS_RANK[status] <= rank && !isFinalMessageStatus(status),
    );
    const values: Record<string, unknown> = { ':uuid': report.uuid, ':status': report.status, ':now': now };
    const within = (prefix: string, list: MessageStatus[]) =>
      list
        .map((status, i) => {
          values[`:${prefix}${i}`] = status;
          return `:${prefix}${i}`;
        })
        .join(', ');
    const conditions = [
      `attribute_not_exists(#m.#uuid) AND #m.#status IN (${within('u', unbound)})`,
      ...(bound.length ? [`#m.#uuid = :uuid AND #m.#status IN (${within('b', bound)})`] : []),
    ];
    const names: Record<string, string> = { '#m': 'message', '#uuid': 'uuid', '#status': 'status' };
    const sets = ['#m.#status = :status', '#m.#uuid = :uuid', 'updatedAt = :now'];
    for (const field of ['units', 'cost', 'errorCode'] as const) {
      if (report[field] === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = report[field];
      sets.push(`#m.#${field} = :${field}`);
    }
    return this.#transition(id, {
      UpdateExpression: `SET ${sets.join(', ')}`,
      // DynamoDB refuses redundant parentheses, so a lone alternative goes without its own.
      ConditionExpression: `attribute_exists(#m) AND (${conditions.length > 1 ? conditions.map((c) => `(${c})`).join(' OR ') : conditions[0]})`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
  }

  recordCallRequest(id: string, requestId: string, now: number) {
    return this.#transition(id, {
      UpdateExpression: 'SET #call.#requestId = :requestId, updatedAt = :now',
      ConditionExpression: 'attribute_exists(#call)',
      ExpressionAttributeNames: { '#call': 'call', '#requestId': 'requestId' },
      ExpressionAttributeValues: { ':requestId': requestId, ':now': now },
    });
  }

  recordCall(id: string, call: CallRecord & { uuid: string }, now: number) {
    return this.#transition(id, {
      UpdateExpression: 'SET #call = :call, updatedAt = :now',
      ConditionExpression:
        'attribute_exists(pk) AND (attribute_not_exists(#call.#uuid) OR #call.#uuid = :uuid)',
      ExpressionAttributeNames: { '#call': 'call', '#uuid': 'uuid' },
      ExpressionAttributeValues: { ':call': call, ':uuid': call.uuid, ':now': now },
    });
  }

  claimFallback(
    id: string,
    channel: Channel,
    now: number,
    failed?: { call: CallRecord } | { message: MessageRecord },
  ) {
    const [block, record] = !failed
      ? []
      : 'call' in failed
        ? ['call', failed.call]
        : ['message', failed.message];
    return this.#transition(id, {
      UpdateExpression: `SET #to = :claim, updatedAt = :now${block ? ', #first = :failed' : ''}`,
      // No expiry here: the sealed token it was opened from expires with the code, and useFallback checks.
      ConditionExpression: 'attribute_not_exists(#to) AND #fallback = :true AND #status = :pending',
      ExpressionAttributeNames: {
        '#to': 'fallbackTo',
        '#fallback': 'fallback',
        '#status': 'status',
        ...(block && { '#first': block }),
      },
      ExpressionAttributeValues: {
        ':claim': { channel, state: 'claimed' },
        ':true': true,
        ':pending': 'pending',
        ':now': now,
        ...(record && { ':failed': record }),
      },
    });
  }

  useFallback(id: string, outcome: { call: CallRecord } | { message: MessageRecord }, now: number) {
    const [block, record] = 'call' in outcome ? ['call', outcome.call] : ['message', outcome.message];
    return this.#transition(id, {
      UpdateExpression: 'SET #to.#state = :used, #block = :record, updatedAt = :now',
      ConditionExpression: '#status = :pending AND expiresAt > :now',
      ExpressionAttributeNames: {
        '#to': 'fallbackTo',
        '#state': 'state',
        '#block': block,
        '#status': 'status',
      },
      ExpressionAttributeValues: { ':used': 'used', ':record': record, ':pending': 'pending', ':now': now },
    });
  }

  refuseFallback(
    id: string,
    reason: string,
    outcome: { call: CallRecord } | { message: MessageRecord } | undefined,
    now: number,
  ) {
    const names: Record<string, string> = { '#to': 'fallbackTo', '#state': 'state', '#reason': 'reason' };
    const values: Record<string, unknown> = { ':refused': 'refused', ':reason': reason, ':now': now };
    const sets = ['#to.#state = :refused', '#to.#reason = :reason', 'updatedAt = :now'];
    if (outcome) {
      const [block, record] = 'call' in outcome ? ['call', outcome.call] : ['message', outcome.message];
      names['#block'] = block;
      values[':record'] = record;
      sets.push('#block = :record');
    }
    return this.#transition(id, {
      UpdateExpression: `SET ${sets.join(', ')}`,
      // An item TTL removed meanwhile stays removed.
      ConditionExpression: 'attribute_exists(#to)',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
  }

  async count(key: string, change: CounterChange): Promise<CountResult> {
    const names: Record<string, string> = { '#ttl': 'ttl' };
    const values: Record<string, unknown> = { ':ttl': epochSeconds(change.expiresAt) };
    const adds: string[] = [];
    const sets = ['#ttl = :ttl'];
    const conditions: string[] = [];
    const name = (attribute: string) => {
      const placeholder = `#n${Object.keys(names).length}`;
      names[placeholder] = attribute;
      return placeholder;
    };
    // A missing counter counts as 0, which passes only a bound of at least 0.
    const atMost = (n: string, bound: number) => {
      values[`:l${n.slice(2)}`] = bound;
      return bound >= 0
        ? `(attribute_not_exists(${n}) OR ${n} <= :l${n.slice(2)})`
        : `${n} <= :l${n.slice(2)}`;
    };
    for (const [attribute, amount] of Object.entries(change.add ?? {})) {
      const n = name(attribute);
      values[`:a${n.slice(2)}`] = amount;
      adds.push(`${n} :a${n.slice(2)}`);
      const limit = change.limits?.[attribute];
      if (limit !== undefined) conditions.push(atMost(n, limit - amount));
    }
    for (const [attribute, limit] of Object.entries(change.limits ?? {})) {
      if (change.add?.[attribute] !== undefined) continue;
      conditions.push(atMost(name(attribute), limit));
    }
    if (change.gap) {
      const n = name(change.gap.attribute);
      values[':gapStart'] = change.gap.now - change.gap.ms;
      values[':now'] = change.gap.now;
      conditions.push(`(attribute_not_exists(${n}) OR ${n} <= :gapStart)`);
      sets.push(`${n} = :now`);
    }
    for (const [attribute, value] of Object.entries(change.set ?? {})) {
      const n = name(attribute);
      values[`:s${n.slice(2)}`] = value;
      sets.push(`${n} = :s${n.slice(2)}`);
    }
    try {
      await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: key },
          UpdateExpression: `SET ${sets.join(', ')}${adds.length ? ` ADD ${adds.join(', ')}` : ''}`,
          ...(conditions.length && { ConditionExpression: conditions.join(' AND ') }),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { counted: true };
    } catch (error) {
      const failed = error as { name?: string; Item?: Record<string, never> };
      if (failed.name !== 'ConditionalCheckFailedException') throw storeError(error);
      return {
        counted: false,
        current: (failed.Item ? unmarshall(failed.Item) : {}) as Record<string, number>,
      };
    }
  }

  async countOnce(key: string, add: Record<string, number>, marker: string, expiresAt: number) {
    const names: Record<string, string> = { '#ttl': 'ttl' };
    const values: Record<string, unknown> = { ':ttl': epochSeconds(expiresAt) };
    const adds = Object.entries(add).map(([attribute, amount], i) => {
      names[`#a${i}`] = attribute;
      values[`:a${i}`] = amount;
      return `#a${i} :a${i}`;
    });
    try {
      await this.#db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.#table,
                Item: { pk: marker, ttl: epochSeconds(expiresAt) },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Update: {
                TableName: this.#table,
                Key: { pk: key },
                UpdateExpression: `SET #ttl = :ttl ADD ${adds.join(', ')}`,
                ExpressionAttributeNames: names,
                ExpressionAttributeValues: values,
              },
            },
          ],
        }),
      );
      return true;
    } catch (error) {
      const failed = error as { name?: string; CancellationReasons?: Array<{ Code?: string }> };
      const markerTaken =
        failed.name === 'TransactionCanceledException' &&
        failed.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed';
      if (markerTaken) return false;
      throw storeError(error);
    }
  }

  async readCounters(
    keys: string[],
    options: { consistent?: boolean } = {},
  ): Promise<Map<string, Record<string, number>>> {
    const out = await this.#call((db) =>
      db.send(
        new BatchGetCommand({
          RequestItems: {
            [this.#table]: {
              Keys: keys.map((pk) => ({ pk })),
              ...(options.consistent && { ConsistentRead: true }),
            },
          },
        }),
      ),
    );
    const found = new Map<string, Record<string, number>>();
    for (const item of out.Responses?.[this.#table] ?? [])
      found.set(item.pk as string, item as Record<string, number>);
    // Unprocessed keys (throttling) read as empty: the guard then errs on the side of calling.
    return found;
  }

  async claimIdempotencyKey(claim: IdempotencyClaim) {
    try {
      await this.#db.send(
        new PutCommand({
          TableName: this.#table,
          Item: {
            pk: claim.key,
            claimId: claim.claimId,
            bodyHash: claim.bodyHash,
            startedAt: claim.now,
            ttl: epochSeconds(claim.expiresAt),
          },
          // Free, expired, abandoned before any call could be placed, or this very claim (an SDK retry of a
          // write that landed). A claim bound to a verification is never taken over.
          ConditionExpression:
            'attribute_not_exists(pk) OR #ttl < :nowSeconds OR claimId = :claimId OR (attribute_not_exists(#response) AND attribute_not_exists(verificationId) AND startedAt < :stale AND bodyHash = :bodyHash)',
          ExpressionAttributeNames: { '#ttl': 'ttl', '#response': 'response' },
          ExpressionAttributeValues: {
            ':nowSeconds': Math.floor(claim.now / 1000),
            ':stale': claim.staleBefore,
            ':bodyHash': claim.bodyHash,
            ':claimId': claim.claimId,
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { claimed: true } as const;
    } catch (error) {
      const failed = error as { name?: string; Item?: Record<string, never> };
      if (failed.name !== 'ConditionalCheckFailedException' || !failed.Item) throw storeError(error);
      const { bodyHash, startedAt, verificationId, response } = unmarshall(failed.Item) as IdempotencyRecord;
      return {
        claimed: false,
        record: {
          bodyHash,
          startedAt,
          ...(verificationId && { verificationId }),
          ...(response && { response }),
        },
      } as const;
    }
  }

  async bindIdempotencyKey(key: string, claimId: string, verificationId: string) {
    try {
      await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: key },
          UpdateExpression: 'SET verificationId = :verificationId',
          ConditionExpression:
            'claimId = :claimId AND (attribute_not_exists(verificationId) OR verificationId = :verificationId)',
          ExpressionAttributeValues: { ':claimId': claimId, ':verificationId': verificationId },
        }),
      );
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw storeError(error);
    }
  }

  async completeIdempotencyKey(key: string, claimId: string, response: StoredResponse) {
    await this.#call((db) =>
      db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: key },
          UpdateExpression: 'SET #response = :response',
          ConditionExpression: 'claimId = :claimId',
          ExpressionAttributeNames: { '#response': 'response' },
          ExpressionAttributeValues: { ':response': response, ':claimId': claimId },
        }),
      ),
    );
  }

  async releaseIdempotencyKey(key: string, claimId: string) {
    try {
      await this.#db.send(
        new DeleteCommand({
          TableName: this.#table,
          Key: { pk: key },
          ConditionExpression: 'claimId = :claimId AND attribute_not_exists(verificationId)',
          ExpressionAttributeValues: { ':claimId': claimId },
        }),
      );
    } catch (error) {
      // Already gone, taken over, or bound to a verification (a call may be out): leave it be.
      if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw storeError(error);
    }
  }

  async putWebhook(apiKeyId: string, webhook: WebhookRecord): Promise<void> {
    const { url, events, sealedSecret, updatedAt } = webhook;
    await this.#call((db) =>
      db.send(
        new PutCommand({
          TableName: this.#table,
          Item: { pk: itemKeys.webhook(apiKeyId), url, events, sealedSecret, updatedAt },
        }),
      ),
    );
  }

  async getWebhook(apiKeyId: string): Promise<WebhookRecord | undefined> {
    const out = await this.#call((db) =>
      db.send(
        new GetCommand({
          TableName: this.#table,
          Key: { pk: itemKeys.webhook(apiKeyId) },
          ConsistentRead: true,
        }),
      ),
    );
    if (!out.Item) return undefined;
    const { url, events, sealedSecret, updatedAt } = out.Item;
    return { url, events, sealedSecret, updatedAt } as WebhookRecord;
  }

  async deleteWebhook(apiKeyId: string): Promise<boolean> {
    const out = await this.#call((db) =>
      db.send(
        new DeleteCommand({
          TableName: this.#table,
          Key: { pk: itemKeys.webhook(apiKeyId) },
          ReturnValues: 'ALL_OLD',
        }),
      ),
    );
    return out.Attributes !== undefined;
  }

  async #transition(
    id: string,
    update: Pick<
      ConstructorParameters<typeof UpdateCommand>[0],
      'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
    >,
  ): Promise<TransitionResult> {
    try {
      const out = await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: itemKeys.verification(id) },
          ...update,
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { done: true, verification: fromItem(out.Attributes ?? {}) };
    } catch (error) {
      const failed = error as { name?: string; Item?: Record<string, never> };
      if (failed.name !== 'ConditionalCheckFailedException') throw storeError(error);
      // lib-dynamodb leaves this item marshalled.
      return { done: false, current: failed.Item ? fromItem(unmarshall(failed.Item)) : undefined };
    }
  }

  async #call<T>(request: (db: DynamoDBDocumentClient) => Promise<T>): Promise<T> {
    try {
      return await request(this.#db);
    } catch (error) {
      throw storeError(error);
    }
  }
}
