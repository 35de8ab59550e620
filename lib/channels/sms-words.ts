import type { Locale } from '#platform/locales.ts';

/**
 * What the verification SMS says, per locale (lib/channels/sms-text.ts builds it). Apart from the call's prompts
 * (lib/channels/voice-prompts.ts), so the functions that send an SMS (send, and hangup's fallback) carry only these.
 */
export interface SmsWords {
  /**
   * The SMS: `{code}`, and `{minutes}` from `minutes`. Latin-script texts use only GSM-7 characters (words
   * without accents GSM-7 lacks: "clave", "senha"), so they fit one segment (lib/channels/sms-text.ts).
   */
  sms: string;
  /** "5 minutes", by the locale's plural rule (Intl.PluralRules: one, other). */
  minutes: { one: string; other: string };
}

const ENGLISH = {
  sms: 'Your {app} code is {code}. It expires in {minutes}. Do not share it.',
  minutes: { one: '1 minute', other: '{n} minutes' },
} as const;

export const SMS_WORDS = {
  'en-US': ENGLISH,
  'en-GB': ENGLISH,
  'es-ES': {
    sms: 'Su clave de {app} es {code}. Caduca en {minutes}. No la comparta.',
    minutes: { one: '1 minuto', other: '{n} minutos' },
  },
  'es-US': {
    sms: 'Su clave de {app} es {code}. Vence en {minutes}. No la comparta.',
    minutes: { one: '1 minuto', other: '{n} minutos' },
  },
  'fr-FR': {
    sms: 'Votre code {app} est {code}. Il expire dans {minutes}. Ne le partagez pas.',
    minutes: { one: '1 minute', other: '{n} minutes' },
  },
  'de-DE': {
    sms: 'Ihr Code für {app} lautet {code}. Er ist {minutes} gültig. Geben Sie ihn nicht weiter.',
    minutes: { one: '1 Minute', other: '{n} Minuten' },
  },
  'it-IT': {
    sms: 'Il suo codice {app} è {code}. Scade tra {minutes}. Non lo condivida.',
    minutes: { one: '1 minuto', other: '{n} minuti' },
  },
  'pt-BR': {
    sms: 'Sua senha {app} é {code}. Ela expira em {minutes}. Nunca a compartilhe.',
    minutes: { one: '1 minuto', other: '{n} minutos' },
  },
  'hi-IN': {
    sms: 'आपका {app} कोड {code} है। {minutes} तक मान्य है। किसी को न बताएँ।',
    minutes: { one: '1 मिनट', other: '{n} मिनट' },
  },
  'ja-JP': {
    sms: '{app}の確認コードは{code}です。有効期限は{minutes}です。他の人に教えないでください。',
    minutes: { one: '1分', other: '{n}分' },
  },
} as const satisfies Record<Locale, SmsWords>;
