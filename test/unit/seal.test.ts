import { describe, expect, it } from 'vitest';
import { newKeyRingSecret, parseKeyRing } from '#platform/keyring.ts';
import { openCall, sealCall } from '#verification/seal.ts';

const ring = parseKeyRing(newKeyRingSecret());
const key = ring.current;

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
