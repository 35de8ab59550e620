import type { Config } from '#platform/config.ts';
import type { FunctionName } from '#platform/routes.ts';

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
/** Delivery reports per SMS: queued, sent, and one final status (delivered, undelivered or failed). */
const REPORTS_PER_MESSAGE = 3;

/**
 * The most webhook traffic Plivo can send at the daily caps, so that the webhook HTTP API's route throttles
 * can be held above it (settings.ts refuses lower values; docs/deploying.md, "Webhook capacity" shows the arithmetic).
 *
 * Per call, answer is requested once, once more after the key-press gate (REQUIRE_KEYPRESS), and once per
 * repeat (MAX_REPEATS); hangup once. Per SMS, the delivery-report route (served by hangup, with hangup's
 * throttle values in a bucket of its own) is requested once per status.
 */
export function plivoWebhookPeak(service: Pick<Config, 'abuse' | 'voice'>) {
  const peakSeconds = PEAK_HOURS * 3600;
  const calls = service.abuse.dailyCallCap;
  const sms = Math.min(service.abuse.dailySmsCap, calls);
  const answersPerCall = RETRIES * (1 + (service.voice.requireKeypress ? 1 : 0) + service.voice.maxRepeats);
  const hangupsPerCall = RETRIES;
  const reportsPerMessage = RETRIES * REPORTS_PER_MESSAGE;
  // Requests in the peak hour, from whole counts first (divided once, so round figures stay exact).
  return {
    answerPerSecond: (calls * answersPerCall) / peakSeconds,
    hangupPerSecond: (calls * hangupsPerCall) / peakSeconds,
    messageStatusPerSecond: (sms * reportsPerMessage) / peakSeconds,
  };
}
