import { apiEvent } from './events.ts';

/**
 * The bad-input corpus: malformed requests to the app routes with the status and code each must get. The
 * functions are held to it (integration/bad-input) and so is API Gateway in front of them
 * (integration/gateway-parity), so a request is answered the same locally and on AWS.
 */

/** A malformed request, as the gateway hands it to the function, and the answer the contract promises. */
export type Case = [
  name: string,
  /** `wrong`: never the pending verification's code, so no case could pass by guessing it. */
  event: (pendingId: string, wrong: string) => ReturnType<typeof apiEvent>,
  status: number,
  code: string,
];

const send = (options: Partial<Parameters<typeof apiEvent>[0]>) =>
  apiEvent({ method: 'POST', resource: '/v1/verifications', ...options });
const checkWith = (options: Partial<Parameters<typeof apiEvent>[0]>) =>
  apiEvent({ method: 'POST', resource: '/v1/verifications/check', ...options });
const byId = (method: string, resource: string, id: string) =>
  apiEvent({ method, resource, path: resource.replace('{id}', id), pathParameters: { id } });

export const sendCases: Case[] = [
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
  // The channel, its fallback and Android's SMS Retriever hash.
  [
    'unknown channel',
    () => send({ body: { phone: '+14155550123', channel: 'email' } }),
    400,
    'invalid_request',
  ],
  [
    'channel in capitals',
    () => send({ body: { phone: '+14155550123', channel: 'SMS' } }),
    400,
    'invalid_request',
  ],
  [
    'channel as a number',
    () => send({ body: { phone: '+14155550123', channel: 1 } }),
    400,
    'invalid_request',
  ],
  ['channel null', () => send({ body: { phone: '+14155550123', channel: null } }), 400, 'invalid_request'],
  [
    'fallback as a string',
    () => send({ body: { phone: '+14155550123', fallback: 'true' } }),
    400,
    'invalid_request',
  ],
  [
    'fallback as a number',
    () => send({ body: { phone: '+14155550123', fallback: 1 } }),
    400,
    'invalid_request',
  ],
  [
    'appHash of 10 characters',
    () => send({ body: { phone: '+14155550123', channel: 'sms', appHash: 'FA+9qCX9VS' } }),
    400,
    'invalid_request',
  ],
  [
    'appHash of 12 characters',
    () => send({ body: { phone: '+14155550123', channel: 'sms', appHash: 'FA+9qCX9VSuu' } }),
    400,
    'invalid_request',
  ],
  [
    'appHash with a character outside base64',
    () => send({ body: { phone: '+14155550123', channel: 'sms', appHash: 'FA-9qCX9VSu' } }),
    400,
    'invalid_request',
  ],
  [
    'appHash with a line break',
    () => send({ body: { phone: '+14155550123', channel: 'sms', appHash: 'FA+9qCX9VS\n' } }),
    400,
    'invalid_request',
  ],
  [
    'appHash as a number',
    () => send({ body: { phone: '+14155550123', channel: 'sms', appHash: 12345678901 } }),
    400,
    'invalid_request',
  ],
  [
    'SMS to a fixed line',
    () => send({ body: { phone: '+442079460123', channel: 'sms' } }),
    400,
    'unsupported_number_type',
  ],
  [
    '2 MB body',
    () => send({ rawBody: JSON.stringify({ phone: 'x'.repeat(2 * 1024 * 1024) }) }),
    413,
    'payload_too_large',
  ],
  [
    '20 kB body of unknown fields',
    () => send({ body: { phone: '+14155550123', padding: 'x'.repeat(20_000) } }),
    413,
    'payload_too_large',
  ],
  [
    'JSON in another charset',
    () =>
      send({
        body: { phone: '+14155550123' },
        headers: { 'Content-Type': 'application/json; charset=latin1' },
      }),
    415,
    'unsupported_media_type',
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
  ['no API key', () => send({ body: { phone: '+14155550123' }, apiKeyId: null }), 403, 'forbidden'],
  [
    'GET on the send route',
    () => apiEvent({ method: 'GET', resource: '/v1/verifications' }),
    405,
    'method_not_allowed',
  ],
];

export const checkCases: Case[] = [
  [
    'id and phone',
    (pendingId, wrong) => checkWith({ body: { id: pendingId, phone: '+14155550123', code: wrong } }),
    400,
    'invalid_request',
  ],
  ['neither id nor phone', (_, wrong) => checkWith({ body: { code: wrong } }), 400, 'invalid_request'],
  ['code missing', (pendingId) => checkWith({ body: { id: pendingId } }), 400, 'invalid_request'],
  [
    'code as a number',
    (pendingId) => checkWith({ body: { id: pendingId, code: 123456 } }),
    400,
    'invalid_request',
  ],
  [
    'code as an array',
    (pendingId) => checkWith({ body: { id: pendingId, code: ['1', '2'] } }),
    400,
    'invalid_request',
  ],
  [
    'code in Arabic-Indic digits',
    (pendingId) => checkWith({ body: { id: pendingId, code: '١٢٣٤٥٦' } }),
    400,
    'invalid_code',
  ],
  [
    'code in full-width digits',
    (pendingId) => checkWith({ body: { id: pendingId, code: '１２３４５６' } }),
    400,
    'invalid_code',
  ],
  [
    '17 kB code',
    (pendingId) => checkWith({ body: { id: pendingId, code: '1'.repeat(17_000) } }),
    413,
    'payload_too_large',
  ],
  ['code too short', (pendingId) => checkWith({ body: { id: pendingId, code: '123' } }), 400, 'invalid_code'],
  [
    'code too long',
    (pendingId) => checkWith({ body: { id: pendingId, code: '12345678901' } }),
    400,
    'invalid_code',
  ],
  [
    'code with letters',
    (pendingId) => checkWith({ body: { id: pendingId, code: '12a456' } }),
    400,
    'invalid_code',
  ],
  [
    'code with a tab',
    (pendingId) => checkWith({ body: { id: pendingId, code: '123\t456' } }),
    400,
    'invalid_code',
  ],
  ['code empty', (pendingId) => checkWith({ body: { id: pendingId, code: '' } }), 400, 'invalid_code'],
  ['malformed id', (_, wrong) => checkWith({ body: { id: 'vrf_123', code: wrong } }), 400, 'invalid_request'],
  [
    'lower-case id',
    (pendingId, wrong) => checkWith({ body: { id: pendingId.toLowerCase(), code: wrong } }),
    400,
    'invalid_request',
  ],
  [
    'very long id',
    (_, wrong) => checkWith({ body: { id: `vrf_${'A'.repeat(10_000)}`, code: wrong } }),
    400,
    'invalid_request',
  ],
  [
    'phone not E.164',
    (_, wrong) => checkWith({ body: { phone: '(415) 555-0123', code: wrong } }),
    400,
    'invalid_phone',
  ],
  [
    'nested object body',
    (_, wrong) => checkWith({ body: { id: { $ne: null }, code: wrong } }),
    400,
    'invalid_request',
  ],
  [
    'no API key',
    (pendingId, wrong) => checkWith({ body: { id: pendingId, code: wrong }, apiKeyId: null }),
    403,
    'forbidden',
  ],
  [
    'GET on check',
    () => apiEvent({ method: 'GET', resource: '/v1/verifications/check' }),
    405,
    'method_not_allowed',
  ],
];

export const idRouteCases: Case[] = [
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
    (pendingId) => byId('DELETE', '/v1/verifications/{id}', pendingId),
    405,
    'method_not_allowed',
  ],
  ['unknown route', () => apiEvent({ method: 'GET', resource: '/v1/admin' }), 404, 'route_not_found'],
];

const putWebhook = (body: unknown, options: Partial<Parameters<typeof apiEvent>[0]> = {}) =>
  apiEvent({ method: 'PUT', resource: '/v1/webhook', body, ...options });
const hook = (url: string) => putWebhook({ url, events: ['verification.approved'] });

/** Every URL rule (lib/events/webhook-url.ts): each is refused with 400 invalid_webhook_url. */
export const webhookUrlCases: Array<[name: string, url: string]> = [
  ['http', 'http://hooks.example.com/voice-otp'],
  ['ftp', 'ftp://hooks.example.com/voice-otp'],
  ['a relative URL', '/voice-otp/hooks'],
  ['not a URL', 'hooks dot example dot com'],
  ['credentials in it', 'https://user:pass@hooks.example.com/voice-otp'],
  ['a user name in it', 'https://user@hooks.example.com/voice-otp'],
  ['loopback', 'https://127.0.0.1/hook'],
  ['loopback elsewhere in 127/8', 'https://127.8.9.10/hook'],
  ['loopback in decimal', 'https://2130706433/hook'],
  ['loopback in octal', 'https://0177.0.0.1/hook'],
  ['loopback in hex', 'https://0x7f.0.0.1/hook'],
  ['loopback shortened', 'https://127.1/hook'],
  ['localhost', 'https://localhost/hook'],
  ['localhost with a root dot', 'https://localhost./hook'],
  ['a name under localhost', 'https://app.localhost/hook'],
  ['the unspecified address', 'https://0.0.0.0/hook'],
  ['private 10/8', 'https://10.0.0.5/hook'],
  ['private 172.16/12', 'https://172.31.255.1/hook'],
  ['private 192.168/16', 'https://192.168.1.1/hook'],
  ['shared address space (CGNAT)', 'https://100.64.0.1/hook'],
  ['link-local', 'https://169.254.10.10/hook'],
  ['the cloud metadata address', 'https://169.254.169.254/latest/meta-data/'],
  ['the metadata address in decimal', 'https://2852039166/latest/meta-data/'],
  ['multicast', 'https://224.0.0.1/hook'],
  ['broadcast', 'https://255.255.255.255/hook'],
  ['a documentation address', 'https://192.0.2.10/hook'],
  ['IPv6 loopback', 'https://[::1]/hook'],
  ['IPv6 unspecified', 'https://[::]/hook'],
  ['IPv6 link-local', 'https://[fe80::1]/hook'],
  ['IPv6 unique-local', 'https://[fd12:3456::1]/hook'],
  ["AWS's IPv6 metadata address", 'https://[fd00:ec2::254]/latest/meta-data/'],
  ['IPv4-mapped IPv6 loopback', 'https://[::ffff:127.0.0.1]/hook'],
  ['IPv4-mapped IPv6 metadata', 'https://[::ffff:169.254.169.254]/hook'],
  ['IPv4-mapped IPv6 of a public address', 'https://[::ffff:8.8.8.8]/hook'],
  ['IPv4-translated IPv6 (RFC 2765) of loopback', 'https://[::ffff:0:127.0.0.1]/hook'],
  ['IPv4-translated IPv6 (RFC 2765) of a public address', 'https://[::ffff:0:8.8.8.8]/hook'],
  ['NAT64 of loopback', 'https://[64:ff9b::7f00:1]/hook'],
  ['6to4 of a private address', 'https://[2002:c0a8:101::1]/hook'],
  ['IPv6 multicast', 'https://[ff02::1]/hook'],
  ['a single-label host', 'https://intranet/hook'],
  ['a .internal host', 'https://metadata.google.internal/computeMetadata/v1/'],
  ['a .local host', 'https://printer.local/hook'],
  ['a home.arpa host', 'https://router.home.arpa/hook'],
  ['http to 127.0.0.1 (local stack only)', 'http://127.0.0.1:8080/hook'],
  ['http to localhost (local stack only)', 'http://localhost:8080/hook'],
  ['longer than 2,048 characters', `https://hooks.example.com/${'a'.repeat(2100)}`],
];

export const webhookCases: Case[] = [
  ...webhookUrlCases.map(
    ([name, url]): Case => [`webhook URL: ${name}`, () => hook(url), 400, 'invalid_webhook_url'],
  ),
  ['webhook: url missing', () => putWebhook({ events: ['verification.approved'] }), 400, 'invalid_request'],
  [
    'webhook: url as a number',
    () => putWebhook({ url: 443, events: ['verification.approved'] }),
    400,
    'invalid_request',
  ],
  [
    'webhook: events missing',
    () => putWebhook({ url: 'https://hooks.example.com/a' }),
    400,
    'invalid_request',
  ],
  [
    'webhook: events empty',
    () => putWebhook({ url: 'https://hooks.example.com/a', events: [] }),
    400,
    'invalid_request',
  ],
  [
    'webhook: an unknown event type',
    () => putWebhook({ url: 'https://hooks.example.com/a', events: ['verification.approved', 'code.sent'] }),
    400,
    'invalid_request',
  ],
  [
    'webhook: an event type in capitals',
    () => putWebhook({ url: 'https://hooks.example.com/a', events: ['VERIFICATION.APPROVED'] }),
    400,
    'invalid_request',
  ],
  [
    'webhook: an event type twice',
    () => putWebhook({ url: 'https://hooks.example.com/a', events: ['call.ended', 'call.ended'] }),
    400,
    'invalid_request',
  ],
  [
    'webhook: events as a string',
    () => putWebhook({ url: 'https://hooks.example.com/a', events: 'verification.approved' }),
    400,
    'invalid_request',
  ],
  [
    'webhook: a secret given by the client',
    () => putWebhook({ url: 'https://hooks.example.com/a', events: ['call.ended'], secret: 'whsec_AAAA' }),
    400,
    'invalid_request',
  ],
  [
    'webhook: broken JSON',
    () => putWebhook(undefined, { rawBody: '{"url": "https://' }),
    400,
    'invalid_json',
  ],
  ['webhook: JSON array', () => putWebhook(['https://hooks.example.com/a']), 400, 'invalid_request'],
  [
    'webhook: form body',
    () =>
      putWebhook(undefined, {
        rawBody: 'url=https%3A%2F%2Fhooks.example.com',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      }),
    415,
    'unsupported_media_type',
  ],
  [
    'webhook: 20 kB body',
    () => putWebhook({ url: `https://hooks.example.com/${'a'.repeat(20_000)}`, events: ['call.ended'] }),
    413,
    'payload_too_large',
  ],
  [
    'webhook: no API key',
    () => putWebhook({ url: 'https://hooks.example.com/a', events: ['call.ended'] }, { apiKeyId: null }),
    403,
    'forbidden',
  ],
  [
    'webhook: POST',
    () => apiEvent({ method: 'POST', resource: '/v1/webhook', body: {} }),
    405,
    'method_not_allowed',
  ],
];

const erase = (options: Partial<Parameters<typeof apiEvent>[0]>) =>
  apiEvent({ method: 'POST', resource: '/v1/phones/erase', ...options });

/** Erasure ("forget my number"): a malformed request erases nothing. */
export const eraseCases: Case[] = [
  ['erase: broken JSON', () => erase({ rawBody: '{"phone": "+1415' }), 400, 'invalid_json'],
  ['erase: empty body', () => erase({ rawBody: '' }), 400, 'invalid_json'],
  ['erase: JSON array', () => erase({ body: ['+14155550123'] }), 400, 'invalid_request'],
  ['erase: phone missing', () => erase({ body: {} }), 400, 'invalid_request'],
  ['erase: phone as a number', () => erase({ body: { phone: 14155550123 } }), 400, 'invalid_request'],
  ['erase: phone without plus', () => erase({ body: { phone: '14155550123' } }), 400, 'invalid_phone'],
  ['erase: phone with spaces', () => erase({ body: { phone: '+1 415 555 0123' } }), 400, 'invalid_phone'],
  [
    'erase: phone far too long',
    () => erase({ body: { phone: `+1${'5'.repeat(5000)}` } }),
    400,
    'invalid_request',
  ],
  [
    'erase: unknown field',
    () => erase({ body: { phone: '+14155550123', all: true } }),
    400,
    'invalid_request',
  ],
  ['erase: an id instead', (pendingId) => erase({ body: { id: pendingId } }), 400, 'invalid_request'],
  ['erase: GET', () => apiEvent({ method: 'GET', resource: '/v1/phones/erase' }), 405, 'method_not_allowed'],
];

const usage = (
  query: Record<string, string> | undefined,
  options: Partial<Parameters<typeof apiEvent>[0]> = {},
) => apiEvent({ method: 'GET', resource: '/v1/usage', ...(query && { query }), ...options });

/** The usage route: a bad range or parameter is a 400 that reads nothing it could leak. */
export const usageCases: Case[] = [
  ['usage: from after to', () => usage({ from: '2026-11-30', to: '2026-11-01' }), 400, 'invalid_request'],
  ['usage: 91 days', () => usage({ from: '2026-01-01', to: '2026-04-01' }), 400, 'invalid_request'],
  ['usage: not a real day', () => usage({ from: '2026-02-30', to: '2026-03-01' }), 400, 'invalid_request'],
  ['usage: a time, not a day', () => usage({ to: '2026-11-30T00:00:00Z' }), 400, 'invalid_request'],
  ['usage: unknown parameter', () => usage({ tenant: 'someone-else' }), 400, 'invalid_request'],
  [
    'usage: a parameter twice',
    () => usage(undefined, { multiQuery: { from: ['2026-11-01', '2026-11-02'] } }),
    400,
    'invalid_request',
  ],
  ['usage: no API key', () => usage(undefined, { apiKeyId: null }), 403, 'forbidden'],
  [
    'usage: POST',
    () => apiEvent({ method: 'POST', resource: '/v1/usage', body: {} }),
    405,
    'method_not_allowed',
  ],
];
