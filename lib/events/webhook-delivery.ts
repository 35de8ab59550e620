import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { RequestTimedOut, sendRequest } from '#platform/http-client.ts';
import type { Logger } from '#platform/logger.ts';
import type { Counters } from '#platform/metrics.ts';
import type { Secrets } from '#platform/secrets.ts';
import type { WebhookStore } from '#store/store.ts';
import { type EndpointCircuit, endpointCircuit } from './endpoint-circuit.ts';
import { openWebhookSecret, sealedKeyId } from './webhook-secret.ts';
import { type SignedHeaders, signWebhook } from './webhook-signing.ts';
import type { Delivery } from './webhook-sink.ts';
import { bareHost, isLocalReceiver, isPublicAddress } from './webhook-url.ts';

/**
 * Delivers queued app webhooks, one attempt per receipt of a queue message, and leaves the retrying to the
 * queue: after a failed attempt the message's visibility timeout is set to the next delay of the schedule
 * and the item is reported failed, so SQS hands it back then; its receive count is the attempt number, and
 * the queue's redrive policy moves it to the DLQ after the last attempt. The same code runs on AWS (SQS) and
 * on the local stack (local/delivery-queue.ts).
 */

/**
 * Seconds to wait after failed attempt n (1-based) before attempt n + 1: immediately, 5 s, 5 min, 30 min,
 * 2 h, 5 h, 10 h, 10 h (Standard Webhooks' schedule). SQS allows up to 12 h of visibility.
 */
export const RETRY_DELAYS_SECONDS = [0, 5, 300, 1800, 7200, 18_000, 36_000, 36_000] as const;
/** The first attempt and one per retry; the redrive policy's maxReceiveCount. */
export const MAX_DELIVERY_ATTEMPTS = RETRY_DELAYS_SECONDS.length + 1;
/** An attempt that has no answer by then failed. */
export const DELIVERY_TIMEOUT_MS = 5000;

/** What a failed attempt's message waits before the queue hands it out again (after the last: the DLQ). */
export const retryDelaySeconds = (attempt: number) => RETRY_DELAYS_SECONDS[attempt - 1] ?? 0;

/** Sets when a received queue message is handed out again (SQS ChangeMessageVisibility). */
export interface Visibility {
  retryAfter(receiptHandle: string, seconds: number): Promise<void>;
}

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Every address a host name resolves to; injected so tests can play DNS (rebinding included). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

export interface DeliveryDeps {
  config: { webhooks: { allowLocalhost: boolean } };
  store: Pick<WebhookStore, 'getWebhook'>;
  secrets: Pick<Secrets, 'keyRing'>;
  clock: () => number;
  logger: Logger;
  metrics: Counters;
  resolve?: Resolver;
  timeoutMs?: number;
  /** The container's endpoint circuits (lib/events/endpoint-circuit.ts); the handler makes one. */
  circuit?: EndpointCircuit;
}

export type AttemptOutcome =
  | { result: 'delivered'; status: number }
  | { result: 'failed'; reason: string; status?: number }
  /** Nothing to deliver any more: the webhook was deleted, or no longer subscribes to the event's type. */
  | { result: 'dropped'; reason: string };

/** A resolved or literal address the URL rules refuse: the attempt fails without a connection. */
class AddressRefused extends Error {}

/**
 * One attempt, unless the API key's endpoint circuit is open (lib/events/endpoint-circuit.ts): then it fails at
 * once, before any read, and waits for its next retry. Whatever the attempt came to is the circuit's news.
 */
export async function attemptDelivery(deps: DeliveryDeps, delivery: Delivery): Promise<AttemptOutcome> {
  if (deps.circuit && !deps.circuit.allow(delivery.apiKeyId))
    return { result: 'failed', reason: 'circuit open' };
  let outcome: AttemptOutcome | undefined;
  try {
    outcome = await attemptOnce(deps, delivery);
    return outcome;
  } finally {
    deps.circuit?.record(delivery.apiKeyId, outcome?.result === 'failed' && outcome.reason === 'timeout');
  }
}

/** Looks the endpoint up now (a DELETE or a new URL applies to queued deliveries too), signs, posts. */
async function attemptOnce(deps: DeliveryDeps, delivery: Delivery): Promise<AttemptOutcome> {
  const webhook = await deps.store.getWebhook(delivery.apiKeyId);
  if (!webhook) return { result: 'dropped', reason: 'no webhook' };
  if (!webhook.events.includes(delivery.payload.type)) return { result: 'dropped', reason: 'not subscribed' };
  let ring = await deps.secrets.keyRing();
  // A key this container has not seen yet: the ring was rotated since it was read.
  const keyId = sealedKeyId(webhook.sealedSecret);
  if (!ring.get(keyId)) ring = await deps.secrets.keyRing({ refresh: true });
  const secret = openWebhookSecret(ring, delivery.apiKeyId, webhook.sealedSecret);
  if (!secret) {
    // Never a silent drop: the delivery stays queued (retried, then the DLQ) while an operator restores the
    // key or the app sets its webhook again (RUNBOOK "WebhookSecretUnreadable").
    deps.logger.error('Webhook secret does not open', {
      apiKeyId: delivery.apiKeyId,
      keyId,
      keyInRing: ring.get(keyId) !== undefined,
    });
    deps.metrics.count('WebhookSecretUnreadable');
    return { result: 'failed', reason: 'secret does not open' };
  }

  const body = JSON.stringify(delivery.payload);
  const headers = signWebhook(secret, delivery.id, Math.floor(deps.clock() / 1000), body);
  try {
    const status = await post(deps, new URL(webhook.url), headers, body);
    return status >= 200 && status < 300
      ? { result: 'delivered', status }
      : { result: 'failed', reason: 'non-2xx', status };
  } catch (error) {
    if (error instanceof AddressRefused) return { result: 'failed', reason: 'address refused' };
    return { result: 'failed', reason: error instanceof RequestTimedOut ? 'timeout' : 'network' };
  }
}

/**
 * POSTs without following redirects (a 3xx is a failed attempt) and connects only to addresses checked right
 * then: the host is resolved once, every address must be public (a name rebound to a private address is
 * refused), and the connection uses those addresses, never a second lookup.
 */
function post(deps: DeliveryDeps, url: URL, signed: SignedHeaders, body: string): Promise<number> {
  const local = isLocalReceiver(url, deps.config.webhooks.allowLocalhost);
  const allowed = (address: string) => isPublicAddress(address) || (local && isLoopback(address));
  const host = bareHost(url);
  if (isIP(host) !== 0 && !allowed(host)) return Promise.reject(new AddressRefused());
  const resolve = deps.resolve ?? systemResolver;
  const lookup: LookupFunction = (hostname, options, callback) => {
    resolve(hostname).then(
      (addresses) => {
        if (addresses.length === 0 || !addresses.every((each) => allowed(each.address))) {
          callback(new AddressRefused(), '', 0);
          return;
        }
        const first = addresses[0] as ResolvedAddress;
        if (options.all) (callback as unknown as (e: null, all: ResolvedAddress[]) => void)(null, addresses);
        else callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
  // Only the status matters (the body is read within the timeout, and dropped).
  return sendRequest({
    method: 'POST',
    url,
    lookup,
    timeoutMs: deps.timeoutMs ?? DELIVERY_TIMEOUT_MS,
    headers: { 'content-type': 'application/json', 'user-agent': 'voice-otp-webhooks/1', ...signed },
    body,
  }).then((response) => response.status);
}

const isLoopback = (address: string) => address === '::1' || /^127\./.test(address);

/** A queue message's body, as the sink queued it; anything else is dropped (it would never become valid). */
export function parseDelivery(body: string): Delivery | undefined {
  let value: Partial<Delivery> | null;
  try {
    value = JSON.parse(body) as Partial<Delivery> | null;
  } catch {
    return undefined;
  }
  if (typeof value?.id !== 'string' || typeof value.apiKeyId !== 'string') return undefined;
  if (typeof value.payload?.type !== 'string') return undefined;
  return value as Delivery;
}

/**
 * The delivery function's handler for a batch of queue messages (SQS event source with
 * ReportBatchItemFailures): attempts them side by side; a failed one gets the next delay and is reported.
 */
export const createDeliverHandler = (deps: DeliveryDeps & { visibility: Visibility }) => {
  const attemptDeps = { ...deps, circuit: deps.circuit ?? endpointCircuit(deps.clock) };
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const failed = await Promise.all(
      event.Records.map(async (record) => {
        const attempt = Number(record.attributes.ApproximateReceiveCount) || 1;
        const delivery = parseDelivery(record.body);
        if (!delivery) {
          deps.logger.error('Webhook delivery dropped: not a delivery', { messageId: record.messageId });
          return undefined;
        }
        const outcome = await attemptDelivery(attemptDeps, delivery).catch((error: unknown) => {
          deps.logger.error('Webhook delivery attempt failed', { error: error as Error });
          return { result: 'failed', reason: 'internal' } as const;
        });
        const context = {
          webhookId: delivery.id,
          apiKeyId: delivery.apiKeyId,
          type: delivery.payload.type,
          attempt,
        };
        if (outcome.result !== 'failed') {
          deps.logger.info(`Webhook ${outcome.result}`, { ...context, ...outcome });
          return undefined;
        }
        const last = attempt >= MAX_DELIVERY_ATTEMPTS;
        const delaySeconds = last ? 0 : retryDelaySeconds(attempt);
        deps.logger.warn(
          last ? 'Webhook delivery gave up: to the DLQ' : 'Webhook delivery failed: retrying',
          {
            ...context,
            ...outcome,
            ...(!last && { retryInSeconds: delaySeconds }),
          },
        );
        // If this fails, the message comes back after the queue's own visibility timeout: later, not lost.
        await deps.visibility.retryAfter(record.receiptHandle, delaySeconds).catch((error: unknown) => {
          deps.logger.warn('Could not set the retry delay', { error: error as Error });
        });
        return { itemIdentifier: record.messageId };
      }),
    );
    deps.metrics.publish();
    return { batchItemFailures: failed.filter((each) => each !== undefined) };
  };
};
