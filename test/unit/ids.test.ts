import { describe, expect, it } from 'vitest';
import { isVerificationId, newVerificationId } from '#verification/ids.ts';

describe('verification ids', () => {
  it('are vrf_ + 26 Crockford base32 characters, unique', () => {
    const ids = Array.from({ length: 5000 }, newVerificationId);
    expect(ids.every(isVerificationId)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
