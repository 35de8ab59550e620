import { beforeAll, describe, expect, it } from 'vitest';
import { openWebhookSecret, secretBytes } from '#events/webhook-secret.ts';
import { parseKeyRing } from '#platform/keyring.ts';
import { API_KEY_ID, apiEvent, createHarness, type Harness, parse } from '../support/harness.ts';

/** PUT, GET and DELETE /v1/webhook: one endpoint per API key, its secret shown once and stored sealed. */

const put = (h: Harness, body: unknown, apiKeyId = API_KEY_ID) =>
  h.verify(apiEvent({ method: 'PUT', resource: '/v1/webhook', body, apiKeyId }));
const get = (h: Harness, apiKeyId = API_KEY_ID) =>
  h.verify(apiEvent({ method: 'GET', resource: '/v1/webhook', apiKeyId }));
const remove = (h: Harness, apiKeyId = API_KEY_ID) =>
  h.verify(apiEvent({ method: 'DELETE', resource: '/v1/webhook', apiKeyId }));

const HOOK = {
  url: 'https://hooks.example.com/voice-otp?tenant=7',
  events: ['verification.approved', 'call.ended'],
};

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});

describe('PUT /v1/webhook', () => {
  it('sets the endpoint and answers a new whsec_ secret of 32 random bytes, stored only sealed', async () => {
    const response = await put(h, HOOK, 'key-put');
    expect(response.statusCode).toBe(200);
    const body = parse(response);
    expect(body).toEqual({ ...HOOK, secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/) });
    const secret = body.secret as string;
    expect(secretBytes(secret)).toHaveLength(32);

    const [item] = (await h.scan()).filter((each) => each.pk === 'WEBHOOK#key-put');
    expect(item).toEqual({
      pk: 'WEBHOOK#key-put',
      url: HOOK.url,
      events: HOOK.events,
      sealedSecret: expect.any(String),
      updatedAt: h.clock.now,
    });
    const stored = JSON.stringify(item);
    expect(stored).not.toContain(secret.slice(6));
    expect(stored).not.toContain(secretBytes(secret).toString('hex'));
    const ring = parseKeyRing(h.keyRingSecret);
    expect(openWebhookSecret(ring, 'key-put', item?.sealedSecret as string)).toBe(secret);
    // Sealed for this API key alone: copied to another key's item, it does not open.
    expect(openWebhookSecret(ring, 'key-other', item?.sealedSecret as string)).toBeUndefined();
  });

  it('issues a new secret on every PUT and replaces the endpoint', async () => {
    const first = parse(await put(h, HOOK, 'key-again'));
    const second = parse(
      await put(h, { url: 'https://other.example.org/h', events: ['call.ended'] }, 'key-again'),
    );
    expect(second.secret).not.toBe(first.secret);
    expect(parse(await get(h, 'key-again'))).toEqual({
      url: 'https://other.example.org/h',
      events: ['call.ended'],
    });
    expect((await h.scan()).filter((each) => each.pk === 'WEBHOOK#key-again')).toHaveLength(1);
  });

  it.each([
    'https://hooks.example.com/voice-otp',
    'https://hooks.example.com:8443/a/b',
    'https://8.8.8.8/hook',
    'https://[2606:4700:4700::1111]/hook',
  ])('accepts the public URL %s', async (url) => {
    const response = await put(h, { url, events: ['verification.started'] }, 'key-public');
    expect(response.statusCode).toBe(200);
    expect(parse(response).url).toBe(url);
  });

  it('says what is wrong with its events', async () => {
    for (const [events, message] of [
      [undefined, 'events is required.'],
      ['verification.approved', 'events must be a JSON array of event types.'],
      [[], 'events must name at least one event type.'],
      [['call.ended', 'call.ended'], 'events names an event type twice.'],
    ] as const) {
      const response = await put(h, { url: HOOK.url, ...(events !== undefined && { events }) }, 'key-events');
      expect(response.statusCode).toBe(400);
      expect(parse(response)).toEqual({ error: { code: 'invalid_request', message } });
    }
  });

  it('accepts every event type together', async () => {
    const events = [
      'verification.started',
      'verification.approved',
      'verification.canceled',
      'verification.failed',
      'verification.max_attempts_reached',
      'call.ended',
      'message.status',
    ];
    expect(parse(await put(h, { url: HOOK.url, events }, 'key-all')).events).toEqual(events);
  });
});

describe('GET and DELETE /v1/webhook', () => {
  it('GET shows the url and events, never the secret; DELETE removes it; then both answer 404', async () => {
    await put(h, HOOK, 'key-life');
    const shown = await get(h, 'key-life');
    expect(shown.statusCode).toBe(200);
    expect(parse(shown)).toEqual(HOOK);

    const deleted = await remove(h, 'key-life');
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');
    expect((await h.scan()).filter((each) => each.pk === 'WEBHOOK#key-life')).toEqual([]);

    for (const response of [await get(h, 'key-life'), await remove(h, 'key-life')]) {
      expect(response.statusCode).toBe(404);
      expect(parse(response)).toEqual({
        error: { code: 'webhook_not_found', message: 'No webhook is set for this API key.' },
      });
    }
  });

  it("is per API key: another key neither sees nor deletes this key's webhook", async () => {
    await put(h, HOOK, 'key-owner');
    expect((await get(h, 'key-stranger')).statusCode).toBe(404);
    expect((await remove(h, 'key-stranger')).statusCode).toBe(404);
    expect((await get(h, 'key-owner')).statusCode).toBe(200);
  });
});

describe('the local stack setting WEBHOOK_ALLOW_LOCALHOST', () => {
  it.each(['http://127.0.0.1:8080/hook', 'http://localhost:8080/hook'])(
    'lets %s through when on',
    async (url) => {
      const local = await createHarness({ WEBHOOK_ALLOW_LOCALHOST: 'true' });
      const response = await put(local, { url, events: ['call.ended'] });
      expect(response.statusCode).toBe(200);
    },
  );

  it.each([
    'http://10.0.0.1/hook',
    'http://[::1]:8080/hook',
    'http://127.0.0.2/hook',
    'http://hooks.example.com/hook',
    'https://169.254.169.254/latest/meta-data/',
  ])('still refuses %s', async (url) => {
    const local = await createHarness({ WEBHOOK_ALLOW_LOCALHOST: 'true' });
    const response = await put(local, { url, events: ['call.ended'] });
    expect(response.statusCode).toBe(400);
    expect(parse(response).error).toMatchObject({ code: 'invalid_webhook_url' });
    expect((await local.scan()).filter((each) => String(each.pk).startsWith('WEBHOOK#'))).toEqual([]);
  });
});
