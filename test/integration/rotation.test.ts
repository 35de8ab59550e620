import { describe, expect, it } from 'vitest';
import { createAnswerHandler } from '../../functions/answer.ts';
import { createSendHandler } from '../../functions/send.ts';
import { createVerifyHandler } from '../../functions/verify.ts';
import { parseKeyRing } from '../../lib/keyring.ts';
import type { Secrets } from '../../lib/secrets.ts';
import {
  answerParams,
  apiEvent,
  createHarness,
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
    const rotated = createVerifyHandler({ ...after.deps, store: before.store });
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
    const send = createSendHandler({ ...after.deps, store: before.store, telephony: after.telephony });
    const refused = await send(apiEvent({ method: 'POST', resource: '/v1/verifications', body: { phone } }));
    expect(refused.statusCode).toBe(429);
    expect(after.telephony.calls).toHaveLength(0);
  });

  it('answers an unknown phone and a finished one with the same work during a rotation', async () => {
    const h = await createHarness({ KEYRING: JSON.stringify(both) });
    const done = await startVerification(h, '+14155550194');
    await createVerifyHandler(h.deps)(
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
    const stale = createVerifyHandler({ ...h.deps, secrets: staleSecrets(refreshes) });
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
    const verify = createVerifyHandler({ ...h.deps, secrets: staleSecrets(refreshes) });
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
    const send = createSendHandler({ ...after.deps, store: before.store, telephony: after.telephony });
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
    const answer = createAnswerHandler({ ...h.deps, secrets: staleSecrets(refreshes) });
    const xml = parseXml((await answer(webhookEvent(call?.answerUrl ?? '', answerParams('c')))).body);
    expect(xml.children[0]?.text).toContain('Your verification code is');
    expect(refreshes).toEqual(['refresh']);
  });
});
