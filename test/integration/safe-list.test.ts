import { describe, expect, it } from 'vitest';
import { newKeyRingSecret } from '#platform/keyring.ts';
import { showTenant } from '#verification/tenant-admin.ts';
import { check, createHarness, type Harness, parse, spokenCode, wrongCode } from '../support/harness.ts';
import { accepted, tenantsFor } from '../support/tenants.ts';

/**
 * A tenant's safe list (its QA phones, its app store reviewers' number): exempt from the per-phone limits and
 * the fraud guard, nothing else; its own and no other tenant's; stored as pseudonyms, shown masked.
 */

const SAFE = '+14155550177';

/** A clock moment at the start of an hour, ahead of the wall clock (TTL stays in the future). */
const alignedStart = () => (Math.floor(Date.now() / 3_600_000) + 1) * 3_600_000;

const codeOfLastCall = (h: Harness) => {
  const call = h.telephony.calls.at(-1);
  if (!call) throw new Error('no call');
  return spokenCode(h, call);
};

describe('a safe-listed number', () => {
  it('skips the phone’s gap, its 10-minute and daily limits and its guess budget, for its tenant only', async () => {
    const h = await createHarness({
      PHONE_MIN_GAP_SECONDS: '30',
      PHONE_MAX_PER_10_MINUTES: '2',
      PHONE_MAX_PER_DAY: '3',
      PHONE_MAX_GUESSES_PER_DAY: '10',
    });
    const t = await tenantsFor(h);
    const qa = await t.create({ safeList: `${SAFE},+14155550178` });
    const other = await t.create({});
    for (let i = 0; i < 6; i++) {
      const started = await accepted(t.send(qa, { phone: SAFE }));
      // Wrong codes first: every verification still gets all its attempts.
      const code = codeOfLastCall(h);
      for (let j = 0; j < 4; j++) await check(h, { id: started.id, code: wrongCode(code) }, qa.id);
      h.clock.advance(1000);
    }
    // None of the safe-listed sends holds anything of the phone's counters (shared by every tenant): the
    // guesses a send reserved beside reading its tenant's settings were given back.
    const phoneCounters = async () =>
      (await h.scan())
        .filter((item) => /^RATE#(phone|gap|guesses)/.test(String(item.pk)))
        .flatMap(({ pk: _, ttl: __, ...counts }) => Object.values(counts))
        .filter((value) => value !== 0);
    expect(await phoneCounters()).toEqual([]);
    // A number not on its list: the limits hold for the same tenant.
    await accepted(t.send(qa, { phone: '+14155550179' }));
    expect((await t.send(qa, { phone: '+14155550179' })).statusCode).toBe(429);
    // Another tenant, the same number: its limits hold (the gap).
    await accepted(t.send(other, { phone: SAFE }));
    const refused = await t.send(other, { phone: SAFE });
    expect(refused.statusCode).toBe(429);
    expect(parse(refused)).toMatchObject({
      error: {
        code: 'rate_limited',
        message: 'This phone cannot receive another verification right now; try again later.',
      },
    });
    expect((await phoneCounters()).length).toBeGreaterThan(0);
  });

  it('a send whose call fails gives back no guesses it never reserved', async () => {
    const h = await createHarness({ PHONE_MAX_GUESSES_PER_DAY: '10' });
    const t = await tenantsFor(h);
    const qa = await t.create({ safeList: SAFE });
    const { telephonyUnavailable } = await import('#channels/telephony.ts');
    h.telephony.fail = telephonyUnavailable();
    expect((await t.send(qa, { phone: SAFE })).statusCode).toBe(502);
    h.telephony.fail = undefined;
    const guesses = (await h.scan()).filter((item) => String(item.pk).startsWith('RATE#guesses#'));
    for (const item of guesses) expect(item.guesses).toBe(0);
  });

  it('still obeys the key’s caps, the country allowlist and the blocked prefixes', async () => {
    const h = await createHarness({
      API_KEY_MAX_PER_MINUTE: '2',
      BLOCKED_PREFIXES: '+1415555019',
      ALLOWED_COUNTRIES: 'US',
    });
    const t = await tenantsFor(h);
    const qa = await t.create({ safeList: `${SAFE},+14155550190,+447400123456` });
    await accepted(t.send(qa, { phone: SAFE }));
    await accepted(t.send(qa, { phone: SAFE }));
    expect(parse(await t.send(qa, { phone: SAFE }))).toMatchObject({
      error: { code: 'rate_limited', message: 'This API key has sent too many verifications this minute.' },
    });
    h.clock.advance(60_000);
    expect(parse(await t.send(qa, { phone: '+14155550190' }))).toMatchObject({
      error: { code: 'number_blocked' },
    });
    expect(parse(await t.send(qa, { phone: '+447400123456' }))).toMatchObject({
      error: { code: 'country_not_allowed' },
    });
  });

  it('is outside the fraud guard: neither paused nor counted, while the range is paused for the others', async () => {
    const h = await createHarness(
      { FRAUD_GUARD_MIN_CALLS: '4', FRAUD_GUARD_MIN_APPROVAL_RATE: '0.5' },
      { stream: true },
    );
    const t = await tenantsFor(h);
    const qa = await t.create({ safeList: '+12025550177' });
    h.clock.now = alignedStart();
    // The tenant's own burst to +1202…, unapproved: its range gets paused for this tenant.
    for (let i = 0; i < 4; i++) await accepted(t.send(qa, { phone: `+120255501${String(60 + i)}` }));
    // Its safe-listed number in the same range, unapproved too: not counted.
    for (let i = 0; i < 3; i++) await accepted(t.send(qa, { phone: '+12025550177' }));
    await h.drainStream();
    h.clock.advance(15 * 60_000);
    expect(parse(await t.send(qa, { phone: '+12025550170' }))).toMatchObject({
      error: { code: 'rate_limited', message: expect.stringContaining('paused') },
    });
    const safe = await accepted(t.send(qa, { phone: '+12025550177' }));
    expect((await h.scan()).find((item) => item.id === safe.id)).toMatchObject({
      safeListed: true,
      guardWindow: '',
    });
    // The judged window counted the four, not the safe-listed sends.
    const windows = (await h.scan()).filter((item) => /^GUARD#.*#\d+$/.test(String(item.pk)));
    expect(windows.reduce((sum, item) => sum + Number(item.sent ?? 0), 0)).toBe(4);
    // An approval of a safe-listed number is not counted for the guard either.
    const code = codeOfLastCall(h);
    expect(parse(await check(h, { id: safe.id, code }, qa.id))).toMatchObject({ valid: true });
    await h.drainStream();
    const after = (await h.scan()).filter((item) => /^GUARD#.*#\d+$/.test(String(item.pk)));
    expect(after.reduce((sum, item) => sum + Number(item.approved ?? 0), 0)).toBe(0);
  });

  it('is stored as pseudonyms under every key of the ring and shown masked; nothing stored rebuilds it', async () => {
    const ring = JSON.parse(newKeyRingSecret('k1')) as Record<string, string>;
    const k2 = JSON.parse(newKeyRingSecret('k2')) as Record<string, string>;
    const keyRing = JSON.stringify({ current: 'k2', k1: ring.k1, k2: k2.k2 });
    const h = await createHarness({ KEYRING: keyRing });
    const t = await tenantsFor(h);
    const qa = await t.create({ safeList: `${SAFE}, +33612345678` });
    const item = (await h.scan()).find((i) => i.pk === `TENANT#${qa.id}`);
    const text = JSON.stringify(item);
    for (const digits of ['4155550177', '612345678', '5550177', '12345678'])
      expect(text).not.toContain(digits);
    expect(item?.safeList).toEqual([
      { to: '+1********77', hashes: [expect.stringMatching(/^k2\./), expect.stringMatching(/^k1\./)] },
      { to: '+33*******78', hashes: [expect.stringMatching(/^k2\./), expect.stringMatching(/^k1\./)] },
    ]);
    expect((await showTenant(t.admin, qa.id)).settings.safeList).toEqual(['+1********77', '+33*******78']);
  });

  it('set before a key-ring rotation removed its keys: no longer matches, and show says so', async () => {
    const h = await createHarness({ PHONE_MIN_GAP_SECONDS: '30', KEYRING: newKeyRingSecret('k1') });
    const t = await tenantsFor(h);
    const qa = await t.create({ safeList: SAFE });
    // The same tenant's item, read by a stack whose ring no longer holds k1.
    const rotated = await createHarness(
      { PHONE_MIN_GAP_SECONDS: '30', KEYRING: newKeyRingSecret('k2') },
      { connection: h.connection },
    );
    const tr = await tenantsFor({ ...rotated, tableName: h.tableName } as Harness);
    expect((await showTenant(tr.admin, qa.id)).warnings).toEqual([
      expect.stringContaining('1 safe-listed number(s) (+1********77) were set before a key-ring rotation'),
    ]);
    expect((await showTenant(t.admin, qa.id)).warnings).toBeUndefined();
  });

  it('an empty list clears it; the limits apply again', async () => {
    const h = await createHarness({ PHONE_MIN_GAP_SECONDS: '30' });
    const t = await tenantsFor(h);
    const qa = await t.create({ safeList: SAFE });
    await accepted(t.send(qa, { phone: SAFE }));
    await accepted(t.send(qa, { phone: SAFE }));
    expect((await t.set(qa.id, { safeList: '' })) as object).not.toHaveProperty('settings.safeList');
    h.clock.advance(31_000);
    await accepted(t.send(qa, { phone: SAFE }));
    expect((await t.send(qa, { phone: SAFE })).statusCode).toBe(429);
  });
});
