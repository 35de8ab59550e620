import type { Channel, TenantSettings } from '#platform/config.ts';
import { TENANT_PREFIX } from './table.ts';

/**
 * A tenant: an API key and its settings (`TENANT#<tenant id>`), where the tenant's id is the id of the key it
 * was created with (lib/platform/http.ts `apiKeyIdOf`). A key with no item (the stack's first key, keys made
 * by hand) is a tenant with the stack's settings. Also the vocabulary of its usage counts.
 */
export interface Tenant {
  id: string;
  name: string;
  /** The API Gateway key its apps use now (a rotation replaces it); its value is never stored. */
  keyId: string;
  disabled: boolean;
  settings: TenantSettings;
  /** Numbers exempt from the per-phone limits and the fraud guard, as pseudonyms and masked. */
  safeList: SafeListEntry[];
  createdAt: number;
  updatedAt: number;
}

/** One safe-listed number: masked for display, and its pseudonym under each key of the ring when it was set. */
export interface SafeListEntry {
  /** Masked like every stored number: +1********23. */
  to: string;
  /** `<key id>.<HMAC>` (lib/channels/phone.ts phoneHash), one per key of the ring. */
  hashes: string[];
}

/** The attributes a tenant's settings are stored under: one each, so an unset setting is simply absent. */
export const SETTING_ATTRIBUTES = [
  'appName',
  'codeLength',
  'codeTtlSeconds',
  'defaultLocale',
  'channels',
  'fallback',
  'maxPerDay',
] as const satisfies ReadonlyArray<keyof TenantSettings>;

/** A tenant from its item (send reads it in its BatchGetItem, raw); undefined when there is none. */
export function tenantFromItem(item: Record<string, unknown> | undefined): Tenant | undefined {
  if (!item || typeof item.pk !== 'string') return undefined;
  const settings: Record<string, unknown> = {};
  for (const name of SETTING_ATTRIBUTES) if (item[name] !== undefined) settings[name] = item[name];
  // DynamoDB hands sets and lists back as Sets or arrays: channels are kept as a list, in order.
  if (settings.channels !== undefined) settings.channels = [...(settings.channels as Iterable<Channel>)];
  return {
    id: item.pk.slice(TENANT_PREFIX.length),
    name: typeof item.name === 'string' ? item.name : '',
    keyId: typeof item.keyId === 'string' ? item.keyId : item.pk.slice(TENANT_PREFIX.length),
    disabled: item.disabled === true,
    settings: settings as TenantSettings,
    safeList: Array.isArray(item.safeList) ? (item.safeList as SafeListEntry[]) : [],
    createdAt: Number(item.createdAt ?? 0),
    updatedAt: Number(item.updatedAt ?? 0),
  };
}

/** What usage counts, per UTC day (of the verification's creation), first channel and destination country. */
export const USAGE_METRICS = ['started', 'approved', 'callsPlaced', 'messagesSent', 'fallbacks'] as const;

export type UsageMetric = (typeof USAGE_METRICS)[number];

export type UsageCounts = Record<UsageMetric, number>;

export interface UsageRow extends UsageCounts {
  /** YYYY-MM-DD, UTC. */
  date: string;
  channel: Channel;
  /** ISO 3166 alpha-2, or 001 for non-geographic numbers. */
  country: string;
}

/** The attribute of one count in a usage item: `voice#US#started`. */
export const usageAttribute = (channel: Channel, country: string, metric: UsageMetric) =>
  `${channel}#${country}#${metric}`;
