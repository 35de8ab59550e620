import type { AbuseSettings } from './config.ts';
import { ApiError, retryAfterSeconds } from './errors.ts';
import type { Logger } from './logger.ts';
import type { Counters } from './metrics.ts';
import type { Phone } from './phone.ts';
import type { CounterChange, CounterStore } from './store.ts';
import type { Verification } from './verification.ts';

/**
 * Toll-fraud and flooding defences for sends, and the guessing cap for checks. Limits use fixed windows
 * (10 minutes, UTC day, minute, hour) in counter items that each count and check in one conditional write.
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

/** Who may be called: refused before anything is written or called. */
export function assertCallable(settings: AbuseSettings, phone: Phone): void {
  const countries = settings.allowedCountries;
  if (!countries.includes('*') && !countries.includes(phone.country)) {
    throw new ApiError(
      403,
      'country_not_allowed',
      `Calls to ${phone.country} are not enabled for this service.`,
    );
  }
  if (settings.blockedPrefixes.some((prefix) => phone.e164.startsWith(prefix))) {
    throw new ApiError(403, 'number_blocked', 'This number range is blocked for this service.');
  }
  if (!phone.type || !settings.allowedNumberTypes.includes(phone.type)) {
    throw new ApiError(
      400,
      'unsupported_number_type',
      `Only ${settings.allowedNumberTypes.join(', ').toLowerCase()} numbers can be verified by voice.`,
    );
  }
}

/** The number range the fraud guard watches: country calling code and the first national digits. */
export const guardPrefix = (phone: Phone, digits: number) =>
  `+${phone.callingCode}${phone.e164.slice(1 + phone.callingCode.length, 1 + phone.callingCode.length + digits)}`;

const utcDay = (now: number) => new Date(now).toISOString().slice(0, 10);

/** The phone's counter item for today: sends, sends per 10-minute window, the last send, wrong checks. */
export const phoneDayKey = (phoneHash: string, now: number) => `RATE#phone#${phoneHash}#${utcDay(now)}`;

const endOf = (now: number, span: number) => (Math.floor(now / span) + 1) * span;

interface Admitted {
  key: string;
  add: Record<string, number>;
}

/**
 * Admits one send, or throws 429 rate_limited / 503 daily_call_cap_reached with Retry-After. The phone's
 * own limits are taken last, so a send refused by another limit leaves the phone's counters (and its gap)
 * as they were; counters already taken are given back. Returns the fraud-guard window key the verification
 * records, so its approval can be counted against the same window.
 */
export async function admitSend(
  deps: AbuseDeps,
  request: {
    apiKeyId: string;
    phone: Phone;
    /** The phone's pseudonym under each key of the ring, current first (older ones during a rotation). */
    phoneHashes: string[];
    now: number;
    codeTtlMs: number;
  },
): Promise<string> {
  const { settings, store } = deps;
  const { now, phone } = request;
  const [currentHash = '', ...olderHashes] = request.phoneHashes;
  const prefix = guardPrefix(phone, settings.fraudGuard.prefixDigits);
  const guard = guardKeys(prefix, now, request.codeTtlMs, settings.fraudGuard.windowMinutes);
  const olderPhoneKeys = olderHashes.map((hash) => phoneDayKey(hash, now));
  // One read for the fraud guard and, during a key rotation, today's counts under the older pseudonyms.
  const items = await store.readCounters([guard.pauseKey, guard.judgedKey, ...olderPhoneKeys]);
  await assertNotPaused(deps, prefix, guard, items, now);

  const tenMinute = `w${Math.floor((now % DAY) / (10 * MINUTE))}`;
  const admitted: Admitted[] = [];
  const take = async (key: string, change: CounterChange & { add: Record<string, number> }) => {
    const result = await store.count(key, change);
    if (result.counted) admitted.push({ key, add: change.add });
    return result.counted;
  };
  try {
    // Windows shared by many phones: per API key, per destination country, and the day's spend guard.
    const windows = [
      {
        key: `RATE#key#${request.apiKeyId}#${Math.floor(now / MINUTE)}`,
        max: settings.apiKeyMaxPerMinute,
        span: MINUTE,
        refuse: (retryMs: number) =>
          rateLimited(retryMs, 'This API key has sent too many verifications this minute.'),
      },
      {
        key: `RATE#country#${phone.country}#${Math.floor(now / HOUR)}`,
        max: settings.countryMaxPerHour,
        span: HOUR,
        refuse: (retryMs: number) =>
          rateLimited(retryMs, `Too many calls to ${phone.country} this hour; try again later.`),
      },
      {
        key: `RATE#global#${utcDay(now)}`,
        max: settings.dailyCallCap,
        span: DAY,
        refuse: (retryMs: number) => {
          deps.logger.error('Daily call cap reached', { cap: settings.dailyCallCap });
          return new ApiError(
            503,
            'daily_call_cap_reached',
            'The service has placed as many calls as it may today.',
            retryAfterSeconds(retryMs / 1000),
          );
        },
      },
    ];
    for (const window of windows) {
      if (!(await take(window.key, limit('n', window.max, now, window.span)))) {
        throw window.refuse(endOf(now, window.span) - now);
      }
    }
    // What the phone already used today under older pseudonyms counts against its limits too.
    const older = olderPhoneKeys.map((key) => items.get(key) ?? {});
    const used = (attribute: string) => older.reduce((sum, item) => sum + (item[attribute] ?? 0), 0);
    const lastOlderSend = Math.max(0, ...older.map((item) => item.lastSendAt ?? 0));
    const gapMs = settings.phoneMinGapSeconds * 1000;
    const phoneResult = await store.count(phoneDayKey(currentHash, now), {
      add: { sends: 1, [tenMinute]: 1 },
      limits: {
        sends: settings.phoneMaxPerDay - used('sends'),
        [tenMinute]: settings.phoneMaxPer10Minutes - used(tenMinute),
        // Once the day's wrong checks reach the cap, no new verification can be used to keep guessing.
        wrong: settings.phoneMaxWrongChecksPerDay - 1 - used('wrong'),
      },
      gap: { attribute: 'lastSendAt', now, ms: gapMs },
      expiresAt: endOf(now, DAY) + DAY,
    });
    if (!phoneResult.counted || lastOlderSend > now - gapMs) {
      const current = phoneResult.counted ? {} : phoneResult.current;
      const total = (attribute: string) => (current[attribute] ?? 0) + used(attribute);
      throw phoneRefusal(
        settings,
        {
          sends: total('sends'),
          wrong: total('wrong'),
          [tenMinute]: total(tenMinute),
          lastSendAt: Math.max(current.lastSendAt ?? 0, lastOlderSend),
        },
        tenMinute,
        now,
      );
    }
  } catch (error) {
    if (error instanceof ApiError) deps.metrics.count('RateLimited');
    await Promise.allSettled(
      admitted.map(({ key, add }) =>
        store.count(key, {
          add: Object.fromEntries(Object.entries(add).map(([name, n]) => [name, -n])),
          expiresAt: now + DAY,
        }),
      ),
    );
    throw error;
  }

  await store.count(guard.windowKey, { add: { sent: 1 }, expiresAt: now + DAY });
  return guard.windowKey;
}

const limit = (attribute: string, max: number, now: number, span: number) => ({
  add: { [attribute]: 1 },
  limits: { [attribute]: max },
  expiresAt: endOf(now, span) + HOUR,
});

function phoneRefusal(
  settings: AbuseSettings,
  current: Record<string, number>,
  tenMinute: string,
  now: number,
) {
  if ((current.wrong ?? 0) >= settings.phoneMaxWrongChecksPerDay) {
    return rateLimited(endOf(now, DAY) - now, 'Too many wrong codes for this phone today.');
  }
  if ((current.sends ?? 0) >= settings.phoneMaxPerDay) {
    return rateLimited(endOf(now, DAY) - now, 'Too many verifications for this phone today.');
  }
  if ((current[tenMinute] ?? 0) >= settings.phoneMaxPer10Minutes) {
    return rateLimited(endOf(now, 10 * MINUTE) - now, 'Too many verifications for this phone in 10 minutes.');
  }
  const retry = (current.lastSendAt ?? now) + settings.phoneMinGapSeconds * 1000 - now;
  return rateLimited(retry, 'A call to this phone was placed moments ago; wait before sending another.');
}

interface GuardKeys {
  /** Where this send is counted. */
  windowKey: string;
  /** The newest window whose codes have all expired, so its approvals are final. */
  judgedKey: string;
  pauseKey: string;
}

function guardKeys(prefix: string, now: number, codeTtlMs: number, windowMinutes: number): GuardKeys {
  const span = windowMinutes * MINUTE;
  return {
    windowKey: `GUARD#${prefix}#${Math.floor(now / span)}`,
    judgedKey: `GUARD#${prefix}#${Math.floor((now - codeTtlMs) / span) - 1}`,
    pauseKey: `GUARD#${prefix}#pause`,
  };
}

/**
 * The voice fraud guard. A number range whose calls keep going unapproved is paused: when its judged window
 * had at least `minCalls` sends and an approval rate below `minApprovalRate`, calls to the range stop for
 * `pauseMinutes` from the moment that is noticed.
 */
async function assertNotPaused(
  deps: AbuseDeps,
  prefix: string,
  keys: GuardKeys,
  items: Map<string, Record<string, number>>,
  now: number,
) {
  const { minCalls, minApprovalRate, pauseMinutes } = deps.settings.fraudGuard;
  let pausedUntil = items.get(keys.pauseKey)?.pausedUntil ?? 0;
  if (pausedUntil <= now) {
    const sent = items.get(keys.judgedKey)?.sent ?? 0;
    const approved = items.get(keys.judgedKey)?.approved ?? 0;
    if (sent < minCalls || approved / sent >= minApprovalRate) return;
    pausedUntil = now + pauseMinutes * MINUTE;
    await deps.store.count(keys.pauseKey, { set: { pausedUntil }, expiresAt: pausedUntil + DAY });
    deps.metrics.count('FraudGuardPaused');
    deps.logger.warn('Fraud guard paused calls to a number range', {
      prefix,
      sent,
      approved,
      pausedUntil: new Date(pausedUntil).toISOString(),
    });
  }
  deps.metrics.count('RateLimited');
  throw rateLimited(
    pausedUntil - now,
    'Calls to this number range are paused: too many recent calls went unanswered or unapproved.',
  );
}

/** Counts a wrong check against the phone's day, for the daily guessing cap. */
export const countWrongCheck = (store: CounterStore, phoneHash: string, now: number) =>
  store.count(phoneDayKey(phoneHash, now), { add: { wrong: 1 }, expiresAt: endOf(now, DAY) + DAY });

/** Counts an approval for the fraud guard, in the window the verification was sent in. */
export async function countApproval(store: CounterStore, verification: Verification, now: number) {
  if (verification.guardWindow)
    await store.count(verification.guardWindow, { add: { approved: 1 }, expiresAt: now + DAY });
}
