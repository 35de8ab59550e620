import { beforeAll, describe, expect, it } from 'vitest';
import {
  apiEvent,
  createHarness,
  type Harness,
  parse,
  startVerification,
  wrongCode,
} from '../support/harness.ts';

let h: Harness;
let pendingId: string;
/** Never the pending verification's code, so no case could pass by guessing it. */
let wrong: string;
beforeAll(async () => {
  h = await createHarness();
  const started = await startVerification(h);
  pendingId = started.id;
  wrong = wrongCode(started.code);
});

type Case = [name: string, event: () => ReturnType<typeof apiEvent>, status: number, code: string];

const send = (options: Partial<Parameters<typeof apiEvent>[0]>) =>
  apiEvent({ method: 'POST', resource: '/v1/verifications', ...options });
const checkWith = (options: Partial<Parameters<typeof apiEvent>[0]>) =>
  apiEvent({ method: 'POST', resource: '/v1/verifications/check', ...options });
const byId = (method: string, resource: string, id: string) =>
  apiEvent({ method, resource, path: resource.replace('{id}', id), pathParameters: { id } });

const sendCases: Case[] = [
  ['broken JSON', () => send({ rawBody: '{"phone": "+1415' }), 400, 'invalid_json'],
  ['empty body', () => send({ rawBody: '' }), 400, 'invalid_json'],
  ['JSON array', () => send({ body: ['+14155550123'] }), 400, 'invalid_request'],
  ['JSON null', () => send({ rawBody: 'null' }), 400, 'invalid_request'],
  ['JSON string', () => send({ body: '+14155550123' }), 400, 'invalid_request'],
  ['phone as a number', () => send({ body: { phone: 14155550123 } }), 400, 'invalid_request'],
  ['phone as an object', () => send({ body: { phone: { e164: '+14155550123' } } }), 400, 'invalid_request'],
  ['phone missing', () => send({ body: {} }), 400, 'invalid_request'],
  ['phone without plus', () => send({ body: { phone: '14155550123' } }), 400, 'invalid_phone'],
  ['phone with spaces', () => send({ body: { phone: '+1 415 555 0123' } }), 400, 'invalid_phone'],
  ['phone in Arabic-Indic digits', () => send({ body: { phone: '+١٤١٥٥٥٥٠١٢٣' } }), 400, 'invalid_phone'],
  ['phone not a real number', () => send({ body: { phone: '+447700900123' } }), 400, 'invalid_phone'],
  ['phone too long', () => send({ body: { phone: `+1${'5'.repeat(60)}` } }), 400, 'invalid_phone'],
  ['phone far too long', () => send({ body: { phone: `+1${'5'.repeat(5000)}` } }), 400, 'invalid_request'],
  ['unknown field', () => send({ body: { phone: '+14155550123', admin: true } }), 400, 'invalid_request'],
  [
    '__proto__ key',
    () => send({ rawBody: '{"phone":"+14155550123","__proto__":{"x":1}}' }),
    400,
    'invalid_request',
  ],
  [
    'duplicate key',
    () => send({ rawBody: '{"phone":"+14155550123","phone":"+14155550124"}' }),
    400,
    'invalid_request',
  ],
  [
    'unsupported locale',
    () => send({ body: { phone: '+14155550123', locale: 'xx-XX' } }),
    400,
    'unsupported_locale',
  ],
  ['locale as a number', () => send({ body: { phone: '+14155550123', locale: 7 } }), 400, 'invalid_request'],
  [
    '2 MB body',
    () => send({ rawBody: JSON.stringify({ phone: 'x'.repeat(2 * 1024 * 1024) }) }),
    413,
    'payload_too_large',
  ],
  [
    'text/plain body',
    () => send({ rawBody: '{"phone":"+14155550123"}', headers: { 'Content-Type': 'text/plain' } }),
    415,
    'unsupported_media_type',
  ],
  [
    'form body',
    () =>
      send({
        rawBody: 'phone=%2B14155550123',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      }),
    415,
    'unsupported_media_type',
  ],
  [
    'invalid UTF-8',
    () => ({
      ...send({ rawBody: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64') }),
      isBase64Encoded: true,
    }),
    400,
    'invalid_json',
  ],
  ['no API key', () => send({ body: { phone: '+14155550123' }, apiKeyId: null }), 401, 'unauthorized'],
  [
    'GET on the send route',
    () => apiEvent({ method: 'GET', resource: '/v1/verifications' }),
    405,
    'method_not_allowed',
  ],
];

const checkCases: Case[] = [
  [
    'id and phone',
    () => checkWith({ body: { id: pendingId, phone: '+14155550123', code: wrong } }),
    400,
    'invalid_request',
  ],
  ['neither id nor phone', () => checkWith({ body: { code: wrong } }), 400, 'invalid_request'],
  ['code missing', () => checkWith({ body: { id: pendingId } }), 400, 'invalid_request'],
  ['code as a number', () => checkWith({ body: { id: pendingId, code: 123456 } }), 400, 'invalid_request'],
  [
    'code as an array',
    () => checkWith({ body: { id: pendingId, code: ['1', '2'] } }),
    400,
    'invalid_request',
  ],
  [
    'code in Arabic-Indic digits',
    () => checkWith({ body: { id: pendingId, code: '١٢٣٤٥٦' } }),
    400,
    'invalid_code',
  ],
  [
    'code in full-width digits',
    () => checkWith({ body: { id: pendingId, code: '１２３４５６' } }),
    400,
    'invalid_code',
  ],
  ['code too short', () => checkWith({ body: { id: pendingId, code: '123' } }), 400, 'invalid_code'],
  ['code too long', () => checkWith({ body: { id: pendingId, code: '12345678901' } }), 400, 'invalid_code'],
  ['code with letters', () => checkWith({ body: { id: pendingId, code: '12a456' } }), 400, 'invalid_code'],
  ['code with a tab', () => checkWith({ body: { id: pendingId, code: '123\t456' } }), 400, 'invalid_code'],
  ['code empty', () => checkWith({ body: { id: pendingId, code: '' } }), 400, 'invalid_code'],
  ['malformed id', () => checkWith({ body: { id: 'vrf_123', code: wrong } }), 400, 'invalid_request'],
  [
    'lower-case id',
    () => checkWith({ body: { id: pendingId.toLowerCase(), code: wrong } }),
    400,
    'invalid_request',
  ],
  [
    'very long id',
    () => checkWith({ body: { id: `vrf_${'A'.repeat(10_000)}`, code: wrong } }),
    400,
    'invalid_request',
  ],
  [
    'phone not E.164',
    () => checkWith({ body: { phone: '(415) 555-0123', code: wrong } }),
    400,
    'invalid_phone',
  ],
  [
    'nested object body',
    () => checkWith({ body: { id: { $ne: null }, code: wrong } }),
    400,
    'invalid_request',
  ],
  [
    'no API key',
    () => checkWith({ body: { id: pendingId, code: wrong }, apiKeyId: null }),
    401,
    'unauthorized',
  ],
  [
    'GET on check',
    () => apiEvent({ method: 'GET', resource: '/v1/verifications/check' }),
    405,
    'method_not_allowed',
  ],
];

const idRouteCases: Case[] = [
  [
    'status of a malformed id',
    () => byId('GET', '/v1/verifications/{id}', 'vrf_nope'),
    400,
    'invalid_request',
  ],
  [
    'status of a 10 kB id',
    () => byId('GET', '/v1/verifications/{id}', `vrf_${'0'.repeat(10_000)}`),
    400,
    'invalid_request',
  ],
  [
    'cancel of a malformed id',
    () => byId('POST', '/v1/verifications/{id}/cancel', "' OR 1=1 --"),
    400,
    'invalid_request',
  ],
  [
    'DELETE a verification',
    () => byId('DELETE', '/v1/verifications/{id}', pendingId),
    405,
    'method_not_allowed',
  ],
  ['unknown route', () => apiEvent({ method: 'GET', resource: '/v1/admin' }), 404, 'route_not_found'],
];

describe.each([
  ['send', sendCases, () => h.send],
  ['verify', [...checkCases, ...idRouteCases], () => h.verify],
] as const)('%s refuses malformed requests', (_name, cases, handler) => {
  it.each(cases)('%s → %i %s, nothing written', async (_case, event, statusCode, code) => {
    const before = await h.scan();
    const callsBefore = h.telephony.calls.length;
    const response = await handler()(event());
    expect(response.statusCode).toBe(statusCode);
    const body = parse(response);
    expect(body).toEqual({ error: { code, message: expect.any(String) } });
    expect((body.error as { message: string }).message.length).toBeGreaterThan(10);
    expect(response.headers?.['Content-Type']).toBe('application/json; charset=utf-8');
    expect(await h.scan()).toEqual(before);
    expect(h.telephony.calls.length).toBe(callsBefore);
  });
});

it('has at least 25 cases', () => {
  expect(sendCases.length + checkCases.length + idRouteCases.length).toBeGreaterThanOrEqual(25);
});
