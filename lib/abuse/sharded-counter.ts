import { randomInt } from 'node:crypto';
import type { CounterStore } from '#store/store.ts';

/**
 * Counters that every send writes (the day's caps, a country's hour, an API key's minute and day) split over
 * shard items, because one DynamoDB item takes about 1,000 writes a second: each send writes one shard chosen
 * at random, so each item takes about 1/N of the writes.
 *
 * The limit stays exact. Shard i may hold at most its share of the limit, the shares summing to the limit
 * (the first `limit % shards` shards one more; with a limit below N, only `limit` shards of one each), so
 * the shards together never admit more than the limit. A send refused by its shard is not refused yet: one
 * strongly consistent read of the other shards says which still had room, and those are tried in random
 * order; the send is refused only when every shard was full when it looked (the refused write or the read).
 * So the cost stays one write per send while its shard has room; near the limit a send pays one read and
 * a few more tries, and a refused one at most one write and one read whatever N is.
 */
export interface ShardedLimit {
  /** The item of one shard, from its suffix: '' for shard 0, so with one shard the key is the unsharded one. */
  key: (shard: string) => string;
  /** What the shards together may hold (attribute `n`). */
  max: number;
  shards: number;
  /** Epoch ms after which DynamoDB's TTL may delete the items. */
  expiresAt: number;
}

/**
 * The shard count for the windows that hold `now`. A change of COUNTER_SHARDS must not take effect within a
 * window: shard 0's item is the same under any count, but its share is not, so counts written under one
 * count and checked under another admit more than the cap (1 → 4 shards mid-day admitted 14 calls under a
 * cap of 8). Putting the count in the keys would not help either: the new items would start from zero and
 * admit a second cap's worth. So a change is declared with the day it takes effect, a UTC midnight, where
 * every minute, hour and day window begins afresh; until then every send, in any container, uses the count
 * before it (COUNTER_SHARDS_BEFORE).
 */
export const shardsAt = (
  settings: { counterShards: number; counterShardsBefore?: { shards: number; from: number } | undefined },
  now: number,
) =>
  settings.counterShardsBefore && now < settings.counterShardsBefore.from
    ? settings.counterShardsBefore.shards
    : settings.counterShards;

/** Shard `index`'s part of `max` over `shards` shards: the parts sum exactly to `max`. */
export const shareOf = (max: number, shards: number, index: number) =>
  Math.floor(max / shards) + (index < max % shards ? 1 : 0);

export const shardSuffix = (index: number) => (index === 0 ? '' : `#s${index}`);

/** The shard a send was counted in, and what that shard held once it was. */
export interface ShardCount {
  key: string;
  index: number;
  n: number;
}

/** Counts one in a shard with room: the shard written, or undefined when every shard was full. */
export async function countSharded(
  store: CounterStore,
  limit: ShardedLimit,
): Promise<ShardCount | undefined> {
  // A shard whose share would be 0 is never written: below N, the limit takes `max` shards of one.
  const shards = shardsFor(limit);
  const keyOf = (index: number) => limit.key(shardSuffix(index));
  const tryShard = async (index: number): Promise<ShardCount | undefined> => {
    const result = await store.count(keyOf(index), {
      add: { n: 1 },
      limits: { n: shareOf(limit.max, shards, index) },
      expiresAt: limit.expiresAt,
    });
    return result.counted ? { key: keyOf(index), index, n: result.current.n ?? 1 } : undefined;
  };
  const [first = 0, ...others] = shuffled(shards);
  const counted = await tryShard(first);
  if (counted || others.length === 0) return counted;
  const items = await store.readCounters(others.map(keyOf), { consistent: true });
  for (const index of others) {
    if ((items.get(keyOf(index))?.n ?? 0) >= shareOf(limit.max, shards, index)) continue;
    const taken = await tryShard(index);
    if (taken) return taken;
  }
  return undefined;
}

const shardsFor = (limit: Pick<ShardedLimit, 'shards' | 'max'>) =>
  Math.max(1, Math.min(limit.shards, limit.max));

/**
 * Holds a count taken under one limit to a lower one learned afterwards (a tenant's own day cap, read in the
 * same round trip as the count was written): kept when its shard is within its share of the lower limit,
 * else given back and counted again under the lower limit. Exact like countSharded: every send kept has seen
 * its shard at most at its share, counting all kept and in flight. Undefined when the lower limit is full.
 */
export async function fitSharded(
  store: CounterStore,
  limit: ShardedLimit,
  counted: ShardCount,
): Promise<ShardCount | undefined> {
  const shards = shardsFor(limit);
  if (counted.index < shards && counted.n <= shareOf(limit.max, shards, counted.index)) return counted;
  await store.count(counted.key, { add: { n: -1 }, expiresAt: limit.expiresAt });
  return countSharded(store, limit);
}

/** 0 … n-1 in random order (Fisher–Yates). */
function shuffled(n: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return order;
}
