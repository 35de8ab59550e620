import { describe, expect, it, vi } from 'vitest';
import { telephonyUnavailable } from '#channels/telephony.ts';
import type { MetricName } from '#platform/metrics.ts';
import type { Store } from '#store/store.ts';
import { createSendHandler } from '../../functions/send.ts';
import { API_KEY_ID } from '../support/events.ts';
import { failing } from '../support/failing-store.ts';
import {
  apiEvent,
  cancel,
  check,
  createHarness,
  type Harness,
  parse,
  startVerification,
  wrongCode,
} from '../support/harness.ts';

/**
 * What operators see: each outcome is logged (ids and masked numbers only) and counted under the metric
 * names the stack's alarms watch; a failure after the outcome is decided is logged, never answered.
 */
function watch(h: Harness) {
  const { logger } = h.depsFor('verify');
  return {
    info: vi.spyOn(logger, 'info'),
    warn: vi.spyOn(logger, 'warn'),
    error: vi.spyOn(logger, 'error'),
    counted: (...names: MetricName[]) =>
      h.metrics.counted.map((c) => c.name).filter((name) => names.length === 0 || names.includes(name)),
  };
}

/** The function's store with one method failing, with an error that is not ours. */
const failingWith = (store: Store, method: keyof Store): Store =>
  failing(
    store,
    method,
    () => true,
    () => new Error('store down (test)'),
  );

const sendEvent = (phone: string) =>
  apiEvent({ method: 'POST', resource: '/v1/verifications', body: { phone } });
/** A chosen instant: noon UTC tomorrow, far from any window edge. */
const noonTomorrow = () => (Math.floor(Date.now() / 86_400_000) + 1) * 86_400_000 + 12 * 3_600_000;
const _checkEvent = (body: unknown) =>
  apiEvent({ method: 'POST', resource: '/v1/verifications/check', body });

describe('logs and metrics', () => {
  it('log and count each outcome of a verification, and nothing as an error', async () => {
    const h = await createHarness();
    const seen = watch(h);
    const phone = '+14155550123';
    const first = await startVerification(h, phone);
    expect(seen.info).toHaveBeenCalledWith('Verification started', {
      verificationId: first.id,
      channel: 'voice',
      to: '+1********23',
      country: 'US',
      locale: 'en-US',
    });
    const second = await startVerification(h, phone);
    expect(seen.info).toHaveBeenCalledWith('Verification superseded', {
      verificationId: first.id,
      supersededBy: second.id,
    });
    await check(h, { id: second.id, code: wrongCode(second.code) });
    expect(seen.info).toHaveBeenCalledWith('Wrong code', { verificationId: second.id, attempts: 1 });
    await check(h, { id: second.id, code: second.code });
    expect(seen.info).toHaveBeenCalledWith('Verification approved', { verificationId: second.id });
    // A send after an approved one supersedes nothing.
    const third = await startVerification(h, phone);
    expect(seen.info).not.toHaveBeenCalledWith(
      'Verification superseded',
      expect.objectContaining({ supersededBy: third.id }),
    );
    await cancel(h, third.id);
    expect(seen.info).toHaveBeenCalledWith('Verification canceled', { verificationId: third.id });

    expect(seen.counted()).toEqual([
      'CallsPlaced',
      'VerificationsStarted',
      'CallsPlaced',
      'VerificationsStarted',
      'ChecksRefused',
      'ChecksApproved',
      'CallsPlaced',
      'VerificationsStarted',
    ]);
    expect(seen.warn).not.toHaveBeenCalled();
    expect(seen.error).not.toHaveBeenCalled();
  });

  it('log and count a call that was not placed, with the error code as the reason', async () => {
    const h = await createHarness();
    const seen = watch(h);
    h.telephony.fail = telephonyUnavailable();
    const refused = await h.send(sendEvent('+14155550124'));
    expect(refused.statusCode).toBe(502);
    h.telephony.fail = new Error('socket hang up');
    expect((await h.send(sendEvent('+14155550125'))).statusCode).toBe(500);
    const [byCode, unknown] = seen.warn.mock.calls.filter(([message]) => message === 'Call not placed');
    expect(byCode?.[1]).toEqual({
      verificationId: expect.any(String),
      to: '+1********24',
      reason: 'telephony_unavailable',
    });
    expect(unknown?.[1]).toEqual({ verificationId: expect.any(String), to: '+1********25', reason: 'error' });
    expect(seen.counted()).toEqual(['CallsNotPlaced', 'CallsNotPlaced']);
  });

  it('log, and do not answer, the writes that fail once the outcome is decided', async () => {
    const h = await createHarness();
    const seen = watch(h);
    const errorFor = (message: string) => seen.error.mock.calls.find(([logged]) => logged === message)?.[1];

    h.telephony.fail = telephonyUnavailable();
    const send = createSendHandler({
      ...h.depsFor('send'),
      store: failingWith(h.stores.send, 'fail'),
      telephony: h.telephony,
    });
    expect((await send(sendEvent('+14155550126'))).statusCode).toBe(502);
    expect(errorFor('Could not mark the verification failed')).toEqual({
      verificationId: expect.any(String),
      error: expect.any(Error),
    });

    h.telephony.fail = undefined;
    const pointless = createSendHandler({
      ...h.depsFor('send'),
      store: failingWith(h.stores.send, 'pointPhoneTo'),
      telephony: h.telephony,
    });
    const sent = parse(await pointless(sendEvent('+14155550127')));
    expect(errorFor('Could not supersede the earlier verification')).toEqual({
      verificationId: sent.id,
      error: expect.any(Error),
    });

    // The call is out: losing its request id (what a cancel would hang up) is logged, not answered.
    const unrecorded = createSendHandler({
      ...h.depsFor('send'),
      store: failingWith(h.stores.send, 'recordCallRequest'),
      telephony: h.telephony,
    });
    const placed = await unrecorded(sendEvent('+14155550128'));
    expect(placed.statusCode).toBe(202);
    expect(errorFor('Could not record the call request')).toEqual({
      verificationId: parse(placed).id,
      error: expect.any(Error),
    });
  });

  it.each([
    ['phone gap', { PHONE_MIN_GAP_SECONDS: '30' }],
    ['phone calls', { PHONE_MAX_PER_10_MINUTES: '1' }],
    ['guess budget', { PHONE_MAX_GUESSES_PER_DAY: '5' }],
  ])('log which phone limit refused a send (%s), and count the refusal once', async (limit, env) => {
    const h = await createHarness(env);
    const seen = watch(h);
    h.clock.now = noonTomorrow();
    await startVerification(h, '+14155550140');
    h.clock.advance(10_000);
    expect((await h.send(sendEvent('+14155550140'))).statusCode).toBe(429);
    expect(seen.info).toHaveBeenCalledWith('Send refused by a phone limit', { limit });
    expect(seen.counted('RateLimited')).toEqual(['RateLimited']);
  });

  it("log the API key's and the service's daily caps, and count each refusal once", async () => {
    const h = await createHarness({ API_KEY_MAX_PER_DAY: '1', DAILY_CALL_CAP: '2' });
    const seen = watch(h);
    await startVerification(h, '+14155550141');
    expect((await h.send(sendEvent('+14155550142'))).statusCode).toBe(429);
    expect(seen.warn).toHaveBeenCalledWith('API key daily call cap reached', {
      apiKeyId: API_KEY_ID,
      cap: 1,
    });
    await startVerification(h, '+14155550143', 'other-key');
    expect(
      (
        await h.send(
          apiEvent({
            method: 'POST',
            resource: '/v1/verifications',
            body: { phone: '+14155550144' },
            apiKeyId: 'third-key',
          }),
        )
      ).statusCode,
    ).toBe(503);
    expect(seen.error).toHaveBeenCalledWith('Daily call cap reached', { cap: 2 });
    expect(seen.counted('RateLimited')).toEqual(['RateLimited', 'RateLimited']);
    // Only the service's cap, which stops every send, has an alarm of its own.
    expect(seen.counted('DailyCapReached')).toEqual(['DailyCapReached']);
  });

  it('count no refusal when the store fails during admission', async () => {
    const h = await createHarness();
    const seen = watch(h);
    const send = createSendHandler({
      ...h.depsFor('send'),
      store: failing(h.stores.send, 'count'),
      telephony: h.telephony,
    });
    const response = await send(sendEvent('+14155550145'));
    expect(parse(response)).toMatchObject({ error: { code: 'store_unavailable' } });
    expect(seen.counted('RateLimited')).toEqual([]);
    // The send's answer is kept for its Idempotency-Key, and logged all the same.
    expect(seen.error).toHaveBeenCalledWith('Request failed', { code: 'store_unavailable' });
  });

  it('log a refused send as information, with its code and status', async () => {
    const h = await createHarness();
    const seen = watch(h);
    const send = createSendHandler({ ...h.depsFor('send'), telephony: h.telephony });
    const response = await send(sendEvent('+999'));
    expect(response.statusCode).toBe(400);
    expect(seen.info).toHaveBeenCalledWith('Request refused', { code: 'invalid_phone', status: 400 });
    expect(seen.error).not.toHaveBeenCalled();
  });
});
