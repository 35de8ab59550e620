import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_TIME_BUDGET } from '#store/dynamodb-client.ts';
import { createSendHandler } from '../../functions/send.ts';
import { apiEvent, createHarness, type Harness, parse } from '../support/harness.ts';

/**
 * The counters every send writes, split over COUNTER_SHARDS items (lib/abuse/sharded-counter.ts): each cap still
 * admits exactly its number under parallel sends, whatever the shards' shares, and what a refused send took
 * goes back to the shard it was taken from.
 */
const send = (h: Harness, phone: string, channel: 'voice' | 'sms' = 'voice') =>
  h.send(apiEvent({ method: 'POST', resource: '/v1/verifications', body: { phone, channel } }));

/** Up to 100 distinct fictional US numbers (415-555-0100 to 0199). */
const phones = (count: number) =>
  Array.from({ length: count }, (_, i) => `+1415555${String(100 + i).padStart(4, '0')}`);

/** Sends to every phone at once. */
const sendAll = (h: Harness, list: string[], channel: 'voice' | 'sms' = 'voice') =>
  Promise.all(list.map((phone) => send(h, phone, channel)));

/** The start of the next hour (and of its minute and 10-minute window): TTLs stay in the future. */
const pinned = () => (Math.floor(Date.now() / 3_600_000) + 1) * 3_600_000 + 1_000;

/** The counter's shard items: the unsharded key is shard 0, the others carry `#s<i>` before the window. */
async function shardsOf(h: Harness, scope: string) {
  const items = (await h.scan()).filter((item) =>
    new RegExp(`^RATE#${scope}(#s\\d+)?#[^#]+$`).test(String(item.pk)),
  );
  return items.map((item) => ({ pk: String(item.pk), n: Number(item.n) }));
}

const CASES = [
  {
    counter: 'the global daily call cap',
    setting: 'DAILY_CALL_CAP',
    scope: 'global',
    channel: 'voice',
    status: 503,
    error: {
      code: 'daily_call_cap_reached',
      message: 'The service has sent as many verifications as it may today.',
    },
  },
  {
    counter: 'the daily SMS cap',
    setting: 'DAILY_SMS_CAP',
    scope: 'globalsms',
    channel: 'sms',
    status: 503,
    error: {
      code: 'daily_call_cap_reached',
      message: 'The service has sent as many verification SMS as it may today.',
    },
  },
  {
    counter: "the country's hour",
    setting: 'COUNTRY_MAX_PER_HOUR',
    scope: 'country#US',
    channel: 'voice',
    status: 429,
    error: { code: 'rate_limited', message: 'Too many verifications to US this hour; try again later.' },
  },
  {
    counter: "the API key's minute",
    setting: 'API_KEY_MAX_PER_MINUTE',
    scope: 'key#key-test-1',
    channel: 'voice',
    status: 429,
    error: { code: 'rate_limited', message: 'This API key has sent too many verifications this minute.' },
  },
  {
    counter: "the API key's day",
    setting: 'API_KEY_MAX_PER_DAY',
    scope: 'keyday#key-test-1',
    channel: 'voice',
    status: 429,
    error: { code: 'rate_limited', message: 'This API key has sent as many verifications as it may today.' },
  },
] as const;

// Sixty sends at once on the shared test machine can take DynamoDB Local past the 1 s a Lambda's store
// waits, and one timeout fails the batch's other calls at once (503 store_unavailable). This file checks
// the caps, not that budget (test/infra/store-budget.test.ts does): its stores wait longer.
const budget = { ...STORE_TIME_BUDGET };
beforeAll(() => void Object.assign(STORE_TIME_BUDGET, { connectMs: 5_000, requestMs: 10_000 }));
afterAll(() => void Object.assign(STORE_TIME_BUDGET, budget));

describe('sharded counters', () => {
  it.each(CASES)(
    'admit exactly the cap under 60 parallel sends: $counter (37 over 8 shards)',
    async ({ setting, scope, channel, status, error }) => {
      const h = await createHarness({ COUNTER_SHARDS: '8', [setting]: '37' });
      h.clock.now = pinned();
      const responses = await sendAll(h, phones(60), channel);
      expect(responses.filter((r) => r.statusCode === 202)).toHaveLength(37);
      const refused = responses.filter((r) => r.statusCode !== 202);
      expect(refused).toHaveLength(23);
      // The refusal is today's: status, code, wording, and a Retry-After.
      for (const r of refused) {
        expect(r.statusCode).toBe(status);
        expect(parse(r)).toEqual({ error });
        expect(Number(r.headers?.['Retry-After'])).toBeGreaterThan(0);
      }
      expect(h.telephony.calls.length + h.telephony.messages.length).toBe(37);
      const shards = await shardsOf(h, scope);
      // Spread over the shards, each within its share (37 = 5 × 5 + 3 × 4), summing to what was admitted.
      expect(shards.length).toBeGreaterThan(1);
      expect(shards.reduce((sum, shard) => sum + shard.n, 0)).toBe(37);
      for (const shard of shards) expect(shard.n).toBeLessThanOrEqual(5);
      expect(h.metrics.counted.filter((m) => m.name === 'RateLimited')).toHaveLength(23);
      expect(h.metrics.counted.filter((m) => m.name === 'DailyCapReached')).toHaveLength(
        status === 503 ? 23 : 0,
      );
    },
    60_000,
  );

  it.each(CASES)(
    'admit every send up to the cap, trying the other shards when one is full: $counter',
    async ({ setting, channel, status }) => {
      const h = await createHarness({ COUNTER_SHARDS: '8', [setting]: '37' });
      h.clock.now = pinned();
      // 37 sends on 8 shards of 4 or 5: random picks alone would overfill some shard almost surely.
      const admitted = await sendAll(h, phones(37), channel);
      expect(admitted.map((r) => r.statusCode)).toEqual(Array(37).fill(202));
      expect((await send(h, '+14155550199', channel)).statusCode).toBe(status);
    },
  );

  it.each([
    ['below the shard count', 5, 8],
    ['of one', 1, 8],
    ['not divisible by the shard count', 13, 4],
  ])('stay exact with a cap %s (%i over %i shards)', async (_name, cap, shards) => {
    const h = await createHarness({ COUNTER_SHARDS: String(shards), DAILY_CALL_CAP: String(cap) });
    h.clock.now = pinned();
    const responses = await sendAll(h, phones(40));
    expect(responses.filter((r) => r.statusCode === 202)).toHaveLength(cap);
    expect(responses.filter((r) => r.statusCode === 503)).toHaveLength(40 - cap);
    expect(h.telephony.calls).toHaveLength(cap);
    const items = await shardsOf(h, 'global');
    expect(items.reduce((sum, shard) => sum + shard.n, 0)).toBe(cap);
    // A shard never holds more than its share; below N, only `cap` shards of one are ever written.
    for (const shard of items) expect(shard.n).toBeLessThanOrEqual(Math.ceil(cap / Math.min(shards, cap)));
    if (cap < shards) expect(items.filter((shard) => shard.n > 0).length).toBeLessThanOrEqual(cap);
  });

  it('give back on the shard they took from when a later limit refuses, and the cap can use it again', async () => {
    const h = await createHarness({
      COUNTER_SHARDS: '8',
      PHONE_MAX_PER_10_MINUTES: '3',
      DAILY_CALL_CAP: '20',
    });
    h.clock.now = pinned();
    // 30 sends to one phone: each takes a shard of every key, country and global counter, and the phone's
    // limit then refuses all but 3 and they give theirs back. While they hold them, a racer can find the
    // day's shards taken and be refused too (503, never more admitted): on a loaded machine the phone's
    // third send is sometimes one of those, so the burst admits 2 or 3.
    const one = await sendAll(h, Array(30).fill('+14155550100'));
    const admitted = one.filter((r) => r.statusCode === 202).length;
    expect(admitted).toBeGreaterThanOrEqual(2);
    expect(admitted).toBeLessThanOrEqual(3);
    for (const refused of one.filter((r) => r.statusCode !== 202))
      expect([429, 503]).toContain(refused.statusCode);
    for (const scope of ['key#key-test-1', 'keyday#key-test-1', 'country#US', 'global']) {
      const shards = await shardsOf(h, scope);
      expect(shards.reduce((sum, shard) => sum + shard.n, 0)).toBe(admitted);
      for (const shard of shards) expect(shard.n).toBeGreaterThanOrEqual(0);
    }
    // What was given back is admitted again: the rest of the day's 20, not fewer. (Only one cap is tight
    // here, so nothing holds a shard of it while another counter refuses.)
    const others = await sendAll(h, phones(40).slice(1));
    expect(others.filter((r) => r.statusCode === 202)).toHaveLength(20 - admitted);
    expect(h.telephony.calls).toHaveLength(20);
  });

  it('cost one write per counter while the shards have room, as one item does', async () => {
    const writes = async (shards: string) => {
      const h = await createHarness({ COUNTER_SHARDS: shards });
      h.clock.now = pinned();
      const before = h.dynamoCalls.length;
      for (const phone of phones(5)) expect((await send(h, phone, 'sms')).statusCode).toBe(202);
      const items = (await h.scan()).filter((item) =>
        /^RATE#(key|keyday|country|global|globalsms)#/.test(String(item.pk)),
      );
      return { calls: h.dynamoCalls.slice(before).sort(), items: items.map((item) => String(item.pk)) };
    };
    const [one, eight] = [await writes('1'), await writes('8')];
    expect(eight.calls).toEqual(one.calls);
    // One shard keeps today's items: no suffix.
    expect(one.items.every((pk) => !/#s\d+#/.test(pk))).toBe(true);
    expect(one.items).toHaveLength(5);
  });
});

describe('a change of COUNTER_SHARDS', () => {
  /** Noon UTC tomorrow: mid-window for every counter, with every TTL in the future. */
  const noon = () => (Math.floor(Date.now() / 86_400_000) + 1) * 86_400_000 + 12 * 3_600_000;
  const dayAfter = (ms: number) => new Date(Math.floor(ms / 86_400_000) * 86_400_000 + 86_400_000);
  const isoDay = (date: Date) => date.toISOString().slice(0, 10);

  /** The send function as deployed with other counter settings, on the same table (a deploy mid-window). */
  const redeployed = (h: Harness, shards: number, before?: { shards: number; day: Date }) =>
    createSendHandler({
      ...h.depsFor('send'),
      telephony: h.telephony,
      config: {
        ...h.config,
        abuse: {
          ...h.config.abuse,
          counterShards: shards,
          counterShardsBefore: before && {
            shards: before.shards,
            day: isoDay(before.day),
            from: before.day.getTime(),
          },
        },
      },
    });
  const sendWith = (handler: ReturnType<typeof createSendHandler>, phone: string) =>
    handler(apiEvent({ method: 'POST', resource: '/v1/verifications', body: { phone } }));

  it.each([
    [1, 4],
    [4, 1],
    [2, 8],
  ])(
    'from %i to %i shards mid-day: the cap holds, and the new count applies from the next UTC day',
    async (from, to) => {
      const h = await createHarness({ COUNTER_SHARDS: String(from), DAILY_CALL_CAP: '8' });
      h.clock.now = noon();
      const before = await sendAll(h, phones(6));
      expect(before.filter((r) => r.statusCode === 202)).toHaveLength(6);

      // The new count is deployed at noon, declared for tomorrow: today's windows keep the old one.
      const changed = redeployed(h, to, { shards: from, day: dayAfter(h.clock.now) });
      const after = await Promise.all(
        phones(20)
          .slice(6)
          .map((phone) => sendWith(changed, phone)),
      );
      expect(after.filter((r) => r.statusCode === 202)).toHaveLength(2);
      expect(h.telephony.calls).toHaveLength(8);
      expect((await shardsOf(h, 'global')).reduce((sum, shard) => sum + shard.n, 0)).toBe(8);

      // Tomorrow, a new day's windows: the new count, spread over its shards.
      h.clock.now = dayAfter(h.clock.now).getTime() + 3_600_000;
      const tomorrow = await Promise.all(
        phones(40)
          .slice(20)
          .map((phone) => sendWith(changed, phone)),
      );
      expect(tomorrow.filter((r) => r.statusCode === 202)).toHaveLength(8);
      const day = new Date(h.clock.now).toISOString().slice(0, 10);
      const shardItems = (await shardsOf(h, 'global')).filter((shard) => shard.pk.endsWith(`#${day}`));
      expect(shardItems.reduce((sum, shard) => sum + shard.n, 0)).toBe(8);
      for (const shard of shardItems) expect(shard.n).toBeLessThanOrEqual(Math.ceil(8 / Math.min(to, 8)));
      if (to > 1) expect(shardItems.length).toBeGreaterThan(1);
    },
  );
});
