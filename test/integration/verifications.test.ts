import { beforeAll, describe, expect, it } from 'vitest';
import {
  API_KEY_ID,
  cancel,
  check,
  createHarness,
  type Harness,
  parse,
  startVerification,
  status,
  wrongCode,
  wrongCodes,
} from '../support/harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});

describe('send', () => {
  it('answers 202 with the contract fields and places one call', async () => {
    const before = h.telephony.calls.length;
    const { body, id } = await startVerification(h, '+14155550123');
    expect(body).toEqual({
      id,
      status: 'pending',
      channel: 'voice',
      to: '+1********23',
      locale: 'en-US',
      createdAt: new Date(h.clock.now).toISOString(),
      expiresAt: new Date(h.clock.now + 300_000).toISOString(),
      call: { status: 'queued' },
    });
    expect(id).toMatch(/^vrf_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(h.telephony.calls.length).toBe(before + 1);
    const call = h.telephony.calls.at(-1);
    expect(call?.to).toBe('+14155550123');
    expect(call?.answerUrl.startsWith(`https://otp.example.test/prod/v1/plivo/answer?v=${id}&t=`)).toBe(true);
    // The hangup URL carries the same sealed token, for the fallback to the other channel.
    const token = new URL(call?.answerUrl ?? '').searchParams.get('t');
    expect(call?.hangupUrl).toBe(`https://otp.example.test/prod/v1/plivo/hangup?v=${id}&t=${token}`);
  });

  it('generates a 6-digit code by default, and the configured length otherwise', async () => {
    expect((await startVerification(h)).code).toMatch(/^[0-9]{6}$/);
    const eight = await createHarness({ CODE_LENGTH: '8' });
    expect((await startVerification(eight)).code).toMatch(/^[0-9]{8}$/);
  });

  it('accepts a supported locale in any case and answers with its canonical form', async () => {
    const response = await h.send(
      (await import('../support/harness.ts')).apiEvent({
        method: 'POST',
        resource: '/v1/verifications',
        body: { phone: '+33612345678', locale: 'fr-fr' },
      }),
    );
    expect(response.statusCode).toBe(202);
    expect(parse(response)).toMatchObject({ locale: 'fr-FR', to: '+33*******78' });
  });
});

describe('check', () => {
  it('approves the right code once, then reports approved', async () => {
    const { id, code } = await startVerification(h);
    const first = await check(h, { id, code });
    expect(first.statusCode).toBe(200);
    expect(parse(first)).toEqual({ id, valid: true, status: 'approved' });
    const again = await check(h, { id, code });
    expect(parse(again)).toEqual({ id, valid: false, status: 'approved' });
  });

  it('accepts spaces and hyphens in the code', async () => {
    const { id, code } = await startVerification(h);
    const spaced = `${code.slice(0, 3)} - ${code.slice(3)}`;
    expect(parse(await check(h, { id, code: spaced }))).toMatchObject({ valid: true });
  });

  it('counts wrong codes and lowers attemptsLeft', async () => {
    const { id, code } = await startVerification(h);
    const wrong = await check(h, { id, code: wrongCode(code) });
    expect(wrong.statusCode).toBe(200);
    expect(parse(wrong)).toEqual({ id, valid: false, status: 'pending', attemptsLeft: 4 });
    expect(parse(await check(h, { id, code: wrongCode(code) }))).toMatchObject({ attemptsLeft: 3 });
    expect(parse(await status(h, id))).toMatchObject({ attempts: 2, attemptsLeft: 3, status: 'pending' });
    expect(parse(await check(h, { id, code }))).toEqual({ id, valid: true, status: 'approved' });
    // The right code took an attempt too: each check reserves one before its code is tested.
    expect(parse(await status(h, id))).toMatchObject({ attempts: 3, status: 'approved' });
  });

  it('refuses the right code after the fifth wrong one', async () => {
    const { id, code } = await startVerification(h);
    for (let i = 1; i <= 4; i++) {
      expect(parse(await check(h, { id, code: wrongCode(code) }))).toMatchObject({ attemptsLeft: 5 - i });
    }
    expect(parse(await check(h, { id, code: wrongCode(code) }))).toEqual({
      id,
      valid: false,
      status: 'max_attempts_reached',
      attemptsLeft: 0,
    });
    expect(parse(await check(h, { id, code }))).toEqual({ id, valid: false, status: 'max_attempts_reached' });
    expect(parse(await status(h, id))).toMatchObject({ status: 'max_attempts_reached', attempts: 5 });
  });

  it('refuses an expired code before TTL removes the item, without counting an attempt', async () => {
    const local = await createHarness();
    const { id, code } = await startVerification(local);
    local.clock.advance(300_000);
    expect(parse(await check(local, { id, code }))).toEqual({ id, valid: false, status: 'expired' });
    const view = parse(await status(local, id));
    expect(view).toMatchObject({ status: 'expired', attempts: 0 });
    const items = await local.scan();
    expect(items.find((item) => item.id === id)?.status).toBe('pending');
  });

  it('finds the latest pending verification by phone', async () => {
    const phone = '+14155550177';
    const { id, code } = await startVerification(h, phone);
    const wrong = await check(h, { phone, code: wrongCode(code) });
    expect(parse(wrong)).toEqual({ id, valid: false, status: 'pending', attemptsLeft: 4 });
    expect(parse(await check(h, { phone, code }))).toEqual({ id, valid: true, status: 'approved' });
    // Approved: by phone there is no pending verification any more.
    const after = await check(h, { phone, code });
    expect(after.statusCode).toBe(404);
    expect(parse(after)).toEqual({
      error: { code: 'verification_not_found', message: expect.any(String) },
    });
  });

  it('locks a verification out by phone on the fifth wrong code, then answers 404 by phone', async () => {
    const phone = '+14155550178';
    const { id, code } = await startVerification(h, phone);
    for (const [i, guess] of wrongCodes(code, 5).entries()) {
      const expected =
        i < 4
          ? { status: 'pending', attemptsLeft: 4 - i }
          : { status: 'max_attempts_reached', attemptsLeft: 0 };
      expect(parse(await check(h, { phone, code: guess }))).toEqual({ id, valid: false, ...expected });
    }
    expect((await check(h, { phone, code })).statusCode).toBe(404);
  });

  it('answers 404 alike for a phone never seen and for an unknown id', async () => {
    const byPhone = await check(h, { phone: '+14155550999', code: '123456' });
    expect(byPhone.statusCode).toBe(404);
    const byId = await check(h, { id: 'vrf_00000000000000000000000000', code: '123456' });
    expect(byId.statusCode).toBe(404);
    expect(parse(byPhone)).toEqual(parse(byId));
    // A number in E.164 form that send would refuse (here, the UK's drama range) has no verification either.
    const unassigned = await check(h, { phone: '+447700900123', code: '123456' });
    expect(unassigned.statusCode).toBe(404);
    expect(parse(unassigned)).toEqual(parse(byId));
  });
});

describe('resend', () => {
  it('cancels the older pending verification of the same phone', async () => {
    const phone = '+14155550150';
    const first = await startVerification(h, phone);
    const second = await startVerification(h, phone);
    expect(parse(await status(h, first.id))).toMatchObject({ status: 'canceled' });
    expect(parse(await check(h, { id: first.id, code: first.code }))).toEqual({
      id: first.id,
      valid: false,
      status: 'canceled',
    });
    expect(parse(await check(h, { phone, code: second.code }))).toEqual({
      id: second.id,
      valid: true,
      status: 'approved',
    });
  });

  it('leaves another API key’s verification for the same phone alone', async () => {
    const phone = '+14155550151';
    const mine = await startVerification(h, phone, API_KEY_ID);
    await startVerification(h, phone, 'other-key');
    expect(parse(await status(h, mine.id))).toMatchObject({ status: 'pending' });
  });
});

describe('status and cancel', () => {
  it('shows the contract fields', async () => {
    const { id } = await startVerification(h);
    const response = await status(h, id);
    expect(response.statusCode).toBe(200);
    expect(parse(response)).toEqual({
      id,
      status: 'pending',
      channel: 'voice',
      to: '+1********23',
      locale: 'en-US',
      createdAt: expect.any(String),
      expiresAt: expect.any(String),
      attempts: 0,
      attemptsLeft: 5,
      call: {
        status: 'queued',
        durationSeconds: null,
        billDurationSeconds: null,
        hangupCause: null,
        cost: null,
      },
    });
  });

  it('cancels a pending verification once; the code no longer verifies', async () => {
    const { id, code } = await startVerification(h);
    const canceled = await cancel(h, id);
    expect(canceled.statusCode).toBe(200);
    expect(parse(canceled)).toEqual({ id, status: 'canceled' });
    const again = await cancel(h, id);
    expect(again.statusCode).toBe(409);
    expect(parse(again)).toMatchObject({ error: { code: 'verification_not_pending' } });
    expect(parse(await check(h, { id, code }))).toEqual({ id, valid: false, status: 'canceled' });
  });

  it('answers 409 when canceling an approved verification and 404 for an unknown one', async () => {
    const { id, code } = await startVerification(h);
    await check(h, { id, code });
    expect((await cancel(h, id)).statusCode).toBe(409);
    expect((await cancel(h, 'vrf_ZZZZZZZZZZZZZZZZZZZZZZZZZZ')).statusCode).toBe(404);
  });
});

describe('scoping', () => {
  it('hides a verification from every other API key', async () => {
    const { id, code } = await startVerification(h);
    for (const response of [
      await status(h, id, 'other-key'),
      await check(h, { id, code }, 'other-key'),
      await cancel(h, id, 'other-key'),
    ]) {
      expect(response.statusCode).toBe(404);
      expect(parse(response)).toMatchObject({ error: { code: 'verification_not_found' } });
    }
    // Nothing the other key did counted against the owner.
    expect(parse(await status(h, id))).toMatchObject({ status: 'pending', attempts: 0 });
  });
});
