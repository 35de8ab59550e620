import type { Config } from './config.ts';
import { isVerificationId } from './ids.ts';
import type { Logger } from './logger.ts';
import { CATALOG, LOCALES, type Locale } from './messages.ts';
import type { Counters } from './metrics.ts';
import { answerUrl } from './routes.ts';
import { openCall } from './seal.ts';
import type { Secrets } from './secrets.ts';
import { codeScript, expiredScript, gateScript, goodbyeScript, type Script } from './voice-script.ts';

export interface AnswerDeps {
  config: Config;
  secrets: Secrets;
  clock: () => number;
  logger: Logger;
  metrics: Counters;
}

/**
 * Decides what the callee hears, from the signed webhook's query alone: `v` the verification id, `t` the
 * sealed code, `s` the step (absent on answer, `gate` after the press-a-key prompt, `repeat` after "press
 * 1") and `r` the repeat count. No database: everything needed travels sealed in the URL.
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
  let ring = await deps.secrets.keyRing();
  // Sealed under a key this container has not loaded yet (the ring was just rotated): read it afresh.
  if (!ring.get(token.split('.')[0] ?? '')) ring = await deps.secrets.keyRing({ refresh: true });
  const opened =
    isVerificationId(id) && token ? openCall(ring, id, token, deps.clock()) : ({ kind: 'invalid' } as const);
  if (opened.kind !== 'valid') {
    logger.info('Call answered for a code that is no longer valid', {
      verificationId: id.slice(0, 30),
      reason: opened.kind,
    });
    const locale = config.defaultLocale;
    return expiredScript({ prompts: CATALOG[locale], locale });
  }

  const locale = LOCALES.includes(opened.call.locale as Locale)
    ? (opened.call.locale as Locale)
    : config.defaultLocale;
  const script: Script = {
    prompts: CATALOG[locale],
    locale,
    appName: config.appName,
    maxRepeats: config.voice.maxRepeats,
    nextUrl: ({ s, r }) =>
      answerUrl(config.publicUrl, { v: id, t: token, s, ...(r !== undefined && { r: String(r) }) }),
  };
  const digits = params.get('Digits') ?? '';
  const repeat = Number(query.get('r'));
  logger.info('Call answered', {
    verificationId: id,
    step: step ?? 'answer',
    ...(step === 'repeat' && { repeat }),
  });

  if (step === null)
    return config.voice.requireKeypress ? gateScript(script) : codeScript(script, opened.call.code, 0);
  if (step === 'gate' && digits !== '') return codeScript(script, opened.call.code, 0);
  if (
    step === 'repeat' &&
    digits === '1' &&
    Number.isInteger(repeat) &&
    repeat >= 1 &&
    repeat <= script.maxRepeats
  ) {
    return codeScript(script, opened.call.code, repeat);
  }
  return goodbyeScript(script);
}
