import { ApiError } from './errors.ts';

/**
 * What the call says, per locale, with a native Amazon Polly voice that Plivo's SDKs list for that
 * language. `{app}` is replaced by the operator's APP_NAME.
 */
export interface Prompts {
  voice: string;
  /** Opens the call and leads into the digits. */
  intro: string;
  /** Leads into the second reading of the digits. */
  again: string;
  pressToRepeat: string;
  /** Asked before the code when REQUIRE_KEYPRESS is on: voicemail and robots never hear the code. */
  pressToHear: string;
  noKeyPressed: string;
  goodbye: string;
  expired: string;
}

const ENGLISH = {
  intro: 'Hello. This is {app}. Your verification code is',
  again: 'Once again, your code is',
  pressToRepeat: 'To hear the code again, press 1.',
  pressToHear: 'Hello. This is {app}. To hear your verification code, press any key.',
  noKeyPressed: 'We did not receive a key press.',
  goodbye: 'Goodbye.',
  expired: 'This code has expired. Please request a new one. Goodbye.',
} as const;

export const CATALOG = {
  'en-US': { voice: 'Polly.Joanna', ...ENGLISH },
  'en-GB': { voice: 'Polly.Amy', ...ENGLISH },
  'es-ES': {
    voice: 'Polly.Lucia',
    intro: 'Hola. Le llamamos de {app}. Su código de verificación es',
    again: 'Repetimos, su código es',
    pressToRepeat: 'Para volver a escuchar el código, pulse 1.',
    pressToHear:
      'Hola. Le llamamos de {app}. Para escuchar su código de verificación, pulse cualquier tecla.',
    noKeyPressed: 'No hemos recibido ninguna pulsación.',
    goodbye: 'Adiós.',
    expired: 'Este código ha caducado. Solicite uno nuevo. Adiós.',
  },
  'es-US': {
    voice: 'Polly.Penelope',
    intro: 'Hola. Le llamamos de {app}. Su código de verificación es',
    again: 'Le repito, su código es',
    pressToRepeat: 'Para escuchar el código otra vez, oprima 1.',
    pressToHear:
      'Hola. Le llamamos de {app}. Para escuchar su código de verificación, oprima cualquier tecla.',
    noKeyPressed: 'No recibimos ninguna tecla.',
    goodbye: 'Adiós.',
    expired: 'Este código venció. Solicite uno nuevo. Adiós.',
  },
  'fr-FR': {
    voice: 'Polly.Lea',
    intro: 'Bonjour. Ici {app}. Votre code de vérification est',
    again: 'Je répète, votre code est',
    pressToRepeat: 'Pour réécouter le code, appuyez sur 1.',
    pressToHear: 'Bonjour. Ici {app}. Pour entendre votre code de vérification, appuyez sur une touche.',
    noKeyPressed: "Nous n'avons reçu aucune touche.",
    goodbye: 'Au revoir.',
    expired: 'Ce code a expiré. Veuillez en demander un nouveau. Au revoir.',
  },
  'de-DE': {
    voice: 'Polly.Vicki',
    intro: 'Hallo. Hier ist {app}. Ihr Bestätigungscode lautet',
    again: 'Ich wiederhole, Ihr Code lautet',
    pressToRepeat: 'Um den Code noch einmal zu hören, drücken Sie die 1.',
    pressToHear:
      'Hallo. Hier ist {app}. Um Ihren Bestätigungscode zu hören, drücken Sie eine beliebige Taste.',
    noKeyPressed: 'Wir haben keinen Tastendruck erhalten.',
    goodbye: 'Auf Wiederhören.',
    expired: 'Dieser Code ist abgelaufen. Bitte fordern Sie einen neuen an. Auf Wiederhören.',
  },
  'it-IT': {
    voice: 'Polly.Carla',
    intro: 'Salve. Qui {app}. Il suo codice di verifica è',
    again: 'Ripeto, il suo codice è',
    pressToRepeat: 'Per riascoltare il codice, prema 1.',
    pressToHear: 'Salve. Qui {app}. Per ascoltare il suo codice di verifica, prema un tasto qualsiasi.',
    noKeyPressed: 'Non abbiamo ricevuto alcun tasto.',
    goodbye: 'Arrivederci.',
    expired: 'Questo codice è scaduto. Ne richieda uno nuovo. Arrivederci.',
  },
  'pt-BR': {
    voice: 'Polly.Vitoria',
    intro: 'Olá. Aqui é {app}. Seu código de verificação é',
    again: 'Repetindo, seu código é',
    pressToRepeat: 'Para ouvir o código novamente, pressione 1.',
    pressToHear: 'Olá. Aqui é {app}. Para ouvir seu código de verificação, pressione qualquer tecla.',
    noKeyPressed: 'Não recebemos nenhuma tecla.',
    goodbye: 'Até logo.',
    expired: 'Este código expirou. Solicite um novo. Até logo.',
  },
  'hi-IN': {
    voice: 'Polly.Aditi',
    intro: 'नमस्ते। यह {app} है। आपका सत्यापन कोड है',
    again: 'फिर से, आपका कोड है',
    pressToRepeat: 'कोड दोबारा सुनने के लिए 1 दबाएँ।',
    pressToHear: 'नमस्ते। यह {app} है। अपना सत्यापन कोड सुनने के लिए कोई भी बटन दबाएँ।',
    noKeyPressed: 'हमें कोई बटन दबाया हुआ नहीं मिला।',
    goodbye: 'धन्यवाद।',
    expired: 'इस कोड की समय-सीमा समाप्त हो गई है। कृपया नया कोड मँगवाएँ। धन्यवाद।',
  },
  'ja-JP': {
    voice: 'Polly.Mizuki',
    intro: 'こんにちは。{app}です。確認コードは',
    again: 'もう一度申し上げます。コードは',
    pressToRepeat: 'もう一度お聞きになるには、1を押してください。',
    pressToHear: 'こんにちは。{app}です。確認コードをお聞きになるには、いずれかのキーを押してください。',
    noKeyPressed: 'キーの入力がありませんでした。',
    goodbye: '失礼いたします。',
    expired: 'このコードは有効期限が切れています。新しいコードをリクエストしてください。失礼いたします。',
  },
} as const satisfies Record<string, Prompts>;

export type Locale = keyof typeof CATALOG;

export const LOCALES = Object.keys(CATALOG) as Locale[];

/** Matches a requested locale case-insensitively (en-us → en-US); anything else is refused before a call. */
export function resolveLocale(requested: string): Locale {
  const locale = LOCALES.find((candidate) => candidate.toLowerCase() === requested.toLowerCase());
  if (!locale) {
    throw new ApiError(400, 'unsupported_locale', `locale must be one of ${LOCALES.join(', ')}.`);
  }
  return locale;
}
