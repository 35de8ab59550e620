import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import {
  check,
  createHarness,
  type Harness,
  parse,
  startVerification,
  status,
  wrongCodes,
} from '../support/harness.ts';

/**
 * What an attacker tries: many distinct wrong codes at once, then the right one. Codes are counted where
 * they are tested, at the comparison itself, per stored hash (one per verification): the promise is about
 * codes tested, which an `attempts` attribute cannot show.
 */
const tested = vi.hoisted(() => new Map<string, { count: number; matched: number }>());
vi.mock('#verification/codes.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('#verification/codes.ts')>();
  return {
    ...actual,
    hashesEqual: (submitted: string, stored: string) => {
      const equal = actual.hashesEqual(submitted, stored);
      const seen = tested.get(stored) ?? { count: 0, matched: 0 };
      tested.set(stored, { count: seen.count + 1, matched: seen.matched + Number(equal) });
      return equal;
    },
  };
});

const MAX_ATTEMPTS = 5;
const RUNS = 20;
const WRONG = 40;

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ MAX_ATTEMPTS: String(MAX_ATTEMPTS) });
});

async function codesTested(id: string) {
  const stored = (await h.stores.verify.get(id))?.codeHash ?? '';
  return tested.get(stored) ?? { count: 0, matched: 0 };
}

describe('guessing in parallel', () => {
  it(`tests at most ${MAX_ATTEMPTS} codes per verification when ${WRONG} wrong codes race the right one`, async () => {
    let refused = 0;
    for (let run = 0; run < RUNS; run++) {
      const { id, code } = await startVerification(h, '+14155550160');
      const wrong = wrongCodes(code, WRONG).map((guess) => check(h, { id, code: guess }));
      await sleep(3);
      const right = parse(await check(h, { id, code }));
      await Promise.all(wrong);

      const { count, matched } = await codesTested(id);
      expect(count).toBeLessThanOrEqual(MAX_ATTEMPTS);
      // The right code is approved only if it took one of the reservations, and was therefore tested.
      if (right.valid === true) expect(matched).toBe(1);
      else refused++;
      if (matched === 0) expect(right).toMatchObject({ valid: false });
      const final = parse(await status(h, id));
      expect(final.attempts as number).toBeLessThanOrEqual(MAX_ATTEMPTS);
      expect(final.status).toBe(right.valid ? 'approved' : 'max_attempts_reached');
    }
    // Sent after forty guesses already in flight, the right code usually finds every attempt taken (13 to 20
    // runs of 20 here): the race this file is about really happened.
    expect(refused).toBeGreaterThan(0);
  });

  it('holds the same bound when the race goes by phone', async () => {
    const phone = '+14155550161';
    const { id, code } = await startVerification(h, phone);
    const wrong = wrongCodes(code, WRONG).map((guess) => check(h, { phone, code: guess }));
    await sleep(3);
    const right = parse(await check(h, { phone, code }));
    await Promise.all(wrong);
    const { count, matched } = await codesTested(id);
    expect(count).toBeLessThanOrEqual(MAX_ATTEMPTS);
    if (right.valid === true) expect(matched).toBe(1);
  });

  it("lets another API key's checks test nothing and take no attempt", async () => {
    const { id, code } = await startVerification(h, '+14155550162');
    const other = await Promise.all(
      [...wrongCodes(code, WRONG), code].map((guess) => check(h, { id, code: guess }, 'other-key')),
    );
    expect(other.every((r) => r.statusCode === 404)).toBe(true);
    expect(new Set(other.map((r) => r.body)).size).toBe(1);
    expect((await codesTested(id)).count).toBe(0);
    expect(parse(await status(h, id))).toMatchObject({ status: 'pending', attempts: 0 });
    expect(parse(await check(h, { id, code }))).toEqual({ id, valid: true, status: 'approved' });
  });
});
