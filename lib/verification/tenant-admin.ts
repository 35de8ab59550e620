import { randomInt } from 'node:crypto';
import { maskPhone, parsePhone, phoneHash } from '#channels/phone.ts';
import {
  parseTenantSettings,
  type TenantLimits,
  type TenantSettings,
  type TenantSettingsChange,
} from '#platform/config.ts';
import { ApiError, invalidRequest } from '#platform/errors.ts';
import { tenantKeyValue } from '#platform/http.ts';
import type { Secrets } from '#platform/secrets.ts';
import type { TenantStore, UsageStore } from '#store/store.ts';
import type { SafeListEntry, Tenant } from '#store/tenant.ts';
import { type UsageReport, usageDays, usageReport } from './tenants.ts';

/**
 * The operator's side of tenants (`npm run tenants`): one set of operations over two backends of API keys,
 * API Gateway with the operator's credentials (ops/tenants.ts) and the local stack's stand-in for it
 * (local/api-keys.ts, reached through its operator routes). A tenant is an API key plus its `TENANT#` item;
 * every key on the stack's usage plan is one, the stack's first included. Settings are checked before anything
 * is written, by the rules the stack's own settings are checked with (lib/platform/config.ts).
 */
export interface GatewayKey {
  id: string;
  name: string;
  enabled: boolean;
  /** The tenant it belongs to: the one its value names (a rotated key), else its own id (lib/platform/http.ts). */
  tenantId: string;
}

/** API keys as API Gateway keeps them: a value made once, enabled or not, on the stack's usage plan or not. */
export interface GatewayKeys {
  /** Every key on the stack's usage plan. */
  list(): Promise<GatewayKey[]>;
  /** A new key on the usage plan; `value` names its tenant (a rotation), else the gateway generates one. */
  create(input: { name: string; value?: string; enabled: boolean }): Promise<{ id: string; value: string }>;
  setEnabled(id: string, enabled: boolean): Promise<void>;
  /** A key a rotation replaced stops working (deleted; a key the stack's template owns, disabled). */
  retire(id: string): Promise<void>;
}

export interface AdminDeps {
  store: TenantStore & UsageStore;
  keys: GatewayKeys;
  secrets: Pick<Secrets, 'keyRing'>;
  limits: TenantLimits;
  /** COUNTER_SHARDS: how many items each usage day is split over. */
  counterShards: number;
  clock: () => number;
}

/** What the operator sees of a tenant: never a key's value, safe-listed numbers masked. */
export interface TenantView {
  id: string;
  name: string;
  disabled: boolean;
  /** Only what the tenant set; every other setting is the stack's. */
  settings: TenantSettings & { safeList?: string[] };
  /** What the operator should act on, e.g. safe-listed numbers a key-ring rotation left unmatched. */
  warnings?: string[];
}

/** The most numbers a safe list holds. */
export const SAFE_LIST_MAX = 50;

const TENANT_ID = /^[a-z0-9]{1,32}$/;
const NAME = /^[\p{L}\p{N} ._'&()-]{1,64}$/u;

export const tenantNotFound = (id: string) =>
  new ApiError(
    404,
    'tenant_not_found',
    `No tenant ${id.slice(0, 32)} on this stack (npm run tenants -- list).`,
  );

/** Input as the command line gives it: settings by name, `safeList` as comma-separated numbers. */
export type SettingsInput = Record<string, unknown>;

/** Creates a key on the usage plan and its tenant's item; the key's value is in this answer only. */
export async function createTenant(
  deps: AdminDeps,
  input: { name: unknown; settings?: SettingsInput },
): Promise<TenantView & { apiKey: string }> {
  const name = tenantName(input.name);
  const change = await checkSettings(deps, input.settings ?? {});
  const key = await deps.keys.create({ name, enabled: true });
  const now = deps.clock();
  try {
    const created = await deps.store.createTenant({
      id: key.id,
      name,
      keyId: key.id,
      disabled: false,
      settings: change.settings.set,
      safeList: change.safeList ?? [],
      createdAt: now,
      updatedAt: now,
    });
    if (!created) throw new Error(`The gateway gave key id ${key.id}, which already has a tenant item`);
  } catch (error) {
    // No key without its item: the operator can simply run create again.
    await deps.keys.retire(key.id).catch(() => undefined);
    throw error;
  }
  const tenant = await deps.store.getTenant(key.id);
  return {
    ...viewOf(key.id, tenant, [{ id: key.id, name, enabled: true, tenantId: key.id }]),
    apiKey: key.value,
  };
}

export async function listTenants(deps: AdminDeps): Promise<TenantView[]> {
  const keys = await deps.keys.list();
  const ids = [...new Set(keys.map((key) => key.tenantId))].sort();
  const [tenants, ring] = await Promise.all([deps.store.getTenants(ids), deps.secrets.keyRing()]);
  return ids.map((id) => withWarnings(viewOf(id, tenants.get(id), keys), tenants.get(id), ring.all));
}

export async function showTenant(deps: AdminDeps, id: string): Promise<TenantView> {
  const { tenant, keys } = await find(deps, id);
  return withWarnings(viewOf(id, tenant, keys), tenant, (await deps.secrets.keyRing()).all);
}

/**
 * A safe-listed number matches by its pseudonyms under the ring's keys as they were when it was set; once a
 * key-ring rotation has removed all of those keys, it no longer matches, and only setting it again helps (its
 * number is not stored).
 */
function withWarnings(view: TenantView, tenant: Tenant | undefined, ringKeys: ReadonlyArray<{ id: string }>) {
  const ids = new Set(ringKeys.map((key) => key.id));
  const stale = (tenant?.safeList ?? []).filter(
    (entry) => !entry.hashes.some((hash) => ids.has(hash.split('.')[0] ?? '')),
  );
  if (stale.length === 0) return view;
  return {
    ...view,
    warnings: [
      `${stale.length} safe-listed number(s) (${stale.map((entry) => entry.to).join(', ')}) were set before a ` +
        'key-ring rotation and no longer match: set --safe-list again.',
    ],
  };
}

/** Changes settings (an empty value unsets one) and replaces the safe list; nothing is written if any is bad. */
export async function setTenant(deps: AdminDeps, id: string, settings: SettingsInput): Promise<TenantView> {
  const found = await find(deps, id);
  const change = await checkSettings(deps, settings);
  const tenant = await deps.store.updateTenant(
    id,
    {
      name: nameOf(found),
      settings: change.settings,
      ...(change.safeList && { safeList: change.safeList }),
    },
    deps.clock(),
  );
  return viewOf(id, tenant, found.keys);
}

/**
 * A disabled tenant's keys get API Gateway's 403 `forbidden` on every route; its item says so too, which
 * send checks (it reads the item anyway) while the gateway's change is under way. Either order is safe to
 * repeat: running the command again completes it.
 */
export async function setTenantEnabled(deps: AdminDeps, id: string, enabled: boolean): Promise<TenantView> {
  const found = await find(deps, id);
  const update = () => deps.store.updateTenant(id, { name: nameOf(found), disabled: !enabled }, deps.clock());
  // Disabling: the item first, so send refuses at once; enabling: the keys first, then the item.
  const tenant = enabled ? undefined : await update();
  for (const key of found.keys) await deps.keys.setEnabled(key.id, enabled);
  const written = tenant ?? (await update());
  return viewOf(
    id,
    written,
    found.keys.map((key) => ({ ...key, enabled })),
  );
}

/**
 * A new key whose value names the tenant, so the tenant keeps its id, verifications, webhook, settings and
 * usage; every older key of the tenant stops working. The new value is in this answer only.
 */
export async function rotateTenantKey(deps: AdminDeps, id: string): Promise<{ id: string; apiKey: string }> {
  const found = await find(deps, id);
  const disabled = found.tenant?.disabled === true;
  const key = await deps.keys.create({
    name: nameOf(found),
    value: tenantKeyValue(id, randomAlphanumeric(40)),
    enabled: !disabled,
  });
  await deps.store.updateTenant(id, { name: nameOf(found), keyId: key.id }, deps.clock());
  for (const old of found.keys) if (old.id !== key.id) await deps.keys.retire(old.id);
  return { id, apiKey: key.value };
}

export async function tenantUsage(
  deps: AdminDeps,
  id: string,
  range: { from?: string | undefined; to?: string | undefined },
): Promise<UsageReport> {
  const days = usageDays(range, deps.clock());
  await find(deps, id);
  return usageReport(deps.store, id, days, deps.counterShards);
}

/** A tenant by id: its item and its keys on the usage plan; 404 when it has neither. */
async function find(deps: AdminDeps, id: string) {
  if (!TENANT_ID.test(id)) throw tenantNotFound(id);
  const [tenant, all] = await Promise.all([deps.store.getTenant(id), deps.keys.list()]);
  const keys = all.filter((key) => key.tenantId === id);
  if (!tenant && keys.length === 0) throw tenantNotFound(id);
  return { tenant, keys };
}

const nameOf = (found: { tenant: Tenant | undefined; keys: GatewayKey[] }) =>
  found.tenant?.name || found.keys[0]?.name || 'default';

function viewOf(id: string, tenant: Tenant | undefined, keys: GatewayKey[]): TenantView {
  const own = keys.filter((key) => key.tenantId === id);
  const safeList = tenant?.safeList.map((entry) => entry.to) ?? [];
  return {
    id,
    name: tenant?.name || own[0]?.name || '',
    // Disabled by its item, or with no enabled key left on the usage plan.
    disabled: tenant?.disabled === true || (own.length > 0 && own.every((key) => !key.enabled)),
    settings: { ...tenant?.settings, ...(safeList.length > 0 && { safeList }) },
  };
}

function tenantName(value: unknown): string {
  if (typeof value !== 'string' || !NAME.test(value.trim()))
    throw invalidRequest("name must be 1-64 letters, digits, spaces or . _ ' & ( ) -.");
  return value.trim();
}

/** Settings and the safe list, all checked before anything is written. */
async function checkSettings(
  deps: AdminDeps,
  input: SettingsInput,
): Promise<{ settings: TenantSettingsChange; safeList?: SafeListEntry[] }> {
  const { safeList, ...settings } = input;
  const change = parseTenantSettings(settings, deps.limits);
  if (safeList === undefined) return { settings: change };
  return { settings: change, safeList: await safeListOf(deps, safeList) };
}

/**
 * The safe list from comma-separated E.164 numbers (empty clears it): each stored as its pseudonym under every
 * key of the ring, like any phone pseudonym, and masked for display; never the number itself.
 */
async function safeListOf(deps: AdminDeps, input: unknown): Promise<SafeListEntry[]> {
  if (typeof input !== 'string') throw invalidRequest('safeList (--safe-list) must be text: +1…,+1…');
  const numbers = [
    ...new Set(
      input
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    ),
  ];
  if (numbers.length > SAFE_LIST_MAX)
    throw invalidRequest(
      `safeList (--safe-list) holds at most ${SAFE_LIST_MAX} numbers, not ${numbers.length}.`,
    );
  const phones = numbers.map((number, i) => {
    try {
      return parsePhone(number);
    } catch {
      // Not the number itself: the message may end up in a terminal's history or a log.
      throw new ApiError(
        400,
        'invalid_phone',
        `safeList (--safe-list): number ${i + 1} is not a valid number in E.164 format, such as +14155550123.`,
      );
    }
  });
  const ring = await deps.secrets.keyRing();
  return phones.map((phone) => ({
    to: maskPhone(phone),
    hashes: ring.all.map((key) => phoneHash(key, phone.e164)),
  }));
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A CSPRNG string of letters and digits (API Gateway takes nothing else in a key's value). */
export const randomAlphanumeric = (length: number) =>
  Array.from({ length }, () => ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]).join('');
