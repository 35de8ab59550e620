import { BatchGetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { epochSeconds, storeCall, storeError, type TableClient } from './dynamodb-client.ts';
import type { CounterChange, CounterStore, CountOnce, CountResult } from './store.ts';

/** Counter items (rate limits, the fraud guard, the approvals the events function counts once each). */
export function counterStore({ db, tableName }: TableClient): CounterStore {
  async function count(key: string, change: CounterChange): Promise<CountResult> {
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
      const out = await db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: key },
          UpdateExpression: `SET ${sets.join(', ')}${adds.length ? ` ADD ${adds.join(', ')}` : ''}`,
          ...(conditions.length && { ConditionExpression: conditions.join(' AND ') }),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          // What the write made of the counts: no extra read, and the answer is a few bytes.
          ReturnValues: 'UPDATED_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { counted: true, current: (out.Attributes ?? {}) as Record<string, number> };
    } catch (error) {
      const failed = error as { name?: string; Item?: Record<string, never> };
      if (failed.name !== 'ConditionalCheckFailedException') throw storeError(error);
      return {
        counted: false,
        current: (failed.Item ? unmarshall(failed.Item) : {}) as Record<string, number>,
      };
    }
  }

  async function countOnce(counts: CountOnce[], marker: string, expiresAt: number) {
    const updates = counts.map(({ key, add, expiresAt: counterExpiresAt }) => {
      const names: Record<string, string> = { '#ttl': 'ttl' };
      const values: Record<string, unknown> = { ':ttl': epochSeconds(counterExpiresAt) };
      const adds = Object.entries(add).map(([attribute, amount], i) => {
        names[`#a${i}`] = attribute;
        values[`:a${i}`] = amount;
        return `#a${i} :a${i}`;
      });
      return {
        Update: {
          TableName: tableName,
          Key: { pk: key },
          UpdateExpression: `SET #ttl = :ttl ADD ${adds.join(', ')}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        },
      };
    });
    try {
      await db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: tableName,
                Item: { pk: marker, ttl: epochSeconds(expiresAt) },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            ...updates,
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

  async function readCounters(
    keys: string[],
    options: { consistent?: boolean } = {},
  ): Promise<Map<string, Record<string, number>>> {
    const out = await storeCall(() =>
      db.send(
        new BatchGetCommand({
          RequestItems: {
            [tableName]: {
              Keys: keys.map((pk) => ({ pk })),
              ...(options.consistent && { ConsistentRead: true }),
            },
          },
        }),
      ),
    );
    const found = new Map<string, Record<string, number>>();
    for (const item of out.Responses?.[tableName] ?? [])
      found.set(item.pk as string, item as Record<string, number>);
    // Unprocessed keys (throttling) read as empty: the guard then errs on the side of calling.
    return found;
  }

  return { count, countOnce, readCounters };
}
