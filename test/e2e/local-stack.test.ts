import { request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { ListTablesCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plivoSignature } from '#channels/plivo-signature.ts';
import { localClient } from '../../local/dynamodb-local.ts';
import { captureServer } from '../support/capture-server.ts';
import { runDynamoDb } from '../support/harness.ts';
import {
  ended,
  heardDigits,
  type SimCallView,
  SPAWN_TIMEOUT_MS,
  type SpawnedStack,
  settled,
  spawnLocalStack,
  waitForCall,
  waitForMessage,
} from '../support/local-stack.ts';

/** The key pair anyone would guess: DynamoDB Local's usual `local`. */
const LOCAL_KEY = { accessKeyId: 'local', secretAccessKey: 'local' };

let stack: SpawnedStack;
const codesHeard: string[] = [];
/** Codes the phones read in an SMS. */
const codesRead: string[] = [];
/** Codes the phones read in a WhatsApp message. */
const codesOnWhatsApp: string[] = [];

beforeAll(async () => {
  // No gap between sends and room for more per phone: several tests send to the same special callee or
  // recipient, fallbacks included (+12025550197 gets an SMS, its fallback call, a WhatsApp message and its
  // fallback SMS).
  stack = await spawnLocalStack({
    PLIVO_TIMEOUT_MS: '1500',
    PHONE_MIN_GAP_SECONDS: '0',
    PHONE_MAX_PER_10_MINUTES: '10',
  });
}, SPAWN_TIMEOUT_MS);

afterAll(async () => {
  await stack?.stop();
});

async function send(phone: string, extra: Record<string, unknown> = {}) {
  const response = await stack.api('POST', '/v1/verifications', { phone, ...extra });
  return response;
}

/** Polls the status view until `done` holds (a webhook recorded), and returns it. */
async function until(id: string, done: (body: Record<string, unknown>) => boolean) {
  for (let i = 0; i < 400; i++) {
    const view = await stack.api('GET', `/v1/verifications/${id}`);
    if (done(view.body)) return view.body;
    await sleep(25);
  }
  throw new Error(`verification ${id} never reached the expected state`);
}

/** Waits until the hangup webhook has been recorded on the verification. */
async function finalCall(id: string) {
  for (let i = 0; i < 200; i++) {
    const view = await stack.api('GET', `/v1/verifications/${id}`);
    const call = view.body.call as { status: string };
    if (call.status !== 'queued') return view.body;
    await sleep(25);
  }
  throw new Error('hangup never recorded');
}

describe.concurrent('the local stack over HTTP', () => {
  it('verifies a phone end to end: call, speech, check, status', async () => {
    const phone = '+14155550101';
    const sent = await send(phone);
    expect(sent.status).toBe(202);
    const id = sent.body.id as string;
    const call = await waitForCall(stack, phone, ended);
    expect(call.status).toBe('completed');
    expect(call.transcript).toContain('Your verification code is');
    const digits = heardDigits(call.transcript);
    expect(digits).toMatch(/^([0-9]{6})\1$/);
    const code = digits.slice(0, 6);
    codesHeard.push(code);
    const checked = await stack.api('POST', '/v1/verifications/check', { id, code });
    expect(checked).toMatchObject({ status: 200, body: { id, valid: true, status: 'approved' } });
    const view = await finalCall(id);
    expect(view).toMatchObject({ status: 'approved', to: '+1********01', call: { status: 'completed' } });
    expect((view.call as { durationSeconds: number }).durationSeconds).toBeGreaterThan(5);
  });

  it('repeats the code when the callee presses 1', async () => {
    const phone = '+14155550102';
    expect((await send(phone)).status).toBe(202);
    const waiting = await waitForCall(stack, phone, (c) => c.awaitingInput || ended(c));
    expect(waiting.awaitingInput).toBe(true);
    const pressed = await stack.api('POST', `/_simulator/calls/${waiting.id}/press`, { digits: '1' });
    expect(pressed.status).toBe(200);
    const call = await waitForCall(stack, phone, ended);
    expect(call.digits).toBe('1');
    const digits = heardDigits(call.transcript);
    expect(digits).toMatch(/^([0-9]{6})\1\1\1$/);
    codesHeard.push(digits.slice(0, 6));
    // Pressing when nothing waits is refused.
    expect((await stack.api('POST', `/_simulator/calls/${call.id}/press`, { digits: '1' })).status).toBe(409);
  });

  it('falls back from a busy line (+12025550190) to one SMS with the same code, which approves', async () => {
    const phone = '+12025550190';
    const sent = await send(phone);
    expect(sent.status).toBe(202);
    const id = sent.body.id as string;
    const call = await waitForCall(stack, phone, ended);
    expect(call.status).toBe('busy');
    const message = await waitForMessage(stack, phone, settled);
    expect(message.status).toBe('delivered');
    const code = /\b([0-9]{6})\b/.exec(message.text ?? '')?.[1] ?? '';
    expect(code).toMatch(/^[0-9]{6}$/);
    codesRead.push(code);
    const checked = await stack.api('POST', '/v1/verifications/check', { id, code });
    expect(checked).toMatchObject({ status: 200, body: { valid: true, status: 'approved' } });
    const view = await until(
      id,
      (body) => (body.message as { status?: string } | undefined)?.status === 'delivered',
    );
    expect(view).toMatchObject({
      status: 'approved',
      channel: 'voice',
      call: { status: 'busy' },
      message: { status: 'delivered', units: 1 },
      fallback: { channel: 'sms', reason: null },
    });
    const messages = (await stack.api('GET', '/_simulator/messages')).body.messages as { to: string }[];
    expect(messages.filter((m) => m.to === phone)).toHaveLength(1);
  });

  it.each([
    ['+12025550191', 'no-answer'],
    ['+12025550192', 'machine'],
    ['+12025550196', 'completed'],
  ])(
    'records the outcome of a call to %s as %s, and the phone never hears the code',
    async (phone, outcome) => {
      const sent = await send(phone);
      expect(sent.status).toBe(202);
      const call = await waitForCall(stack, phone, ended);
      expect(heardDigits(call.transcript)).toBe('');
      const view = await finalCall(sent.body.id as string);
      expect((view.call as { status: string }).status).toBe(outcome);
      expect(view.status).toBe('pending');
    },
  );

  it.each([
    ['+12025550193', 422, 'call_rejected'],
    ['+12025550194', 502, 'telephony_unavailable'],
    ['+12025550195', 502, 'telephony_unavailable'],
  ])('answers a send to %s without fallback with %i %s', async (phone, status, code) => {
    const sent = await send(phone, { fallback: false });
    expect(sent).toMatchObject({ status, body: { error: { code } } });
  });

  it('sends an SMS at once when Plivo refuses to call the number (+12025550193), and its code approves', async () => {
    const phone = '+12025550193';
    const sent = await send(phone);
    expect(sent).toMatchObject({
      status: 202,
      body: { channel: 'voice', call: { status: 'failed' }, message: { status: 'queued' } },
    });
    const message = await waitForMessage(stack, phone, settled);
    const code = /\b([0-9]{6})\b/.exec(message.text ?? '')?.[1] ?? '';
    codesRead.push(code);
    const id = sent.body.id as string;
    const checked = await stack.api('POST', '/v1/verifications/check', { id, code });
    expect(checked).toMatchObject({ status: 200, body: { id, valid: true, status: 'approved' } });
    const view = await stack.api('GET', `/v1/verifications/${id}`);
    expect(view.body).toMatchObject({ fallback: { channel: 'sms', reason: null } });
  });

  it("serves the phone's SMS inbox and Plivo's Message API (which refuses wrong credentials as Plivo does)", async () => {
    const inbox = await stack.api('GET', '/_simulator/messages');
    expect(inbox.status).toBe(200);
    expect(Array.isArray(inbox.body.messages)).toBe(true);
    const refused = await stack.api(
      'POST',
      '/_plivo/v1/Account/MAWRONGACCOUNT000000/Message/',
      { src: '14155550100', dst: '14155550104', text: 'hi' },
      { authorization: `Basic ${Buffer.from('MAWRONGACCOUNT000000:nope').toString('base64')}` },
    );
    expect(refused).toMatchObject({
      status: 401,
      body: { api_id: expect.any(String), error: 'Authentication credentials invalid' },
    });
    const messages = (await stack.api('GET', '/_simulator/messages')).body.messages as { to: string }[];
    expect(messages.filter((m) => m.to === '+14155550104')).toEqual([]);
  });

  it('verifies a phone by SMS end to end: inbox, check, signed delivery reports recorded', async () => {
    const phone = '+14155550103';
    const sent = await stack.api('POST', '/v1/verifications', { phone, channel: 'sms', fallback: false });
    expect(sent).toMatchObject({ status: 202, body: { channel: 'sms', message: { status: 'queued' } } });
    const id = sent.body.id as string;
    const message = await waitForMessage(stack, phone, settled);
    expect(message.status).toBe('delivered');
    const code = /\b([0-9]{6})\b/.exec(message.text ?? '')?.[1] ?? '';
    expect(code).toMatch(/^[0-9]{6}$/);
    codesRead.push(code);
    const checked = await stack.api('POST', '/v1/verifications/check', { id, code });
    expect(checked).toMatchObject({ status: 200, body: { id, valid: true, status: 'approved' } });
    // The simulator's signed reports pass the service's signature check and are recorded.
    for (let i = 0; i < 200; i++) {
      const view = await stack.api('GET', `/v1/verifications/${id}`);
      if ((view.body.message as { status: string }).status === 'delivered') break;
      await sleep(25);
    }
    const view = await stack.api('GET', `/v1/verifications/${id}`);
    expect(view.body).toMatchObject({ status: 'approved', message: { status: 'delivered', units: 1 } });
    expect(stack.lines.filter((line) => /POST \/v1\/plivo\/message-status → (?!200)/.test(line))).toEqual([]);
    // No call was placed.
    const calls = (await stack.api('GET', '/_simulator/calls')).body.calls as SimCallView[];
    expect(calls.filter((call) => call.to === phone)).toEqual([]);
    // Sent with log: false: Plivo keeps neither the text nor the full number.
    expect(stack.lines.filter((line) => line.includes('logged by Plivo'))).toEqual([]);
  });

  it('answers an SMS to +12025550198 with 422 message_rejected; +12025550197 undelivered falls back to a call that speaks the code', async () => {
    expect(
      await stack.api('POST', '/v1/verifications', {
        phone: '+12025550198',
        channel: 'sms',
        fallback: false,
      }),
    ).toMatchObject({ status: 422, body: { error: { code: 'message_rejected' } } });
    const phone = '+12025550197';
    const sent = await stack.api('POST', '/v1/verifications', { phone, channel: 'sms' });
    expect(sent.status).toBe(202);
    const id = sent.body.id as string;
    const message = await waitForMessage(stack, phone, settled);
    expect(message).toMatchObject({ status: 'undelivered', text: null });
    // The same code, by the one call the fallback placed.
    const call = await waitForCall(stack, phone, ended);
    const digits = heardDigits(call.transcript);
    expect(digits).toMatch(/^([0-9]{6})\1$/);
    const code = digits.slice(0, 6);
    codesHeard.push(code);
    const checked = await stack.api('POST', '/v1/verifications/check', { id, code });
    expect(checked).toMatchObject({ status: 200, body: { valid: true, status: 'approved' } });
    const view = await until(
      id,
      (body) => (body.call as { status?: string } | undefined)?.status === 'completed',
    );
    expect(view).toMatchObject({
      status: 'approved',
      channel: 'sms',
      message: { status: 'undelivered', errorCode: '70' },
      call: { status: 'completed' },
      fallback: { channel: 'voice', reason: null },
    });
    const calls = (await stack.api('GET', '/_simulator/calls')).body.calls as SimCallView[];
    expect(calls.filter((c) => c.to === phone)).toHaveLength(1);
  });

  it('verifies a phone by WhatsApp end to end: the template in the inbox, check, reports up to read recorded', async () => {
    const phone = '+14155550105';
    const sent = await stack.api('POST', '/v1/verifications', {
      phone,
      channel: 'whatsapp',
      fallback: false,
    });
    expect(sent).toMatchObject({
      status: 202,
      body: { channel: 'whatsapp', message: { channel: 'whatsapp', status: 'queued' } },
    });
    const id = sent.body.id as string;
    const message = await waitForMessage(stack, phone, (m) => m.status === 'read');
    expect(message).toMatchObject({ type: 'whatsapp', from: '+14155550010' });
    const code =
      /^\*([0-9]{6})\* is your verification code\. For your security, do not share this code\. This code expires in 5 minutes\.$/.exec(
        message.text ?? '',
      )?.[1];
    expect(code).toMatch(/^[0-9]{6}$/);
    codesOnWhatsApp.push(code ?? '');
    const checked = await stack.api('POST', '/v1/verifications/check', { id, code });
    expect(checked).toMatchObject({ status: 200, body: { id, valid: true, status: 'approved' } });
    // The simulator's signed reports, up to read, pass the signature check and are recorded.
    const view = await until(id, (body) => (body.message as { status?: string }).status === 'read');
    expect(view).toMatchObject({
      status: 'approved',
      channel: 'whatsapp',
      message: { channel: 'whatsapp', status: 'read', units: 1 },
    });
    expect(stack.lines.filter((line) => /POST \/v1\/plivo\/message-status → (?!200)/.test(line))).toEqual([]);
    const inbox = (await stack.api('GET', '/_simulator/messages')).body.messages as {
      to: string;
      type: string;
    }[];
    expect(inbox.filter((m) => m.to === phone).map((m) => m.type)).toEqual(['whatsapp']);
    expect(stack.lines.filter((line) => line.includes('logged by Plivo'))).toEqual([]);
  });

  it('falls back to SMS for +12025550199 (not on WhatsApp), and answers 422 message_rejected without fallback', async () => {
    const phone = '+12025550199';
    expect(await send(phone, { channel: 'whatsapp', fallback: false })).toMatchObject({
      status: 422,
      body: { error: { code: 'message_rejected' } },
    });
    const sent = await send(phone, { channel: 'whatsapp' });
    expect(sent).toMatchObject({
      status: 202,
      body: { channel: 'whatsapp', message: { channel: 'sms', status: 'queued' } },
    });
    const id = sent.body.id as string;
    const message = await waitForMessage(stack, phone, settled);
    expect(message).toMatchObject({ type: 'sms', status: 'delivered' });
    const code = /\b([0-9]{6})\b/.exec(message.text ?? '')?.[1] ?? '';
    codesRead.push(code);
    const checked = await stack.api('POST', '/v1/verifications/check', { id, code });
    expect(checked).toMatchObject({ status: 200, body: { valid: true, status: 'approved' } });
    const view = await until(id, (body) => (body.message as { status?: string }).status === 'delivered');
    expect(view).toMatchObject({
      status: 'approved',
      channel: 'whatsapp',
      message: { channel: 'sms', status: 'delivered' },
      fallback: { channel: 'sms', reason: null },
    });
    // Plivo refused both WhatsApp messages: the phone's inbox holds the one SMS.
    const inbox = (await stack.api('GET', '/_simulator/messages')).body.messages as {
      to: string;
      type: string;
    }[];
    expect(inbox.filter((m) => m.to === phone).map((m) => m.type)).toEqual(['sms']);
  });

  it('refuses unsigned and forged webhooks with 403', async () => {
    const hangup = `${stack.url}/v1/plivo/hangup?v=vrf_0000000000000000000000000A`;
    const answer = `${stack.url}/v1/plivo/answer?v=vrf_0000000000000000000000000A&t=k1.abc`;
    const params = { CallUUID: 'forged', CallStatus: 'completed' };
    const form = new URLSearchParams(params).toString();
    const headers = { 'content-type': 'application/x-www-form-urlencoded' };
    for (const url of [hangup, answer]) {
      const unsigned = await fetch(url, { method: 'POST', headers, body: form });
      expect(unsigned.status).toBe(403);
      expect(await unsigned.json()).toMatchObject({ error: { code: 'invalid_signature' } });
      const nonce = 'n1';
      const forged = await fetch(url, {
        method: 'POST',
        headers: {
          ...headers,
          'X-Plivo-Signature-V3-Nonce': nonce,
          'X-Plivo-Signature-V3': plivoSignature(url, Object.entries(params), nonce, 'not-the-token'),
        },
        body: form,
      });
      expect(forged.status).toBe(403);
    }
  });

  it.each([
    ['POST', '/v1/verifications', '{"phone":', 400, 'invalid_json'],
    ['POST', '/v1/verifications', { phone: 'nope' }, 400, 'invalid_phone'],
    ['POST', '/v1/verifications', { phone: '+14155550123', locale: 'tlh' }, 400, 'unsupported_locale'],
    ['POST', '/v1/verifications', { phone: 14155550123 }, 400, 'invalid_request'],
    ['POST', '/v1/verifications', JSON.stringify({ phone: 'x'.repeat(20_000) }), 413, 'payload_too_large'],
    [
      'POST',
      '/v1/verifications/check',
      { id: 'vrf_00000000000000000000000000', code: '1' },
      400,
      'invalid_code',
    ],
    ['POST', '/v1/verifications/check', { code: '123456' }, 400, 'invalid_request'],
    [
      'POST',
      '/v1/verifications/check',
      { id: 'vrf_00000000000000000000000000', code: '123456' },
      404,
      'verification_not_found',
    ],
    ['GET', '/v1/verifications/vrf_00000000000000000000000000', undefined, 404, 'verification_not_found'],
    ['GET', '/v1/verifications/not-an-id', undefined, 400, 'invalid_request'],
    [
      'POST',
      '/v1/verifications/vrf_00000000000000000000000000/cancel',
      undefined,
      404,
      'verification_not_found',
    ],
    ['DELETE', '/v1/verifications', undefined, 405, 'method_not_allowed'],
    ['GET', '/v1/nothing-here', undefined, 404, 'route_not_found'],
  ])('%s %s → %i', async (method, path, body, status, code) => {
    const response = await stack.api(method, path, body);
    expect(response.status).toBe(status);
    expect(response.body).toEqual({ error: { code, message: expect.any(String) } });
  });

  it('checks the API key like the usage plan', async () => {
    for (const key of [{}, { 'x-api-key': 'wrong' }] as Record<string, string>[]) {
      const response = await fetch(`${stack.url}/v1/verifications`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...key },
        body: JSON.stringify({ phone: '+14155550123' }),
      });
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ error: { code: 'forbidden' } });
    }
  });

  it('answers /health and serves the demo page', async () => {
    expect((await fetch(`${stack.url}/health`)).status).toBe(200);
    const page = await fetch(`${stack.url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(stack.apiKey);
    const script = await fetch(`${stack.url}/demo.js`);
    expect(script.headers.get('content-type')).toContain('text/javascript');
  });
});

/** One webhook per API key and the stack has one key: these run one after the other. */
describe('app webhooks on the local stack', () => {
  const webhook = (method: string, body?: unknown) =>
    fetch(`${stack.url}/v1/webhook`, {
      method,
      headers: {
        'x-api-key': stack.apiKey,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });

  it('takes a webhook to a receiver on this machine (http://127.0.0.1), and shows and removes it', async () => {
    const set = await webhook('PUT', { url: 'http://127.0.0.1:9/hooks', events: ['verification.approved'] });
    expect(set.status).toBe(200);
    expect(await set.json()).toMatchObject({
      url: 'http://127.0.0.1:9/hooks',
      secret: expect.stringMatching(/^whsec_/),
    });
    // Only the local hosts: a private address is refused here as on AWS.
    const refused = await webhook('PUT', { url: 'http://10.0.0.1/hooks', events: ['verification.approved'] });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: { code: 'invalid_webhook_url' } });
    expect(await (await webhook('GET')).json()).toEqual({
      url: 'http://127.0.0.1:9/hooks',
      events: ['verification.approved'],
    });
    expect((await webhook('DELETE')).status).toBe(204);
    expect((await webhook('GET')).status).toBe(404);
  });

  it('delivers signed webhooks to a receiver on 127.0.0.1: started, then approved', async () => {
    const receiver = await captureServer(() => ({ status: 204 }));
    try {
      const set = await webhook('PUT', {
        url: `${receiver.url}/hooks`,
        events: ['verification.started', 'verification.approved'],
      });
      const { secret } = (await set.json()) as { secret: string };
      const phone = '+14155550104';
      const sent = await stack.api('POST', '/v1/verifications', { phone, channel: 'sms', fallback: false });
      const message = await waitForMessage(stack, phone, settled);
      const code = /\b([0-9]{6})\b/.exec(message.text ?? '')?.[1] ?? '';
      await stack.api('POST', '/v1/verifications/check', { id: sent.body.id, code });
      for (let i = 0; i < 400 && receiver.requests.length < 2; i++) await sleep(25);
      const bodies = receiver.requests.map((request) => JSON.parse(request.body) as { type: string });
      expect(bodies.map((body) => body.type).sort()).toEqual([
        'verification.approved',
        'verification.started',
      ]);
      for (const request of receiver.requests) {
        expect(
          new Webhook(secret).verify(request.body, request.headers as Record<string, string>),
        ).toBeTruthy();
        expect(request.body).not.toContain(code);
        expect(request.body).not.toContain('4155550104');
      }
    } finally {
      await webhook('DELETE');
      await receiver.close();
    }
  });
});

describe('the local stack over HTTP, after the concurrent tests', () => {
  it('falls back once, to SMS, when a WhatsApp message to +12025550197 is reported undelivered', async () => {
    // After the SMS test to this number (a send supersedes the phone's pending verification, and would hang
    // up its fallback call): so not among the concurrent tests above.
    const phone = '+12025550197';
    const sent = await send(phone, { channel: 'whatsapp' });
    expect(sent.status).toBe(202);
    const id = sent.body.id as string;
    // The WhatsApp message and the SMS that fell back from it: both undelivered there, and nothing more.
    const view = await until(id, (body) => {
      const message = body.message as { channel?: string; status?: string };
      return message.channel === 'sms' && message.status === 'undelivered';
    });
    expect(view).toMatchObject({
      channel: 'whatsapp',
      status: 'pending',
      message: { channel: 'sms', status: 'undelivered', errorCode: '70' },
      fallback: { channel: 'sms', reason: null },
    });
    expect(view).not.toHaveProperty('call');
    const inbox = (await stack.api('GET', '/_simulator/messages')).body.messages as {
      to: string;
      type: string;
      status: string;
    }[];
    expect(inbox.filter((m) => m.to === phone && m.type === 'whatsapp').map((m) => m.status)).toEqual([
      'undelivered',
    ]);
  });
});

describe('after the run', () => {
  it('no structured log line holds a code the phones heard', () => {
    expect(codesHeard.length).toBeGreaterThanOrEqual(2);
    const structured = stack.lines.filter((line) => line.startsWith('{'));
    expect(structured.length).toBeGreaterThan(10);
    for (const line of structured) {
      JSON.parse(line);
      for (const code of [...codesHeard, ...codesRead, ...codesOnWhatsApp])
        expect(line).not.toMatch(new RegExp(`(^|[^0-9A-Za-z])${code}([^0-9A-Za-z]|$)`));
      expect(line).not.toMatch(/\+?1415555010[1235]|2025550199/);
    }
    // The simulated phone did hear them: it is the only place they appear.
    expect(
      stack.lines.some(
        (line) =>
          line.startsWith('[simulated phone') && line.includes(codesHeard[0]?.split('').join(', ') ?? '-'),
      ),
    ).toBe(true);
    for (const [codes, received] of [
      [codesRead, 'received SMS'],
      [codesOnWhatsApp, 'received WhatsApp message'],
    ] as const) {
      expect(codes.length).toBeGreaterThan(0);
      for (const code of codes) {
        const holding = stack.lines.filter((line) => line.includes(code));
        expect(holding.some((line) => line.includes(received))).toBe(true);
        expect(holding.every((line) => line.startsWith('[simulated phone'))).toBe(true);
      }
    }
  });
});

describe('real mode', () => {
  it(
    'switches the simulator and the demo page off',
    async () => {
      const real = await spawnLocalStack({
        PLIVO_AUTH_ID: 'MAREALACCOUNTID00000',
        PLIVO_AUTH_TOKEN: 'real-token',
        PLIVO_FROM_NUMBER: '+14155550100',
        PUBLIC_URL: 'https://otp.example.com',
        // It starts its own DynamoDB Local, as `npm start` does in a shell without AWS credentials.
        DYNAMODB_ENDPOINT: '',
        AWS_ACCESS_KEY_ID: '',
        AWS_SECRET_ACCESS_KEY: '',
      });
      try {
        expect(real.lines.join('\n')).toContain('REAL calls');
        // DynamoDB Local cannot be bound to loopback: said plainly, and a guessed key id sees nothing.
        const warning = real.lines.find((line) => line.startsWith('WARNING: DynamoDB Local'));
        expect(warning).toMatch(/listens on every network interface.*random access key id/);
        const endpoint = /\((http:\/\/127\.0\.0\.1:\d+)\)/.exec(warning ?? '')?.[1] ?? '';
        const guessed = localClient({ endpoint, credentials: LOCAL_KEY });
        try {
          expect((await guessed.send(new ListTablesCommand({}))).TableNames).toEqual([]);
          await expect(guessed.send(new ScanCommand({ TableName: 'voice-otp-local' }))).rejects.toThrow(
            /non-existent table/,
          );
        } finally {
          guessed.destroy();
        }
        // Without WhatsApp settings the channel is refused before anything is stored or sent.
        expect(
          await real.api('POST', '/v1/verifications', { phone: '+14155550123', channel: 'whatsapp' }),
        ).toMatchObject({ status: 403, body: { error: { code: 'channel_not_allowed' } } });
        // And the stack is serving from that DynamoDB Local: its table exists under its own key.
        expect((await real.api('GET', '/v1/verifications/vrf_00000000000000000000000000')).status).toBe(404);
        expect((await fetch(`${real.url}/health`)).status).toBe(200);
        for (const path of ['/', '/demo.js', '/_simulator/calls', '/_simulator/messages']) {
          const response = await fetch(`${real.url}${path}`);
          expect(response.status).toBe(404);
        }
        const press = await fetch(`${real.url}/_simulator/calls/x/press`, {
          method: 'POST',
          body: '{"digits":"1"}',
        });
        expect(press.status).toBe(404);
        for (const api of ['Call', 'Message']) {
          const plivo = await fetch(`${real.url}/_plivo/v1/Account/MAREALACCOUNTID00000/${api}/`, {
            method: 'POST',
            body: '{}',
          });
          expect(plivo.status).toBe(404);
        }
      } finally {
        await real.stop();
      }
    },
    SPAWN_TIMEOUT_MS,
  );
});

describe('another AWS region in the shell', () => {
  it(
    'still finds its table: DynamoDB Local keeps one database per key id and region',
    async () => {
      const elsewhere = await spawnLocalStack({ AWS_REGION: 'eu-west-1' });
      try {
        const sent = await elsewhere.api('POST', '/v1/verifications', { phone: '+14155550177' });
        expect(sent.status).toBe(202);
      } finally {
        await elsewhere.stop();
      }
    },
    SPAWN_TIMEOUT_MS,
  );
});

describe('the local gateway', () => {
  it('answers a path with broken percent-encoding 400, like API Gateway', async () => {
    const response = await stack.api('GET', '/v1/verifications/%ZZ');
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: { code: 'invalid_request' } });
  });

  it("answers another method with a foreign media type 415, like the mock behind API Gateway's 405", async () => {
    const response = await stack.api('DELETE', '/v1/verifications', 'x', { 'content-type': 'text/plain' });
    expect(response).toMatchObject({ status: 415, body: { error: { code: 'unsupported_media_type' } } });
    for (const type of ['application/json; charset=utf-8', 'application/x-www-form-urlencoded']) {
      const allowed = await stack.api('DELETE', '/v1/verifications', 'x', { 'content-type': type });
      expect(allowed).toMatchObject({ status: 405, body: { error: { code: 'method_not_allowed' } } });
    }
  });
});

describe('privacy of the local stack', () => {
  /** A request with the Host header as given (fetch always sends the URL's own). */
  const withHost = (path: string, host: string | null, method = 'GET', body?: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const { port } = new URL(stack.url);
      const request = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path,
          method,
          setHost: false,
          headers: {
            ...(host !== null && { host }),
            'x-api-key': stack.apiKey,
            ...(body && { 'content-type': 'application/json' }),
          },
        },
        (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => {
            text += chunk.toString('utf8');
          });
          response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
        },
      );
      request.once('error', reject);
      request.end(body);
    });

  it('refuses a foreign Host (DNS rebinding) before any routing: API, demo page, simulator', async () => {
    const port = new URL(stack.url).port;
    const phone = '+14155550177';
    for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1.evil.example:${port}`, null]) {
      for (const [method, path, body] of [
        ['GET', '/', undefined],
        ['GET', '/demo.js', undefined],
        ['GET', '/_simulator/calls', undefined],
        ['GET', '/_simulator/messages', undefined],
        ['GET', '/health', undefined],
        ['GET', '/v1/verifications/vrf_00000000000000000000000000', undefined],
        ['POST', '/v1/verifications', JSON.stringify({ phone })],
      ] as const) {
        const response = await withHost(path, host, method, body);
        expect(response.status, `${host} ${method} ${path}`).toBe(421);
        expect(JSON.parse(response.text)).toEqual({
          error: { code: 'invalid_request', message: expect.stringContaining(`127.0.0.1:${port}`) },
        });
        expect(response.text).not.toContain(stack.apiKey);
      }
    }
    // Nothing was routed: the send placed no call.
    const calls = (await stack.api('GET', '/_simulator/calls')).body.calls as SimCallView[];
    expect(calls.filter((call) => call.to === phone)).toEqual([]);
  });

  it('answers its own names: 127.0.0.1 and localhost with its port', async () => {
    const port = new URL(stack.url).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`]) {
      const page = await withHost('/', host);
      expect(page.status, host).toBe(200);
      expect(page.text).toContain(stack.apiKey);
      expect((await withHost('/_simulator/calls', host)).status).toBe(200);
    }
  });

  it("keeps the run's tables from the DynamoDB Local key id `local`", async () => {
    const run = runDynamoDb();
    const guessed = localClient({ endpoint: run.endpoint, credentials: LOCAL_KEY });
    const own = localClient(run);
    try {
      // The stack's table exists, under the run's random key id only.
      expect((await own.send(new ListTablesCommand({}))).TableNames).toContain(stack.tableName);
      expect((await guessed.send(new ListTablesCommand({}))).TableNames).toEqual([]);
      await expect(guessed.send(new ScanCommand({ TableName: stack.tableName }))).rejects.toThrow(
        /non-existent table/,
      );
    } finally {
      guessed.destroy();
      own.destroy();
    }
  });
});
