import { BatchGetCommand, DeleteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import {
  epochSeconds,
  storeCall,
  storeError,
  storeUnavailable,
  type TableClient,
} from './dynamodb-client.ts';
import type { PhoneEntry, PhoneStore, PointResult, RecentLimit } from './store.ts';
import { keys as itemKeys, pointerKey, type RecentEntry } from './table.ts';
import type { Verification } from './verification.ts';

interface PointerItem {
  pk: string;
  verificationId?: string;
  recent?: RecentEntry[];
}

/** Reads of a phone's pointers an erasure makes before it gives up on a pointer that keeps changing. */
const ERASE_ROUNDS = 5;

/** Each phone's pointer to its latest verification and recent ids: send writes it, verify reads and erases it. */
export function phoneStore({ db, tableName }: TableClient): PhoneStore {
  async function pointPhoneTo(verification: PhoneEntry, keep: RecentLimit): Promise<PointResult> {
    const { id, createdAt } = verification;
    try {
      const out = await db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: pointerKey(verification) },
          UpdateExpression: 'SET verificationId = :id, createdAt = :createdAt',
          // The pointer exists: the verification's creation listed it. Gone, it was erased meanwhile (with this
          // verification), and must not come back. Equal times: the last writer wins, which still leaves one
          // pending. Pointers written before they carried createdAt count as older.
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(createdAt) OR createdAt <= :createdAt)',
          ExpressionAttributeValues: { ':id': id, ':createdAt': createdAt },
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const old = (out.Attributes ?? {}) as PointerItem;
      await pruneRecent(verification, old.recent ?? [], keep);
      return { moved: true, replaced: old.verificationId };
    } catch (error) {
      const failed = error as { name?: string; Item?: Record<string, never> };
      if (failed.name !== 'ConditionalCheckFailedException') throw storeError(error);
      if (!failed.Item) return { moved: false, erased: true };
      // A newer verification holds the pointer; this one is still the phone's, and listed.
      return { moved: false, newer: unmarshall(failed.Item).verificationId as string };
    }
  }

  async function pruneForPhone(verification: PhoneEntry, keep: RecentLimit): Promise<void> {
    const out = await storeCall(() =>
      db.send(
        new GetCommand({
          TableName: tableName,
          Key: { pk: pointerKey(verification) },
          ConsistentRead: true,
          ProjectionExpression: 'recent',
        }),
      ),
    );
    await pruneRecent(verification, (out.Item as PointerItem | undefined)?.recent ?? [], keep);
  }

  /**
   * Drops from the front of the pointer's list the ids whose items DynamoDB's TTL may already have removed,
   * and any beyond `atMost`. Appends go to the end and drops come off the front, so the write is conditional
   * on the last dropped entry still sitting where it was read; when another write moved it, the next send
   * prunes instead.
   */
  async function pruneRecent(verification: PhoneEntry, recent: RecentEntry[], keep: RecentLimit) {
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
      await db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: pointerKey(verification) },
          UpdateExpression: `REMOVE ${Array.from({ length: drop }, (_, i) => `recent[${i}]`).join(', ')}`,
          ConditionExpression: `recent[${drop - 1}].id = :last`,
          ExpressionAttributeValues: { ':last': last.id },
        }),
      );
    } catch (error) {
      if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw storeError(error);
    }
  }

  async function erasePhone(apiKeyId: string, phoneHashes: string[]): Promise<number> {
    let erased = 0;
    // A send may list a new id between the read and the pointer's delete: then read again.
    for (let round = 0; round < ERASE_ROUNDS; round++) {
      const pointers = await readPointers(apiKeyId, phoneHashes);
      if (pointers.length === 0) return erased;
      const ids = new Set(
        pointers.flatMap((pointer) => [
          ...(pointer.recent ?? []).map((entry) => entry.id),
          ...(pointer.verificationId ? [pointer.verificationId] : []),
        ]),
      );
      const deleted = await Promise.all([...ids].map((id) => eraseVerification(id, apiKeyId, phoneHashes)));
      erased += deleted.filter(Boolean).length;
      const removed = await Promise.all(pointers.map((pointer) => erasePointer(pointer)));
      if (removed.every(Boolean)) return erased;
    }
    throw storeUnavailable();
  }

  async function readPointers(apiKeyId: string, phoneHashes: string[]): Promise<PointerItem[]> {
    const keys = phoneHashes.map((hash) => ({ pk: itemKeys.phone(apiKeyId, hash) }));
    const out = await storeCall(() =>
      db.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: keys, ConsistentRead: true } } })),
    );
    if (Object.keys(out.UnprocessedKeys ?? {}).length > 0) {
      throw storeUnavailable();
    }
    return (out.Responses?.[tableName] ?? []) as PointerItem[];
  }

  /**
   * Only this API key's verification of this phone: a pointer is never trusted to name another's. The
   * answer its Idempotency-Key record keeps (it names the masked number) goes with it; the record itself
   * stays until its TTL, holding only a keyed hash of the request, so a retry under that key still places
   * no second call.
   */
  async function eraseVerification(id: string, apiKeyId: string, phoneHashes: string[]): Promise<boolean> {
    const hashes = Object.fromEntries(phoneHashes.map((hash, i) => [`:h${i}`, hash]));
    let erased: Record<string, unknown> | undefined;
    try {
      const out = await db.send(
        new DeleteCommand({
          TableName: tableName,
          Key: { pk: itemKeys.verification(id) },
          ConditionExpression: `apiKeyId = :apiKeyId AND phoneHash IN (${Object.keys(hashes).join(', ')})`,
          ExpressionAttributeValues: { ':apiKeyId': apiKeyId, ...hashes },
          ReturnValues: 'ALL_OLD',
        }),
      );
      erased = out.Attributes;
    } catch (error) {
      // Already gone (erased before, or removed by TTL), or not this key's phone: nothing to erase.
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw storeError(error);
    }
    const record = (erased as Partial<Verification> | undefined)?.idempotencyRecord;
    if (record) await forgetResponse(record, id);
    return erased !== undefined;
  }

  /** Removes the stored answer of the Idempotency-Key record bound to this verification (if it still is). */
  async function forgetResponse(record: string, verificationId: string) {
    try {
      await db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: record },
          UpdateExpression: 'REMOVE #response',
          ConditionExpression: 'verificationId = :id',
          ExpressionAttributeNames: { '#response': 'response' },
          ExpressionAttributeValues: { ':id': verificationId },
        }),
      );
    } catch (error) {
      // Expired, or never bound to it (the send failed before its call could be placed): nothing of it there.
      if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw storeError(error);
    }
  }

  /** Deletes the pointer as read: refused when a send listed another id meanwhile. */
  async function erasePointer(pointer: PointerItem): Promise<boolean> {
    const recent = pointer.recent ?? [];
    const last = recent.at(-1);
    try {
      await db.send(
        new DeleteCommand({
          TableName: tableName,
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

  async function latestIdForPhone(apiKeyId: string, phoneHashes: string[]) {
    const pointers = phoneHashes.map((hash) => ({ pk: itemKeys.phone(apiKeyId, hash) }));
    if (pointers.length === 1) {
      const out = await storeCall(() =>
        db.send(new GetCommand({ TableName: tableName, Key: pointers[0], ConsistentRead: true })),
      );
      return out.Item?.verificationId as string | undefined;
    }
    const out = await storeCall(() =>
      db.send(
        new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pointers, ConsistentRead: true } } }),
      ),
    );
    const found = new Map(
      (out.Responses?.[tableName] ?? []).map((item) => [item.pk as string, item.verificationId as string]),
    );
    return pointers.map(({ pk }) => found.get(pk)).find(Boolean);
  }

  return { pointPhoneTo, pruneForPhone, erasePhone, latestIdForPhone };
}
