import { admitSend, assertCallable, countPlacedCall } from '#abuse/abuse.ts';
import { type Phone, phoneHash } from '#channels/phone.ts';
import { smsText } from '#channels/sms-text.ts';
import type { Telephony } from '#channels/telephony.ts';
import type { Channel, Config, FallbackChannel } from '#platform/config.ts';
import { ApiError } from '#platform/errors.ts';
import type { Locale } from '#platform/locales.ts';
import type { Logger } from '#platform/logger.ts';
import { type Counters, SEND_METRICS } from '#platform/metrics.ts';
import { answerUrl, FALLBACK_STEP, hangupUrl, messageStatusUrl } from '#platform/routes.ts';
import type { Secrets } from '#platform/secrets.ts';
import type { CounterStore, VerificationStore } from '#store/store.ts';
import {
  type CallRecord,
  deliveryOutcome,
  type MessageRecord,
  type Verification,
} from '#store/verification.ts';
import { openWebhookToken, type SealedCall } from './seal.ts';

/**
 * The fallback: when the first channel definitely failed (a call busy, unanswered, failed or met by a
 * machine; an SMS or WhatsApp message failed or undelivered), the hangup function sends the same code once on
 * another channel (fallbackChannelFor): voice and SMS fall back to each other, WhatsApp to WHATSAPP_FALLBACK.
 * Everything it needs is in the sealed token of the webhook's URL (code, locale, number and its type), so no
 * code is ever stored. "Once" is one conditional write (`claimFallback`) made before the other channel is
 * used: duplicate or concurrent webhooks can never send twice. The fallback obeys the abuse rules a send
 * does, but reserves no guesses; whatever refuses it is recorded as its reason, never an error.
 */
export interface FallbackDeps {
  config: Config;
  store: VerificationStore & CounterStore;
  secrets: Secrets;
  telephony: Telephony;
  clock: () => number;
  logger: Logger;
  metrics: Counters;
}

type Outcome = { call: CallRecord } | { message: MessageRecord };

/**
 * The channel a failed `channel` falls back to. Nothing falls back to WhatsApp: it cannot reach a number
 * that is not on WhatsApp, which is why the first channel most often fails.
 */
export function fallbackChannelFor(config: Pick<Config, 'whatsapp'>, channel: Channel): FallbackChannel {
  if (channel === 'voice') return 'sms';
  if (channel === 'sms') return 'voice';
  // A WhatsApp message whose report arrives after the operator turned WhatsApp off still falls back.
  return config.whatsapp?.fallback ?? 'sms';
}

/**
 * Sends the verification's code on `channel`, once. Before the claim, a store failure throws (the webhook
 * answers 503 and Plivo retries it, which is safe: nothing was sent); after it, nothing throws.
 */
export async function fallBack(
  deps: FallbackDeps,
  request: { verificationId: string; token: string; channel: FallbackChannel },
): Promise<void> {
  const { store, logger } = deps;
  const { verificationId: id, channel } = request;
  const now = deps.clock();
  const opened = await openWebhookToken(deps.secrets, id, request.token, now);
  const sealed = opened.kind === 'valid' ? opened.call : undefined;
  // Expired: so is the code. Without a number: sealed before fallbacks existed.
  if (!sealed?.phone) {
    logger.info('Fallback not sent', { verificationId: id, channel, reason: `token ${opened.kind}` });
    return;
  }
  const claim = await store.claimFallback(id, channel, now);
  if (!claim.done) {
    logger.info('Fallback not sent', { verificationId: id, channel, reason: notClaimed(claim.current) });
    return;
  }
  await sendClaimed(deps, claim.verification, { ...sealed, phone: sealed.phone }, request);
}

/**
 * At send time, when the first channel's provider refused it (or could not be reached): the same claim,
 * recording the first channel's failure in the same write, then the other channel as above. Returns the
 * verification once the other channel went out, undefined when the fallback was not sent (its reason is
 * recorded), so the send answers 202 or its provider's error.
 */
export async function fallBackAtSend(
  deps: FallbackDeps,
  verification: Verification,
  sealed: SealedCall & { phone: NonNullable<SealedCall['phone']> },
  request: { token: string; channel: FallbackChannel; failed: Outcome },
): Promise<Verification | undefined> {
  const { id } = verification;
  const { channel } = request;
  const claim = await deps.store.claimFallback(id, channel, deps.clock(), request.failed);
  if (!claim.done) {
    deps.logger.info('Fallback not sent', { verificationId: id, channel, reason: notClaimed(claim.current) });
    return undefined;
  }
  return sendClaimed(deps, claim.verification, sealed, request);
}

/** After a won claim: sends, or records why not. Nothing throws from here on; undefined when not sent. */
async function sendClaimed(
  deps: FallbackDeps,
  verification: Verification,
  sealed: SealedCall & { phone: NonNullable<SealedCall['phone']> },
  request: { token: string; channel: FallbackChannel },
): Promise<Verification | undefined> {
  const { store, logger } = deps;
  const { id } = verification;
  const { channel } = request;
  const refuse = async (reason: string, outcome?: Outcome) => {
    deps.metrics.count('FallbacksRefused', { name: 'Reason', value: reason });
    logger.info('Fallback refused', { verificationId: id, channel, to: verification.to, reason });
    await store.refuseFallback(id, reason, outcome, deps.clock()).catch((error: unknown) => {
      logger.error('Could not record the fallback refusal', { verificationId: id, error: error as Error });
    });
  };
  try {
    return await send(deps, verification, sealed, request, refuse);
  } catch (error) {
    // An unreadable store (or a bug) after the claim: a retry could not send either, so record it, move on.
    logger.error('Fallback failed', { verificationId: id, channel, error: error as Error });
    await refuse(error instanceof ApiError ? error.code : 'internal_error');
    return undefined;
  }
}

/** Admits the fallback as a send, marks it used, then asks the provider: a refusal at any step is recorded. */
async function send(
  deps: FallbackDeps,
  verification: Verification,
  sealed: SealedCall & { phone: NonNullable<SealedCall['phone']> },
  request: { token: string; channel: FallbackChannel },
  refuse: (reason: string, outcome?: Outcome) => Promise<void>,
): Promise<Verification | undefined> {
  const { config, store } = deps;
  const { id } = verification;
  const { channel, token } = request;
  const phone = { ...sealed.phone, type: sealed.phone.type as Phone['type'] };
  const now = deps.clock();
  try {
    // Judged again, with today's settings: SMS only to mobile types, the allowlist, the blocked prefixes.
    assertCallable(config.abuse, phone, channel);
    const ring = await deps.secrets.keyRing();
    await admitSend(
      { settings: config.abuse, store, logger: deps.logger, metrics: deps.metrics },
      {
        apiKeyId: verification.apiKeyId,
        phone,
        keys: ring.all,
        phoneHashes: ring.all.map((key) => phoneHash(key, phone.e164)),
        now,
        codeTtlMs: config.codeTtlSeconds * 1000,
        maxAttempts: 0,
        // The tenant's rules as fixed on the verification at creation: hangup never reads its settings.
        tenant: {
          rules: {
            channel,
            maxPerDay: Math.min(
              verification.dayCap ?? Number.POSITIVE_INFINITY,
              config.abuse.apiKeyMaxPerDay,
            ),
            safeListed: verification.safeListed === true,
          },
        },
        fallback: true,
      },
    );
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    await refuse(error.code);
    return undefined;
  }

  const voice = channel === 'voice';
  const used = await store.useFallback(id, deliveryOutcome(channel, 'queued'), deps.clock());
  if (!used.done) {
    // Approved, canceled or expired since the claim: nothing to send.
    deps.logger.info('Fallback not sent', { verificationId: id, channel, reason: 'no longer pending' });
    return undefined;
  }
  try {
    if (voice) {
      const placed = await deps.telephony.placeCall({
        verificationId: id,
        to: phone.e164,
        country: phone.country,
        // The usual URLs: its hangup records the call, and finds the fallback already claimed.
        answerUrl: answerUrl(config.publicUrl, { v: id, t: token }),
        fallbackUrl: answerUrl(config.publicUrl, { v: id, t: token, s: FALLBACK_STEP }),
        hangupUrl: hangupUrl(config.publicUrl, id, token),
      });
      // So a cancel can hang it up (lib/events/stream-events.ts); best effort, the call is out.
      await store.recordCallRequest(id, placed.requestId, deps.clock()).catch((error: unknown) => {
        deps.logger.error('Could not record the call request', { verificationId: id, error: error as Error });
      });
    } else {
      await deps.telephony.sendMessage({
        verificationId: id,
        to: phone.e164,
        country: phone.country,
        // Built here and handed to the provider only: never logged or stored.
        text: smsText({
          locale: sealed.locale as Locale,
          appName: sealed.appName ?? config.appName,
          code: sealed.code,
          // What is left of the code's lifetime, not all of it.
          codeTtlSeconds: (sealed.expiresAt - deps.clock()) / 1000,
          appHash: sealed.appHash,
          webOtpDomain: config.sms.webOtpDomain,
        }),
        statusUrl: messageStatusUrl(config.publicUrl, id, token),
      });
    }
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    deps.metrics.count(SEND_METRICS[channel].notSent);
    await refuse(error.code, deliveryOutcome(channel, 'failed'));
    return undefined;
  }
  deps.metrics.count(SEND_METRICS[channel].sent);
  deps.metrics.count('FallbacksSent', { name: 'Channel', value: channel });
  deps.logger.info('Fallback sent', { verificationId: id, channel, to: verification.to });
  // The fraud guard sees the code sent out again, in the window its approval will be counted in.
  await countPlacedCall(store, verification, now).catch((error: unknown) => {
    deps.logger.error('Could not update an abuse counter', { verificationId: id, error: error as Error });
  });
  return used.verification;
}

/** Why the claim was refused, for the log (the store's current item says). */
function notClaimed(current: Verification | undefined): string {
  if (!current) return 'unknown verification';
  if (current.fallbackTo) return 'already claimed';
  return current.fallback === true ? 'not pending' : 'not requested';
}
