import type { Locale } from '#platform/locales.ts';

/**
 * What the call says, per locale, with a native Amazon Polly voice that Plivo's SDKs list for that
 * language. `{app}` is replaced by the operator's APP_NAME. Only the answer function speaks, so only its
 * bundle carries these; the SMS's words are in lib/channels/sms-words.ts.
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
  /** Instead of the code, when the verification is no longer pending (each ends the call). */
  verified: string;
  superseded: string;
  canceled: string;
  /** Too many wrong codes were entered, or the call was marked failed. */
  unusable: string;
  /** The verification could not be read, so the code is not spoken. */
  unavailable: string;
}

const ENGLISH = {
  intro: 'Hello. This is {app}. Your verification code is',
  again: 'Once again, your code is',
  pressToRepeat: 'To hear the code again, press 1.',
  pressToHear: 'Hello. This is {app}. To hear your verification code, press any key.',
  noKeyPressed: 'We did not receive a key press.',
  goodbye: 'Goodbye.',
  expired: 'This code has expired. Please request a new one. Goodbye.',
  verified: 'Your number has already been verified with this code. There is nothing more to do. Goodbye.',
  superseded:
    'This code has been replaced by a newer one. Please use the code from your latest call. Goodbye.',
  canceled: 'This verification has been canceled. Goodbye.',
  unusable: 'This code can no longer be used. Please request a new one. Goodbye.',
  unavailable: 'Sorry, we cannot read your code right now. Please try again in a few minutes. Goodbye.',
} as const;

export const VOICE_PROMPTS = {
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
    verified: 'Su número ya se ha verificado con este código. No tiene que hacer nada más. Adiós.',
    superseded:
      'Este código se ha sustituido por uno más reciente. Use el código de su última llamada. Adiós.',
    canceled: 'Esta verificación se ha cancelado. Adiós.',
    unusable: 'Este código ya no se puede usar. Solicite uno nuevo. Adiós.',
    unavailable:
      'Lo sentimos, ahora mismo no podemos leer su código. Inténtelo de nuevo dentro de unos minutos. Adiós.',
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
    verified: 'Su número ya fue verificado con este código. No necesita hacer nada más. Adiós.',
    superseded:
      'Este código fue reemplazado por uno más reciente. Use el código de su última llamada. Adiós.',
    canceled: 'Esta verificación fue cancelada. Adiós.',
    unusable: 'Este código ya no se puede usar. Solicite uno nuevo. Adiós.',
    unavailable:
      'Lo sentimos, en este momento no podemos leer su código. Intente de nuevo en unos minutos. Adiós.',
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
    verified: "Votre numéro a déjà été vérifié avec ce code. Vous n'avez rien d'autre à faire. Au revoir.",
    superseded:
      'Ce code a été remplacé par un code plus récent. Veuillez utiliser le code de votre dernier appel. Au revoir.',
    canceled: 'Cette vérification a été annulée. Au revoir.',
    unusable: 'Ce code ne peut plus être utilisé. Veuillez en demander un nouveau. Au revoir.',
    unavailable:
      'Nous ne pouvons pas lire votre code pour le moment. Veuillez réessayer dans quelques minutes. Au revoir.',
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
    verified:
      'Ihre Nummer wurde mit diesem Code bereits bestätigt. Sie müssen nichts weiter tun. Auf Wiederhören.',
    superseded:
      'Dieser Code wurde durch einen neueren ersetzt. Bitte verwenden Sie den Code aus Ihrem letzten Anruf. Auf Wiederhören.',
    canceled: 'Diese Bestätigung wurde abgebrochen. Auf Wiederhören.',
    unusable:
      'Dieser Code kann nicht mehr verwendet werden. Bitte fordern Sie einen neuen an. Auf Wiederhören.',
    unavailable:
      'Leider können wir Ihren Code gerade nicht abrufen. Bitte versuchen Sie es in einigen Minuten erneut. Auf Wiederhören.',
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
    verified: 'Il suo numero è già stato verificato con questo codice. Non deve fare altro. Arrivederci.',
    superseded:
      'Questo codice è stato sostituito da uno più recente. Usi il codice della sua ultima chiamata. Arrivederci.',
    canceled: 'Questa verifica è stata annullata. Arrivederci.',
    unusable: 'Questo codice non può più essere usato. Ne richieda uno nuovo. Arrivederci.',
    unavailable:
      'Siamo spiacenti, al momento non possiamo leggere il suo codice. Riprovi tra qualche minuto. Arrivederci.',
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
    verified: 'Seu número já foi verificado com este código. Você não precisa fazer mais nada. Até logo.',
    superseded:
      'Este código foi substituído por um mais recente. Use o código da sua última ligação. Até logo.',
    canceled: 'Esta verificação foi cancelada. Até logo.',
    unusable: 'Este código não pode mais ser usado. Solicite um novo. Até logo.',
    unavailable:
      'Desculpe, não conseguimos ler o seu código agora. Tente novamente em alguns minutos. Até logo.',
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
    verified: 'आपका नंबर इस कोड से पहले ही सत्यापित हो चुका है। आपको और कुछ करने की ज़रूरत नहीं है। धन्यवाद।',
    superseded: 'इस कोड की जगह एक नया कोड भेजा गया है। कृपया अपनी सबसे हाल की कॉल वाला कोड इस्तेमाल करें। धन्यवाद।',
    canceled: 'यह सत्यापन रद्द कर दिया गया है। धन्यवाद।',
    unusable: 'यह कोड अब इस्तेमाल नहीं किया जा सकता। कृपया नया कोड मँगवाएँ। धन्यवाद।',
    unavailable: 'क्षमा करें, अभी हम आपका कोड नहीं पढ़ पा रहे हैं। कृपया कुछ मिनट बाद फिर से कोशिश करें। धन्यवाद।',
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
    verified:
      'お客様の番号は、このコードで既に確認済みです。これ以上の操作は必要ありません。失礼いたします。',
    superseded:
      'このコードは新しいコードに置き換えられました。最新のお電話でお伝えしたコードをご利用ください。失礼いたします。',
    canceled: 'この確認はキャンセルされました。失礼いたします。',
    unusable: 'このコードはもうご利用いただけません。新しいコードをリクエストしてください。失礼いたします。',
    unavailable:
      '申し訳ございません。ただいまコードをお読みできません。しばらくしてからもう一度お試しください。失礼いたします。',
  },
} as const satisfies Record<Locale, Prompts>;
