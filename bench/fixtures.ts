import { randomUUID } from 'node:crypto';
import { parsePhone } from '#channels/phone.ts';
import type { CallRequest, MessageRequest, Telephony, WhatsAppRequest } from '#channels/telephony.ts';
import { newWebhookSecret, sealWebhookSecret } from '#events/webhook-secret.ts';
import { loadConfig } from '#platform/config.ts';
import { type KeyRing, parseKeyRing } from '#platform/keyring.ts';
import { createLogger } from '#platform/logger.ts';
import { recordingCounters } from '#platform/metrics.ts';
import { staticSecrets } from '#platform/secrets.ts';
import { createStore } from '#store/dynamodb-store.ts';
import { openCall } from '#verification/seal.ts';
import { createSendHandler } from '../functions/send.ts';
import { SPECIAL_CALLEES } from '../local/simulator.ts';
import { sendEvent } from './events.ts';
import { inParallel } from './parallel.ts';

/** A pending verification and what its call would carry: the code, and the URLs Plivo would call. */
export interface Fixture {
  id: string;
  code: string;
  answerUrl: string;
  hangupUrl: string;
}

/** US area codes whose 555-0100 to 555-0199 lines libphonenumber-js accepts: 10,000 numbers in all. */
const AREA_CODES = (
  '201 202 203 205 206 207 208 212 213 214 215 216 217 218 219 224 225 228 229 231 234 239 240 248 251 ' +
  '252 253 254 256 260 262 267 269 270 276 281 301 302 303 304 305 307 308 309 310 312 313 314 315 316 ' +
  '317 318 319 320 321 323 325 330 334 336 337 339 347 351 352 360 361 385 386 401 402 404 405 406 407 ' +
  '408 409 410 412 413 414 415 417 419 423 424 425 430 432 434 435 440 443 469 478 479 480 484 501 502'
).split(' ');

/**
 * Distinct fictional US numbers (555-0100 to 555-0199 in many area codes): valid, callable under the
 * default rules, none of them one of the simulator's scripted callees. Distinct, so no send supersedes
 * another verification and every send measures the usual path.
 */
export function benchPhones(count: number, offset = 0): string[] {
  const phones: string[] = [];
  for (const area of AREA_CODES) {
    for (let line = 100; line < 200; line++) {
      const phone = `+1${area}555${String(line).padStart(4, '0')}`;
      if (phone in SPECIAL_CALLEES) continue;
      parsePhone(phone);
      phones.push(phone);
    }
  }
  if (offset + count > phones.length) throw new Error(`only ${phones.length} bench phone numbers`);
  return phones.slice(offset, offset + count);
}

/** An SMS the service sent, with the id Plivo (or the simulator) gave it: delivery reports name it. */
export interface SentSms extends MessageRequest {
  messageId: string;
}

/** A WhatsApp message the service sent, with the id Plivo (or the simulator) gave it. */
export interface SentWhatsApp extends WhatsAppRequest {
  messageId: string;
}

/** Keeps every call and message request; sends them with `inner`, or (for fixtures) nowhere. */
export function capturingTelephony(inner?: Telephony): Telephony & {
  calls: Map<string, CallRequest>;
  messages: Map<string, SentSms>;
  whatsApps: Map<string, SentWhatsApp>;
} {
  const calls = new Map<string, CallRequest>();
  const messages = new Map<string, SentSms>();
  const whatsApps = new Map<string, SentWhatsApp>();
  return {
    calls,
    messages,
    whatsApps,
    placeCall(request) {
      calls.set(request.verificationId, request);
      return inner ? inner.placeCall(request) : Promise.resolve({ requestId: randomUUID() });
    },
    async sendMessage(request) {
      const sent = inner ? await inner.sendMessage(request) : { messageId: randomUUID() };
      messages.set(request.verificationId, { ...request, ...sent });
      return sent;
    },
    async sendWhatsApp(request) {
      const sent = inner ? await inner.sendWhatsApp(request) : { messageId: randomUUID() };
      whatsApps.set(request.verificationId, { ...request, ...sent });
      return sent;
    },
  };
}

/** The code a call speaks, opened from its sealed answer URL exactly as the answer webhook opens it. */
export function spokenCode(ring: KeyRing, call: CallRequest): string {
  const url = new URL(call.answerUrl);
  const opened = openCall(ring, url.searchParams.get('v') ?? '', url.searchParams.get('t') ?? '', Date.now());
  if (opened.kind !== 'valid') throw new Error(`answer URL token is ${opened.kind}`);
  return opened.call.code;
}

export const fixtureOf = (ring: KeyRing, call: CallRequest): Fixture => ({
  id: call.verificationId,
  code: spokenCode(ring, call),
  answerUrl: call.answerUrl,
  hangupUrl: call.hangupUrl,
});

/**
 * Creates pending verifications through the real send handler, outside any measurement: quiet logs, no
 * metrics, no call placed. Used to prepare the events that are measured.
 */
export function fixtureMaker(env: Record<string, string>, apiKeyId: string) {
  const config = loadConfig(env);
  const ring = parseKeyRing(env.KEYRING ?? '');
  const telephony = capturingTelephony();
  const send = createSendHandler({
    config,
    store: createStore(config),
    secrets: staticSecrets(env.KEYRING ?? '', {
      authId: env.PLIVO_AUTH_ID ?? '',
      authToken: env.PLIVO_AUTH_TOKEN ?? '',
    }),
    clock: Date.now,
    logger: createLogger({ logLevel: 'SILENT' }),
    metrics: recordingCounters(),
    telephony,
  });
  return (phones: readonly string[], concurrency = 8): Promise<Fixture[]> =>
    inParallel(phones, concurrency, async (phone) => {
      const response = await send(sendEvent(phone, apiKeyId));
      if (response.statusCode !== 202)
        throw new Error(`fixture send: ${response.statusCode} ${response.body}`);
      const id = (JSON.parse(response.body) as { id: string }).id;
      const call = telephony.calls.get(id);
      if (!call) throw new Error('fixture send placed no call');
      telephony.calls.delete(id);
      return fixtureOf(ring, call);
    });
}

/**
 * The webhook the deliver function's cold starts post to: `apiKeyId`'s endpoint at `url`, subscribed to
 * verification.approved, its secret sealed under the run's key ring as PUT /v1/webhook seals it.
 */
export async function webhookFixture(env: Record<string, string>, apiKeyId: string, url: string) {
  const ring = parseKeyRing(env.KEYRING ?? '');
  await createStore(loadConfig(env)).putWebhook(apiKeyId, {
    url,
    events: ['verification.approved'],
    sealedSecret: sealWebhookSecret(ring.current, apiKeyId, newWebhookSecret()),
    updatedAt: Date.now(),
  });
}
