import type { Prompts } from './voice-prompts.ts';
import { el, type XmlElement, type XmlNode, xmlDocument } from './xml.ts';

/**
 * The Plivo XML documents of a verification call. The code is read digit by digit, slowly, with pauses,
 * twice; then the callee may press 1 to hear it again, up to `maxRepeats` times; then goodbye and hang up.
 */
export interface Script {
  prompts: Prompts;
  locale: string;
  appName: string;
  maxRepeats: number;
  /** The answer webhook's URL for the next step; it keeps the sealed token and adds these parameters. */
  nextUrl: (step: { s: 'gate' | 'repeat'; r?: number }) => string;
}

const PAUSE_BETWEEN_DIGITS = '700ms';
const PAUSE_AROUND_CODE = '1s';
/** Seconds Plivo waits for a key once the prompt has been spoken (Plivo's minimum is 5). */
const KEY_WAIT_SECONDS = 5;

const withApp = (text: string, script: Script) => text.replace('{app}', script.appName);

type Voice = Pick<Script, 'prompts' | 'locale'>;

const speak = (voice: Voice, ...children: XmlNode[]) =>
  el('Speak', { voice: voice.prompts.voice, language: voice.locale }, ...children);

const pause = (time: string) => el('break', { time });

function readDigits(code: string): XmlNode[] {
  const nodes: XmlNode[] = [];
  for (const [index, digit] of [...code].entries()) {
    if (index > 0) nodes.push(pause(PAUSE_BETWEEN_DIGITS));
    nodes.push(el('say-as', { 'interpret-as': 'digits' }, digit));
  }
  return nodes;
}

// GetInput's action is only called when a key is pressed (log="false": Plivo keeps no record of it);
// otherwise the call falls through to the elements after it.
const getKey = (script: Script, action: string, prompt: string): XmlElement =>
  el(
    'GetInput',
    {
      action,
      method: 'POST',
      inputType: 'dtmf',
      numDigits: 1,
      executionTimeout: KEY_WAIT_SECONDS,
      redirect: 'true',
      log: 'false',
    },
    speak(script, prompt),
  );

const response = (...children: XmlNode[]) => xmlDocument(el('Response', {}, ...children));

/** Reads the code twice; offers a repeat while `repeat` is below the limit. */
export function codeScript(script: Script, code: string, repeat: number): string {
  const { prompts } = script;
  const reading = el(
    'prosody',
    { rate: 'slow' },
    ...(repeat === 0 ? [withApp(prompts.intro, script)] : [prompts.again]),
    pause(PAUSE_AROUND_CODE),
    ...readDigits(code),
    pause(PAUSE_AROUND_CODE),
    prompts.again,
    pause(PAUSE_AROUND_CODE),
    ...readDigits(code),
  );
  const offerRepeat =
    repeat < script.maxRepeats
      ? [getKey(script, script.nextUrl({ s: 'repeat', r: repeat + 1 }), prompts.pressToRepeat)]
      : [];
  return response(speak(script, reading), ...offerRepeat, speak(script, prompts.goodbye), el('Hangup'));
}

/** Asks for a key before the code is spoken: voicemail and robots never hear it. */
export function gateScript(script: Script): string {
  const { prompts } = script;
  return response(
    getKey(script, script.nextUrl({ s: 'gate' }), withApp(prompts.pressToHear, script)),
    speak(script, `${prompts.noKeyPressed} ${prompts.goodbye}`),
    el('Hangup'),
  );
}

export const goodbyeScript = (voice: Voice) => response(speak(voice, voice.prompts.goodbye), el('Hangup'));

/** What a call says instead of the code when there is none to read; each ends the call. */
export type Ending = 'expired' | 'verified' | 'superseded' | 'canceled' | 'unusable' | 'unavailable';

export const endingScript = (voice: Voice, ending: Ending) =>
  response(speak(voice, voice.prompts[ending]), el('Hangup'));
