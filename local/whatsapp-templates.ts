/**
 * The simulated WhatsApp Business Account's approved templates, and what Meta does with a template message:
 * check it against the template as approved, then render it as the phone shows it. An AUTHENTICATION
 * template's text is Meta's, not the business's: `*<code>* is your verification code.`, an optional security
 * line (`For your security, do not share this code.`) and an optional expiry footer (`This code expires in
 * <N> minutes.`, 1 to 90), plus a copy-code button that Meta's send API addresses as a URL button at index 0
 * whose one parameter is the code (Meta's "Copy code authentication templates").
 *
 * The English wording is Meta's as documented. Meta translates it into every language it supports; its exact
 * wording per language is what WhatsApp Manager's preview (or the message_template_previews endpoint) shows,
 * which this machine cannot read: the other languages here are the simulator's own renderings of the same
 * three sentences, so the local phone shows the code in the locale's language.
 */
export interface AuthenticationTemplate {
  name: string;
  /** Meta's language codes the template is approved in. */
  languages: readonly string[];
  securityRecommendation: boolean;
  /** The footer's minutes, or undefined for no footer. */
  codeExpirationMinutes: number | undefined;
}

interface Wording {
  body: (code: string) => string;
  security: string;
  expiry: (minutes: number) => string;
}

const WORDING: Record<string, Wording> = {
  en: {
    body: (code) => `*${code}* is your verification code.`,
    security: 'For your security, do not share this code.',
    expiry: (n) => `This code expires in ${n} ${n === 1 ? 'minute' : 'minutes'}.`,
  },
  es: {
    body: (code) => `Tu código de verificación es *${code}*.`,
    security: 'Por tu seguridad, no lo compartas.',
    expiry: (n) => `Este código caduca en ${n} ${n === 1 ? 'minuto' : 'minutos'}.`,
  },
  fr: {
    body: (code) => `Votre code de vérification est *${code}*.`,
    security: 'Pour votre sécurité, ne le partagez pas.',
    expiry: (n) => `Ce code expire dans ${n} ${n === 1 ? 'minute' : 'minutes'}.`,
  },
  de: {
    body: (code) => `Dein Bestätigungscode lautet *${code}*.`,
    security: 'Gib diesen Code aus Sicherheitsgründen nicht weiter.',
    expiry: (n) => `Dieser Code läuft in ${n} ${n === 1 ? 'Minute' : 'Minuten'} ab.`,
  },
  it: {
    body: (code) => `Il tuo codice di verifica è *${code}*.`,
    security: 'Per la tua sicurezza, non condividerlo.',
    expiry: (n) => `Questo codice scade tra ${n} ${n === 1 ? 'minuto' : 'minuti'}.`,
  },
  pt: {
    body: (code) => `Seu código de verificação é *${code}*.`,
    security: 'Para sua segurança, não o compartilhe.',
    expiry: (n) => `Este código expira em ${n} ${n === 1 ? 'minuto' : 'minutos'}.`,
  },
  hi: {
    body: (code) => `*${code}* आपका सत्यापन कोड है।`,
    security: 'अपनी सुरक्षा के लिए, यह कोड किसी के साथ साझा न करें।',
    expiry: (n) => `यह कोड ${n} मिनट में समाप्त हो जाएगा।`,
  },
  ja: {
    body: (code) => `認証コードは*${code}*です。`,
    security: 'セキュリティのため、このコードは他の人と共有しないでください。',
    expiry: (n) => `このコードの有効期限は${n}分です。`,
  },
};

/** Meta's error for a template message that does not match the approved template (its API's wording). */
export class TemplateMismatch extends Error {}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The one text parameter of a component, or undefined. */
function onlyText(component: Record<string, unknown> | undefined): string | undefined {
  const parameters = component?.parameters;
  if (!Array.isArray(parameters) || parameters.length !== 1 || !isRecord(parameters[0])) return undefined;
  const { type, text } = parameters[0];
  return type === 'text' && typeof text === 'string' ? text : undefined;
}

/**
 * The code a template message carries, once it matches one of the approved templates: its name and
 * language, a body with the code as its one parameter, and the copy-code button (a URL button at index "0")
 * with the same code. Throws TemplateMismatch with Meta's reason otherwise.
 */
export function authenticationCode(
  templates: readonly AuthenticationTemplate[],
  template: Record<string, unknown>,
): { code: string; approved: AuthenticationTemplate; language: string } {
  const { name, language, components } = template;
  const approved = templates.find((candidate) => candidate.name === name);
  if (!approved) throw new TemplateMismatch(`Template name does not exist: ${String(name).slice(0, 64)}`);
  if (typeof language !== 'string' || !approved.languages.includes(language))
    throw new TemplateMismatch('Template name does not exist in the translation');
  const parts = Array.isArray(components) ? components.filter(isRecord) : [];
  const body = parts.find((part) => part.type === 'body');
  const button = parts.find((part) => part.type === 'button');
  const code = onlyText(body);
  if (code === undefined || !/^[0-9]{1,15}$/.test(code))
    throw new TemplateMismatch('Number of parameters does not match the expected number of params');
  if (button?.sub_type !== 'url' || button.index !== '0' || onlyText(button) !== code)
    throw new TemplateMismatch('Button at index 0 of type Url requires a parameter: the code');
  return { code, approved, language };
}

/** The message as the phone shows it, in the template's language (its base language's wording). */
export function renderAuthentication(template: AuthenticationTemplate, language: string, code: string) {
  const wording = WORDING[language.split('_')[0] ?? ''] ?? (WORDING.en as Wording);
  const minutes = template.codeExpirationMinutes;
  return [
    wording.body(code),
    ...(template.securityRecommendation ? [wording.security] : []),
    ...(minutes === undefined ? [] : [wording.expiry(minutes)]),
  ].join(' ');
}
