import { assertCallable, type TenantRules } from '#abuse/abuse.ts';
import type { Phone } from '#channels/phone.ts';
import type { Channel, Config } from '#platform/config.ts';
import { apiKeyRefused, channelNotAllowed, invalidRequest } from '#platform/errors.ts';
import type { Locale } from '#platform/locales.ts';
import type { UsageStore } from '#store/store.ts';
import {
  type Tenant,
  tenantFromItem,
  USAGE_METRICS,
  type UsageCounts,
  type UsageRow,
} from '#store/tenant.ts';
import { fallbackChannelFor } from './fallback.ts';

/**
 * What a tenant's settings make of a send: each setting it left unset is the stack's, and the limits it may
 * only narrow (channels, daily cap, code lifetime) never pass the stack's whatever its item says. Send reads
 * the item in the BatchGetItem it makes anyway (lib/abuse/abuse.ts); what check, answer and hangup need is
 * fixed on the verification or sealed in its token at creation, so they never read it.
 */
export interface EffectiveSettings {
  appName: string;
  codeLength: number;
  codeTtlSeconds: number;
  defaultLocale: Locale;
  channels: Channel[];
  fallback: boolean;
  maxPerDay: number;
}

export function effectiveSettings(config: Config, tenant: Tenant | undefined): EffectiveSettings {
  const own = tenant?.settings ?? {};
  return {
    appName: own.appName ?? config.appName,
    codeLength: own.codeLength ?? config.codeLength,
    codeTtlSeconds: Math.min(own.codeTtlSeconds ?? config.codeTtlSeconds, config.codeTtlSeconds),
    defaultLocale: own.defaultLocale ?? config.defaultLocale,
    channels: (own.channels ?? config.channels).filter((channel) => config.channels.includes(channel)),
    fallback: own.fallback ?? config.fallback,
    maxPerDay: Math.min(own.maxPerDay ?? config.abuse.apiKeyMaxPerDay, config.abuse.apiKeyMaxPerDay),
  };
}

/** Whether the number, by its pseudonyms under the ring's keys, is on the tenant's safe list. */
export const isSafeListed = (tenant: Tenant | undefined, phoneHashes: readonly string[]) =>
  tenant?.safeList.some((entry) => entry.hashes.some((hash) => phoneHashes.includes(hash))) ?? false;

/** What a send asked for; each unset one is the tenant's default, else the stack's. */
export interface SendChoices {
  channel?: Channel | undefined;
  locale?: Locale | undefined;
  fallback?: boolean | undefined;
}

/** A send as its tenant's settings resolve it. */
export interface ResolvedSend {
  tenant: Tenant | undefined;
  settings: EffectiveSettings;
  channel: Channel;
  locale: Locale;
  fallback: boolean;
  rules: TenantRules;
}

/**
 * Decides a send from its tenant's item, as read: refused (403 `forbidden`) when the tenant is disabled, or
 * (403 `channel_not_allowed`) for a channel it may not use, a fallback it asked for included. A send that names
 * no channel uses the stack's DEFAULT_CHANNEL when the tenant may use it, else the tenant's first channel;
 * one that names no fallback falls back by the tenant's default, and only to a channel it may use.
 */
export function resolveSend(
  config: Config,
  item: Record<string, unknown> | undefined,
  request: SendChoices & { phone: Phone; phoneHashes: readonly string[] },
): ResolvedSend {
  const tenant = tenantFromItem(item);
  // The gateway refuses a disabled key already; this holds while a change is under way (npm run tenants).
  if (tenant?.disabled) throw apiKeyRefused();
  const settings = effectiveSettings(config, tenant);
  const fallbackDefault = settings.channels.includes(config.defaultChannel)
    ? config.defaultChannel
    : settings.channels[0];
  const channel = request.channel ?? fallbackDefault ?? config.defaultChannel;
  if (!settings.channels.includes(channel)) throw channelNotAllowed(channel);
  // Judged before anything was read with the stack's default channel; again for the tenant's.
  if (channel !== (request.channel ?? config.defaultChannel))
    assertCallable(config.abuse, request.phone, channel);
  const other = fallbackChannelFor(config, channel);
  if (request.fallback === true && !settings.channels.includes(other)) throw channelNotAllowed(other);
  const fallback = (request.fallback ?? settings.fallback) && settings.channels.includes(other);
  const safeListed = isSafeListed(tenant, request.phoneHashes);
  return {
    tenant,
    settings,
    channel,
    locale: request.locale ?? settings.defaultLocale,
    fallback,
    rules: { channel, maxPerDay: settings.maxPerDay, safeListed },
  };
}

/** Days one usage request may cover (the route and `npm run tenants -- usage`). */
export const USAGE_MAX_DAYS = 90;

const DAY_MS = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A YYYY-MM-DD that names a real UTC day, as epoch ms at its midnight; undefined otherwise. */
function utcMidnight(text: string): number | undefined {
  const match = DATE.exec(text);
  if (!match) return undefined;
  const ms = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  return new Date(ms).toISOString().slice(0, 10) === text ? ms : undefined;
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * The UTC days a usage request covers: `from` to `to`, both included; today when neither is given, `to` alone
 * when only it is, `from` to today when only `from` is. 400 `invalid_request` for a date that is not a real
 * YYYY-MM-DD, a `from` after `to`, or more than 90 days.
 */
export function usageDays(
  query: { from?: string | undefined; to?: string | undefined },
  now: number,
): string[] {
  const parse = (name: 'from' | 'to', value: string) => {
    const ms = utcMidnight(value);
    if (ms === undefined)
      throw invalidRequest(`${name} must be a date as YYYY-MM-DD (UTC), such as 2026-11-30.`);
    return ms;
  };
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const to = query.to === undefined ? today : parse('to', query.to);
  const from = query.from === undefined ? to : parse('from', query.from);
  if (query.to === undefined && query.from !== undefined && from > to)
    throw invalidRequest('from is after today; give to as well.');
  if (from > to) throw invalidRequest('from must not be after to.');
  const count = (to - from) / DAY_MS + 1;
  if (count > USAGE_MAX_DAYS)
    throw invalidRequest(`A usage request covers at most ${USAGE_MAX_DAYS} days; this one covers ${count}.`);
  return Array.from({ length: count }, (_, i) => isoDay(from + i * DAY_MS));
}

/** Approved over started, to 4 decimals; null before anything started. */
const conversionRate = (counts: UsageCounts) =>
  counts.started > 0 ? Math.round((counts.approved / counts.started) * 10_000) / 10_000 : null;

/**
 * A tenant's usage over these days (lib/events/usage.ts counts it from the table's stream, seconds behind):
 * totals, and one row per day, channel and destination country that counted anything.
 */
export async function usageReport(
  store: UsageStore,
  tenantId: string,
  days: string[],
  shards: number,
): Promise<UsageReport> {
  const rows = (await store.readUsage(tenantId, days, shards)).sort(
    (a, b) =>
      a.date.localeCompare(b.date) ||
      a.channel.localeCompare(b.channel) ||
      a.country.localeCompare(b.country),
  );
  const totals = Object.fromEntries(
    USAGE_METRICS.map((metric) => [metric, rows.reduce((sum, row) => sum + row[metric], 0)]),
  ) as UsageCounts;
  return {
    from: days[0] ?? '',
    to: days.at(-1) ?? '',
    totals: { ...totals, conversionRate: conversionRate(totals) },
    days: rows.map((row) => ({ ...row, conversionRate: conversionRate(row) })),
  };
}

export interface UsageReport {
  from: string;
  to: string;
  totals: UsageCounts & { conversionRate: number | null };
  days: Array<UsageRow & { conversionRate: number | null }>;
}
