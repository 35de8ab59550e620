import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer, type Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { OutcomeEvent, OutcomeEventType } from '#events/outcome-events.ts';
import { attemptDelivery, MAX_DELIVERY_ATTEMPTS, RETRY_DELAYS_SECONDS } from '#events/webhook-delivery.ts';
import { parseKeyRing } from '#platform/keyring.ts';
import type { Secrets } from '#platform/secrets.ts';
import type { WebhookRecord } from '#store/store.ts';
import { createVerifyHandler } from '../../functions/verify.ts';
import type { CapturedRequest } from '../support/capture-server.ts';
import { outcomeEvent as anOutcomeEvent } from '../support/events.ts';
import { API_KEY_ID, apiEvent, createHarness, type Harness } from '../support/harness.ts';
import { captureOutput } from '../support/output-capture.ts';
import {
  deliveryPipeline,
  settled,
  setWebhook,
  stopWebhookParts,
  webhookReceiver,
} from '../support/webhooks.ts';

/**
 * App webhooks end to end below the events function: outcome events (built here as the events function
 * builds them) go through the webhook sink into the local delivery queue, and the delivery function's handler
 * posts them over real HTTP to receivers on 127.0.0.1, signed the Standard Webhooks way, with SQS's retry
 * semantics and the schedule compressed.
 */

let h: Harness;
const servers: Array<{ close(): Promise<void> }> = [];
beforeAll(async () => {
  h = await createHarness({ WEBHOOK_ALLOW_LOCALHOST: 'true' });
});
afterEach(async () => {
  await stopWebhookParts();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

let nextEvent = 0;
function outcomeEvent(type: OutcomeEventType = 'verification.approved', apiKeyId = API_KEY_ID): OutcomeEvent {
  nextEvent += 1;
  return anOutcomeEvent({
    id: `evt_${String(nextEvent).padStart(26, '0')}`,
    now: h.clock.now,
    type,
    apiKeyId,
  });
}

/** A receiver's own check, written from the Standard Webhooks spec rather than from lib/events/webhook-signing.ts. */
function verifiedByHand(secret: string, request: CapturedRequest): boolean {
  const id = request.headers['webhook-id'] as string;
  const timestamp = request.headers['webhook-timestamp'] as string;
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${request.body}`).digest();
  return String(request.headers['webhook-signature'])
    .split(' ')
    .map((entry) => entry.split(','))
    .some(([version, signature]) => {
      const given = Buffer.from(signature ?? '', 'base64');
      return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
    });
}

describe('signatures', () => {
  it('verify with the Standard Webhooks algorithm, by hand and with the standardwebhooks library', async () => {
    const server = await webhookReceiver(() => ({ status: 204 }));
    const secret = await setWebhook(h, `${server.url}/hooks/otp`, ['verification.approved']);
    const { queue, sink } = deliveryPipeline(h);
    const event = outcomeEvent();
    await sink.publish([event]);
    await settled(queue);

    expect(server.requests).toHaveLength(1);
    const [request] = server.requests as [CapturedRequest];
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/hooks/otp');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['webhook-id']).toBe(event.id);
    expect(Number(request.headers['webhook-timestamp'])).toBe(Math.floor(h.clock.now / 1000));
    expect(JSON.parse(request.body)).toEqual(event.payload);
    expect(verifiedByHand(secret, request)).toBe(true);
    // The library checks the timestamp against its own clock (5 minutes' tolerance): ours is the wall clock.
    expect(new Webhook(secret).verify(request.body, request.headers as Record<string, string>)).toEqual(
      event.payload,
    );

    // And a forgery does not verify: another secret, or the body changed.
    const other = await setWebhook(h, `${server.url}/x`, ['call.ended'], 'key-other');
    expect(verifiedByHand(other, request)).toBe(false);
    expect(verifiedByHand(secret, { ...request, body: request.body.replace('approved', 'canceled') })).toBe(
      false,
    );
    expect(() =>
      new Webhook(other).verify(request.body, request.headers as Record<string, string>),
    ).toThrow();
  });
});

describe('secrets', () => {
  const output = captureOutput();
  it('after a second PUT, deliveries are signed with the new secret only', async () => {
    const server = await webhookReceiver(() => ({ status: 204 }));
    const first = await setWebhook(h, server.url, ['verification.approved'], 'key-reissued');
    const second = await setWebhook(h, server.url, ['verification.approved'], 'key-reissued');
    expect(second).not.toBe(first);
    const { queue, sink } = deliveryPipeline(h);
    await sink.publish([outcomeEvent('verification.approved', 'key-reissued')]);
    await settled(queue);
    const [request] = server.requests as [CapturedRequest];
    const headers = request.headers as Record<string, string>;
    expect(new Webhook(second).verify(request.body, headers)).toMatchObject({
      type: 'verification.approved',
    });
    expect(() => new Webhook(first).verify(request.body, headers)).toThrow();
    // One signature, not one per secret the endpoint ever had.
    expect(headers['webhook-signature']?.split(' ')).toHaveLength(1);
  });

  it('a container whose cached ring predates a rotation reads the ring again and delivers', async () => {
    const rotated = await createHarness({ WEBHOOK_ALLOW_LOCALHOST: 'true' });
    const old = parseKeyRing(rotated.keyRingSecret);
    const k1 = JSON.parse(rotated.keyRingSecret).k1 as string;
    // The ring after phase 1: k2 current. verify reads it (seals under k2); deliver's cache still holds k1 only.
    const now = parseKeyRing(JSON.stringify({ current: 'k2', k1, k2: 'n'.repeat(43) }));
    const refreshes: boolean[] = [];
    const stale: Secrets = {
      keyRing: async (options) => {
        refreshes.push(options?.refresh === true);
        return options?.refresh ? now : old;
      },
      plivo: async () => ({ authId: 'x', authToken: 'y' }),
    };
    const verify = createVerifyHandler({
      ...rotated.depsFor('verify'),
      secrets: { ...stale, keyRing: async () => now },
    });
    const server = await webhookReceiver(() => ({ status: 204 }));
    const secret = await setWebhook(rotated, server.url, ['verification.approved'], API_KEY_ID, verify);
    expect((await rotated.stores.verify.getWebhook(API_KEY_ID))?.sealedSecret).toMatch(/^k2\./);
    const { queue, sink } = deliveryPipeline(rotated, { secrets: stale });
    await sink.publish([outcomeEvent()]);
    await settled(queue);
    expect(refreshes).toEqual([false, true]);
    const [request] = server.requests as [CapturedRequest];
    expect(new Webhook(secret).verify(request.body, request.headers as Record<string, string>)).toBeTruthy();
  });

  it('a secret that opens under no key is an error and a metric, and stays queued: never a silent drop', async () => {
    const broken = await createHarness({ WEBHOOK_ALLOW_LOCALHOST: 'true', LOG_LEVEL: 'DEBUG' });
    const server = await webhookReceiver(() => ({ status: 204 }));
    await setWebhook(broken, server.url, ['verification.approved']);
    // Sealed under a key the ring no longer has (removed by hand before its secrets were resealed).
    const stored = (await broken.stores.verify.getWebhook(API_KEY_ID)) as WebhookRecord;
    await broken.stores.verify.putWebhook(API_KEY_ID, {
      ...stored,
      sealedSecret: stored.sealedSecret.replace(/^k1\./, 'k0.'),
    });
    const { queue, sink, delays } = deliveryPipeline(broken);
    const event = outcomeEvent();
    await sink.publish([event]);
    await vi.waitFor(() => expect(queue.deadLetters).toHaveLength(1), { timeout: 20_000, interval: 20 });
    const logged = output
      .text()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);

    expect(server.requests).toHaveLength(0);
    // Retried on the schedule, then kept in the DLQ (whose alarm also fires).
    expect(delays).toEqual([...RETRY_DELAYS_SECONDS, 0]);
    expect(queue.deadLetters[0]?.id).toBe(event.id);
    expect(broken.metrics.counted.filter((each) => each.name === 'WebhookSecretUnreadable')).toHaveLength(
      MAX_DELIVERY_ATTEMPTS,
    );
    const errors = logged.filter((line) => line.level === 'ERROR');
    expect(errors[0]).toMatchObject({
      message: 'Webhook secret does not open',
      keyId: 'k0',
      keyInRing: false,
    });
  });
});

describe('retries', () => {
  it('a receiver that answers 500 once gets a retry with the same webhook-id, then nothing more', async () => {
    const server = await webhookReceiver((_, index) => ({ status: index === 0 ? 500 : 200 }));
    await setWebhook(h, server.url, ['verification.approved']);
    const { queue, sink, delays } = deliveryPipeline(h);
    const event = outcomeEvent();
    await sink.publish([event]);
    await settled(queue);

    expect(server.requests.map((request) => request.headers['webhook-id'])).toEqual([event.id, event.id]);
    expect(server.requests[1]?.body).toBe(server.requests[0]?.body);
    // Retried at once after the first failure, as the schedule says.
    expect(delays).toEqual([0]);
    expect(queue.deadLetters).toEqual([]);
  });

  it.each([400, 401, 404, 410, 429])(
    'a receiver that answers %i is retried like any other non-2xx (the same webhook-id)',
    async (status) => {
      const server = await webhookReceiver((_, index) => ({ status: index === 0 ? status : 200 }));
      await setWebhook(h, server.url, ['verification.approved']);
      const { queue, sink, delays } = deliveryPipeline(h);
      const event = outcomeEvent();
      await sink.publish([event]);
      await settled(queue);
      expect(server.requests.map((request) => request.headers['webhook-id'])).toEqual([event.id, event.id]);
      expect(delays).toEqual([0]);
      expect(queue.deadLetters).toEqual([]);
    },
  );

  it('an attempt without an answer within 5 s is retried', async () => {
    const server = await webhookReceiver((_, index) => (index === 0 ? 'hang' : { status: 200 }));
    await setWebhook(h, server.url, ['verification.approved']);
    const { queue, sink } = deliveryPipeline(h);
    const event = outcomeEvent();
    await sink.publish([event]);
    await settled(queue);

    expect(server.requests.map((request) => request.headers['webhook-id'])).toEqual([event.id, event.id]);
    expect(queue.deadLetters).toEqual([]);
  }, 30_000);

  it("after a timeout, the key's next deliveries wait for their retries without a connection, then one probes", async () => {
    const server = await webhookReceiver((_, index) => (index === 0 ? 'hang' : { status: 200 }));
    await setWebhook(h, server.url, ['verification.approved'], 'key-hanging');
    // Thirty times real time: the 30 s cool-down passes in 1 s, the 5-minute retry in 10 s.
    const { queue, sink, delays } = deliveryPipeline(h, { speed: 30, timeoutMs: 300 });
    const events = [outcomeEvent('verification.approved', 'key-hanging')];
    await sink.publish(events);
    // The timeout (then a retry at once), that retry and the one 5 s later find the circuit open: each fails
    // with no request, and waits its next delay on the schedule.
    await vi.waitFor(() => expect(delays).toEqual([0, 5, 300]), { timeout: 10_000, interval: 20 });
    expect(server.requests).toHaveLength(1);
    // The retry after 5 minutes comes after the cool-down: the probe, answered, delivers.
    await vi.waitFor(() => expect(queue.size).toBe(0), { timeout: 40_000, interval: 50 });
    expect(server.requests).toHaveLength(2);
    expect(server.requests.map((request) => request.headers['webhook-id'])).toEqual([
      events[0]?.id,
      events[0]?.id,
    ]);
  }, 60_000);

  it('a redirect is a failed attempt, never followed', async () => {
    const target = await webhookReceiver(() => ({ status: 200 }));
    let attempts = 0;
    const redirecting = createHttpServer((request, response) => {
      attempts += 1;
      request.resume();
      response.writeHead(attempts === 1 ? 307 : 200, { Location: `${target.url}/elsewhere` }).end();
    });
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    servers.push({ close: () => new Promise<void>((resolve) => redirecting.close(() => resolve())) });
    await setWebhook(h, `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/`, [
      'verification.approved',
    ]);
    const { queue, sink, delays } = deliveryPipeline(h);
    await sink.publish([outcomeEvent()]);
    await settled(queue);
    expect(attempts).toBe(2);
    expect(target.requests).toHaveLength(0);
    expect(delays).toEqual([0]);
  });

  it(`goes to the DLQ after the last retry: ${MAX_DELIVERY_ATTEMPTS} attempts on the schedule, one webhook-id`, async () => {
    const server = await webhookReceiver(() => ({ status: 503 }));
    await setWebhook(h, server.url, ['verification.approved']);
    const { queue, sink, delays } = deliveryPipeline(h);
    const event = outcomeEvent();
    await sink.publish([event]);
    await vi.waitFor(() => expect(queue.deadLetters).toHaveLength(1), { timeout: 20_000, interval: 20 });

    expect(queue.deadLetters[0]).toEqual({ id: event.id, apiKeyId: API_KEY_ID, payload: event.payload });
    expect(server.requests).toHaveLength(MAX_DELIVERY_ATTEMPTS);
    expect(new Set(server.requests.map((request) => request.headers['webhook-id']))).toEqual(
      new Set([event.id]),
    );
    // After each failure: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; after the last, straight on.
    expect(RETRY_DELAYS_SECONDS).toEqual([0, 5, 300, 1800, 7200, 18_000, 36_000, 36_000]);
    expect(delays).toEqual([...RETRY_DELAYS_SECONDS, 0]);
    expect(queue.size).toBe(0);
  });
});

describe('what is delivered', () => {
  it('only the event types the webhook subscribes to', async () => {
    const server = await webhookReceiver(() => ({ status: 200 }));
    await setWebhook(h, server.url, ['call.ended', 'verification.failed']);
    const { queue, sink } = deliveryPipeline(h);
    const events = [
      outcomeEvent('verification.started'),
      outcomeEvent('call.ended'),
      outcomeEvent('verification.approved'),
      outcomeEvent('verification.failed'),
      outcomeEvent('message.status'),
    ];
    const enqueue = vi.spyOn(queue, 'enqueue');
    await sink.publish(events);
    await settled(queue);
    expect(server.requests.map((request) => JSON.parse(request.body).type).sort()).toEqual([
      'call.ended',
      'verification.failed',
    ]);
    // Nothing else was even queued (each queued message is an SQS request paid for).
    expect(enqueue.mock.calls.flatMap(([deliveries]) => deliveries.map((each) => each.payload.type))).toEqual(
      ['call.ended', 'verification.failed'],
    );
  });

  it('a retry of a type the webhook no longer subscribes to (a PUT meanwhile) is dropped', async () => {
    const server = await webhookReceiver(() => ({ status: 500 }));
    await setWebhook(h, server.url, ['verification.approved'], 'key-changing');
    const { queue, sink } = deliveryPipeline(h, { speed: 1 });
    await sink.publish([outcomeEvent('verification.approved', 'key-changing')]);
    await vi.waitFor(() => expect(server.requests).toHaveLength(2), { timeout: 10_000, interval: 20 });
    await setWebhook(h, server.url, ['call.ended'], 'key-changing');
    await vi.waitFor(() => expect(queue.size).toBe(0), { timeout: 15_000, interval: 50 });
    expect(server.requests).toHaveLength(2);
    expect(queue.deadLetters).toEqual([]);
  }, 30_000);

  it("only to the event's own API key, and nothing for a key without a webhook", async () => {
    const mine = await webhookReceiver(() => ({ status: 200 }));
    const theirs = await webhookReceiver(() => ({ status: 200 }));
    await setWebhook(h, mine.url, ['verification.approved'], 'key-mine');
    await setWebhook(h, theirs.url, ['verification.approved'], 'key-theirs');
    const { queue, sink } = deliveryPipeline(h);
    await sink.publish([
      outcomeEvent('verification.approved', 'key-mine'),
      outcomeEvent('verification.approved', 'key-without-webhook'),
    ]);
    await settled(queue);
    expect(mine.requests).toHaveLength(1);
    expect(theirs.requests).toHaveLength(0);
  });

  it('DELETE stops deliveries: a retry waiting in the queue is dropped, and new events are not queued', async () => {
    const server = await webhookReceiver(() => ({ status: 500 }));
    await setWebhook(h, server.url, ['verification.approved'], 'key-deleting');
    // Real-time retries: the one after "immediately" waits 5 s, time enough to delete the webhook.
    const { queue, sink } = deliveryPipeline(h, { speed: 1 });
    await sink.publish([outcomeEvent('verification.approved', 'key-deleting')]);
    await vi.waitFor(() => expect(server.requests).toHaveLength(2), { timeout: 10_000, interval: 20 });

    const deleted = await h.verify(
      apiEvent({ method: 'DELETE', resource: '/v1/webhook', apiKeyId: 'key-deleting' }),
    );
    expect(deleted.statusCode).toBe(204);
    await sink.publish([outcomeEvent('verification.approved', 'key-deleting')]);
    await vi.waitFor(() => expect(queue.size).toBe(0), { timeout: 15_000, interval: 50 });

    expect(server.requests).toHaveLength(2);
    expect(queue.deadLetters).toEqual([]);
  }, 30_000);
});

describe('addresses checked at delivery time', () => {
  /** A TCP listener on 127.0.0.1 that counts connections: whatever the protocol, none may arrive. */
  async function privateListener() {
    const sockets: Socket[] = [];
    const server = createServer((socket) => {
      sockets.push(socket);
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push({
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    });
    return { port: (server.address() as AddressInfo).port, sockets };
  }

  it.each([
    ['loopback', [{ address: '127.0.0.1', family: 4 }]],
    [
      'a public address and a loopback one',
      [
        { address: '93.184.215.14', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ],
    ],
    ['IPv4-mapped loopback', [{ address: '::ffff:127.0.0.1', family: 6 }]],
    ['IPv4-translated (RFC 2765) loopback', [{ address: '::ffff:0:127.0.0.1', family: 6 }]],
    ['IPv6 loopback', [{ address: '::1', family: 6 }]],
    ['the metadata address', [{ address: '169.254.169.254', family: 4 }]],
  ])(
    'a public name that resolves to %s when delivering (DNS rebinding) is refused, never connected to',
    async (_name, addresses) => {
      const cloud = await createHarness();
      const listener = await privateListener();
      const url = `https://hooks.example.com:${listener.port}/otp`;
      await setWebhook(cloud, url, ['verification.approved']);
      const resolved: string[] = [];
      const outcome = await attemptDelivery(
        {
          ...cloud.depsFor('deliver'),
          resolve: async (hostname) => {
            resolved.push(hostname);
            return addresses;
          },
        },
        { id: 'evt_rebind', apiKeyId: API_KEY_ID, payload: outcomeEvent().payload },
      );
      expect(resolved).toEqual(['hooks.example.com']);
      expect(outcome).toEqual({ result: 'failed', reason: 'address refused' });
      expect(listener.sockets).toHaveLength(0);
    },
  );

  it('the local stack setting lets only the literal 127.0.0.1 and localhost reach loopback', async () => {
    const listener = await privateListener();
    await setWebhook(
      h,
      `https://sneaky.example.com:${listener.port}/`,
      ['verification.approved'],
      'key-sneaky',
    );
    const outcome = await attemptDelivery(
      { ...h.depsFor('deliver'), resolve: async () => [{ address: '127.0.0.1', family: 4 }] },
      { id: 'evt_sneaky', apiKeyId: 'key-sneaky', payload: outcomeEvent().payload },
    );
    expect(outcome).toMatchObject({ result: 'failed' });
    expect(listener.sockets).toHaveLength(0);
  });
});

describe("one API key's endpoint cannot delay another key's deliveries", () => {
  /** A receiver that notes when each event arrived. */
  async function timedReceiver(reply: ReturnType<Parameters<typeof webhookReceiver>[0]>) {
    const arrived = new Map<string, number>();
    const server = await webhookReceiver((request) => {
      arrived.set(String(request.headers['webhook-id']), Date.now());
      return reply;
    });
    return { server, arrived };
  }

  /**
   * Two keys' events through one delivery queue with the deliver function's concurrency cut to 2 batches of
   * 10 (so 20 deliveries of `noisy`'s fill it), `noisy` first with a backlog, then, `quietFrom` ms after
   * `noisy`'s endpoint got its first 20 requests, `quiet`'s events one by one: how long each of `quiet`'s
   * waited, queued to received.
   */
  async function quietWaits(options: {
    noisyReply: ReturnType<Parameters<typeof webhookReceiver>[0]>;
    noisyBacklog: number;
    quietFrom: number;
    timeoutMs: number;
  }) {
    const harness = await createHarness({ WEBHOOK_ALLOW_LOCALHOST: 'true' });
    const noisy = await timedReceiver(options.noisyReply);
    const quiet = await timedReceiver({ status: 204 });
    await setWebhook(harness, noisy.server.url, ['verification.approved'], 'key-noisy');
    await setWebhook(harness, quiet.server.url, ['verification.approved'], 'key-quiet');
    const { sink } = deliveryPipeline(harness, {
      speed: 1,
      timeoutMs: options.timeoutMs,
      queue: { maxConcurrency: 2, batchSize: 10 },
    });
    const event = (apiKeyId: string, i: number) =>
      anOutcomeEvent({ id: `evt_${apiKeyId}_${i}`, now: harness.clock.now, apiKeyId });
    await sink.publish(Array.from({ length: options.noisyBacklog }, (_, i) => event('key-noisy', i)));
    await vi.waitFor(() => expect(noisy.arrived.size).toBeGreaterThanOrEqual(20), {
      timeout: 10_000,
      interval: 5,
    });
    await new Promise((resolve) => setTimeout(resolve, options.quietFrom));
    const queuedAt = new Map<string, number>();
    for (let i = 0; i < 8; i++) {
      const each = event('key-quiet', i);
      queuedAt.set(each.id, Date.now());
      await sink.publish([each]);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await vi.waitFor(() => expect(quiet.arrived.size).toBe(8), { timeout: 30_000, interval: 20 });
    return [...queuedAt].map(([id, at]) => (quiet.arrived.get(id) ?? Number.NaN) - at);
  }

  // Bounds in multiples of what the noisy key's endpoint holds a batch for: what must never happen is the
  // quiet key waiting behind that, not a timing (those are bench/'s).
  it('a hanging endpoint: once its first attempts timed out, the other key never waits behind it (the circuit)', async () => {
    const timeoutMs = 4000;
    // Its first 20 deliveries hold both batches for the timeout; the quiet key starts after they timed out.
    const waits = await quietWaits({
      noisyReply: 'hang',
      noisyBacklog: 40,
      quietFrom: timeoutMs + 300,
      timeoutMs,
    });
    // Behind one of the hanging endpoint's attempts, an event would wait up to the whole timeout.
    expect(Math.max(...waits)).toBeLessThan(timeoutMs / 2);
  }, 60_000);

  it('a slow endpoint with a backlog: the other key waits for at most one of its batches, not for its backlog (fair queues)', async () => {
    // Answers in 1.2 s, within the timeout: no circuit opens. 120 waiting = 6 rounds of 2 batches of 10.
    const slowMs = 1200;
    const waits = await quietWaits({
      noisyReply: { status: 204, delayMs: slowMs },
      noisyBacklog: 120,
      quietFrom: 100,
      timeoutMs: 5000,
    });
    // Behind the backlog (in order of arrival), an event would wait its 6 rounds: over 7 s.
    expect(Math.max(...waits)).toBeLessThan(2 * slowMs);
  }, 60_000);
});
