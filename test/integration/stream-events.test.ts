import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { callRejected, messageRejected } from '#channels/telephony.ts';
import { createEventsHandler } from '../../functions/events.ts';
import { localClient } from '../../local/dynamodb-local.ts';
import { streamEvent } from '../../local/stream-reader.ts';
import { expectValidEvent } from '../support/event-schemas.ts';
import {
  apiEvent,
  cancel,
  check,
  createHarness,
  type Harness,
  hangupParams,
  parse,
  startSmsVerification,
  startVerification,
  status,
  webhookEvent,
  wrongCode,
  wrongCodes,
} from '../support/harness.ts';

/**
 * The events function on the table's stream: each write becomes exactly its outcome events, valid against
 * schemas/events, with no code, hash, token or number in them; the fraud guard's approvals are counted once
 * however often a record is delivered; one record that fails does not hold the others back.
 */
const PHONE = '+14155550123';
const PHONE2 = '+14155550124';
const PHONE3 = '+14155550125';

let h: Harness;
beforeEach(async () => {
  h = await createHarness({}, { stream: true });
});

/** Drains the stream and answers the events its records gave, as [verificationId, type] pairs. */
async function drained() {
  const before = h.published.length;
  const response = await h.drainStream();
  expect(response.batchItemFailures).toEqual([]);
  return h.published.slice(before).map((event) => [event.payload.data.verificationId, event.payload.type]);
}

/** Everything a payload must never hold for these verifications: codes, hashes, sealed tokens. */
async function secretsOf(codes: string[]) {
  const items = await h.scan();
  const hashes = items
    .map((item) => item.codeHash)
    .filter((hash): hash is string => typeof hash === 'string');
  const tokens = h.telephony.calls.map((call) => new URL(call.answerUrl).searchParams.get('t') ?? '');
  const smsTokens = h.telephony.messages.map(
    (message) => new URL(message.statusUrl).searchParams.get('t') ?? '',
  );
  return [...codes, ...hashes, ...tokens, ...smsTokens].filter(Boolean);
}

const sendNoFallback = (phone: string) =>
  h.send(apiEvent({ method: 'POST', resource: '/v1/verifications', body: { phone, fallback: false } }));

const reportParams = (uuid: string, reportStatus: string) => ({
  MessageUUID: uuid,
  To: PHONE.slice(1),
  From: '14155550100',
  Type: 'sms',
  Status: reportStatus,
  Units: '1',
  TotalAmount: '0.00500',
  TotalRate: '0.00500',
  ParentMessageUUID: uuid,
  PartInfo: '1 of 1',
  MessageTime: '2026-11-30 10:00:00.000000',
});

describe('each transition gives exactly its events', () => {
  it('started, then approved; a wrong check, a status read and the counters written give none', async () => {
    const v = await startVerification(h, PHONE);
    // The send also wrote rate-limit counters, the phone's pointer and the fraud guard's window.
    expect(await drained()).toEqual([[v.id, 'verification.started']]);
    await check(h, { id: v.id, code: wrongCode(v.code) });
    await status(h, v.id);
    expect(await drained()).toEqual([]);
    await check(h, { id: v.id, code: v.code });
    expect(await drained()).toEqual([[v.id, 'verification.approved']]);
    for (const event of h.published) expectValidEvent(event, await secretsOf([v.code]));
    expect(h.published.map((e) => e.payload.data)).toEqual([
      expect.objectContaining({
        verificationId: v.id,
        status: 'pending',
        channel: 'voice',
        to: '+1********23',
      }),
      expect.objectContaining({
        verificationId: v.id,
        status: 'approved',
        channel: 'voice',
        to: '+1********23',
      }),
    ]);
    expect(h.published.every((event) => event.apiKeyId === 'key-test-1')).toBe(true);
  });

  it('max_attempts_reached once, on the last wrong check', async () => {
    const v = await startVerification(h, PHONE);
    await drained();
    for (const code of wrongCodes(v.code, 5)) await check(h, { id: v.id, code });
    expect(await drained()).toEqual([[v.id, 'verification.max_attempts_reached']]);
    for (const event of h.published) expectValidEvent(event, await secretsOf([v.code]));
  });

  it('canceled by the API, and by a newer send for the same phone (superseded)', async () => {
    const first = await startVerification(h, PHONE);
    await cancel(h, first.id);
    const second = await startVerification(h, PHONE);
    h.clock.advance(1_000);
    const third = await startVerification(h, PHONE);
    expect(await drained()).toEqual([
      [first.id, 'verification.started'],
      [first.id, 'verification.canceled'],
      [second.id, 'verification.started'],
      [third.id, 'verification.started'],
      [second.id, 'verification.canceled'],
    ]);
    for (const event of h.published)
      expectValidEvent(event, await secretsOf([first.code, second.code, third.code]));
  });

  it('failed when Plivo refuses the call (no fallback asked for)', async () => {
    h.telephony.failCalls = callRejected();
    const response = await sendNoFallback(PHONE);
    expect(response.statusCode).toBe(422);
    const id = h.telephony.calls[0]?.verificationId ?? '';
    expect(await drained()).toEqual([
      [id, 'verification.started'],
      [id, 'verification.failed'],
    ]);
    expect(h.published.at(-1)?.payload.data).toMatchObject({ status: 'failed', call: { status: 'failed' } });
    for (const event of h.published) expectValidEvent(event, await secretsOf([]));
  });

  it('the fallback block: the other channel, and sent or why not, from the moment it was used or refused', async () => {
    // Plivo refuses the call: the SMS goes out at once, the fallback used.
    h.telephony.failCalls = callRejected();
    const sent = await h.send(
      apiEvent({ method: 'POST', resource: '/v1/verifications', body: { phone: PHONE } }),
    );
    expect(sent.statusCode).toBe(202);
    const fellBack = parse(sent).id as string;
    expect(await drained()).toEqual([
      [fellBack, 'verification.started'],
      [fellBack, 'message.status'],
    ]);
    // Started before the fallback was used (the item as first written); the SMS's first status after it.
    const [started, smsQueued] = h.published.slice(-2).map((event) => event.payload.data);
    expect(started).not.toHaveProperty('fallback');
    expect(smsQueued).toMatchObject({
      status: 'pending',
      channel: 'voice',
      call: { status: 'failed' },
      message: { status: 'queued' },
      fallback: { channel: 'sms', reason: 'sent' },
    });
    // Both refused: failed, and the fallback says why it went nowhere.
    h.telephony.failMessages = messageRejected();
    h.clock.advance(60_000);
    expect(
      (await h.send(apiEvent({ method: 'POST', resource: '/v1/verifications', body: { phone: PHONE2 } })))
        .statusCode,
    ).toBe(422);
    const refused = h.telephony.calls.at(-1)?.verificationId ?? '';
    expect(await drained()).toEqual([
      [refused, 'verification.started'],
      [refused, 'message.status'],
      [refused, 'message.status'],
      [refused, 'verification.failed'],
    ]);
    // The SMS queued (the fallback used), then refused: from then on its reason is Plivo's refusal.
    expect(h.published.slice(-3).map((event) => event.payload.data.fallback)).toEqual([
      { channel: 'sms', reason: 'sent' },
      { channel: 'sms', reason: 'message_rejected' },
      { channel: 'sms', reason: 'message_rejected' },
    ]);
    expect(h.published.at(-1)?.payload.data).toMatchObject({
      status: 'failed',
      message: { status: 'failed' },
    });
    // A verification that never fell back has no block at all.
    h.telephony.failCalls = undefined;
    h.telephony.failMessages = undefined;
    const plain = await startVerification(h, PHONE3);
    await drained();
    const [plainStarted] = h.published.filter((e) => e.payload.data.verificationId === plain.id);
    expect(plainStarted?.payload.data).not.toHaveProperty('fallback');
    for (const event of h.published) expectValidEvent(event, await secretsOf([plain.code]));
  });

  it('call.ended once per call, from the hangup webhook; its retry gives nothing more', async () => {
    const v = await startVerification(h, PHONE);
    await drained();
    const url = h.telephony.calls[0]?.hangupUrl ?? '';
    expect((await h.hangup(webhookEvent(url, hangupParams('call-1')))).statusCode).toBe(200);
    // Plivo's retry, a moment later: the same outcome written again.
    h.clock.advance(1_000);
    expect((await h.hangup(webhookEvent(url, hangupParams('call-1')))).statusCode).toBe(200);
    expect(await drained()).toEqual([[v.id, 'call.ended']]);
    // Later writes to the verification carry the ended call, and are not its end again.
    await check(h, { id: v.id, code: v.code });
    expect(await drained()).toEqual([[v.id, 'verification.approved']]);
    expect(h.published.find((e) => e.payload.type === 'call.ended')?.payload.data.call).toEqual({
      status: 'completed',
      durationSeconds: 20,
      billDurationSeconds: 60,
      hangupCause: 'Normal Hangup',
      cost: '0.00850',
    });
    for (const event of h.published) expectValidEvent(event, await secretsOf([v.code]));
  });

  it('message.status for each step an SMS takes; a replayed report gives nothing more', async () => {
    const v = await startSmsVerification(h, PHONE);
    expect(await drained()).toEqual([[v.id, 'verification.started']]);
    const url = v.message.statusUrl;
    for (const step of ['sent', 'sent', 'delivered'])
      expect((await h.hangup(webhookEvent(url, reportParams('msg-1', step)))).statusCode).toBe(200);
    expect(await drained()).toEqual([
      [v.id, 'message.status'],
      [v.id, 'message.status'],
    ]);
    expect(h.published.slice(-2).map((e) => e.payload.data.message?.status)).toEqual(['sent', 'delivered']);
    await check(h, { id: v.id, code: v.code });
    expect(await drained()).toEqual([[v.id, 'verification.approved']]);
    for (const event of h.published) expectValidEvent(event, await secretsOf([v.code]));
  });

  it('expiry writes nothing, so it is no event; neither is a deletion by the TTL', async () => {
    const v = await startVerification(h, PHONE);
    await drained();
    h.clock.advance(h.config.codeTtlSeconds * 1000 + 1);
    expect(parse(await status(h, v.id))).toMatchObject({ status: 'expired' });
    expect(await check(h, { id: v.id, code: v.code })).toMatchObject({ statusCode: 200 });
    const client = localClient(h.connection);
    await client.send(
      new DeleteItemCommand({ TableName: h.tableName, Key: { pk: { S: `VERIFICATION#${v.id}` } } }),
    );
    client.destroy();
    // DynamoDB Local never expires items; a TTL deletion's record is a REMOVE by the DynamoDB service.
    const byTtl = (records: DynamoDBRecord[]) =>
      records.map((record) => ({
        ...record,
        userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
      }));
    const before = h.published.length;
    expect((await h.drainStream(byTtl)).batchItemFailures).toEqual([]);
    expect(h.published.slice(before)).toEqual([]);
  });

  it('an erasure gives verification.erased for each verification it deletes, with nothing of the code', async () => {
    const first = await startVerification(h, PHONE);
    h.clock.advance(h.config.abuse.phoneMinGapSeconds * 1000 + 1);
    const second = await startVerification(h, PHONE);
    await check(h, { id: second.id, code: second.code });
    await drained();
    const erase = () =>
      h.verify(apiEvent({ method: 'POST', resource: '/v1/phones/erase', body: { phone: PHONE } }));
    expect(parse(await erase())).toEqual({ erased: 2 });
    const before = h.published.length;
    expect(await drained()).toEqual(
      expect.arrayContaining([
        [first.id, 'verification.erased'],
        [second.id, 'verification.erased'],
      ]),
    );
    const events = h.published.slice(before);
    expect(events).toHaveLength(2);
    const secrets = await secretsOf([first.code, second.code]);
    for (const event of events) expectValidEvent(event, secrets);
    expect(events.map((event) => event.payload.data.status).sort()).toEqual(['approved', 'canceled']);
    // Erasing again deletes nothing, so it says nothing.
    expect(parse(await erase())).toEqual({ erased: 0 });
    expect(await drained()).toEqual([]);
  });
});

describe('delivery more than once', () => {
  it('a redelivered batch counts the approval once, and its events keep their ids', async () => {
    const v = await startVerification(h, PHONE);
    await check(h, { id: v.id, code: v.code });
    let records: DynamoDBRecord[] = [];
    await h.drainStream((all) => {
      records = all;
      return all;
    });
    const first = h.published.map((event) => event.id);
    // Lambda retries a batch after a timeout or a crash, and a partial failure retries its later records.
    await h.events(streamEvent(records));
    const approval = records.filter((r) => r.dynamodb?.NewImage?.status?.S === 'approved');
    expect(approval).toHaveLength(1);
    await h.events(streamEvent(approval));
    const windows = (await h.scan()).filter(
      (item) => String(item.pk).startsWith('GUARD#') && !String(item.pk).endsWith('#pause'),
    );
    expect(windows).toHaveLength(1);
    expect(windows[0]).toMatchObject({ sent: 1, approved: 1, 'approved#key-test-1': 1 });
    expect(h.published.map((event) => event.id)).toEqual([...first, ...first, first[1]]);
    expect(first).toHaveLength(2);
  });
});

describe('order', () => {
  it("a record's events wait for the record before it: a slow sink lets no later event overtake", async () => {
    const v = await startVerification(h, PHONE);
    await check(h, { id: v.id, code: v.code });
    let records: DynamoDBRecord[] = [];
    // Read the records without handing them to the harness's own handler.
    await h.drainStream((all) => {
      records = all;
      return [];
    });
    const order: string[] = [];
    let calls = 0;
    const handler = createEventsHandler({
      ...h.depsFor('events'),
      telephony: h.telephony,
      sinks: [
        {
          async publish(events) {
            // The first record's sink answers late, as EventBridge sometimes does.
            if (calls++ === 0) await new Promise((resolve) => setTimeout(resolve, 50));
            order.push(...events.map((event) => event.payload.type));
          },
        },
      ],
    });
    expect((await handler(streamEvent(records))).batchItemFailures).toEqual([]);
    expect(order).toEqual(['verification.started', 'verification.approved']);
  });
});

describe('partial batch failure', () => {
  it('one record the function cannot read fails alone; the others are handled', async () => {
    const a = await startVerification(h, '+14155550124');
    const b = await startVerification(h, '+14155550125');
    const c = await startVerification(h, '+14155550126');
    await check(h, { id: c.id, code: c.code });
    let poisoned = '';
    const response = await h.drainStream((records) =>
      records.map((record) => {
        const image = record.dynamodb?.NewImage;
        if (record.eventName !== 'INSERT' || image?.pk?.S !== `VERIFICATION#${b.id}`) return record;
        poisoned = record.dynamodb?.SequenceNumber ?? '';
        const unreadable = { ...image, status: { Z: 'x' } };
        return {
          ...record,
          dynamodb: { ...record.dynamodb, NewImage: unreadable },
        } as unknown as DynamoDBRecord;
      }),
    );
    expect(poisoned).not.toBe('');
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: poisoned }]);
    expect(h.published.map((e) => [e.payload.data.verificationId, e.payload.type])).toEqual([
      [a.id, 'verification.started'],
      [c.id, 'verification.started'],
      [c.id, 'verification.approved'],
    ]);
    // The record after the poisoned one counted its approval all the same.
    const windows = (await h.scan()).filter((item) => String(item.pk).startsWith('GUARD#'));
    expect(windows.reduce((sum, item) => sum + Number(item.approved ?? 0), 0)).toBe(1);
  });

  it('a batch whose every record fails is reported record by record, never thrown (the Errors alarm means a crash)', async () => {
    // At low volume a batch is one record: Powertools would throw FullBatchFailureError, a Lambda error.
    await startVerification(h, '+14155550127');
    const unreadable = (record: DynamoDBRecord) =>
      ({
        ...record,
        dynamodb: { ...record.dynamodb, NewImage: { ...record.dynamodb?.NewImage, status: { Z: 'x' } } },
      }) as unknown as DynamoDBRecord;
    let sequenceNumbers: string[] = [];
    const response = await h.drainStream((records) => {
      sequenceNumbers = records.map((record) => record.dynamodb?.SequenceNumber ?? '');
      return records.map(unreadable);
    });
    expect(sequenceNumbers.length).toBeGreaterThan(0);
    expect(response.batchItemFailures).toEqual(sequenceNumbers.map((itemIdentifier) => ({ itemIdentifier })));
  });
});

describe('cancel and supersede hang up the call in flight', () => {
  const requestIdOf = async (id: string) =>
    ((await h.scan()).find((item) => item.pk === `VERIFICATION#${id}`)?.call as { requestId?: string })
      ?.requestId;

  it('a cancel hangs up its ringing call; an approval does not', async () => {
    const canceled = await startVerification(h, '+14155550124');
    const approved = await startVerification(h, '+14155550125');
    await cancel(h, canceled.id);
    await check(h, { id: approved.id, code: approved.code });
    await drained();
    const requestId = await requestIdOf(canceled.id);
    expect(requestId).toBeDefined();
    expect(h.telephony.ended).toEqual([requestId]);
    expect(h.metrics.counted.filter((c) => c.name === 'CallsHungUp')).toHaveLength(1);
  });

  it('a resend hangs up the older call, not its own', async () => {
    const older = await startVerification(h, PHONE);
    h.clock.advance(1_000);
    const newer = await startVerification(h, PHONE);
    await drained();
    expect(h.telephony.ended).toEqual([await requestIdOf(older.id)]);
    expect(h.telephony.ended).not.toContain(await requestIdOf(newer.id));
  });

  it('a cancel that lands while the call is being placed hangs it up once its request id is written', async () => {
    h.telephony.delayMs = 300;
    const sending = h.send(
      apiEvent({ method: 'POST', resource: '/v1/verifications', body: { phone: PHONE } }),
    );
    let id: string | undefined;
    while (!id) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      id = h.telephony.calls[0]?.verificationId;
    }
    expect((await cancel(h, id)).statusCode).toBe(200);
    // The cancel's record comes first, with no request id yet: nothing to hang up.
    expect(await requestIdOf(id)).toBeUndefined();
    await drained();
    expect(h.telephony.ended).toEqual([]);
    // Then the send writes the call's request id onto the canceled verification: that record hangs it up.
    expect((await sending).statusCode).toBe(202);
    const requestId = await requestIdOf(id);
    expect(requestId).toBeDefined();
    await drained();
    expect(h.telephony.ended).toEqual([requestId]);
  });

  it('a call that already ended is not hung up', async () => {
    const v = await startVerification(h, PHONE);
    const url = h.telephony.calls[0]?.hangupUrl ?? '';
    await h.hangup(webhookEvent(url, hangupParams('call-1', { CallStatus: 'completed' })));
    // Even with its request id recorded late (the send's write landing after the call's end).
    await h.stores.send.recordCallRequest(v.id, 'req-late', h.clock.now);
    await cancel(h, v.id);
    await drained();
    expect(h.telephony.ended).toEqual([]);
  });

  it('Plivo unreachable: the record fails, and its retry hangs up', async () => {
    const v = await startVerification(h, PHONE);
    await cancel(h, v.id);
    h.telephony.failEndCall = new Error('Plivo is down');
    let records: DynamoDBRecord[] = [];
    const failed = await h.drainStream((all) => {
      records = all;
      return all;
    });
    expect(failed.batchItemFailures).toHaveLength(1);
    h.telephony.failEndCall = undefined;
    const failedAt = records.findIndex(
      (r) => r.dynamodb?.SequenceNumber === failed.batchItemFailures[0]?.itemIdentifier,
    );
    await h.events(streamEvent(records.slice(failedAt)));
    expect(h.telephony.ended).toEqual([await requestIdOf(v.id)]);
  });
});
