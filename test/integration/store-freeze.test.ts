import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallRequest } from '#channels/telephony.ts';
import type { HttpResult } from '#platform/http.ts';
import { createSendHandler } from '../../functions/send.ts';
import { readSettings } from '../../infra/settings.ts';
import { functionSizing } from '../../infra/voice-otp-stack.ts';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../local/dynamodb-local.ts';
import {
  apiEvent,
  check,
  createHarness,
  type Harness,
  parse,
  RecordingTelephony,
  startVerification,
  status,
} from '../support/harness.ts';

/**
 * DynamoDB stops answering (its process frozen with SIGSTOP, so connections are accepted and never
 * answered): every request must end with a documented status within its function's timeout, and once
 * the store resumes (and runs the writes it had queued) the outcome must be exactly-once.
 */
const sizing = functionSizing(readSettings(() => undefined));
const lambdaTimeoutMs = (name: keyof typeof sizing) => sizing[name].timeout.toMilliseconds();

/** This file's own DynamoDB Local: freezing the run's shared one would stall every other test file. */
let dynamodb: DynamoDbLocal;
let frozen = false;
const freeze = () => {
  process.kill(dynamodb.pid ?? 0, 'SIGSTOP');
  frozen = true;
};
const resume = () => {
  if (frozen) process.kill(dynamodb.pid ?? 0, 'SIGCONT');
  frozen = false;
};

beforeAll(async () => {
  dynamodb = await startDynamoDbLocal();
});

afterAll(async () => {
  resume();
  await dynamodb?.stop();
});

/** Runs `request` and says how long it took. */
async function timed<T>(request: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = Date.now();
  const result = await request();
  return { result, ms: Date.now() - started };
}

const sendEvent = (phone: string, key: string) =>
  apiEvent({
    method: 'POST',
    resource: '/v1/verifications',
    body: { phone },
    headers: { 'Idempotency-Key': key },
  });

const retryAfter = (result: { headers?: Record<string, unknown> }) =>
  Number(result.headers?.['Retry-After']) * 1000;

const storeUnavailable = { error: { code: 'store_unavailable', message: expect.any(String) } };

describe('a store that stops answering', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness({}, { connection: dynamodb });
  });

  it('gets 503 store_unavailable with Retry-After within the Lambda timeout, then exactly-once', async () => {
    const sent = await startVerification(h, '+14155550181');
    const phone = '+14155550182';
    let during: Array<{ result: HttpResult; ms: number }>;
    try {
      freeze();
      during = await Promise.all([
        timed(() => check(h, { id: sent.id, code: sent.code })),
        timed(() => status(h, sent.id)),
        timed(() => h.send(sendEvent(phone, 'frozen-send'))),
      ]);
    } finally {
      resume();
    }
    const [checked, read, send] = during;
    for (const { result } of during) {
      expect(result.statusCode).toBe(503);
      expect(parse(result)).toEqual(storeUnavailable);
      expect(retryAfter(result)).toBeGreaterThan(0);
    }
    // Generous bounds (the functions' timeouts), not timings: what must never happen is a hang.
    expect(checked?.ms).toBeLessThan(lambdaTimeoutMs('verify'));
    expect(read?.ms).toBeLessThan(lambdaTimeoutMs('verify'));
    expect(send?.ms).toBeLessThan(lambdaTimeoutMs('send'));
    expect(h.telephony.calls.filter((call) => call.to === phone)).toHaveLength(0);

    // The client obeys Retry-After. Meanwhile the store runs what it had queued: the timed-out check's
    // reservation, once for each SDK attempt that reached it. The retry must end approved, once.
    await new Promise((resolve) => setTimeout(resolve, retryAfter(checked?.result ?? {})));
    const retried = parse(await check(h, { id: sent.id, code: sent.code }));
    expect(retried).toMatchObject({ id: sent.id, status: 'approved' });
    const after = parse(await status(h, sent.id));
    expect(after).toMatchObject({ status: 'approved' });
    // The timed-out check reserved at most one attempt however many of its SDK attempts landed (they carry
    // one reservation token); the retry took one more.
    expect(after.attempts).toBeLessThanOrEqual(2);
    expect(parse(await check(h, { id: sent.id, code: sent.code }))).toEqual({
      id: sent.id,
      valid: false,
      status: 'approved',
    });

    // The frozen send's claim may have landed once the store resumed; it placed no call, so it is re-run
    // once it looks abandoned, and from then on the same key replays that one verification.
    let again = await h.send(sendEvent(phone, 'frozen-send'));
    if (again.statusCode === 409) {
      expect(parse(again)).toMatchObject({ error: { code: 'idempotency_request_in_progress' } });
      h.clock.advance(61_000);
      again = await h.send(sendEvent(phone, 'frozen-send'));
    }
    expect(again.statusCode).toBe(202);
    const replayed = await h.send(sendEvent(phone, 'frozen-send'));
    expect(parse(replayed).id).toBe(parse(again).id);
    expect(h.telephony.calls.filter((call) => call.to === phone)).toHaveLength(1);
  });

  it('still answers 202 in time when the store stops once the call is placed; a retry places no second call', async () => {
    /** Plivo answers at the last moment of its timeout; by then the store has stopped answering. */
    class SlowPlivoThenFrozenStore extends RecordingTelephony {
      override async placeCall(request: CallRequest) {
        this.calls.push(request);
        await new Promise((resolve) => setTimeout(resolve, h.config.plivo.timeoutMs));
        freeze();
        return { requestId: randomUUID() };
      }
    }
    const telephony = new SlowPlivoThenFrozenStore();
    const send = createSendHandler({ ...h.depsFor('send'), telephony });
    const phone = '+14155550183';
    let first: { result: HttpResult; ms: number };
    try {
      first = await timed(() => send(sendEvent(phone, 'slow-plivo')));
    } finally {
      resume();
    }
    // The pointer and the stored answer cannot be written: the call is out, so the answer is still 202, and
    // after the first timed-out write the others fail at once instead of each waiting the whole budget.
    expect(first.result.statusCode).toBe(202);
    expect(first.ms).toBeLessThan(lambdaTimeoutMs('send'));

    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const again = await send(sendEvent(phone, 'slow-plivo'));
    expect(again.statusCode).toBe(202);
    expect(again.headers?.['Idempotent-Replayed']).toBe('true');
    expect(parse(again).id).toBe(parse(first.result).id);
    expect(telephony.calls).toHaveLength(1);
  });
});
