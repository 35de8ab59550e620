import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { plivoSignatureValid } from '#channels/plivo-signature.ts';
import { PhoneSimulator } from '../../local/simulator.ts';
import { captureServer } from '../support/capture-server.ts';

const AUTH_ID = 'MASIMULATORTEST00000';
const AUTH_TOKEN = 'simulator-test-token';

it('asks the fallback_url, signed, once the answer_url failed three times, like Plivo', async () => {
  const server = await captureServer((request) => {
    if (request.path.includes('s=fallback'))
      return { status: 200, body: '<Response><Speak>From the fallback.</Speak><Hangup/></Response>' };
    if (request.path.startsWith('/answer')) return { status: 503, body: '{}' };
    return { status: 200, body: '<Response/>' };
  });
  const lines: string[] = [];
  const simulator = new PhoneSimulator({
    authId: AUTH_ID,
    authToken: AUTH_TOKEN,
    speed: 1000,
    log: (line) => lines.push(line),
  });
  try {
    const answerUrl = `${server.url}/answer?v=vrf_1`;
    const fallbackUrl = `${server.url}/answer?v=vrf_1&s=fallback`;
    const reply = await simulator.createCall(
      `Basic ${Buffer.from(`${AUTH_ID}:${AUTH_TOKEN}`).toString('base64')}`,
      AUTH_ID,
      JSON.stringify({
        from: '14155550100',
        to: '14155550150',
        answer_url: answerUrl,
        fallback_url: fallbackUrl,
        fallback_method: 'POST',
        hangup_url: `${server.url}/hangup`,
      }),
    );
    expect(reply.status).toBe(201);
    for (let i = 0; i < 500 && !server.requests.some((r) => r.path === '/hangup'); i++) await sleep(10);

    expect(server.requests.map((r) => r.path)).toEqual([
      '/answer?v=vrf_1',
      '/answer?v=vrf_1',
      '/answer?v=vrf_1',
      '/answer?v=vrf_1&s=fallback',
      '/hangup',
    ]);
    const fallback = server.requests[3];
    expect(
      plivoSignatureValid({
        url: fallbackUrl,
        bodyParams: [...new URLSearchParams(fallback?.body)],
        nonce: String(fallback?.headers['x-plivo-signature-v3-nonce']),
        signatures: [String(fallback?.headers['x-plivo-signature-v3'])],
        authToken: AUTH_TOKEN,
      }),
    ).toBe(true);
    expect(simulator.calls()[0]).toMatchObject({ status: 'completed', transcript: 'From the fallback.' });
  } finally {
    await simulator.stop();
    await server.close();
  }
});

it("ends a live call through Plivo's Call API (DELETE) as canceled: nothing more is heard", async () => {
  // The answer speaks a first sentence, then waits long: the hang-up lands during the wait.
  const server = await captureServer((request) =>
    request.path.startsWith('/answer')
      ? {
          status: 200,
          body: '<Response><Speak>First words.</Speak><Wait length="100"/><Speak>Your code is 1 2 3.</Speak></Response>',
        }
      : { status: 200, body: '<Response/>' },
  );
  const simulator = new PhoneSimulator({ authId: AUTH_ID, authToken: AUTH_TOKEN, speed: 100, log: () => {} });
  const auth = `Basic ${Buffer.from(`${AUTH_ID}:${AUTH_TOKEN}`).toString('base64')}`;
  try {
    const reply = await simulator.createCall(
      auth,
      AUTH_ID,
      JSON.stringify({
        from: '14155550100',
        to: '14155550150',
        answer_url: `${server.url}/answer`,
        hangup_url: `${server.url}/hangup`,
      }),
    );
    const requestUuid = (reply.body as { request_uuid: string }).request_uuid;
    for (let i = 0; i < 500 && !simulator.calls()[0]?.transcript; i++) await sleep(10);
    // The call's own id, as the answer webhook received it: never the request's (Plivo's docs give two).
    const answer = server.requests.find((r) => r.path.startsWith('/answer'));
    const callUuid = new URLSearchParams(answer?.body).get('CallUUID') ?? '';
    expect(new URLSearchParams(answer?.body).get('RequestUUID')).toBe(requestUuid);
    expect(new URLSearchParams(answer?.body).get('ALegRequestUUID')).toBe(requestUuid);
    expect(callUuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(callUuid).not.toBe(requestUuid);
    expect(simulator.calls()[0]?.id).toBe(callUuid);
    // Live: listed under its caller ID, and described with its request_uuid.
    const live = new URLSearchParams({
      status: 'live',
      call_direction: 'outbound',
      from_number: '14155550100',
    });
    expect(simulator.liveCalls(auth, AUTH_ID, live).body).toMatchObject({ calls: [callUuid] });
    expect(
      simulator.liveCalls(auth, AUTH_ID, new URLSearchParams({ status: 'live', from_number: '1415555019' }))
        .body,
    ).toMatchObject({ calls: [] });
    expect(
      simulator.liveCall(auth, AUTH_ID, callUuid, new URLSearchParams({ status: 'live' })).body,
    ).toMatchObject({
      call_uuid: callUuid,
      request_uuid: requestUuid,
      call_status: 'in-progress',
    });
    expect(
      simulator.liveCall(auth, AUTH_ID, requestUuid, new URLSearchParams({ status: 'live' })).status,
    ).toBe(404);
    // Answered: the call request is gone (404); the live call is not known by the request's id (404), and is
    // hung up by its own; wrong credentials are refused.
    expect((await simulator.hangUp(auth, AUTH_ID, 'Request', requestUuid)).status).toBe(404);
    expect((await simulator.hangUp(auth, AUTH_ID, 'Call', requestUuid)).status).toBe(404);
    expect((await simulator.hangUp('Basic eDp5', AUTH_ID, 'Call', callUuid)).status).toBe(401);
    expect((await simulator.hangUp(auth, AUTH_ID, 'Call', callUuid)).status).toBe(204);
    expect((await simulator.hangUp(auth, AUTH_ID, 'Call', callUuid)).status).toBe(404);
    expect(simulator.liveCalls(auth, AUTH_ID, live).body).toMatchObject({ calls: [] });
    // Past the end of the wait, when the code would have been spoken.
    await sleep(1_500);
    expect(simulator.calls()[0]).toMatchObject({ status: 'canceled', transcript: 'First words.' });
    const hangup = server.requests.find((r) => r.path === '/hangup');
    expect(new URLSearchParams(hangup?.body).get('CallStatus')).toBe('canceled');
    expect(server.requests.filter((r) => r.path === '/hangup')).toHaveLength(1);
  } finally {
    await simulator.stop();
    await server.close();
  }
});
