import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import plivo from 'plivo';
import { afterEach, describe, expect, it } from 'vitest';
import { plivoSignatureValid } from '#channels/plivo-signature.ts';
import { MessageSimulator, type SimulatedWhatsApp } from '../../local/message-simulator.ts';
import { captureServer } from '../support/capture-server.ts';

const AUTH_ID = 'MAWHATSAPPSIMULATOR0';
const AUTH_TOKEN = 'whatsapp-simulator-test-token';
const AUTHORIZATION = `Basic ${Buffer.from(`${AUTH_ID}:${AUTH_TOKEN}`).toString('base64')}`;
const NUMBER = '+14155550010';

const ACCOUNT: SimulatedWhatsApp = {
  number: NUMBER,
  templates: [
    {
      name: 'verification_code',
      languages: ['en_US', 'de', 'pt_BR'],
      securityRecommendation: true,
      codeExpirationMinutes: 5,
    },
    {
      name: 'bare_code',
      languages: ['en_US'],
      securityRecommendation: false,
      codeExpirationMinutes: undefined,
    },
  ],
};

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

function simulator(account: SimulatedWhatsApp | null = ACCOUNT) {
  const lines: string[] = [];
  const messages = new MessageSimulator(
    { authId: AUTH_ID, authToken: AUTH_TOKEN, speed: 1000, log: (line) => lines.push(line) },
    account ?? undefined,
  );
  cleanups.push(() => messages.stop());
  return { messages, lines };
}

async function reports() {
  const server = await captureServer(() => ({ status: 200 }));
  cleanups.push(() => server.close());
  const url = `${server.url}/v1/plivo/message-status?v=vrf_1&t=k1.sealed&c=whatsapp`;
  const params = () =>
    server.requests.map((request) => Object.fromEntries(new URLSearchParams(request.body)));
  return { server, url, params };
}

/** Meta's authentication template message for `code`, as the service (and the SDK's README) send it. */
const authentication = (code: string, overrides: Record<string, unknown> = {}) => ({
  name: 'verification_code',
  language: 'en_US',
  components: [
    { type: 'body', parameters: [{ type: 'text', text: code }] },
    { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: code }] },
  ],
  ...overrides,
});

const whatsapp = (to: string, template: unknown, extra: Record<string, unknown> = {}) => ({
  src: NUMBER.slice(1),
  dst: to.slice(1),
  type: 'whatsapp',
  template,
  method: 'POST',
  log: false,
  ...extra,
});

const send = (messages: MessageSimulator, body: unknown) =>
  messages.createMessage(AUTHORIZATION, AUTH_ID, JSON.stringify(body));

async function until(condition: () => boolean, what: string) {
  for (let i = 0; i < 1000 && !condition(); i++) await sleep(10);
  if (!condition()) throw new Error(`never happened: ${what}`);
}

async function messageApi(messages: MessageSimulator) {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const authId = /^\/v1\/Account\/([^/]+)\/Message\/$/.exec(request.url ?? '')?.[1] ?? '';
      const reply = await messages.createMessage(
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

describe('the simulated WhatsApp template message', () => {
  it("takes the official SDK's request, shows the template as the phone does, and reports up to read", async () => {
    const { messages, lines } = simulator();
    const receiver = await reports();
    const client = new plivo.Client(AUTH_ID, AUTH_TOKEN, {
      url: `${await messageApi(messages)}/v1/Account/${AUTH_ID}`,
    });
    const result = await client.messages.create(NUMBER, '+14155550123', undefined as never, {
      type: 'whatsapp',
      template: authentication('482017'),
      url: receiver.url,
      method: 'POST',
      log: false,
    });
    expect(result).toMatchObject({ message: 'message(s) queued', messageUuid: [expect.any(String)] });
    const id = result.messageUuid[0];
    // Nothing on the phone until it is delivered.
    expect(messages.messages()[0]).toMatchObject({ type: 'whatsapp', text: null });
    await until(() => receiver.server.requests.length === 4, 'four reports');

    const text =
      '*482017* is your verification code. For your security, do not share this code. This code expires in 5 minutes.';
    expect(messages.messages()).toEqual([
      {
        id,
        type: 'whatsapp',
        to: '+14155550123',
        from: NUMBER,
        text,
        status: 'read',
        sentAt: expect.any(String),
      },
    ]);
    const params = receiver.params();
    expect(params.map((p) => [p.Status, p.Sequence])).toEqual([
      ['queued', '1'],
      ['sent', '2'],
      ['delivered', '3'],
      ['read', '4'],
    ]);
    for (const [i, p] of params.entries()) {
      expect(p).toMatchObject({
        MessageUUID: id,
        Type: 'whatsapp',
        To: '14155550123',
        From: NUMBER.slice(1),
        Units: '1',
        ConversationOrigin: 'authentication',
      });
      expect(Object.values(p).join()).not.toContain('482017');
      const request = receiver.server.requests[i];
      expect(
        plivoSignatureValid({
          url: receiver.url,
          bodyParams: Object.entries(p),
          nonce: String(request?.headers['x-plivo-signature-v3-nonce']),
          signatures: [String(request?.headers['x-plivo-signature-v3'])],
          authToken: AUTH_TOKEN,
        }),
      ).toBe(true);
    }
    expect(lines.filter((line) => line.includes('482017'))).toEqual([
      `[simulated phone +1********23] received WhatsApp message: ${JSON.stringify(text)}`,
    ]);
    expect(lines.filter((line) => line.includes('logged by Plivo'))).toEqual([]);
  });

  it("renders the template's language, and only the parts the template was approved with", async () => {
    const { messages } = simulator();
    await send(messages, whatsapp('+14155550124', authentication('111222', { language: 'de' })));
    await send(messages, whatsapp('+14155550125', authentication('333444', { name: 'bare_code' })));
    await until(() => messages.messages().every((m) => m.text !== null), 'delivery');
    expect(messages.messages().map((m) => m.text)).toEqual([
      'Dein Bestätigungscode lautet *111222*. Gib diesen Code aus Sicherheitsgründen nicht weiter. Dieser Code läuft in 5 Minuten ab.',
      '*333444* is your verification code.',
    ]);
  });

  it('+12025550199 is not on WhatsApp: Plivo refuses it with 400, no message, no report; SMS still arrive', async () => {
    const { messages } = simulator();
    const receiver = await reports();
    const reply = await send(
      messages,
      whatsapp('+12025550199', authentication('482017'), { url: receiver.url }),
    );
    // Like Plivo's errors, it repeats the number: the service must never log it verbatim.
    expect(reply).toEqual({
      status: 400,
      body: { api_id: expect.any(String), error: expect.stringContaining('12025550199') },
    });
    expect(messages.messages()).toEqual([]);
    const sms = await send(messages, {
      src: '14155550100',
      dst: '12025550199',
      text: 'Your code is 482017.',
    });
    expect(sms.status).toBe(202);
    await sleep(50);
    expect(receiver.server.requests).toEqual([]);
  });

  it('+12025550197: undelivered with an ErrorCode, never read, and the phone shows nothing', async () => {
    const { messages } = simulator();
    const receiver = await reports();
    await send(messages, whatsapp('+12025550197', authentication('482017'), { url: receiver.url }));
    await until(() => receiver.server.requests.length === 3, 'three reports');
    await sleep(50);
    expect(receiver.params().map((p) => p.Status)).toEqual(['queued', 'sent', 'undelivered']);
    expect(receiver.params()[2]).toMatchObject({ ErrorCode: expect.stringMatching(/^[0-9]+$/) });
    expect(messages.messages()).toEqual([expect.objectContaining({ status: 'undelivered', text: null })]);
  });

  it.each([
    [
      'no template (a business may start a conversation with nothing else)',
      whatsapp('+14155550123', undefined, { text: 'Your code is 1' }),
    ],
    ['a template of another name', whatsapp('+14155550123', authentication('1', { name: 'promo' }))],
    [
      'a language the template is not approved in',
      whatsapp('+14155550123', authentication('1', { language: 'fr' })),
    ],
    [
      'no body parameter',
      whatsapp('+14155550123', authentication('1', { components: [{ type: 'body', parameters: [] }] })),
    ],
    [
      'no copy-code button',
      whatsapp(
        '+14155550123',
        authentication('1', { components: [{ type: 'body', parameters: [{ type: 'text', text: '1' }] }] }),
      ),
    ],
    [
      'a button code other than the body code',
      whatsapp(
        '+14155550123',
        authentication('1', {
          components: [
            { type: 'body', parameters: [{ type: 'text', text: '1' }] },
            { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: '2' }] },
          ],
        }),
      ),
    ],
    [
      'a src that is not the WhatsApp Business number',
      { ...whatsapp('+14155550123', authentication('1')), src: '14155550100' },
    ],
    [
      'an interactive message',
      whatsapp('+14155550123', authentication('1'), { interactive: { type: 'button' } }),
    ],
  ])('refuses %s with 400 in Plivo’s error shape, and sends nothing', async (_case, body) => {
    const { messages } = simulator();
    expect(await send(messages, body)).toEqual({
      status: 400,
      body: { api_id: expect.any(String), error: expect.any(String) },
    });
    expect(messages.messages()).toEqual([]);
  });

  it('refuses every WhatsApp message on an account without a WhatsApp Business number', async () => {
    const { messages } = simulator(null);
    const reply = await send(messages, whatsapp('+14155550123', authentication('1')));
    expect(reply.status).toBe(400);
    expect(messages.messages()).toEqual([]);
  });

  it('says when Plivo would keep the message and the full number (log not false)', async () => {
    const { messages, lines } = simulator();
    await send(messages, whatsapp('+14155550123', authentication('482017'), { log: true }));
    expect(lines.filter((line) => line.includes('logged by Plivo'))).toHaveLength(1);
    expect(lines.join()).not.toMatch(/482017|550123/);
  });
});
