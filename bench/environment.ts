import { METRICS_NAMESPACE, SERVICE_NAME } from '#platform/metrics.ts';
import { readSettings } from '../infra/settings.ts';
import type { DynamoDbConnection } from '../local/dynamodb-local.ts';
import { BENCH_WHATSAPP } from './events.ts';

/**
 * Settings changed for the run, within lib/platform/config.ts's ranges. Every rate limit and cap is raised:
 * thousands of sends to a handful of number ranges from one API key would otherwise be refused, and the
 * benchmark would measure refusals instead of the service.
 */
export const BENCH_SETTINGS = {
  PHONE_MIN_GAP_SECONDS: '0',
  PHONE_MAX_PER_10_MINUTES: '1000000',
  PHONE_MAX_PER_DAY: '1000000',
  PHONE_MAX_GUESSES_PER_DAY: '1000000',
  API_KEY_MAX_PER_MINUTE: '1000000',
  API_KEY_MAX_PER_DAY: '1000000',
  COUNTRY_MAX_PER_HOUR: '1000000',
  DAILY_CALL_CAP: '1000000',
  DAILY_SMS_CAP: '1000000',
  DAILY_WHATSAPP_CAP: '1000000',
  FRAUD_GUARD_MIN_CALLS: '1000000',
  FRAUD_GUARD_GLOBAL_MIN_CALLS: '1000000',
  // The longest code lifetime: a verification sent early in a phase is still checkable at its end.
  CODE_TTL_SECONDS: '3600',
} as const;

/** Where the local stand-ins for AWS and Plivo are. */
export interface LocalResources {
  dynamodb: DynamoDbConnection;
  tableName: string;
  /** PUBLIC_URL: webhook URLs are built and their signatures checked against it. */
  publicUrl: string;
  keyRingSecret: string;
  plivo: { apiUrl: string; authId: string; authToken: string };
}

/**
 * The environment the stack gives each function (infra/voice-otp-stack.ts: the settings' function
 * environment and Powertools' variables, defaults throughout), with the AWS and Plivo endpoints and secret
 * ids replaced by their local stand-ins, as local/stack.ts wires them, and the limits raised.
 */
export function functionEnvironment(local: LocalResources): Record<string, string> {
  // WhatsApp on, as an operator turns it on: with the number and template the bench's simulated Plivo
  // account has (bench/plivo-simulator.ts). The stack's CHANNELS then include it.
  const whatsapp: Record<string, unknown> = {
    whatsappFromNumber: BENCH_WHATSAPP.number,
    whatsappTemplate: BENCH_WHATSAPP.template,
  };
  const settings = readSettings((key) => whatsapp[key]);
  return {
    ...settings.functionEnvironment,
    POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    POWERTOOLS_LOG_LEVEL: settings.logLevel,
    AWS_REGION: 'us-east-1',
    TABLE_NAME: local.tableName,
    DYNAMODB_ENDPOINT: local.dynamodb.endpoint,
    AWS_ACCESS_KEY_ID: local.dynamodb.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: local.dynamodb.credentials.secretAccessKey,
    PUBLIC_URL: local.publicUrl,
    KEYRING: local.keyRingSecret,
    PLIVO_API_URL: local.plivo.apiUrl,
    PLIVO_AUTH_ID: local.plivo.authId,
    PLIVO_AUTH_TOKEN: local.plivo.authToken,
    // The events function's bus, answered by the same local server (bench/plivo-simulator.ts).
    EVENT_BUS_NAME: 'voice-otp-bench',
    AWS_ENDPOINT_URL_EVENTBRIDGE: local.plivo.apiUrl,
    // Its webhook delivery queue: never called here (the bench's API key sets no webhook), but required.
    WEBHOOK_QUEUE_URL: `${local.plivo.apiUrl}/000000000000/voice-otp-bench-deliveries`,
    ...BENCH_SETTINGS,
  };
}
