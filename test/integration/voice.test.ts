import { beforeAll, describe, expect, it } from 'vitest';
import { CATALOG, LOCALES } from '../../lib/messages.ts';
import {
  answerParams,
  apiEvent,
  check,
  createHarness,
  type Harness,
  hangupParams,
  parse,
  status,
  webhookEvent,
} from '../support/harness.ts';
import { descendants, type Node, parseXml } from '../support/xml.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ APP_NAME: 'Acme' });
});

async function send(harness: Harness, phone = '+14155550123', locale?: string) {
  const response = await harness.send(
    apiEvent({ method: 'POST', resource: '/v1/verifications', body: { phone, ...(locale && { locale }) } }),
  );
  expect(response.statusCode).toBe(202);
  const call = harness.telephony.calls.at(-1);
  if (!call) throw new Error('no call');
  return { id: parse(response).id as string, call };
}

async function post(harness: Harness, url: string, params: Record<string, string>) {
  const response = await (url.includes('/hangup') ? harness.hangup : harness.answer)(
    webhookEvent(url, params),
  );
  return response;
}

async function answerXml(
  harness: Harness,
  url: string,
  params: Record<string, string> = answerParams('call-1'),
) {
  const response = await post(harness, url, params);
  expect(response.statusCode).toBe(200);
  expect(response.headers?.['Content-Type']).toBe('application/xml; charset=utf-8');
  return parseXml(response.body);
}

const spokenDigits = (speak: Node | undefined) =>
  [...descendants(speak ?? parseXml('<x/>'))]
    .filter((n) => n.name === 'say-as')
    .map((n) => n.text)
    .join('');

const codeOf = (harness: Harness, id: string) =>
  harness.scan().then((items) => items.find((i) => i.id === id));

describe('answer XML', () => {
  it('greets with the app name, reads the code digit by digit twice, slowly, then offers a repeat', async () => {
    const { call } = await send(h);
    const xml = await answerXml(h, call.answerUrl);
    expect(xml.name).toBe('Response');
    expect(xml.children.map((n) => n.name)).toEqual(['Speak', 'GetInput', 'Speak', 'Hangup']);
    const [speak, getInput, goodbye] = xml.children;
    expect(speak?.attributes).toEqual({ voice: 'Polly.Joanna', language: 'en-US' });
    expect(speak?.children[0]?.name).toBe('prosody');
    expect(speak?.children[0]?.attributes.rate).toBe('slow');
    expect(speak?.text).toContain('This is Acme');
    const digits = spokenDigits(speak);
    expect(digits).toMatch(/^([0-9]{6})\1$/);
    const code = digits.slice(0, 6);
    // Pauses between digits.
    const breaks = [...descendants(speak as Node)].filter((n) => n.name === 'break');
    expect(breaks.length).toBeGreaterThanOrEqual(10);
    expect(getInput?.attributes).toMatchObject({
      inputType: 'dtmf',
      numDigits: '1',
      method: 'POST',
      log: 'false',
    });
    expect(getInput?.children[0]?.text).toBe('To hear the code again, press 1.');
    expect(goodbye?.text).toBe('Goodbye.');
    // The code is nowhere but in the speech: not in any URL or attribute.
    for (const node of descendants(xml))
      for (const value of Object.values(node.attributes)) expect(value).not.toContain(code);
    expect(call.answerUrl).not.toContain(code);
    expect(call.hangupUrl).not.toContain(code);
    // And it is the code that verifies.
    const verificationId = new URL(call.answerUrl).searchParams.get('v') ?? '';
    expect(parse(await check(h, { id: verificationId, code }))).toMatchObject({ valid: true });
  });

  it('repeats on 1 up to three times, then only says goodbye', async () => {
    const { call } = await send(h);
    let xml = await answerXml(h, call.answerUrl);
    const code = spokenDigits(xml.children[0]).slice(0, 6);
    for (let repeat = 1; repeat <= 3; repeat++) {
      const action = xml.children.find((n) => n.name === 'GetInput')?.attributes.action ?? '';
      expect(new URL(action).searchParams.get('r')).toBe(String(repeat));
      expect(new URL(action).searchParams.get('s')).toBe('repeat');
      xml = await answerXml(h, action, answerParams('call-2', { Digits: '1', InputType: 'dtmf' }));
      expect(spokenDigits(xml.children[0])).toBe(code + code);
    }
    expect(xml.children.map((n) => n.name)).toEqual(['Speak', 'Speak', 'Hangup']);
  });

  it('says goodbye for any key other than 1, and for a forged repeat count', async () => {
    const { call } = await send(h);
    const xml = await answerXml(h, call.answerUrl);
    const action = xml.children.find((n) => n.name === 'GetInput')?.attributes.action ?? '';
    const other = await answerXml(h, action, answerParams('c', { Digits: '7' }));
    expect(other.children.map((n) => n.name)).toEqual(['Speak', 'Hangup']);
    expect(other.children[0]?.text).toBe('Goodbye.');
    const tooMany = action.replace('r=1', 'r=4');
    expect((await answerXml(h, tooMany, answerParams('c', { Digits: '1' }))).children[0]?.text).toBe(
      'Goodbye.',
    );
  });

  it('tells the callee politely when the code has expired', async () => {
    const local = await createHarness();
    const { call } = await send(local);
    local.clock.advance(300_000);
    const xml = await answerXml(local, call.answerUrl);
    expect(xml.children.map((n) => n.name)).toEqual(['Speak', 'Hangup']);
    expect(xml.children[0]?.text).toBe('This code has expired. Please request a new one. Goodbye.');
    expect(spokenDigits(xml)).toBe('');
  });

  it.each(LOCALES)('speaks %s with its own voice and prompts', async (locale) => {
    const { call } = await send(h, '+14155550123', locale);
    const xml = await answerXml(h, call.answerUrl);
    const prompts = CATALOG[locale];
    for (const speak of [...descendants(xml)].filter((n) => n.name === 'Speak')) {
      expect(speak.attributes).toEqual({ voice: prompts.voice, language: locale });
    }
    expect(xml.children[0]?.text).toContain(prompts.intro.replace('{app}', 'Acme'));
    expect(spokenDigits(xml.children[0])).toMatch(/^([0-9]{6})\1$/);
  });

  it('asks for a key first when REQUIRE_KEYPRESS is on, and hangs up without one', async () => {
    const gated = await createHarness({ REQUIRE_KEYPRESS: 'true', APP_NAME: 'Acme' });
    const { call } = await send(gated);
    const gate = await answerXml(gated, call.answerUrl);
    expect(spokenDigits(gate)).toBe('');
    expect(gate.children.map((n) => n.name)).toEqual(['GetInput', 'Speak', 'Hangup']);
    expect(gate.children[0]?.text).toContain('press any key');
    const action = gate.children[0]?.attributes.action ?? '';
    expect(new URL(action).searchParams.get('s')).toBe('gate');
    const code = await answerXml(gated, action, answerParams('g', { Digits: '5' }));
    expect(spokenDigits(code.children[0])).toMatch(/^([0-9]{6})\1$/);
    const none = await answerXml(gated, action, answerParams('g'));
    expect(spokenDigits(none)).toBe('');
  });

  it('needs no database: answering writes and reads nothing', async () => {
    const { call } = await send(h);
    const before = await h.scan();
    await answerXml(h, call.answerUrl);
    expect(await h.scan()).toEqual(before);
  });
});

describe('webhook signatures', () => {
  it('refuse unsigned, forged, re-targeted and tampered requests with 403 and no effect', async () => {
    const { id, call } = await send(h);
    const forged = [
      webhookEvent(call.answerUrl, answerParams('x'), { signature: null }),
      webhookEvent(call.answerUrl, answerParams('x'), { authToken: 'wrong-token' }),
      webhookEvent(call.answerUrl, answerParams('x'), { signature: 'bm90IGEgc2lnbmF0dXJl' }),
      {
        ...webhookEvent(call.answerUrl, answerParams('x')),
        body: new URLSearchParams(answerParams('x', { Digits: '1' })).toString(),
      },
      {
        ...webhookEvent(call.answerUrl, answerParams('x')),
        multiValueQueryStringParameters: { v: [id], t: ['k1.x'] },
      },
    ];
    for (const event of forged) {
      const response = await h.answer(event);
      expect(response.statusCode).toBe(403);
      expect(parse(response)).toEqual({ error: { code: 'invalid_signature', message: expect.any(String) } });
    }
    // A signature for another host is refused: the URL signed is PUBLIC_URL's, whatever Host says.
    const otherHost = call.answerUrl.replace('otp.example.test', 'evil.example');
    const moved = {
      ...webhookEvent(otherHost, answerParams('x')),
      headers: { ...webhookEvent(otherHost, answerParams('x')).headers, Host: 'evil.example' },
    };
    expect((await h.answer(moved)).statusCode).toBe(403);
    // Forged hangups write nothing.
    const before = await h.scan();
    const forgedHangup = webhookEvent(
      call.hangupUrl,
      { CallUUID: 'u', CallStatus: 'completed' },
      { authToken: 'nope' },
    );
    expect((await h.hangup(forgedHangup)).statusCode).toBe(403);
    expect(await h.scan()).toEqual(before);
  });

  it('accept one valid signature among several, and the -Ma-V3 header', async () => {
    const { call } = await send(h);
    const good = webhookEvent(call.answerUrl, answerParams('x'));
    const signature = good.headers['X-Plivo-Signature-V3'] ?? '';
    const several = {
      ...good,
      headers: { ...good.headers, 'X-Plivo-Signature-V3': `bm9wZQ==,${signature}` },
    };
    expect((await h.answer(several)).statusCode).toBe(200);
    const { 'X-Plivo-Signature-V3': _, ...rest } = good.headers;
    const ma = { ...good, headers: { ...rest, 'X-Plivo-Signature-Ma-V3': signature } };
    expect((await h.answer(ma)).statusCode).toBe(200);
  });
});

describe('hangup', () => {
  it('records the outcome on the verification, shown by GET', async () => {
    const { id, call } = await send(h);
    const response = await post(h, call.hangupUrl, hangupParams('uuid-1', { Duration: '21' }));
    expect(response.statusCode).toBe(200);
    expect(parse(await status(h, id)).call).toEqual({
      status: 'completed',
      durationSeconds: 21,
      billDurationSeconds: 60,
      hangupCause: 'Normal Hangup',
      cost: '0.00850',
    });
  });

  it.each([
    [{ CallStatus: 'busy', Duration: '0', BillDuration: '0' }, 'busy'],
    [{ CallStatus: 'no-answer' }, 'no-answer'],
    [{ CallStatus: 'timeout' }, 'no-answer'],
    [{ CallStatus: 'failed' }, 'failed'],
    [{ CallStatus: 'completed', Machine: 'true' }, 'machine'],
  ])('maps %o to %s', async (extra, expected) => {
    const { id, call } = await send(h);
    await post(h, call.hangupUrl, hangupParams('uuid-x', extra));
    expect((parse(await status(h, id)).call as { status: string }).status).toBe(expected);
  });

  it('is idempotent under retries and ignores a second CallUUID', async () => {
    const { id, call } = await send(h);
    await post(h, call.hangupUrl, hangupParams('uuid-2'));
    const first = await codeOf(h, id);
    await post(h, call.hangupUrl, hangupParams('uuid-2'));
    expect(await codeOf(h, id)).toEqual(first);
    const other = await post(h, call.hangupUrl, hangupParams('uuid-3', { CallStatus: 'busy' }));
    expect(other.statusCode).toBe(200);
    expect((await codeOf(h, id))?.call).toEqual(first?.call);
  });

  it('answers 200 and writes nothing for an unknown verification', async () => {
    const before = await h.scan();
    const url = 'https://otp.example.test/prod/v1/plivo/hangup?v=vrf_0000000000000000000000000Z';
    expect((await post(h, url, hangupParams('uuid-4'))).statusCode).toBe(200);
    expect(await h.scan()).toEqual(before);
  });
});
