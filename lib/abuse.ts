import type { AbuseSettings } from './config.ts';
import { ApiError, retryAfterSeconds } from './errors.ts';
import type { Logger } from './logger.ts';
import type { Counters } from './metrics.ts';
import type { Phone } from './phone.ts';
import type { CounterChange, CounterStore } from './store.ts';

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
 * Admits one send, or throws 429 rate_limited / 503 daily_call_cap_reached with Retry-After. Counters
 * already taken by this send are given back when a later limit refuses it. Returns the fraud-guard window
 * key the verification records, so its approval can be counted against the same window.
 */
export async function admitSend(
  deps: AbuseDeps,
  request: { apiKeyId: string; phone: Phone; phoneHash: string; now: number; codeTtlMs: number },
): Promise<string> {
  const { settings, store } = deps;
  const { now, phone } = request;
  const prefix = guardPrefix(phone, settings.fraudGuard.prefixDigits);
  await assertNotPaused(deps, prefix, now, request.codeTtlMs);

  const tenMinute = `w${Math.floor((now % DAY) / (10 * MINUTE))}`;
  const admitted: Admitted[] = [];
  const take = async (key: string, change: CounterChange & { add: Record<string, number> }) => {
    const result = await store.count(key, change);
    if (result.counted) admitted.push({ key, add: change.add });
    return result;
  };
  try {
    const phoneResult = await take(phoneDayKey(request.phoneHash, now), {
      add: { sends: 1, [tenMinute]: 1 },
      limits: {
        sends: settings.phoneMaxPerDay,
        [tenMinute]: settings.phoneMaxPer10Minutes,
        // Once the day's wrong checks reach the cap, no new verification can be used to keep guessing.
        wrong: settings.phoneMaxWrongChecksPerDay - 1,
      },
      gap: { attribute: 'lastSendAt', now, ms: settings.phoneMinGapSeconds * 1000 },
      expiresAt: endOf(now, DAY) + DAY,
    });
    if (!phoneResult.counted) throw phoneRefusal(settings, phoneResult.current, tenMinute, now);

    const minute = Math.floor(now / MINUTE);
    if (
      !(
        await take(
          `RATE#key#${request.apiKeyId}#${minute}`,
          limit('n', settings.apiKeyMaxPerMinute, now, MINUTE),
        )
      ).counted
    ) {
      throw rateLimited(
        endOf(now, MINUTE) - now,
        'This API key has sent too many verifications this minute.',
      );
    }
    const hour = Math.floor(now / HOUR);
    if (
      !(
        await take(`RATE#country#${phone.country}#${hour}`, limit('n', settings.countryMaxPerHour, now, HOUR))
      ).counted
    ) {
      throw rateLimited(
        endOf(now, HOUR) - now,
        `Too many calls to ${phone.country} this hour; try again later.`,
      );
    }
    if (!(await take(`RATE#global#${utcDay(now)}`, limit('n', settings.dailyCallCap, now, DAY))).counted) {
      deps.logger.error('Daily call cap reached', { cap: settings.dailyCallCap });
      throw new ApiError(
        503,
        'daily_call_cap_reached',
        'The service has placed as many calls as it may today.',
        retryAfterSeconds((endOf(now, DAY) - now) / 1000),
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

  const window = guardWindow(now, settings.fraudGuard.windowMinutes);
  const windowKey = `GUARD#${prefix}#${window}`;
  await store.count(windowKey, { add: { sent: 1 }, expiresAt: now + DAY });
  return windowKey;
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

const guardWindow = (now: number, minutes: number) => Math.floor(now / (minutes * MINUTE));

/**
 * The voice fraud guard. A number range whose calls keep going unapproved is paused. It judges the newest
 * window whose codes have all expired (so its approvals are final): with at least `minCalls` sends and an
 * approval rate below `minApprovalRate`, calls to the range stop for `pauseMinutes`.
 */
async function assertNotPaused(deps: AbuseDeps, prefix: string, now: number, codeTtlMs: number) {
  const { windowMinutes, minCalls, minApprovalRate, pauseMinutes } = deps.settings.fraudGuard;
  const span = windowMinutes * MINUTE;
  const judged = Math.floor((now - codeTtlMs) / span) - 1;
  const pauseKey = `GUARD#${prefix}#pause`;
  const judgedKey = `GUARD#${prefix}#${judged}`;
  const items = await deps.store.readCounters([pauseKey, judgedKey]);
  let pausedUntil = items.get(pauseKey)?.pausedUntil ?? 0;
  if (pausedUntil <= now) {
    const sent = items.get(judgedKey)?.sent ?? 0;
    const approved = items.get(judgedKey)?.approved ?? 0;
    if (sent < minCalls || approved / sent >= minApprovalRate) return;
    pausedUntil = (judged + 1) * span + pauseMinutes * MINUTE;
    if (pausedUntil <= now) return;
    await deps.store.count(pauseKey, { set: { pausedUntil }, expiresAt: pausedUntil + DAY });
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
export const countApproval = (store: CounterStore, windowKey: string, now: number) =>
  store.count(windowKey, { add: { approved: 1 }, expiresAt: now + DAY });
