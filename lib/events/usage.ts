import { shardSuffix } from '#abuse/sharded-counter.ts';
import { CHANNELS, type Channel } from '#platform/config.ts';
import type { CountOnce } from '#store/store.ts';
import { keys as itemKeys } from '#store/table.ts';
import { type UsageMetric, usageAttribute } from '#store/tenant.ts';
import { messageChannel, type Verification } from '#store/verification.ts';
import { channelOf } from '#verification/views.ts';
import { type ChangeRecord, verificationOf } from './event-derivation.ts';

/**
 * A tenant's usage, counted by the events function from the table's stream (never on a request's path), per
 * UTC day of the verification's creation, its first channel and its destination country:
 * - `started`: a verification was created (its verification.started event);
 * - `approved`: it was approved (counted in the fraud guard's transaction, lib/abuse/abuse.ts countApproval);
 * - `callsPlaced`: its call went out (Plivo took it: the request id recorded, or a hangup reported);
 * - `messagesSent`: its SMS or WhatsApp message went out (Plivo reported on it);
 * - `fallbacks`: the call or SMS that went out was its fallback, not its first channel.
 * Each count is made once per verification: a marker item written in the same transaction, so a record the
 * stream delivers again counts nothing twice.
 */
export interface UsageCount {
  /** `COUNTED#usage#<kind>#<verification id>`. */
  marker: string;
  count: CountOnce;
}

/** Usage items outlive the usage route's reach: about 13 months of days (docs/tenants.md). */
export const USAGE_RETENTION_MS = 400 * 86_400_000;
/** Markers outlive the stream's 24 hours of redelivery, with room. */
export const USAGE_MARKER_MS = 3 * 86_400_000;

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The usage item a verification's counts go to: its tenant's, its creation day's, a shard by its id. */
function usageKey(verification: Verification, shards: number): string {
  const shard = shards > 1 ? hashIndex(verification.id, shards) : 0;
  return itemKeys.usage(verification.apiKeyId, utcDay(verification.createdAt), shardSuffix(shard));
}

/** The same shard for the same verification, so its counts spread as its writes do. */
function hashIndex(id: string, n: number): number {
  let h = 0;
  for (const char of id) h = (h * 31 + char.charCodeAt(0)) >>> 0;
  return h % n;
}

/** The count of `metrics` for this verification, in its usage item. */
export function usageCountOf(
  verification: Verification,
  metrics: Partial<Record<UsageMetric, number>>,
  options: { shards: number; now: number },
): CountOnce {
  const channel = channelOf(verification);
  const add = Object.fromEntries(
    Object.entries(metrics)
      .filter(([, n]) => n !== 0)
      .map(([metric, n]) => [usageAttribute(channel, verification.country, metric as UsageMetric), n]),
  );
  return {
    key: usageKey(verification, options.shards),
    add,
    expiresAt: Math.max(verification.createdAt, options.now) + USAGE_RETENTION_MS,
  };
}

/**
 * The usage counts a stream record makes, approvals aside (they are counted with the fraud guard's). Each
 * comes from a change that happens once in a verification's life: its creation, its call going out, its SMS
 * going out.
 */
export function usageCounts(change: ChangeRecord, options: { shards: number; now: number }): UsageCount[] {
  if (change.kind === 'REMOVE') return [];
  const after = verificationOf(change.new);
  if (!after) return [];
  const before = change.kind === 'MODIFY' ? verificationOf(change.old) : undefined;
  const counts: UsageCount[] = [];
  const count = (kind: string, metrics: Partial<Record<UsageMetric, number>>) =>
    counts.push({
      marker: `COUNTED#usage#${kind}#${after.id}`,
      count: usageCountOf(after, metrics, options),
    });
  if (!before && after.status === 'pending') count('started', { started: 1 });
  const first = channelOf(after);
  for (const channel of CHANNELS) {
    if (!wentOut(after, channel) || (before && wentOut(before, channel))) continue;
    count(channel, {
      [channel === 'voice' ? 'callsPlaced' : 'messagesSent']: 1,
      fallbacks: channel === first ? 0 : 1,
    });
  }
  return counts;
}

/**
 * Whether the verification's `channel` went out. A call: Plivo took it (its request id is recorded, or it
 * reported the call's end). A message: Plivo reported on it (every report binds its MessageUUID), and it is
 * the message on the block now: a WhatsApp message's SMS fallback takes its place there, once it was counted.
 */
function wentOut(v: Verification, channel: Channel): boolean {
  if (channel === 'voice') return Boolean(v.call?.requestId || v.call?.uuid);
  return Boolean(v.message?.uuid) && messageChannel(v.message ?? {}) === channel;
}
