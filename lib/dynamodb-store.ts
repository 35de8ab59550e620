import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ApiError, retryAfterSeconds } from './errors.ts';
import type { ApproveInput, TransitionResult, VerificationStore } from './store.ts';
import { keys } from './table.ts';
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

export class DynamoDbVerificationStore implements VerificationStore {
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
      pk: keys.verification(verification.id),
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
    const key = { pk: keys.verification(id) };
    const out = await this.#call((db) =>
      db.send(new GetCommand({ TableName: this.#table, Key: key, ConsistentRead: true })),
    );
    return out.Item ? fromItem(out.Item) : undefined;
  }

  async pointPhoneTo(apiKeyId: string, phoneHash: string, id: string, expiresAt: number) {
    const item = { pk: keys.phone(apiKeyId, phoneHash), verificationId: id, ttl: epochSeconds(expiresAt) };
    const out = await this.#call((db) =>
      db.send(new PutCommand({ TableName: this.#table, Item: item, ReturnValues: 'ALL_OLD' })),
    );
    return out.Attributes?.verificationId as string | undefined;
  }

  async latestIdForPhone(apiKeyId: string, phoneHash: string) {
    const key = { pk: keys.phone(apiKeyId, phoneHash) };
    const out = await this.#call((db) =>
      db.send(new GetCommand({ TableName: this.#table, Key: key, ConsistentRead: true })),
    );
    return out.Item?.verificationId as string | undefined;
  }

  approve({ id, apiKeyId, keyId, codeHash, now }: ApproveInput) {
    // The hash comparison happens in the condition so the happy path is one round trip. DynamoDB compares
    // a keyed HMAC of the caller's input, so its timing tells nothing about the stored code.
    return this.#transition(id, {
      UpdateExpression: 'SET #status = :approved, updatedAt = :now',
      ConditionExpression:
        'apiKeyId = :apiKeyId AND #status = :pending AND keyId = :keyId AND codeHash = :codeHash AND attempts < maxAttempts AND expiresAt > :now',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':approved': 'approved',
        ':pending': 'pending',
        ':apiKeyId': apiKeyId,
        ':keyId': keyId,
        ':codeHash': codeHash,
        ':now': now,
      },
    });
  }

  recordWrongCode(seen: Verification, now: number) {
    const attempts = seen.attempts + 1;
    return this.#transition(seen.id, {
      UpdateExpression: 'SET attempts = :attempts, #status = :status, updatedAt = :now',
      ConditionExpression:
        'apiKeyId = :apiKeyId AND #status = :pending AND attempts = :seen AND expiresAt > :now',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':attempts': attempts,
        ':status': attempts >= seen.maxAttempts ? 'max_attempts_reached' : 'pending',
        ':pending': 'pending',
        ':apiKeyId': seen.apiKeyId,
        ':seen': seen.attempts,
        ':now': now,
      },
    });
  }

  cancel(id: string, apiKeyId: string, now: number) {
    return this.#transition(id, {
      UpdateExpression: 'SET #status = :canceled, updatedAt = :now',
      ConditionExpression:
        'apiKeyId = :apiKeyId AND #status = :pending AND attempts < maxAttempts AND expiresAt > :now',
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
          Key: { pk: keys.verification(id) },
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
