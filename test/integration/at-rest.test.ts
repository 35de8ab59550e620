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

function* allStrings(value: unknown): Generator<string> {
  if (typeof value === 'string') yield value;
  else if (value && typeof value === 'object')
    for (const child of Object.values(value)) yield* allStrings(child);
}
