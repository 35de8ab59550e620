import nock from 'nock';
import plivo from 'plivo';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createPlivoTelephony,
  LIVE_CALLS_INSPECTED,
  type PlivoCallsOptions,
  type PlivoErrorDetail,
} from '#channels/plivo-calls.ts';
import type { CallRequest, MessageRequest, WhatsAppRequest } from '#channels/telephony.ts';
import { captureServer } from '../support/capture-server.ts';
import { apiEvent, check, createHarness, parse, startVerification, status } from '../support/harness.ts';

const AUTH_ID = 'MAXXXXXXXXXXXXXXXXXX';
const AUTH_TOKEN = 'ZmFrZS10b2tlbi1mb3ItdGVzdHM';
const request: CallRequest = {
  verificationId: 'vrf_0123456789ABCDEFGHJKMNPQRS',
  to: '+14155550123',
  country: 'US',
  answerUrl: 'https://otp.example.com/prod/v1/plivo/answer?v=vrf_0123456789ABCDEFGHJKMNPQRS&t=k1.sealed',
  fallbackUrl:
    'https://otp.example.com/prod/v1/plivo/answer?v=vrf_0123456789ABCDEFGHJKMNPQRS&t=k1.sealed&s=fallback',
  hangupUrl: 'https://otp.example.com/prod/v1/plivo/hangup?v=vrf_0123456789ABCDEFGHJKMNPQRS',
};

const options = (apiUrl: string, overrides: Partial<PlivoCallsOptions> = {}): PlivoCallsOptions => ({
  apiUrl,
  fromNumbers: { '*': '+14155550100' },
  timeoutMs: 1000,
  ringTimeoutSeconds: 30,
  timeLimitSeconds: 120,
  credentials: async () => ({ authId: AUTH_ID, authToken: AUTH_TOKEN }),
  ...overrides,
});

const fired = JSON.stringify({ message: 'call fired', request_uuid: 'req-123', api_id: 'api-1' });

afterAll(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('Call API request', () => {
  it('is field for field what the official plivo SDK sends for the same call', async () => {
    // What the SDK sends, captured at the HTTP layer (it only ever talks to api.plivo.com).
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    let sdk: { path: string; body: Record<string, unknown>; headers: Record<string, string> } | undefined;
    const scope = nock('https://api.plivo.com').post(/.*/).reply(201, fired);
    // nock hands over a Fetch API Request.
    scope.on('request', (req: Request, _interceptor: unknown, body: string) => {
      sdk = {
        path: new URL(req.url).pathname,
        body: JSON.parse(body) as Record<string, unknown>,
        headers: Object.fromEntries([...req.headers].map(([k, v]) => [k.toLowerCase(), v])),
      };
    });
    const client = new plivo.Client(AUTH_ID, AUTH_TOKEN);
    const sdkResult = await client.calls.create('14155550100', '14155550123', request.answerUrl, {
      answerMethod: 'POST',
      hangupUrl: request.hangupUrl,
      hangupMethod: 'POST',
      fallbackUrl: request.fallbackUrl,
      fallbackMethod: 'POST',
      ringTimeout: 30,
      timeLimit: 120,
      machineDetection: 'hangup',
    });
    expect(sdkResult.requestUuid).toBe('req-123');

    // What we send, captured by a local server.
    const server = await captureServer(() => ({ status: 201, body: fired }));
    const placed = await createPlivoTelephony(options(server.url)).placeCall(request);
    await server.close();
    expect(placed).toEqual({ requestId: 'req-123' });
    const ours = server.requests[0];

    expect(sdk).toBeDefined();
    expect(ours?.method).toBe('POST');
    expect(ours?.path).toBe(sdk?.path);
    expect(ours?.path).toBe(`/v1/Account/${AUTH_ID}/Call/`);
    expect(JSON.parse(ours?.body ?? '')).toEqual(sdk?.body);
    expect(ours?.headers.authorization).toBe(sdk?.headers.authorization);
    expect(ours?.headers['content-type']).toBe(sdk?.headers['content-type']);
    expect(JSON.parse(ours?.body ?? '')).toMatchObject({
      from: '14155550100',
      to: '14155550123',
      answer_url: request.answerUrl,
      answer_method: 'POST',
      hangup_url: request.hangupUrl,
      fallback_url: request.fallbackUrl,
      fallback_method: 'POST',
      ring_timeout: 30,
      time_limit: 120,
      machine_detection: 'hangup',
    });
    nock.enableNetConnect();
  });
});

const message: MessageRequest = {
  verificationId: 'vrf_0123456789ABCDEFGHJKMNPQRS',
  to: '+14155550123',
  country: 'US',
  text: 'Your Acme code is 482017. It expires in 5 minutes. Do not share it.',
  statusUrl:
    'https://otp.example.com/prod/v1/plivo/message-status?v=vrf_0123456789ABCDEFGHJKMNPQRS&t=k1.sealed',
};

const queued = JSON.stringify({
  api_id: 'api-2',
  message: 'message(s) queued',
  message_uuid: ['9b3ba5c6-1c5f-4bd5-8a0e-6e0c5f3a7d22'],
});

describe('Message API request', () => {
  it('is field for field what the official plivo SDK sends for the same SMS', async () => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    let sdk: { path: string; body: Record<string, unknown>; headers: Record<string, string> } | undefined;
    const scope = nock('https://api.plivo.com').post(/.*/).reply(202, queued);
    scope.on('request', (req: Request, _interceptor: unknown, body: string) => {
      sdk = {
        path: new URL(req.url).pathname,
        body: JSON.parse(body) as Record<string, unknown>,
        headers: Object.fromEntries([...req.headers].map(([k, v]) => [k.toLowerCase(), v])),
      };
    });
    const client = new plivo.Client(AUTH_ID, AUTH_TOKEN);
    const sdkResult = await client.messages.create('14155550100', '14155550123', message.text, {
      type: 'sms',
      url: message.statusUrl,
      method: 'POST',
      log: false,
    });
    expect(sdkResult.messageUuid).toEqual(['9b3ba5c6-1c5f-4bd5-8a0e-6e0c5f3a7d22']);

    const server = await captureServer(() => ({ status: 202, body: queued }));
    const sent = await createPlivoTelephony(options(server.url)).sendMessage(message);
    await server.close();
    expect(sent).toEqual({ messageId: '9b3ba5c6-1c5f-4bd5-8a0e-6e0c5f3a7d22' });
    const ours = server.requests[0];

    expect(sdk).toBeDefined();
    expect(ours?.method).toBe('POST');
    expect(ours?.path).toBe(sdk?.path);
    expect(ours?.path).toBe(`/v1/Account/${AUTH_ID}/Message/`);
    expect(JSON.parse(ours?.body ?? '')).toEqual(sdk?.body);
    expect(ours?.headers.authorization).toBe(sdk?.headers.authorization);
    expect(ours?.headers['content-type']).toBe(sdk?.headers['content-type']);
    // Plivo keeps neither the text nor the full number; reports come back to the signed route.
    expect(JSON.parse(ours?.body ?? '')).toEqual({
      src: '14155550100',
      dst: '14155550123',
      text: message.text,
      type: 'sms',
      url: message.statusUrl,
      method: 'POST',
      log: false,
    });
    nock.enableNetConnect();
  });
});

const whatsApp: WhatsAppRequest = {
  verificationId: 'vrf_0123456789ABCDEFGHJKMNPQRS',
  to: '+14155550123',
  template: 'verification_code',
  language: 'en_US',
  code: '482017',
  statusUrl:
    'https://otp.example.com/prod/v1/plivo/message-status?v=vrf_0123456789ABCDEFGHJKMNPQRS&t=k1.sealed&c=whatsapp',
};

describe('Message API request for WhatsApp', () => {
  it('is field for field what the official plivo SDK sends for the same authentication template', async () => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    let sdk: { path: string; body: Record<string, unknown>; headers: Record<string, string> } | undefined;
    const scope = nock('https://api.plivo.com').post(/.*/).reply(202, queued);
    scope.on('request', (req: Request, _interceptor: unknown, body: string) => {
      sdk = {
        path: new URL(req.url).pathname,
        body: JSON.parse(body) as Record<string, unknown>,
        headers: Object.fromEntries([...req.headers].map(([k, v]) => [k.toLowerCase(), v])),
      };
    });
    // The SDK's README form for templates, positional so that `log: false` survives (its object form drops a
    // false log). No text: the template is the message. The SDK validates the template against its schema.
    const template = {
      name: 'verification_code',
      language: 'en_US',
      components: [
        { type: 'body', parameters: [{ type: 'text', text: '482017' }] },
        { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: '482017' }] },
      ],
    };
    const client = new plivo.Client(AUTH_ID, AUTH_TOKEN);
    const sdkResult = await client.messages.create('14155550199', '14155550123', undefined as never, {
      type: 'whatsapp',
      template,
      url: whatsApp.statusUrl,
      method: 'POST',
      log: false,
    });
    expect(sdkResult.messageUuid).toEqual(['9b3ba5c6-1c5f-4bd5-8a0e-6e0c5f3a7d22']);

    const server = await captureServer(() => ({ status: 202, body: queued }));
    const sent = await createPlivoTelephony(
      options(server.url, { whatsAppFrom: '+14155550199' }),
    ).sendWhatsApp(whatsApp);
    await server.close();
    expect(sent).toEqual({ messageId: '9b3ba5c6-1c5f-4bd5-8a0e-6e0c5f3a7d22' });
    const ours = server.requests[0];

    expect(sdk).toBeDefined();
    expect(ours?.method).toBe('POST');
    expect(ours?.path).toBe(sdk?.path);
    expect(ours?.path).toBe(`/v1/Account/${AUTH_ID}/Message/`);
    expect(JSON.parse(ours?.body ?? '')).toEqual(sdk?.body);
    expect(ours?.headers.authorization).toBe(sdk?.headers.authorization);
    expect(ours?.headers['content-type']).toBe(sdk?.headers['content-type']);
    // From the WhatsApp Business number, the code in the body and in the copy-code button, nothing logged.
    expect(JSON.parse(ours?.body ?? '')).toEqual({
      src: '14155550199',
      dst: '14155550123',
      type: 'whatsapp',
      template,
      url: whatsApp.statusUrl,
      method: 'POST',
      log: false,
    });
    nock.enableNetConnect();
  });

  it.each([
    [400, 'message_rejected', 422],
    [404, 'message_rejected', 422],
    [401, 'telephony_unavailable', 502],
    [500, 'telephony_unavailable', 502],
  ])('Plivo %i → %s, and the refusal says WhatsApp', async (statusCode, code, status) => {
    const server = await captureServer(() => ({
      status: statusCode,
      body: JSON.stringify({ api_id: 'a', error: "'14155550123' is not a WhatsApp user" }),
    }));
    const refused: Array<[PlivoErrorDetail, string]> = [];
    const error = await createPlivoTelephony(
      options(server.url, {
        whatsAppFrom: '+14155550199',
        onError: (detail, api) => refused.push([detail, api]),
      }),
    )
      .sendWhatsApp(whatsApp)
      .then(
        () => undefined,
        (failure: unknown) => failure as Error,
      );
    await server.close();
    expect(error).toMatchObject({ code, status });
    if (code === 'message_rejected') expect(error?.message).toContain('WhatsApp');
    expect(refused).toEqual([[{ status: statusCode, reason: expect.any(String) }, 'Message']]);
    expect(JSON.stringify(refused)).not.toMatch(/555012|WhatsApp user/);
  });

  it('sends nothing without a WhatsApp number (a stack without WhatsApp refuses the channel first)', async () => {
    const server = await captureServer(() => ({ status: 202, body: queued }));
    await expect(createPlivoTelephony(options(server.url)).sendWhatsApp(whatsApp)).rejects.toThrow(
      /WHATSAPP_FROM_NUMBER/,
    );
    await server.close();
    expect(server.requests).toEqual([]);
  });
});

describe('Message API failures', () => {
  it.each([
    [400, 'message_rejected', 422],
    [403, 'message_rejected', 422],
    [404, 'message_rejected', 422],
    [401, 'telephony_unavailable', 502],
    [429, 'telephony_unavailable', 502],
    [500, 'telephony_unavailable', 502],
    [503, 'telephony_unavailable', 502],
  ])('Plivo %i → %s', async (statusCode, code, status) => {
    const server = await captureServer(() => ({
      status: statusCode,
      body: JSON.stringify({ api_id: 'a', error: "'14155550123' is not a valid phone number" }),
    }));
    const refused: Array<[PlivoErrorDetail, string]> = [];
    await expect(
      createPlivoTelephony(
        options(server.url, { onError: (detail, api) => refused.push([detail, api]) }),
      ).sendMessage(message),
    ).rejects.toMatchObject({ code, status });
    await server.close();
    expect(refused).toEqual([[{ status: statusCode, reason: expect.any(String) }, 'Message']]);
    expect(JSON.stringify(refused)).not.toMatch(/555012|is not a valid/);
  });

  it('gives up after the timeout, and maps an unreachable API to telephony_unavailable', async () => {
    const hanging = await captureServer(() => 'hang');
    await expect(
      createPlivoTelephony(options(hanging.url, { timeoutMs: 300 })).sendMessage(message),
    ).rejects.toMatchObject({ code: 'telephony_unavailable', status: 502 });
    await hanging.close();
    const closed = await captureServer(() => ({ status: 202 }));
    await closed.close();
    await expect(createPlivoTelephony(options(closed.url)).sendMessage(message)).rejects.toMatchObject({
      code: 'telephony_unavailable',
    });
  });
});

describe('Call API failures', () => {
  it.each([
    [400, 'call_rejected'],
    [403, 'call_rejected'],
    [404, 'call_rejected'],
    [401, 'telephony_unavailable'],
    [429, 'telephony_unavailable'],
    [500, 'telephony_unavailable'],
    [503, 'telephony_unavailable'],
  ])('Plivo %i → %s', async (statusCode, code) => {
    const server = await captureServer(() => ({
      status: statusCode,
      body: JSON.stringify({ api_id: 'a', error: 'no' }),
    }));
    await expect(createPlivoTelephony(options(server.url)).placeCall(request)).rejects.toMatchObject({
      code,
    });
    await server.close();
  });

  it("logs the status and a code of ours, never Plivo's error text, which repeats the number", async () => {
    const refused: PlivoErrorDetail[] = [];
    const apiId = '9b3ba5c6-1c5f-4bd5-8a0e-6e0c5f3a7d21';
    for (const [statusCode, reason] of [
      [400, 'plivo_4xx'],
      [500, 'plivo_5xx'],
    ] as const) {
      const server = await captureServer(() => ({
        status: statusCode,
        body: JSON.stringify({ api_id: apiId, error: "'14155550123' is not a valid phone number" }),
      }));
      await expect(
        createPlivoTelephony(options(server.url, { onError: (detail) => refused.push(detail) })).placeCall(
          request,
        ),
      ).rejects.toBeDefined();
      await server.close();
      expect(refused.at(-1)).toEqual({ status: statusCode, reason, apiId });
    }
    // An api_id that is not one is dropped too: nothing of the body but a UUID-shaped id is kept.
    const server = await captureServer(() => ({
      status: 404,
      body: JSON.stringify({ api_id: "'14155550123' unknown", error: 'not found' }),
    }));
    await expect(
      createPlivoTelephony(options(server.url, { onError: (detail) => refused.push(detail) })).placeCall(
        request,
      ),
    ).rejects.toBeDefined();
    await server.close();
    expect(refused.at(-1)).toEqual({ status: 404, reason: 'plivo_4xx' });
    expect(JSON.stringify(refused)).not.toMatch(/555012|is not a valid/);
  });

  it('gives up after the timeout', async () => {
    const server = await captureServer(() => 'hang');
    const started = Date.now();
    await expect(
      createPlivoTelephony(options(server.url, { timeoutMs: 300 })).placeCall(request),
    ).rejects.toMatchObject({
      code: 'telephony_unavailable',
      status: 502,
    });
    expect(Date.now() - started).toBeLessThan(5000);
    await server.close();
  });

  it('maps an unreachable API to telephony_unavailable', async () => {
    const server = await captureServer(() => ({ status: 201 }));
    await server.close();
    await expect(createPlivoTelephony(options(server.url)).placeCall(request)).rejects.toMatchObject({
      code: 'telephony_unavailable',
    });
  });
});

describe('send when the call cannot be placed', () => {
  it.each([
    [Object.assign(new Error(), { status: 422, code: 'call_rejected' }), 422, 'call_rejected'],
    [
      Object.assign(new Error(), { status: 502, code: 'telephony_unavailable' }),
      502,
      'telephony_unavailable',
    ],
  ])(
    'records the verification as failed and leaves the earlier one pending (%#)',
    async (_e, statusCode, code) => {
      const h = await createHarness();
      const phone = '+14155550160';
      const earlier = await startVerification(h, phone);
      const { callRejected, telephonyUnavailable } = await import('#channels/telephony.ts');
      h.telephony.fail = code === 'call_rejected' ? callRejected() : telephonyUnavailable();
      const response = await h.send(
        apiEvent({ method: 'POST', resource: '/v1/verifications', body: { phone } }),
      );
      expect(response.statusCode).toBe(statusCode);
      expect(parse(response)).toEqual({ error: { code, message: expect.any(String) } });
      const failed = (await h.scan()).find(
        (item) => item.id !== earlier.id && item.status !== undefined && item.createdAt,
      );
      expect(failed).toMatchObject({ status: 'failed', call: { status: 'failed' } });
      expect(parse(await status(h, failed?.id as string))).toMatchObject({
        status: 'failed',
        call: { status: 'failed' },
      });
      // The earlier verification was not superseded by a send that failed.
      expect(parse(await status(h, earlier.id))).toMatchObject({ status: 'pending' });
      expect(parse(await check(h, { phone, code: earlier.code }))).toMatchObject({
        id: earlier.id,
        valid: true,
      });
    },
  );
});

describe('hang-up requests (a cancel or resend ending the call in flight)', () => {
  // Two ids, as Plivo's docs show them: the request's, from make-call, and the call's own CallUUID.
  const REQUEST_UUID = '9834029e-58b6-11e1-b8b7-a5bd0e4e126f';
  const CALL_UUID = 'eba53b9e-8fbd-45c1-9444-696d2172fbc8';
  const OTHER_CALL = '0a70a7fb-168e-4944-a846-4f3f4d2f96f1';
  const CALL = { requestId: REQUEST_UUID, country: 'US' };

  /**
   * What the SDK sends for `calls.cancel(request_uuid)`, `calls.listLiveCalls(filters)`,
   * `calls.getLiveCall(call_uuid)` and `calls.hangup(call_uuid)`: method, path and the documented query.
   */
  async function sdkRequests() {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    const seen: Array<{ method: string; path: string; query: Record<string, string> }> = [];
    const scope = nock('https://api.plivo.com')
      .delete(/.*/)
      .times(2)
      .reply(204)
      .get(/\/Call\/\?/)
      .reply(200, { api_id: 'a', calls: [CALL_UUID] })
      .get(/\/Call\/[^/?]+/)
      .reply(200, { api_id: 'a', call_uuid: CALL_UUID, request_uuid: REQUEST_UUID });
    scope.on('request', (req: Request) => {
      const url = new URL(req.url);
      // The SDK also sends an internal marker of its own (isVoiceRequest) that Plivo's docs do not list.
      url.searchParams.delete('isVoiceRequest');
      seen.push({
        method: req.method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
      });
    });
    const client = new plivo.Client(AUTH_ID, AUTH_TOKEN);
    await client.calls.cancel(REQUEST_UUID);
    await client.calls.listLiveCalls({ call_direction: 'outbound', from_number: '14155550100' });
    await client.calls.getLiveCall(CALL_UUID);
    await client.calls.hangup(CALL_UUID);
    nock.enableNetConnect();
    return seen;
  }

  /** Plivo as its docs describe it, for one answered call and another live call from the same number. */
  const answeredCall = (request: { method: string; path: string }) => {
    const { pathname } = new URL(request.path, 'http://plivo');
    if (request.method === 'DELETE' && pathname.endsWith(`/Request/${REQUEST_UUID}/`)) return { status: 404 };
    if (request.method === 'GET' && pathname.endsWith('/Call/'))
      return { status: 200, body: JSON.stringify({ api_id: 'a', calls: [OTHER_CALL, CALL_UUID] }) };
    if (request.method === 'GET' && pathname.endsWith(`/Call/${CALL_UUID}/`))
      return {
        status: 200,
        body: JSON.stringify({
          api_id: 'a',
          call_uuid: CALL_UUID,
          request_uuid: REQUEST_UUID,
          call_status: 'in-progress',
        }),
      };
    if (request.method === 'GET' && pathname.endsWith(`/Call/${OTHER_CALL}/`))
      return {
        status: 200,
        body: JSON.stringify({ api_id: 'a', call_uuid: OTHER_CALL, request_uuid: 'another' }),
      };
    if (request.method === 'DELETE' && pathname.endsWith(`/Call/${CALL_UUID}/`)) return { status: 204 };
    return { status: 404, body: '{"error":"not found"}' };
  };

  it("ringing: the request's DELETE, as the SDK's calls.cancel sends it, ends the call", async () => {
    const sdk = await sdkRequests();
    const ringing = await captureServer(() => ({ status: 204 }));
    expect(await createPlivoTelephony(options(ringing.url)).endCall(CALL)).toBe('ended');
    await ringing.close();
    expect(ringing.requests.map((r) => ({ method: r.method, path: r.path, query: {} }))).toEqual([sdk[0]]);
    expect(ringing.requests[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from(`${AUTH_ID}:${AUTH_TOKEN}`).toString('base64')}`,
    );
  });

  it('answered: the live call is found by its request_uuid and hung up by its own CallUUID, as the SDK sends them', async () => {
    const sdk = await sdkRequests();
    expect(sdk.map((r) => `${r.method} ${r.path}`)).toEqual([
      `DELETE /v1/Account/${AUTH_ID}/Request/${REQUEST_UUID}/`,
      `GET /v1/Account/${AUTH_ID}/Call/`,
      // The SDK leaves the slash off; Plivo's docs write /Call/{call_uuid}/?status=live, as we do.
      `GET /v1/Account/${AUTH_ID}/Call/${CALL_UUID}`,
      `DELETE /v1/Account/${AUTH_ID}/Call/${CALL_UUID}/`,
    ]);
    const plivoApi = await captureServer(answeredCall);
    expect(await createPlivoTelephony(options(plivoApi.url)).endCall(CALL)).toBe('ended');
    await plivoApi.close();
    const ours = plivoApi.requests.map((r) => {
      const url = new URL(r.path, 'http://plivo');
      return { method: r.method, path: url.pathname, query: Object.fromEntries(url.searchParams) };
    });
    expect(ours[0]).toEqual(sdk[0]);
    // The live outbound calls from this verification's caller ID: the filters Plivo documents.
    expect(ours[1]).toEqual({
      ...sdk[1],
      query: { status: 'live', call_direction: 'outbound', from_number: '14155550100' },
    });
    expect(sdk[1]?.query).toEqual({ status: 'live', call_direction: 'outbound', from_number: '14155550100' });
    expect(
      ours
        .slice(2, 4)
        .map((r) => r.path)
        .sort(),
    ).toEqual(
      [`/v1/Account/${AUTH_ID}/Call/${CALL_UUID}/`, `/v1/Account/${AUTH_ID}/Call/${OTHER_CALL}/`].sort(),
    );
    expect(ours.slice(2, 4).map((r) => r.query)).toEqual([sdk[2]?.query, sdk[2]?.query]);
    // Hung up by the call's id, never the request's.
    expect(ours.slice(4)).toEqual([sdk[3]]);
  });

  it('a call already over (no request, not live) is no error; Plivo down or slow is, so the record is retried', async () => {
    const over = await captureServer((r) =>
      r.method === 'GET' && r.path.includes('/Call/?')
        ? { status: 200, body: JSON.stringify({ api_id: 'a', calls: [] }) }
        : { status: 404, body: '{"error":"not found"}' },
    );
    expect(await createPlivoTelephony(options(over.url)).endCall(CALL)).toBe('already_over');
    expect(over.requests.map((r) => r.method)).toEqual(['DELETE', 'GET']);
    await over.close();
    const down = await captureServer(() => ({ status: 503 }));
    const logged: PlivoErrorDetail[] = [];
    await expect(
      createPlivoTelephony(options(down.url, { onError: (detail) => logged.push(detail) })).endCall(CALL),
    ).rejects.toMatchObject({ code: 'telephony_unavailable' });
    await down.close();
    expect(logged).toEqual([{ status: 503, reason: 'plivo_5xx' }]);
    const hanging = await captureServer(() => 'hang');
    await expect(
      createPlivoTelephony(options(hanging.url, { timeoutMs: 200 })).endCall(CALL),
    ).rejects.toMatchObject({ code: 'telephony_unavailable' });
    await hanging.close();
  });

  it(`looks at no more than ${LIVE_CALLS_INSPECTED} live calls, ${10} at a time, and says so when there were more`, async () => {
    const many = Array.from(
      { length: LIVE_CALLS_INSPECTED + 5 },
      (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    );
    const busy = await captureServer((r) => {
      if (r.method === 'DELETE') return { status: 404 };
      if (r.path.includes('/Call/?'))
        return { status: 200, body: JSON.stringify({ api_id: 'a', calls: many }) };
      return {
        status: 200,
        body: JSON.stringify({ api_id: 'a', request_uuid: 'someone-else' }),
        delayMs: 20,
      };
    });
    const logged: PlivoErrorDetail[] = [];
    expect(
      await createPlivoTelephony(options(busy.url, { onError: (detail) => logged.push(detail) })).endCall(
        CALL,
      ),
    ).toBe('already_over');
    await busy.close();
    expect(busy.requests.filter((r) => r.method === 'GET')).toHaveLength(1 + LIVE_CALLS_INSPECTED);
    expect(logged).toEqual([{ reason: 'live_calls_not_all_inspected' }]);
  });
});
