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
/** Per WhatsApp message: queued, sent, delivered and read (or undelivered or failed after sent). */
const REPORTS_PER_WHATSAPP = 4;

/**
 * The most webhook traffic Plivo can send at the daily caps, so that the webhook HTTP API's route throttles
 * can be held above it (settings.ts refuses lower values; docs/deploying.md, "Webhook capacity" shows the arithmetic).
 *
 * Per call, answer is requested once, once more after the key-press gate (REQUIRE_KEYPRESS), and once per
 * repeat (MAX_REPEATS); hangup once. Per SMS or WhatsApp message, the delivery-report route (served by
 * hangup, with hangup's throttle values in a bucket of its own) is requested once per status. Every send
 * counts in the daily call cap, so at most that many messages in all: as many WhatsApp messages as their cap
 * allows (they report the most), the rest SMS.
 */
export function plivoWebhookPeak(service: Pick<Config, 'abuse' | 'voice' | 'whatsapp'>) {
  const peakSeconds = PEAK_HOURS * 3600;
  const calls = service.abuse.dailyCallCap;
  const whatsapp = service.whatsapp ? Math.min(service.abuse.dailyWhatsAppCap, calls) : 0;
  const sms = Math.min(service.abuse.dailySmsCap, calls - whatsapp);
  const answersPerCall = RETRIES * (1 + (service.voice.requireKeypress ? 1 : 0) + service.voice.maxRepeats);
  const hangupsPerCall = RETRIES;
  const reports = RETRIES * (sms * REPORTS_PER_MESSAGE + whatsapp * REPORTS_PER_WHATSAPP);
  // Requests in the peak hour, from whole counts first (divided once, so round figures stay exact).
  return {
    answerPerSecond: (calls * answersPerCall) / peakSeconds,
    hangupPerSecond: (calls * hangupsPerCall) / peakSeconds,
    messageStatusPerSecond: reports / peakSeconds,
  };
}
