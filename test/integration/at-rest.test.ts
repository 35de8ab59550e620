import { expect, it } from 'vitest';
import { check, createHarness, startVerification, wrongCode } from '../support/harness.ts';

it('stores no plaintext code and no full phone number', async () => {
  const h = await createHarness();
  const phones = ['+14155550123', '+33612345678', '+4915123456789', '+14155550123'];
  const sent: Array<{ phone: string; id: string; code: string }> = [];
  for (const phone of phones) sent.push({ phone, ...(await startVerification(h, phone)) });
  await check(h, { id: sent[1]?.id, code: wrongCode(sent[1]?.code ?? '') });
  await check(h, { phone: '+4915123456789', code: sent[2]?.code });

  const items = await h.scan();
  expect(items.length).toBeGreaterThanOrEqual(phones.length);
  const stored = JSON.stringify(items);
  for (const { phone, code } of sent) {
    // Neither the number (with or without +, or its national part) nor the code appears in any attribute.
    expect(stored).not.toContain(phone);
    expect(stored).not.toContain(phone.slice(1));
    expect(stored).not.toContain(phone.slice(-9));
    // Random ids and hashes may contain any six digits by chance; a stored code would stand on its own.
    const standalone = new RegExp(`(^|[^0-9A-Za-z])${code}([^0-9A-Za-z]|$)`);
    for (const value of allStrings(items)) expect(value).not.toMatch(standalone);
  }
  const verification = items.find((item) => item.id === sent[0]?.id);
  expect(verification).toMatchObject({
    to: '+1********23',
    keyId: 'k1',
    codeHash: expect.stringMatching(/^[\w-]{43}$/),
  });
  expect(verification?.ttl).toBe(Math.ceil((h.clock.now + 300_000) / 1000) + 86_400);
});

it('stores number ranges only as pseudonyms, even at the longest fraud-guard prefix', async () => {
  const h = await createHarness({ FRAUD_GUARD_PREFIX_DIGITS: '8' });
  const phone = '+14155550123';
  const sent = await startVerification(h, phone);
  await check(h, { id: sent.id, code: sent.code });
  const items = await h.scan();
  // Under its pseudonym, like a phone's: the key id and a keyed hash of the range, and nothing else.
  const guarded = items.filter((item) => String(item.pk).startsWith('GUARD#'));
  expect(guarded.length).toBeGreaterThan(0);
  for (const item of guarded) expect(item.pk).toMatch(/^GUARD#k1\.[\w-]{43}#[0-9]+$/);
  // Keys, attribute names and string values: no run of six digits of the number (timestamps are numbers).
  const texts = [...allStrings(items), ...items.flatMap((item) => Object.keys(item))];
  const digits = phone.slice(1);
  for (let i = 0; i + 6 <= digits.length; i++) {
    for (const text of texts) expect(text).not.toContain(digits.slice(i, i + 6));
  }
});

function* allStrings(value: unknown): Generator<string> {
  if (typeof value === 'string') yield value;
  else if (value && typeof value === 'object')
    for (const child of Object.values(value)) yield* allStrings(child);
}
