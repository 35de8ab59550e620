import { describe, expect, it, vi } from 'vitest';
import { parseKeyRing } from '#platform/keyring.ts';
import type { Secrets } from '#platform/secrets.ts';
import { createAnswerHandler } from '../../functions/answer.ts';
import { createSendHandler } from '../../functions/send.ts';
import { createVerifyHandler } from '../../functions/verify.ts';
import {
  answerParams,
  apiEvent,
  createHarness,
  type Harness,
  parse,
  startVerification,
  status,
  webhookEvent,
  wrongCode,
} from '../support/harness.ts';
import { parseXml } from '../support/xml.ts';

const k1 = { current: 'k1', k1: 'a'.repeat(43) };
const both = { ...k1, current: 'k2', k2: 'b'.repeat(43) };

/** A container that loaded the ring before rotation: it sees the new one only when it asks afresh. */
function staleSecrets(refreshes: string[]): Secrets {
  return {
    keyRing: async (options) => {
      if (options?.refresh) refreshes.push('refresh');
      return parseKeyRing(JSON.stringify(options?.refresh ? both : k1));
    },
    plivo: async () => ({ authId: 'MATESTAUTHID', authToken: 'test-auth-token' }),
  };
}

describe('key rotation', () => {
  it('keeps codes made under the old key valid, by id and by phone', async () => {
    const before = await createHarness({ KEYRING: JSON.stringify(k1) });
    const phone = '+14155550190';
    const sent = await startVerification(before, phone);
    // The same table, now served with the rotated ring.
    const after = await createHarness({ KEYRING: JSON.stringify(both) });
    const rotated = createVerifyHandler({ ...after.depsFor('verify'), store: before.stores.verify });
    const byPhone = await rotated(
      apiEvent({ method: 'POST', resource: '/v1/verifications/check', body: { phone, code: sent.code } }),
    );
    expect(parse(byPhone)).toEqual({ id: sent.id, valid: true, status: 'approved' });
  });

  it("keeps a phone's daily limits across a rotation", async () => {
    const before = await createHarness({ KEYRING: JSON.stringify(k1), PHONE_MAX_PER_DAY: '2' });
    const phone = '+14155550193';
    await startVerification(before, phone);
    await startVerification(before, phone);
    const after = await createHarness({ KEYRING: JSON.stringify(both), PHONE_MAX_PER_DAY: '2' });
    const send = createSendHandler({
      ...after.depsFor('send'),
      store: before.stores.send,
      telephony: after.telephony,
    });
    const refused = await send(apiEvent({ method: 'POST', resource: '/v1/verifications', body: { phone } }));
    expect(refused.statusCode).toBe(429);
    expect(after.telephony.calls).toHaveLength(0);
  });

  /** A send handler serving `before`'s table with the rotated ring, on `after`'s clock and telephony. */
  const rotatedSend = (before: Harness, after: Harness) =>
    createSendHandler({ ...after.depsFor('send'), store: before.stores.send, telephony: after.telephony });
  const sendEvent = (phone: string) =>
    apiEvent({ method: 'POST', resource: '/v1/verifications', body: { phone } });
  const alignedStart = () => (Math.floor(Date.now() / 3_600_000) + 1) * 3_600_000;

  it("keeps a phone's 10-minute limit across a rotation", async () => {
    const limits = { PHONE_MAX_PER_10_MINUTES: '2' };
    const before = await createHarness({ KEYRING: JSON.stringify(k1), ...limits });
    const after = await createHarness({ KEYRING: JSON.stringify(both), ...limits });
    const phone = '+14155550194';
    before.clock.now = alignedStart();
    await startVerification(before, phone);
    await startVerification(before, phone);
    after.clock.now = before.clock.now + 60_000;
    expect((await rotatedSend(before, after)(sendEvent(phone))).statusCode).toBe(429);
    expect(after.telephony.calls).toHaveLength(0);
  });

  it("gives back what a send refused by the older key's gap took", async () => {
    const limits = { PHONE_MIN_GAP_SECONDS: '30', PHONE_MAX_PER_DAY: '2', PHONE_MAX_GUESSES_PER_DAY: '10' };
    const before = await createHarness({ KEYRING: JSON.stringify(k1), ...limits });
    const after = await createHarness({ KEYRING: JSON.stringify(both), ...limits });
    const phone = '+14155550196';
    before.clock.now = alignedStart();
    await startVerification(before, phone);
    const send = rotatedSend(before, after);
    const logged = vi.spyOn(after.depsFor('send').logger, 'info');
    after.clock.now = before.clock.now + 10_000;
    expect((await send(sendEvent(phone))).statusCode).toBe(429);
    expect(logged).toHaveBeenCalledWith('Send refused by a phone limit', { limit: 'phone gap' });
    // The day's second call and the second set of guesses are still there for the phone.
    after.clock.now = before.clock.now + 31_000;
    const admitted = await send(sendEvent(phone));
    expect(admitted.statusCode).toBe(202);
    expect(parse(admitted)).toMatchObject({ status: 'pending' });
    expect(after.telephony.calls).toHaveLength(1);
    const verification = (await before.scan()).find((item) => item.id === parse(admitted).id);
    expect(verification?.maxAttempts).toBe(5);
  });

  it("keeps an API key's guess budget for a phone across a rotation", async () => {
    const before = await createHarness({ KEYRING: JSON.stringify(k1), PHONE_MAX_GUESSES_PER_DAY: '7' });
    const after = await createHarness({ KEYRING: JSON.stringify(both), PHONE_MAX_GUESSES_PER_DAY: '7' });
    const phone = '+14155550197';
    await startVerification(before, phone);
    const send = rotatedSend(before, after);
    const second = await send(sendEvent(phone));
    expect((await before.scan()).find((item) => item.id === parse(second).id)?.maxAttempts).toBe(2);
    expect((await send(sendEvent(phone))).statusCode).toBe(429);
  });

  it("keeps the fraud guard's windows across a rotation", async () => {
    const guard = { FRAUD_GUARD_MIN_CALLS: '4', FRAUD_GUARD_MIN_APPROVAL_RATE: '0.5' };
    const before = await createHarness({ KEYRING: JSON.stringify(k1), ...guard });
    const after = await createHarness({ KEYRING: JSON.stringify(both), ...guard });
    before.clock.now = alignedStart();
    for (let i = 0; i < 4; i++) await startVerification(before, `+120255501${60 + i}`);
    const send = rotatedSend(before, after);
    // Judged under the new key's pseudonym of the range, with the calls counted under the old one's.
    after.clock.now = before.clock.now + 15 * 60_000;
    expect((await send(sendEvent('+12025550170'))).statusCode).toBe(429);
  });

  it('answers an unknown phone and a finished one with the same work during a rotation', async () => {
    const h = await createHarness({ KEYRING: JSON.stringify(both) });
    const done = await startVerification(h, '+14155550194');
    await createVerifyHandler(h.depsFor('verify'))(
      apiEvent({
        method: 'POST',
        resource: '/v1/verifications/check',
        body: { id: done.id, code: done.code },
      }),
    );
    const checkPhone = (phone: string) =>
      h.verify(
        apiEvent({ method: 'POST', resource: '/v1/verifications/check', body: { phone, code: done.code } }),
      );
    h.dynamoCalls.length = 0;
    expect((await checkPhone('+14155550195')).statusCode).toBe(404);
    const unknown = [...h.dynamoCalls];
    h.dynamoCalls.length = 0;
    expect((await checkPhone('+14155550194')).statusCode).toBe(404);
    expect(h.dynamoCalls).toEqual(unknown);
    expect(unknown).toEqual(['BatchGetItemCommand', 'UpdateItemCommand']);
  });

  it('lets a container with a stale ring verify a code made under the new key, one attempt per check', async () => {
    const h = await createHarness({ KEYRING: JSON.stringify(both) });
    const sent = await startVerification(h, '+14155550191');
    const refreshes: string[] = [];
    const stale = createVerifyHandler({ ...h.depsFor('verify'), secrets: staleSecrets(refreshes) });
    const wrong = await stale(
      apiEvent({
        method: 'POST',
        resource: '/v1/verifications/check',
        body: { id: sent.id, code: wrongCode(sent.code) },
      }),
    );
    expect(parse(wrong)).toMatchObject({ valid: false, attemptsLeft: 4 });
    const right = await stale(
      apiEvent({
        method: 'POST',
        resource: '/v1/verifications/check',
        body: { id: sent.id, code: sent.code },
      }),
    );
    expect(parse(right)).toEqual({ id: sent.id, valid: true, status: 'approved' });
    expect(refreshes.length).toBeGreaterThanOrEqual(1);
    expect(parse(await status(h, sent.id))).toMatchObject({ attempts: 2 });
  });

  it('re-reads the ring only for a key id it does not know', async () => {
    const h = await createHarness({ KEYRING: JSON.stringify(k1) });
    const sent = await startVerification(h, '+14155550196');
    const refreshes: string[] = [];
    const verify = createVerifyHandler({ ...h.depsFor('verify'), secrets: staleSecrets(refreshes) });
    const right = await verify(
      apiEvent({
        method: 'POST',
        resource: '/v1/verifications/check',
        body: { id: sent.id, code: sent.code },
      }),
    );
    expect(parse(right)).toEqual({ id: sent.id, valid: true, status: 'approved' });
    expect(refreshes).toEqual([]);
  });

  it("cancels a phone's verification made under the old key when a send after the rotation replaces it", async () => {
    const before = await createHarness({ KEYRING: JSON.stringify(k1) });
    const phone = '+14155550197';
    const older = await startVerification(before, phone);
    const after = await createHarness({ KEYRING: JSON.stringify(both) });
    const send = createSendHandler({
      ...after.depsFor('send'),
      store: before.stores.send,
      telephony: after.telephony,
    });
    const newer = parse(
      await send(apiEvent({ method: 'POST', resource: '/v1/verifications', body: { phone } })),
    );
    expect(parse(await status(before, older.id))).toMatchObject({ status: 'canceled' });
    expect(parse(await status(before, newer.id as string))).toMatchObject({ status: 'pending' });
  });

  it('lets an answer container with a stale ring open a token sealed under the new key', async () => {
    const h = await createHarness({ KEYRING: JSON.stringify(both) });
    await startVerification(h, '+14155550192');
    const call = h.telephony.calls.at(-1);
    const refreshes: string[] = [];
    const answer = createAnswerHandler({ ...h.depsFor('answer'), secrets: staleSecrets(refreshes) });
    const xml = parseXml((await answer(webhookEvent(call?.answerUrl ?? '', answerParams('c')))).body);
    expect(xml.children[0]?.text).toContain('Your verification code is');
    expect(refreshes).toEqual(['refresh']);
  });
});
