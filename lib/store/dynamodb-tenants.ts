import { BatchGetCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { CHANNELS, type Channel } from '#platform/config.ts';
import { storeCall, storeError, storeUnavailable, type TableClient } from './dynamodb-client.ts';
import type { TenantChange, TenantStore, UsageStore } from './store.ts';
import { keys as itemKeys } from './table.ts';
import {
  SETTING_ATTRIBUTES,
  type Tenant,
  tenantFromItem,
  USAGE_METRICS,
  type UsageMetric,
  type UsageRow,
} from './tenant.ts';

/** BatchGetItem's limit on keys per request. */
const BATCH_KEYS = 100;

/**
 * Tenants' items and their usage counts. The operator's command writes the items; send reads a tenant's in the
 * BatchGetItem it makes for the fraud guard (lib/abuse/abuse.ts), so these are the operator's and the usage
 * route's only.
 */
export function tenantStore({ db, tableName }: TableClient): TenantStore & UsageStore {
  async function getTenant(id: string): Promise<Tenant | undefined> {
    const out = await storeCall(() =>
      db.send(
        new GetCommand({ TableName: tableName, Key: { pk: itemKeys.tenant(id) }, ConsistentRead: true }),
      ),
    );
    return tenantFromItem(out.Item);
  }

  async function getTenants(ids: string[]): Promise<Map<string, Tenant>> {
    const items = await batchGet([...new Set(ids)].map(itemKeys.tenant), true);
    const tenants = new Map<string, Tenant>();
    for (const item of items) {
      const tenant = tenantFromItem(item);
      if (tenant) tenants.set(tenant.id, tenant);
    }
    return tenants;
  }

  async function createTenant(tenant: Tenant): Promise<boolean> {
    const { id, settings, ...rest } = tenant;
    try {
      await db.send(
        new PutCommand({
          TableName: tableName,
          Item: { pk: itemKeys.tenant(id), ...rest, ...settings },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return true;
    } catch (error) {
      const failed = error as { name?: string; Item?: Record<string, never> };
      if (failed.name !== 'ConditionalCheckFailedException') throw storeError(error);
      // The SDK retries a write whose answer timed out: finding our own item means it was created.
      const found = failed.Item && unmarshall(failed.Item);
      return found?.keyId === tenant.keyId && found?.createdAt === tenant.createdAt;
    }
  }

  async function updateTenant(id: string, change: TenantChange, now: number): Promise<Tenant> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':now': now, ':name': change.name, ':keyId': id };
    const sets = ['#updatedAt = :now', '#createdAt = if_not_exists(#createdAt, :now)'];
    const removes: string[] = [];
    const name = (attribute: string) => {
      names[`#${attribute}`] = attribute;
      return `#${attribute}`;
    };
    name('updatedAt');
    name('createdAt');
    // A key with no item yet keeps its own id as its key; a name given later replaces none that was set.
    sets.push(`${name('name')} = if_not_exists(#name, :name)`);
    if (change.keyId !== undefined) {
      values[':keyId'] = change.keyId;
      sets.push(`${name('keyId')} = :keyId`);
    } else {
      sets.push(`${name('keyId')} = if_not_exists(#keyId, :keyId)`);
    }
    if (change.disabled !== undefined) {
      values[':disabled'] = change.disabled;
      sets.push(`${name('disabled')} = :disabled`);
    }
    for (const [attribute, value] of Object.entries(change.settings?.set ?? {})) {
      if (!(SETTING_ATTRIBUTES as readonly string[]).includes(attribute)) continue;
      values[`:${attribute}`] = value;
      sets.push(`${name(attribute)} = :${attribute}`);
    }
    for (const attribute of change.settings?.unset ?? []) removes.push(name(attribute));
    if (change.safeList !== undefined) {
      if (change.safeList.length > 0) {
        values[':safeList'] = change.safeList;
        sets.push(`${name('safeList')} = :safeList`);
      } else {
        removes.push(name('safeList'));
      }
    }
    const out = await storeCall(() =>
      db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: itemKeys.tenant(id) },
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    const tenant = tenantFromItem(out.Attributes);
    if (!tenant) throw new Error('The tenant update returned no item');
    return tenant;
  }

  async function readUsage(tenantId: string, days: string[], shards: number): Promise<UsageRow[]> {
    const suffixes = Array.from({ length: Math.max(1, shards) }, (_, i) => (i === 0 ? '' : `#s${i}`));
    const items = await batchGet(
      days.flatMap((day) => suffixes.map((suffix) => itemKeys.usage(tenantId, day, suffix))),
      false,
    );
    const rows = new Map<string, UsageRow>();
    for (const item of items) {
      const day = /^USAGE#[^#]+#(\d{4}-\d{2}-\d{2})/.exec(String(item.pk))?.[1];
      if (!day) continue;
      for (const [attribute, value] of Object.entries(item)) {
        const [channel, country, metric] = attribute.split('#');
        if (!isChannel(channel) || !country || !isMetric(metric) || typeof value !== 'number') continue;
        const key = `${day}#${channel}#${country}`;
        let row = rows.get(key);
        if (!row) {
          row = { date: day, channel, country, ...zeroCounts() };
          rows.set(key, row);
        }
        row[metric] += value;
      }
    }
    return [...rows.values()];
  }

  /** Items of these keys, in requests of at most 100 keys side by side; unprocessed keys are asked again. */
  async function batchGet(keys: string[], consistent: boolean): Promise<Record<string, unknown>[]> {
    const chunks: string[][] = [];
    for (let i = 0; i < keys.length; i += BATCH_KEYS) chunks.push(keys.slice(i, i + BATCH_KEYS));
    const results = await Promise.all(
      chunks.map(async (chunk) => {
        const found: Record<string, unknown>[] = [];
        let pending: Array<Record<string, unknown>> = chunk.map((pk) => ({ pk }));
        for (let round = 0; pending.length > 0; round++) {
          // Keys left unprocessed round after round: the table is throttled, the client's cue to retry.
          if (round === 5) throw storeUnavailable();
          const out = await storeCall(() =>
            db.send(
              new BatchGetCommand({
                RequestItems: { [tableName]: { Keys: pending, ...(consistent && { ConsistentRead: true }) } },
              }),
            ),
          );
          found.push(...(out.Responses?.[tableName] ?? []));
          pending = (out.UnprocessedKeys?.[tableName]?.Keys ?? []) as Array<Record<string, unknown>>;
        }
        return found;
      }),
    );
    return results.flat();
  }

  return { getTenant, getTenants, createTenant, updateTenant, readUsage };
}

const isChannel = (value: string | undefined): value is Channel => CHANNELS.includes(value as Channel);
const isMetric = (value: string | undefined): value is UsageMetric =>
  USAGE_METRICS.includes(value as UsageMetric);
const zeroCounts = () =>
  Object.fromEntries(USAGE_METRICS.map((metric) => [metric, 0])) as Record<UsageMetric, number>;
