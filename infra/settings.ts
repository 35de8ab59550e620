import * as z from 'zod/mini';
import { type Config, loadConfig } from '#platform/config.ts';
import { plivoWebhookPeak, type WebhookFunction } from './webhook-capacity.ts';

// English zod messages ("Too big: expected … <=10") are switched on by lib/platform/config.ts, imported above.

/**
 * Every operator setting of the cloud stack, in one typed place. Each is read from CDK context
 * (`-c codeLength=8` on the command line, or `"context"` in cdk.json), has a default, and is validated at
 * synth time with an error naming the setting. To add one: a line in `infraSettings` (infrastructure) or in
 * `FUNCTION_ENVIRONMENT` (read by the functions), then use it in the stack.
 */
export interface Settings {
  stackName: string;
  /** Environment variables every function gets, validated by lib/platform/config.ts exactly as the Lambda will. */
  functionEnvironment: Record<string, string>;
  /** The functions' configuration as they will parse it (send's timeout follows Plivo's). */
  service: Config;
  logLevel: LogLevel;
  /** Active X-Ray tracing on the functions (X-Ray bills per trace recorded: see docs/deploying.md, "Costs"). */
  tracing: boolean;
  alarmEmail: string | undefined;
  /** AWS WAF on the REST API (the app routes); Plivo's webhooks are on the HTTP API, which WAF cannot guard. */
  waf: {
    enabled: boolean;
    /** Requests per client IP per 5 minutes on the app routes. */
    rateLimitPerFiveMinutes: number;
  };
  removalPolicy: 'retain' | 'destroy';
  deletionProtection: boolean;
  /** Per API key (usage plan): steady requests per second, burst, and quota. */
  throttle: { rateLimit: number; burstLimit: number };
  quota: { limit: number; period: 'DAY' | 'WEEK' | 'MONTH' };
  /**
   * HTTP API route throttle of each webhook function's routes, for all their callers together (webhooks carry
   * no API key): sized for Plivo's traffic at the daily call cap (infra/webhook-capacity.ts).
   */
  webhookThrottles: Record<WebhookFunction, { rateLimit: number; burstLimit: number }>;
  logRetentionDays: number;
  /**
   * Most deliver invocations at once (its SQS event source's maximum concurrency): app endpoints that hang
   * cannot take the account's Lambda concurrency from send, check and the webhooks.
   */
  deliverMaxConcurrency: number;
  /**
   * Reserved concurrency of each webhook function (answer and hangup), or undefined: a flood of sends (or a slow
   * Plivo holding send's environments) cannot then take the Lambda concurrency Plivo's webhooks need. Off by
   * default: reserving takes from the account's pool, which must keep 100 unreserved (SCALING.md 3.2).
   */
  webhookReservedConcurrency: number | undefined;
  customDomain: { domainName: string; certificateArn: string } | undefined;
  /** Sets API Gateway's account-wide CloudWatch Logs role for this region (see infra/api.ts). */
  apiGatewayLogsRole: boolean;
  alarms: {
    callFailureRate: number;
    smsFailureRate: number;
    whatsappFailureRate: number;
    approvalRate: number;
    approvalMinStarted: number;
    webhookRejectionRate: number;
  };
}

type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** CloudWatch Logs accepts only these retention periods (days). */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/**
 * Lambda keeps at least 100 of an account's concurrency unreserved; its default limit is 1,000 per Region. So
 * the two webhook functions may reserve at most 450 each there (a raised limit allows more, edit with care).
 */
const MAX_WEBHOOK_RESERVATION = (1000 - 100) / 2;
/**
 * How long a webhook request holds its environment at worst in normal operation: a cold start (about 0.5 s)
 * plus the signature check and one DynamoDB round trip, rounded up. Reserved concurrency below the peak rate
 * times this would throttle Plivo itself.
 */
const WEBHOOK_SECONDS_HELD = 1;

/** Context values are strings on the command line and JSON values in cdk.json: accept both. */
const integer = (fallback: number, min: number, max: number) =>
  z._default(z.coerce.number().check(z.int(), z.gte(min), z.lte(max)), fallback);
const ratio = (fallback: number) => z._default(z.coerce.number().check(z.gt(0), z.lt(1)), fallback);
const booleanLike = z.union([z.boolean(), z.enum(['true', 'false'])], { error: 'must be true or false' });
const isTrue = z.transform((value: boolean | 'true' | 'false') => value === true || value === 'true');
const flag = (fallback: boolean) => z.pipe(z._default(booleanLike, fallback), isTrue);
const optionalText = (pattern: RegExp, message: string) =>
  z.optional(z.string().check(z.regex(pattern, message)));

const infraSettings = z.object({
  stackName: z._default(z.string().check(z.regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/)), 'VoiceOtp'),
  logLevel: z._default(z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']), 'INFO'),
  tracing: flag(true),
  alarmEmail: optionalText(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'must be an email address'),
  waf: flag(false),
  // AWS WAF counts per client IP over 5 minutes; its minimum is 10.
  wafRateLimit: integer(1000, 10, 2_000_000_000),
  removalPolicy: z._default(z.enum(['retain', 'destroy']), 'retain'),
  // Defaults to on when the table is retained, off when it is destroyed with the stack.
  deletionProtection: z.optional(z.pipe(booleanLike, isTrue)),
  throttleRateLimit: integer(10, 1, 10_000),
  throttleBurstLimit: integer(20, 1, 5_000),
  quotaLimit: integer(10_000, 1, 1_000_000_000),
  quotaPeriod: z._default(z.enum(['DAY', 'WEEK', 'MONTH']), 'DAY'),
  answerRateLimit: integer(200, 1, 10_000),
  answerBurstLimit: integer(400, 1, 5_000),
  hangupRateLimit: integer(50, 1, 10_000),
  hangupBurstLimit: integer(100, 1, 5_000),
  // Lambda's bounds for an SQS event source's maximum concurrency.
  deliverMaxConcurrency: integer(20, 2, 1000),
  // 0: not reserved. Both webhook functions reserve this many each; at Lambda's default account limit of 1,000
  // two reservations of 450 leave the 100 unreserved Lambda requires.
  webhookReservedConcurrency: integer(0, 0, MAX_WEBHOOK_RESERVATION),
  logRetentionDays: z._default(
    z.coerce.number().check(
      z.refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
        message: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
      }),
    ),
    30,
  ),
  customDomain: optionalText(
    /^(?=.{4,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$/,
    'must be a lower-case host name',
  ),
  certificateArn: optionalText(
    /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[\w-]+$/,
    'must be an ACM ARN',
  ),
  apiGatewayLogsRole: flag(true),
  callFailureRateAlarm: ratio(0.25),
  smsFailureRateAlarm: ratio(0.25),
  // Numbers not on WhatsApp are refused (and fall back): a higher rate than SMS's is usual.
  whatsappFailureRateAlarm: ratio(0.5),
  approvalRateAlarm: ratio(0.2),
  approvalAlarmMinStarted: integer(50, 1, 1_000_000),
  webhookRejectionRateAlarm: ratio(0.1),
});

/** Settings that were replaced: a value left in cdk.json must not be dropped silently. */
const REPLACED: Record<string, string> = {
  webhookRateLimit: 'answerRateLimit and hangupRateLimit',
  webhookBurstLimit: 'answerBurstLimit and hangupBurstLimit',
  // The webhooks moved to the HTTP API, which AWS WAF cannot guard (infra/webhook-api.ts).
  wafWebhookRateLimit: "the webhook HTTP API's route throttles (answerRateLimit and hangupRateLimit)",
};

type InfraKey = keyof z.infer<typeof infraSettings>;

/**
 * Settings the functions read, each as: context key → environment variable, and how the value the functions
 * will use is written back. Ranges and defaults live in lib/platform/config.ts only; the stack sets every variable
 * explicitly so the console shows what runs.
 */
const FUNCTION_ENVIRONMENT: ReadonlyArray<{
  setting: string;
  variable: string;
  value: (c: Config) => string;
}> = [
  { setting: 'appName', variable: 'APP_NAME', value: (c) => c.appName },
  { setting: 'fromNumber', variable: 'PLIVO_FROM_NUMBER', value: (c) => c.plivo.fromNumbers['*'] ?? '' },
  // The default lives in PLIVO_FROM_NUMBER alone, so the two variables never disagree.
  {
    setting: 'fromNumbers',
    variable: 'FROM_NUMBERS',
    value: ({ plivo: { fromNumbers } }) => {
      const { '*': _default, ...byCountry } = fromNumbers;
      return JSON.stringify(byCountry);
    },
  },
  { setting: 'codeLength', variable: 'CODE_LENGTH', value: (c) => String(c.codeLength) },
  { setting: 'codeTtlSeconds', variable: 'CODE_TTL_SECONDS', value: (c) => String(c.codeTtlSeconds) },
  { setting: 'maxAttempts', variable: 'MAX_ATTEMPTS', value: (c) => String(c.maxAttempts) },
  { setting: 'retentionSeconds', variable: 'RETENTION_SECONDS', value: (c) => String(c.retentionSeconds) },
  { setting: 'defaultLocale', variable: 'DEFAULT_LOCALE', value: (c) => c.defaultLocale },
  { setting: 'plivoTimeoutMs', variable: 'PLIVO_TIMEOUT_MS', value: (c) => String(c.plivo.timeoutMs) },
  {
    setting: 'ringTimeoutSeconds',
    variable: 'RING_TIMEOUT_SECONDS',
    value: (c) => String(c.plivo.ringTimeoutSeconds),
  },
  {
    setting: 'callTimeLimitSeconds',
    variable: 'CALL_TIME_LIMIT_SECONDS',
    value: (c) => String(c.plivo.timeLimitSeconds),
  },
  { setting: 'maxRepeats', variable: 'MAX_REPEATS', value: (c) => String(c.voice.maxRepeats) },
  { setting: 'requireKeypress', variable: 'REQUIRE_KEYPRESS', value: (c) => String(c.voice.requireKeypress) },
  { setting: 'channels', variable: 'CHANNELS', value: (c) => c.channels.join(',') },
  { setting: 'defaultChannel', variable: 'DEFAULT_CHANNEL', value: (c) => c.defaultChannel },
  // Checked by the webhook functions themselves: the HTTP API in front of them cannot carry AWS WAF.
  {
    setting: 'webhookAllowedCidrs',
    variable: 'WEBHOOK_ALLOWED_CIDRS',
    value: (c) => c.webhookAllowedCidrs.join(','),
  },
  { setting: 'fallback', variable: 'FALLBACK', value: (c) => String(c.fallback) },
  {
    setting: 'smsWebOtpDomain',
    variable: 'SMS_WEBOTP_DOMAIN',
    value: (c) => c.sms.webOtpDomain ?? '',
  },
  // WhatsApp (docs/channels-and-fallback.md): off unless the number and the approved template are both set.
  {
    setting: 'whatsappFromNumber',
    variable: 'WHATSAPP_FROM_NUMBER',
    value: (c) => c.whatsapp?.fromNumber ?? '',
  },
  { setting: 'whatsappTemplate', variable: 'WHATSAPP_TEMPLATE', value: (c) => c.whatsapp?.template ?? '' },
  // The whole map the functions will use: the defaults with the operator's changes over them.
  {
    setting: 'whatsappLanguages',
    variable: 'WHATSAPP_LANGUAGES',
    value: (c) => (c.whatsapp ? JSON.stringify(c.whatsapp.languages) : ''),
  },
  {
    setting: 'whatsappFallback',
    variable: 'WHATSAPP_FALLBACK',
    value: (c) => c.whatsapp?.fallback ?? 'sms',
  },
  // Abuse defences (lib/abuse/abuse.ts, SECURITY.md).
  {
    setting: 'allowedCountries',
    variable: 'ALLOWED_COUNTRIES',
    value: (c) => c.abuse.allowedCountries.join(','),
  },
  {
    setting: 'blockedPrefixes',
    variable: 'BLOCKED_PREFIXES',
    value: (c) => c.abuse.blockedPrefixes.join(','),
  },
  {
    setting: 'allowedNumberTypes',
    variable: 'ALLOWED_NUMBER_TYPES',
    value: (c) => c.abuse.allowedNumberTypes.join(','),
  },
  {
    setting: 'phoneMinGapSeconds',
    variable: 'PHONE_MIN_GAP_SECONDS',
    value: (c) => String(c.abuse.phoneMinGapSeconds),
  },
  {
    setting: 'phoneMaxPer10Minutes',
    variable: 'PHONE_MAX_PER_10_MINUTES',
    value: (c) => String(c.abuse.phoneMaxPer10Minutes),
  },
  { setting: 'phoneMaxPerDay', variable: 'PHONE_MAX_PER_DAY', value: (c) => String(c.abuse.phoneMaxPerDay) },
  {
    setting: 'phoneMaxGuessesPerDay',
    variable: 'PHONE_MAX_GUESSES_PER_DAY',
    value: (c) => String(c.abuse.phoneMaxGuessesPerDay),
  },
  {
    setting: 'apiKeyMaxPerMinute',
    variable: 'API_KEY_MAX_PER_MINUTE',
    value: (c) => String(c.abuse.apiKeyMaxPerMinute),
  },
  {
    setting: 'apiKeyMaxPerDay',
    variable: 'API_KEY_MAX_PER_DAY',
    value: (c) => String(c.abuse.apiKeyMaxPerDay),
  },
  {
    setting: 'countryMaxPerHour',
    variable: 'COUNTRY_MAX_PER_HOUR',
    value: (c) => String(c.abuse.countryMaxPerHour),
  },
  { setting: 'dailyCallCap', variable: 'DAILY_CALL_CAP', value: (c) => String(c.abuse.dailyCallCap) },
  { setting: 'dailySmsCap', variable: 'DAILY_SMS_CAP', value: (c) => String(c.abuse.dailySmsCap) },
  {
    setting: 'dailyWhatsAppCap',
    variable: 'DAILY_WHATSAPP_CAP',
    value: (c) => String(c.abuse.dailyWhatsAppCap),
  },
  { setting: 'counterShards', variable: 'COUNTER_SHARDS', value: (c) => String(c.abuse.counterShards) },
  {
    setting: 'counterShardsBefore',
    variable: 'COUNTER_SHARDS_BEFORE',
    value: (c) =>
      c.abuse.counterShardsBefore
        ? `${c.abuse.counterShardsBefore.shards}@${c.abuse.counterShardsBefore.day}`
        : '',
  },
  {
    setting: 'fraudGuardPrefixDigits',
    variable: 'FRAUD_GUARD_PREFIX_DIGITS',
    value: (c) => String(c.abuse.fraudGuard.prefixDigits),
  },
  {
    setting: 'fraudGuardWindowMinutes',
    variable: 'FRAUD_GUARD_WINDOW_MINUTES',
    value: (c) => String(c.abuse.fraudGuard.windowMinutes),
  },
  {
    setting: 'fraudGuardMinCalls',
    variable: 'FRAUD_GUARD_MIN_CALLS',
    value: (c) => String(c.abuse.fraudGuard.minCalls),
  },
  {
    setting: 'fraudGuardGlobalMinCalls',
    variable: 'FRAUD_GUARD_GLOBAL_MIN_CALLS',
    value: (c) => String(c.abuse.fraudGuard.globalMinCalls),
  },
  {
    setting: 'fraudGuardMinApprovalRate',
    variable: 'FRAUD_GUARD_MIN_APPROVAL_RATE',
    value: (c) => String(c.abuse.fraudGuard.minApprovalRate),
  },
  {
    setting: 'fraudGuardPauseMinutes',
    variable: 'FRAUD_GUARD_PAUSE_MINUTES',
    value: (c) => String(c.abuse.fraudGuard.pauseMinutes),
  },
];

/** Every context key this file reads (docs/deploying.md lists them). */
const SETTING_NAMES: readonly string[] = [
  ...Object.keys(infraSettings.def.shape),
  ...FUNCTION_ENVIRONMENT.map((entry) => entry.setting),
];

export class SettingsError extends Error {
  override name = 'SettingsError';
}

/** Reads the settings through `context(key)` (the App's `node.tryGetContext`). Throws SettingsError. */
export function readSettings(context: (key: string) => unknown): Settings {
  const replaced = Object.entries(REPLACED).filter(([key]) => context(key) !== undefined);
  if (replaced.length > 0) {
    throw new SettingsError(describe(replaced.map(([key, now]) => ({ key, message: `replaced by ${now}` }))));
  }
  const raw = Object.fromEntries(SETTING_NAMES.map((key) => [key, context(key)]));
  const parsed = z.safeParse(infraSettings, raw);
  if (!parsed.success) {
    throw new SettingsError(
      describe(parsed.error.issues.map((issue) => ({ key: String(issue.path[0]), message: issue.message }))),
    );
  }
  const s = parsed.data;
  const service = readServiceConfig(raw);

  if (Boolean(s.customDomain) !== Boolean(s.certificateArn)) {
    throw new SettingsError(
      describe([{ key: 'customDomain', message: 'customDomain and certificateArn go together' }]),
    );
  }
  if (s.removalPolicy === 'destroy' && s.deletionProtection === true) {
    throw new SettingsError(
      describe([
        { key: 'deletionProtection', message: 'a protected table cannot be destroyed with the stack' },
      ]),
    );
  }
  for (const [burst, rate] of [
    ['throttleBurstLimit', 'throttleRateLimit'],
    ['answerBurstLimit', 'answerRateLimit'],
    ['hangupBurstLimit', 'hangupRateLimit'],
  ] as const) {
    if (s[burst] < s[rate])
      throw new SettingsError(describe([{ key: burst, message: `must be at least ${rate}` }]));
  }
  // Plivo must never be throttled or rate-limited at the daily call cap (infra/webhook-capacity.ts).
  const need = plivoWebhookPeak(service);
  const tooLow = [
    { key: 'answerRateLimit', value: s.answerRateLimit, need: need.answerPerSecond, unit: 'requests/s' },
    // Its value also throttles the delivery-report route (the hangup function's), in a bucket of its own.
    {
      key: 'hangupRateLimit',
      value: s.hangupRateLimit,
      need: Math.max(need.hangupPerSecond, need.messageStatusPerSecond),
      unit: 'requests/s',
    },
  ].filter((limit) => limit.value < Math.ceil(limit.need));
  // A reservation is also a ceiling: it must hold Plivo's peak for each function (hangup also serves SMS reports).
  if (s.webhookReservedConcurrency > 0) {
    const needed = Math.ceil(
      Math.max(need.answerPerSecond, need.hangupPerSecond + need.messageStatusPerSecond) *
        WEBHOOK_SECONDS_HELD,
    );
    if (s.webhookReservedConcurrency < needed)
      tooLow.push({
        key: 'webhookReservedConcurrency',
        value: s.webhookReservedConcurrency,
        need: needed,
        unit: 'concurrent executions (a reservation is also a ceiling)',
      });
  }
  if (tooLow.length > 0) {
    throw new SettingsError(
      describe(
        tooLow.map(({ key, need: needed, unit }) => ({
          key,
          message: `Plivo needs at least ${Math.ceil(needed)} ${unit} at dailyCallCap ${service.abuse.dailyCallCap} and dailySmsCap ${service.abuse.dailySmsCap}${service.whatsapp ? ` and dailyWhatsAppCap ${service.abuse.dailyWhatsAppCap}` : ''} (docs/deploying.md, "Webhook capacity")`,
        })),
      ),
    );
  }

  return {
    stackName: s.stackName,
    functionEnvironment: Object.fromEntries(
      FUNCTION_ENVIRONMENT.map((entry) => [entry.variable, entry.value(service)]),
    ),
    service,
    logLevel: s.logLevel,
    tracing: s.tracing,
    alarmEmail: s.alarmEmail,
    waf: { enabled: s.waf, rateLimitPerFiveMinutes: s.wafRateLimit },
    removalPolicy: s.removalPolicy,
    deletionProtection: s.deletionProtection ?? s.removalPolicy === 'retain',
    throttle: { rateLimit: s.throttleRateLimit, burstLimit: s.throttleBurstLimit },
    quota: { limit: s.quotaLimit, period: s.quotaPeriod },
    webhookThrottles: {
      answer: { rateLimit: s.answerRateLimit, burstLimit: s.answerBurstLimit },
      hangup: { rateLimit: s.hangupRateLimit, burstLimit: s.hangupBurstLimit },
    },
    logRetentionDays: s.logRetentionDays,
    deliverMaxConcurrency: s.deliverMaxConcurrency,
    webhookReservedConcurrency: s.webhookReservedConcurrency > 0 ? s.webhookReservedConcurrency : undefined,
    customDomain:
      s.customDomain && s.certificateArn
        ? { domainName: s.customDomain, certificateArn: s.certificateArn }
        : undefined,
    apiGatewayLogsRole: s.apiGatewayLogsRole,
    alarms: {
      callFailureRate: s.callFailureRateAlarm,
      smsFailureRate: s.smsFailureRateAlarm,
      whatsappFailureRate: s.whatsappFailureRateAlarm,
      approvalRate: s.approvalRateAlarm,
      approvalMinStarted: s.approvalAlarmMinStarted,
      webhookRejectionRate: s.webhookRejectionRateAlarm,
    },
  };
}

/** Validates the function settings with lib/platform/config.ts, so synth fails where the Lambda would. */
function readServiceConfig(raw: Record<string, unknown>): Config {
  const env: Record<string, string> = {
    // Stands in for the API's URL, which exists only after deployment; its shape is built by the stack.
    PUBLIC_URL: 'https://example.execute-api.us-east-1.amazonaws.com/prod',
  };
  for (const { setting, variable } of FUNCTION_ENVIRONMENT) {
    const value = raw[setting];
    // A JSON value in cdk.json (fromNumbers' map) reaches the function as its JSON text.
    if (value !== undefined && value !== null)
      env[variable] = typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  try {
    return loadConfig(env);
  } catch (error) {
    // lib/platform/config.ts names environment variables; the operator typed context keys.
    let message = (error as Error).message.replace(/^Invalid configuration: /, '');
    // Whole names only: COUNTER_SHARDS is also the start of COUNTER_SHARDS_BEFORE.
    for (const { setting, variable } of FUNCTION_ENVIRONMENT) {
      // The whole name only: FALLBACK is also the end of WHATSAPP_FALLBACK.
      message = message.replace(
        new RegExp(`(?<![A-Z_])${variable}(?![A-Z_])`, 'g'),
        `${setting} (${variable})`,
      );
    }
    throw new SettingsError(`Invalid settings: ${message}`);
  }
}

function describe(problems: Array<{ key: InfraKey | string; message: string }>): string {
  const lines = problems.map(({ key, message }) => `${key} (-c ${key}=…): ${message}`);
  return `Invalid settings: ${lines.join('; ')}`;
}
