import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import type { CallRequest } from '#channels/telephony.ts';
import { telephonyUnavailable } from '#channels/telephony.ts';
import type { HttpResult } from '#platform/http.ts';
import { parseKeyRing } from '#platform/keyring.ts';
import type { Secrets } from '#platform/secrets.ts';
import type { Store } from '#store/store.ts';
import { bodyHash, type IdempotentSend, idempotent } from '#verification/idempotency.ts';
import { createSendHandler } from '../../functions/send.ts';
import { failing } from '../support/failing-store.ts';
import {
  apiEvent,
  createHarness,
  type Harness,
  parse,
  RecordingTelephony,
  status,
} from '../support/harness.ts';

/**
 * Idempotency-Key never pays twice: once a send may have placed its call, the key never runs again, however
 * old its claim and whatever became of its answer. Transient refusals are not stored, so a client that
 * obeys Retry-After is not refused for a day.
 */
const STALE_CLAIM_MS = 60_000;

/** A chosen instant: noon UTC tomorrow, far from any window edge, with every TTL in the future. */
const noonTomorrow = () => (Math.floor(Date.now() / 86_400_000) + 1) * 86_400_000 + 12 * 3_600_000;

const sendEvent = (phone: string, key: string) =>
  apiEvent({
    method: 'POST',
    resource: '/v1/verifications',
    body: { phone },
    headers: { 'Idempotency-Key': key },
  });

/** A send handler on the harness's table with another store or telephony. */
const sendWith = (h: Harness, options: { store?: Store; telephony?: RecordingTelephony }) =>
  createSendHandler({
    ...h.depsFor('send'),
    ...(options.store && { store: options.store }),
    telephony: options.telephony ?? h.telephony,
  });

/** Places the call, then never returns: the function dies (timeout, crash) before it can answer. */
class DyingTelephony extends RecordingTelephony {
  override placeCall(request: CallRequest) {
    this.calls.push(request);
    return new Promise<never>(() => {});
  }
}

describe('Idempotency-Key after the call may have been placed', () => {
  it('replays the verification when its answer could not be stored, also after the stale-claim time', async () => {
    const h = await createHarness();
    h.clock.now = noonTomorrow();
    const { logger } = h.depsFor('send');
    const logged = { info: vi.spyOn(logger, 'info'), error: vi.spyOn(logger, 'error') };
    const send = sendWith(h, { store: failing(h.stores.send, 'completeIdempotencyKey') });
    const first = await send(sendEvent('+14155550141', 'lost-answer'));
    expect(first.statusCode).toBe(202);
    const id = parse(first).id;
    expect(logged.error).toHaveBeenCalledWith('Could not store the response for an Idempotency-Key', {
      error: expect.any(Error),
    });

    const again = await send(sendEvent('+14155550141', 'lost-answer'));
    expect(again.statusCode).toBe(202);
    expect(again.headers?.['Idempotent-Replayed']).toBe('true');
    expect(parse(again)).toMatchObject({ id, status: 'pending' });
    expect(logged.info).toHaveBeenCalledWith('Idempotent replay from the verification', {
      verificationId: id,
    });

    h.clock.advance(STALE_CLAIM_MS + 1_000);
    const later = await send(sendEvent('+14155550141', 'lost-answer'));
    expect(later.statusCode).toBe(202);
    expect(parse(later).id).toBe(id);
    expect(h.telephony.calls).toHaveLength(1);
  });

  it('replays the verification when the function died after placing the call', async () => {
    const h = await createHarness();
    h.clock.now = noonTomorrow();
    const dying = new DyingTelephony();
    // The first request never answers; its call is out.
    void sendWith(h, { telephony: dying })(sendEvent('+14155550142', 'died'));
    await expect.poll(() => dying.calls.length).toBe(1);

    for (const wait of [0, STALE_CLAIM_MS + 1_000]) {
      h.clock.advance(wait);
      const retry = await h.send(sendEvent('+14155550142', 'died'));
      expect(retry.statusCode).toBe(202);
      expect(parse(retry)).toMatchObject({ status: 'pending', to: '+1********42' });
      expect(parse(retry).id).toBe(dying.calls[0]?.verificationId);
    }
    expect(dying.calls).toHaveLength(1);
    expect(h.telephony.calls).toHaveLength(0);
  });

  it('answers 502 to every retry when the call failed and its answer was lost', async () => {
    const h = await createHarness();
    h.clock.now = noonTomorrow();
    h.telephony.fail = telephonyUnavailable();
    const send = sendWith(h, { store: failing(h.stores.send, 'completeIdempotencyKey') });
    expect((await send(sendEvent('+14155550143', 'failed-call'))).statusCode).toBe(502);
    h.telephony.fail = undefined;
    h.clock.advance(STALE_CLAIM_MS + 1_000);
    const retry = await send(sendEvent('+14155550143', 'failed-call'));
    expect(retry.statusCode).toBe(502);
    expect(parse(retry)).toMatchObject({
      error: { code: 'telephony_unavailable', message: expect.stringContaining('new Idempotency-Key') },
    });
    expect(h.telephony.calls).toHaveLength(1);
  });

  it('lets no call out from a request whose claim was taken over as abandoned', async () => {
    const h = await createHarness();
    h.clock.now = noonTomorrow();
    let resume: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      resume = resolve;
    });
    // The first request stalls before its call, past the stale-claim time.
    const called: string[] = [];
    const slow = new Proxy(h.stores.send, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        called.push(String(property));
        if (property !== 'create') return value.bind(target);
        return async (...args: unknown[]) => {
          await held;
          return value.apply(target, args);
        };
      },
    });
    const stalled = sendWith(h, { store: slow })(sendEvent('+14155550144', 'taken-over'));
    await expect
      .poll(async () => (await h.scan()).some((item) => String(item.pk).startsWith('IDEMPOTENCY#')))
      .toBe(true);
    // Until the stale-claim time, a duplicate is told the first is still running.
    h.clock.advance(STALE_CLAIM_MS - 1_000);
    const early = await h.send(sendEvent('+14155550144', 'taken-over'));
    expect(early.statusCode).toBe(409);
    expect(parse(early)).toEqual({
      error: {
        code: 'idempotency_request_in_progress',
        message: 'A request with this Idempotency-Key is still running; retry shortly.',
      },
    });
    expect(early.headers?.['Retry-After']).toBe('1');
    h.clock.advance(2_000);
    const takeover = await h.send(sendEvent('+14155550144', 'taken-over'));
    expect(takeover.statusCode).toBe(202);

    const { logger } = h.depsFor('send');
    const logged = vi.spyOn(logger, 'error');
    called.length = 0;
    resume();
    const late = await stalled;
    expect(late.statusCode).toBe(409);
    // Another request owns the key now: the stalled one neither frees it nor stores its answer there.
    expect(called).toContain('bindIdempotencyKey');
    expect(called).not.toContain('releaseIdempotencyKey');
    expect(called).not.toContain('completeIdempotencyKey');
    expect(logged).not.toHaveBeenCalledWith(
      'Could not store the response for an Idempotency-Key',
      expect.anything(),
    );
    expect(parse(late)).toMatchObject({ error: { code: 'idempotency_request_in_progress' } });
    expect(h.telephony.calls.map((call) => call.verificationId)).toEqual([parse(takeover).id]);
    // The stalled request's verification never had a call: it is not left pending.
    const stalledIds = (await h.scan())
      .filter((item) => String(item.pk).startsWith('VERIFICATION#') && item.id !== parse(takeover).id)
      .map((item) => item.id as string);
    expect(stalledIds).toHaveLength(1);
    expect(parse(await status(h, stalledIds[0] ?? ''))).toMatchObject({ status: 'failed' });
  });
});

describe('Idempotency-Key before any call could be placed', () => {
  it('does not replay a 429: after Retry-After the same key and body runs afresh', async () => {
    const h = await createHarness({ API_KEY_MAX_PER_MINUTE: '1' });
    h.clock.now = noonTomorrow();
    expect((await h.send(sendEvent('+14155550145', 'first'))).statusCode).toBe(202);
    const refused = await h.send(sendEvent('+14155550146', 'second'));
    expect(refused.statusCode).toBe(429);
    const retryAfter = Number(refused.headers?.['Retry-After']);
    expect(retryAfter).toBeGreaterThan(0);

    const tooSoon = await h.send(sendEvent('+14155550146', 'second'));
    expect(tooSoon.statusCode).toBe(429);
    expect(tooSoon.headers?.['Idempotent-Replayed']).toBeUndefined();

    h.clock.advance(retryAfter * 1000);
    const obeyed = await h.send(sendEvent('+14155550146', 'second'));
    expect(obeyed.statusCode).toBe(202);
    expect(h.telephony.calls).toHaveLength(2);
    const logged = vi.spyOn(h.depsFor('send').logger, 'info');
    const replay = await h.send(sendEvent('+14155550146', 'second'));
    expect(replay.body).toBe(obeyed.body);
    expect(logged).toHaveBeenCalledWith('Idempotent replay', { statusCode: 202 });
    expect(h.telephony.calls).toHaveLength(2);
  });

  it('frees the key after a 5xx that came before the call, so the retry runs again', async () => {
    const h = await createHarness();
    const broken = sendWith(h, {
      store: failing(
        h.stores.send,
        'create',
        () => true,
        () => new Error('a bug (test)'),
      ),
    });
    expect((await broken(sendEvent('+14155550147', 'five-hundred'))).statusCode).toBe(500);
    expect(h.telephony.calls).toHaveLength(0);
    const retry = await h.send(sendEvent('+14155550147', 'five-hundred'));
    expect(retry.statusCode).toBe(202);
    expect(retry.headers?.['Idempotent-Replayed']).toBeUndefined();
    expect(h.telephony.calls).toHaveLength(1);
  });

  it('keeps the answer, and logs, when a refused send cannot free its key', async () => {
    const h = await createHarness({ PHONE_MIN_GAP_SECONDS: '30' });
    h.clock.now = noonTomorrow();
    const logged = vi.spyOn(h.depsFor('send').logger, 'error');
    expect((await h.send(sendEvent('+14155550148', 'first'))).statusCode).toBe(202);
    const send = sendWith(h, { store: failing(h.stores.send, 'releaseIdempotencyKey') });
    const refused = await send(sendEvent('+14155550148', 'second'));
    expect(refused.statusCode).toBe(429);
    expect(parse(refused)).toMatchObject({ error: { code: 'rate_limited' } });
    expect(logged).toHaveBeenCalledWith('Could not release an Idempotency-Key', { error: expect.any(Error) });
  });

  it("keeps a claim and a binding that the SDK wrote twice (a retry of a write that had landed) as this request's", async () => {
    const h = await createHarness();
    const claim = {
      key: 'IDEMPOTENCY#k#twice',
      claimId: 'claim-1',
      bodyHashes: ['b'],
      now: Date.now(),
      expiresAt: Date.now() + 60_000,
      staleBefore: Date.now() - 60_000,
    };
    expect(await h.stores.send.claimIdempotencyKey(claim)).toEqual({ claimed: true });
    expect(await h.stores.send.claimIdempotencyKey(claim)).toEqual({ claimed: true });
    expect((await h.stores.send.claimIdempotencyKey({ ...claim, claimId: 'claim-2' })).claimed).toBe(false);
    const bind = (claimId: string, verificationId: string) =>
      h.stores.send.bindIdempotencyKey(claim.key, claimId, verificationId);
    expect(await bind('claim-1', 'vrf_A')).toBe(true);
    expect(await bind('claim-1', 'vrf_A')).toBe(true);
    expect(await bind('claim-1', 'vrf_B')).toBe(false);
    expect(await bind('claim-2', 'vrf_A')).toBe(false);
  });
});

describe('Idempotency-Key, whatever the send answers', () => {
  const answer = (statusCode: number, headers: Record<string, string> = {}): HttpResult => ({
    statusCode,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ statusCode }),
  });

  /** Two sends under one key: the first answers `first` (after binding its verification when `bound`). */
  async function twice(h: Harness, first: HttpResult, options: { bound?: boolean } = {}) {
    let runs = 0;
    let replays = 0;
    const send = (result: HttpResult): IdempotentSend => ({
      run: async ({ bind }) => {
        runs++;
        if (options.bound) await bind('vrf_test');
        return result;
      },
      replay: async () => {
        replays++;
        return answer(202);
      },
    });
    const request = { apiKeyId: 'key-test-1', idempotencyKey: 'scripted', body: { phone: '+14155550149' } };
    const deps = h.depsFor('send');
    const response = await idempotent(deps, request, send(first));
    const again = await idempotent(deps, request, send(answer(202)));
    return { response, again, runs, replays };
  }

  it.each([
    ['a 429', answer(429)],
    ['a 503', answer(503)],
    ['any answer with Retry-After', answer(409, { 'retry-after': '5' })],
    ['a 500', answer(500)],
  ])('frees the key after %s given before the binding: the retry runs afresh', async (_name, first) => {
    const h = await createHarness();
    const { response, again, runs } = await twice(h, first);
    expect(response).toEqual(first);
    expect(runs).toBe(2);
    expect(again.headers?.['Idempotent-Replayed']).toBeUndefined();
  });

  it.each([
    ['a 400', answer(400)],
    ['a 202', answer(202)],
  ])('replays %s given before the binding', async (_name, first) => {
    const h = await createHarness();
    const { again, runs } = await twice(h, first);
    expect(runs).toBe(1);
    expect(again).toEqual({ ...first, headers: { ...first.headers, 'Idempotent-Replayed': 'true' } });
  });

  it('replays a 502 given after the binding: the call may be out', async () => {
    const h = await createHarness();
    const { again, runs, replays } = await twice(h, answer(502), { bound: true });
    expect([runs, replays]).toEqual([1, 0]);
    expect(again).toMatchObject({ statusCode: 502, headers: { 'Idempotent-Replayed': 'true' } });
  });

  it('answers from the verification after a transient answer given after the binding', async () => {
    const h = await createHarness();
    // A bound key is never freed (a call may be out), nor is a transient answer stored.
    const release = vi.spyOn(h.stores.send, 'releaseIdempotencyKey');
    const complete = vi.spyOn(h.stores.send, 'completeIdempotencyKey');
    const { again, runs, replays } = await twice(h, answer(503), { bound: true });
    expect(release).not.toHaveBeenCalled();
    expect(complete).not.toHaveBeenCalled();
    expect([runs, replays]).toEqual([1, 1]);
    expect(again).toMatchObject({ statusCode: 202, headers: { 'Idempotent-Replayed': 'true' } });
  });
});

describe("the request body's stored hash", () => {
  const body = { phone: '+14155550150' };
  const canonical = JSON.stringify(body);

  it('is keyed: an HMAC under the key ring, never a hash anyone could test phone numbers against', async () => {
    const h = await createHarness();
    expect((await h.send(sendEvent(body.phone, 'keyed'))).statusCode).toBe(202);
    const [record] = (await h.scan()).filter((item) => String(item.pk).startsWith('IDEMPOTENCY#'));
    const ring = parseKeyRing(h.keyRingSecret);
    expect(record?.bodyHash).toBe(bodyHash(ring.current, body));
    for (const algorithm of ['sha256', 'sha1', 'md5', 'sha512'])
      for (const encoding of ['base64url', 'base64', 'hex'] as const)
        expect(record?.bodyHash).not.toBe(createHash(algorithm).update(canonical).digest(encoding));
  });

  it('matches its retry after a key rotation, and still tells another body apart', async () => {
    const h = await createHarness();
    expect((await h.send(sendEvent(body.phone, 'across-rotation'))).statusCode).toBe(202);
    // Phase 1 of a rotation: k2 becomes current; the record was made under k1.
    const k1 = JSON.parse(h.keyRingSecret).k1 as string;
    const rotated: Secrets = {
      ...h.depsFor('send').secrets,
      keyRing: async () => parseKeyRing(JSON.stringify({ current: 'k2', k1, k2: 'r'.repeat(43) })),
    };
    const send = createSendHandler({ ...h.depsFor('send'), secrets: rotated, telephony: h.telephony });
    const retry = await send(sendEvent(body.phone, 'across-rotation'));
    expect(retry.statusCode).toBe(202);
    expect(retry.headers?.['Idempotent-Replayed']).toBe('true');
    const other = await send(sendEvent('+14155550151', 'across-rotation'));
    expect(other.statusCode).toBe(409);
    expect(parse(other).error).toMatchObject({ code: 'idempotency_key_reused' });
    expect(h.telephony.calls).toHaveLength(1);
  });
});
