import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it, vi } from 'vitest';
import { type CallRequest, callRejected } from '#channels/telephony.ts';
import { parseKeyRing } from '#platform/keyring.ts';
import type { Secrets } from '#platform/secrets.ts';
import { createDocumentClient } from '#store/dynamodb-client.ts';
import { dynamoDbStore } from '#store/dynamodb-store.ts';
import { listUnderPhone } from '#store/table.ts';
import { createSendHandler } from '../../functions/send.ts';
import { createVerifyHandler } from '../../functions/verify.ts';
import {
  API_KEY_ID,
  answerParams,
  apiEvent,
  check,
  createHarness,
  type Harness,
  parse,
  spokenCode,
  startSmsVerification,
  startVerification,
  status,
  webhookEvent,
} from '../support/harness.ts';

/** "Forget my number": POST /v1/phones/erase deletes the phone's verifications for the calling key. */

const PHONE = '+14155550140';
const OTHER_PHONE = '+14155550141';

const erase = (h: Pick<Harness, 'verify'>, phone: string, apiKeyId = API_KEY_ID) =>
  h.verify(apiEvent({ method: 'POST', resource: '/v1/phones/erase', body: { phone }, apiKeyId }));

/** The ids the phone's (one) pointer lists. */
const recentIds = async (h: Harness) => {
  const [pointer] = await items(h, 'PHONE#');
  return ((pointer?.recent ?? []) as { id: string }[]).map((entry) => entry.id);
};

/** Lists an id in a phone's pointer the way creating a verification does (lib/store/table.ts). */
const listIn = (h: Harness, entry: { id: string; apiKeyId: string; phoneHash: string }) =>
  createDocumentClient(h.connection).send(
    new UpdateCommand({
      TableName: h.tableName,
      ...listUnderPhone(entry, Math.ceil(h.clock.now / 1000) + 300 + h.config.retentionSeconds),
    }),
  );

const items = async (h: Harness, prefix: string) =>
  (await h.scan()).filter((item) => String(item.pk).startsWith(prefix));

describe('erasure by phone', () => {
  it('deletes every verification of the phone and its pointer; the ids and a check by phone answer 404', async () => {
    const h = await createHarness();
    const approved = await startVerification(h, PHONE);
    await check(h, { id: approved.id, code: approved.code });
    const superseded = await startVerification(h, PHONE);
    const sms = await startSmsVerification(h, PHONE);
    // A send whose call was refused stored a failed verification of the phone, never pointed to.
    h.telephony.failCalls = callRejected();
    const refused = await h.send(
      apiEvent({ method: 'POST', resource: '/v1/verifications', body: { phone: PHONE, fallback: false } }),
    );
    expect(refused.statusCode).toBe(422);
    h.telephony.failCalls = undefined;
    const failedId = (await items(h, 'VERIFICATION#')).find(
      (item) => item.status === 'failed' && item.apiKeyId === API_KEY_ID,
    )?.id as string;
    const kept = await startVerification(h, OTHER_PHONE);
    const countersBefore = await items(h, 'RATE#');

    const response = await erase(h, PHONE);
    expect(response.statusCode).toBe(200);
    expect(parse(response)).toEqual({ erased: 4 });

    for (const id of [approved.id, superseded.id, sms.id, failedId]) {
      expect((await status(h, id)).statusCode, id).toBe(404);
    }
    const byPhone = await check(h, { phone: PHONE, code: sms.code });
    expect(byPhone.statusCode).toBe(404);
    expect(parse(byPhone)).toMatchObject({ error: { code: 'verification_not_found' } });
    // Only the other phone's verification and pointer remain; the counters stay as they were.
    expect((await items(h, 'VERIFICATION#')).map((item) => item.id)).toEqual([kept.id]);
    expect(await items(h, 'PHONE#')).toHaveLength(1);
    expect(await items(h, 'RATE#')).toEqual(countersBefore);
    expect(parse(await check(h, { phone: OTHER_PHONE, code: kept.code }))).toMatchObject({ valid: true });
  });

  it('is idempotent: a second erasure, and one of a phone never seen, erase 0 and write nothing', async () => {
    const h = await createHarness();
    await startVerification(h, PHONE);
    expect(parse(await erase(h, PHONE))).toEqual({ erased: 1 });
    const after = await h.scan();
    expect(parse(await erase(h, PHONE))).toEqual({ erased: 0 });
    const unknown = await erase(h, '+14155550149');
    expect(unknown.statusCode).toBe(200);
    expect(parse(unknown)).toEqual({ erased: 0 });
    expect(await h.scan()).toEqual(after);
  });

  it("leaves another API key's verifications of the same phone alone", async () => {
    const h = await createHarness();
    const mine = await startVerification(h, PHONE, 'tenant-a');
    const theirs = await startVerification(h, PHONE, 'tenant-b');
    expect(parse(await erase(h, PHONE, 'tenant-a'))).toEqual({ erased: 1 });
    expect((await status(h, mine.id, 'tenant-a')).statusCode).toBe(404);
    expect((await status(h, theirs.id, 'tenant-b')).statusCode).toBe(200);
    expect(parse(await check(h, { phone: PHONE, code: theirs.code }, 'tenant-b'))).toEqual({
      id: theirs.id,
      valid: true,
      status: 'approved',
    });
  });

  it('finds verifications under every key of the ring during a rotation, also in a container that loaded the old ring', async () => {
    const k1 = { current: 'k1', k1: 'a'.repeat(43) };
    const both = { ...k1, current: 'k2', k2: 'b'.repeat(43) };
    const before = await createHarness({ KEYRING: JSON.stringify(k1) });
    const older = await startVerification(before, PHONE);
    // The same table served with the rotated ring: the phone's next pointer lives under k2's pseudonym.
    const after = await createHarness({ KEYRING: JSON.stringify(both) });
    const send = createSendHandler({
      ...after.depsFor('send'),
      store: before.stores.send,
      telephony: after.telephony,
    });
    const newer = await send(
      apiEvent({ method: 'POST', resource: '/v1/verifications', body: { phone: PHONE } }),
    );
    expect(newer.statusCode).toBe(202);
    expect(await items(before, 'PHONE#')).toHaveLength(2);

    const stale: Secrets = {
      keyRing: async (options) => parseKeyRing(JSON.stringify(options?.refresh ? both : k1)),
      plivo: async () => ({ authId: 'MATESTAUTHID', authToken: 'test-auth-token' }),
    };
    const verify = createVerifyHandler({ ...before.depsFor('verify'), secrets: stale });
    expect(parse(await erase({ verify }, PHONE))).toEqual({ erased: 2 });
    expect(await items(before, 'VERIFICATION#')).toEqual([]);
    expect(await items(before, 'PHONE#')).toEqual([]);
    expect((await status(before, older.id)).statusCode).toBe(404);
    expect((await status(before, parse(newer).id as string)).statusCode).toBe(404);
  });

  it('also erases a verification that a send lists while the erasure runs', async () => {
    const h = await createHarness();
    const early = await startVerification(h, PHONE);
    // The erasure's store: right after it has read the phone's pointer, a send for that phone lands.
    const client = createDocumentClient(h.connection);
    let late: { id: string } | undefined;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if (!late && /BatchGet/.test(String(context.commandName))) late = await startVerification(h, PHONE);
        return out;
      },
      { step: 'initialize', name: 'sendDuringErasure' },
    );
    const verify = createVerifyHandler({
      ...h.depsFor('verify'),
      store: dynamoDbStore({
        db: client,
        tableName: h.tableName,
        retentionSeconds: h.config.retentionSeconds,
      }),
    });
    expect(parse(await erase({ verify }, PHONE))).toEqual({ erased: 2 });
    expect(late).toBeDefined();
    for (const id of [early.id, late?.id ?? '']) expect((await status(h, id)).statusCode).toBe(404);
    expect(await items(h, 'PHONE#')).toEqual([]);
  });

  it("takes the Idempotency-Key record's stored answer with it: nothing stored names the number afterwards", async () => {
    const h = await createHarness();
    const idempotent = (key: string) =>
      h.send(
        apiEvent({
          method: 'POST',
          resource: '/v1/verifications',
          body: { phone: PHONE },
          headers: { 'Idempotency-Key': key },
        }),
      );
    const first = await idempotent('erase-me');
    expect(first.statusCode).toBe(202);
    const masked = parse(first).to as string;
    const [record] = await items(h, 'IDEMPOTENCY#');
    expect(JSON.stringify(record)).toContain(masked);

    expect(parse(await erase(h, PHONE))).toEqual({ erased: 1 });
    // The record stays (a retry must not place a second call), holding neither the answer nor the number.
    const after = await h.scan();
    expect(after.filter((item) => JSON.stringify(item).includes(masked))).toEqual([]);
    expect(await items(h, 'IDEMPOTENCY#')).toEqual([
      expect.not.objectContaining({ response: expect.anything() }),
    ]);
    const retry = await idempotent('erase-me');
    expect(retry.statusCode).toBe(404);
    expect(retry.headers?.['Idempotent-Replayed']).toBe('true');
    expect(h.telephony.calls).toHaveLength(1);
  });

  it('finds a verification whose call is still being placed; the send then writes nothing of the phone back', async () => {
    const h = await createHarness();
    h.telephony.delayMs = 300;
    // The send is stored and placing its call (Plivo takes a while) when the erasure arrives.
    const sending = h.send(
      apiEvent({ method: 'POST', resource: '/v1/verifications', body: { phone: PHONE } }),
    );
    await vi.waitFor(() => expect(h.telephony.calls).toHaveLength(1), { interval: 5 });
    const placing = (await items(h, 'VERIFICATION#'))[0]?.id as string;
    expect(placing).toMatch(/^vrf_/);
    expect(parse(await erase(h, PHONE))).toEqual({ erased: 1 });

    // The call was out already: the send answers 202, and its later writes bring nothing back.
    const sent = await sending;
    expect(sent.statusCode).toBe(202);
    expect(parse(sent).id).toBe(placing);
    expect((await status(h, placing)).statusCode).toBe(404);
    expect(await items(h, 'VERIFICATION#')).toEqual([]);
    expect(await items(h, 'PHONE#')).toEqual([]);
    // Answered late, the call speaks no code: its verification is gone.
    const call = h.telephony.calls[0] as CallRequest;
    const answered = await h.answer(webhookEvent(call.answerUrl, answerParams('erased-call')));
    expect(answered.body).not.toContain(spokenCode(h, call));
    expect(answered.body).toContain('<Hangup');
  });

  it("never deletes another key's verification, even one a pointer names", async () => {
    const h = await createHarness();
    const theirs = await startVerification(h, PHONE, 'tenant-b');
    const mine = await startVerification(h, PHONE, 'tenant-a');
    // However an id got into tenant-a's pointer, the delete is conditional on the item's own key and phone.
    const [pointer] = (await items(h, 'PHONE#')).filter((item) => String(item.pk).includes('#tenant-a#'));
    const entry = {
      id: theirs.id,
      apiKeyId: 'tenant-a',
      phoneHash: String(pointer?.pk).split('#')[2] ?? '',
    };
    await listIn(h, entry);
    expect(parse(await erase(h, PHONE, 'tenant-a'))).toEqual({ erased: 1 });
    expect((await status(h, mine.id, 'tenant-a')).statusCode).toBe(404);
    expect((await status(h, theirs.id, 'tenant-b')).statusCode).toBe(200);
  });
});

describe("the phone pointer's recent ids", () => {
  it('drops ids whose verifications have outlived their retention', async () => {
    const h = await createHarness({ CODE_TTL_SECONDS: '60', RETENTION_SECONDS: '0' });
    await startVerification(h, PHONE);
    await startVerification(h, PHONE);
    h.clock.advance(120_000);
    const latest = await startVerification(h, PHONE);
    expect(await recentIds(h)).toEqual([latest.id]);
  });

  it('keeps at most the limit, newest last', async () => {
    const h = await createHarness();
    const ids = [];
    for (let i = 0; i < 4; i++) {
      const entry = {
        id: `vrf_${String(i).padStart(26, '0')}`,
        apiKeyId: API_KEY_ID,
        phoneHash: 'k1.pseudonym',
        createdAt: h.clock.now + i,
        expiresAt: h.clock.now + 300_000,
      };
      ids.push(entry.id);
      // As a send does: listed when created, pointed to once its code is out.
      await listIn(h, entry);
      await h.stores.send.pointPhoneTo(entry, { atMost: 2 });
    }
    expect(await recentIds(h)).toEqual(ids.slice(2));
  });
});
