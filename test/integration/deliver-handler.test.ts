import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EndpointCircuit } from '#events/endpoint-circuit.ts';
import type { OutcomeEventType } from '#events/outcome-events.ts';
import { createDeliverHandler, type DeliveryDeps, type Resolver } from '#events/webhook-delivery.ts';
import type { Logger } from '#platform/logger.ts';
import type { Secrets } from '#platform/secrets.ts';
import type { WebhookRecord } from '#store/store.ts';
import { outcomeEvent } from '../support/events.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import { setWebhook, stopWebhookParts, webhookReceiver } from '../support/webhooks.ts';

/**
 * The delivery function's handler, one SQS batch at a time: what it reports for each outcome (its log line
 * and whether the message is failed back to the queue, with which delay), what it makes of messages it cannot
 * read, and the addresses it lets a delivery reach. The queue around it is in webhook-delivery.test.ts.
 */

interface Line {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  extra: Record<string, unknown> | undefined;
}

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ WEBHOOK_ALLOW_LOCALHOST: 'true' });
});
afterEach(() => stopWebhookParts());

/** The handler with a recording logger, metrics and visibility (and whatever `extra` replaces). */
function handler(extra: Partial<DeliveryDeps> & { failVisibility?: boolean } = {}, harness = h) {
  const lines: Line[] = [];
  const record =
    (level: Line['level']) =>
    (message: string, fields?: Record<string, unknown>): void =>
      void lines.push({ level, message, extra: fields });
  const logger: Logger = {
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  };
  const metrics = { count: vi.fn(), publish: vi.fn() };
  const delays: Array<[string, number]> = [];
  const handle = createDeliverHandler({
    ...harness.depsFor('deliver'),
    logger,
    metrics,
    ...extra,
    visibility: {
      retryAfter: async (receiptHandle, seconds) => {
        if (extra.failVisibility) throw new Error('SQS is unreachable');
        delays.push([receiptHandle, seconds]);
      },
    },
  });
  return { handle, lines, metrics, delays };
}

let nextId = 0;
/** A queue message as Lambda hands it over: `body` a delivery (as the sink queues it) or anything. */
function message(body: unknown, attempt = 1): SQSRecord {
  nextId++;
  return {
    messageId: `msg-${nextId}`,
    receiptHandle: `handle-${nextId}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: { ApproximateReceiveCount: String(attempt) },
    messageAttributes: {},
  } as unknown as SQSRecord;
}

const delivery = (apiKeyId: string, type: OutcomeEventType = 'verification.approved') => {
  const event = outcomeEvent({ id: `evt_${apiKeyId}_${++nextId}`, now: h.clock.now, type, apiKeyId });
  return { id: event.id, apiKeyId, payload: event.payload };
};

const batch = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

describe('what the handler reports for each outcome', () => {
  it('delivered, dropped, failed and retrying, given up: each log line, failure and delay', async () => {
    const ok = await webhookReceiver(() => ({ status: 204 }));
    const redirecting = await webhookReceiver(() => ({ status: 300 }));
    await setWebhook(h, ok.url, ['verification.approved'], 'key-ok');
    await setWebhook(h, ok.url, ['call.ended'], 'key-other-type');
    await setWebhook(h, redirecting.url, ['verification.approved'], 'key-300');
    const { handle, lines, metrics, delays } = handler();
    const delivered = message(delivery('key-ok'));
    const none = message(delivery('key-none'));
    const unsubscribed = message(delivery('key-other-type'));
    const first = message(delivery('key-300'));
    const third = message(delivery('key-300'), 3);
    const last = message(delivery('key-300'), 9);
    const response = await handle(batch(delivered, none, unsubscribed, first, third, last));

    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(
      [first.messageId, third.messageId, last.messageId].sort(),
    );
    expect(delays.sort()).toEqual(
      [
        [first.receiptHandle, 0],
        [third.receiptHandle, 300],
        [last.receiptHandle, 0],
      ].sort(),
    );
    const context = (record: SQSRecord, attempt = 1) => {
      const body = JSON.parse(record.body);
      return { webhookId: body.id, apiKeyId: body.apiKeyId, type: body.payload.type, attempt };
    };
    expect(lines).toEqual(
      expect.arrayContaining([
        {
          level: 'info',
          message: 'Webhook delivered',
          extra: { ...context(delivered), result: 'delivered', status: 204 },
        },
        {
          level: 'info',
          message: 'Webhook dropped',
          extra: { ...context(none), result: 'dropped', reason: 'no webhook' },
        },
        {
          level: 'info',
          message: 'Webhook dropped',
          extra: { ...context(unsubscribed), result: 'dropped', reason: 'not subscribed' },
        },
        {
          level: 'warn',
          message: 'Webhook delivery failed: retrying',
          extra: { ...context(first), result: 'failed', reason: 'non-2xx', status: 300, retryInSeconds: 0 },
        },
        {
          level: 'warn',
          message: 'Webhook delivery failed: retrying',
          extra: {
            ...context(third, 3),
            result: 'failed',
            reason: 'non-2xx',
            status: 300,
            retryInSeconds: 300,
          },
        },
        {
          level: 'warn',
          message: 'Webhook delivery gave up: to the DLQ',
          extra: { ...context(last, 9), result: 'failed', reason: 'non-2xx', status: 300 },
        },
      ]),
    );
    expect(lines).toHaveLength(6);
    // One flush of the invocation's metrics, after its deliveries.
    expect(metrics.publish).toHaveBeenCalledOnce();
    // What a receiver sees besides the signature.
    expect(ok.requests[0]?.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'voice-otp-webhooks/1',
    });
  });

  it('drops a message that is not a delivery, saying so, without failing it back to the queue', async () => {
    const { handle, lines, delays } = handler();
    const bodies = [
      'not json',
      'null',
      '{}',
      '{"id":"evt_1","apiKeyId":"key-a"}',
      '{"id":1,"apiKeyId":"key-a","payload":{"type":"verification.approved"}}',
      '{"id":"evt_1","apiKeyId":2,"payload":{"type":"verification.approved"}}',
      '{"id":"evt_1","apiKeyId":"key-a","payload":{"type":7}}',
      '{"id":"evt_1","apiKeyId":"key-a","payload":null}',
    ];
    const records = bodies.map((body) => message(body));
    expect(await handle(batch(...records))).toEqual({ batchItemFailures: [] });
    expect(delays).toEqual([]);
    expect(lines).toEqual(
      records.map((record) => ({
        level: 'error',
        message: 'Webhook delivery dropped: not a delivery',
        extra: { messageId: record.messageId },
      })),
    );
  });

  it('an error of its own fails the attempt (retried), logged, and tells the circuit the endpoint was not the cause', async () => {
    const circuit: EndpointCircuit = { allow: vi.fn(() => true), record: vi.fn() };
    const broken = {
      ...h.depsFor('deliver').store,
      getWebhook: async () => Promise.reject(new Error('boom')),
    };
    const { handle, lines, delays } = handler({ store: broken, circuit });
    const record = message(delivery('key-broken'));
    expect((await handle(batch(record))).batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(delays).toEqual([[record.receiptHandle, 0]]);
    expect(lines.map((line) => [line.level, line.message])).toEqual([
      ['error', 'Webhook delivery attempt failed'],
      ['warn', 'Webhook delivery failed: retrying'],
    ]);
    expect(lines[1]?.extra).toMatchObject({ reason: 'internal' });
    expect(circuit.record).toHaveBeenCalledWith('key-broken', false);
  });

  it('a retry delay it cannot set is logged; the message is still failed back (SQS brings it back later)', async () => {
    const down = await webhookReceiver(() => ({ status: 503 }));
    await setWebhook(h, down.url, ['verification.approved'], 'key-down');
    const { handle, lines } = handler({ failVisibility: true });
    const record = message(delivery('key-down'));
    expect((await handle(batch(record))).batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(lines.at(-1)).toMatchObject({ level: 'warn', message: 'Could not set the retry delay' });
  });
});

describe('why an attempt failed', () => {
  const reasonOf = (lines: Line[]) => lines.find((line) => line.level === 'warn')?.extra?.reason;

  it('a timeout, then the circuit open for that key: no request at all', async () => {
    const hanging = await webhookReceiver(() => 'hang');
    await setWebhook(h, hanging.url, ['verification.approved'], 'key-hangs');
    const { handle, lines } = handler({ timeoutMs: 200 });
    await handle(batch(message(delivery('key-hangs'))));
    expect(reasonOf(lines)).toBe('timeout');
    lines.length = 0;
    await handle(batch(message(delivery('key-hangs'))));
    expect(reasonOf(lines)).toBe('circuit open');
    expect(hanging.requests).toHaveLength(1);
  });

  it('a name that does not resolve: network, and the circuit stays closed', async () => {
    await putWebhook('key-nxdomain', 'https://hooks.example.com/x');
    const resolve: Resolver = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND hooks.example.com'), { code: 'ENOTFOUND' });
    };
    const { handle, lines } = handler({ resolve });
    for (let i = 0; i < 2; i++) {
      lines.length = 0;
      await handle(batch(message(delivery('key-nxdomain'))));
      expect(reasonOf(lines)).toBe('network');
    }
  });

  it('a private address written as the URL itself: refused, never connected to', async () => {
    const cloud = await createHarness();
    const listener = await webhookReceiver(() => ({ status: 204 }));
    const port = new URL(listener.url).port;
    for (const [apiKeyId, url] of [
      ['key-literal-v4', `https://127.0.0.1:${port}/x`],
      ['key-literal-v6', `https://[::1]:${port}/x`],
    ] as const) {
      await cloud.stores.verify.putWebhook(apiKeyId, { ...(await sealedFor(cloud, apiKeyId)), url });
      const { handle, lines } = handler({}, cloud);
      await handle(batch(message(delivery(apiKeyId))));
      expect(reasonOf(lines), url).toBe('address refused');
    }
    expect(listener.requests).toHaveLength(0);
  });

  it.each([
    ['127.0.0.1', [{ address: '127.0.0.1', family: 4 }], 'delivered'],
    [
      '127.0.0.1 and ::1',
      [
        { address: '::1', family: 6 },
        { address: '127.0.0.1', family: 4 },
      ],
      'delivered',
    ],
    ['another loopback address', [{ address: '127.0.0.9', family: 4 }], 'not refused'],
    ['::1 alone', [{ address: '::1', family: 6 }], 'not refused'],
    ['10.127.0.1', [{ address: '10.127.0.1', family: 4 }], 'address refused'],
    [
      'loopback and a private address',
      [
        { address: '127.0.0.1', family: 4 },
        { address: '10.0.0.1', family: 4 },
      ],
      'address refused',
    ],
    ['nothing', [], 'address refused'],
  ])('on the local stack, localhost resolving to %s: %s', async (_name, addresses, expected) => {
    const receiver = await webhookReceiver(() => ({ status: 204 }));
    await setWebhook(
      h,
      `http://localhost:${new URL(receiver.url).port}/x`,
      ['verification.approved'],
      'key-localhost',
    );
    const { handle, lines } = handler({ resolve: async () => addresses });
    await handle(batch(message(delivery('key-localhost'))));
    const outcome = lines[0];
    if (expected === 'delivered') expect(outcome?.message).toBe('Webhook delivered');
    else if (expected === 'address refused') expect(reasonOf(lines)).toBe('address refused');
    else expect(reasonOf(lines)).not.toBe('address refused');
  });

  it('without a resolver of its own, resolves names with the system (localhost here)', async () => {
    const receiver = await webhookReceiver(() => ({ status: 204 }));
    await setWebhook(
      h,
      `http://localhost:${new URL(receiver.url).port}/x`,
      ['verification.approved'],
      'key-system',
    );
    const { handle, lines } = handler();
    await handle(batch(message(delivery('key-system'))));
    expect(lines[0]?.message).toBe('Webhook delivered');
    expect(receiver.requests).toHaveLength(1);
  });
});

describe('the key ring at delivery', () => {
  it('reads it again only for a key it does not hold', async () => {
    const receiver = await webhookReceiver(() => ({ status: 204 }));
    await setWebhook(h, receiver.url, ['verification.approved'], 'key-known');
    const ring = await h.depsFor('deliver').secrets.keyRing();
    const keyRing = vi.fn(async () => ring);
    const { handle, lines } = handler({ secrets: { ...h.depsFor('deliver').secrets, keyRing } as Secrets });
    await handle(batch(message(delivery('key-known'))));
    expect(lines[0]?.message).toBe('Webhook delivered');
    expect(keyRing.mock.calls).toEqual([[]]);
  });

  it('says whether a secret that does not open names a key the ring holds (altered) or not (removed)', async () => {
    const receiver = await webhookReceiver(() => ({ status: 204 }));
    await setWebhook(h, receiver.url, ['verification.approved'], 'key-altered');
    const stored = (await h.stores.verify.getWebhook('key-altered')) as WebhookRecord;
    const [keyId, body = ''] = stored.sealedSecret.split('.');
    const altered = `${keyId}.${body.slice(0, -4)}AAAA`;
    await h.stores.verify.putWebhook('key-altered', { ...stored, sealedSecret: altered });
    const { handle, lines, metrics } = handler();
    await handle(batch(message(delivery('key-altered'))));
    expect(lines[0]).toEqual({
      level: 'error',
      message: 'Webhook secret does not open',
      extra: { apiKeyId: 'key-altered', keyId, keyInRing: true },
    });
    expect(metrics.count).toHaveBeenCalledWith('WebhookSecretUnreadable');
    expect(receiver.requests).toHaveLength(0);
  });
});

/** A webhook item written straight to the table (bypassing the URL rules a PUT applies). */
async function putWebhook(apiKeyId: string, url: string, harness = h) {
  await harness.stores.verify.putWebhook(apiKeyId, { ...(await sealedFor(harness, apiKeyId)), url });
}

/** A PUT's stored item for the key, to write back with another URL. */
async function sealedFor(harness: Harness, apiKeyId: string): Promise<WebhookRecord> {
  await setWebhook(harness, 'https://hooks.example.com/placeholder', ['verification.approved'], apiKeyId);
  return (await harness.stores.verify.getWebhook(apiKeyId)) as WebhookRecord;
}
