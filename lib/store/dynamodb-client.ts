import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  awsServiceUnavailable,
  boundedClientOptions,
  type SdkError,
  type TimeBudget,
} from '#platform/aws-budget.ts';
import type { Config } from '#platform/config.ts';
import { ApiError, retryAfterSeconds } from '#platform/errors.ts';

/*
 * The DynamoDB client every store module shares: its time budget, its errors, and the table it speaks to.
 * The stores are split by concern (lib/store/dynamodb-verifications.ts, -phones, -counters, -idempotency,
 * -webhooks) so each function's bundle carries only the commands its handler issues.
 */

/** A time budget for the store's calls, and how long its client fails at once after one ran out of time. */
export type StoreTimeBudget = TimeBudget & { failFastMs: number };

/**
 * The time one DynamoDB call may take, so a store that stops answering becomes a 503 long before the
 * function's timeout (docs/api.md, "When DynamoDB does not answer"). Each attempt ends within `requestMs`, connecting
 * included; a call makes at most `attempts`, pausing up to `backoffMs(n)` before retry n.
 */
export const STORE_TIME_BUDGET: StoreTimeBudget = {
  connectMs: 500,
  requestMs: 1000,
  attempts: 3,
  backoffMs: (retry: number) => 100 * retry,
  /** After a call ran out of time, the container's next calls fail at once for this long (= Retry-After). */
  failFastMs: 1000,
};

/**
 * The region a DynamoDB endpoint (DynamoDB Local) is addressed in. DynamoDB Local keeps one database per
 * access key id and region, so every client of one stack (the service, the table's creator, the tests) must
 * agree: one function, AWS_REGION when set.
 */
export const endpointRegion = () => process.env.AWS_REGION ?? 'us-east-1';

export type DynamoDbCredentials = NonNullable<Config['dynamodbCredentials']>;

/** An endpoint's key pair when none is given (DynamoDB Local's usual one, shared with anyone who guesses it). */
export const DEFAULT_ENDPOINT_CREDENTIALS: DynamoDbCredentials = {
  accessKeyId: 'local',
  secretAccessKey: 'local',
};

/**
 * On AWS (no endpoint) the SDK's default credential chain. With an endpoint (DynamoDB Local), the key pair
 * given, else the shared default: DynamoDB Local keeps one database per access key id.
 */
export function createDocumentClient(
  options: {
    endpoint?: string | undefined;
    credentials?: DynamoDbCredentials | undefined;
    budget?: StoreTimeBudget | undefined;
  } = {},
): DynamoDBDocumentClient {
  const budget = options.budget ?? STORE_TIME_BUDGET;
  const client = new DynamoDBClient({
    ...boundedClientOptions(budget),
    ...(options.endpoint && {
      endpoint: options.endpoint,
      region: endpointRegion(),
      credentials: options.credentials ?? DEFAULT_ENDPOINT_CREDENTIALS,
    }),
  });
  failFastAfterTimeouts(client, budget.failFastMs);
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/**
 * The budget bounds one call; a request makes several, some best-effort after the call is placed. Once a
 * call has timed out, waiting the whole budget again for each of the others would take the function past
 * its timeout, so for a moment they fail at once (a 503, like the first).
 *
 * Proportionately: only when nothing has answered since the timed-out call began. A Lambda container
 * serves one request at a time, so there that is always the case and the worst case stays as budgeted; but
 * where one client serves many requests at once (the local stack), one slow call among answering ones says
 * the store is slow for that call, not down, and must not fail every request behind it. An answer ends
 * the pause at once.
 */
function failFastAfterTimeouts(client: DynamoDBClient, pauseMs: number) {
  let waitUntil = 0;
  let lastAnswerAt = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      const startedAt = Date.now();
      if (startedAt < waitUntil) {
        throw Object.assign(new Error('DynamoDB timed out moments ago; not waiting for it again yet.'), {
          name: 'TimeoutError',
        });
      }
      try {
        const out = await next(args);
        lastAnswerAt = Date.now();
        waitUntil = 0;
        return out;
      } catch (error) {
        const e = error as SdkError;
        // An error the store sent (a refused condition, a throttle) is an answer too.
        if (e.$metadata?.httpStatusCode) lastAnswerAt = Date.now();
        else if ((e.name === 'TimeoutError' || e.code === 'ETIMEDOUT') && lastAnswerAt <= startedAt)
          waitUntil = Date.now() + pauseMs;
        throw error;
      }
    },
    { step: 'initialize', name: 'failFastAfterTimeouts' },
  );
}

/** One document client per container, the table's name, and how long items outlive their codes. */
export interface TableClient {
  db: DynamoDBDocumentClient;
  tableName: string;
  retentionSeconds: number;
}

/**
 * The table for a function's configuration: one client per container, shared by the stores it builds. Its
 * calls keep to STORE_TIME_BUDGET, unless a host that is not a Lambda container gives its own.
 */
export function openTable(
  config: Pick<Config, 'dynamodbEndpoint' | 'dynamodbCredentials' | 'tableName' | 'retentionSeconds'>,
  budget?: StoreTimeBudget,
): TableClient {
  if (!config.tableName) throw new Error('TABLE_NAME is not set');
  return {
    db: createDocumentClient({
      endpoint: config.dynamodbEndpoint,
      credentials: config.dynamodbCredentials,
      budget,
    }),
    tableName: config.tableName,
    retentionSeconds: config.retentionSeconds,
  };
}

export const epochSeconds = (ms: number) => Math.ceil(ms / 1000);

/**
 * DynamoDB being down, throttled or slower than STORE_TIME_BUDGET is the client's cue to retry (503), not
 * a bug of ours (500).
 */
export function storeError(error: unknown): unknown {
  return awsServiceUnavailable(error) ? storeUnavailable() : error;
}

export const storeUnavailable = () =>
  new ApiError(
    503,
    'store_unavailable',
    'The verification store is unavailable; retry shortly.',
    retryAfterSeconds(1),
  );

/** A call whose every failure is the store's: unavailable (503) or passed on as is. */
export async function storeCall<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    throw storeError(error);
  }
}
