import { en } from 'zod/locales';
import * as z from 'zod/mini';
import { isCidr } from './cidr.ts';
import { LOCALES, type Locale } from './locales.ts';

// zod/mini ships without messages; a bad deployment deserves "Too big: expected number to be <=10".
// Imported by name: `z.locales.en()` would bundle every locale zod has (about 280 KiB).
z.config(en());

/** How a code reaches the phone: the settings choose among these, and each verification keeps one. */
export const CHANNELS = ['voice', 'sms'] as const;
export type Channel = (typeof CHANNELS)[number];

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
  /** The channel a send uses when it names none. */
  defaultChannel: Channel;
  /** Whether a send that names no `fallback` may use the other channel once (stored on the verification). */
  fallback: boolean;
  sms: {
    /** With it, the SMS ends with the WebOTP line `@<domain> #<code>` (a host name, no scheme or port). */
    webOtpDomain: string | undefined;
  };
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

const integer = (fallback: number, min: number, max: number) =>
  z._default(z.coerce.number().check(z.int(), z.gte(min), z.lte(max)), fallback);

const bool = (fallback: boolean) =>
  z.pipe(
    z._default(z.enum(['true', 'false', '1', '0']), fallback ? 'true' : 'false'),
    z.transform((value) => value === 'true' || value === '1'),
  );

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

const fraction = (fallback: number) => z._default(z.coerce.number().check(z.gte(0), z.lte(1)), fallback);

/** A DNS host name in lower case (punycode for IDNs): what WebOTP's `@<domain>` line names. */
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

const E164 = /^\+[1-9][0-9]{6,14}$/;

/** FROM_NUMBERS: a JSON object from country code (or `*`) to an E.164 number; empty means none. */
const callerIds = z.optional(
  z.pipe(
    z.string(),
    z.pipe(
      z.transform((value: string, ctx) => {
        if (value.trim() === '') return {};
        try {
          return JSON.parse(value) as unknown;
        } catch {
          ctx.issues.push({
            code: 'custom',
            input: value,
            message: 'must be a JSON object such as {"GB":"+447700900000","*":"+14155550100"}',
          });
          return z.NEVER;
        }
      }),
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
  APP_NAME: z._default(
    z.string().check(z.minLength(1), z.maxLength(60), z.regex(/^[\p{L}\p{N} .'&-]+$/u)),
    'Voice OTP',
  ),
  CODE_LENGTH: integer(6, 4, 10),
  CODE_TTL_SECONDS: integer(300, 60, 3600),
  MAX_ATTEMPTS: integer(5, 1, 10),
  RETENTION_SECONDS: integer(86_400, 0, 30 * 86_400),
  DEFAULT_LOCALE: z._default(z.enum(LOCALES), 'en-US'),
  PLIVO_API_URL: z._default(httpUrl, 'https://api.plivo.com'),
  PLIVO_FROM_NUMBER: z._default(z.string().check(z.regex(E164)), '+14155550100'),
  // Its "*" is the default caller ID; without one, PLIVO_FROM_NUMBER is (the single-number form).
  FROM_NUMBERS: callerIds,
  PLIVO_TIMEOUT_MS: integer(4000, 500, 10_000),
  RING_TIMEOUT_SECONDS: integer(30, 5, 120),
  CALL_TIME_LIMIT_SECONDS: integer(120, 30, 600),
  DEFAULT_CHANNEL: z._default(z.enum(CHANNELS), 'voice'),
  FALLBACK: bool(true),
  // Empty: none (the stack sets every variable, blank when unused).
  SMS_WEBOTP_DOMAIN: z.optional(
    z.string().check(
      z.refine((value) => value === '' || HOST_NAME.test(value), {
        message: 'must be a lower-case host name, such as example.com',
      }),
    ),
  ),
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
  API_KEY_MAX_PER_DAY: integer(5000, 1, 1_000_000_000),
  COUNTRY_MAX_PER_HOUR: integer(1000, 1, 100_000_000),
  DAILY_CALL_CAP: integer(10_000, 1, 1_000_000_000),
  DAILY_SMS_CAP: integer(5000, 1, 1_000_000_000),
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
    defaultChannel: e.DEFAULT_CHANNEL,
    fallback: e.FALLBACK,
    // An empty value (a stack setting left blank) means none.
    sms: { webOtpDomain: e.SMS_WEBOTP_DOMAIN || undefined },
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

function endpointCredentials(accessKeyId = '', secretAccessKey = ''): Config['dynamodbCredentials'] {
  if (!accessKeyId && !secretAccessKey) return undefined;
  if (!accessKeyId || !secretAccessKey) {
    throw new Error(
      'Invalid configuration: with DYNAMODB_ENDPOINT, set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither',
    );
  }
  return { accessKeyId, secretAccessKey };
}
