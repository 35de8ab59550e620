import { createHmac } from 'node:crypto';
import type { Phone } from '#channels/phone.ts';
import { type AbuseSettings, CHANNELS, type Channel } from '#platform/config.ts';
import { ApiError, retryAfterSeconds } from '#platform/errors.ts';
import type { KeySet } from '#platform/keyring.ts';
import type { Logger } from '#platform/logger.ts';
import type { Counters } from '#platform/metrics.ts';
import type { CounterChange, CounterStore, CountOnce, CountResult } from '#store/store.ts';
import type { Verification } from '#store/verification.ts';
import { countSharded, fitSharded, type ShardCount, shardsAt } from './sharded-counter.ts';

/**
 * Toll-fraud and flooding defences for sends, and the guessing budget checks draw on. Limits use fixed
 * windows (minute, 10 minutes, hour, UTC day) in counter items that each count and check in one conditional
 * write, so concurrent sends can never be over-admitted. The counters every send writes are split over
 * COUNTER_SHARDS items, each holding a share of the limit (lib/abuse/sharded-counter.ts).
 */
export interface AbuseDeps {
  settings: AbuseSettings;
  store: CounterStore;
  logger: Logger;
  metrics: Counters;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const rateLimited = (retryAfterMs: number, message: string) =>
  new ApiError(429, 'rate_limited', message, retryAfterSeconds(retryAfterMs / 1000));

/**
 * The one refusal for every phone-scope limit (the gap between calls, calls per 10 minutes and per day, the
 * guess budget). Its body is always the same and its Retry-After depends on the clock alone (the end of the
 * current 10-minute window, at least a minute), so it tells a tenant neither which limit the phone met nor
 * when another tenant called it.
 */
const phoneLimited = (now: number) =>
  rateLimited(
    Math.max(MINUTE, endOf(now, 10 * MINUTE) - now),
    'This phone cannot receive another verification right now; try again later.',
  );

/**
 * The number types that can receive an SMS or a WhatsApp message: mobile numbers, and those whose range does
 * not tell (FIXED_LINE_OR_MOBILE: every US number). The others (fixed lines, VoIP, pagers…) get calls only.
 */
export const MOBILE_NUMBER_TYPES: readonly string[] = ['MOBILE', 'FIXED_LINE_OR_MOBILE'];

const CHANNEL_NAMES: Record<Channel, string> = { voice: 'a call', sms: 'SMS', whatsapp: 'WhatsApp' };

/** Who may be called or sent a message: refused before anything is written, called or sent. */
export function assertCallable(settings: AbuseSettings, phone: Phone, channel: Channel = 'voice'): void {
  const countries = settings.allowedCountries;
  if (!countries.includes('*') && !countries.includes(phone.country)) {
    throw new ApiError(
      403,
      'country_not_allowed',
      `Verifications to ${phone.country} are not enabled for this service.`,
    );
  }
  if (settings.blockedPrefixes.some((prefix) => phone.e164.startsWith(prefix))) {
    throw new ApiError(403, 'number_blocked', 'This number range is blocked for this service.');
  }
  if (!phone.type || !settings.allowedNumberTypes.includes(phone.type)) {
    throw new ApiError(
      400,
      'unsupported_number_type',
      `Only ${settings.allowedNumberTypes.join(', ').toLowerCase()} numbers can be verified.`,
    );
  }
  if (channel !== 'voice' && !MOBILE_NUMBER_TYPES.includes(phone.type)) {
    throw new ApiError(
      400,
      'unsupported_number_type',
      `Only mobile numbers can receive a verification by ${CHANNEL_NAMES[channel]}; use the voice channel for this number.`,
    );
  }
}

/** The number range the fraud guard watches: country calling code and the first national digits. */
export const guardPrefix = (phone: Phone, digits: number) =>
  `+${phone.callingCode}${phone.e164.slice(1 + phone.callingCode.length, 1 + phone.callingCode.length + digits)}`;

/** The pseudonym a number range is stored under, like a phone's: its digits are never stored. */
export const rangeHash = (key: KeySet, prefix: string) =>
  `${key.id}.${createHmac('sha256', key.range).update(prefix).digest('base64url')}`;

const utcDay = (now: number) => new Date(now).toISOString().slice(0, 10);

const endOf = (now: number, span: number) => (Math.floor(now / span) + 1) * span;

/** The phone's counter item for today, across API keys: sends, and sends per 10-minute window. */
export const phoneDayKey = (phoneHash: string, now: number) => `RATE#phone#${phoneHash}#${utcDay(now)}`;

/**
 * The phone's last send on one channel, across API keys: its own item, so the gap does not reset at midnight.
 * One per channel, so a fallback SMS can follow a call that was busy seconds ago (docs/channels-and-fallback.md, "Fallback"); the
 * 10-minute and daily phone limits count both channels together. Calls keep the key they had before SMS.
 */
const phoneGapKey = (phoneHash: string, channel: Channel) =>
  channel === 'voice' ? `RATE#gap#${phoneHash}` : `RATE#gap#${channel}#${phoneHash}`;

/** The codes one API key may have tested for one phone today. */
const guessesKey = (apiKeyId: string, phoneHash: string, now: number) =>
  `RATE#guesses#${apiKeyId}#${phoneHash}#${utcDay(now)}`;

export interface SendRequest {
  apiKeyId: string;
  phone: Phone;
  /** The ring's keys, current first: older ones only during a rotation. */
  keys: KeySet[];
  /** The phone's pseudonym under each key of the ring, in the same order. */
  phoneHashes: string[];
  now: number;
  codeTtlMs: number;
  /** Attempts a verification gets when the guess budget allows (MAX_ATTEMPTS). */
  maxAttempts: number;
  /**
   * The tenant's rules for this send: known beforehand (a fallback's, fixed on its verification), or read
   * with the fraud guard's items in the same BatchGetItem and decided once read (a send's). Deciding may
   * refuse the send by throwing; whatever it took by then is given back.
   */
  tenant:
    | { rules: TenantRules }
    | { key: string; decide: (item: Record<string, unknown> | undefined) => TenantRules };
  /** A fallback sends an admitted verification's code again: it reserves no guesses (lib/verification/fallback.ts). */
  fallback?: boolean;
}

/** What a tenant's settings change about admitting one send. */
export interface TenantRules {
  /** Every limit counts every channel; an SMS or WhatsApp message also takes from its channel's day cap. */
  channel: Channel;
  /** The API key's sends per UTC day: the tenant's own cap, at most the stack's. */
  maxPerDay: number;
  /**
   * A number on the tenant's safe list: none of the per-phone limits (gap, per 10 minutes, per day, guess
   * budget) and no fraud guard; the key's caps, the shared caps, the country allowlist and the blocked
   * prefixes still apply (assertCallable runs before).
   */
  safeListed: boolean;
}

export interface Admission {
  /** Guesses reserved from the (API key, phone) day's budget: the verification's `maxAttempts`. */
  maxAttempts: number;
  /** The fraud guard's window for this send, where its placed call and its approval are counted; '' for none. */
  guardWindow: string;
  rules: TenantRules;
}

interface Taken {
  key: string;
  add: Record<string, number>;
}

/**
 * Admits one send, or throws 429 rate_limited / 503 daily_call_cap_reached with Retry-After. Limits are
 * taken in rounds of parallel conditional writes, from the narrowest scope outwards: the API key's own (per
 * minute, per day, its guess budget for this phone), then those shared by every tenant (country, the day's
 * spend guard) with the phone's calls, then the phone's gap alone. So a send refused by its own key's limits
 * touches nothing another tenant depends on, and a refused send never leaves the phone "called moments
 * ago". Whatever a refused send took is given back. The tenant's settings come in the fraud guard's read,
 * beside the key's own counters: a tenant's lower day cap is applied to the count taken under the stack's
 * (fitSharded), and a refusal by the tenant's rules gives back what its key took.
 */
export async function admitSend(deps: AbuseDeps, request: SendRequest): Promise<Admission> {
  const { settings, store } = deps;
  const { apiKeyId, now, phone } = request;
  const [currentHash = '', ...olderHashes] = request.phoneHashes;
  const prefix = guardPrefix(phone, settings.fraudGuard.prefixDigits);
  const ranges = request.keys.map((key) =>
    guardKeys(rangeHash(key, prefix), now, request.codeTtlMs, settings.fraudGuard.windowMinutes),
  );
  const older = olderHashes.map((hash) => ({
    day: phoneDayKey(hash, now),
    // The channel may be known only once the tenant's settings are read: the older gaps of every channel.
    gaps: Object.fromEntries(CHANNELS.map((channel) => [channel, phoneGapKey(hash, channel)])),
    guesses: guessesKey(apiKeyId, hash, now),
  }));
  const tenant = request.tenant;
  // One read for the fraud guard, the tenant's settings and, during a key rotation, what the phone used under
  // older pseudonyms.
  const reading = store.readCounters([
    ...ranges.flatMap((range) => [range.pauseKey, range.judgedKey]),
    ...('key' in tenant ? [tenant.key] : []),
    ...older.flatMap((keys) => [keys.day, ...Object.values(keys.gaps), keys.guesses]),
  ]);
  let items = new Map<string, Record<string, number>>();
  let rules: TenantRules | undefined;
  const decide = (read: Map<string, Record<string, number>>) =>
    'rules' in tenant ? tenant.rules : tenant.decide(read.get(tenant.key));
  const used = (attribute: string, pick: (keys: (typeof older)[number]) => string) =>
    older.reduce((sum, keys) => sum + (items.get(pick(keys))?.[attribute] ?? 0), 0);

  const taken: Taken[] = [];
  const take = async (key: string, change: CounterChange & { add: Record<string, number> }) => {
    const result = await store.count(key, change);
    if (result.counted) taken.push({ key, add: change.add });
    return result;
  };
  const giveBack = async (entry: Taken) => {
    taken.splice(taken.indexOf(entry), 1);
    await store.count(entry.key, { add: negated(entry.add), expiresAt: now + DAY });
  };
  // The counters every send writes, each split over `counterShards` items (lib/abuse/sharded-counter.ts);
  // `key` places a shard's suffix before the window, so every item still ends with the window it counts.
  const within = async (
    key: (shard: string) => string,
    max: number,
    span: number,
    refuse: () => ApiError,
    counted?: (count: ShardCount, entry: Taken) => void,
  ) => {
    const count = await countSharded(store, {
      key,
      max,
      shards: shardsAt(settings, now),
      expiresAt: endOf(now, span) + HOUR,
    });
    if (!count) return refuse();
    const entry = { key: count.key, add: { n: 1 } };
    taken.push(entry);
    counted?.(count, entry);
    return undefined;
  };
  const keyDay = (shard: string) => `RATE#keyday#${apiKeyId}${shard}#${utcDay(now)}`;
  const keyDayFull = (cap: number) => () => {
    deps.logger.warn('API key daily call cap reached', { apiKeyId, cap });
    return rateLimited(endOf(now, DAY) - now, 'This API key has sent as many verifications as it may today.');
  };
  try {
    // The guess budget and the gap need the older pseudonyms' counts first. Without a rotation the read
    // overlaps the API key's own counters: one round trip fewer on every send; a paused range's refusal or
    // the tenant's then gives back what its key took.
    if (older.length > 0) {
      items = await reading;
      rules = decide(items);
    }
    const gapMs = settings.phoneMinGapSeconds * 1000;
    if (rules && !rules.safeListed) {
      const channel = rules.channel;
      const lastOlderSend = Math.max(
        0,
        ...older.map((keys) => items.get(keys.gaps[channel] ?? '')?.lastSendAt ?? 0),
      );
      // Checked from the read, before anything is taken: older pseudonyms are no longer written.
      if (lastOlderSend > now - gapMs) throw refusal(deps, 'phone gap', now);
    }

    let reserved = 0;
    const dayCap = rules?.maxPerDay ?? settings.apiKeyMaxPerDay;
    let dayCount: { count: ShardCount; entry: Taken } | undefined;
    await firstRefusal([
      within(
        (shard) => `RATE#key#${apiKeyId}${shard}#${Math.floor(now / MINUTE)}`,
        settings.apiKeyMaxPerMinute,
        MINUTE,
        () =>
          rateLimited(endOf(now, MINUTE) - now, 'This API key has sent too many verifications this minute.'),
      ),
      // Under the stack's cap, or the tenant's when it is already known (a rotation read it first).
      within(keyDay, dayCap, DAY, keyDayFull(dayCap), (count, entry) => {
        dayCount = { count, entry };
      }),
      // Same code, same verification: a fallback's guesses were reserved by its send. A safe-listed number's
      // are given back below (its rules may be known only once read).
      ...(request.fallback || rules?.safeListed
        ? []
        : [
            reserveGuesses(take, {
              key: guessesKey(apiKeyId, currentHash, now),
              budget: settings.phoneMaxGuessesPerDay - used('guesses', (keys) => keys.guesses),
              want: request.maxAttempts,
              expiresAt: endOf(now, DAY) + DAY,
            }).then((n) => {
              reserved = n;
              return undefined;
            }),
          ]),
      reading.then(() => undefined),
    ]);
    items = await reading;
    rules ??= decide(items);
    // The tenant's own day cap, lower than the stack's: the count just taken under the stack's is held to it.
    const day = dayCount as { count: ShardCount; entry: Taken } | undefined;
    if (day && rules.maxPerDay < settings.apiKeyMaxPerDay) {
      const limit = { key: keyDay, max: rules.maxPerDay, shards: settings.counterShards };
      const fitted = await fitSharded(store, { ...limit, expiresAt: endOf(now, DAY) + HOUR }, day.count);
      if (fitted !== day.count) {
        // fitSharded gave the first count back: what is taken now is the one it made, if any.
        taken.splice(taken.indexOf(day.entry), 1);
        if (!fitted) throw keyDayFull(rules.maxPerDay)();
        taken.push({ key: fitted.key, add: { n: 1 } });
      }
    }
    let maxAttempts = reserved;
    if (rules.safeListed) {
      const guesses = taken.find((entry) => entry.key === guessesKey(apiKeyId, currentHash, now));
      if (guesses) await giveBack(guesses);
      maxAttempts = request.maxAttempts;
    } else if (!request.fallback && reserved === 0) {
      throw refusal(deps, 'guess budget', now);
    }
    if (!rules.safeListed) await assertNotPaused(deps, { apiKeyId, phone, ranges, items, now });
    const { channel } = rules;
    const tenMinute = `w${Math.floor((now % DAY) / (10 * MINUTE))}`;
    await firstRefusal([
      within(
        (shard) => `RATE#country#${phone.country}${shard}#${Math.floor(now / HOUR)}`,
        settings.countryMaxPerHour,
        HOUR,
        () =>
          rateLimited(
            endOf(now, HOUR) - now,
            `Too many verifications to ${phone.country} this hour; try again later.`,
          ),
      ),
      within(
        (shard) => `RATE#global${shard}#${utcDay(now)}`,
        settings.dailyCallCap,
        DAY,
        () => {
          deps.logger.error('Daily call cap reached', { cap: settings.dailyCallCap });
          return dailyCapReached(now, 'The service has sent as many verifications as it may today.');
        },
      ),
      // The message channels' own spend guards (SMS pumping): one code for every cap, since a client handles
      // them alike (docs/abuse.md).
      ...(channel === 'voice'
        ? []
        : [
            within(
              (shard) => `RATE#global${channel}${shard}#${utcDay(now)}`,
              CHANNEL_CAPS[channel].cap(settings),
              DAY,
              () => {
                const { cap, noun, setting } = CHANNEL_CAPS[channel];
                deps.logger.error(`Daily ${setting} reached`, { cap: cap(settings) });
                return dailyCapReached(
                  now,
                  `The service has sent as many verification ${noun} as it may today.`,
                );
              },
            ),
          ]),
      // The phone's calls per 10 minutes and per day, beside the shared caps: a refusal by either side gives
      // back what the other took, and the round trip is saved.
      ...(rules.safeListed
        ? []
        : [
            take(phoneDayKey(currentHash, now), {
              add: { sends: 1, [tenMinute]: 1 },
              limits: {
                sends: settings.phoneMaxPerDay - used('sends', (keys) => keys.day),
                [tenMinute]: settings.phoneMaxPer10Minutes - used(tenMinute, (keys) => keys.day),
              },
              expiresAt: endOf(now, DAY) + DAY,
            }).then((day) => (day.counted ? undefined : refusal(deps, 'phone calls', now))),
          ]),
    ]);
    // Last: nothing after it can refuse, so a refused send never leaves the phone "called moments ago".
    if (gapMs > 0 && !rules.safeListed) {
      const gap = await store.count(phoneGapKey(currentHash, channel), {
        gap: { attribute: 'lastSendAt', now, ms: gapMs },
        expiresAt: now + gapMs + HOUR,
      });
      if (!gap.counted) throw refusal(deps, 'phone gap', now);
    }
    // A safe-listed number is outside the fraud guard: its sends and approvals are not counted either.
    return { maxAttempts, guardWindow: rules.safeListed ? '' : (ranges[0]?.windowKey ?? ''), rules };
  } catch (error) {
    // A store that cannot be reached is not a rate limit: operators read RateLimited as refusals.
    if (
      error instanceof ApiError &&
      (error.code === 'rate_limited' || error.code === 'daily_call_cap_reached')
    )
      deps.metrics.count('RateLimited');
    // Its own alarm: the whole service stops sending, not one phone or key.
    if (error instanceof ApiError && error.code === 'daily_call_cap_reached')
      deps.metrics.count('DailyCapReached');
    await Promise.allSettled(
      taken.map(({ key, add }) => store.count(key, { add: negated(add), expiresAt: now + DAY })),
    );
    throw error;
  }
}

/** Each message channel's day cap, inside `dailyCallCap`: its counter key ends `global<channel>`. */
const CHANNEL_CAPS: Record<
  Exclude<Channel, 'voice'>,
  { cap: (settings: AbuseSettings) => number; noun: string; setting: string }
> = {
  sms: { cap: (s) => s.dailySmsCap, noun: 'SMS', setting: 'SMS cap' },
  whatsapp: { cap: (s) => s.dailyWhatsAppCap, noun: 'WhatsApp messages', setting: 'WhatsApp cap' },
};
const negated = (add: Record<string, number>) =>
  Object.fromEntries(Object.entries(add).map(([name, n]) => [name, -n]));

/** The service's own spend guard (not one client's limit): 503 until UTC midnight. */
const dailyCapReached = (now: number, message: string) =>
  new ApiError(503, 'daily_call_cap_reached', message, retryAfterSeconds((endOf(now, DAY) - now) / 1000));

/** A phone-scope refusal: the client sees the generic one; the operator's log says which limit. */
function refusal(deps: AbuseDeps, limit: string, now: number) {
  deps.logger.info('Send refused by a phone limit', { limit });
  return phoneLimited(now);
}

/** Waits for every check (so all that was taken is known), then throws the first refusal in order. */
async function firstRefusal(checks: Array<Promise<ApiError | undefined>>) {
  const results = await Promise.allSettled(checks);
  for (const result of results) if (result.status === 'rejected') throw result.reason;
  for (const result of results) if (result.status === 'fulfilled' && result.value) throw result.value;
}

/** Upper bound on reservation tries; running out refuses the send (never over-admits). */
const RESERVE_ROUNDS = 16;

/**
 * Reserves up to `want` guesses from the budget, fewer when fewer remain; 0 when none do. Each try is one
 * conditional write, so however many sends race, the reservations never add up past the budget.
 */
async function reserveGuesses(
  take: (key: string, change: CounterChange & { add: Record<string, number> }) => Promise<CountResult>,
  budget: { key: string; budget: number; want: number; expiresAt: number },
): Promise<number> {
  let n = Math.min(budget.want, budget.budget);
  // After the first, a try is refused only when another send reserved in between: bounded, like any race.
  for (let round = 0; n > 0 && round < RESERVE_ROUNDS; round++) {
    const result = await take(budget.key, {
      add: { guesses: n },
      limits: { guesses: budget.budget },
      expiresAt: budget.expiresAt,
    });
    if (result.counted) return n;
    n = Math.min(budget.want, budget.budget - (result.current.guesses ?? 0));
  }
  return 0;
}

interface GuardKeys {
  /** Where this send's call and approval are counted. */
  windowKey: string;
  /** The newest window whose codes have all expired, so its approvals are final. */
  judgedKey: string;
  /** The range's pauses: `pausedUntil` for every key, `pausedUntil#<api key id>` for one key. */
  pauseKey: string;
}

function guardKeys(range: string, now: number, codeTtlMs: number, windowMinutes: number): GuardKeys {
  const span = windowMinutes * MINUTE;
  return {
    windowKey: `GUARD#${range}#${Math.floor(now / span)}`,
    judgedKey: `GUARD#${range}#${Math.floor((now - codeTtlMs) / span) - 1}`,
    pauseKey: `GUARD#${range}#pause`,
  };
}

/** Per-key counters and pauses live in the range's items, next to the totals: one read judges both. */
const perKey = (attribute: 'sent' | 'approved' | 'pausedUntil', apiKeyId: string) =>
  `${attribute}#${apiKeyId}`;

/** The same items under every key of the ring, merged: counts add up, pauses take the latest end. */
function merged(
  items: Array<Record<string, unknown> | undefined>,
  combine: (a: number, b: number) => number,
) {
  const out: Record<string, number> = {};
  for (const item of items)
    for (const [name, value] of Object.entries(item ?? {}))
      if (typeof value === 'number' && name !== 'ttl') out[name] = combine(out[name] ?? 0, value);
  return out;
}

/**
 * The voice fraud guard. A judged window (one whose codes have all expired) where an API key placed at
 * least `minCalls` calls with an approval rate below `minApprovalRate` pauses the range for that key. The
 * range is paused for every key only on evidence no single tenant can forge cheaply: two or more keys each
 * failing that way in the same window, or all keys together placing at least `globalMinCalls` calls (never
 * fewer than `minCalls`) at that low rate. A pause lasts `pauseMinutes` from the moment it is noticed. Only
 * placed calls are counted (countPlacedCall), so numbers the provider refuses cannot trip it.
 */
async function assertNotPaused(
  deps: AbuseDeps,
  request: {
    apiKeyId: string;
    phone: Phone;
    ranges: GuardKeys[];
    items: Map<string, Record<string, number>>;
    now: number;
  },
) {
  const { apiKeyId, phone, ranges, items, now } = request;
  const guard = deps.settings.fraudGuard;
  // During a key rotation the range has a pseudonym under each key: its windows and pauses span them all.
  const pauses = merged(
    ranges.map((range) => items.get(range.pauseKey)),
    Math.max,
  );
  let pausedUntil = Math.max(pauses.pausedUntil ?? 0, pauses[perKey('pausedUntil', apiKeyId)] ?? 0);
  if (pausedUntil <= now) {
    const judged = merged(
      ranges.map((range) => items.get(range.judgedKey)),
      (a, b) => a + b,
    );
    const failing = (sent: number, approved: number, minCalls: number) =>
      sent >= minCalls && approved / sent < guard.minApprovalRate;
    const offenders = Object.keys(judged)
      .filter((name) => name.startsWith('sent#'))
      .map((name) => name.slice('sent#'.length))
      .filter((key) =>
        failing(judged[perKey('sent', key)] ?? 0, judged[perKey('approved', key)] ?? 0, guard.minCalls),
      );
    const everyone =
      offenders.length >= 2 ||
      failing(judged.sent ?? 0, judged.approved ?? 0, Math.max(guard.globalMinCalls, guard.minCalls));
    if (!everyone && !offenders.includes(apiKeyId)) return;
    pausedUntil = now + guard.pauseMinutes * MINUTE;
    const attribute = everyone ? 'pausedUntil' : perKey('pausedUntil', apiKeyId);
    await deps.store.count(ranges[0]?.pauseKey ?? '', {
      set: { [attribute]: pausedUntil },
      expiresAt: pausedUntil + DAY,
    });
    deps.metrics.count('FraudGuardPaused');
    // The range's digits stay out of the logs: its country and calling code say where to look.
    deps.logger.warn('Fraud guard paused calls to a number range', {
      country: phone.country,
      callingCode: phone.callingCode,
      scope: everyone ? 'every API key' : 'one API key',
      ...(!everyone && { apiKeyId }),
      offendingKeys: offenders.length,
      sent: judged.sent ?? 0,
      approved: judged.approved ?? 0,
      pausedUntil: new Date(pausedUntil).toISOString(),
    });
  }
  // Counted as RateLimited by admitSend, which gives back what the send took.
  throw rateLimited(
    pausedUntil - now,
    'Verifications to this number range are paused: too many recent ones went unapproved.',
  );
}

type Guarded = Pick<Verification, 'apiKeyId' | 'guardWindow'>;

/** Judged until two windows (a day at most each) and a code's life (an hour at most) after it starts. */
const GUARD_COUNT_LIFE = 3 * DAY;

/**
 * Counts a placed call or a sent SMS for the fraud guard, in the window it was sent in: the two channels
 * count together (a code sent out to the range, approved or not), and what never went out never counts.
 */
export const countPlacedCall = (store: CounterStore, verification: Guarded, now: number) =>
  verification.guardWindow
    ? store.count(verification.guardWindow, {
        add: { sent: 1, [perKey('sent', verification.apiKeyId)]: 1 },
        expiresAt: now + GUARD_COUNT_LIFE,
      })
    : Promise.resolve(undefined);

/**
 * Counts an approval for the fraud guard, in the window the verification was sent in, with `also` (the
 * tenant's usage count) in the same transaction. Called by the events function from the table's stream,
 * which may deliver a record more than once: counted once per verification (a marker item written with the
 * counts). False when it was counted before, or there was nothing to count.
 */
export const countApproval = (
  store: CounterStore,
  verification: Guarded & Pick<Verification, 'id'>,
  now: number,
  also: CountOnce[] = [],
): Promise<boolean> => {
  const counts: CountOnce[] = [
    ...(verification.guardWindow
      ? [
          {
            key: verification.guardWindow,
            add: { approved: 1, [perKey('approved', verification.apiKeyId)]: 1 },
            expiresAt: now + GUARD_COUNT_LIFE,
          },
        ]
      : []),
    ...also,
  ];
  return counts.length > 0
    ? store.countOnce(counts, `COUNTED#approval#${verification.id}`, now + GUARD_COUNT_LIFE)
    : Promise.resolve(false);
};

/**
 * Gives back the guesses a verification whose call was not placed can never use. Only for one that is no
 * longer pending: its `attempts` can no longer grow, so what it may still test is exactly what stays taken.
 */
export async function returnUnusedGuesses(store: CounterStore, verification: Verification): Promise<void> {
  const unused = verification.maxAttempts - verification.attempts;
  // A safe-listed number's verification reserved none.
  if (verification.status === 'pending' || unused <= 0 || verification.safeListed) return;
  const { apiKeyId, phoneHash, createdAt } = verification;
  await store.count(guessesKey(apiKeyId, phoneHash, createdAt), {
    add: { guesses: -unused },
    expiresAt: endOf(createdAt, DAY) + DAY,
  });
}
