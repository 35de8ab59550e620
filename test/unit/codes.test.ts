import { describe, expect, it } from 'vitest';
import { newKeyRingSecret, parseKeyRing } from '#platform/keyring.ts';
import { generateCode, hashCode, hashesEqual, normaliseSubmittedCode } from '#verification/codes.ts';

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
