import { ApiError } from './errors.ts';

/**
 * The locales the service speaks, apart from what it says in them (lib/channels/voice-prompts.ts, lib/channels/sms-words.ts):
 * the functions that only validate a locale (config, verify, events) need the list, not every locale's
 * prompts (about 12 KB).
 */
export const LOCALES = [
  'en-US',
  'en-GB',
  'es-ES',
  'es-US',
  'fr-FR',
  'de-DE',
  'it-IT',
  'pt-BR',
  'hi-IN',
  'ja-JP',
] as const;

export type Locale = (typeof LOCALES)[number];

/** Matches a requested locale case-insensitively (en-us → en-US); anything else is refused before a call. */
export function resolveLocale(requested: string): Locale {
  const locale = LOCALES.find((candidate) => candidate.toLowerCase() === requested.toLowerCase());
  if (!locale) {
    throw new ApiError(400, 'unsupported_locale', `locale must be one of ${LOCALES.join(', ')}.`);
  }
  return locale;
}
