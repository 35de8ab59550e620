import { beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '#store/store.ts';
import { createVerifyHandler } from '../../functions/verify.ts';
import {
  API_KEY_ID,
  apiEvent,
  cancel,
  check,
  createHarness,
  type Harness,
  parse,
  startVerification,
  status,
  wrongCode,
  wrongCodes,
} from '../support/harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});

/** A check that found every attempt reserved by checks still testing theirs: it tested nothing. */
const untested = (b: Record<string, unknown>) => b.status === 'pending' && b.attemptsLeft === 0;

describe('concurrent checks', () => {
  it('approve exactly once when 50 correct checks race', async () => {
    const { id, code } = await startVerification(h);
    const results = await Promise.all(Array.from({ length: 50 }, () => check(h, { id, code })));
    const bodies = results.map(parse);
    expect(results.every((r) => r.statusCode === 200)).toBe(true);
    expect(bodies.filter((b) => b.valid === true)).toHaveLength(1);
    expect(bodies.filter((b) => b.valid === false).every((b) => b.status === 'approved' || untested(b))).toBe(
      true,
    );
    expect(parse(await status(h, id))).toMatchObject({ status: 'approved' });
  });

  it('never push attempts past the limit when 50 distinct wrong checks race', async () => {
    const { id, code } = await startVerification(h);
    const results = await Promise.all(wrongCodes(code, 50).map((wrong) => check(h, { id, code: wrong })));
    const bodies = results.map(parse);
    expect(results.every((r) => r.statusCode === 200)).toBe(true);
    // Exactly five were tested, each with its own attempt; the fifth locked the verification.
    const tested = bodies.filter((b) => 'attemptsLeft' in b && !untested(b));
    expect(tested.map((b) => [b.status, b.attemptsLeft])).toEqual(
      expect.arrayContaining([
        ['pending', 4],
        ['pending', 3],
        ['pending', 2],
        ['pending', 1],
        ['max_attempts_reached', 0],
      ]),
    );
    expect(tested).toHaveLength(5);
    expect(
      bodies
        .filter((b) => !tested.includes(b))
        .every((b) => b.status === 'max_attempts_reached' || untested(b)),
    ).toBe(true);
    expect(parse(await status(h, id))).toMatchObject({
      attempts: 5,
      attemptsLeft: 0,
      status: 'max_attempts_reached',
    });
    expect(parse(await check(h, { id, code }))).toMatchObject({
      valid: false,
      status: 'max_attempts_reached',
    });
  });

  it('approve exactly once when right and wrong codes race', async () => {
    const { id, code } = await startVerification(h);
    // Four wrong codes first, then 36 right ones: at most four reservations can go to wrong codes, so one of
    // the first five goes to the right code, and no fifth wrong code can lock the verification first.
    const codes = [...wrongCodes(code, 4), ...Array.from({ length: 36 }, () => code)];
    const bodies = (await Promise.all(codes.map((submitted) => check(h, { id, code: submitted })))).map(
      parse,
    );
    expect(bodies.filter((b) => b.valid === true)).toHaveLength(1);
    const final = parse(await status(h, id));
    expect(final.attempts as number).toBeLessThanOrEqual(5);
    expect(final.status).toBe('approved');
  });
});

/**
 * A verify handler whose store holds `method` until `release()`: a check caught after testing its code,
 * before it settles the verification, so the tests can act in between without any timing.
 */
function heldAt(h: Harness, method: 'approve' | 'lockOut') {
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let arrive = () => {};
  const arrived = new Promise<void>((resolve) => {
    arrive = resolve;
  });
  const store = new Proxy(h.stores.verify, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      if (property !== method) return value.bind(target);
      return async (...args: unknown[]) => {
        arrive();
        await released;
        return value.apply(target, args);
      };
    },
  }) as Store;
  const verify = createVerifyHandler({ ...h.depsFor('verify'), store });
  const check = (body: unknown) =>
    verify(apiEvent({ method: 'POST', resource: '/v1/verifications/check', body })).then(parse);
  return { check, arrived, release };
}

describe('a check between testing its code and settling', () => {
  it('leaves the verification pending while its last reserved attempt is tested; later checks test nothing', async () => {
    const { id, code } = await startVerification(h);
    for (const wrong of wrongCodes(code, 4)) await check(h, { id, code: wrong });
    const held = heldAt(h, 'approve');
    const last = held.check({ id, code });
    await held.arrived;
    expect(parse(await status(h, id))).toMatchObject({ status: 'pending', attempts: 5, attemptsLeft: 0 });
    const untestedAnswer = { id, valid: false, status: 'pending', attemptsLeft: 0 };
    expect(parse(await check(h, { id, code }))).toEqual(untestedAnswer);
    expect(parse(await check(h, { phone: '+14155550123', code }))).toEqual(untestedAnswer);
    held.release();
    expect(await last).toEqual({ id, valid: true, status: 'approved' });
    expect(parse(await status(h, id))).toMatchObject({ status: 'approved', attempts: 5 });
  });

  it('refuses a right code whose verification was canceled while it was tested, by phone too', async () => {
    const { id, code } = await startVerification(h);
    const held = heldAt(h, 'approve');
    const right = held.check({ phone: '+14155550123', code });
    await held.arrived;
    expect(parse(await cancel(h, id))).toEqual({ id, status: 'canceled' });
    held.release();
    expect(await right).toEqual({ id, valid: false, status: 'canceled' });
    expect(parse(await status(h, id))).toMatchObject({ status: 'canceled' });
  });

  it('lets the first settlement written win: the fifth wrong code locks out a right code still being tested', async () => {
    const { id, code } = await startVerification(h);
    const wrong = wrongCodes(code, 4);
    for (const guess of wrong.slice(0, 3)) await check(h, { id, code: guess });
    const held = heldAt(h, 'approve');
    const right = held.check({ id, code });
    await held.arrived;
    expect(parse(await check(h, { id, code: wrong[3] }))).toEqual({
      id,
      valid: false,
      status: 'max_attempts_reached',
      attemptsLeft: 0,
    });
    held.release();
    expect(await right).toEqual({ id, valid: false, status: 'max_attempts_reached' });
    expect(parse(await status(h, id))).toMatchObject({ status: 'max_attempts_reached', attempts: 5 });
  });

  it('answers the last wrong code with what settled the verification first', async () => {
    const { id, code } = await startVerification(h);
    for (const guess of wrongCodes(code, 4)) await check(h, { id, code: guess });
    const held = heldAt(h, 'lockOut');
    const last = held.check({ id, code: wrongCode(code) });
    await held.arrived;
    expect(parse(await cancel(h, id))).toEqual({ id, status: 'canceled' });
    held.release();
    expect(await last).toEqual({ id, valid: false, status: 'canceled' });
  });
});

describe('a reservation written again', () => {
  it('counts once: an SDK retry of a timed-out reservation may land after the first one did', async () => {
    const { id } = await startVerification(h);
    const store = h.stores.verify;
    const first = await store.reserveAttempt(id, API_KEY_ID, h.clock.now, 'check-token-1');
    const retried = await store.reserveAttempt(id, API_KEY_ID, h.clock.now, 'check-token-1');
    expect(first).toMatchObject({ done: true, verification: { attempts: 1 } });
    expect(retried).toMatchObject({ done: true, verification: { attempts: 1 } });
    const another = await store.reserveAttempt(id, API_KEY_ID, h.clock.now, 'check-token-2');
    expect(another).toMatchObject({ done: true, verification: { attempts: 2 } });
    expect(parse(await status(h, id))).toMatchObject({ attempts: 2, attemptsLeft: 3 });
    // The tokens are bookkeeping: never part of what a client sees.
    expect(JSON.stringify(parse(await status(h, id)))).not.toContain('check-token');
  });
});
