import { hkdfSync } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { generateCode, hashCode, hashesEqual, normaliseSubmittedCode } from '../../lib/codes.ts';
import { isVerificationId, newVerificationId } from '../../lib/ids.ts';
import { newKeyRingSecret, parseKeyRing } from '../../lib/keyring.ts';
import { openCall, sealCall } from '../../lib/seal.ts';

const ring = parseKeyRing(newKeyRingSecret());
const key = ring.current;

describe('codes', () => {
  it('have the requested length, keep leading zeros and vary', () => {
    for (const length of [4, 6, 10]) {
      const codes = Array.from({ length: 2000 }, () => generateCode(length));
      expect(codes.every((code) => code.length === length && /^[0-9]+$/.test(code))).toBe(true);
      expect(new Set(codes).size).toBeGreaterThan(length === 4 ? 1500 : 1990);
    }
    const firstDigits = new Set(Array.from({ length: 500 }, () => generateCode(6)[0]));
    expect(firstDigits.has('0')).toBe(true);
  });

  it('hash differently per verification id, code and key', () => {
    const other = parseKeyRing(newKeyRingSecret()).current;
    const base = hashCode(key, 'vrf_A', '123456');
    expect(hashCode(key, 'vrf_A', '123456')).toBe(base);
    expect(hashCode(key, 'vrf_B', '123456')).not.toBe(base);
    expect(hashCode(key, 'vrf_A', '123457')).not.toBe(base);
    expect(hashCode(other, 'vrf_A', '123456')).not.toBe(base);
    expect(hashesEqual(base, hashCode(key, 'vrf_A', '123456'))).toBe(true);
    expect(hashesEqual(base, base.slice(1))).toBe(false);
  });

  it('normalise what people type', () => {
    expect(normaliseSubmittedCode('123 456')).toBe('123456');
    expect(normaliseSubmittedCode('12-34-56')).toBe('123456');
    for (const bad of ['123', '١٢٣٤٥٦', '12345678901', '12a456', '']) {
      expect(() => normaliseSubmittedCode(bad)).toThrow(expect.objectContaining({ code: 'invalid_code' }));
    }
  });
});

describe('verification ids', () => {
  it('are vrf_ + 26 Crockford base32 characters, unique', () => {
    const ids = Array.from({ length: 5000 }, newVerificationId);
    expect(ids.every(isVerificationId)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

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
    for (const purpose of ['code-hash', 'seal', 'phone', 'range', 'webhook-secret']) {
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
    }
  });
});

describe('sealed call tokens', () => {
  const now = Date.parse('2026-11-23T12:00:00Z');
  const call = { code: '048213', locale: 'en-US', expiresAt: now + 300_000 };

  it('round-trip and hold no plaintext code', () => {
    const token = sealCall(key, 'vrf_A', call);
    expect(token).not.toContain('048213');
    expect(token).toMatch(/^k1\.[\w-]+$/);
    expect(openCall(ring, 'vrf_A', token, now)).toEqual({ kind: 'valid', call });
  });

  it('carry, sealed, what the fallback needs: the number, its country, calling code and type, the appHash', () => {
    const full = {
      ...call,
      phone: { e164: '+14155550123', country: 'US', callingCode: '1', type: 'FIXED_LINE_OR_MOBILE' },
      appHash: 'FA+9qCX9VSu',
    };
    const token = sealCall(key, 'vrf_A', full);
    expect(token).not.toMatch(/4155550123|FA\+9qCX9VSu|FIXED_LINE/);
    expect(openCall(ring, 'vrf_A', token, now)).toEqual({ kind: 'valid', call: full });
  });

  it('refuse tampering, swapping between verifications, unknown keys and expiry', () => {
    const token = sealCall(key, 'vrf_A', call);
    const body = token.slice(3);
    const flipped = `k1.${body.slice(0, 20)}${body[20] === 'A' ? 'B' : 'A'}${body.slice(21)}`;
    expect(openCall(ring, 'vrf_A', flipped, now).kind).toBe('invalid');
    expect(openCall(ring, 'vrf_B', token, now).kind).toBe('invalid');
    expect(openCall(ring, 'vrf_A', `k7.${body}`, now).kind).toBe('invalid');
    expect(openCall(ring, 'vrf_A', 'garbage', now).kind).toBe('invalid');
    expect(openCall(ring, 'vrf_A', `${token}.x`, now).kind).toBe('invalid');
    for (const short of ['', 'AAAA', body.slice(0, 37), body.slice(0, 38)]) {
      expect(openCall(ring, 'vrf_A', `k1.${short}`, now).kind).toBe('invalid');
    }
    expect(openCall(parseKeyRing(newKeyRingSecret()), 'vrf_A', token, now).kind).toBe('invalid');
    expect(openCall(ring, 'vrf_A', token, call.expiresAt).kind).toBe('expired');
  });

  it('still open after rotation while the old key stays in the ring', () => {
    const oldSecret = { current: 'k1', k1: 'a'.repeat(40) };
    const oldRing = parseKeyRing(JSON.stringify(oldSecret));
    const token = sealCall(oldRing.current, 'vrf_A', call);
    const rotated = parseKeyRing(JSON.stringify({ ...oldSecret, current: 'k2', k2: 'b'.repeat(40) }));
    expect(openCall(rotated, 'vrf_A', token, now).kind).toBe('valid');
  });
});
