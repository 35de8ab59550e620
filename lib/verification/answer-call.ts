import { VOICE_PROMPTS } from '#channels/voice-prompts.ts';
import {
  codeScript,
  type Ending,
  endingScript,
  gateScript,
  goodbyeScript,
  type Script,
} from '#channels/voice-script.ts';
import type { Config } from '#platform/config.ts';
import { LOCALES, type Locale } from '#platform/locales.ts';
import type { Logger } from '#platform/logger.ts';
import type { Counters } from '#platform/metrics.ts';
import { answerUrl, FALLBACK_STEP } from '#platform/routes.ts';
import type { Secrets } from '#platform/secrets.ts';
import type { VerificationStore } from '#store/store.ts';
import { effectiveStatus, type VerificationState, type VerificationStatus } from '#store/verification.ts';
import { openWebhookToken } from './seal.ts';

export interface AnswerDeps {
  config: Config;
  secrets: Secrets;
  store: Pick<VerificationStore, 'getState'>;
  clock: () => number;
  logger: Logger;
  metrics: Counters;
}

/** What the callee hears for a verification that is no longer pending. */
const ENDINGS: Record<Exclude<VerificationStatus, 'pending'>, Ending> = {
  approved: 'verified',
  canceled: 'canceled',
  expired: 'expired',
  max_attempts_reached: 'unusable',
  failed: 'unusable',
};

/**
 * Decides what the callee hears. The signed webhook's query carries `v` the verification id, `t` the sealed
 * code, `s` the step (absent on answer, `fallback` when Plivo asks again through fallback_url, `gate` after
 * the press-a-key prompt, `repeat` after "press 1") and `r` the repeat count. Before any step that could
 * speak the code, one strongly consistent read of the verification, and no write: the code is spoken only
 * while it is pending, so a call answered late, or a replayed signed request, never reads a code that was
 * approved, canceled or replaced by a newer one.
 */
export async function answerCall(
  deps: AnswerDeps,
  query: URLSearchParams,
  params: URLSearchParams,
): Promise<string> {
  const { config, logger } = deps;
  const id = query.get('v') ?? '';
  const token = query.get('t') ?? '';
  const step = query.get('s');
  const opened = await openWebhookToken(deps.secrets, id, token, deps.clock());
  if (opened.kind === 'invalid') {
    logger.info('Call answered for a code that is no longer valid', {
      verificationId: id.slice(0, 30),
      reason: 'invalid',
    });
    return endingScript(voice(config.defaultLocale), 'expired');
  }

  const digits = params.get('Digits') ?? '';
  const repeat = Number(query.get('r'));
  const first = step === null || step === FALLBACK_STEP;
  const validRepeat = Number.isInteger(repeat) && repeat >= 1 && repeat <= config.voice.maxRepeats;
  const sealedLocale = opened.kind === 'valid' ? supported(opened.call.locale) : undefined;
  const speaksCode =
    first || (step === 'gate' && digits !== '') || (step === 'repeat' && digits === '1' && validRepeat);
  // Any other key, no key, or a forged repeat count: goodbye, and nothing to read.
  if (opened.kind === 'valid' && !speaksCode)
    return goodbyeScript(voice(sealedLocale ?? config.defaultLocale));

  let state: VerificationState | undefined;
  try {
    state = await deps.store.getState(id);
  } catch (error) {
    // Plivo retries a failed answer_url and then asks fallback_url: the first answer fails so it does.
    // Where no retry is left (the fallback itself, a key press), the callee is told rather than cut off.
    if (step === null && opened.kind === 'valid') throw error;
    logger.error('Could not read the verification for a call', {
      verificationId: id,
      step: step ?? 'answer',
      error: error as Error,
    });
    const ending = opened.kind === 'valid' ? 'unavailable' : 'expired';
    return endingScript(voice(sealedLocale ?? config.defaultLocale), ending);
  }

  const locale = sealedLocale ?? supported(state?.locale) ?? config.defaultLocale;
  const ending = endingFor(state, deps.clock()) ?? (opened.kind === 'expired' ? 'expired' : undefined);
  if (ending || opened.kind !== 'valid') {
    logger.info('Call answered for a verification that is not pending', {
      verificationId: id,
      step: step ?? 'answer',
      ending: ending ?? 'expired',
    });
    return endingScript(voice(locale), ending ?? 'expired');
  }

  const script: Script = {
    ...voice(locale),
    // The tenant's name, sealed at creation; the stack's for a token sealed before tenants had one.
    appName: opened.call.appName ?? config.appName,
    maxRepeats: config.voice.maxRepeats,
    nextUrl: ({ s, r }) =>
      answerUrl(config.publicUrl, { v: id, t: token, s, ...(r !== undefined && { r: String(r) }) }),
  };
  logger.info('Call answered', {
    verificationId: id,
    step: step ?? 'answer',
    ...(step === 'repeat' && { repeat }),
  });
  const { code } = opened.call;
  if (first) return config.voice.requireKeypress ? gateScript(script) : codeScript(script, code, 0);
  return codeScript(script, code, step === 'repeat' ? repeat : 0);
}

/** Undefined while the code may be spoken; a verification that is gone (TTL, unknown) has expired. */
function endingFor(state: VerificationState | undefined, now: number): Ending | undefined {
  if (!state) return 'expired';
  const status = effectiveStatus(state, now);
  if (status === 'pending') return undefined;
  return status === 'canceled' && state.supersededBy ? 'superseded' : ENDINGS[status];
}

const supported = (locale: string | undefined) =>
  LOCALES.includes(locale as Locale) ? (locale as Locale) : undefined;

const voice = (locale: Locale) => ({ prompts: VOICE_PROMPTS[locale], locale });
