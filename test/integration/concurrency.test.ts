import { beforeAll, describe, expect, it } from 'vitest';
import {
  check,
  createHarness,
  type Harness,
  parse,
  startVerification,
  status,
  wrongCode,
} from '../support/harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});

describe('concurrent checks', () => {
  it('approve exactly once when 50 correct checks race', async () => {
    const { id, code } = await startVerification(h);
    const results = await Promise.all(Array.from({ length: 50 }, () => check(h, { id, code })));
    const bodies = results.map(parse);
    expect(results.every((r) => r.statusCode === 200)).toBe(true);
    expect(bodies.filter((b) => b.valid === true)).toHaveLength(1);
    expect(bodies.filter((b) => b.valid === false).every((b) => b.status === 'approved')).toBe(true);
  });

  it('never push attempts past the limit when 50 wrong checks race', async () => {
    const { id, code } = await startVerification(h);
    const results = await Promise.all(
      Array.from({ length: 50 }, () => check(h, { id, code: wrongCode(code) })),
    );
    const bodies = results.map(parse);
    expect(results.every((r) => r.statusCode === 200)).toBe(true);
    // Exactly five of them were counted; each counted one saw a distinct attemptsLeft.
    const counted = bodies.filter((b) => 'attemptsLeft' in b);
    expect(counted.map((b) => b.attemptsLeft).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(
      bodies.filter((b) => !('attemptsLeft' in b)).every((b) => b.status === 'max_attempts_reached'),
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

  it('approve at most once when right and wrong codes race', async () => {
    const { id, code } = await startVerification(h);
    const requests = Array.from({ length: 40 }, (_, i) =>
      check(h, { id, code: i % 2 ? code : wrongCode(code) }),
    );
    const bodies = (await Promise.all(requests)).map(parse);
    const approvals = bodies.filter((b) => b.valid === true).length;
    expect(approvals).toBeLessThanOrEqual(1);
    const final = parse(await status(h, id));
    expect(final.attempts as number).toBeLessThanOrEqual(5);
    expect(final.status).toBe(approvals === 1 ? 'approved' : 'max_attempts_reached');
  });
});
