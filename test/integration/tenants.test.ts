import { describe, expect, it, vi } from 'vitest';
import { callRejected } from '#channels/telephony.ts';
import {
  apiEvent,
  check,
  createHarness,
  type Harness,
  parse,
  spokenCode,
  startVerification,
  status,
  wrongCode,
} from '../support/harness.ts';

/** One tenant's apps must not be able to lock out, pause or read the traffic of another tenant's. */

const send = (h: Harness, phone: string, apiKeyId = 'tenant-a') =>
  h.send(apiEvent({ method: 'POST', resource: '/v1/verifications', body: { phone }, apiKeyId }));

/** The start of the next hour: windows begin there, and it is ahead of the wall clock (TTL stays future). */
const alignedStart = () => (Math.floor(Date.now() / 3_600_000) + 1) * 3_600_000;

const DAY = 86_400_000;
/** 20:00 UTC tomorrow: the UTC day ends four hours later. */
const evening = () => (Math.floor(Date.now() / DAY) + 1) * DAY + 20 * 3_600_000;

/** Every verification stored for one API key. */
const verificationsOf = async (h: Harness, apiKeyId: string) =>
  (await h.scan()).filter(
    (item) => String(item.pk).startsWith('VERIFICATION#') && item.apiKeyId === apiKeyId,
  );

describe('guess budget per (API key, phone)', () => {
  it('reserves each verification’s attempts from the day’s budget, and refuses once none remain', async () => {
    const h = await createHarness({ PHONE_MAX_GUESSES_PER_DAY: '12' });
    const phone = '+14155550300';
    const attempts = [];
    for (let i = 0; i < 3; i++) {
      const { id } = await startVerification(h, phone, 'tenant-a');
      attempts.push(parse(await status(h, id, 'tenant-a')).attemptsLeft);
    }
    expect(attempts).toEqual([5, 5, 2]);
    expect((await send(h, phone)).statusCode).toBe(429);
    expect(h.telephony.calls).toHaveLength(3);
    // Another key for the same phone, and the same key for another phone, have budgets of their own.
    const other = await startVerification(h, phone, 'tenant-b');
    expect(parse(await status(h, other.id, 'tenant-b'))).toMatchObject({ attemptsLeft: 5 });
    expect((await send(h, '+14155550301')).statusCode).toBe(202);
  });

  it("does not let key A's wrong checks block key B's sends to the phone", async () => {
    const h = await createHarness({ PHONE_MAX_GUESSES_PER_DAY: '25' });
    const phone = '+14155550302';
    for (let i = 0; i < 5; i++) {
      const sent = await startVerification(h, phone, 'tenant-a');
      for (let j = 0; j < 5; j++) await check(h, { id: sent.id, code: wrongCode(sent.code) }, 'tenant-a');
    }
    // 25 wrong codes: key A's budget for this phone is spent for the day.
    expect((await send(h, phone, 'tenant-a')).statusCode).toBe(429);
    const b = await startVerification(h, phone, 'tenant-b');
    expect(parse(await status(h, b.id, 'tenant-b'))).toMatchObject({ attemptsLeft: 5 });
    expect(parse(await check(h, { id: b.id, code: b.code }, 'tenant-b'))).toMatchObject({ valid: true });
  });

  it('never lets the codes tested for one (API key, phone) pass the budget, however sends and checks race', async () => {
    const budget = 23;
    for (let run = 0; run < 4; run++) {
      const h = await createHarness({ PHONE_MAX_GUESSES_PER_DAY: String(budget) });
      const phone = '+14155550303';
      const codeOf = (id: string) => {
        const call = h.telephony.calls.find((c) => c.verificationId === id);
        if (!call) throw new Error('no call');
        return spokenCode(h, call);
      };
      // Every send races the others; as each is admitted, eight wrong codes race against it.
      const race = (apiKeyId: string, sends: number) =>
        Promise.all(
          Array.from({ length: sends }, async () => {
            const response = await send(h, phone, apiKeyId);
            if (response.statusCode !== 202) return response.statusCode;
            const id = parse(response).id as string;
            const code = wrongCode(codeOf(id));
            await Promise.all(Array.from({ length: 8 }, () => check(h, { id, code }, apiKeyId)));
            return 202;
          }),
        );
      const [a, b] = await Promise.all([race('tenant-a', 9), race('tenant-b', 2)]);
      expect(a.filter((s) => s === 202)).toHaveLength(5);
      expect(a.filter((s) => s === 429)).toHaveLength(4);
      const ofA = await verificationsOf(h, 'tenant-a');
      const reserved = ofA.reduce((sum, v) => sum + Number(v.maxAttempts), 0);
      const tested = ofA.reduce((sum, v) => sum + Number(v.attempts), 0);
      expect(reserved).toBe(budget);
      expect(tested).toBeLessThanOrEqual(budget);
      // Key B's budget for the same phone is untouched by A's guesses.
      expect(b).toEqual([202, 202]);
      for (const v of await verificationsOf(h, 'tenant-b')) expect(v.maxAttempts).toBe(5);
    }
  });
});

describe('phone-scope refusals', () => {
  it('are byte-identical whichever limit refused and whoever used it', async () => {
    const at = alignedStart() + 2 * 60_000;
    const phone = '+14155550310';
    // Each limit met at the same instant: by another tenant's call for the phone limits, by the key itself
    // for its guess budget.
    const cases: Array<[Record<string, string>, string]> = [
      [{ PHONE_MIN_GAP_SECONDS: '30' }, 'tenant-b'],
      [{ PHONE_MAX_PER_10_MINUTES: '1' }, 'tenant-b'],
      [{ PHONE_MAX_PER_DAY: '1' }, 'tenant-b'],
      [{ PHONE_MAX_GUESSES_PER_DAY: '5' }, 'tenant-a'],
    ];
    const refusals = [];
    for (const [env, earlier] of cases) {
      const h = await createHarness(env);
      h.clock.now = at - 10_000;
      expect((await send(h, phone, earlier)).statusCode).toBe(202);
      h.clock.now = at;
      const refused = await send(h, phone, 'tenant-a');
      expect(refused.statusCode).toBe(429);
      refusals.push({ body: refused.body, retryAfter: refused.headers?.['Retry-After'] });
    }
    expect(new Set(refusals.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(refusals[0]?.retryAfter).toBe('480');
    // One message for every phone limit: it names none of them.
    expect(parse(refusals[0] as { body: string })).toEqual({
      error: {
        code: 'rate_limited',
        message: 'This phone cannot receive another verification right now; try again later.',
      },
    });
  });
});

describe('per-key daily cap', () => {
  it('holds under parallel sends and leaves other keys their share', async () => {
    const h = await createHarness({ API_KEY_MAX_PER_DAY: '4' });
    h.clock.now = evening();
    const phones = Array.from({ length: 12 }, (_, i) => `+1415555${String(320 + i).padStart(4, '0')}`);
    const responses = await Promise.all(phones.map((phone) => send(h, phone)));
    expect(responses.filter((r) => r.statusCode === 202)).toHaveLength(4);
    const refused = responses.filter((r) => r.statusCode === 429);
    expect(refused).toHaveLength(8);
    expect(parse(refused[0] as { body: string })).toEqual({
      error: {
        code: 'rate_limited',
        message: 'This API key has sent as many verifications as it may today.',
      },
    });
    // Until the UTC day ends.
    expect(refused[0]?.headers?.['Retry-After']).toBe('14400');
    expect(h.telephony.calls).toHaveLength(4);
    expect((await send(h, '+14155550340', 'tenant-b')).statusCode).toBe(202);
  });
});

describe('voice fraud guard across tenants', () => {
  const guard = {
    FRAUD_GUARD_MIN_CALLS: '6',
    FRAUD_GUARD_GLOBAL_MIN_CALLS: '8',
    FRAUD_GUARD_MIN_APPROVAL_RATE: '0.5',
    FRAUD_GUARD_WINDOW_MINUTES: '10',
    FRAUD_GUARD_PAUSE_MINUTES: '60',
  };
  /** Unapproved calls from one key to +1202555…, each to its own number. */
  const unapproved = async (h: Harness, apiKeyId: string, from: number, count: number) => {
    const statuses = [];
    for (let i = from; i < from + count; i++) {
      statuses.push((await send(h, `+12025550${String(100 + i)}`, apiKeyId)).statusCode);
    }
    return statuses;
  };
  /** Once the window's codes have all expired, it is judged. */
  const judged = (h: Harness) => h.clock.advance(15 * 60_000);

  it('pauses the range for the key whose calls go unapproved, and only for that key', async () => {
    const h = await createHarness(guard);
    h.clock.now = alignedStart();
    expect(await unapproved(h, 'tenant-a', 0, 6)).toEqual(Array(6).fill(202));
    judged(h);
    const paused = await send(h, '+12025550150', 'tenant-a');
    expect(paused.statusCode).toBe(429);
    expect(parse(paused)).toMatchObject({ error: { message: expect.stringContaining('paused') } });
    expect((await send(h, '+12025550151', 'tenant-b')).statusCode).toBe(202);
    expect((await send(h, '+12025550152', 'tenant-a')).statusCode).toBe(429);
    // The refusals took nothing for good: the key's own counters hold its six calls, not eight.
    const keyCounters = (await h.scan()).filter((item) => /^RATE#key(day)?#tenant-a/.test(String(item.pk)));
    expect(keyCounters.filter((item) => String(item.pk).startsWith('RATE#keyday#'))).toMatchObject([
      { n: 6 },
    ]);
    expect(keyCounters.reduce((sum, item) => sum + Number(item.n), 0)).toBe(6 + 6);
  });

  it('pauses the range for every key on evidence from two keys', async () => {
    // Twelve calls in all, well below the global threshold: only the two keys' evidence can pause.
    const h = await createHarness({ ...guard, FRAUD_GUARD_GLOBAL_MIN_CALLS: '100' });
    const warned = vi.spyOn(h.depsFor('send').logger, 'warn');
    h.clock.now = alignedStart();
    await unapproved(h, 'tenant-a', 0, 6);
    await unapproved(h, 'tenant-b', 6, 6);
    judged(h);
    expect((await send(h, '+12025550150', 'tenant-c')).statusCode).toBe(429);
    // The operator's log names no key when every key is paused.
    expect(warned).toHaveBeenCalledWith('Fraud guard paused calls to a number range', {
      country: 'US',
      callingCode: '1',
      scope: 'every API key',
      offendingKeys: 2,
      sent: 12,
      approved: 0,
      pausedUntil: new Date(h.clock.now + 60 * 60_000).toISOString(),
    });
    expect((await send(h, '+12025550151', 'tenant-a')).statusCode).toBe(429);
    const counted = h.metrics.counted.map((c) => c.name);
    expect(counted.filter((name) => name === 'FraudGuardPaused')).toHaveLength(1);
    expect(counted.filter((name) => name === 'RateLimited')).toHaveLength(2);
    // Other ranges are not affected.
    expect((await send(h, '+14155550150', 'tenant-c')).statusCode).toBe(202);
  });

  it('pauses the range for every key once all keys together pass the global threshold, and not below it', async () => {
    const h = await createHarness(guard);
    h.clock.now = alignedStart();
    // Four keys, two calls each: none meets the per-key minimum, together they reach 8.
    for (const [i, key] of ['k-1', 'k-2', 'k-3', 'k-4'].entries()) await unapproved(h, key, 2 * i, 2);
    // Seven calls to another range: below the threshold.
    for (let i = 0; i < 7; i++) {
      expect((await send(h, `+13035550${String(100 + i)}`, `k-${i}`)).statusCode).toBe(202);
    }
    judged(h);
    expect((await send(h, '+12025550150', 'tenant-c')).statusCode).toBe(429);
    expect((await send(h, '+13035550150', 'tenant-c')).statusCode).toBe(202);
  });

  it('never counts sends the provider refused', async () => {
    const h = await createHarness({ ...guard, FRAUD_GUARD_GLOBAL_MIN_CALLS: '6' });
    h.clock.now = alignedStart();
    h.telephony.fail = callRejected();
    expect(await unapproved(h, 'tenant-a', 0, 12)).toEqual(Array(12).fill(422));
    h.telephony.fail = undefined;
    judged(h);
    expect((await send(h, '+12025550150', 'tenant-b')).statusCode).toBe(202);
    expect((await send(h, '+12025550151', 'tenant-a')).statusCode).toBe(202);
  });

  it('logs a paused range by country and calling code, never by its digits', async () => {
    const h = await createHarness({ ...guard, FRAUD_GUARD_PREFIX_DIGITS: '8', LOG_LEVEL: 'WARN' });
    h.clock.now = alignedStart();
    await unapproved(h, 'tenant-a', 0, 6);
    judged(h);
    const captured: string[] = [];
    const originals = { out: process.stdout.write, err: process.stderr.write };
    const tap = ((chunk: unknown) => captured.push(String(chunk)) > 0) as typeof process.stdout.write;
    process.stdout.write = tap;
    process.stderr.write = tap;
    try {
      expect((await send(h, '+12025550150', 'tenant-a')).statusCode).toBe(429);
    } finally {
      process.stdout.write = originals.out;
      process.stderr.write = originals.err;
    }
    const line = captured.find((l) => l.includes('Fraud guard paused'));
    expect(JSON.parse(line ?? '{}')).toMatchObject({
      country: 'US',
      callingCode: '1',
      scope: 'one API key',
      apiKeyId: 'tenant-a',
      offendingKeys: 1,
      sent: 6,
      approved: 0,
    });
    expect(captured.join('')).not.toMatch(/202555|2025550/);
  });
});
