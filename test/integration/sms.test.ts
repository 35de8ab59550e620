import { createHmac, randomUUID } from 'node:crypto';
import plivo from 'plivo';
import { beforeEach, describe, expect, it } from 'vitest';
import { countSegments } from '#channels/sms-segments.ts';
import { messageRejected, telephonyUnavailable } from '#channels/telephony.ts';
import { LOCALES } from '#platform/locales.ts';
import {
  apiEvent,
  check,
  createHarness,
  type Harness,
  PLIVO_AUTH_TOKEN,
  parse,
  RELAXED_LIMITS,
  startSmsVerification,
  startVerification,
  status,
  webhookEvent,
} from '../support/harness.ts';
import { captureOutput } from '../support/output-capture.ts';

const PHONE = '+14155550123';

const send = (h: Harness, body: Record<string, unknown>) =>
  h.send(apiEvent({ method: 'POST', resource: '/v1/verifications', body }));

/** What Plivo posts to the delivery-report URL for one status of one message. */
const reportParams = (uuid: string, status: string, extra: Record<string, string> = {}) => ({
  MessageUUID: uuid,
  To: PHONE.slice(1),
  From: '14155550100',
  Type: 'sms',
  Status: status,
  TotalRate: '0.00500',
  MCC: '310',
  MNC: '260',
  ParentMessageUUID: uuid,
  PartInfo: '1 of 1',
  Sequence: String({ queued: 1, sent: 2 }[status] ?? 3),
  MessageTime: '2026-11-30 10:00:00.000000',
  ...extra,
});

const report = (h: Harness, url: string, params: Record<string, string>, options = {}) =>
  h.hangup(webhookEvent(url, params, options));

const messageOf = async (h: Harness, id: string) =>
  (await h.scan()).find((item) => item.id === id)?.message as Record<string, unknown> | undefined;

describe('send by SMS', () => {
  it('sends one SMS with the code, answers 202 with a message block, and approves the code', async () => {
    const h = await createHarness({ APP_NAME: 'Acme' });
    const { body, id, message, code } = await startSmsVerification(h);
    expect(body).toEqual({
      id,
      status: 'pending',
      channel: 'sms',
      to: '+1********23',
      locale: 'en-US',
      createdAt: new Date(h.clock.now).toISOString(),
      expiresAt: new Date(h.clock.now + 300_000).toISOString(),
      message: { channel: 'sms', status: 'queued' },
    });
    expect(h.telephony.calls).toEqual([]);
    expect(h.telephony.messages).toHaveLength(1);
    expect(message.to).toBe(PHONE);
    expect(message.text).toBe(`Your Acme code is ${code}. It expires in 5 minutes. Do not share it.`);
    const token = new URL(message.statusUrl).searchParams.get('t');
    expect(message.statusUrl).toBe(
      `https://otp.example.test/prod/v1/plivo/message-status?v=${id}&t=${token}`,
    );
    expect(parse(await status(h, id))).toMatchObject({
      channel: 'sms',
      message: { channel: 'sms', status: 'queued', units: null, cost: null, errorCode: null },
    });
    expect(parse(await status(h, id))).not.toHaveProperty('call');
    expect(parse(await check(h, { id, code }))).toEqual({ id, valid: true, status: 'approved' });
    expect(h.metrics.counted.map((m) => m.name)).toEqual(
      expect.arrayContaining(['VerificationsStarted', 'MessagesSent', 'ChecksApproved']),
    );
    expect(h.metrics.counted.map((m) => m.name)).not.toContain('CallsPlaced');
  });

  it('sends in the verification locale, with the minutes of CODE_TTL_SECONDS', async () => {
    const h = await createHarness({ APP_NAME: 'Acme', CODE_TTL_SECONDS: '600' });
    const { message, code } = await startSmsVerification(h, PHONE, { locale: 'de-de' });
    expect(message.text).toBe(
      `Ihr Code für Acme lautet ${code}. Er ist 10 Minuten gültig. Geben Sie ihn nicht weiter.`,
    );
    const one = await createHarness({ APP_NAME: 'Acme', CODE_TTL_SECONDS: '90' });
    expect((await startSmsVerification(one, PHONE, { locale: 'fr-FR' })).message.text).toMatch(
      /Il expire dans 1 minute\. /,
    );
  });

  it('keeps voice as the default channel, and DEFAULT_CHANNEL=sms makes SMS the default', async () => {
    const h = await createHarness();
    expect(parse(await send(h, { phone: PHONE }))).toMatchObject({ channel: 'voice' });
    expect([h.telephony.calls.length, h.telephony.messages.length]).toEqual([1, 0]);
    const smsFirst = await createHarness({ DEFAULT_CHANNEL: 'sms' });
    expect(parse(await send(smsFirst, { phone: PHONE }))).toMatchObject({ channel: 'sms' });
    expect(parse(await send(smsFirst, { phone: '+14155550124', channel: 'voice' }))).toMatchObject({
      channel: 'voice',
      call: { status: 'queued' },
    });
    expect([smsFirst.telephony.calls.length, smsFirst.telephony.messages.length]).toEqual([1, 1]);
  });

  it('stores the channel and the fallback choice (FALLBACK by default)', async () => {
    const h = await createHarness();
    const withDefault = (await startSmsVerification(h, PHONE)).id;
    const without = (await startSmsVerification(h, '+14155550124', { fallback: false })).id;
    const off = await createHarness({ FALLBACK: 'false' });
    const offDefault = (await startSmsVerification(off, PHONE)).id;
    const items = [...(await h.scan()), ...(await off.scan())];
    const of = (id: string) => items.find((item) => item.id === id);
    expect(of(withDefault)).toMatchObject({ channel: 'sms', fallback: true });
    expect(of(without)).toMatchObject({ channel: 'sms', fallback: false });
    expect(of(offDefault)).toMatchObject({ channel: 'sms', fallback: false });
  });

  it('ends with the WebOTP line when SMS_WEBOTP_DOMAIN is set', async () => {
    const h = await createHarness({ APP_NAME: 'Acme', SMS_WEBOTP_DOMAIN: 'login.example.com' });
    const { message, code } = await startSmsVerification(h);
    const lines = message.text.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines.at(-1)).toBe(`@login.example.com #${code}`);
  });

  it('carries the appHash on a line of its own (SMS Retriever), before a WebOTP line, within 140 bytes', async () => {
    const h = await createHarness({ APP_NAME: 'Acme', SMS_WEBOTP_DOMAIN: 'example.com' });
    const { message, code } = await startSmsVerification(h, PHONE, { appHash: 'FA+9qCX9VSu' });
    expect(message.text.split('\n')).toEqual([
      `Your Acme code is ${code}. It expires in 5 minutes. Do not share it.`,
      'FA+9qCX9VSu',
      `@example.com #${code}`,
    ]);
    // One GSM-7 segment is 140 bytes: Google's limit for the SMS Retriever.
    expect(countSegments(message.text)).toMatchObject({ encoding: 'GSM-7', segments: 1 });
  });

  it('sends a one-segment SMS in every Latin-script locale, and one in every locale with the defaults', async () => {
    const h = await createHarness();
    const figures: Record<string, string> = {};
    for (const [i, locale] of LOCALES.entries()) {
      const { message, code } = await startSmsVerification(h, `+1415555014${i}`, { locale });
      expect(message.text, locale).toContain(code);
      const count = countSegments(message.text);
      figures[locale] = `${count.encoding} ${count.units} ${count.segments}`;
      expect(count.segments, locale).toBe(1);
      expect(count.encoding, locale).toBe(locale === 'hi-IN' || locale === 'ja-JP' ? 'UCS-2' : 'GSM-7');
    }
    expect(Object.keys(figures)).toEqual(LOCALES);
  });
});

describe('SMS abuse rules', () => {
  it('refuses a number that cannot receive an SMS, writing nothing; the same number may be called', async () => {
    const h = await createHarness();
    const fixedLine = '+442079460123';
    const refused = await send(h, { phone: fixedLine, channel: 'sms' });
    expect(refused.statusCode).toBe(400);
    expect(parse(refused)).toEqual({
      error: { code: 'unsupported_number_type', message: expect.stringContaining('SMS') },
    });
    expect(await h.scan()).toEqual([]);
    expect(h.telephony.messages).toEqual([]);
    expect((await send(h, { phone: fixedLine, channel: 'voice' })).statusCode).toBe(202);
    // FIXED_LINE_OR_MOBILE (US numbers) and MOBILE can.
    expect((await send(h, { phone: '+447400123456', channel: 'sms' })).statusCode).toBe(202);
    expect((await send(h, { phone: PHONE, channel: 'sms' })).statusCode).toBe(202);
  });

  it('applies the country allowlist to SMS', async () => {
    const h = await createHarness({ ALLOWED_COUNTRIES: 'US' });
    const refused = await send(h, { phone: '+447400123456', channel: 'sms' });
    expect([refused.statusCode, parse(refused).error]).toEqual([
      403,
      { code: 'country_not_allowed', message: expect.any(String) },
    ]);
    expect(h.telephony.messages).toEqual([]);
  });

  it('counts calls and SMS together in the per-phone limits', async () => {
    const h = await createHarness({ PHONE_MAX_PER_10_MINUTES: '2' });
    await startVerification(h, PHONE);
    await startSmsVerification(h, PHONE);
    const third = await send(h, { phone: PHONE, channel: 'sms' });
    expect(third.statusCode).toBe(429);
    expect(parse(third)).toMatchObject({ error: { code: 'rate_limited' } });
    expect(h.telephony.messages).toHaveLength(1);
  });

  it('counts SMS in the guess budget: a send reserves its attempts whatever the channel', async () => {
    const h = await createHarness({ PHONE_MAX_GUESSES_PER_DAY: '7' });
    await startVerification(h, PHONE);
    const second = await startSmsVerification(h, PHONE);
    expect(parse(await status(h, second.id))).toMatchObject({ attemptsLeft: 2 });
    expect((await send(h, { phone: PHONE, channel: 'sms' })).statusCode).toBe(429);
  });

  it('stops SMS at DAILY_SMS_CAP with 503 daily_call_cap_reached, while calls go on', async () => {
    const h = await createHarness({ DAILY_SMS_CAP: '2' });
    await startSmsVerification(h, '+14155550124');
    await startSmsVerification(h, '+14155550125');
    const capped = await send(h, { phone: '+14155550126', channel: 'sms' });
    expect(capped.statusCode).toBe(503);
    expect(parse(capped)).toEqual({
      error: { code: 'daily_call_cap_reached', message: expect.stringContaining('SMS') },
    });
    expect(Number(capped.headers?.['Retry-After'])).toBeGreaterThan(0);
    expect(h.telephony.messages).toHaveLength(2);
    expect((await send(h, { phone: '+14155550126', channel: 'voice' })).statusCode).toBe(202);
  });

  it('counts SMS in the global daily cap', async () => {
    const h = await createHarness({ DAILY_CALL_CAP: '2' });
    await startSmsVerification(h, '+14155550124');
    await startVerification(h, '+14155550125');
    const capped = await send(h, { phone: '+14155550126', channel: 'sms' });
    expect([capped.statusCode, parse(capped).error]).toEqual([
      503,
      { code: 'daily_call_cap_reached', message: expect.any(String) },
    ]);
  });

  it('pauses a range where SMS keep going unapproved (SMS pumping), like calls', async () => {
    const h = await createHarness({
      ...RELAXED_LIMITS,
      FRAUD_GUARD_MIN_CALLS: '5',
      FRAUD_GUARD_GLOBAL_MIN_CALLS: '100',
      FRAUD_GUARD_WINDOW_MINUTES: '10',
    });
    // Pinned to the start of a 10-minute window, so all five sends share it.
    h.clock.now = Math.ceil(h.clock.now / 600_000) * 600_000 + 1_000;
    for (let i = 0; i < 5; i++) await startSmsVerification(h, `+1202555017${i}`);
    // Once that window's codes have all expired, it is judged: 5 SMS, no approval.
    h.clock.advance(20 * 60_000);
    const paused = await send(h, { phone: '+12025550179', channel: 'sms' });
    expect(paused.statusCode).toBe(429);
    expect(h.metrics.counted.map((m) => m.name)).toContain('FraudGuardPaused');
    // The range is paused for calls too; another range is not.
    expect((await send(h, { phone: '+12025550179' })).statusCode).toBe(429);
    expect((await send(h, { phone: '+14155550179', channel: 'sms' })).statusCode).toBe(202);
  });
});

describe('when Plivo does not send the SMS', () => {
  it.each([
    ['refuses it (4xx)', messageRejected, 422, 'message_rejected'],
    ['fails or times out', telephonyUnavailable, 502, 'telephony_unavailable'],
  ])('%s: %i %s, the verification failed, its guesses given back', async (_name, error, code, errorCode) => {
    const h = await createHarness({ PHONE_MAX_GUESSES_PER_DAY: '5' });
    h.telephony.fail = error();
    const response = await send(h, { phone: PHONE, channel: 'sms' });
    expect(response.statusCode).toBe(code);
    expect(parse(response)).toEqual({ error: { code: errorCode, message: expect.any(String) } });
    const failed = (await h.scan()).find((item) => String(item.pk).startsWith('VERIFICATION#'));
    expect(failed).toMatchObject({ status: 'failed', channel: 'sms', message: { status: 'failed' } });
    expect(parse(await status(h, failed?.id as string))).toMatchObject({
      status: 'failed',
      message: { status: 'failed' },
    });
    expect(h.metrics.counted.map((m) => m.name)).toContain('MessagesNotSent');
    // A message Plivo sent after all (a timeout) reports in vain: a final status never changes.
    const lost = h.telephony.messages.at(-1)?.statusUrl ?? '';
    expect((await report(h, lost, reportParams(randomUUID(), 'delivered'))).statusCode).toBe(200);
    expect(await messageOf(h, failed?.id as string)).toEqual({ status: 'failed' });
    // With a budget of one verification's attempts, the next send only works if they were given back.
    h.telephony.fail = undefined;
    h.clock.advance(60_000);
    expect((await send(h, { phone: PHONE, channel: 'sms' })).statusCode).toBe(202);
  });
});

describe('delivery reports', () => {
  let h: Harness;
  let id: string;
  let url: string;
  beforeEach(async () => {
    h = await createHarness();
    const started = await startSmsVerification(h);
    id = started.id;
    url = started.message.statusUrl;
  });

  it('records each forward step, with units, cost and error code, and counts a final one once', async () => {
    const uuid = randomUUID();
    expect((await report(h, url, reportParams(uuid, 'queued'))).statusCode).toBe(200);
    expect(await messageOf(h, id)).toEqual({ status: 'queued', uuid });
    await report(h, url, reportParams(uuid, 'sent', { Units: '1' }));
    await report(
      h,
      url,
      reportParams(uuid, 'undelivered', { Units: '1', TotalAmount: '0.00500', ErrorCode: '30' }),
    );
    expect(await messageOf(h, id)).toEqual({
      status: 'undelivered',
      uuid,
      units: 1,
      cost: '0.00500',
      errorCode: '30',
    });
    expect(parse(await status(h, id))).toMatchObject({
      status: 'pending',
      message: { status: 'undelivered', units: 1, cost: '0.00500', errorCode: '30' },
    });
    expect(h.metrics.counted.filter((m) => m.name === 'MessagesFailed')).toHaveLength(1);
  });

  it('records a replayed report once', async () => {
    const uuid = randomUUID();
    const delivered = webhookEvent(
      url,
      reportParams(uuid, 'delivered', { Units: '1', TotalAmount: '0.005' }),
    );
    expect((await h.hangup(delivered)).statusCode).toBe(200);
    const recorded = (await h.scan()).find((item) => item.id === id);
    for (let i = 0; i < 3; i++) expect((await h.hangup(delivered)).statusCode).toBe(200);
    expect((await h.scan()).find((item) => item.id === id)).toEqual(recorded);
    expect(h.metrics.counted.filter((m) => m.name === 'MessagesDelivered')).toHaveLength(1);
  });

  it('never steps back: a late queued or sent after delivered changes nothing; a final status stays', async () => {
    const uuid = randomUUID();
    await report(h, url, reportParams(uuid, 'sent'));
    await report(h, url, reportParams(uuid, 'delivered', { Units: '2' }));
    await report(h, url, reportParams(uuid, 'queued'));
    await report(h, url, reportParams(uuid, 'sent', { Units: '9' }));
    await report(h, url, reportParams(uuid, 'failed', { ErrorCode: '450' }));
    expect(await messageOf(h, id)).toEqual({ status: 'delivered', uuid, units: 2 });
  });

  it('binds the first MessageUUID: reports for another message change nothing', async () => {
    const uuid = randomUUID();
    await report(h, url, reportParams(uuid, 'queued'));
    await report(h, url, reportParams(randomUUID(), 'failed', { ErrorCode: '450' }));
    expect(await messageOf(h, id)).toEqual({ status: 'queued', uuid });
  });

  it('refuses a forged report with 403 and writes nothing', async () => {
    const before = await h.scan();
    const forged = await report(h, url, reportParams(randomUUID(), 'delivered'), { authToken: 'forged' });
    expect(forged.statusCode).toBe(403);
    expect(parse(forged)).toEqual({ error: { code: 'invalid_signature', message: expect.any(String) } });
    const unsigned = await report(h, url, reportParams(randomUUID(), 'delivered'), { signature: null });
    expect(unsigned.statusCode).toBe(403);
    // Signed for another verification's URL, replayed on this one.
    const other = await startSmsVerification(h, '+14155550124');
    const signed = webhookEvent(other.message.statusUrl, reportParams(randomUUID(), 'failed'));
    const moved = { ...webhookEvent(url, reportParams(randomUUID(), 'failed')), headers: signed.headers };
    expect((await h.hangup(moved)).statusCode).toBe(403);
    expect((await h.scan()).find((item) => item.id === id)).toEqual(before.find((item) => item.id === id));
  });

  it('refuses a report with a valid V2 signature alone (it covers neither query nor body): 403', async () => {
    const params = reportParams(randomUUID(), 'delivered');
    const nonce = '12345678901234567890';
    const base = url.split('?')[0] ?? '';
    const v2 = createHmac('sha256', PLIVO_AUTH_TOKEN)
      .update(base + nonce)
      .digest('base64');
    // Valid as Plivo's SDK checks V2 signatures: over the URL without its query, and the nonce only.
    expect(plivo.validateSignature(url, nonce, v2, PLIVO_AUTH_TOKEN)).toBe(true);
    const event = webhookEvent(url, params, {
      signature: null,
      headers: { 'X-Plivo-Signature-V2': v2, 'X-Plivo-Signature-V2-Nonce': nonce },
    });
    const response = await h.hangup(event);
    expect(response.statusCode).toBe(403);
    expect(await messageOf(h, id)).toEqual({ status: 'queued' });
  });

  it('answers 200 and writes nothing for an unknown verification, bad parameters or a voice verification', async () => {
    const voice = await startVerification(h, '+14155550124');
    const voiceUrl = `https://otp.example.test/prod/v1/plivo/message-status?v=${voice.id}&t=x`;
    const unknown =
      'https://otp.example.test/prod/v1/plivo/message-status?v=vrf_0123456789ABCDEFGHJKMNPQRS&t=x';
    const before = await h.scan();
    for (const [target, params] of [
      [unknown, reportParams(randomUUID(), 'delivered')],
      [voiceUrl, reportParams(randomUUID(), 'delivered')],
      [url, reportParams(randomUUID(), 'read')],
      [url, reportParams('', 'delivered')],
      [url, reportParams('a b', 'delivered')],
      [`https://otp.example.test/prod/v1/plivo/message-status?v=nope`, reportParams(randomUUID(), 'sent')],
    ] as const) {
      expect((await report(h, target, params)).statusCode).toBe(200);
    }
    expect(await h.scan()).toEqual(before);
  });

  it('keeps only well-formed units, cost and error codes', async () => {
    const uuid = randomUUID();
    await report(
      h,
      url,
      reportParams(uuid, 'failed', { Units: 'x', TotalAmount: '1e9', ErrorCode: "'1415'" }),
    );
    expect(await messageOf(h, id)).toEqual({ status: 'failed', uuid });
  });
});

describe('privacy', () => {
  const output = captureOutput();

  it('keeps the SMS text, the code and the number out of every stored item and log line', async () => {
    const h = await createHarness({ LOG_LEVEL: 'DEBUG', APP_NAME: 'Acme', SMS_WEBOTP_DOMAIN: 'example.com' });
    const { id, message, code } = await startSmsVerification(h, PHONE, { appHash: 'FA+9qCX9VSu' });
    const uuid = randomUUID();
    await report(h, message.statusUrl, reportParams(uuid, 'sent'));
    await report(h, message.statusUrl, reportParams(uuid, 'delivered', { Units: '1', TotalAmount: '0.005' }));
    await report(h, message.statusUrl, reportParams(uuid, 'delivered'), { authToken: 'forged' });
    await check(h, { id, code });
    h.telephony.fail = messageRejected();
    await send(h, { phone: PHONE, channel: 'sms' });

    const stored = JSON.stringify(await h.scan());
    const logs = output.text();
    const token = new URL(message.statusUrl).searchParams.get('t') ?? '';
    expect(logs).toContain('Message status');
    for (const [name, text] of [
      ['stored items', stored],
      ['logs', logs],
    ] as const) {
      expect(text, name).not.toContain(message.text.split('\n')[0]);
      expect(text, name).not.toContain('Do not share');
      expect(text, name).not.toContain(token.split('.')[1]);
      expect(text, name).not.toContain(PHONE.slice(1));
      expect(text, name).not.toMatch(new RegExp(`(^|[^0-9A-Za-z])${code}([^0-9A-Za-z]|$)`));
    }
  });
});
