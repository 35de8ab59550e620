import { hkdfSync } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseKeyRing } from '#platform/keyring.ts';

describe('key ring', () => {
  it('puts the current key first and finds older ones by id', () => {
    const secret = JSON.stringify({ current: 'k2', k1: 'a'.repeat(40), k2: 'b'.repeat(40) });
    const parsed = parseKeyRing(secret);
    expect(parsed.all.map((k) => k.id)).toEqual(['k2', 'k1']);
    const again = parseKeyRing(secret).get('k1');
    const k1 = parsed.get('k1');
    expect(k1 && again && k1.hmac.equals(again.hmac)).toBe(true);
    expect(k1?.hmac.equals(k1.seal)).toBe(false);
  });

  it('holds its subkeys so that printing a key set shows none of their bytes', () => {
    const material = 'm'.repeat(40);
    const k1 = parseKeyRing(JSON.stringify({ current: 'k1', k1: material })).current;
    const printed = `${inspect(k1, { depth: 5 })} ${JSON.stringify(k1)}`;
    for (const purpose of ['code-hash', 'seal', 'phone', 'range', 'webhook-secret', 'idempotency-body']) {
      const bytes = Buffer.from(hkdfSync('sha256', material, 'voice-otp:k1', `voice-otp/v1/${purpose}`, 32));
      for (const form of [bytes.toString('hex').slice(0, 12), bytes.toString('base64').slice(0, 12)])
        expect(printed).not.toContain(form);
      // inspect shows a Buffer's bytes as spaced hex pairs.
      expect(printed).not.toContain(
        [...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' '),
      );
    }
  });

  it('refuses malformed secrets, saying what is wrong', () => {
    const material = 'a'.repeat(40);
    for (const [bad, message] of [
      ['not json', /not JSON/],
      ['[]', /must be a JSON object/],
      ['null', /must be a JSON object/],
      ['7', /must be a JSON object/],
      [JSON.stringify({ current: 'k1' }), /current key "k1" is missing/],
      [JSON.stringify({ current: 'k9', k1: material }), /current key "k9" is missing/],
      [JSON.stringify({ current: 7, k1: material }), /"current" must name a key id/],
      [JSON.stringify({ current: 'k1', k1: 'short' }), /key "k1" needs at least 32 characters/],
      [JSON.stringify({ current: 'k1', k1: 'a'.repeat(31) }), /key "k1" needs at least 32 characters/],
      [JSON.stringify({ current: 'k1', k1: 7 }), /key "k1" needs at least 32 characters/],
      // An invalid id is not quoted: it may be key material pasted in the wrong place.
      [JSON.stringify({ current: 'k1', 'bad id!': material, k1: material }), /a key id is not 1-16 letters/],
      [JSON.stringify({ current: 'k1', '!k2': material, k1: material }), /a key id is not 1-16 letters/],
      [JSON.stringify({ current: 'k1', ['k'.repeat(17)]: material, k1: material }), /a key id is not 1-16/],
    ] as const) {
      expect(() => parseKeyRing(bad), bad).toThrow(message);
    }
    expect(parseKeyRing(JSON.stringify({ current: 'k1', k1: 'a'.repeat(32) })).current.id).toBe('k1');
  });

  it('derives each subkey with HKDF-SHA256 from the key id and its purpose, so stored hashes outlive deploys', () => {
    const material = 'm'.repeat(40);
    const parsed = parseKeyRing(JSON.stringify({ current: 'k1', k1: material, k2: material }));
    const derived = (id: string, purpose: string) =>
      Buffer.from(hkdfSync('sha256', material, `voice-otp:${id}`, `voice-otp/v1/${purpose}`, 32));
    for (const id of ['k1', 'k2']) {
      expect(parsed.get(id)?.hmac.export()).toEqual(derived(id, 'code-hash'));
      expect(parsed.get(id)?.seal.export()).toEqual(derived(id, 'seal'));
      expect(parsed.get(id)?.phone.export()).toEqual(derived(id, 'phone'));
      expect(parsed.get(id)?.idempotency.export()).toEqual(derived(id, 'idempotency-body'));
    }
  });
});
