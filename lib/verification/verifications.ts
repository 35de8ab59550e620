import { randomBytes } from 'node:crypto';
import { admitSend, assertCallable, countPlacedCall, returnUnusedGuesses } from '#abuse/abuse.ts';
import { e164Only, maskPhone, type Phone, phoneHash } from '#channels/phone.ts';
import { smsText } from '#channels/sms-text.ts';
import type { Telephony } from '#channels/telephony.ts';
import type { Config } from '#platform/config.ts';
import {
  ApiError,
  channelNotAllowed,
  verificationNotFound,
  verificationNotPending,
} from '#platform/errors.ts';
import type { Locale } from '#platform/locales.ts';
import type { Logger } from '#platform/logger.ts';
import { type Counters, SEND_METRICS } from '#platform/metrics.ts';
import { answerUrl, FALLBACK_STEP, hangupUrl, messageStatusUrl } from '#platform/routes.ts';
import type { Secrets } from '#platform/secrets.ts';
import type { Store } from '#store/store.ts';
import { keys as itemKeys } from '#store/table.ts';
import {
  deliveryOutcome,
  effectiveStatus,
  type Verification,
  type VerificationStatus,
} from '#store/verification.ts';
import { generateCode, hashCode, hashesEqual, normaliseSubmittedCode } from './codes.ts';
import { recentLimit } from './erasure.ts';
import { fallBackAtSend, fallbackChannelFor } from './fallback.ts';
import { newVerificationId } from './ids.ts';
import { sealCall } from './seal.ts';
import { type ResolvedSend, resolveSend, type SendChoices } from './tenants.ts';

/**
 * The verification lifecycle: pending → approved | expired | max_attempts_reached | canceled | failed.
 * Each transition is one conditional write in the store; this module decides which one and reads the
 * store's answer when a condition fails.
 */
export interface ServiceDeps {
  config: Config;
  store: Store;
  secrets: Secrets;
  clock: () => number;
  logger: Logger;
  metrics: Counters;
}

export interface SendDeps extends ServiceDeps {
  telephony: Telephony;
}

export interface StartRequest extends SendChoices {
  apiKeyId: string;
  phone: Phone;
  /** Android's SMS Retriever hash, for an SMS on either channel's turn. */
  appHash?: string | undefined;
  /** The Idempotency-Key record this send claimed (lib/verification/idempotency.ts), kept for erasure. */
  idempotencyRecord?: string | undefined;
}

export async function startVerification(
  deps: SendDeps,
  request: StartRequest,
  /** `beforeCall` runs once the verification is stored, before its call or SMS may go out; throwing stops it. */
  hooks: { beforeCall?: (verification: Verification) => Promise<void> } = {},
): Promise<Verification> {
  const { config, store, logger } = deps;
  // Before anything is counted or stored: a channel this stack does not send on (WhatsApp without settings).
  if (request.channel && !config.channels.includes(request.channel)) throw channelNotAllowed(request.channel);
  // Judged before anything is read, with the channel asked for or the stack's default (the tenant's settings,
  // read with the fraud guard's items, may choose another: lib/verification/tenants.ts judges it again).
  assertCallable(config.abuse, request.phone, request.channel ?? config.defaultChannel);
  const ring = await deps.secrets.keyRing();
  const key = ring.current;
  const now = deps.clock();
  const phoneHashes = ring.all.map((ringKey) => phoneHash(ringKey, request.phone.e164));
  const hash = phoneHashes[0] ?? '';
  let resolved: ResolvedSend | undefined;
  const admission = await admitSend(
    { settings: config.abuse, store, logger, metrics: deps.metrics },
    {
      apiKeyId: request.apiKeyId,
      phone: request.phone,
      keys: ring.all,
      phoneHashes,
      now,
      // The fraud guard's windows are judged by the stack's code lifetime, which a tenant's never passes.
      codeTtlMs: config.codeTtlSeconds * 1000,
      maxAttempts: config.maxAttempts,
      tenant: {
        key: itemKeys.tenant(request.apiKeyId),
        decide: (item) => {
          resolved = resolveSend(config, item, { ...request, phoneHashes });
          return resolved.rules;
        },
      },
    },
  );
  if (!resolved) throw new Error('The send was admitted without its tenant settings');
  const { settings, channel, locale } = resolved;
  const { maxAttempts, guardWindow, rules } = admission;
  const id = newVerificationId();
  const code = generateCode(settings.codeLength);
  const verification: Verification = {
    id,
    apiKeyId: request.apiKeyId,
    status: 'pending',
    codeHash: hashCode(key, id, code),
    keyId: key.id,
    phoneHash: hash,
    to: maskPhone(request.phone),
    country: request.phone.country,
    locale,
    attempts: 0,
    // What the (API key, phone) guess budget reserved for it: it can never test more.
    maxAttempts,
    createdAt: now,
    expiresAt: now + settings.codeTtlSeconds * 1000,
    updatedAt: now,
    channel,
    fallback: resolved.fallback,
    ...deliveryOutcome(channel, 'queued'),
    guardWindow,
    // What its fallback, sent by the hangup function, must obey without reading the tenant's settings.
    ...(rules.maxPerDay < config.abuse.apiKeyMaxPerDay && { dayCap: rules.maxPerDay }),
    ...(rules.safeListed && { safeListed: true }),
    ...(request.idempotencyRecord && { idempotencyRecord: request.idempotencyRecord }),
  };
  await store.create(verification);

  // What the other channel will need, sealed: the hangup function sends the fallback from the token alone.
  const { e164, country, callingCode, type } = request.phone;
  const sealed = {
    code,
    locale,
    expiresAt: verification.expiresAt,
    // Spoken in the call and written in the SMS, a fallback's included: the tenant's, fixed at creation.
    appName: settings.appName,
    // assertCallable refused numbers of no known type.
    phone: { e164, country, callingCode, type: type ?? '' },
    ...(request.appHash && { appHash: request.appHash }),
  };
  const token = sealCall(key, id, sealed);
  const voice = channel === 'voice';
  const failed = deliveryOutcome(channel, 'failed');
  /** This verification can never be completed: say so rather than leave it pending, and throw `error`. */
  const giveUp = async (error: unknown): Promise<never> => {
    // The error is what the client must see, even if recording the failure fails too.
    const marked = await store.fail(id, failed, deps.clock()).catch((failure: unknown) => {
      logger.error('Could not mark the verification failed', { verificationId: id, error: failure as Error });
    });
    // A code never sent spends no guesses: a provider outage must not use up the phone's day.
    if (marked?.done) {
      await returnUnusedGuesses(store, marked.verification).catch(logCounterFailure(deps, id));
    }
    // Listed under its phone since its creation (erasure finds it), but the pointer never moved to it, so
    // nothing pruned the pointer's list: do it here, as moving it would have.
    await store.pruneForPhone(verification, recentLimit(config)).catch((failure: unknown) => {
      logger.error("Could not prune the phone's recent verifications", {
        verificationId: id,
        error: failure as Error,
      });
    });
    throw error;
  };

  // Only once the code is out: a send that fails leaves the phone's earlier verification as it was. And
  // once it is out, nothing may turn this send into an error: a client retrying it would place a second
  // paid call. Should the pointer fail, the verification still works by id.
  const superseding = (started: Verification) =>
    supersedeOlder(deps, started, phoneHashes).catch((error: unknown) => {
      logger.error('Could not supersede the earlier verification', {
        verificationId: id,
        error: error as Error,
      });
    });
  await hooks.beforeCall?.(verification).catch(giveUp);
  let started = verification;
  try {
    const sent = await sendCode(deps, {
      verification,
      e164,
      token,
      code,
      appHash: request.appHash,
      appName: settings.appName,
    });
    deps.metrics.count(SEND_METRICS[channel].sent);
    // Side by side, none of them can fail the send: one round trip after the call instead of two.
    await Promise.all([
      // The fraud guard judges only calls placed and SMS sent.
      countPlacedCall(store, verification, now).catch(logCounterFailure(deps, id)),
      // So a cancel or a resend can hang the call up (lib/events/stream-events.ts); the verification works without.
      sent &&
        store.recordCallRequest(id, sent.requestId, now).catch((error: unknown) => {
          logger.error('Could not record the call request', { verificationId: id, error: error as Error });
        }),
      superseding(verification),
    ]);
  } catch (error) {
    deps.metrics.count(SEND_METRICS[channel].notSent);
    logger.warn(voice ? 'Call not placed' : 'Message not sent', {
      verificationId: id,
      to: verification.to,
      reason: error instanceof ApiError ? error.code : 'error',
    });
    // The provider refused this channel for this number: the other one, once, if asked for. Not after a 5xx
    // or a timeout: the first may have gone out after all, the other goes through the same provider, and
    // waiting on it twice would not fit the function's time budget.
    const fellBack =
      resolved.fallback && error instanceof ApiError && REJECTED.has(error.code)
        ? await fallBackAtSend(deps, verification, sealed, {
            token,
            channel: fallbackChannelFor(config, channel),
            failed,
          }).catch((failure: unknown) => {
            logger.error('Fallback at send failed', { verificationId: id, error: failure as Error });
            return undefined;
          })
        : undefined;
    if (!fellBack) return giveUp(error);
    started = fellBack;
    await superseding(started);
  }
  deps.metrics.count('VerificationsStarted');
  logger.info('Verification started', {
    verificationId: id,
    channel,
    to: verification.to,
    country: verification.country,
    locale: verification.locale,
    ...(started.fallbackTo && { fallback: started.fallbackTo.channel }),
  });
  return started;
}

/** The provider's definite refusals of a channel for a number (lib/channels/telephony.ts). */
const REJECTED = new Set(['call_rejected', 'message_rejected']);

/**
 * Asks the provider for the verification's first channel: a call whose answer webhook speaks the code (its
 * request is returned), an SMS, or a WhatsApp authentication template.
 */
async function sendCode(
  deps: SendDeps,
  request: {
    verification: Verification;
    e164: string;
    token: string;
    code: string;
    appHash?: string | undefined;
    appName: string;
  },
) {
  const { config } = deps;
  const { verification, e164, token } = request;
  const { id } = verification;
  if (verification.channel === 'voice') {
    return deps.telephony.placeCall({
      verificationId: id,
      to: e164,
      country: verification.country,
      answerUrl: answerUrl(config.publicUrl, { v: id, t: token }),
      fallbackUrl: answerUrl(config.publicUrl, { v: id, t: token, s: FALLBACK_STEP }),
      hangupUrl: hangupUrl(config.publicUrl, id, token),
    });
  }
  const locale = verification.locale as Locale;
  if (verification.channel === 'whatsapp') {
    // startVerification refused the channel on a stack without WhatsApp settings.
    const whatsapp = config.whatsapp;
    if (!whatsapp) throw channelNotAllowed('whatsapp');
    await deps.telephony.sendWhatsApp({
      verificationId: id,
      to: e164,
      template: whatsapp.template,
      language: whatsapp.languages[locale],
      // Meta writes it into the template's fixed text and its copy-code button; handed to the provider only.
      code: request.code,
      statusUrl: messageStatusUrl(config.publicUrl, id, token, 'whatsapp'),
    });
    return undefined;
  }
  await deps.telephony.sendMessage({
    verificationId: id,
    to: e164,
    country: verification.country,
    // Built here and handed to the provider only: never logged or stored.
    text: smsText({
      locale,
      appName: request.appName,
      code: request.code,
      codeTtlSeconds: (verification.expiresAt - verification.createdAt) / 1000,
      appHash: request.appHash,
      webOtpDomain: config.sms.webOtpDomain,
    }),
    statusUrl: messageStatusUrl(config.publicUrl, id, token),
  });
  return undefined;
}

/**
 * A new send for a phone cancels that phone's older pending verification (for the same API key). The
 * pointer only moves forward: when it already holds a newer verification, this send is the older one and
 * cancels itself, so however concurrent resends interleave, only the newest stays pending.
 */
async function supersedeOlder(deps: ServiceDeps, verification: Verification, phoneHashes: string[]) {
  const { store, logger } = deps;
  const { id, apiKeyId } = verification;
  const pointed = await store.pointPhoneTo(verification, recentLimit(deps.config));
  // Erased while its call was placed: the phone's verifications are gone, this one with them.
  if ('erased' in pointed) {
    logger.info('Verification erased while it was being sent', { verificationId: id });
    return;
  }
  const newest = pointed.moved ? id : pointed.newer;
  const olderIds = new Set([pointed.moved ? pointed.replaced : id]);
  // After a key rotation the phone's pointer may still sit under an older key's pseudonym.
  if (phoneHashes.length > 1) olderIds.add(await store.latestIdForPhone(apiKeyId, phoneHashes.slice(1)));
  for (const olderId of olderIds) {
    if (!olderId || olderId === newest) continue;
    const result = await store.cancel(olderId, apiKeyId, deps.clock(), newest);
    if (result.done)
      logger.info('Verification superseded', { verificationId: olderId, supersededBy: newest });
  }
}

export type CheckResult =
  | { id: string; valid: true; status: 'approved' }
  | { id: string; valid: false; status: 'pending' | 'max_attempts_reached'; attemptsLeft: number }
  | { id: string; valid: false; status: Exclude<VerificationStatus, 'pending'> };

type Attempt = CheckResult & { wasPending: boolean };

const logCounterFailure = (deps: ServiceDeps, verificationId: string) => (error: unknown) =>
  deps.logger.error('Could not update an abuse counter', { verificationId, error: error as Error });

/**
 * One check: reserve an attempt, then test the code, then settle. The reservation is one conditional write
 * made before the code is compared, so however many checks arrive at once, at most `maxAttempts` codes are
 * ever tested per verification. A right code costs two writes (reserve, approve), a wrong one one; the last
 * wrong one also locks the verification out, so its stored status says what happened.
 */
async function attempt(deps: ServiceDeps, apiKeyId: string, id: string, code: string): Promise<Attempt> {
  let ring = await deps.secrets.keyRing();
  const now = deps.clock();
  const reserved = await deps.store.reserveAttempt(id, apiKeyId, now, randomBytes(12).toString('base64url'));
  if (!reserved.done) {
    const current = reserved.current;
    if (!current || current.apiKeyId !== apiKeyId) throw verificationNotFound();
    const status = effectiveStatus(current, now);
    if (status !== 'pending') return { id, valid: false, status, wasPending: false };
    // Pending, yet every attempt is reserved by checks still testing their codes: this one tests nothing.
    return { id, valid: false, status: 'pending', attemptsLeft: 0, wasPending: true };
  }

  const verification = reserved.verification;
  if (!ring.get(verification.keyId)) ring = await deps.secrets.keyRing({ refresh: true });
  const key = ring.get(verification.keyId);
  if (key && hashesEqual(hashCode(key, id, code), verification.codeHash)) {
    const approval = await deps.store.approve(id, apiKeyId, now);
    if (!approval.done) return settled(approval.current, id);
    deps.logger.info('Verification approved', { verificationId: id });
    deps.metrics.count('ChecksApproved');
    // The fraud guard counts the approval off this path, from the table's stream (lib/events/stream-events.ts).
    return { id, valid: true, status: 'approved', wasPending: true };
  }

  const { attempts, maxAttempts } = verification;
  deps.logger.info('Wrong code', { verificationId: id, attempts });
  deps.metrics.count('ChecksRefused');
  if (attempts < maxAttempts) {
    return { id, valid: false, status: 'pending', attemptsLeft: maxAttempts - attempts, wasPending: true };
  }
  const locked = await deps.store.lockOut(id, apiKeyId, now);
  if (!locked.done) return settled(locked.current, id);
  return { id, valid: false, status: 'max_attempts_reached', attemptsLeft: 0, wasPending: true };
}

/** The answer for a check whose settlement lost to another transition: a cancel, a resend, another check. */
function settled(current: Verification | undefined, id: string): Attempt {
  const status = current?.status;
  // Settlements are conditional on pending alone (the reservation checked the rest): refused means it moved on.
  if (status === undefined || status === 'pending') throw new Error('Settlement refused while pending');
  return { id, valid: false, status, wasPending: true };
}

export async function checkById(
  deps: ServiceDeps,
  apiKeyId: string,
  id: string,
  code: string,
): Promise<CheckResult> {
  const { wasPending: _, ...result } = await attempt(deps, apiKeyId, id, normaliseSubmittedCode(code));
  return result;
}

/**
 * Checks the phone's latest verification. A phone never seen and a phone whose latest verification is not
 * pending both answer 404 after the same database work (one read, one refused conditional write), so the
 * answer does not tell an attacker which numbers are in use.
 */
export async function checkByPhone(
  deps: ServiceDeps,
  apiKeyId: string,
  phoneInput: string,
  code: string,
): Promise<CheckResult> {
  const digits = normaliseSubmittedCode(code);
  // A number in E.164 form that send would have refused simply has no verification: 404 like any other.
  const e164 = e164Only(phoneInput);
  const ring = await deps.secrets.keyRing();
  // Under every key of the ring at once (one read), so a key rotation changes neither the answer nor the work.
  const id = await deps.store.latestIdForPhone(
    apiKeyId,
    ring.all.map((key) => phoneHash(key, e164)),
  );
  // An unknown phone still costs one refused write, against an id that cannot exist.
  const { wasPending, ...result } = await attempt(deps, apiKeyId, id ?? newVerificationId(), digits);
  if (!wasPending) throw verificationNotFound();
  return result;
}

export async function getVerification(
  deps: ServiceDeps,
  apiKeyId: string,
  id: string,
): Promise<Verification> {
  const verification = await deps.store.get(id);
  if (!verification || verification.apiKeyId !== apiKeyId) throw verificationNotFound();
  return verification;
}

export async function cancelVerification(
  deps: ServiceDeps,
  apiKeyId: string,
  id: string,
): Promise<Verification> {
  const now = deps.clock();
  const result = await deps.store.cancel(id, apiKeyId, now);
  if (result.done) {
    deps.logger.info('Verification canceled', { verificationId: id });
    return result.verification;
  }
  if (!result.current || result.current.apiKeyId !== apiKeyId) throw verificationNotFound();
  throw verificationNotPending(effectiveStatus(result.current, now));
}
