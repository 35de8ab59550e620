import { describe, expect, it } from 'vitest';
import { shareOf } from '#abuse/sharded-counter.ts';

describe('shard shares', () => {
  it('split any cap into shares that sum to it exactly', () => {
    for (let shards = 1; shards <= 16; shards++)
      for (let max = 1; max <= 100; max++) {
        const used = Math.min(shards, max);
        const shares = Array.from({ length: used }, (_, i) => shareOf(max, used, i));
        expect(shares.reduce((a, b) => a + b, 0)).toBe(max);
        expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
      }
  });
});
