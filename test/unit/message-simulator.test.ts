import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import plivo from 'plivo';
import { afterEach, describe, expect, it } from 'vitest';
import { plivoSignatureValid } from '#channels/plivo-signature.ts';
import { MessageSimulator } from '../../local/message-simulator.ts';
import { type CapturedRequest, captureServer } from '../support/capture-server.ts';

const AUTH_ID = 'MASMSSIMULATORTEST00';
const AUTH_TOKEN = 'sms-simulator-test-token';
const AUTHORIZATION = `Basic ${Buffer.from(`${AUTH_ID}:${AUTH_TOKEN}`).toString('base64')}`;
const PLIVO_TIME = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

function simulator() {
  const lines: string[] = [];
  const sms = new MessageSimulator({
    authId: AUTH_ID,
    authToken: AUTH_TOKEN,
    speed: 1000,
    log: (line) => lines.push(line),
  });
  cleanups.push(() => sms.stop());
  return { sms, lines };
}

/** A delivery-report receiver answering 200 unless told otherwise. */
async function reports(reply: (request: CapturedRequest) => number = () => 200) {
  const server = await captureServer((request) => ({ status: reply(request) }));
  cleanups.push(() => server.close());
  const url = `${server.url}/v1/plivo/message-status?v=vrf_1&t=k1.sealed`;
  const params = () =>
    server.requests.map((request) => Object.fromEntries(new URLSearchParams(request.body)));
  return { server, url, params };
}

/** The simulator's Message API behind HTTP, where the official SDK can reach it. */
async function messageApi(sms: MessageSimulator) {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const authId = /^\/v1\/Account\/([^/]+)\/Message\/$/.exec(request.url ?? '')?.[1] ?? '';
      const reply = await sms.createMessage(
        request.headers.authorization,
        authId,
        Buffer.concat(chunks).toString('utf8'),
      );
      response.writeHead(reply.status, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const send = (sms: MessageSimulator, body: Record<string, unknown>, authorization = AUTHORIZATION) =>
  sms.createMessage(authorization, AUTH_ID, JSON.stringify(body));

async function until(condition: () => boolean, what: string) {
  for (let i = 0; i < 1000 && !condition(); i++) await sleep(10);
  if (!condition()) throw new Error(`never happened: ${what}`);
}

const finalStatus = (status: string) => ['delivered', 'undelivered'].includes(status);

describe('the simulated Message API', () => {
  it("accepts the official SDK's messages.create request and answers as Plivo does", async () => {
    const { sms, lines } = simulator();
    const receiver = await reports();
    const base = await messageApi(sms);
    // Unlike its Call API, the SDK's Message API honours the client's base URL.
    const client = new plivo.Client(AUTH_ID, AUTH_TOKEN, { url: `${base}/v1/Account/${AUTH_ID}` });
    const text = 'Your Acme code is 482017. It expires in 5 minutes. Do not share it.';
    const result = await client.messages.create('+14155550100', '+14155550123', text, {
      url: receiver.url,
      method: 'POST',
      type: 'sms',
      log: false,
    });
    expect(result).toMatchObject({ message: 'message(s) queued', messageUuid: [expect.any(String)] });
    expect(result.apiId).toEqual(expect.any(String));
    const id = result.messageUuid[0];

    await until(() => finalStatus(sms.messages()[0]?.status ?? ''), 'delivery');
    expect(sms.messages()).toEqual([
      {
        id,
        type: 'sms',
        to: '+14155550123',
        from: '+14155550100',
        text,
        status: 'delivered',
        sentAt: expect.any(String),
      },
    ]);
    // Sent with log: false, so the simulator has nothing to warn about.
    expect(lines.filter((line) => line.includes('logged by Plivo'))).toEqual([]);
    // The phone prints what it received; no other line holds the text.
    expect(lines.filter((line) => line.includes('482017'))).toEqual([
      `[simulated phone +1********23] received SMS: ${JSON.stringify(text)}`,
    ]);
  });

  it('says when Plivo would keep the text and the full number (log not false)', async () => {
    const { sms, lines } = simulator();
    const base = await messageApi(sms);
    const client = new plivo.Client(AUTH_ID, AUTH_TOKEN, { url: `${base}/v1/Account/${AUTH_ID}` });
    // The SDK's one-object form drops log: false (it copies only truthy options): Plivo would log this one.
    const objectForm = client.messages as unknown as { create(params: object): Promise<unknown> };
    await objectForm.create({ src: '14155550100', dst: '14155550124', text: 'Code 111111', log: false });
    expect(lines.filter((line) => line.includes('logged by Plivo'))).toHaveLength(1);
    expect(lines.filter((line) => line.includes('logged by Plivo')).join()).not.toMatch(/111111|550124/);
  });

  it('refuses wrong credentials with 401 in Plivo’s error shape, and sends nothing', async () => {
    const { sms } = simulator();
    const body = JSON.stringify({ src: '14155550100', dst: '14155550123', text: 'hi' });
    const wrongToken = `Basic ${Buffer.from(`${AUTH_ID}:nope`).toString('base64')}`;
    for (const [authorization, authId] of [
      [undefined, AUTH_ID],
      [wrongToken, AUTH_ID],
      [AUTHORIZATION, 'MAOTHERACCOUNT000000'],
    ] as const) {
      const reply = await sms.createMessage(authorization, authId, body);
      expect(reply).toEqual({
        status: 401,
        body: { api_id: expect.any(String), error: 'Authentication credentials invalid' },
      });
    }
    expect(sms.messages()).toEqual([]);
  });

  it.each([
    ['not JSON', '{"src":'],
    ['an array', '[]'],
    ['no src', { dst: '14155550123', text: 'hi' }],
    ['no dst', { src: '14155550100', text: 'hi' }],
    ['no text', { src: '14155550100', dst: '14155550123' }],
    ['an empty text', { src: '14155550100', dst: '14155550123', text: '' }],
    ['a text that is not a string', { src: '14155550100', dst: '14155550123', text: 123456 }],
    ['a bad number', { src: '14155550100', dst: '12345', text: 'hi' }],
    ['a number with letters', { src: '14155550100', dst: '1415555O123', text: 'hi' }],
    ['several recipients', { src: '14155550100', dst: '14155550123<14155550124', text: 'hi' }],
    ['type mms', { src: '14155550100', dst: '14155550123', text: 'hi', type: 'mms' }],
    ['method GET', { src: '14155550100', dst: '14155550123', text: 'hi', method: 'GET' }],
    ['a bad url', { src: '14155550100', dst: '14155550123', text: 'hi', url: 'ftp://x' }],
    ['a bad log value', { src: '14155550100', dst: '14155550123', text: 'hi', log: 'maybe' }],
    ['a text over 1600 GSM characters', { src: '14155550100', dst: '14155550123', text: 'a'.repeat(1601) }],
    [
      'a text over 737 Unicode characters',
      { src: '14155550100', dst: '14155550123', text: 'あ'.repeat(738) },
    ],
  ])('refuses %s with 400 in Plivo’s error shape, and sends nothing', async (_case, body) => {
    const { sms } = simulator();
    const reply = await sms.createMessage(
      AUTHORIZATION,
      AUTH_ID,
      typeof body === 'string' ? body : JSON.stringify(body),
    );
    expect(reply).toEqual({ status: 400, body: { api_id: expect.any(String), error: expect.any(String) } });
    expect(sms.messages()).toEqual([]);
  });
});

describe('delivery reports', () => {
  it('arrive queued, sent, delivered with Plivo’s parameters, signed V3 and V2 as Plivo signs them', async () => {
    const { sms } = simulator();
    const receiver = await reports();
    const text = 'Your Acme code is 482017.';
    const reply = await send(sms, {
      src: '14155550100',
      dst: '14155550123',
      text,
      url: receiver.url,
      method: 'POST',
      type: 'sms',
      log: false,
    });
    expect(reply.status).toBe(202);
    const id = (reply.body as { message_uuid: string[] }).message_uuid[0];
    await until(() => receiver.server.requests.length === 3, 'three reports');

    const params = receiver.params();
    expect(params.map((p) => [p.Status, p.Sequence])).toEqual([
      ['queued', '1'],
      ['sent', '2'],
      ['delivered', '3'],
    ]);
    for (const p of params) {
      expect(p).toMatchObject({
        MessageUUID: id,
        ParentMessageUUID: id,
        To: '14155550123',
        From: '14155550100',
        Type: 'sms',
        Units: '1',
        TotalRate: '0.00550',
        TotalAmount: '0.00550',
        MCC: '001',
        MNC: '01',
        PowerpackUUID: '',
      });
      expect(p.MessageTime).toMatch(PLIVO_TIME);
      expect(p.QueuedTime).toMatch(PLIVO_TIME);
      expect(p).not.toHaveProperty('ErrorCode');
      // Never the text: a report says how the message went, not what it said.
      expect(Object.values(p).join()).not.toContain('482017');
    }
    expect([params[0]?.SentTime, params[0]?.DeliveryReportTime]).toEqual(['', '']);
    expect(params[1]?.SentTime).toMatch(PLIVO_TIME);
    expect(params[1]?.DeliveryReportTime).toBe('');
    expect(params[2]?.DeliveryReportTime).toMatch(PLIVO_TIME);
    expect(params[2]?.SentTime).toBe(params[1]?.SentTime);

    for (const request of receiver.server.requests) {
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/v1/plivo/message-status?v=vrf_1&t=k1.sealed');
      expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
      const body = Object.fromEntries(new URLSearchParams(request.body));
      const header = (name: string) => String(request.headers[name]);
      const v3Nonce = header('x-plivo-signature-v3-nonce');
      for (const signature of [header('x-plivo-signature-v3'), header('x-plivo-signature-ma-v3')]) {
        expect(
          plivoSignatureValid({
            url: receiver.url,
            bodyParams: Object.entries(body),
            nonce: v3Nonce,
            signatures: [signature],
            authToken: AUTH_TOKEN,
          }),
        ).toBe(true);
        expect(plivo.validateV3Signature('POST', receiver.url, v3Nonce, AUTH_TOKEN, signature, body)).toBe(
          true,
        );
      }
      const v2Nonce = header('x-plivo-signature-v2-nonce');
      expect(v2Nonce).toMatch(/^[0-9]{20}$/);
      for (const signature of [header('x-plivo-signature-v2'), header('x-plivo-signature-ma-v2')]) {
        expect(plivo.validateSignature(receiver.url, v2Nonce, signature, AUTH_TOKEN)).toBe(true);
        expect(plivo.validateSignature(receiver.url, v2Nonce, signature, 'another-token')).toBe(false);
      }
    }
    // V3 covers the query and the body; V2 covers neither (why the service requires V3).
    const first = receiver.server.requests[0];
    const v3 = {
      nonce: String(first?.headers['x-plivo-signature-v3-nonce']),
      signatures: [String(first?.headers['x-plivo-signature-v3'])],
      authToken: AUTH_TOKEN,
    };
    const body = [...new URLSearchParams(first?.body)];
    const otherToken = receiver.url.replace('k1.sealed', 'k1.other');
    expect(plivoSignatureValid({ ...v3, url: otherToken, bodyParams: body })).toBe(false);
    const delivered = body.map(([k, v]) => [k, k === 'Status' ? 'delivered' : v] as [string, string]);
    expect(plivoSignatureValid({ ...v3, url: receiver.url, bodyParams: delivered })).toBe(false);
    const v2Nonce = String(first?.headers['x-plivo-signature-v2-nonce']);
    const v2 = String(first?.headers['x-plivo-signature-v2']);
    expect(plivo.validateSignature(otherToken, v2Nonce, v2, AUTH_TOKEN)).toBe(true);
  });

  it('count Units by segments and price them per unit', async () => {
    const { sms } = simulator();
    const receiver = await reports();
    // 161 GSM characters: two segments. Japanese: UCS-2, 70 characters a segment.
    await send(sms, { src: '14155550100', dst: '14155550123', text: 'a'.repeat(161), url: receiver.url });
    await send(sms, { src: '14155550100', dst: '14155550124', text: 'あ'.repeat(70), url: receiver.url });
    await until(() => receiver.server.requests.length === 6, 'six reports');
    const byTo = (to: string) => receiver.params().find((p) => p.To === to);
    expect(byTo('14155550123')).toMatchObject({ Units: '2', TotalAmount: '0.01100' });
    expect(byTo('14155550124')).toMatchObject({ Units: '1', TotalAmount: '0.00550' });
  });

  it('retry a report that got no 2xx, with the same parameters, on Plivo’s schedule, then give up', async () => {
    const { sms, lines } = simulator();
    let queuedAttempts = 0;
    const receiver = await reports((request) => {
      if (!request.body.includes('Status=queued')) return 200;
      queuedAttempts += 1;
      // The first try fails; so do all three retries of the second message's queued report.
      return request.body.includes('To=14155550124') || queuedAttempts === 1 ? 503 : 200;
    });
    await send(sms, { src: '14155550100', dst: '14155550123', text: 'one', url: receiver.url });
    const isFor = (to: string, status: string) => (p: Record<string, string>) =>
      p.To === to && p.Status === status;
    await until(() => receiver.params().filter(isFor('14155550123', 'queued')).length === 2, 'one retry');
    const queued = receiver.params().filter(isFor('14155550123', 'queued'));
    expect(queued[1]).toEqual(queued[0]);
    await until(() => receiver.params().some(isFor('14155550123', 'delivered')), 'delivered');
    // A failed report does not hold back the next: sent and delivered came once each.
    expect(receiver.params().filter((p) => p.To === '14155550123' && p.Status !== 'queued')).toHaveLength(2);
    expect(sms.messages()[0]?.status).toBe('delivered');

    await send(sms, { src: '14155550100', dst: '14155550124', text: 'two', url: receiver.url });
    await until(
      () => lines.some((line) => line.includes('gave up on the queued delivery report')),
      'give up',
    );
    // The first try and three retries.
    expect(receiver.params().filter(isFor('14155550124', 'queued'))).toHaveLength(4);
    expect(lines).toContain('[simulated phone +1********24] queued delivery report answered 503');
  });

  it('retry a report that found no server', async () => {
    const { sms, lines } = simulator();
    const closed = await captureServer(() => ({ status: 200 }));
    await closed.close();
    await send(sms, { src: '14155550100', dst: '14155550123', text: 'hi', url: `${closed.url}/status` });
    await until(
      () => lines.some((line) => line.includes('gave up on the delivered delivery report')),
      'give up',
    );
    expect(lines.filter((line) => line.includes('delivered delivery report failed'))).toHaveLength(4);
  });
});

describe('special recipients', () => {
  it('+12025550197: queued, sent, then undelivered with an ErrorCode; the phone never shows the text', async () => {
    const { sms, lines } = simulator();
    const receiver = await reports();
    const reply = await send(sms, {
      src: '14155550100',
      dst: '12025550197',
      text: 'Your code is 482017.',
      url: receiver.url,
    });
    expect(reply.status).toBe(202);
    await until(() => receiver.server.requests.length === 3, 'three reports');
    expect(receiver.params().map((p) => [p.Status, p.ErrorCode])).toEqual([
      ['queued', undefined],
      ['sent', undefined],
      ['undelivered', '70'],
    ]);
    expect(sms.messages()).toEqual([expect.objectContaining({ status: 'undelivered', text: null })]);
    expect(lines.join('\n')).not.toContain('482017');
    expect(lines).toContain('[simulated phone +1********97] SMS not delivered (error 70)');
  });

  it('+12025550198: the Message API refuses it with 400 in Plivo’s error shape; no report, no message', async () => {
    const { sms } = simulator();
    const receiver = await reports();
    const reply = await send(sms, { src: '14155550100', dst: '+12025550198', text: 'hi', url: receiver.url });
    expect(reply).toEqual({ status: 400, body: { api_id: expect.any(String), error: expect.any(String) } });
    expect(sms.messages()).toEqual([]);
    expect(receiver.server.requests).toEqual([]);
  });

  it.each(['+12025550190', '+12025550193', '+12025550194', '+12025550195'])(
    '%s, a special callee, receives SMS normally',
    async (callee) => {
      const { sms } = simulator();
      const receiver = await reports();
      expect(
        (await send(sms, { src: '14155550100', dst: callee, text: 'hi', url: receiver.url })).status,
      ).toBe(202);
      await until(() => receiver.server.requests.length === 3, 'three reports');
      expect(receiver.params().at(-1)?.Status).toBe('delivered');
      expect(sms.messages()).toEqual([
        expect.objectContaining({ to: callee, status: 'delivered', text: 'hi' }),
      ]);
    },
  );
});

describe('the phone', () => {
  it('keeps a text of several lines on its one labelled line', async () => {
    const { sms, lines } = simulator();
    await send(sms, {
      src: '14155550100',
      dst: '14155550123',
      text: 'Your code is 482017.\n\n@example.com #482017',
    });
    await until(() => sms.messages()[0]?.status === 'delivered', 'delivery');
    const holding = lines.filter((line) => line.includes('482017'));
    expect(holding).toHaveLength(1);
    expect(holding[0]).toMatch(/^\[simulated phone \+1\*{8}23\] received SMS: "[^\n]*"$/);
    expect(sms.messages()[0]?.text).toBe('Your code is 482017.\n\n@example.com #482017');
  });

  it('lists messages oldest first; a message with no url gets no report but is delivered', async () => {
    const { sms } = simulator();
    await send(sms, { src: '14155550100', dst: '14155550123', text: 'first' });
    await send(sms, { src: 'VOICEOTP', dst: '14155550124', text: 'second' });
    await until(() => sms.messages().every((m) => m.status === 'delivered'), 'delivery');
    expect(sms.messages().map((m) => [m.to, m.from, m.text])).toEqual([
      ['+14155550123', '+14155550100', 'first'],
      ['+14155550124', 'VOICEOTP', 'second'],
    ]);
  });
});
