import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlivoTelephony } from '#channels/plivo-calls.ts';
import { loadConfig } from '#platform/config.ts';
import { createSendHandler } from '../../functions/send.ts';
import { type CapturedRequest, captureServer } from '../support/capture-server.ts';
import { apiEvent, createHarness, type Harness } from '../support/harness.ts';

/** FROM_NUMBERS: calls and SMS come from the destination country's own number, else the default. */

const FROM_NUMBERS = JSON.stringify({ GB: '+447700900100', '*': '+14155550111' });
const US = '+14155550123';
const GB = '+447400123456';
/** A GB mobile Plivo refuses to call: its SMS fallback leaves from the GB number too. */
const GB_UNCALLABLE = '+447400123457';

let server: Awaited<ReturnType<typeof captureServer>>;
let h: Harness;
let send: ReturnType<typeof createSendHandler>;
beforeAll(async () => {
  server = await captureServer((request) =>
    request.path.endsWith('/Call/') && JSON.parse(request.body).to === GB_UNCALLABLE.slice(1)
      ? { status: 400, body: JSON.stringify({ api_id: 'a', error: 'refused' }) }
      : { status: 202, body: JSON.stringify({ api_id: 'a', request_uuid: 'r', message_uuid: ['m'] }) },
  );
  h = await createHarness({ FROM_NUMBERS });
  send = createSendHandler({
    ...h.depsFor('send'),
    telephony: createPlivoTelephony({
      ...h.config.plivo,
      apiUrl: server.url,
      credentials: async () => ({ authId: 'MATESTAUTHID', authToken: 'token' }),
    }),
  });
});
afterAll(() => server.close());

const sent = (request: CapturedRequest | undefined) => {
  const body = JSON.parse(request?.body ?? '{}') as Record<string, string>;
  return request?.path.endsWith('/Call/')
    ? { call: body.to, from: body.from }
    : { sms: body.dst, from: body.src };
};

describe('caller ID per destination country', () => {
  it.each([
    ['voice', US, { call: '14155550123', from: '14155550111' }],
    ['voice', GB, { call: '447400123456', from: '447700900100' }],
    ['sms', US, { sms: '14155550123', from: '14155550111' }],
    ['sms', GB, { sms: '447400123456', from: '447700900100' }],
  ])('%s to %s', async (channel, phone, expected) => {
    const response = await send(
      apiEvent({ method: 'POST', resource: '/v1/verifications', body: { phone, channel } }),
    );
    expect(response.statusCode).toBe(202);
    expect(sent(server.requests.at(-1))).toEqual(expected);
  });

  it('a fallback SMS leaves from the same country’s number', async () => {
    const response = await send(
      apiEvent({ method: 'POST', resource: '/v1/verifications', body: { phone: GB_UNCALLABLE } }),
    );
    expect(response.statusCode).toBe(202);
    expect(server.requests.slice(-2).map(sent)).toEqual([
      { call: '447400123457', from: '447700900100' },
      { sms: '447400123457', from: '447700900100' },
    ]);
  });
});

describe('a bad FROM_NUMBERS fails at start, naming the setting', () => {
  it.each([
    ['not JSON', '{"GB":', /FROM_NUMBERS: must be a JSON object/],
    ['an array', '["+447700900100"]', /FROM_NUMBERS: /],
    ['a lower-case country', '{"gb":"+447700900100"}', /FROM_NUMBERS.*ISO 3166 alpha-2/],
    ['a number not in E.164', '{"GB":"07700 900100"}', /FROM_NUMBERS\.GB: numbers must be E\.164/],
  ])('%s', (_name, value, message) => {
    expect(() => loadConfig({ PUBLIC_URL: 'https://otp.example.test', FROM_NUMBERS: value })).toThrow(
      message,
    );
  });

  it('without a map, every call comes from PLIVO_FROM_NUMBER', () => {
    const config = loadConfig({ PUBLIC_URL: 'https://otp.example.test', PLIVO_FROM_NUMBER: '+14155550122' });
    expect(config.plivo.fromNumbers).toEqual({ '*': '+14155550122' });
  });
});
