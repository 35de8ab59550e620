import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/**
 * What waiting on an AWS service may cost. The store (DynamoDB) and the secrets (Secrets Manager) are the two
 * services a request waits on: each gets an HTTP handler with connection and request timeouts, and the
 * errors that mean "down, throttled or slower than the budget" are recognised here, so the client is told to
 * retry (503) rather than shown a bug of ours (500) or left waiting until the Lambda timeout.
 */
export interface TimeBudget {
  connectMs: number;
  /** Each attempt ends within this, connecting included. */
  requestMs: number;
  attempts: number;
  /** The longest pause before retry n (jittered below it). */
  backoffMs: (retry: number) => number;
}

/** The client options that hold an AWS SDK client to `budget`. */
export function boundedClientOptions(budget: TimeBudget) {
  return {
    requestHandler: new NodeHttpHandler({
      connectionTimeout: budget.connectMs,
      requestTimeout: budget.requestMs,
      // Without it the SDK only logs a warning when requestTimeout passes, and keeps waiting.
      throwOnRequestTimeout: true,
    }),
    // A fixed, short backoff (jittered) for every retryable error, throttling included: the SDK's own
    // throttling backoff (up to 1 s, then 2 s) would not fit a budget of seconds.
    retryStrategy: new ConfiguredRetryStrategy(budget.attempts, (retry) =>
      Math.floor(Math.random() * budget.backoffMs(retry)),
    ),
  };
}

/** The longest one call can take before it fails: every attempt timing out, every pause at its longest. */
export function worstCaseMs(budget: TimeBudget): number {
  let total = budget.attempts * budget.requestMs;
  for (let retry = 1; retry < budget.attempts; retry++) total += budget.backoffMs(retry);
  return total;
}

const RETRYABLE = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  // boundedRequestHandler's connection and request timeouts, and the service's own.
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

/** Network failures: the service could not be reached or stopped answering mid-request. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

export type SdkError = {
  name?: string;
  code?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
};

const isUnavailable = (e: SdkError | undefined): boolean =>
  e !== undefined &&
  (RETRYABLE.has(e.name ?? '') ||
    e.$retryable !== undefined ||
    (e.$metadata?.httpStatusCode ?? 0) >= 500 ||
    UNREACHABLE.has(e.code ?? ''));

/** True for an unavailable service, also when the SDK error arrives wrapped as another error's cause. */
export const awsServiceUnavailable = (error: unknown): boolean => {
  const e = error as SdkError | undefined;
  return isUnavailable(e) || isUnavailable(e?.cause as SdkError | undefined);
};
