import { describe, expect, it } from 'vitest';
import { type CallRequest, telephonyUnavailable } from '#channels/telephony.ts';
import { createSendHandler } from '../../functions/send.ts';
import {
  apiEvent,
  check,
  createHarness,
  type Harness,
  parse,
  RecordingTelephony,
  spokenCode,
  startVerification,
  status,
  wrongCode,
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

const DAY = 86_400_000;
/** 20:00 UTC tomorrow: the UTC day ends four hours later. */
const evening = () => (Math.floor(Date.now() / DAY) + 1) * DAY + 20 * 3_600_000;

describe('who may be called', () => {
  const types = 'Only mobile, fixed_line, fixed_line_or_mobile numbers can be verified.';
  it.each([
    ['premium rate', '+19005550199', {}, 400, 'unsupported_number_type', types],
    ['premium rate (UK)', '+448451234567', {}, 400, 'unsupported_number_type', types],
    ['shared cost (FR)', '+33810123456', {}, 400, 'unsupported_number_type', types],
    ['shared cost (ES)', '+34901123456', {}, 400, 'unsupported_number_type', types],
    ['personal number (UK 070)', '+447012345678', {}, 400, 'unsupported_number_type', types],
    [
      'toll free, when VoIP is allowed too',
      '+18005550199',
      { ALLOWED_NUMBER_TYPES: 'MOBILE,VOIP' },
      400,
      'unsupported_number_type',
      'Only mobile, voip numbers can be verified.',
    ],
    [
      'Somalia',
      '+252612345678',
      {},
      403,
      'country_not_allowed',
      'Verifications to SO are not enabled for this service.',
    ],
    [
      'Nigeria',
      '+2348021234567',
      {},
      403,
      'country_not_allowed',
      'Verifications to NG are not enabled for this service.',
    ],
    [
      'France when only US is allowed',
      '+33612345678',
      { ALLOWED_COUNTRIES: 'US' },
      403,
      'country_not_allowed',
      'Verifications to FR are not enabled for this service.',
    ],
    [
      'a blocklisted prefix',
      '+14155550123',
      { BLOCKED_PREFIXES: '+1415555,+1900' },
      403,
      'number_blocked',
      'This number range is blocked for this service.',
    ],
  ])(
    'refuses %s with no write and no call, and says why',
    async (_name, phone, env, status, code, message) => {
      const h = await createHarness(env);
      const response = await send(h, phone);
      expect(response.statusCode).toBe(status);
      expect(parse(response)).toEqual({ error: { code, message } });
      expect(await h.scan()).toEqual([]);
      expect(h.telephony.calls).toHaveLength(0);
    },
  );

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
    h.clock.now = evening();
    const phones = Array.from({ length: 20 }, (_, i) => `+1415555${String(100 + i).padStart(4, '0')}`);
    const responses = await Promise.all(phones.map((phone) => send(h, phone)));
    expect(responses.filter((r) => r.statusCode === 202)).toHaveLength(5);
    const refused = responses.filter((r) => r.statusCode === 503);
    expect(refused).toHaveLength(15);
    expect(parse(refused[0] as { body: string })).toEqual({
      error: {
        code: 'daily_call_cap_reached',
        message: 'The service has sent as many verifications as it may today.',
      },
    });
    // Until the UTC day ends.
    expect(refused[0]?.headers?.['Retry-After']).toBe('14400');
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
    expect(parse(keyed[3] as { body: string })).toEqual({
      error: { code: 'rate_limited', message: 'This API key has sent too many verifications this minute.' },
    });
    expect(keyed[3]?.headers?.['Retry-After']).toBe('60');
    expect((await send(perKey, '+14155550209', { apiKeyId: 'other-key' })).statusCode).toBe(202);

    const perCountry = await createHarness({ COUNTRY_MAX_PER_HOUR: '2' });
    perCountry.clock.now = alignedStart();
    const country = [];
    for (let i = 0; i < 3; i++) country.push(await send(perCountry, `+3361234567${i}`));
    expect(country.map((r) => r.statusCode)).toEqual([202, 202, 429]);
    expect(country[2]?.headers?.['Retry-After']).toBe('3600');
    expect(parse(country[2] as { body: string })).toEqual({
      error: { code: 'rate_limited', message: 'Too many verifications to FR this hour; try again later.' },
    });
    expect((await send(perCountry, '+14155550210')).statusCode).toBe(202);
  });

  it("starts the day's limits afresh at UTC midnight", async () => {
    const h = await createHarness({ PHONE_MAX_PER_DAY: '1', API_KEY_MAX_PER_DAY: '2', DAILY_CALL_CAP: '3' });
    const midnight = (Math.floor(Date.now() / DAY) + 2) * DAY;
    h.clock.now = midnight - 60_000;
    expect((await send(h, '+14155550220')).statusCode).toBe(202);
    // The phone's day, then the key's day.
    expect((await send(h, '+14155550220')).statusCode).toBe(429);
    expect((await send(h, '+14155550221')).statusCode).toBe(202);
    expect((await send(h, '+14155550222')).statusCode).toBe(429);
    // The service's day, for another key.
    expect((await send(h, '+14155550223', { apiKeyId: 'other-key' })).statusCode).toBe(202);
    expect((await send(h, '+14155550224', { apiKeyId: 'other-key' })).statusCode).toBe(503);
    h.clock.now = midnight + 60_000;
    expect((await send(h, '+14155550220')).statusCode).toBe(202);
    expect((await send(h, '+14155550222')).statusCode).toBe(202);
    expect((await send(h, '+14155550224', { apiKeyId: 'other-key' })).statusCode).toBe(202);
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

  it('gives back what the shared caps and the phone took when the other refused, in the same round', async () => {
    const h = await createHarness({
      PHONE_MIN_GAP_SECONDS: '0',
      PHONE_MAX_PER_DAY: '1',
      COUNTRY_MAX_PER_HOUR: '3',
      DAILY_CALL_CAP: '2',
    });
    h.clock.now = alignedStart();
    expect((await send(h, '+14155550130')).statusCode).toBe(202);
    // Refused by the phone's day, beside country and spend caps that each took a slot (the cap's second).
    expect((await send(h, '+14155550130')).statusCode).toBe(429);
    // Given back: another phone still gets the day's second call.
    expect((await send(h, '+14155550131')).statusCode).toBe(202);
    // Refused by the spend cap, beside the phone's day, which took this phone's only call of the day.
    expect((await send(h, '+14155550132')).statusCode).toBe(503);
    const phoneDays = (await h.scan()).filter((item) => String(item.pk).startsWith('RATE#phone#'));
    expect(phoneDays.map((item) => Number(item.sends)).sort()).toEqual([0, 1, 1]);
    expect(h.telephony.calls).toHaveLength(2);
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

  it('gives back only the guesses a verification whose call failed did not test', async () => {
    const h = await createHarness({ PHONE_MAX_GUESSES_PER_DAY: '7' });
    // Codes tested while the call was being placed (the id is known from an Idempotency-Key replay), then
    // the provider refuses the call: the two tested guesses stay spent.
    const telephony = new (class extends RecordingTelephony {
      override async placeCall(request: CallRequest): Promise<never> {
        const code = wrongCode(spokenCode(h, request));
        for (let i = 0; i < 2; i++) await check(h, { id: request.verificationId, code });
        throw telephonyUnavailable();
      }
    })();
    const failing = createSendHandler({ ...h.depsFor('send'), telephony });
    const failed = await failing(
      apiEvent({ method: 'POST', resource: '/v1/verifications', body: { phone: '+14155550129' } }),
    );
    expect(failed.statusCode).toBe(502);
    const sent = await startVerification(h, '+14155550129');
    expect(parse(await status(h, sent.id))).toMatchObject({ attemptsLeft: 5 });
    expect((await send(h, '+14155550129')).statusCode).toBe(429);
  });
});

describe('counter lifetimes', () => {
  const MINUTE = 60_000;
  const HOUR = 60 * MINUTE;
  /** Until when a counter item matters: the end of the window it counts, or of what it holds. */
  const neededUntil = (item: Record<string, unknown>, guardWindowMs: number, codeTtlMs: number) => {
    const pk = String(item.pk);
    const last = pk.split('#').at(-1) ?? '';
    if (pk.startsWith('RATE#key#')) return (Number(last) + 1) * MINUTE;
    if (pk.startsWith('RATE#country#')) return (Number(last) + 1) * HOUR;
    if (/^RATE#(keyday|global|phone|guesses)#/.test(pk)) return Date.parse(last) + DAY;
    if (pk.startsWith('RATE#gap#')) return Number(item.lastSendAt) + 30_000;
    if (pk.startsWith('GUARD#') && last === 'pause')
      return Math.max(
        ...Object.entries(item).flatMap(([name, v]) => (name.startsWith('pausedUntil') ? [Number(v)] : [])),
      );
    // A fraud-guard window is judged until two windows and a code's life after it starts.
    if (pk.startsWith('GUARD#')) return (Number(last) + 2) * guardWindowMs + codeTtlMs;
    throw new Error(`a counter this test does not know: ${pk}`);
  };

  it('keeps every counter until the window it counts is over, with day-long fraud-guard windows too', async () => {
    const h = await createHarness({
      // Shard items too (lib/abuse/sharded-counter.ts): `#s<i>` sits before the window, which still ends the key.
      COUNTER_SHARDS: '4',
      PHONE_MIN_GAP_SECONDS: '30',
      FRAUD_GUARD_WINDOW_MINUTES: '1440',
      FRAUD_GUARD_MIN_CALLS: '2',
      FRAUD_GUARD_MIN_APPROVAL_RATE: '0.5',
    });
    const day = (Math.floor(Date.now() / DAY) + 1) * DAY;
    h.clock.now = day + HOUR;
    // Placed calls, one approved; a send refused by the phone's gap (what it took is given back); a call
    // not placed (its guesses are given back); then, the next day, the range paused on the first day's calls.
    for (const phone of ['+12025550401', '+12025550402']) expect((await send(h, phone)).statusCode).toBe(202);
    const approved = await startVerification(h, '+14155550403');
    await check(h, { id: approved.id, code: approved.code });
    h.clock.advance(10_000);
    expect((await send(h, '+14155550403')).statusCode).toBe(429);
    h.telephony.fail = telephonyUnavailable();
    expect((await send(h, '+14155550404')).statusCode).toBe(502);
    h.telephony.fail = undefined;
    h.clock.now = day + DAY + 10 * MINUTE;
    expect((await send(h, '+12025550405')).statusCode).toBe(429);

    const counters = (await h.scan()).filter((item) => /^(RATE|GUARD)#/.test(String(item.pk)));
    expect(counters.some((item) => String(item.pk).endsWith('#pause'))).toBe(true);
    for (const item of counters)
      expect(Number(item.ttl) * 1000, String(item.pk)).toBeGreaterThanOrEqual(
        neededUntil(item, DAY, 300_000),
      );
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
    expect(parse(reused)).toEqual({
      error: {
        code: 'idempotency_key_reused',
        message: 'This Idempotency-Key was used with another request body.',
      },
    });
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
    expect(parse(response)).toEqual({
      error: {
        code: 'invalid_request',
        message: 'Idempotency-Key must be 1 to 255 visible ASCII characters.',
      },
    });
    expect(await h.scan()).toEqual([]);
  });
});

describe('voice fraud guard', () => {
  it('pauses a number range whose calls go unapproved, and leaves other ranges alone', async () => {
    const h = await createHarness(
      {
        FRAUD_GUARD_MIN_CALLS: '6',
        FRAUD_GUARD_MIN_APPROVAL_RATE: '0.5',
        FRAUD_GUARD_WINDOW_MINUTES: '10',
        FRAUD_GUARD_PAUSE_MINUTES: '60',
      },
      { stream: true },
    );
    h.clock.now = alignedStart();
    // A burst to +1202… that nobody approves, and one approved call to +1415….
    for (let i = 0; i < 6; i++)
      expect((await send(h, `+120255501${String(i).padStart(2, '0')}`)).statusCode).toBe(202);
    const good = await startVerification(h, '+14155550140');
    await check(h, { id: good.id, code: good.code });
    // The events function counts approvals from the table's stream.
    await h.drainStream();
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
    // Half an hour on, the judged window has moved past the burst, and the pause still holds.
    h.clock.advance(30 * 60_000);
    const still = await send(h, '+12025550152');
    expect(still.statusCode).toBe(429);
    expect(still.headers?.['Retry-After']).toBe('1800');
    // The pause ends.
    h.clock.advance(30 * 60_000);
    expect((await send(h, '+12025550151')).statusCode).toBe(202);
  });

  it('judges a window only once all its codes have expired, so approvals that come late still count', async () => {
    const h = await createHarness(
      { FRAUD_GUARD_MIN_CALLS: '6', FRAUD_GUARD_MIN_APPROVAL_RATE: '0.5' },
      { stream: true },
    );
    const start = alignedStart();
    // Late in a 10-minute window, six calls to +1202… and six to +1303…; codes live 5 minutes.
    h.clock.now = start + 9 * 60_000;
    const late = [];
    for (let i = 0; i < 6; i++) {
      late.push(await startVerification(h, `+120255502${String(i).padStart(2, '0')}`));
      await startVerification(h, `+130355502${String(i).padStart(2, '0')}`);
    }
    // A minute into the next window their codes still run: neither range is judged yet.
    h.clock.now = start + 11 * 60_000;
    expect((await send(h, '+12025550290')).statusCode).toBe(202);
    expect((await send(h, '+13035550290')).statusCode).toBe(202);
    // Half the +1202… calls are approved just before their codes expire.
    h.clock.now = start + 13 * 60_000;
    for (const sent of late.slice(0, 3))
      expect(parse(await check(h, { id: sent.id, code: sent.code }))).toMatchObject({ valid: true });
    await h.drainStream();
    // Every code of the window has expired: it is judged with those approvals.
    h.clock.now = start + 15 * 60_000;
    expect((await send(h, '+12025550291')).statusCode).toBe(202);
    expect((await send(h, '+13035550291')).statusCode).toBe(429);
  });

  it('pauses a range where too few calls are approved, even when some are', async () => {
    const h = await createHarness(
      { FRAUD_GUARD_MIN_CALLS: '6', FRAUD_GUARD_MIN_APPROVAL_RATE: '0.5' },
      { stream: true },
    );
    h.clock.now = alignedStart();
    for (let i = 0; i < 6; i++) {
      const sent = await startVerification(h, `+120255502${String(i).padStart(2, '0')}`);
      if (i < 2) await check(h, { id: sent.id, code: sent.code });
    }
    await h.drainStream();
    h.clock.advance(15 * 60_000);
    expect((await send(h, '+12025550210')).statusCode).toBe(429);
  });

  it('watches a range as the calling code and the first national digits', async () => {
    const h = await createHarness({ FRAUD_GUARD_MIN_CALLS: '6', FRAUD_GUARD_MIN_APPROVAL_RATE: '0.5' });
    h.clock.now = alignedStart();
    // Unapproved calls to +33 612…, the default three national digits.
    for (let i = 0; i < 6; i++) expect((await send(h, `+3361234560${i}`)).statusCode).toBe(202);
    h.clock.advance(15 * 60_000);
    expect((await send(h, '+33612345609')).statusCode).toBe(429);
    // +33 613… and +33 761… are other ranges.
    expect((await send(h, '+33613345609')).statusCode).toBe(202);
    expect((await send(h, '+33761345609')).statusCode).toBe(202);
  });

  it('does not pause a range whose calls are approved', async () => {
    const h = await createHarness(
      { FRAUD_GUARD_MIN_CALLS: '4', FRAUD_GUARD_MIN_APPROVAL_RATE: '0.5' },
      { stream: true },
    );
    h.clock.now = alignedStart();
    for (let i = 0; i < 4; i++) {
      const sent = await startVerification(h, `+120255501${String(60 + i)}`);
      if (i % 2 === 0) await check(h, { id: sent.id, code: sent.code });
    }
    await h.drainStream();
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

  it('checks a right code by id with exactly two conditional writes (reserve, approve); the events function counts it', async () => {
    const h = await createHarness({}, { stream: true });
    const sent = await startVerification(h, '+14155550182');
    await h.drainStream();
    h.dynamoCalls.length = 0;
    await check(h, { id: sent.id, code: sent.code });
    expect(h.dynamoCalls).toEqual(['UpdateItemCommand', 'UpdateItemCommand']);
    // Off the check path: one transaction (the approval's marker and the window's count) from the stream.
    h.dynamoCalls.length = 0;
    await h.drainStream();
    expect(h.dynamoCalls).toEqual(['TransactWriteItemsCommand']);
  });
});
