import * as z from 'zod/mini';
import { LOCALES, type Locale } from './messages.ts';

/**
 * Every setting of the service, read from the environment once per container and validated at cold start,
 * so a bad deployment fails on its first invocation with a message naming the variable, not mid-request.
 * Secrets (hashing and sealing keys, Plivo credentials) are not here: see lib/secrets.ts.
 */
export interface Config {
  /** Unset for the answer function, which needs no database. */
  tableName: string | undefined;
  /** Set only for DynamoDB Local; the AWS SDK finds the real endpoint by itself. */
  dynamodbEndpoint: string | undefined;
  /** Base of the webhook URLs given to Plivo, e.g. https://abc.execute-api.eu-west-1.amazonaws.com/prod */
  publicUrl: string;
  appName: string;
  codeLength: number;
  codeTtlSeconds: number;
  maxAttempts: number;
  /** How long finished verifications stay readable (status lookups, late hangups) before TTL removes them. */
  retentionSeconds: number;
  defaultLocale: Locale;
  plivo: {
    apiUrl: string;
    fromNumber: string;
    timeoutMs: number;
    ringTimeoutSeconds: number;
    timeLimitSeconds: number;
  };
  voice: {
    maxRepeats: number;
    /** Ask the callee to press a key before the code is spoken: voicemail and robots never hear it. */
    requireKeypress: boolean;
  };
}

const integer = (fallback: number, min: number, max: number) =>
  z._default(z.coerce.number().check(z.int(), z.gte(min), z.lte(max)), fallback);

const bool = (fallback: boolean) =>
  z.pipe(
    z._default(z.enum(['true', 'false', '1', '0']), fallback ? 'true' : 'false'),
    z.transform((value) => value === 'true' || value === '1'),
  );

const httpUrl = z.pipe(
  z.url({ protocol: /^https?$/ }),
  z.transform((value) => value.replace(/\/+$/, '')),
);

const envSchema = z.object({
  TABLE_NAME: z.optional(z.string().check(z.minLength(1))),
  DYNAMODB_ENDPOINT: z.optional(httpUrl),
  PUBLIC_URL: httpUrl,
  APP_NAME: z._default(
    z.string().check(z.minLength(1), z.maxLength(60), z.regex(/^[\p{L}\p{N} .'&-]+$/u)),
    'Voice OTP',
  ),
  CODE_LENGTH: integer(6, 4, 10),
  CODE_TTL_SECONDS: integer(300, 60, 3600),
  MAX_ATTEMPTS: integer(5, 1, 10),
  RETENTION_SECONDS: integer(86_400, 0, 30 * 86_400),
  DEFAULT_LOCALE: z._default(z.enum(LOCALES as [Locale, ...Locale[]]), 'en-US'),
  PLIVO_API_URL: z._default(httpUrl, 'https://api.plivo.com'),
  PLIVO_FROM_NUMBER: z._default(z.string().check(z.regex(/^\+[1-9][0-9]{6,14}$/)), '+14155550100'),
  PLIVO_TIMEOUT_MS: integer(4000, 500, 10_000),
  RING_TIMEOUT_SECONDS: integer(30, 5, 120),
  CALL_TIME_LIMIT_SECONDS: integer(120, 30, 600),
  MAX_REPEATS: integer(3, 0, 10),
  REQUIRE_KEYPRESS: bool(false),
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
    publicUrl: e.PUBLIC_URL,
    appName: e.APP_NAME,
    codeLength: e.CODE_LENGTH,
    codeTtlSeconds: e.CODE_TTL_SECONDS,
    maxAttempts: e.MAX_ATTEMPTS,
    retentionSeconds: e.RETENTION_SECONDS,
    defaultLocale: e.DEFAULT_LOCALE,
    plivo: {
      apiUrl: e.PLIVO_API_URL,
      fromNumber: e.PLIVO_FROM_NUMBER,
      timeoutMs: e.PLIVO_TIMEOUT_MS,
      ringTimeoutSeconds: e.RING_TIMEOUT_SECONDS,
      timeLimitSeconds: e.CALL_TIME_LIMIT_SECONDS,
    },
    voice: { maxRepeats: e.MAX_REPEATS, requireKeypress: e.REQUIRE_KEYPRESS },
  };
}
