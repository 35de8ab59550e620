import { describe, expect, it } from 'vitest';
import { telephonyUnavailable } from '../../lib/telephony.ts';
import {
  apiEvent,
  check,
  createHarness,
  type Harness,
  parse,
  startVerification,
  status,
} from '../support/harness.ts';

const send = (h: Harness, phone: string, options: { apiKeyId?: string; key?: string; body?: unknown } = {}) =>
  h.send(
    apiEvent({
      method: 'POST',
      resource: '/v1/verifications',
      body: options.body ?? { phone },
      ...(options.apiKeyId && { apiKeyId: options.apiKeyId }),
      ...(options.key && { headers: { 'Idempotency-Key': options.key } }),
    }),
  );

const statuses = (responses: Array<{ statusCode: number }>) => responses.map((r) => r.statusCode).sort();

/** A clock moment at the start of a 10-minute window, an hour ahead of the wall clock (TTL stays in the future). */
const alignedStart = () => (Math.floor(Date.now() / 3_600_000) + 1) * 3_600_000;

describe('who may be called', () => {
  it.each([
    ['premium rate', '+19005550199', {}, 400, 'unsupported_number_type'],
    ['premium rate (UK)', '+448451234567', {}, 400, 'unsupported_number_type'],
    ['shared cost (FR)', '+33810123456', {}, 400, 'unsupported_number_type'],
    ['shared cost (ES)', '+34901123456', {}, 400, 'unsupported_number_type'],
    ['personal number (UK 070)', '+447012345678', {}, 400, 'unsupported_number_type'],
    ['toll free', '+18005550199', {}, 400, 'unsupported_number_type'],
    ['Somalia', '+252612345678', {}, 403, 'country_not_allowed'],
    ['Nigeria', '+2348021234567', {}, 403, 'country_not_allowed'],
    [
      'France when only US is allowed',
      '+33612345678',
      { ALLOWED_COUNTRIES: 'US' },
      403,
      'country_not_allowed',
    ],
    ['a blocklisted prefix', '+14155550123', { BLOCKED_PREFIXES: '+1415555,+1900' }, 403, 'number_blocked'],
  ])('refuses %s with no write and no call', async (_name, phone, env, status, code) => {
    const h = await createHarness(env);
    const response = await send(h, phone);
    expect(response.statusCode).toBe(status);
    expect(parse(response)).toEqual({ error: { code, message: expect.any(String) } });
    expect(await h.scan()).toEqual([]);
    expect(h.telephony.calls).toHaveLength(0);
  });

  it('calls a country once it is allowed, and VoIP numbers once that type is allowed', async () => {
    const h = await createHarness({ ALLOWED_COUNTRIES: 'US,SO,NL', ALLOWED_NUMBER_TYPES: 'MOBILE,VOIP' });
    expect((await send(h, '+252612345678')).statusCode).toBe(202);
    expect((await send(h, '+31850123456')).statusCode).toBe(202);
  });
});

describe('how often', () => {
  const limits = {
    PHONE_MIN_GAP_SECONDS: '0',
    PHONE_MAX_PER_10_MINUTES: '3',
    PHONE_MAX_PER_DAY: '5',
  };

  it('admits exactly the per-10-minute cap for one phone, sequentially, with Retry-After', async () => {
    const h = await createHarness(limits);
    h.clock.now = alignedStart();
    const responses = [];
    for (let i = 0; i < 5; i++) responses.push(await send(h, '+14155550123'));
    expect(responses.map((r) => r.statusCode)).toEqual([202, 202, 202, 429, 429]);
    expect(parse(responses[3] as { body: string })).toMatchObject({ error: { code: 'rate_limited' } });
    expect(responses[3]?.headers?.['Retry-After']).toBe('600');
    expect(h.telephony.calls).toHaveLength(3);
    // The next window admits again, up to the day's cap of 5.
    h.clock.advance(600_000);
    expect(
      statuses([await send(h, '+14155550123'), await send(h, '+14155550123'), await send(h, '+14155550123')]),
    ).toEqual([202, 202, 429]);
    expect(h.telephony.calls).toHaveLength(5);
  });

  it('admits exactly the cap when 20 sends to one phone race', async () => {
    const h = await createHarness(limits);
    h.clock.now = alignedStart();
    const responses = await Promise.all(Array.from({ length: 20 }, () => send(h, '+14155550124')));
    expect(responses.filter((r) => r.statusCode === 202)).toHaveLength(3);
    expect(responses.filter((r) => r.statusCode === 429)).toHaveLength(17);
    expect(h.telephony.calls).toHaveLength(3);
  });

  it('keeps a minimum gap between calls to one phone', async () => {
    const h = await createHarness({ PHONE_MIN_GAP_SECONDS: '30' });
    h.clock.now = alignedStart();
    expect((await send(h, '+14155550125')).statusCode).toBe(202);
    h.clock.advance(10_000);
    const early = await send(h, '+14155550125');
    expect(early.statusCode).toBe(429);
    // Phone-scope refusals say when the 10-minute window ends, never when another call was placed.
    expect(early.headers?.['Retry-After']).toBe('590');
    h.clock.advance(20_000);
    expect((await send(h, '+14155550125')).statusCode).toBe(202);
  });

  it('holds the daily call cap under parallel sends to many phones, with 503 and Retry-After', async () => {
    const h = await createHarness({ DAILY_CALL_CAP: '5' });
    const phones = Array.from({ length: 20 }, (_, i) => `+1415555${String(100 + i).padStart(4, '0')}`);
    const responses = await Promise.all(phones.map((phone) => send(h, phone)));
    expect(responses.filter((r) => r.statusCode === 202)).toHaveLength(5);
    const refused = responses.filter((r) => r.statusCode === 503);
    expect(refused).toHaveLength(15);
    expect(parse(refused[0] as { body: string })).toMatchObject({
      error: { code: 'daily_call_cap_reached' },
    });
    expect(Number(refused[0]?.headers?.['Retry-After'])).toBeGreaterThan(0);
    expect(h.telephony.calls).toHaveLength(5);
    // Refused sends gave back what they took from the other limits: every phone may still be called.
    const phoneItems = (await h.scan()).filter((item) => String(item.pk).startsWith('RATE#phone#'));
    expect(phoneItems.reduce((sum, item) => sum + Number(item.sends), 0)).toBe(5);
  });

  it('limits sends per API key per minute and per country per hour', async () => {
    const perKey = await createHarness({ API_KEY_MAX_PER_MINUTE: '3' });
    perKey.clock.now = alignedStart();
    const keyed = [];
    for (let i = 0; i < 4; i++) keyed.push(await send(perKey, `+1415555020${i}`));
    expect(keyed.map((r) => r.statusCode)).toEqual([202, 202, 202, 429]);
    expect((await send(perKey, '+14155550209', { apiKeyId: 'other-key' })).statusCode).toBe(202);

    const perCountry = await createHarness({ COUNTRY_MAX_PER_HOUR: '2' });
    perCountry.clock.now = alignedStart();
    const country = [];
    for (let i = 0; i < 3; i++) country.push(await send(perCountry, `+3361234567${i}`));
    expect(country.map((r) => r.statusCode)).toEqual([202, 202, 429]);
    expect(country[2]?.headers?.['Retry-After']).toBe('3600');
    expect((await send(perCountry, '+14155550210')).statusCode).toBe(202);
  });

  it('leaves the phone untouched when another limit refuses the send', async () => {
    const h = await createHarness({ API_KEY_MAX_PER_MINUTE: '1', PHONE_MIN_GAP_SECONDS: '30' });
    h.clock.now = alignedStart() - 5_000;
    expect((await send(h, '+14155550230')).statusCode).toBe(202);
    expect((await send(h, '+14155550231')).statusCode).toBe(429);
    // A new minute: the key may send again, and the refused phone was never "called moments ago".
    h.clock.advance(5_000);
    expect((await send(h, '+14155550231')).statusCode).toBe(202);
  });

  it('gives back everything a send refused by the phone took', async () => {
    const h = await createHarness({
      PHONE_MIN_GAP_SECONDS: '30',
      API_KEY_MAX_PER_MINUTE: '2',
      API_KEY_MAX_PER_DAY: '3',
      COUNTRY_MAX_PER_HOUR: '3',
      DAILY_CALL_CAP: '3',
      PHONE_MAX_GUESSES_PER_DAY: '10',
    });
    h.clock.now = alignedStart();
    expect((await send(h, '+14155550126')).statusCode).toBe(202);
    h.clock.advance(1_000);
    // Refused by the phone's gap, after the key, country, spend and guess limits had each taken their share.
    expect((await send(h, '+14155550126')).statusCode).toBe(429);
    h.clock.advance(1_000);
    expect((await send(h, '+14155550127')).statusCode).toBe(202);
    // A new minute: the day's third call, and the phone's second full set of five guesses.
    h.clock.advance(60_000);
    const third = await startVerification(h, '+14155550126');
    expect(parse(await status(h, third.id))).toMatchObject({ attemptsLeft: 5 });
    expect(h.telephony.calls).toHaveLength(3);
  });

  it('gives back the guesses of a call that was not placed', async () => {
    const h = await createHarness({ PHONE_MAX_GUESSES_PER_DAY: '10' });
    h.telephony.fail = telephonyUnavailable();
    for (let i = 0; i < 3; i++) expect((await send(h, '+14155550128')).statusCode).toBe(502);
    h.telephony.fail = undefined;
    const sent = [await startVerification(h, '+14155550128'), await startVerification(h, '+14155550128')];
    for (const { id } of sent) expect(parse(await status(h, id))).toMatchObject({ attemptsLeft: 5 });
    // The budget itself still holds: both verifications took all of it.
    expect((await send(h, '+14155550128')).statusCode).toBe(429);
  });
});

describe('Idempotency-Key', () => {
  it('replays the first response and places no second call', async () => {
    const h = await createHarness();
    const first = await send(h, '+14155550130', { key: 'order-1' });
    const again = await send(h, '', { key: 'order-1', body: { phone: '+14155550130' } });
    expect(first.statusCode).toBe(202);
    expect(again.statusCode).toBe(202);
    expect(again.body).toBe(first.body);
    expect(again.headers?.['Idempotent-Replayed']).toBe('true');
    expect(h.telephony.calls).toHaveLength(1);
  });

  it('compares bodies as canonical JSON', async () => {
    const h = await createHarness();
    const a = await send(h, '', { key: 'k', body: { phone: '+14155550131', locale: 'fr-FR' } });
    const b = await h.send(
      apiEvent({
        method: 'POST',
        resource: '/v1/verifications',
        rawBody: '{ "locale": "fr-FR",\n  "phone": "+14155550131" }',
        headers: { 'Idempotency-Key': 'k' },
      }),
    );
    expect(b.body).toBe(a.body);
    expect(h.telephony.calls).toHaveLength(1);
  });

  it('refuses the same key with another body: 409 idempotency_key_reused', async () => {
    const h = await createHarness();
    await send(h, '+14155550132', { key: 'k2' });
    const reused = await send(h, '+14155550133', { key: 'k2' });
    expect(reused.statusCode).toBe(409);
    expect(parse(reused)).toMatchObject({ error: { code: 'idempotency_key_reused' } });
    expect(h.telephony.calls).toHaveLength(1);
  });

  it('answers concurrent duplicates with 409 in progress, and places one call', async () => {
    const h = await createHarness();
    h.telephony.delayMs = 300;
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => send(h, '+14155550134', { key: 'k3' })),
    );
    expect(responses.filter((r) => r.statusCode === 202)).toHaveLength(1);
    const conflicts = responses.filter((r) => r.statusCode === 409);
    expect(conflicts).toHaveLength(7);
    for (const conflict of conflicts) {
      expect(parse(conflict)).toMatchObject({ error: { code: 'idempotency_request_in_progress' } });
      expect(conflict.headers?.['Retry-After']).toBe('1');
    }
    expect(h.telephony.calls).toHaveLength(1);
  });

  it('replays a 4xx, and a 502 once the call request went out (a Plivo timeout may have placed it)', async () => {
    const h = await createHarness();
    const invalid = await send(h, '+1415', { key: 'k4' });
    expect(invalid.statusCode).toBe(400);
    const replayed = await send(h, '+1415', { key: 'k4' });
    expect(replayed.body).toBe(invalid.body);
    expect(replayed.headers?.['Idempotent-Replayed']).toBe('true');

    h.telephony.fail = telephonyUnavailable();
    const failed = await send(h, '+14155550135', { key: 'k5' });
    expect(failed.statusCode).toBe(502);
    h.telephony.fail = undefined;
    const again = await send(h, '+14155550135', { key: 'k5' });
    expect(again.body).toBe(failed.body);
    expect(again.headers?.['Idempotent-Replayed']).toBe('true');
    expect(h.telephony.calls).toHaveLength(1);
  });

  it('scopes keys to the API key', async () => {
    const h = await createHarness();
    await send(h, '+14155550136', { key: 'shared', apiKeyId: 'tenant-a' });
    const other = await send(h, '+14155550137', { key: 'shared', apiKeyId: 'tenant-b' });
    expect(other.statusCode).toBe(202);
    expect(h.telephony.calls).toHaveLength(2);
  });

  it('refuses a malformed key', async () => {
    const h = await createHarness();
    const response = await send(h, '+14155550138', { key: 'x'.repeat(300) });
    expect(response.statusCode).toBe(400);
    expect(parse(response)).toMatchObject({ error: { code: 'invalid_request' } });
    expect(await h.scan()).toEqual([]);
  });
});

describe('voice fraud guard', () => {
  it('pauses a number range whose calls go unapproved, and leaves other ranges alone', async () => {
    const h = await createHarness({
      FRAUD_GUARD_MIN_CALLS: '6',
      FRAUD_GUARD_MIN_APPROVAL_RATE: '0.5',
      FRAUD_GUARD_WINDOW_MINUTES: '10',
      FRAUD_GUARD_PAUSE_MINUTES: '60',
    });
    h.clock.now = alignedStart();
    // A burst to +1202… that nobody approves, and one approved call to +1415….
    for (let i = 0; i < 6; i++)
      expect((await send(h, `+120255501${String(i).padStart(2, '0')}`)).statusCode).toBe(202);
    const good = await startVerification(h, '+14155550140');
    await check(h, { id: good.id, code: good.code });
    // Once that window's codes have all expired, it is judged.
    h.clock.advance(10 * 60_000 + 5 * 60_000);
    const paused = await send(h, '+12025550150');
    expect(paused.statusCode).toBe(429);
    expect(parse(paused)).toMatchObject({
      error: { code: 'rate_limited', message: expect.stringContaining('paused') },
    });
    // Paused for the full hour from the moment the guard noticed.
    expect(paused.headers?.['Retry-After']).toBe('3600');
    expect(h.metrics.counted.map((c) => c.name)).toContain('FraudGuardPaused');
    expect((await send(h, '+14155550141')).statusCode).toBe(202);
    // The pause ends.
    h.clock.advance(60 * 60_000);
    expect((await send(h, '+12025550151')).statusCode).toBe(202);
  });

  it('does not pause a range whose calls are approved', async () => {
    const h = await createHarness({ FRAUD_GUARD_MIN_CALLS: '4', FRAUD_GUARD_MIN_APPROVAL_RATE: '0.5' });
    h.clock.now = alignedStart();
    for (let i = 0; i < 4; i++) {
      const sent = await startVerification(h, `+120255501${String(60 + i)}`);
      if (i % 2 === 0) await check(h, { id: sent.id, code: sent.code });
    }
    h.clock.advance(15 * 60_000);
    expect((await send(h, '+12025550170')).statusCode).toBe(202);
  });
});

describe('enumeration safety and round trips', () => {
  it('answers an unknown phone and a phone without a pending verification with the same 404 and the same work', async () => {
    const h = await createHarness();
    const done = await startVerification(h, '+14155550180');
    await check(h, { id: done.id, code: done.code });

    h.dynamoCalls.length = 0;
    const unknown = await check(h, { phone: '+14155550181', code: done.code });
    const unknownCalls = [...h.dynamoCalls];
    h.dynamoCalls.length = 0;
    const notPending = await check(h, { phone: '+14155550180', code: done.code });
    expect(unknown.statusCode).toBe(404);
    expect(notPending.statusCode).toBe(404);
    expect(unknown.body).toBe(notPending.body);
    expect(h.dynamoCalls).toEqual(unknownCalls);
    expect(unknownCalls).toEqual(['GetItemCommand', 'UpdateItemCommand']);
  });

  it('checks a right code by id with two conditional writes (reserve, approve) plus the fraud guard count', async () => {
    const h = await createHarness();
    const sent = await startVerification(h, '+14155550182');
    h.dynamoCalls.length = 0;
    await check(h, { id: sent.id, code: sent.code });
    expect(h.dynamoCalls).toEqual(['UpdateItemCommand', 'UpdateItemCommand', 'UpdateItemCommand']);
  });
});
