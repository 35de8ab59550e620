import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Config } from './config.ts';
import { ApiError, retryAfterSeconds } from './errors.ts';
import type {
  CounterChange,
  CountResult,
  IdempotencyClaim,
  IdempotencyRecord,
  Store,
  StoredResponse,
  TransitionResult,
} from './store.ts';
import { keys as itemKeys } from './table.ts';
import type { CallRecord, Verification } from './verification.ts';

export function createDocumentClient(
  options: { endpoint?: string | undefined } = {},
): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    maxAttempts: 3,
    ...(options.endpoint && {
      endpoint: options.endpoint,
      region: process.env.AWS_REGION ?? 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  });
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/** The store for a function's configuration: one client per container. */
export function createStore(
  config: Pick<Config, 'dynamodbEndpoint' | 'tableName' | 'retentionSeconds'>,
): DynamoDbStore {
  if (!config.tableName) throw new Error('TABLE_NAME is not set');
  return new DynamoDbStore(
    createDocumentClient({ endpoint: config.dynamodbEndpoint }),
    config.tableName,
    config.retentionSeconds,
  );
}

const epochSeconds = (ms: number) => Math.ceil(ms / 1000);

const fromItem = (item: Record<string, unknown>): Verification => {
  const { pk: _pk, ttl: _ttl, ...verification } = item;
  return verification as unknown as Verification;
};

const RETRYABLE = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
]);

/** DynamoDB being down or throttled is the client's cue to retry (503), not a bug of ours (500). */
export function storeError(error: unknown): unknown {
  const e = error as {
    name?: string;
    code?: string;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  const unavailable =
    RETRYABLE.has(e.name ?? '') ||
    e.$retryable !== undefined ||
    (e.$metadata?.httpStatusCode ?? 0) >= 500 ||
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(e.code ?? '');
  return unavailable
    ? new ApiError(
        503,
        'store_unavailable',
        'The verification store is unavailable; retry shortly.',
        retryAfterSeconds(1),
      )
    : error;
}

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
    await this.#call((db) =>
      db.send(
        new PutCommand({
          TableName: this.#table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  async get(id: string): Promise<Verification | undefined> {
    const key = { pk: itemKeys.verification(id) };
    const out = await this.#call((db) =>
      db.send(new GetCommand({ TableName: this.#table, Key: key, ConsistentRead: true })),
    );
    return out.Item ? fromItem(out.Item) : undefined;
  }

  async pointPhoneTo(apiKeyId: string, phoneHash: string, id: string, expiresAt: number) {
    const item = {
      pk: itemKeys.phone(apiKeyId, phoneHash),
      verificationId: id,
      ttl: epochSeconds(expiresAt),
    };
    const out = await this.#call((db) =>
      db.send(new PutCommand({ TableName: this.#table, Item: item, ReturnValues: 'ALL_OLD' })),
    );
    return out.Attributes?.verificationId as string | undefined;
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

  reserveAttempt(id: string, apiKeyId: string, now: number) {
    return this.#transition(id, {
      UpdateExpression: 'SET updatedAt = :now ADD attempts :one',
      ConditionExpression:
        'apiKeyId = :apiKeyId AND #status = :pending AND expiresAt > :now AND attempts < maxAttempts',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':one': 1, ':pending': 'pending', ':apiKeyId': apiKeyId, ':now': now },
    });
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

  cancel(id: string, apiKeyId: string, now: number) {
    return this.#transition(id, {
      UpdateExpression: 'SET #status = :canceled, updatedAt = :now',
      // A verification whose last attempt is still being tested is pending: its outcome becomes canceled.
      ConditionExpression: 'apiKeyId = :apiKeyId AND #status = :pending AND expiresAt > :now',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':canceled': 'canceled',
        ':pending': 'pending',
        ':apiKeyId': apiKeyId,
        ':now': now,
      },
    });
  }

  fail(id: string, call: CallRecord, now: number) {
    return this.#transition(id, {
      UpdateExpression: 'SET #status = :failed, #call = :call, updatedAt = :now',
      ConditionExpression: '#status = :pending',
      ExpressionAttributeNames: { '#status': 'status', '#call': 'call' },
      ExpressionAttributeValues: { ':failed': 'failed', ':pending': 'pending', ':call': call, ':now': now },
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

  async readCounters(keys: string[]): Promise<Map<string, Record<string, number>>> {
    const out = await this.#call((db) =>
      db.send(new BatchGetCommand({ RequestItems: { [this.#table]: { Keys: keys.map((pk) => ({ pk })) } } })),
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
            bodyHash: claim.bodyHash,
            startedAt: claim.now,
            ttl: epochSeconds(claim.expiresAt),
          },
          ConditionExpression:
            'attribute_not_exists(pk) OR #ttl < :nowSeconds OR (attribute_not_exists(#response) AND startedAt < :stale AND bodyHash = :bodyHash)',
          ExpressionAttributeNames: { '#ttl': 'ttl', '#response': 'response' },
          ExpressionAttributeValues: {
            ':nowSeconds': Math.floor(claim.now / 1000),
            ':stale': claim.staleBefore,
            ':bodyHash': claim.bodyHash,
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { claimed: true } as const;
    } catch (error) {
      const failed = error as { name?: string; Item?: Record<string, never> };
      if (failed.name !== 'ConditionalCheckFailedException' || !failed.Item) throw storeError(error);
      const { bodyHash, startedAt, response } = unmarshall(failed.Item) as IdempotencyRecord;
      return { claimed: false, record: { bodyHash, startedAt, ...(response && { response }) } } as const;
    }
  }

  async completeIdempotencyKey(key: string, response: StoredResponse) {
    await this.#call((db) =>
      db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: key },
          UpdateExpression: 'SET #response = :response',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#response': 'response' },
          ExpressionAttributeValues: { ':response': response },
        }),
      ),
    );
  }

  async releaseIdempotencyKey(key: string) {
    await this.#call((db) => db.send(new DeleteCommand({ TableName: this.#table, Key: { pk: key } })));
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
