import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createPlivoTelephony,
  type PlivoCallsOptions,
  type PlivoErrorDetail,
} from '#channels/plivo-calls.ts';
import type { CallRequest } from '#channels/telephony.ts';
import { attemptDelivery } from '#events/webhook-delivery.ts';
import { MAX_RESPONSE_CHARS, sendRequest } from '#platform/http-client.ts';
import { outcomeEvent } from '../support/events.ts';
import { apiEvent, createHarness, type Harness } from '../support/harness.ts';

/**
 * The one outbound HTTP client (lib/platform/http-client.ts) as Plivo's requests and webhook deliveries use it: a
 * timeout and a network failure are told apart, a status once in stands whatever becomes of the body, warm
 * requests reuse their connection, bodies go with a Content-Length, and a long answer is cut.
 */

interface Listener {
  url: string;
  /** TCP connections accepted. */
  connections: number;
  requests: Array<{ headers: IncomingMessage['headers']; body: string }>;
}

const servers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((close) => close()));
});

/** A loopback server that answers each request with `answer` (which may leave it unfinished). */
async function listener(answer: (response: ServerResponse) => void): Promise<Listener> {
  const seen: Listener = { url: '', connections: 0, requests: [] };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      seen.requests.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      answer(response);
    });
  });
  server.on('connection', () => {
    seen.connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  seen.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return seen;
}

/** A port nothing listens on any more. */
async function closedUrl() {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

const call: CallRequest = {
  verificationId: 'vrf_0123456789ABCDEFGHJKMNPQRS',
  to: '+14155550123',
  country: 'US',
  answerUrl: 'https://otp.example.com/prod/v1/plivo/answer?v=vrf_0123456789ABCDEFGHJKMNPQRS&t=k1.sealed',
  fallbackUrl: 'https://otp.example.com/prod/v1/plivo/answer?v=vrf_0123456789ABCDEFGHJKMNPQRS&s=fallback',
  hangupUrl: 'https://otp.example.com/prod/v1/plivo/hangup?v=vrf_0123456789ABCDEFGHJKMNPQRS',
};

function plivo(apiUrl: string, reported: Array<[PlivoErrorDetail, string]>, timeoutMs = 1000) {
  const options: PlivoCallsOptions = {
    apiUrl,
    fromNumbers: { '*': '+14155550100' },
    timeoutMs,
    ringTimeoutSeconds: 30,
    timeLimitSeconds: 120,
    credentials: async () => ({ authId: 'MAXXXXXXXXXXXXXXXXXX', authToken: 'ZmFrZS10b2tlbg' }),
    onError: (detail, api) => reported.push([detail, api]),
  };
  return createPlivoTelephony(options);
}

const fired = JSON.stringify({ message: 'call fired', request_uuid: 'req-1', api_id: 'api-1' });

describe("Plivo's requests", () => {
  it('report a timeout and an unreachable API apart (both 502 telephony_unavailable)', async () => {
    const silent = await listener(() => undefined);
    const reported: Array<[PlivoErrorDetail, string]> = [];
    await expect(plivo(silent.url, reported, 200).placeCall(call)).rejects.toMatchObject({
      code: 'telephony_unavailable',
    });
    await expect(
      plivo(await closedUrl(), reported).endCall({ requestId: 'req-1', country: 'US' }),
    ).rejects.toMatchObject({
      code: 'telephony_unavailable',
    });
    expect(reported).toEqual([
      [{ reason: 'timeout' }, 'Call'],
      [{ reason: 'network' }, 'Hangup'],
    ]);
  });

  it('a call Plivo accepted stays placed when its answer body never ends (a retry would pay twice)', async () => {
    const stalling = await listener((response) => {
      response.writeHead(201, { 'Content-Type': 'application/json' });
      response.write('{"message":"call fired","request_uu');
    });
    const reported: Array<[PlivoErrorDetail, string]> = [];
    await expect(plivo(stalling.url, reported, 300).placeCall(call)).resolves.toEqual({
      requestId: 'unknown',
    });
    expect(reported).toEqual([[{ status: 201, reason: 'unreadable_success' }, 'Call']]);
  });

  it('reuse one connection from request to request, and send their bodies with a Content-Length', async () => {
    const server = await listener((response) => {
      response.writeHead(201, { 'Content-Type': 'application/json' }).end(fired);
    });
    const telephony = plivo(server.url, []);
    for (let i = 0; i < 3; i++) expect(await telephony.placeCall(call)).toEqual({ requestId: 'req-1' });
    expect(server.requests).toHaveLength(3);
    expect(server.connections).toBe(1);
    for (const { headers, body } of server.requests) {
      expect(headers['content-length']).toBe(String(Buffer.byteLength(body)));
      expect(headers['transfer-encoding']).toBeUndefined();
    }
  });
});

describe('webhook delivery attempts', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ WEBHOOK_ALLOW_LOCALHOST: 'true' });
  });

  async function attemptTo(url: string, timeoutMs: number) {
    const response = await h.verify(
      apiEvent({ method: 'PUT', resource: '/v1/webhook', body: { url, events: ['verification.approved'] } }),
    );
    expect(response.statusCode).toBe(200);
    return attemptDelivery(
      { ...h.depsFor('deliver'), timeoutMs },
      outcomeEvent({ id: 'evt_00000000000000000000000001', now: h.clock.now }),
    );
  }

  it('fail as a timeout or as the network, told apart', async () => {
    const silent = await listener(() => undefined);
    expect(await attemptTo(silent.url, 200)).toEqual({ result: 'failed', reason: 'timeout' });
    expect(await attemptTo(await closedUrl(), 1000)).toEqual({ result: 'failed', reason: 'network' });
  });
});

describe('a request that times out', () => {
  it('closes its connection: a silent server does not keep sockets of ours open', async () => {
    let closed!: () => void;
    const socketClosed = new Promise<void>((resolve) => {
      closed = resolve;
    });
    const server = createServer(() => undefined);
    server.on('connection', (socket) => socket.on('close', () => closed()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await expect(
      sendRequest({ method: 'POST', url, headers: {}, body: '{}', timeoutMs: 100 }),
    ).rejects.toMatchObject({
      name: 'RequestTimedOut',
    });
    // Without the destroy the socket would stay open until the server's own timeout (minutes).
    await socketClosed;
  });
});

describe('an answer', () => {
  it('is kept to its first MAX_RESPONSE_CHARS, the rest read and dropped', async () => {
    const chatty = await listener((response) => {
      response.writeHead(200).end('x'.repeat(4 * MAX_RESPONSE_CHARS));
    });
    const answer = await sendRequest({
      method: 'POST',
      url: new URL(chatty.url),
      headers: {},
      timeoutMs: 2000,
    });
    expect(answer).toEqual({ status: 200, text: 'x'.repeat(MAX_RESPONSE_CHARS) });
  });
});
