import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { messageRejected, telephonyUnavailable, whatsAppRejected } from '#channels/telephony.ts';
import { DEFAULT_WHATSAPP_LANGUAGES } from '#platform/config.ts';
import { LOCALES } from '#platform/locales.ts';
import { expectValidEvent } from '../support/event-schemas.ts';
import {
  apiEvent,
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
  startWhatsAppVerification,
  status,
  WHATSAPP_SETTINGS,
  webhookEvent,
} from '../support/harness.ts';
import { captureOutput } from '../support/output-capture.ts';

const PHONE = '+14155550123';

const send = (h: Harness, body: Record<string, unknown>) =>
  h.send(apiEvent({ method: 'POST', resource: '/v1/verifications', body }));

const whatsAppHarness = (env: Record<string, string> = {}, options: { stream?: boolean } = {}) =>
  createHarness({ ...WHATSAPP_SETTINGS, ...env }, options);

/** What Plivo posts to a WhatsApp message's status URL for one status (Plivo's message status callback). */
const reportParams = (uuid: string, reportStatus: string, extra: Record<string, string> = {}) => ({
  MessageUUID: uuid,
  To: PHONE.slice(1),
  From: WHATSAPP_SETTINGS.WHATSAPP_FROM_NUMBER.slice(1),
  Type: 'whatsapp',
  Status: reportStatus,
  Units: '1',
  ...(reportStatus === 'undelivered' || reportStatus === 'failed' ? { ErrorCode: '900' } : {}),
  ...extra,
});

const report = (h: Harness, url: string, params: Record<string, string>) =>
  h.hangup(webhookEvent(url, params));

const viewOf = async (h: Harness, id: string) => parse(await status(h, id));
const itemOf = async (h: Harness, id: string) => (await h.scan()).find((item) => item.id === id);
const counted = (h: Harness, name: string) => h.metrics.counted.filter((m) => m.name === name);

describe('send by WhatsApp', () => {
  it('sends the approved template with the code, answers 202 with a message block, and approves the code', async () => {
    const h = await whatsAppHarness();
    const { body, id, whatsApp, code } = await startWhatsAppVerification(h);
    expect(body).toEqual({
      id,
      status: 'pending',
      channel: 'whatsapp',
      to: '+1********23',
      locale: 'en-US',
      createdAt: new Date(h.clock.now).toISOString(),
      expiresAt: new Date(h.clock.now + 300_000).toISOString(),
      message: { channel: 'whatsapp', status: 'queued' },
    });
    expect([h.telephony.calls, h.telephony.messages]).toEqual([[], []]);
    const token = new URL(whatsApp.statusUrl).searchParams.get('t');
    expect(whatsApp).toEqual({
      verificationId: id,
      to: PHONE,
      template: 'verification_code',
      language: 'en_US',
      code,
      statusUrl: `https://otp.example.test/prod/v1/plivo/message-status?v=${id}&t=${token}&c=whatsapp`,
    });
    expect(await itemOf(h, id)).toMatchObject({
      channel: 'whatsapp',
      message: { channel: 'whatsapp', status: 'queued' },
    });
    expect(await viewOf(h, id)).toMatchObject({
      channel: 'whatsapp',
      message: { channel: 'whatsapp', status: 'queued', units: null, cost: null, errorCode: null },
    });
    expect(parse(await check(h, { id, code }))).toEqual({ id, valid: true, status: 'approved' });
    const names = h.metrics.counted.map((m) => m.name);
    expect(names).toEqual(expect.arrayContaining(['VerificationsStarted', 'WhatsAppSent', 'ChecksApproved']));
    expect(names).not.toContain('MessagesSent');
  });

  it("picks the template's language by locale: the defaults, and WHATSAPP_LANGUAGES over them", async () => {
    const h = await whatsAppHarness();
    for (const [i, locale] of LOCALES.entries())
      await startWhatsAppVerification(h, `+1415555014${i}`, { locale });
    expect(h.telephony.whatsApps.map((w) => w.language)).toEqual(
      LOCALES.map((locale) => DEFAULT_WHATSAPP_LANGUAGES[locale]),
    );
    const custom = await whatsAppHarness({ WHATSAPP_LANGUAGES: '{"es-US":"es","en-GB":"en"}' });
    await startWhatsAppVerification(custom, PHONE, { locale: 'es-US' });
    await startWhatsAppVerification(custom, '+14155550124', { locale: 'en-GB' });
    await startWhatsAppVerification(custom, '+14155550125', { locale: 'de-DE' });
    expect(custom.telephony.whatsApps.map((w) => w.language)).toEqual(['es', 'en', 'de']);
  });

  it('DEFAULT_CHANNEL=whatsapp makes it the default', async () => {
    const h = await whatsAppHarness({ DEFAULT_CHANNEL: 'whatsapp' });
    expect(parse(await send(h, { phone: PHONE }))).toMatchObject({ channel: 'whatsapp' });
    expect(h.telephony.whatsApps).toHaveLength(1);
  });

  it('is refused with 403 channel_not_allowed on a stack without WhatsApp settings: nothing stored, counted or sent', async () => {
    const h = await createHarness();
    const refused = await send(h, { phone: PHONE, channel: 'whatsapp' });
    expect(refused.statusCode).toBe(403);
    expect(parse(refused)).toEqual({
      error: { code: 'channel_not_allowed', message: expect.stringContaining('whatsapp') },
    });
    expect(await h.scan()).toEqual([]);
    expect([h.telephony.calls, h.telephony.messages, h.telephony.whatsApps]).toEqual([[], [], []]);
    // The other channels go on.
    expect((await send(h, { phone: PHONE, channel: 'sms' })).statusCode).toBe(202);
  });

  it('refuses a channel it does not know with 400 invalid_request naming the three', async () => {
    const h = await whatsAppHarness();
    const refused = await send(h, { phone: PHONE, channel: 'telegram' });
    expect(refused.statusCode).toBe(400);
    expect(parse(refused)).toEqual({
      error: { code: 'invalid_request', message: expect.stringContaining('"whatsapp"') },
    });
    expect(await h.scan()).toEqual([]);
  });
});

describe('delivery and read reports', () => {
  it('records queued → sent → delivered → read, each once, with cost; read shows in the status view', async () => {
    const h = await whatsAppHarness();
    const { id, whatsApp } = await startWhatsAppVerification(h);
    const uuid = randomUUID();
    for (const step of ['queued', 'sent', 'delivered', 'read']) {
      expect((await report(h, whatsApp.statusUrl, reportParams(uuid, step))).statusCode).toBe(200);
      expect((await itemOf(h, id))?.message).toMatchObject({ channel: 'whatsapp', status: step, uuid });
    }
    await report(h, whatsApp.statusUrl, reportParams(uuid, 'read', { TotalAmount: '0.01350' }));
    expect(await viewOf(h, id)).toMatchObject({
      status: 'pending',
      message: { channel: 'whatsapp', status: 'read', units: 1, cost: null, errorCode: null },
    });
    // Replays of each step change nothing and count nothing more.
    for (const step of ['delivered', 'read']) await report(h, whatsApp.statusUrl, reportParams(uuid, step));
    expect(counted(h, 'WhatsAppDelivered')).toHaveLength(1);
    expect(counted(h, 'WhatsAppRead')).toHaveLength(1);
    expect(counted(h, 'MessagesDelivered')).toEqual([]);
  });

  it('never steps back: after read, a late delivered, sent or failed changes nothing; after failed, read does not', async () => {
    const h = await whatsAppHarness();
    const read = await startWhatsAppVerification(h);
    const uuid = randomUUID();
    // Out of order: read before delivered (Plivo does not promise order).
    await report(h, read.whatsApp.statusUrl, reportParams(uuid, 'read'));
    for (const step of ['delivered', 'sent', 'queued', 'failed', 'undelivered'])
      await report(h, read.whatsApp.statusUrl, reportParams(uuid, step));
    expect((await itemOf(h, read.id))?.message).toEqual({
      channel: 'whatsapp',
      status: 'read',
      uuid,
      units: 1,
    });

    const failed = await startWhatsAppVerification(h, '+14155550124', { fallback: false });
    const other = randomUUID();
    await report(h, failed.whatsApp.statusUrl, reportParams(other, 'failed'));
    for (const step of ['delivered', 'read'])
      await report(h, failed.whatsApp.statusUrl, reportParams(other, step));
    expect((await itemOf(h, failed.id))?.message).toMatchObject({ status: 'failed', errorCode: '900' });
  });

  it('binds the first MessageUUID, and takes WhatsApp reports only from the WhatsApp URL', async () => {
    const h = await whatsAppHarness();
    const { id, whatsApp } = await startWhatsAppVerification(h);
    const uuid = randomUUID();
    await report(h, whatsApp.statusUrl, reportParams(uuid, 'sent'));
    await report(h, whatsApp.statusUrl, reportParams(randomUUID(), 'read'));
    // The same verification's URL without `c=whatsapp` is an SMS's: it records nothing on a WhatsApp message.
    const smsUrl = whatsApp.statusUrl.replace('&c=whatsapp', '');
    await report(h, smsUrl, reportParams(uuid, 'delivered'));
    const tampered = whatsApp.statusUrl.replace('c=whatsapp', 'c=telegram');
    expect((await report(h, tampered, reportParams(uuid, 'delivered'))).statusCode).toBe(200);
    expect((await itemOf(h, id))?.message).toEqual({ channel: 'whatsapp', status: 'sent', uuid, units: 1 });
  });

  it('never records `read` on an SMS, nor WhatsApp reports on an SMS verification', async () => {
    const h = await whatsAppHarness();
    const sms = await startSmsVerification(h);
    const uuid = randomUUID();
    await report(h, sms.message.statusUrl, reportParams(uuid, 'delivered'));
    await report(h, sms.message.statusUrl, reportParams(uuid, 'read'));
    await report(h, `${sms.message.statusUrl}&c=whatsapp`, reportParams(uuid, 'read'));
    expect((await itemOf(h, sms.id))?.message).toEqual({ status: 'delivered', uuid, units: 1 });
    // A channel the service never puts in a URL records nothing, even signed.
    const other = await startSmsVerification(h, '+14155550124');
    await report(h, `${other.message.statusUrl}&c=rcs`, reportParams(randomUUID(), 'delivered'));
    expect((await itemOf(h, other.id))?.message).toEqual({ status: 'queued' });
    expect(await viewOf(h, sms.id)).toMatchObject({ message: { channel: 'sms', status: 'delivered' } });
  });
});

describe('fallback from WhatsApp', () => {
  it('when Plivo refuses the number at send (not on WhatsApp): one SMS with the same code, 202, and it approves', async () => {
    const h = await whatsAppHarness({ APP_NAME: 'Acme' });
    h.telephony.failWhatsApps = whatsAppRejected();
    const response = await send(h, { phone: PHONE, channel: 'whatsapp' });
    expect(response.statusCode).toBe(202);
    const body = parse(response);
    expect(body).toMatchObject({ channel: 'whatsapp', message: { channel: 'sms', status: 'queued' } });
    const id = body.id as string;
    expect(h.telephony.whatsApps).toHaveLength(1);
    const [sms] = h.telephony.messages;
    if (!sms) throw new Error('no SMS');
    expect(sms.to).toBe(PHONE);
    const code = sentCode(h, sms);
    expect(code).toBe(sentCode(h, h.telephony.whatsApps[0] ?? sms));
    expect(sms.text).toBe(`Your Acme code is ${code}. It expires in 5 minutes. Do not share it.`);
    // The SMS's reports come to the SMS URL, with no channel of their own.
    expect(new URL(sms.statusUrl).searchParams.get('c')).toBeNull();
    expect(await viewOf(h, id)).toMatchObject({
      status: 'pending',
      channel: 'whatsapp',
      message: { channel: 'sms', status: 'queued' },
      fallback: { channel: 'sms', reason: null },
    });
    expect(counted(h, 'WhatsAppNotSent')).toHaveLength(1);
    expect(counted(h, 'FallbacksSent')).toEqual([{ name: 'FallbacksSent', dimension: 'sms' }]);
    expect(parse(await check(h, { id, code }))).toEqual({ id, valid: true, status: 'approved' });
  });

  it('goes to a call instead with WHATSAPP_FALLBACK=voice', async () => {
    const h = await whatsAppHarness({ WHATSAPP_FALLBACK: 'voice' });
    h.telephony.failWhatsApps = whatsAppRejected();
    const response = await send(h, { phone: PHONE, channel: 'whatsapp' });
    expect(response.statusCode).toBe(202);
    const id = parse(response).id as string;
    const [call] = h.telephony.calls;
    if (!call) throw new Error('no call');
    expect(h.telephony.messages).toEqual([]);
    expect(await viewOf(h, id)).toMatchObject({
      message: { channel: 'whatsapp', status: 'failed' },
      call: { status: 'queued' },
      fallback: { channel: 'voice', reason: null },
    });
    expect(parse(await check(h, { id, code: spokenCode(h, call) }))).toMatchObject({ valid: true });
  });

  it.each([
    ['with fallback false', { fallback: false }, whatsAppRejected, 422, 'message_rejected'],
    ['after a 5xx or a timeout (it may be out)', {}, telephonyUnavailable, 502, 'telephony_unavailable'],
  ])(
    'not %s: the error, the verification failed, nothing else sent',
    async (_n, extra, error, code, errorCode) => {
      const h = await whatsAppHarness();
      h.telephony.failWhatsApps = error();
      const response = await send(h, { phone: PHONE, channel: 'whatsapp', ...extra });
      expect(response.statusCode).toBe(code);
      expect(parse(response)).toEqual({ error: { code: errorCode, message: expect.any(String) } });
      expect([h.telephony.calls, h.telephony.messages]).toEqual([[], []]);
      const failed = (await h.scan()).find((item) => String(item.pk).startsWith('VERIFICATION#'));
      expect(failed).toMatchObject({
        status: 'failed',
        channel: 'whatsapp',
        message: { channel: 'whatsapp', status: 'failed' },
      });
    },
  );

  it.each(['failed', 'undelivered'])(
    'after a report %s: one SMS with the same code; its reports go on the block, late WhatsApp ones do not',
    async (reportStatus) => {
      const h = await whatsAppHarness();
      const { id, whatsApp, code } = await startWhatsAppVerification(h);
      const uuid = randomUUID();
      await report(h, whatsApp.statusUrl, reportParams(uuid, 'sent'));
      expect((await report(h, whatsApp.statusUrl, reportParams(uuid, reportStatus))).statusCode).toBe(200);
      const [sms] = h.telephony.messages;
      if (!sms) throw new Error('no SMS');
      expect(sentCode(h, sms)).toBe(code);
      expect(await viewOf(h, id)).toMatchObject({
        channel: 'whatsapp',
        message: { channel: 'sms', status: 'queued' },
        fallback: { channel: 'sms', reason: null },
      });
      // The SMS is delivered; WhatsApp's replayed failure and a late read change nothing, send nothing.
      const smsUuid = randomUUID();
      await report(h, sms.statusUrl, { ...reportParams(smsUuid, 'delivered'), Type: 'sms' });
      await report(h, whatsApp.statusUrl, reportParams(uuid, reportStatus));
      await report(h, whatsApp.statusUrl, reportParams(uuid, 'read'));
      expect((await itemOf(h, id))?.message).toEqual({ status: 'delivered', uuid: smsUuid, units: 1 });
      expect([h.telephony.messages.length, h.telephony.calls.length]).toEqual([1, 0]);
      expect(parse(await check(h, { id, code }))).toMatchObject({ valid: true });
    },
  );

  it('sends one SMS for concurrent duplicate failure reports, and none for later replays', async () => {
    const h = await whatsAppHarness();
    const { whatsApp } = await startWhatsAppVerification(h);
    const params = reportParams(randomUUID(), 'failed');
    h.telephony.delayMs = 100;
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => report(h, whatsApp.statusUrl, params)),
    );
    expect(responses.map((r) => r.statusCode)).toEqual(Array(8).fill(200));
    await report(h, whatsApp.statusUrl, params);
    expect(h.telephony.messages).toHaveLength(1);
    expect(counted(h, 'FallbacksSent')).toHaveLength(1);
  });

  it('once: an SMS fallback that fails too falls back no further', async () => {
    const h = await whatsAppHarness();
    const { id, whatsApp } = await startWhatsAppVerification(h);
    await report(h, whatsApp.statusUrl, reportParams(randomUUID(), 'undelivered'));
    const sms = h.telephony.messages[0];
    await report(h, sms?.statusUrl ?? '', { ...reportParams(randomUUID(), 'undelivered'), Type: 'sms' });
    expect([h.telephony.messages.length, h.telephony.calls.length, h.telephony.whatsApps.length]).toEqual([
      1, 0, 1,
    ]);
    expect(await viewOf(h, id)).toMatchObject({
      message: { channel: 'sms', status: 'undelivered' },
      fallback: { channel: 'sms', reason: null },
    });
  });

  it('obeys the rules a send does: the day’s SMS cap refuses it, and that is its reason', async () => {
    const h = await whatsAppHarness({ DAILY_SMS_CAP: '1' });
    await startSmsVerification(h, '+14155550124');
    h.telephony.failWhatsApps = whatsAppRejected();
    const response = await send(h, { phone: PHONE, channel: 'whatsapp' });
    // The fallback was refused: the send answers its own provider's refusal.
    expect(response.statusCode).toBe(422);
    const failed = (await h.scan()).find((item) => item.channel === 'whatsapp');
    expect(await viewOf(h, failed?.id as string)).toMatchObject({
      status: 'failed',
      message: { channel: 'whatsapp', status: 'failed' },
      fallback: { channel: 'sms', reason: 'daily_call_cap_reached' },
    });
    expect(h.telephony.messages).toHaveLength(1);
  });
});

describe('nothing falls back to WhatsApp', () => {
  it('an SMS undelivered places a call, a busy call sends an SMS: never a WhatsApp message', async () => {
    const h = await whatsAppHarness({ WHATSAPP_FALLBACK: 'sms' });
    const sms = await startSmsVerification(h);
    await report(h, sms.message.statusUrl, { ...reportParams(randomUUID(), 'undelivered'), Type: 'sms' });
    const voice = await startVerification(h, '+14155550124');
    const call = h.telephony.calls.at(-1);
    const busy = hangupParams(randomUUID(), { CallStatus: 'busy', BillDuration: '0', AnswerTime: '' });
    await h.hangup(webhookEvent(call?.hangupUrl ?? '', busy));
    expect(h.telephony.whatsApps).toEqual([]);
    expect(await viewOf(h, sms.id)).toMatchObject({ fallback: { channel: 'voice' } });
    expect(await viewOf(h, voice.id)).toMatchObject({ fallback: { channel: 'sms' } });
    // An SMS Plivo refuses at send becomes a call, not a WhatsApp message.
    h.telephony.failMessages = messageRejected();
    expect(parse(await send(h, { phone: '+14155550125', channel: 'sms' }))).toMatchObject({
      call: { status: 'queued' },
    });
    expect(h.telephony.whatsApps).toEqual([]);
  });
});

describe('WhatsApp abuse rules', () => {
  it('sends only to mobile numbers: a fixed line gets 400 unsupported_number_type, writing nothing', async () => {
    const h = await whatsAppHarness();
    const refused = await send(h, { phone: '+442079460123', channel: 'whatsapp' });
    expect(refused.statusCode).toBe(400);
    expect(parse(refused)).toEqual({
      error: { code: 'unsupported_number_type', message: expect.stringContaining('WhatsApp') },
    });
    expect(await h.scan()).toEqual([]);
    expect((await send(h, { phone: '+447400123456', channel: 'whatsapp' })).statusCode).toBe(202);
  });

  it('stops WhatsApp at DAILY_WHATSAPP_CAP with 503 daily_call_cap_reached, while SMS and calls go on', async () => {
    const h = await whatsAppHarness({ DAILY_WHATSAPP_CAP: '2' });
    await startWhatsAppVerification(h, '+14155550124');
    await startWhatsAppVerification(h, '+14155550125');
    const capped = await send(h, { phone: '+14155550126', channel: 'whatsapp' });
    expect(capped.statusCode).toBe(503);
    expect(parse(capped)).toEqual({
      error: { code: 'daily_call_cap_reached', message: expect.stringContaining('WhatsApp') },
    });
    expect(Number(capped.headers?.['Retry-After'])).toBeGreaterThan(0);
    expect(h.telephony.whatsApps).toHaveLength(2);
    expect((await send(h, { phone: '+14155550126', channel: 'sms' })).statusCode).toBe(202);
    expect((await send(h, { phone: '+14155550127' })).statusCode).toBe(202);
  });

  it('counts as a send on every limit: the global daily cap and the per-phone limits, with calls and SMS', async () => {
    const global = await whatsAppHarness({ DAILY_CALL_CAP: '2' });
    await startWhatsAppVerification(global, '+14155550124');
    await startSmsVerification(global, '+14155550125');
    expect((await send(global, { phone: '+14155550126', channel: 'whatsapp' })).statusCode).toBe(503);
    const perPhone = await whatsAppHarness({ PHONE_MAX_PER_10_MINUTES: '2' });
    await startVerification(perPhone, PHONE);
    await startWhatsAppVerification(perPhone, PHONE);
    const third = await send(perPhone, { phone: PHONE, channel: 'sms' });
    expect([third.statusCode, parse(third).error]).toEqual([
      429,
      { code: 'rate_limited', message: expect.any(String) },
    ]);
    const perKey = await whatsAppHarness({ API_KEY_MAX_PER_MINUTE: '1' });
    await startWhatsAppVerification(perKey, PHONE);
    expect((await send(perKey, { phone: '+14155550124', channel: 'whatsapp' })).statusCode).toBe(429);
  });

  it('keeps its own gap: an SMS may follow a WhatsApp message at once, another WhatsApp message may not', async () => {
    const h = await whatsAppHarness({ ...RELAXED_LIMITS, PHONE_MIN_GAP_SECONDS: '30' });
    await startWhatsAppVerification(h, PHONE);
    expect((await send(h, { phone: PHONE, channel: 'whatsapp' })).statusCode).toBe(429);
    expect((await send(h, { phone: PHONE, channel: 'sms' })).statusCode).toBe(202);
    h.clock.advance(31_000);
    expect((await send(h, { phone: PHONE, channel: 'whatsapp' })).statusCode).toBe(202);
  });
});

describe('outcome events', () => {
  it('tells apps each step up to read, in message.status events valid against the schema', async () => {
    const h = await whatsAppHarness({}, { stream: true });
    const { id, whatsApp, code } = await startWhatsAppVerification(h);
    const uuid = randomUUID();
    for (const step of ['sent', 'delivered', 'read'])
      await report(h, whatsApp.statusUrl, reportParams(uuid, step));
    await check(h, { id, code });
    await h.drainStream();
    const steps = h.published
      .filter((event) => event.payload.type === 'message.status')
      .map((event) => event.payload.data.message);
    expect(steps).toEqual(
      ['sent', 'delivered', 'read'].map((step) => ({
        channel: 'whatsapp',
        status: step,
        units: 1,
        cost: null,
        errorCode: null,
      })),
    );
    expect(h.published.map((event) => event.payload.type)).toEqual([
      'verification.started',
      'message.status',
      'message.status',
      'message.status',
      'verification.approved',
    ]);
    for (const event of h.published) {
      expect(event.payload.data.channel).toBe('whatsapp');
      expectValidEvent(event, [code]);
    }
  });

  it('says when the SMS fallback took the failed message’s place', async () => {
    const h = await whatsAppHarness({}, { stream: true });
    const { whatsApp, code } = await startWhatsAppVerification(h);
    await report(h, whatsApp.statusUrl, reportParams(randomUUID(), 'failed'));
    await h.drainStream();
    const messages = h.published
      .filter((event) => event.payload.type === 'message.status')
      .map((event) => event.payload.data);
    expect(messages.map((data) => [data.message?.channel, data.message?.status])).toEqual([
      ['whatsapp', 'failed'],
      ['sms', 'queued'],
    ]);
    expect(messages.at(-1)?.fallback).toEqual({ channel: 'sms', reason: 'sent' });
    for (const event of h.published) expectValidEvent(event, [code]);
  });
});

describe('outcome events when the fallback SMS is refused too', () => {
  it('tells apps the SMS failed in the failed WhatsApp message’s place, with the refusal as the reason', async () => {
    const h = await whatsAppHarness({}, { stream: true });
    const { whatsApp, code } = await startWhatsAppVerification(h);
    h.telephony.failMessages = messageRejected();
    await report(h, whatsApp.statusUrl, reportParams(randomUUID(), 'failed'));
    await h.drainStream();
    const messages = h.published
      .filter((event) => event.payload.type === 'message.status')
      .map((event) => event.payload.data);
    // The SMS's block is written (queued) before Plivo is asked, then marked failed by its refusal.
    expect(messages.map((data) => [data.message?.channel, data.message?.status])).toEqual([
      ['whatsapp', 'failed'],
      ['sms', 'queued'],
      ['sms', 'failed'],
    ]);
    expect(messages.at(-1)?.fallback).toEqual({ channel: 'sms', reason: 'message_rejected' });
    for (const event of h.published) expectValidEvent(event, [code]);
  });
});

describe('privacy', () => {
  const output = captureOutput();

  it('keeps the code, the token and the number out of every stored item and log line', async () => {
    const h = await whatsAppHarness({ LOG_LEVEL: 'DEBUG' });
    const { id, whatsApp, code } = await startWhatsAppVerification(h);
    const uuid = randomUUID();
    await report(h, whatsApp.statusUrl, reportParams(uuid, 'delivered'));
    await report(h, whatsApp.statusUrl, reportParams(uuid, 'read'));
    await check(h, { id, code });
    const fellBack = await startWhatsAppVerification(h, '+14155550124');
    await report(h, fellBack.whatsApp.statusUrl, reportParams(randomUUID(), 'failed'));
    h.telephony.failWhatsApps = whatsAppRejected();
    await send(h, { phone: '+14155550125', channel: 'whatsapp' });

    const stored = JSON.stringify(await h.scan());
    const logs = output.text();
    expect(logs).toContain('Message status');
    expect(logs).toContain('Fallback sent');
    const token = new URL(whatsApp.statusUrl).searchParams.get('t') ?? '';
    for (const [name, text] of [
      ['stored items', stored],
      ['logs', logs],
    ] as const) {
      expect(text, name).not.toContain(token.split('.')[1]);
      for (const secret of [code, fellBack.code])
        expect(text, name).not.toMatch(new RegExp(`(^|[^0-9A-Za-z])${secret}([^0-9A-Za-z]|$)`));
      for (const phone of [PHONE, '+14155550124', '+14155550125'])
        expect(text, name).not.toContain(phone.slice(4));
    }
  });
});
