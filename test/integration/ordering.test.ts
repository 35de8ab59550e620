import { describe, expect, it } from 'vitest';
import type { CallRequest, Telephony } from '#channels/telephony.ts';
import { createSendHandler } from '../../functions/send.ts';
import { apiEvent, check, createHarness, parse, spokenCode, status } from '../support/harness.ts';

/** Time-window edges and the order in which concurrent sends finish. */

const DAY = 86_400_000;
const sendEvent = (phone: string) =>
  apiEvent({ method: 'POST', resource: '/v1/verifications', body: { phone } });

describe('the gap between calls to one phone', () => {
  it('holds across UTC midnight', async () => {
    const h = await createHarness({ PHONE_MIN_GAP_SECONDS: '30' });
    // A UTC midnight at least a day ahead of the wall clock, so nothing written is past its TTL.
    const midnight = (Math.floor(Date.now() / DAY) + 2) * DAY;
    h.clock.now = midnight - 5_000; // 23:59:55
    expect((await h.send(sendEvent('+14155550350'))).statusCode).toBe(202);
    h.clock.now = midnight + 5_000; // 00:00:05, a new day
    expect((await h.send(sendEvent('+14155550350'))).statusCode).toBe(429);
    h.clock.now = midnight + 25_000; // 30 s after the first call
    expect((await h.send(sendEvent('+14155550350'))).statusCode).toBe(202);
    expect(h.telephony.calls).toHaveLength(2);
  });
});

describe('concurrent resends', () => {
  it('leave the newer verification pending when the older send moves the phone pointer last', async () => {
    const h = await createHarness();
    const phone = '+14155550351';
    // The first call is held in flight until the second send has finished entirely.
    let arrived: () => void = () => {};
    let release: () => void = () => {};
    const inFlight = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let held = false;
    const telephony: Telephony = {
      async placeCall(request: CallRequest) {
        const placed = await h.telephony.placeCall(request);
        if (!held) {
          held = true;
          arrived();
          await released;
        }
        return placed;
      },
      sendMessage: (request) => h.telephony.sendMessage(request),
      sendWhatsApp: (request) => h.telephony.sendWhatsApp(request),
    };
    const send = createSendHandler({ ...h.depsFor('send'), telephony });

    const older = send(sendEvent(phone));
    await inFlight;
    h.clock.advance(1_000);
    const newer = await send(sendEvent(phone));
    expect(newer.statusCode).toBe(202);
    release();
    const olderResponse = await older;
    expect(olderResponse.statusCode).toBe(202);

    const newerId = parse(newer).id as string;
    const olderId = parse(olderResponse).id as string;
    expect(parse(await status(h, newerId))).toMatchObject({ status: 'pending' });
    expect(parse(await status(h, olderId))).toMatchObject({ status: 'canceled' });
    // The phone's latest is the newer one: its code verifies by phone.
    const call = h.telephony.calls.find((c) => c.verificationId === newerId);
    const code = spokenCode(h, call as CallRequest);
    expect(parse(await check(h, { phone, code }))).toEqual({ id: newerId, valid: true, status: 'approved' });
  });

  it('leave a send pending when the SDK retried its pointer write after it had landed', async () => {
    const h = await createHarness();
    const phone = '+14155550352';
    // The retry finds the pointer already on this verification, and reports it as the one it replaced.
    const retried = new Proxy(h.stores.send, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        if (property !== 'pointPhoneTo') return value.bind(target);
        return async (...args: unknown[]) => {
          await value.apply(target, args);
          return value.apply(target, args);
        };
      },
    });
    const send = createSendHandler({ ...h.depsFor('send'), store: retried, telephony: h.telephony });
    const id = parse(await send(sendEvent(phone))).id as string;
    expect(parse(await status(h, id))).toMatchObject({ status: 'pending' });
    const code = spokenCode(h, h.telephony.calls[0] as CallRequest);
    expect(parse(await check(h, { phone, code }))).toEqual({ id, valid: true, status: 'approved' });
  });
});
