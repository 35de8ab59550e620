import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { plivoSignatureValid } from '../../lib/plivo-signature.ts';
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
