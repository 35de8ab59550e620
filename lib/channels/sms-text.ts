import type { Locale } from '#platform/locales.ts';
import { SMS_WORDS } from './sms-words.ts';

/**
 * The verification SMS, from its words (lib/channels/sms-words.ts): `Your <app> code is 123456. It expires in 5
 * minutes. Do not share it.` in the verification's locale. Two optional last lines let a phone fill the code
 * in by itself:
 * - `appHash` (Android's SMS Retriever): the app's 11-character hash on a line of its own. Google asks for a
 *   message of at most 140 bytes (one segment) that contains the code and the hash.
 * - `webOtpDomain` (the WebOTP API browsers autofill): the last line `@<domain> #<code>`.
 * Built in the request that sends the SMS and handed to the provider only: never logged or stored.
 */
export interface SmsTextInput {
  locale: Locale;
  appName: string;
  code: string;
  codeTtlSeconds: number;
  appHash?: string | undefined;
  webOtpDomain?: string | undefined;
}

export function smsText(input: SmsTextInput): string {
  const entry = SMS_WORDS[input.locale];
  // Whole minutes, rounded down: the text never promises more time than the code has.
  const n = Math.max(1, Math.floor(input.codeTtlSeconds / 60));
  const form = new Intl.PluralRules(input.locale).select(n) === 'one' ? 'one' : 'other';
  const minutes = entry.minutes[form].replace('{n}', String(n));
  // One pass, so an app name holding "{code}" stays text.
  const values: Record<string, string> = { app: input.appName, code: input.code, minutes };
  const lines = [entry.sms.replace(/\{(app|code|minutes)\}/g, (_, name: string) => values[name] ?? '')];
  if (input.appHash) lines.push(input.appHash);
  if (input.webOtpDomain) lines.push(`@${input.webOtpDomain} #${input.code}`);
  return lines.join('\n');
}
