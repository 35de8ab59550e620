import type { Config } from '../lib/config.ts';
import type { FunctionName } from '../lib/routes.ts';

/** The functions behind Plivo's webhook routes. */
export type WebhookFunction = Extract<FunctionName, 'answer' | 'hangup'>;

/**
 * The day's whole call cap is assumed to be placed within this many hours: 24 times the average rate of a day
 * at the cap, and the send path has no tighter global bound (per-key and per-country limits multiply with
 * the number of keys and countries).
 */
const PEAK_HOURS = 1;
/** Each webhook request may come twice: Plivo's fallback_url retry of an answer, a retried hangup. */
const RETRIES = 2;

/**
 * The most webhook traffic Plivo can send at the daily call cap, so that the stage throttles and the WAF's
 * per-IP rule can be held above it (settings.ts refuses lower values; README "Webhook capacity" shows the
 * arithmetic). Counted from one Plivo address, since Plivo calls back from a few.
 *
 * Per call, answer is requested once, once more after the key-press gate (REQUIRE_KEYPRESS), and once per
 * repeat (MAX_REPEATS); hangup once.
 */
export function plivoWebhookPeak(service: Pick<Config, 'abuse' | 'voice'>) {
  const callsPerSecond = service.abuse.dailyCallCap / (PEAK_HOURS * 3600);
  const answersPerCall = RETRIES * (1 + (service.voice.requireKeypress ? 1 : 0) + service.voice.maxRepeats);
  const hangupsPerCall = RETRIES;
  return {
    answerPerSecond: callsPerSecond * answersPerCall,
    hangupPerSecond: callsPerSecond * hangupsPerCall,
    perAddressPerFiveMinutes: callsPerSecond * 300 * (answersPerCall + hangupsPerCall),
  };
}
