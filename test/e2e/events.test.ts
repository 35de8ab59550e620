import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoDigitRun } from '../support/event-schemas.ts';
import {
  ended,
  type SimCallView,
  SPAWN_TIMEOUT_MS,
  type SpawnedStack,
  spawnLocalStack,
  waitForCall,
} from '../support/local-stack.ts';

/**
 * The local stack's events function on DynamoDB Local's stream: a resend or a cancel hangs up the call in
 * flight through the simulator's Plivo hang-up API, and GET /_simulator/events shows what would have been
 * put on EventBridge. Its own stack: the no-answer callee is sent to more often than one phone's default
 * limits allow.
 */
let stack: SpawnedStack;

beforeAll(async () => {
  stack = await spawnLocalStack({ PHONE_MIN_GAP_SECONDS: '0', PHONE_MAX_PER_10_MINUTES: '100' });
}, SPAWN_TIMEOUT_MS);

afterAll(async () => {
  await stack?.stop();
});

const send = (phone: string, extra: Record<string, unknown> = {}) =>
  stack.api('POST', '/v1/verifications', { phone, ...extra });

/** Waits until the hangup webhook has been recorded on the verification. */
async function finalCall(id: string) {
  for (let i = 0; i < 400; i++) {
    const view = await stack.api('GET', `/v1/verifications/${id}`);
    if ((view.body.call as { status: string }).status !== 'queued') return view.body;
    await sleep(25);
  }
  throw new Error('hangup never recorded');
}

/** The simulator's call `id` once it has ended. */
async function endedCall(id: string) {
  for (let i = 0; i < 400; i++) {
    const found = ((await stack.api('GET', '/_simulator/calls')).body.calls as SimCallView[]).find(
      (c) => c.id === id,
    );
    if (found && ended(found)) return found;
    await sleep(25);
  }
  throw new Error(`call ${id} never ended`);
}

/** Events the local stand-in for EventBridge holds for one verification, waiting until `count` arrived. */
async function busEvents(id: string, count: number) {
  for (let i = 0; i < 400; i++) {
    const { body } = await stack.api('GET', '/_simulator/events');
    const mine = (
      body.events as Array<{ 'detail-type': string; detail: { data: { verificationId: string } } }>
    ).filter((event) => event.detail.data.verificationId === id);
    if (mine.length >= count) return mine;
    await sleep(25);
  }
  throw new Error(`the bus never held ${count} events for ${id}`);
}

// The no-answer callee rings for the whole ring timeout: long enough to be found ringing.
describe('cancel and resend hang up the call in flight', () => {
  it('a resend hangs up the older ringing call, a cancel the newer: both end canceled, neither spoke', async () => {
    const phone = '+12025550191';
    const older = await send(phone, { fallback: false });
    const first = await waitForCall(stack, phone, (c) => c.status === 'ringing');
    const newer = await send(phone, { fallback: false });
    expect([older.status, newer.status]).toEqual([202, 202]);
    const second = await waitForCall(stack, phone, (c) => c.id !== first.id && c.status === 'ringing');
    expect((await stack.api('POST', `/v1/verifications/${newer.body.id}/cancel`)).status).toBe(200);

    for (const id of [first.id, second.id])
      expect(await endedCall(id)).toMatchObject({ status: 'canceled', transcript: '' });
    for (const sent of [older, newer]) {
      const id = sent.body.id as string;
      expect(await finalCall(id)).toMatchObject({ status: 'canceled', call: { status: 'canceled' } });
      // What would have been put on EventBridge, oldest first: no code, no number.
      const events = await busEvents(id, 3);
      expect(events.map((event) => event['detail-type'])).toEqual([
        'verification.started',
        'verification.canceled',
        'call.ended',
      ]);
      expect(events[0]).toMatchObject({ source: 'voice-otp', detail: { data: { to: '+1********91' } } });
      expectNoDigitRun(JSON.stringify(events));
    }
  });

  it('a cancel hangs up a call already answered: found live by its request id, ended by its own CallUUID', async () => {
    // The simulator gives every call a CallUUID other than its request_uuid, as Plivo does: a hang-up by the
    // request's id would find no live call (404) and leave this one talking.
    const phone = '+14155550142';
    const sent = await send(phone, { fallback: false });
    expect(sent.status).toBe(202);
    const answered = await waitForCall(
      stack,
      phone,
      (c) => c.status === 'in-progress' && c.transcript !== '',
    );
    expect((await stack.api('POST', `/v1/verifications/${sent.body.id}/cancel`)).status).toBe(200);
    const ended = await endedCall(answered.id);
    expect(ended.status).toBe('canceled');
    expect(await finalCall(sent.body.id as string)).toMatchObject({
      status: 'canceled',
      call: { status: 'canceled' },
    });
  });
});
