import { en } from 'zod/locales';
import * as z from 'zod/mini';
import { isCidr } from './cidr.ts';
import { invalidRequest } from './errors.ts';
import { LOCALES, type Locale } from './locales.ts';

// zod/mini ships without messages; a bad deployment deserves "Too big: expected number to be <=10".
// Imported by name: `z.locales.en()` would bundle every locale zod has (about 280 KiB).
z.config(en());

/** How a code reaches the phone: the settings choose among these, and each verification keeps one. */
export const CHANNELS = ['voice', 'sms', 'whatsapp'] as const;
export type Channel = (typeof CHANNELS)[number];

/** The channels a fallback may use: nothing ever falls back to WhatsApp (docs/channels-and-fallback.md). */
export const FALLBACK_CHANNELS = ['sms', 'voice'] as const satisfies readonly Channel[];
export type FallbackChannel = (typeof FALLBACK_CHANNELS)[number];

/**
 * Meta's language code of the template's translation for each of our locales (WHATSAPP_LANGUAGES overrides
 * any of them): es-US gets Mexico's Spanish (es_MX).
 */
export const DEFAULT_WHATSAPP_LANGUAGES: Record<Locale, string> = {
  'en-US': 'en_US',
  'en-GB': 'en_GB',
  'es-ES': 'es_ES',
  'es-US': 'es_MX',
  'fr-FR': 'fr',
  'de-DE': 'de',
  'it-IT': 'it',
  'pt-BR': 'pt_BR',
  'hi-IN': 'hi',
  'ja-JP': 'ja',
};

/**
 * The WhatsApp channel's settings: the approved AUTHENTICATION template (its name, and its language per
 * locale) and the WhatsApp Business number it is sent from. Without them the channel is off.
 */
export interface WhatsAppSettings {
  /** The WhatsApp Business number mapped to the Plivo account (E.164). */
  fromNumber: string;
  /** The template's name as approved at Meta (lower case, digits and underscores). */
  template: string;
  /** Meta's language code of the template's translation, for every locale. */
  languages: Record<Locale, string>;
  /** The channel a WhatsApp message that failed falls back to, once. */
  fallback: FallbackChannel;
}

/**
 * Every setting of the service, read from the environment once per container and validated at cold start,
 * so a bad deployment fails on its first invocation with a message naming the variable, not mid-request.
 * Secrets (hashing and sealing keys, Plivo credentials) are not here: see lib/platform/secrets.ts.
 */
export interface Config {
  /** Every function reads or writes the table; unset only where a config is built without one (tests). */
  tableName: string | undefined;
  /** Set only for DynamoDB Local; the AWS SDK finds the real endpoint by itself. */
  dynamodbEndpoint: string | undefined;
  /**
   * With an endpoint only: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY when both are set (DynamoDB Local keeps
   * one database per key id). On AWS the SDK's default chain finds the role's credentials.
   */
  dynamodbCredentials: { accessKeyId: string; secretAccessKey: string } | undefined;
  /**
   * Base of the webhook URLs given to Plivo, e.g. https://abc.execute-api.eu-west-1.amazonaws.com (on AWS the
   * webhook HTTP API's endpoint, infra/webhook-api.ts); their signatures are checked against it.
   */
  publicUrl: string;
  /** When not empty, only these source CIDRs may call Plivo's webhooks (403 forbidden, lib/channels/plivo-webhooks.ts). */
  webhookAllowedCidrs: string[];
  appName: string;
  codeLength: number;
  codeTtlSeconds: number;
  maxAttempts: number;
  /** How long finished verifications stay readable (status lookups, late hangups) before TTL removes them. */
  retentionSeconds: number;
  defaultLocale: Locale;
  plivo: {
    apiUrl: string;
    /**
     * Caller ID per destination country (ISO 3166 alpha-2), `*` the default: callers trust a local number
     * more, and some countries require one. Always holds `*`.
     */
    fromNumbers: Record<string, string>;
    timeoutMs: number;
    ringTimeoutSeconds: number;
    timeLimitSeconds: number;
  };
  /** The channels sends may use: CHANNELS, WhatsApp only with its settings; a tenant may allow fewer, never more. */
  channels: Channel[];
  /** The channel a send uses when it names none (one of `channels`). */
  defaultChannel: Channel;
  /** Whether a send that names no `fallback` may use the other channel once (stored on the verification). */
  fallback: boolean;
  sms: {
    /** With it, the SMS ends with the WebOTP line `@<domain> #<code>` (a host name, no scheme or port). */
    webOtpDomain: string | undefined;
  };
  /** Undefined: the stack has no WhatsApp settings, and refuses the channel (403 channel_not_allowed). */
  whatsapp: WhatsAppSettings | undefined;
  webhooks: {
    /** Local stack only: app webhooks may be http://127.0.0.1 or http://localhost (lib/events/webhook-url.ts). */
    allowLocalhost: boolean;
    /** AWS: the SQS queue deliveries wait in (set on the functions that queue or deliver them). */
    queueUrl: string | undefined;
  };
  voice: {
    maxRepeats: number;
    /** Ask the callee to press a key before the code is spoken: voicemail and robots never hear it. */
    requireKeypress: boolean;
  };
  abuse: AbuseSettings;
  /** The bus the events function puts outcome events on (EVENT_BUS_NAME); the other functions have none. */
  eventBusName: string | undefined;
}

/** Who may be called and how often: on by default, every limit a setting (lib/abuse/abuse.ts, SECURITY.md). */
export interface AbuseSettings {
  /** ISO 3166 alpha-2 codes, or ['*'] for every country. */
  allowedCountries: string[];
  /** E.164 prefixes never called, e.g. +1900. */
  blockedPrefixes: string[];
  /** libphonenumber-js number types that may be called. */
  allowedNumberTypes: string[];
  phoneMinGapSeconds: number;
  phoneMaxPer10Minutes: number;
  phoneMaxPerDay: number;
  /**
   * Codes that may be tested per (API key, phone) per UTC day: each send reserves its verification's
   * attempts from this budget, so concurrent checks can never test more.
   */
  phoneMaxGuessesPerDay: number;
  apiKeyMaxPerMinute: number;
  /** Calls one API key may place per UTC day, under the global `dailyCallCap`. */
  apiKeyMaxPerDay: number;
  countryMaxPerHour: number;
  /** Sends over both channels per UTC day, all together (spend guard). */
  dailyCallCap: number;
  /** SMS per UTC day, all together: a spend guard of its own against SMS pumping, inside `dailyCallCap`. */
  dailySmsCap: number;
  /** WhatsApp messages per UTC day, all together: the channel's own spend guard, inside `dailyCallCap`. */
  dailyWhatsAppCap: number;
  /**
   * Shard items each counter every send writes is split over (the day's caps, the country's hour, an API
   * key's minute and day): lib/abuse/sharded-counter.ts. 1 keeps one item per counter.
   */
  counterShards: number;
  /**
   * The shard count in force before a UTC day, while a change of `counterShards` waits for it: each shard's
   * share of a cap depends on the count, so a count changed within a window would let its counters admit
   * more than the cap. Windows (minutes, hours, days) that begin before `from` keep `shards`.
   */
  counterShardsBefore?: { shards: number; day: string; from: number } | undefined;
  fraudGuard: {
    /** National digits after the country calling code that make a prefix: 3 → +1202. */
    prefixDigits: number;
    windowMinutes: number;
    /** Calls by one API key in a judged window before that key's calls are judged. */
    minCalls: number;
    /** Calls by all keys together in a judged window before the range is judged for everyone. */
    globalMinCalls: number;
    minApprovalRate: number;
    pauseMinutes: number;
  };
}

/** A short list of countries with little international revenue-share fraud; add yours (e.g. BR,IN,MX). */
export const DEFAULT_ALLOWED_COUNTRIES = 'US,CA,GB,IE,FR,DE,ES,IT,PT,NL,BE,LU,AT,CH,SE,NO,DK,FI,AU,NZ,JP';
export const DEFAULT_ALLOWED_NUMBER_TYPES = 'MOBILE,FIXED_LINE,FIXED_LINE_OR_MOBILE';

/** A whole number in [min, max]; environment values are strings, tenant settings strings or numbers. */
const intIn = (min: number, max: number) => z.coerce.number().check(z.int(), z.gte(min), z.lte(max));

const integer = (fallback: number, min: number, max: number) => z._default(intIn(min, max), fallback);

const boolText = z.pipe(
  z.enum(['true', 'false', '1', '0']),
  z.transform((value) => value === 'true' || value === '1'),
);

const bool = (fallback: boolean) => z._default(boolText, fallback);

const list = (fallback: string, item: RegExp) =>
  z.pipe(
    z._default(z.string(), fallback),
    z.pipe(
      z.transform((value: string) =>
        value
          .split(',')
          .map((entry) => entry.trim().toUpperCase())
          .filter(Boolean),
      ),
      z.array(z.string().check(z.regex(item))),
    ),
  );

/** Channels, comma-separated (`voice,sms`): at least one, each once. */
const channelList = z.pipe(
  z.string(),
  z.pipe(
    z.transform((value: string) =>
      value
        .split(',')
        .map((entry) => entry.trim().toLowerCase())
        .filter(Boolean),
    ),
    z.array(z.enum(CHANNELS, { error: `must be among ${CHANNELS.join(', ')}` })).check(
      z.minLength(1, 'must name at least one channel'),
      z.refine((channels) => new Set(channels).size === channels.length, {
        message: 'must name each channel once',
      }),
    ),
  ),
);

/**
 * The rules of the settings a tenant may set for itself (lib/verification/tenant-admin.ts), the very ones the
 * stack's own variables are checked with below: one rule per setting, no twin.
 */
const RULES = {
  APP_NAME: z.string().check(z.minLength(1), z.maxLength(60), z.regex(/^[\p{L}\p{N} .'&-]+$/u)),
  CODE_LENGTH: intIn(4, 10),
  CODE_TTL_SECONDS: intIn(60, 3600),
  DEFAULT_LOCALE: z.enum(LOCALES),
  CHANNELS: channelList,
  FALLBACK: boolText,
  API_KEY_MAX_PER_DAY: intIn(1, 1_000_000_000),
} as const;

const fraction = (fallback: number) => z._default(z.coerce.number().check(z.gte(0), z.lte(1)), fallback);

/** A DNS host name in lower case (punycode for IDNs): what WebOTP's `@<domain>` line names. */
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

const E164 = /^\+[1-9][0-9]{6,14}$/;

/** The text of a JSON setting, parsed: empty means an empty object; anything not JSON is an issue naming `example`. */
const jsonText = (example: string) =>
  z.transform((value: string, ctx) => {
    if (value.trim() === '') return {};
    try {
      return JSON.parse(value) as unknown;
    } catch {
      ctx.issues.push({ code: 'custom', input: value, message: `must be a JSON object such as ${example}` });
      return z.NEVER;
    }
  });

/** FROM_NUMBERS: a JSON object from country code (or `*`) to an E.164 number; empty means none. */
const callerIds = z.optional(
  z.pipe(
    z.string(),
    z.pipe(
      jsonText('{"GB":"+447700900000","*":"+14155550100"}'),
      z
        .record(z.string(), z.string().check(z.regex(E164, 'numbers must be E.164, such as +14155550100')))
        .check(
          z.refine((map) => Object.keys(map).every((key) => /^([A-Z]{2}|\*)$/.test(key)), {
            message: 'keys must be ISO 3166 alpha-2 country codes (upper case) or "*"',
          }),
        ),
    ),
  ),
);

/** WEBHOOK_ALLOWED_CIDRS: comma-separated IPv4 or IPv6 CIDRs (Plivo's published source ranges). */
const cidrs = z.pipe(
  z._default(z.string(), ''),
  z.pipe(
    z.transform((value: string) =>
      value
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    ),
    z.array(z.string().check(z.refine(isCidr, { message: 'must be IPv4 or IPv6 CIDRs, comma-separated' }))),
  ),
);

/** Meta's template names: lower-case letters, digits and underscores, at most 512 characters. */
const TEMPLATE_NAME = /^[a-z0-9_]{1,512}$/;

/** Meta's language codes: `en`, `en_US`, `pt_BR`, `zh_HK`, `fil`... */
const LANGUAGE_CODE = /^[a-z]{2,3}(_[A-Z]{2,3})?$/;

/** An optional setting the stack may leave blank (it sets every variable): empty means unset. */
const blankable = (pattern: RegExp, message: string) =>
  z.optional(z.string().check(z.refine((value) => value === '' || pattern.test(value), { message })));

/** WHATSAPP_LANGUAGES: a JSON object from our locales to Meta's language codes, merged over the defaults. */
const whatsappLanguages = z.optional(
  z.pipe(
    z.string(),
    z.pipe(
      jsonText('{"es-US":"es_MX","pt-BR":"pt_BR"}'),
      z
        .record(
          z.string(),
          z
            .string()
            .check(z.regex(LANGUAGE_CODE, "values must be Meta's language codes, such as en_US or de")),
        )
        .check(
          z.refine((map) => Object.keys(map).every((key) => (LOCALES as readonly string[]).includes(key)), {
            message: `keys must be locales of the service: ${LOCALES.join(', ')}`,
          }),
        ),
    ),
  ),
);

const SHARDS_BEFORE = /^([1-9][0-9]?|100)@([0-9]{4}-[0-9]{2}-[0-9]{2})$/;

/** COUNTER_SHARDS_BEFORE: empty, or "<count 1-100>@<YYYY-MM-DD>", a real UTC day. */
const shardsBefore = z.optional(
  z.pipe(
    z.string(),
    z.transform((value: string, ctx) => {
      if (value.trim() === '') return undefined;
      const [, shards, day] = SHARDS_BEFORE.exec(value.trim()) ?? [];
      const from = Date.parse(`${day}T00:00:00Z`);
      if (!shards || !day || Number.isNaN(from) || new Date(from).toISOString().slice(0, 10) !== day) {
        ctx.issues.push({
          code: 'custom',
          input: value,
          message: 'must be "<shard count 1-100>@<YYYY-MM-DD>", such as 1@2026-12-08',
        });
        return z.NEVER;
      }
      return { shards: Number(shards), day, from };
    }),
  ),
);

const httpUrl = z.pipe(
  z.url({ protocol: /^https?$/ }),
  z.transform((value) => value.replace(/\/+$/, '')),
);

const envSchema = z.object({
  TABLE_NAME: z.optional(z.string().check(z.minLength(1))),
  DYNAMODB_ENDPOINT: z.optional(httpUrl),
  AWS_ACCESS_KEY_ID: z.optional(z.string()),
  AWS_SECRET_ACCESS_KEY: z.optional(z.string()),
  PUBLIC_URL: httpUrl,
  WEBHOOK_ALLOWED_CIDRS: cidrs,
  APP_NAME: z._default(RULES.APP_NAME, 'Voice OTP'),
  CODE_LENGTH: z._default(RULES.CODE_LENGTH, 6),
  CODE_TTL_SECONDS: z._default(RULES.CODE_TTL_SECONDS, 300),
  MAX_ATTEMPTS: integer(5, 1, 10),
  RETENTION_SECONDS: integer(86_400, 0, 30 * 86_400),
  DEFAULT_LOCALE: z._default(RULES.DEFAULT_LOCALE, 'en-US'),
  PLIVO_API_URL: z._default(httpUrl, 'https://api.plivo.com'),
  PLIVO_FROM_NUMBER: z._default(z.string().check(z.regex(E164)), '+14155550100'),
  // Its "*" is the default caller ID; without one, PLIVO_FROM_NUMBER is (the single-number form).
  FROM_NUMBERS: callerIds,
  PLIVO_TIMEOUT_MS: integer(4000, 500, 10_000),
  RING_TIMEOUT_SECONDS: integer(30, 5, 120),
  CALL_TIME_LIMIT_SECONDS: integer(120, 30, 600),
  CHANNELS: z._default(RULES.CHANNELS, [...CHANNELS]),
  DEFAULT_CHANNEL: z._default(z.enum(CHANNELS), 'voice'),
  FALLBACK: z._default(RULES.FALLBACK, true),
  // Empty: none (the stack sets every variable, blank when unused).
  SMS_WEBOTP_DOMAIN: z.optional(
    z.string().check(
      z.refine((value) => value === '' || HOST_NAME.test(value), {
        message: 'must be a lower-case host name, such as example.com',
      }),
    ),
  ),
  // WhatsApp: all three empty or unset leave the channel off (checked together in loadConfig).
  WHATSAPP_FROM_NUMBER: blankable(E164, 'must be E.164, such as +14155550100'),
  WHATSAPP_TEMPLATE: blankable(
    TEMPLATE_NAME,
    "must be the template's name at Meta: lower-case letters, digits and underscores",
  ),
  WHATSAPP_LANGUAGES: whatsappLanguages,
  WHATSAPP_FALLBACK: z._default(z.enum(FALLBACK_CHANNELS), 'sms'),
  WEBHOOK_ALLOW_LOCALHOST: bool(false),
  WEBHOOK_QUEUE_URL: z.optional(httpUrl),
  MAX_REPEATS: integer(3, 0, 10),
  REQUIRE_KEYPRESS: bool(false),
  ALLOWED_COUNTRIES: list(DEFAULT_ALLOWED_COUNTRIES, /^([A-Z]{2}|\*)$/),
  BLOCKED_PREFIXES: list('', /^\+[0-9]{1,14}$/),
  ALLOWED_NUMBER_TYPES: list(
    DEFAULT_ALLOWED_NUMBER_TYPES,
    /^(MOBILE|FIXED_LINE|FIXED_LINE_OR_MOBILE|VOIP|PERSONAL_NUMBER|TOLL_FREE|PREMIUM_RATE|SHARED_COST|UAN|PAGER|VOICEMAIL)$/,
  ),
  PHONE_MIN_GAP_SECONDS: integer(30, 0, 3600),
  PHONE_MAX_PER_10_MINUTES: integer(3, 1, 1_000_000),
  PHONE_MAX_PER_DAY: integer(10, 1, 1_000_000),
  PHONE_MAX_GUESSES_PER_DAY: integer(25, 1, 1_000_000),
  API_KEY_MAX_PER_MINUTE: integer(60, 1, 10_000_000),
  API_KEY_MAX_PER_DAY: z._default(RULES.API_KEY_MAX_PER_DAY, 5000),
  COUNTRY_MAX_PER_HOUR: integer(1000, 1, 100_000_000),
  DAILY_CALL_CAP: integer(10_000, 1, 1_000_000_000),
  DAILY_SMS_CAP: integer(5000, 1, 1_000_000_000),
  DAILY_WHATSAPP_CAP: integer(5000, 1, 1_000_000_000),
  // At most 100: a refused send reads the other shards in one BatchGetItem, which takes 100 keys.
  COUNTER_SHARDS: integer(1, 1, 100),
  // "<count>@<YYYY-MM-DD>": the count before that UTC day (a change of COUNTER_SHARDS takes effect then).
  COUNTER_SHARDS_BEFORE: shardsBefore,
  FRAUD_GUARD_PREFIX_DIGITS: integer(3, 0, 8),
  FRAUD_GUARD_WINDOW_MINUTES: integer(10, 1, 1440),
  FRAUD_GUARD_MIN_CALLS: integer(20, 1, 1_000_000_000),
  FRAUD_GUARD_GLOBAL_MIN_CALLS: integer(100, 1, 1_000_000_000),
  FRAUD_GUARD_MIN_APPROVAL_RATE: fraction(0.2),
  FRAUD_GUARD_PAUSE_MINUTES: integer(60, 1, 10_080),
  EVENT_BUS_NAME: z.optional(z.string().check(z.minLength(1))),
});

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = z.safeParse(envSchema, env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  const whatsapp = whatsappSettings(e);
  // WhatsApp is sent on only with its settings; a stack without them refuses it (403 channel_not_allowed).
  const channels = e.CHANNELS.filter((channel) => channel !== 'whatsapp' || whatsapp !== undefined);
  if (!channels.includes(e.DEFAULT_CHANNEL)) {
    throw new Error(
      e.DEFAULT_CHANNEL === 'whatsapp' && !whatsapp
        ? 'Invalid configuration: DEFAULT_CHANNEL: whatsapp needs WHATSAPP_FROM_NUMBER and WHATSAPP_TEMPLATE'
        : `Invalid configuration: DEFAULT_CHANNEL: must be one of CHANNELS (${e.CHANNELS.join(', ')})`,
    );
  }
  return {
    tableName: e.TABLE_NAME,
    dynamodbEndpoint: e.DYNAMODB_ENDPOINT,
    dynamodbCredentials: e.DYNAMODB_ENDPOINT
      ? endpointCredentials(e.AWS_ACCESS_KEY_ID, e.AWS_SECRET_ACCESS_KEY)
      : undefined,
    publicUrl: e.PUBLIC_URL,
    webhookAllowedCidrs: e.WEBHOOK_ALLOWED_CIDRS,
    appName: e.APP_NAME,
    codeLength: e.CODE_LENGTH,
    codeTtlSeconds: e.CODE_TTL_SECONDS,
    maxAttempts: e.MAX_ATTEMPTS,
    retentionSeconds: e.RETENTION_SECONDS,
    defaultLocale: e.DEFAULT_LOCALE,
    plivo: {
      apiUrl: e.PLIVO_API_URL,
      fromNumbers: { '*': e.PLIVO_FROM_NUMBER, ...(e.FROM_NUMBERS ?? {}) },
      timeoutMs: e.PLIVO_TIMEOUT_MS,
      ringTimeoutSeconds: e.RING_TIMEOUT_SECONDS,
      timeLimitSeconds: e.CALL_TIME_LIMIT_SECONDS,
    },
    channels,
    defaultChannel: e.DEFAULT_CHANNEL,
    fallback: e.FALLBACK,
    // An empty value (a stack setting left blank) means none.
    sms: { webOtpDomain: e.SMS_WEBOTP_DOMAIN || undefined },
    whatsapp,
    webhooks: { allowLocalhost: e.WEBHOOK_ALLOW_LOCALHOST, queueUrl: e.WEBHOOK_QUEUE_URL },
    voice: { maxRepeats: e.MAX_REPEATS, requireKeypress: e.REQUIRE_KEYPRESS },
    abuse: {
      allowedCountries: e.ALLOWED_COUNTRIES,
      blockedPrefixes: e.BLOCKED_PREFIXES,
      allowedNumberTypes: e.ALLOWED_NUMBER_TYPES,
      phoneMinGapSeconds: e.PHONE_MIN_GAP_SECONDS,
      phoneMaxPer10Minutes: e.PHONE_MAX_PER_10_MINUTES,
      phoneMaxPerDay: e.PHONE_MAX_PER_DAY,
      phoneMaxGuessesPerDay: e.PHONE_MAX_GUESSES_PER_DAY,
      apiKeyMaxPerMinute: e.API_KEY_MAX_PER_MINUTE,
      apiKeyMaxPerDay: e.API_KEY_MAX_PER_DAY,
      countryMaxPerHour: e.COUNTRY_MAX_PER_HOUR,
      dailyCallCap: e.DAILY_CALL_CAP,
      dailySmsCap: e.DAILY_SMS_CAP,
      dailyWhatsAppCap: e.DAILY_WHATSAPP_CAP,
      counterShards: e.COUNTER_SHARDS,
      counterShardsBefore: e.COUNTER_SHARDS_BEFORE,
      fraudGuard: {
        prefixDigits: e.FRAUD_GUARD_PREFIX_DIGITS,
        windowMinutes: e.FRAUD_GUARD_WINDOW_MINUTES,
        minCalls: e.FRAUD_GUARD_MIN_CALLS,
        globalMinCalls: e.FRAUD_GUARD_GLOBAL_MIN_CALLS,
        minApprovalRate: e.FRAUD_GUARD_MIN_APPROVAL_RATE,
        pauseMinutes: e.FRAUD_GUARD_PAUSE_MINUTES,
      },
    },
    eventBusName: e.EVENT_BUS_NAME,
  };
}

/** The WhatsApp settings go together: a number without a template (or the reverse) is a mistake, not "off". */
function whatsappSettings(e: z.infer<typeof envSchema>): WhatsAppSettings | undefined {
  const { WHATSAPP_FROM_NUMBER: fromNumber, WHATSAPP_TEMPLATE: template } = e;
  if (!fromNumber && !template) return undefined;
  if (!fromNumber || !template) {
    throw new Error(
      'Invalid configuration: set both WHATSAPP_FROM_NUMBER and WHATSAPP_TEMPLATE to turn WhatsApp on, or neither',
    );
  }
  return {
    fromNumber,
    template,
    languages: { ...DEFAULT_WHATSAPP_LANGUAGES, ...(e.WHATSAPP_LANGUAGES ?? {}) },
    fallback: e.WHATSAPP_FALLBACK,
  };
}

function endpointCredentials(accessKeyId = '', secretAccessKey = ''): Config['dynamodbCredentials'] {
  if (!accessKeyId && !secretAccessKey) return undefined;
  if (!accessKeyId || !secretAccessKey) {
    throw new Error(
      'Invalid configuration: with DYNAMODB_ENDPOINT, set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither',
    );
  }
  return { accessKeyId, secretAccessKey };
}

/** What a tenant may set for itself (`npm run tenants -- set`); each setting left unset is the stack's. */
export interface TenantSettings {
  appName?: string;
  codeLength?: number;
  codeTtlSeconds?: number;
  defaultLocale?: Locale;
  /** The channels its sends may use, among the stack's. */
  channels?: Channel[];
  /** Whether a send that names no `fallback` may use the other channel once. */
  fallback?: boolean;
  /** Sends per UTC day, at most the stack's API_KEY_MAX_PER_DAY. */
  maxPerDay?: number;
}

export type TenantSetting = keyof TenantSettings;

/** Each tenant setting: its command-line flag, and the stack variable whose rule checks it. */
export const TENANT_SETTINGS: Record<TenantSetting, { flag: string; variable: keyof typeof RULES }> = {
  appName: { flag: '--app-name', variable: 'APP_NAME' },
  codeLength: { flag: '--code-length', variable: 'CODE_LENGTH' },
  codeTtlSeconds: { flag: '--code-ttl-seconds', variable: 'CODE_TTL_SECONDS' },
  defaultLocale: { flag: '--default-locale', variable: 'DEFAULT_LOCALE' },
  channels: { flag: '--channels', variable: 'CHANNELS' },
  fallback: { flag: '--fallback', variable: 'FALLBACK' },
  maxPerDay: { flag: '--max-per-day', variable: 'API_KEY_MAX_PER_DAY' },
};

/**
 * The stack's settings a tenant's are held to: a tenant may narrow its channels, lower its daily cap and
 * shorten its codes' lifetime (the fraud guard judges a window once every code sent in it has expired), never
 * go past the stack's.
 */
export interface TenantLimits {
  channels: Channel[];
  codeTtlSeconds: number;
  apiKeyMaxPerDay: number;
}

export const tenantLimits = (config: Config): TenantLimits => ({
  channels: config.channels,
  codeTtlSeconds: config.codeTtlSeconds,
  apiKeyMaxPerDay: config.abuse.apiKeyMaxPerDay,
});

/** Settings to write, and settings to unset (back to the stack's). */
export interface TenantSettingsChange {
  set: TenantSettings;
  unset: TenantSetting[];
}

/**
 * Checks tenant settings given as text, as typed on the command line (numbers and booleans are read as their
 * text): each by its stack variable's rule, then against the stack's limits. An empty value unsets the
 * setting. Throws a 400 `invalid_request` naming the setting and its flag; nothing is to be written then.
 */
export function parseTenantSettings(
  input: Record<string, unknown>,
  limits: TenantLimits,
): TenantSettingsChange {
  const set: Record<string, unknown> = {};
  const unset: TenantSetting[] = [];
  const problems: string[] = [];
  for (const [name, raw] of Object.entries(input)) {
    if (!Object.hasOwn(TENANT_SETTINGS, name)) {
      problems.push(
        `${name.slice(0, 40)}: not a tenant setting (${Object.keys(TENANT_SETTINGS).join(', ')})`,
      );
      continue;
    }
    const setting = TENANT_SETTINGS[name as TenantSetting];
    const label = `${name} (${setting.flag})`;
    if (!['string', 'number', 'boolean'].includes(typeof raw)) {
      problems.push(`${label}: must be text`);
      continue;
    }
    const text = String(raw).trim();
    if (text === '') {
      unset.push(name as TenantSetting);
      continue;
    }
    const parsed = z.safeParse(RULES[setting.variable], text);
    if (!parsed.success) problems.push(`${label}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    else set[name] = parsed.data;
  }
  const settings = set as TenantSettings;
  if (settings.maxPerDay !== undefined && settings.maxPerDay > limits.apiKeyMaxPerDay)
    problems.push(
      `maxPerDay (--max-per-day): at most the stack's API_KEY_MAX_PER_DAY, ${limits.apiKeyMaxPerDay}`,
    );
  if (settings.codeTtlSeconds !== undefined && settings.codeTtlSeconds > limits.codeTtlSeconds)
    problems.push(
      `codeTtlSeconds (--code-ttl-seconds): at most the stack's CODE_TTL_SECONDS, ${limits.codeTtlSeconds}`,
    );
  const foreign = settings.channels?.filter((channel) => !limits.channels.includes(channel)) ?? [];
  if (foreign.length > 0)
    problems.push(`channels (--channels): the stack allows only ${limits.channels.join(', ')}`);
  if (problems.length > 0) throw invalidRequest(`Invalid tenant settings: ${problems.join('; ')}.`);
  return { set: settings, unset };
}
