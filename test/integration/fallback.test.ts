import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { callRejected, messageRejected, telephonyUnavailable } from '#channels/telephony.ts';
import type { Store } from '#store/store.ts';
import { createHangupHandler } from '../../functions/hangup.ts';
import { failing } from '../support/failing-store.ts';
import {
  answerParams,
  apiEvent,
  cancel,
  check,
  createHarness,
  type Harness,
  hangupParams,
  parse,
  RELAXED_LIMITS,
  sentCode,
  spokenCode,
  startSmsVerification,
  startVerification,
  status,
  webhookEvent,
} from '../support/harness.ts';
import { captureOutput } from '../support/output-capture.ts';
import { descendants, parseXml } from '../support/xml.ts';

const PHONE = '+14155550123';

/** What Plivo posts to the hangup URL for calls that never reached anyone, by how they ended. */
const UNHEARD: Array<[string, Record<string, string>]> = [
  ['a busy line', { CallStatus: 'busy', HangupCauseName: 'Busy Line' }],
  ['no answer', { CallStatus: 'no-answer', HangupCauseName: 'No Answer' }],
  ["Plivo's timeout (no answer)", { CallStatus: 'timeout', HangupCauseName: 'No Answer' }],
  ['a failed call', { CallStatus: 'failed', HangupCauseName: 'Unknown' }],
  [
    'an answering machine',
    { CallStatus: 'completed', Machine: 'true', HangupCauseName: 'Machine Detected', BillDuration: '60' },
  ],
  ['a call that ended before it was answered', { CallStatus: 'completed', AnswerTime: '' }],
];

/** A call that ended without being answered: nothing billed, no answer time. */
const unanswered = (uuid: string, extra: Record<string, string>) =>
  hangupParams(uuid, { Duration: '0', BillDuration: '0', TotalCost: '0.00000', AnswerTime: '', ...extra });

/** What Plivo posts to the delivery-report URL for one status of one message. */
const reportParams = (uuid: string, status: string, extra: Record<string, string> = {}) => ({
  MessageUUID: uuid,
  To: PHONE.slice(1),
  From: '14155550100',
  Type: 'sms',
  Status: status,
  Units: '1',
  ParentMessageUUID: uuid,
  PartInfo: '1 of 1',
  ...(status === 'undelivered' || status === 'failed' ? { ErrorCode: '70' } : {}),
  ...extra,
});

const send = (h: Harness, body: Record<string, unknown>) =>
  h.send(apiEvent({ method: 'POST', resource: '/v1/verifications', body }));

/** A voice verification whose call then ends as `params` say; returns its id, code and the hangup answer. */
async function callEnds(h: Harness, extra: Record<string, string>, phone = PHONE) {
  const { id, code } = await startVerification(h, phone);
  const call = h.telephony.calls.at(-1);
  if (!call) throw new Error('no call');
  const params = unanswered(randomUUID(), extra);
  const response = await h.hangup(webhookEvent(call.hangupUrl, params));
  return { id, code, call, params, response };
}

/** An SMS verification whose SMS is then reported `reportStatus`. */
async function messageEnds(h: Harness, reportStatus: string, phone = PHONE) {
  const started = await startSmsVerification(h, phone);
  const uuid = randomUUID();
  const event = webhookEvent(started.message.statusUrl, reportParams(uuid, reportStatus));
  const response = await h.hangup(event);
  return { ...started, uuid, event, response };
}

const viewOf = async (h: Harness, id: string) => parse(await status(h, id));
const counted = (h: Harness, name: string) => h.metrics.counted.filter((m) => m.name === name);

describe('voice → SMS', () => {
  it.each(UNHEARD)('after %s: one SMS with the same code, which approves', async (_name, extra) => {
    const h = await createHarness({ APP_NAME: 'Acme' });
    const { id, code, response } = await callEnds(h, extra);
    expect(response.statusCode).toBe(200);
    expect(h.telephony.messages).toHaveLength(1);
    const [message] = h.telephony.messages;
    if (!message) throw new Error('no message');
    expect(message.to).toBe(PHONE);
    expect(message.text).toBe(`Your Acme code is ${code}. It expires in 5 minutes. Do not share it.`);
    expect(sentCode(h, message)).toBe(code);
    expect(message.statusUrl).toMatch(
      new RegExp(`^https://otp\\.example\\.test/prod/v1/plivo/message-status\\?v=${id}&t=`),
    );
    expect(await viewOf(h, id)).toMatchObject({
      status: 'pending',
      channel: 'voice',
      message: { status: 'queued' },
      fallback: { channel: 'sms', reason: null },
    });
    expect(counted(h, 'FallbacksSent')).toEqual([{ name: 'FallbacksSent', dimension: 'sms' }]);
    expect(counted(h, 'MessagesSent')).toHaveLength(1);
    expect(parse(await check(h, { id, code }))).toEqual({ id, valid: true, status: 'approved' });
  });

  it("carries the send's appHash into the fallback SMS (SMS Retriever line)", async () => {
    const h = await createHarness({ APP_NAME: 'Acme' });
    const sent = await send(h, { phone: PHONE, appHash: 'FA+9qCX9VSu' });
    expect(sent.statusCode).toBe(202);
    const call = h.telephony.calls.at(-1);
    if (!call) throw new Error('no call');
    await h.hangup(webhookEvent(call.hangupUrl, unanswered(randomUUID(), { CallStatus: 'busy' })));
    expect(h.telephony.messages.map((m) => m.text.split('\n').at(-1))).toEqual(['FA+9qCX9VSu']);
  });

  it('records the fallback SMS delivery reports on the message block', async () => {
    const h = await createHarness();
    const { id } = await callEnds(h, { CallStatus: 'busy' });
    const statusUrl = h.telephony.messages[0]?.statusUrl ?? '';
    const uuid = randomUUID();
    for (const step of ['queued', 'sent', 'delivered'])
      expect((await h.hangup(webhookEvent(statusUrl, reportParams(uuid, step)))).statusCode).toBe(200);
    expect(await viewOf(h, id)).toMatchObject({
      call: { status: 'busy' },
      message: { status: 'delivered', units: 1 },
      fallback: { channel: 'sms', reason: null },
    });
  });

  it('says how much of the code’s lifetime is left', async () => {
    const h = await createHarness({ CODE_TTL_SECONDS: '600' });
    await startVerification(h);
    h.clock.advance(4 * 60_000 + 1_000);
    const url = h.telephony.calls[0]?.hangupUrl ?? '';
    await h.hangup(webhookEvent(url, unanswered(randomUUID(), { CallStatus: 'busy' })));
    expect(h.telephony.messages[0]?.text).toContain('It expires in 5 minutes.');
  });

  it.each([
    ['answered and completed', hangupParams('c1')],
    ['answered and hung up early', hangupParams('c2', { Duration: '1', AnswerTime: '2026-11-30 10:00:01' })],
    ['canceled by us', hangupParams('c3', { CallStatus: 'cancel', BillDuration: '0', AnswerTime: '' })],
  ])('sends nothing after a call %s', async (_name, params) => {
    const h = await createHarness();
    const { id } = await startVerification(h);
    const url = h.telephony.calls.at(-1)?.hangupUrl ?? '';
    expect((await h.hangup(webhookEvent(url, params))).statusCode).toBe(200);
    expect(h.telephony.messages).toEqual([]);
    expect(await viewOf(h, id)).not.toHaveProperty('fallback');
  });
});

describe('SMS → voice', () => {
  it.each(['undelivered', 'failed'])(
    'after an SMS %s: one call that speaks the same code, which approves',
    async (reportStatus) => {
      const h = await createHarness();
      const { id, code, response } = await messageEnds(h, reportStatus);
      expect(response.statusCode).toBe(200);
      expect(h.telephony.calls).toHaveLength(1);
      const [call] = h.telephony.calls;
      if (!call) throw new Error('no call');
      expect(call.to).toBe(PHONE);
      expect(spokenCode(h, call)).toBe(code);
      // The answer webhook of that call reads the code, digit by digit, twice.
      const answered = await h.answer(webhookEvent(call.answerUrl, answerParams(randomUUID())));
      const digits = [...descendants(parseXml(answered.body))]
        .filter((node) => node.name === 'say-as')
        .map((node) => node.text)
        .join('');
      expect(digits).toBe(`${code}${code}`);
      expect(await viewOf(h, id)).toMatchObject({
        channel: 'sms',
        message: { status: reportStatus, errorCode: '70' },
        call: { status: 'queued' },
        fallback: { channel: 'voice', reason: null },
      });
      expect(counted(h, 'FallbacksSent')).toEqual([{ name: 'FallbacksSent', dimension: 'voice' }]);
      expect(counted(h, 'CallsPlaced')).toHaveLength(1);
      expect(parse(await check(h, { id, code }))).toEqual({ id, valid: true, status: 'approved' });
    },
  );

  it.each(['queued', 'sent', 'delivered'])('places no call after a report %s', async (reportStatus) => {
    const h = await createHarness();
    const { id } = await messageEnds(h, reportStatus);
    expect(h.telephony.calls).toEqual([]);
    expect(await viewOf(h, id)).not.toHaveProperty('fallback');
  });

  it('places no call for a report of another message, or one that contradicts what was recorded', async () => {
    const h = await createHarness();
    const { message, uuid } = await messageEnds(h, 'delivered');
    // A late "failed" for the delivered message, and an "undelivered" for a MessageUUID never bound.
    await h.hangup(webhookEvent(message.statusUrl, reportParams(uuid, 'failed')));
    await h.hangup(webhookEvent(message.statusUrl, reportParams(randomUUID(), 'undelivered')));
    expect(h.telephony.calls).toEqual([]);
  });

  it('records the fallback call’s hangup, and a busy one sends nothing more: once means once', async () => {
    const h = await createHarness();
    const { id } = await messageEnds(h, 'undelivered');
    const call = h.telephony.calls[0];
    const response = await h.hangup(
      webhookEvent(call?.hangupUrl ?? '', unanswered(randomUUID(), { CallStatus: 'busy' })),
    );
    expect(response.statusCode).toBe(200);
    expect(h.telephony.messages).toHaveLength(1);
    expect(h.telephony.calls).toHaveLength(1);
    expect(await viewOf(h, id)).toMatchObject({
      call: { status: 'busy' },
      fallback: { channel: 'voice', reason: null },
    });
  });
});

describe('at send time, when the provider refuses the first channel for the number', () => {
  it('an SMS Plivo refuses (4xx) becomes one call with the same code: 202, and it approves', async () => {
    const h = await createHarness();
    h.telephony.failMessages = messageRejected();
    const response = await send(h, { phone: PHONE, channel: 'sms' });
    expect(response.statusCode).toBe(202);
    const body = parse(response);
    // The 202 says what went out: the refused SMS, the call in its place, and the fallback that placed it.
    expect(body).toEqual({
      id: expect.any(String),
      status: 'pending',
      channel: 'sms',
      to: expect.any(String),
      locale: 'en-US',
      createdAt: expect.any(String),
      expiresAt: expect.any(String),
      message: { channel: 'sms', status: 'failed' },
      call: { status: 'queued' },
      fallback: { channel: 'voice', reason: null },
    });
    const id = body.id as string;
    expect(h.telephony.messages).toHaveLength(1);
    expect(h.telephony.calls).toHaveLength(1);
    const [call] = h.telephony.calls;
    if (!call) throw new Error('no call');
    const code = spokenCode(h, call);
    expect(await viewOf(h, id)).toMatchObject({
      status: 'pending',
      message: { status: 'failed' },
      call: { status: 'queued' },
      fallback: { channel: 'voice', reason: null },
    });
    expect(parse(await check(h, { id, code }))).toEqual({ id, valid: true, status: 'approved' });
  });

  it('a call Plivo refuses (4xx) becomes one SMS with the same code', async () => {
    const h = await createHarness();
    h.telephony.failCalls = callRejected();
    const response = await send(h, { phone: PHONE });
    expect(response.statusCode).toBe(202);
    expect(parse(response)).toMatchObject({
      channel: 'voice',
      call: { status: 'failed' },
      message: { status: 'queued' },
      fallback: { channel: 'sms', reason: null },
    });
    const id = parse(response).id as string;
    const [message] = h.telephony.messages;
    if (!message) throw new Error('no message');
    expect(h.telephony.calls).toHaveLength(1);
    expect(await viewOf(h, id)).toMatchObject({
      call: { status: 'failed' },
      message: { status: 'queued' },
      fallback: { channel: 'sms', reason: null },
    });
    expect(parse(await check(h, { id, code: sentCode(h, message) }))).toEqual({
      id,
      valid: true,
      status: 'approved',
    });
  });

  it('not after a 5xx or a timeout (the first may be out): 502, failed, nothing else sent', async () => {
    const h = await createHarness();
    h.telephony.failCalls = telephonyUnavailable();
    const response = await send(h, { phone: PHONE });
    expect(response.statusCode).toBe(502);
    expect(parse(response)).toMatchObject({ error: { code: 'telephony_unavailable' } });
    expect(h.telephony.messages).toHaveLength(0);
    // Failed, its call failed, and no fallback claimed or refused: the other channel was never tried.
    const [item] = (await h.scan()).filter((each) => String(each.pk).startsWith('VERIFICATION#'));
    expect(item).toMatchObject({ status: 'failed', call: { status: 'failed' } });
    expect(item?.fallbackTo).toBeUndefined();
    expect(item?.message).toBeUndefined();
  });

  it('not with fallback false: 422, the verification failed', async () => {
    const h = await createHarness();
    h.telephony.failCalls = callRejected();
    const response = await send(h, { phone: PHONE, fallback: false });
    expect(parse(response)).toMatchObject({ error: { code: 'call_rejected' } });
    expect(h.telephony.messages).toHaveLength(0);
    const [item] = (await h.scan()).filter((each) => String(each.pk).startsWith('VERIFICATION#'));
    expect(item).toMatchObject({ status: 'failed', call: { status: 'failed' } });
  });

  it("both refused: the first refusal is answered, and the fallback's is its reason", async () => {
    const h = await createHarness();
    h.telephony.failCalls = callRejected();
    h.telephony.failMessages = messageRejected();
    const response = await send(h, { phone: PHONE });
    expect(parse(response)).toMatchObject({ error: { code: 'call_rejected' } });
    const [item] = (await h.scan()).filter((each) => String(each.pk).startsWith('VERIFICATION#'));
    expect(item).toMatchObject({
      status: 'failed',
      fallbackTo: { channel: 'sms', state: 'refused', reason: 'message_rejected' },
    });
  });

  it('a fixed line refused by Plivo gets no SMS (number type), and the send answers 422', async () => {
    const h = await createHarness();
    h.telephony.failCalls = callRejected();
    const response = await send(h, { phone: '+442079460123' });
    expect(parse(response)).toMatchObject({ error: { code: 'call_rejected' } });
    expect(h.telephony.messages).toHaveLength(0);
  });
});

describe('when there is no fallback', () => {
  it('uses no second channel with fallback: false (either way) or FALLBACK=false', async () => {
    const h = await createHarness();
    const voice = parse(await send(h, { phone: PHONE, fallback: false })).id as string;
    const call = h.telephony.calls[0];
    await h.hangup(webhookEvent(call?.hangupUrl ?? '', unanswered('v1', { CallStatus: 'busy' })));
    const sms = await startSmsVerification(h, '+14155550124', { fallback: false });
    await h.hangup(webhookEvent(sms.message.statusUrl, reportParams(randomUUID(), 'undelivered')));
    const off = await createHarness({ FALLBACK: 'false' });
    await callEnds(off, { CallStatus: 'no-answer' });
    expect([h.telephony.calls.length, h.telephony.messages.length]).toEqual([1, 1]);
    expect(off.telephony.messages).toEqual([]);
    expect(await viewOf(h, voice)).not.toHaveProperty('fallback');
    expect(await viewOf(h, sms.id)).not.toHaveProperty('fallback');
  });

  it('sends nothing for a verification approved, canceled, superseded or expired before the failure', async () => {
    const h = await createHarness({ PHONE_MAX_PER_10_MINUTES: '2' });
    // At the start of a 10-minute window, so the phone limits below all count in it.
    h.clock.now = Math.ceil(h.clock.now / 600_000) * 600_000 + 1_000;
    const ended = async (id: string) => {
      const call = h.telephony.calls.find((c) => c.verificationId === id);
      return h.hangup(webhookEvent(call?.hangupUrl ?? '', unanswered(randomUUID(), { CallStatus: 'busy' })));
    };
    const approved = await startVerification(h, '+14155550124');
    await check(h, { id: approved.id, code: approved.code });
    const canceled = await startVerification(h, '+14155550125');
    await cancel(h, canceled.id);
    const superseded = await startVerification(h, '+14155550126');
    await startVerification(h, '+14155550126');
    const sms = await startSmsVerification(h, '+14155550127');
    await check(h, { id: sms.id, code: sms.code });
    for (const id of [approved.id, canceled.id, superseded.id])
      expect((await ended(id)).statusCode).toBe(200);
    await h.hangup(webhookEvent(sms.message.statusUrl, reportParams(randomUUID(), 'undelivered')));
    const expired = await startVerification(h, '+14155550128');
    h.clock.advance(5 * 60_000);
    expect((await ended(expired.id)).statusCode).toBe(200);
    expect(h.telephony.messages).toHaveLength(1);
    expect(h.telephony.calls).toHaveLength(5);
    for (const id of [approved.id, canceled.id, superseded.id, sms.id, expired.id])
      expect(await viewOf(h, id)).not.toHaveProperty('fallback');
    // And took nothing from the limits: each phone may still have its second send in these 10 minutes.
    for (const phone of ['+14155550124', '+14155550125', '+14155550127', '+14155550128'])
      expect((await send(h, { phone })).statusCode, phone).toBe(202);
  });

  it('sends nothing when the hangup URL carries no usable token, and still records the call', async () => {
    const h = await createHarness();
    const { id } = await startVerification(h);
    const url = new URL(h.telephony.calls[0]?.hangupUrl ?? '');
    const token = url.searchParams.get('t') ?? '';
    const withToken = (t: string | null) => {
      const copy = new URL(url);
      if (t === null) copy.searchParams.delete('t');
      else copy.searchParams.set('t', t);
      return copy.toString();
    };
    const tampered = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
    for (const target of [withToken(null), withToken(tampered), withToken(`k9.${token.split('.')[1]}`)]) {
      const response = await h.hangup(webhookEvent(target, unanswered('u1', { CallStatus: 'busy' })));
      expect(response.statusCode).toBe(200);
    }
    expect(h.telephony.messages).toEqual([]);
    expect(await viewOf(h, id)).toMatchObject({ call: { status: 'busy' } });
    expect(await viewOf(h, id)).not.toHaveProperty('fallback');
  });
});

describe('once, however the webhooks arrive', () => {
  it('sends one SMS for concurrent duplicate hangups, and none for later replays', async () => {
    const h = await createHarness();
    const { id } = await startVerification(h);
    const url = h.telephony.calls[0]?.hangupUrl ?? '';
    const params = unanswered('dup-call', { CallStatus: 'busy' });
    // Held in flight, so every duplicate reaches the claim while the first is still sending.
    h.telephony.delayMs = 100;
    const responses = await Promise.all(Array.from({ length: 8 }, () => h.hangup(webhookEvent(url, params))));
    expect(responses.map((r) => r.statusCode)).toEqual(Array(8).fill(200));
    for (let i = 0; i < 3; i++) await h.hangup(webhookEvent(url, params));
    expect(h.telephony.messages).toHaveLength(1);
    expect(counted(h, 'FallbacksSent')).toHaveLength(1);
    expect(await viewOf(h, id)).toMatchObject({ fallback: { channel: 'sms', reason: null } });
  });

  it('places one call for concurrent duplicate failure reports, and none for later replays', async () => {
    const h = await createHarness();
    const started = await startSmsVerification(h);
    const params = reportParams(randomUUID(), 'undelivered');
    h.telephony.delayMs = 100;
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => h.hangup(webhookEvent(started.message.statusUrl, params))),
    );
    expect(responses.map((r) => r.statusCode)).toEqual(Array(8).fill(200));
    await h.hangup(webhookEvent(started.message.statusUrl, reportParams(randomUUID(), 'failed')));
    await h.hangup(webhookEvent(started.message.statusUrl, params));
    expect(h.telephony.calls).toHaveLength(1);
  });
});

describe('when the store fails or the verification moves on meanwhile', () => {
  /** `h`'s own store, doing `meanwhile` right after a fallback is claimed. */
  const afterClaim = (h: Harness, meanwhile: () => unknown): Store =>
    new Proxy(h.stores.hangup, {
      get(target, property) {
        const value = Reflect.get(target, property, target);
        if (property !== 'claimFallback') return typeof value === 'function' ? value.bind(target) : value;
        return async (...args: Parameters<Store['claimFallback']>) => {
          const claimed = await target.claimFallback(...args);
          await meanwhile();
          return claimed;
        };
      },
    });

  /** The hangup handler of `h`, on `store` instead of its own. */
  const hangupOn = (h: Harness, store: Store) =>
    createHangupHandler({
      ...h.depsFor('hangup'),
      store,
      publicUrl: h.config.publicUrl,
      telephony: h.telephony,
    });

  it('before the claim: 503, so Plivo retries, and its retry (already recorded) sends the other channel', async () => {
    const h = await createHarness();
    const down = hangupOn(h, failing(h.stores.hangup, 'claimFallback'));
    const { id } = await startVerification(h);
    const hangup = () =>
      webhookEvent(h.telephony.calls[0]?.hangupUrl ?? '', unanswered('c1', { CallStatus: 'busy' }));
    expect((await down(hangup())).statusCode).toBe(503);
    expect(h.telephony.messages).toEqual([]);
    expect((await h.hangup(hangup())).statusCode).toBe(200);
    expect(h.telephony.messages).toHaveLength(1);
    expect(await viewOf(h, id)).toMatchObject({ fallback: { channel: 'sms', reason: null } });

    const sms = await startSmsVerification(h, '+14155550124');
    const report = () => webhookEvent(sms.message.statusUrl, reportParams('m1', 'undelivered'));
    expect((await down(report())).statusCode).toBe(503);
    expect(h.telephony.calls).toHaveLength(1);
    expect((await h.hangup(report())).statusCode).toBe(200);
    expect(h.telephony.calls).toHaveLength(2);
  });

  it('after the claim: Plivo gets 200, and the failure is the reason', async () => {
    const h = await createHarness();
    const { id } = await startVerification(h);
    const url = h.telephony.calls[0]?.hangupUrl ?? '';
    const down = hangupOn(h, failing(h.stores.hangup, 'useFallback'));
    expect((await down(webhookEvent(url, unanswered('c1', { CallStatus: 'busy' })))).statusCode).toBe(200);
    expect(h.telephony.messages).toEqual([]);
    expect(await viewOf(h, id)).toMatchObject({
      fallback: { channel: 'sms', reason: 'store_unavailable' },
    });
  });

  it('expired between the claim and the send: nothing sent', async () => {
    const h = await createHarness();
    const { id } = await startVerification(h);
    const slow = afterClaim(h, () => h.clock.advance(5 * 60_000));
    const url = h.telephony.calls[0]?.hangupUrl ?? '';
    await hangupOn(h, slow)(webhookEvent(url, unanswered('c1', { CallStatus: 'busy' })));
    expect(h.telephony.messages).toEqual([]);
    expect(await viewOf(h, id)).toMatchObject({ status: 'expired' });
    expect(await viewOf(h, id)).not.toHaveProperty('fallback');
  });

  it('canceled between the claim and the send: nothing sent, no fallback shown', async () => {
    const h = await createHarness();
    const { id } = await startVerification(h);
    // The app cancels while the fallback is being admitted.
    const racing = afterClaim(h, () => cancel(h, id));
    const url = h.telephony.calls[0]?.hangupUrl ?? '';
    await hangupOn(h, racing)(webhookEvent(url, unanswered('c1', { CallStatus: 'busy' })));
    expect(h.telephony.messages).toEqual([]);
    const view = await viewOf(h, id);
    expect(view).toMatchObject({ status: 'canceled' });
    expect(view).not.toHaveProperty('fallback');
    expect(view).not.toHaveProperty('message');
  });
});

describe('a fallback obeys the abuse rules, and a refusal is its reason', () => {
  it('by a per-phone limit: recorded as rate_limited, nothing sent, Plivo answered 200', async () => {
    const h = await createHarness({ PHONE_MAX_PER_10_MINUTES: '1' });
    const { id, call, params, response } = await callEnds(h, { CallStatus: 'busy' });
    expect(response.statusCode).toBe(200);
    expect(h.telephony.messages).toEqual([]);
    const view = await viewOf(h, id);
    expect(view).toMatchObject({ status: 'pending', fallback: { channel: 'sms', reason: 'rate_limited' } });
    expect(view).not.toHaveProperty('message');
    expect(counted(h, 'FallbacksRefused')).toEqual([{ name: 'FallbacksRefused', dimension: 'rate_limited' }]);
    // Refused once is refused for good: Plivo's retry of the same webhook does not try again.
    expect((await h.hangup(webhookEvent(call.hangupUrl, params))).statusCode).toBe(200);
    expect(counted(h, 'FallbacksRefused')).toHaveLength(1);
  });

  it('by the daily SMS cap: daily_call_cap_reached', async () => {
    const h = await createHarness({ DAILY_SMS_CAP: '1' });
    await startSmsVerification(h, '+14155550124');
    const { id } = await callEnds(h, { CallStatus: 'no-answer' });
    expect(h.telephony.messages).toHaveLength(1);
    expect(await viewOf(h, id)).toMatchObject({
      fallback: { channel: 'sms', reason: 'daily_call_cap_reached' },
    });
  });

  it('by the API key’s daily cap, which counts the fallback: rate_limited', async () => {
    const h = await createHarness({ API_KEY_MAX_PER_DAY: '1' });
    const { id } = await callEnds(h, { CallStatus: 'busy' });
    expect(await viewOf(h, id)).toMatchObject({ fallback: { channel: 'sms', reason: 'rate_limited' } });
  });

  it('by the number type: no SMS to a fixed line, decided from the sealed fields', async () => {
    const h = await createHarness();
    const { id } = await callEnds(h, { CallStatus: 'busy' }, '+442079460123');
    expect(h.telephony.messages).toEqual([]);
    expect(await viewOf(h, id)).toMatchObject({
      fallback: { channel: 'sms', reason: 'unsupported_number_type' },
    });
  });

  it('by the fraud guard: a range paused since the send gets no fallback', async () => {
    const h = await createHarness({
      ...RELAXED_LIMITS,
      FRAUD_GUARD_MIN_CALLS: '5',
      FRAUD_GUARD_WINDOW_MINUTES: '10',
    });
    // Five unapproved calls to the range at the start of a window.
    const start = Math.ceil(h.clock.now / 600_000) * 600_000;
    h.clock.now = start + 1_000;
    for (let i = 0; i < 5; i++) await startVerification(h, `+1202555017${i}`);
    // Sent just before that window is judged (15 minutes on, its codes all expired), it ends just after.
    h.clock.now = start + 14 * 60_000 + 50_000;
    const { id, call } = await startVerification(h, '+12025550179').then((started) => ({
      ...started,
      call: h.telephony.calls.at(-1),
    }));
    h.clock.now = start + 15 * 60_000 + 10_000;
    await h.hangup(webhookEvent(call?.hangupUrl ?? '', unanswered(randomUUID(), { CallStatus: 'busy' })));
    expect(h.telephony.messages).toEqual([]);
    expect(await viewOf(h, id)).toMatchObject({ fallback: { channel: 'sms', reason: 'rate_limited' } });
    expect(counted(h, 'FraudGuardPaused')).toHaveLength(1);
  });

  it.each([
    ['refuses the SMS', 'message_rejected', messageRejected],
    ['is down', 'telephony_unavailable', telephonyUnavailable],
  ])('when Plivo %s: %s, the message block failed', async (_name, reason, error) => {
    const h = await createHarness();
    const { id } = await startVerification(h);
    h.telephony.fail = error();
    const url = h.telephony.calls[0]?.hangupUrl ?? '';
    const response = await h.hangup(webhookEvent(url, unanswered(randomUUID(), { CallStatus: 'busy' })));
    expect(response.statusCode).toBe(200);
    expect(await viewOf(h, id)).toMatchObject({
      status: 'pending',
      message: { status: 'failed' },
      fallback: { channel: 'sms', reason },
    });
    expect(counted(h, 'MessagesNotSent')).toHaveLength(1);
    expect(counted(h, 'FallbacksRefused')).toEqual([{ name: 'FallbacksRefused', dimension: reason }]);
  });

  it('when Plivo refuses the call: call_rejected, the call block failed', async () => {
    const h = await createHarness();
    const started = await startSmsVerification(h);
    h.telephony.fail = callRejected();
    const event = webhookEvent(started.message.statusUrl, reportParams(randomUUID(), 'failed'));
    expect((await h.hangup(event)).statusCode).toBe(200);
    expect(await viewOf(h, started.id)).toMatchObject({
      call: { status: 'failed' },
      fallback: { channel: 'voice', reason: 'call_rejected' },
    });
    expect(counted(h, 'CallsNotPlaced')).toHaveLength(1);
  });

  it('reserves no guesses: a budget spent by the send still lets its fallback out', async () => {
    const h = await createHarness({ PHONE_MAX_GUESSES_PER_DAY: '5' });
    const { id, code } = await callEnds(h, { CallStatus: 'busy' });
    expect(h.telephony.messages).toHaveLength(1);
    expect(await viewOf(h, id)).toMatchObject({ attemptsLeft: 5, fallback: { reason: null } });
    expect(parse(await check(h, { id, code }))).toMatchObject({ valid: true });
  });

  it('takes its own channel’s gap: an SMS may follow a busy call at once, another call may not', async () => {
    const h = await createHarness({ PHONE_MIN_GAP_SECONDS: '30' });
    const { id } = await startVerification(h);
    h.clock.advance(3_000);
    const url = h.telephony.calls[0]?.hangupUrl ?? '';
    await h.hangup(webhookEvent(url, unanswered(randomUUID(), { CallStatus: 'busy' })));
    expect(await viewOf(h, id)).toMatchObject({ fallback: { channel: 'sms', reason: null } });
    h.clock.advance(5_000);
    // Both channels' gaps now hold: neither another call nor another SMS to this phone for 30 s.
    expect((await send(h, { phone: PHONE })).statusCode).toBe(429);
    expect((await send(h, { phone: PHONE, channel: 'sms' })).statusCode).toBe(429);

    // An SMS sent right after a call to the phone fails 10 s later: the call gap refuses its fallback.
    const other = await createHarness({ PHONE_MIN_GAP_SECONDS: '30' });
    await startVerification(other, PHONE);
    other.clock.advance(2_000);
    const sms = await startSmsVerification(other, PHONE);
    other.clock.advance(8_000);
    await other.hangup(webhookEvent(sms.message.statusUrl, reportParams(randomUUID(), 'undelivered')));
    expect(other.telephony.calls).toHaveLength(1);
    expect(await viewOf(other, sms.id)).toMatchObject({
      fallback: { channel: 'voice', reason: 'rate_limited' },
    });
  });

  it('counts in the per-phone limits and in the fraud guard, like a send', async () => {
    const h = await createHarness({ PHONE_MAX_PER_10_MINUTES: '2' });
    const { id } = await callEnds(h, { CallStatus: 'busy' });
    expect(await viewOf(h, id)).toMatchObject({ fallback: { reason: null } });
    // The send and its fallback: the phone's 10-minute limit of 2 is used up.
    expect((await send(h, { phone: PHONE })).statusCode).toBe(429);
    const guard = (await h.scan()).filter((item) => String(item.pk).startsWith('GUARD#'));
    expect(guard).toEqual([expect.objectContaining({ sent: 2 })]);
  });
});

describe('privacy', () => {
  const output = captureOutput();

  it('keeps the fallback’s text, code and number out of every stored item and log line', async () => {
    const h = await createHarness({ LOG_LEVEL: 'DEBUG', APP_NAME: 'Acme' });
    const voiceFirst = await callEnds(h, { CallStatus: 'busy' });
    const smsFirst = await messageEnds(h, 'undelivered', '+14155550124');
    const refused = await createHarness({ LOG_LEVEL: 'DEBUG', PHONE_MAX_PER_10_MINUTES: '1' });
    await callEnds(refused, { CallStatus: 'busy' }, '+14155550125');
    const text = h.telephony.messages[0]?.text ?? '';
    expect(text).toContain(voiceFirst.code);

    const stored = JSON.stringify([...(await h.scan()), ...(await refused.scan())]);
    const logs = output.text();
    expect(logs).toContain('Fallback sent');
    expect(logs).toContain('Fallback refused');
    for (const [name, value] of [
      ['stored items', stored],
      ['logs', logs],
    ] as const) {
      expect(value, name).not.toContain(text);
      for (const code of [voiceFirst.code, smsFirst.code])
        expect(value, name).not.toMatch(new RegExp(`(^|[^0-9A-Za-z])${code}([^0-9A-Za-z]|$)`));
      for (const phone of [PHONE, '+14155550124', '+14155550125'])
        expect(value, name).not.toContain(phone.slice(4));
    }
  });
});
