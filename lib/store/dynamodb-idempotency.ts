import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { epochSeconds, storeCall, storeError, type TableClient } from './dynamodb-client.ts';
import type { IdempotencyClaim, IdempotencyRecord, IdempotencyStore, StoredResponse } from './store.ts';

/** Idempotency-Key records: only send claims them. */
export function idempotencyStore({ db, tableName }: TableClient): IdempotencyStore {
  async function claimIdempotencyKey(claim: IdempotencyClaim) {
    const hashes = Object.fromEntries(claim.bodyHashes.map((hash, i) => [`:bodyHash${i}`, hash]));
    try {
      await db.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            pk: claim.key,
            claimId: claim.claimId,
            bodyHash: claim.bodyHashes[0],
            startedAt: claim.now,
            ttl: epochSeconds(claim.expiresAt),
          },
          // Free, expired, abandoned before any call could be placed, or this very claim (an SDK retry of a
          // write that landed). A claim bound to a verification is never taken over.
          ConditionExpression: `attribute_not_exists(pk) OR #ttl < :nowSeconds OR claimId = :claimId OR (attribute_not_exists(#response) AND attribute_not_exists(verificationId) AND startedAt < :stale AND bodyHash IN (${Object.keys(hashes).join(', ')}))`,
          ExpressionAttributeNames: { '#ttl': 'ttl', '#response': 'response' },
          ExpressionAttributeValues: {
            ':nowSeconds': Math.floor(claim.now / 1000),
            ':stale': claim.staleBefore,
            ':claimId': claim.claimId,
            ...hashes,
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

  async function bindIdempotencyKey(key: string, claimId: string, verificationId: string) {
    try {
      await db.send(
        new UpdateCommand({
          TableName: tableName,
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

  async function completeIdempotencyKey(key: string, claimId: string, response: StoredResponse) {
    await storeCall(() =>
      db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: key },
          UpdateExpression: 'SET #response = :response',
          ConditionExpression: 'claimId = :claimId',
          ExpressionAttributeNames: { '#response': 'response' },
          ExpressionAttributeValues: { ':response': response, ':claimId': claimId },
        }),
      ),
    );
  }

  async function releaseIdempotencyKey(key: string, claimId: string) {
    try {
      await db.send(
        new DeleteCommand({
          TableName: tableName,
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

  return { claimIdempotencyKey, bindIdempotencyKey, completeIdempotencyKey, releaseIdempotencyKey };
}
