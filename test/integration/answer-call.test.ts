import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { telephonyUnavailable } from '#channels/telephony.ts';
import { VOICE_PROMPTS } from '#channels/voice-prompts.ts';
import type { Ending } from '#channels/voice-script.ts';
import { LOCALES, type Locale } from '#platform/locales.ts';
import { createDocumentClient } from '#store/dynamodb-client.ts';
import { dynamoDbStore } from '#store/dynamodb-store.ts';
import { createAnswerHandler } from '../../functions/answer.ts';
import { freePort, localClient } from '../../local/dynamodb-local.ts';
import {
  answerParams,
  apiEvent,
  cancel,
  check,
  createHarness,
  type Harness,
  hangupParams,
  parse,
  spokenCode,
  status,
  webhookEvent,
  wrongCode,
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

  it.each(LOCALES)('speaks %s with its own voice and prompts', async (locale) => {
    const { call } = await send(h, '+14155550123', locale);
    const xml = await answerXml(h, call.answerUrl);
    const prompts = VOICE_PROMPTS[locale];
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

  it('reads the verification with one GetItem before speaking, writes nothing, and reads nothing to say goodbye', async () => {
    const { call } = await send(h);
    h.dynamoCalls.length = 0;
    const xml = await answerXml(h, call.answerUrl);
    expect(h.dynamoCalls).toEqual(['GetItemCommand']);
    const action = xml.children.find((n) => n.name === 'GetInput')?.attributes.action ?? '';
    h.dynamoCalls.length = 0;
    await answerXml(h, action, answerParams('c', { Digits: '1' }));
    expect(h.dynamoCalls).toEqual(['GetItemCommand']);
    h.dynamoCalls.length = 0;
    await answerXml(h, action, answerParams('c', { Digits: '7' }));
    expect(h.dynamoCalls).toEqual([]);
  });

  it('asks DynamoDB for a strongly consistent read of the status fields alone', async () => {
    const { call } = await send(h);
    const inputs: Record<string, unknown>[] = [];
    const client = createDocumentClient(h.connection);
    client.middlewareStack.add(
      (next, context) => (args) => {
        inputs.push({ command: context.commandName, ...(args.input as Record<string, unknown>) });
        return next(args);
      },
      { step: 'initialize', name: 'recordInputs' },
    );
    const answer = createAnswerHandler({
      ...h.depsFor('answer'),
      store: dynamoDbStore({
        db: client,
        tableName: h.tableName,
        retentionSeconds: h.config.retentionSeconds,
      }),
    });
    expect((await answer(webhookEvent(call.answerUrl, answerParams('c')))).statusCode).toBe(200);
    expect(inputs).toHaveLength(1);
    const [input = {}] = inputs;
    expect(input).toMatchObject({ command: 'GetItemCommand', ConsistentRead: true });
    const names = input.ExpressionAttributeNames as Record<string, string>;
    const projected = String(input.ProjectionExpression)
      .split(',')
      .map((name) => names[name.trim()]);
    expect(projected.sort()).toEqual(
      ['attempts', 'expiresAt', 'locale', 'maxAttempts', 'status', 'supersededBy'].sort(),
    );
  });
});

describe('a call for a verification that is no longer pending', () => {
  /** The one Speak and Hangup of a state message, and the code nowhere in the document. */
  async function expectEnding(
    harness: Harness,
    url: string,
    ending: Ending,
    locale: Locale,
    code: string,
    params = answerParams('late'),
  ) {
    const response = await post(harness, url, params);
    expect(response.statusCode).toBe(200);
    const xml = parseXml(response.body);
    expect(xml.children.map((n) => n.name)).toEqual(['Speak', 'Hangup']);
    expect(xml.children[0]?.attributes).toEqual({ voice: VOICE_PROMPTS[locale].voice, language: locale });
    expect(xml.children[0]?.text).toBe(VOICE_PROMPTS[locale][ending]);
    expect(spokenDigits(xml)).toBe('');
    expect(xml.text).not.toMatch(/[0-9]/);
    expect(response.body).not.toContain(code);
  }

  const states: Array<
    [string, Ending, Locale, (harness: Harness) => Promise<{ url: string; code: string }>]
  > = [
    [
      'approved',
      'verified',
      'fr-FR',
      async (harness) => {
        const { id, call } = await send(harness, '+14155550131', 'fr-FR');
        const code = spokenCode(harness, call);
        expect(parse(await check(harness, { id, code }))).toMatchObject({ valid: true });
        return { url: call.answerUrl, code };
      },
    ],
    [
      'canceled',
      'canceled',
      'de-DE',
      async (harness) => {
        const { id, call } = await send(harness, '+14155550132', 'de-DE');
        expect((await cancel(harness, id)).statusCode).toBe(200);
        return { url: call.answerUrl, code: spokenCode(harness, call) };
      },
    ],
    [
      'superseded by a newer send',
      'superseded',
      'es-ES',
      async (harness) => {
        const { call } = await send(harness, '+14155550133', 'es-ES');
        await send(harness, '+14155550133', 'es-ES');
        return { url: call.answerUrl, code: spokenCode(harness, call) };
      },
    ],
    [
      'expired',
      'expired',
      'it-IT',
      async (harness) => {
        const { call } = await send(harness, '+14155550134', 'it-IT');
        const code = spokenCode(harness, call);
        harness.clock.advance(harness.config.codeTtlSeconds * 1000);
        return { url: call.answerUrl, code };
      },
    ],
    [
      'max_attempts_reached',
      'unusable',
      'pt-BR',
      async (harness) => {
        const { id, call } = await send(harness, '+14155550135', 'pt-BR');
        const code = spokenCode(harness, call);
        for (let i = 0; i < harness.config.maxAttempts; i++)
          await check(harness, { id, code: wrongCode(code) });
        expect(parse(await status(harness, id)).status).toBe('max_attempts_reached');
        return { url: call.answerUrl, code };
      },
    ],
    [
      'failed (the call request timed out, yet Plivo placed it)',
      'unusable',
      'ja-JP',
      async (harness) => {
        harness.telephony.fail = telephonyUnavailable();
        const response = await harness.send(
          apiEvent({
            method: 'POST',
            resource: '/v1/verifications',
            body: { phone: '+14155550136', locale: 'ja-JP' },
          }),
        );
        harness.telephony.fail = undefined;
        expect(response.statusCode).toBe(502);
        const call = harness.telephony.calls.at(-1);
        if (!call) throw new Error('no call');
        return { url: call.answerUrl, code: spokenCode(harness, call) };
      },
    ],
    [
      'gone (deleted by TTL, or unknown)',
      'expired',
      'hi-IN',
      async (harness) => {
        const { id, call } = await send(harness, '+14155550137', 'hi-IN');
        const client = localClient(harness.connection);
        await client.send(
          new DeleteItemCommand({ TableName: harness.tableName, Key: { pk: { S: `VERIFICATION#${id}` } } }),
        );
        client.destroy();
        return { url: call.answerUrl, code: spokenCode(harness, call) };
      },
    ],
  ];

  it.each(states)(
    '%s: speaks no digit of the code, says why in the call locale, hangs up',
    async (_state, ending, locale, arrange) => {
      const harness = await createHarness({ APP_NAME: 'Acme' });
      const { url, code } = await arrange(harness);
      harness.dynamoCalls.length = 0;
      await expectEnding(harness, url, ending, locale, code);
      expect(harness.dynamoCalls).toEqual(['GetItemCommand']);
    },
  );

  it('a user who pressed "call me" twice and answers the first call hears that it was replaced by a newer code', async () => {
    const phone = '+14155550138';
    const first = await send(h, phone);
    const second = await send(h, phone);
    await expectEnding(h, first.call.answerUrl, 'superseded', 'en-US', spokenCode(h, first.call));
    // The newer call speaks its own code, and that code verifies.
    const xml = await answerXml(h, second.call.answerUrl);
    const code = spokenDigits(xml.children[0]).slice(0, 6);
    expect(code).toBe(spokenCode(h, second.call));
    expect(parse(await check(h, { phone, code }))).toMatchObject({ id: second.id, valid: true });
  });

  it('re-reads on every step: pressing 1 after the code was approved speaks nothing more', async () => {
    const { id, call } = await send(h, '+14155550139');
    const xml = await answerXml(h, call.answerUrl);
    const code = spokenDigits(xml.children[0]).slice(0, 6);
    expect(parse(await check(h, { id, code }))).toMatchObject({ valid: true });
    const action = xml.children.find((n) => n.name === 'GetInput')?.attributes.action ?? '';
    await expectEnding(h, action, 'verified', 'en-US', code, answerParams('c', { Digits: '1' }));
  });

  it('re-reads after the key-press gate: a code canceled meanwhile is not spoken', async () => {
    const gated = await createHarness({ REQUIRE_KEYPRESS: 'true' });
    const { id, call } = await send(gated, '+14155550140');
    const gate = await answerXml(gated, call.answerUrl);
    const action = gate.children[0]?.attributes.action ?? '';
    expect((await cancel(gated, id)).statusCode).toBe(200);
    await expectEnding(
      gated,
      action,
      'canceled',
      'en-US',
      spokenCode(gated, call),
      answerParams('g', { Digits: '5' }),
    );
  });

  it('every locale has a message for every state, with no digit in it', () => {
    const endings: Ending[] = ['expired', 'verified', 'superseded', 'canceled', 'unusable', 'unavailable'];
    for (const locale of LOCALES) {
      for (const ending of endings) {
        const text = VOICE_PROMPTS[locale][ending];
        expect(text.length, `${locale} ${ending}`).toBeGreaterThan(10);
        expect(text, `${locale} ${ending}`).not.toMatch(/[0-9]/);
        if (!locale.startsWith('en'))
          expect(text, `${locale} ${ending}`).not.toBe(VOICE_PROMPTS['en-US'][ending]);
      }
      expect(new Set(endings.map((ending) => VOICE_PROMPTS[locale][ending])).size).toBe(endings.length);
    }
  });
});

describe('when the verification cannot be read', () => {
  async function unreachableStoreAnswer(harness: Harness) {
    const port = await freePort();
    const store = dynamoDbStore({
      db: createDocumentClient({ endpoint: `http://127.0.0.1:${port}` }),
      tableName: harness.tableName,
      retentionSeconds: harness.config.retentionSeconds,
    });
    return createAnswerHandler({ ...harness.depsFor('answer'), store });
  }

  it('fails the first answer with 503, so Plivo retries and then asks fallback_url, and speaks no code', async () => {
    const { call } = await send(h, '+14155550141');
    const answer = await unreachableStoreAnswer(h);
    const response = await answer(webhookEvent(call.answerUrl, answerParams('d')));
    expect(response.statusCode).toBe(503);
    expect(parse(response)).toEqual({ error: { code: 'store_unavailable', message: expect.any(String) } });
    expect(response.body).not.toContain(spokenCode(h, call));
  });

  it('tells the callee to try again later where Plivo has no retry left: the fallback and a key press', async () => {
    const { call } = await send(h, '+14155550142', 'de-DE');
    const code = spokenCode(h, call);
    const answer = await unreachableStoreAnswer(h);
    const fallback = h.telephony.calls.at(-1)?.fallbackUrl ?? '';
    expect(new URL(fallback).searchParams.get('s')).toBe('fallback');
    const xml = await answerXml(h, call.answerUrl);
    const action = xml.children.find((n) => n.name === 'GetInput')?.attributes.action ?? '';
    for (const [url, params] of [
      [fallback, answerParams('d')],
      [action, answerParams('d', { Digits: '1' })],
    ] as const) {
      const response = await answer(webhookEvent(url, params));
      expect(response.statusCode).toBe(200);
      const ended = parseXml(response.body);
      expect(ended.children.map((n) => n.name)).toEqual(['Speak', 'Hangup']);
      expect(ended.children[0]?.text).toBe(VOICE_PROMPTS['de-DE'].unavailable);
      expect(response.body).not.toContain(code);
    }
  });

  it('speaks the code through fallback_url like through answer_url while the store answers', async () => {
    const { call } = await send(h, '+14155550143');
    const fallback = h.telephony.calls.at(-1)?.fallbackUrl ?? '';
    const xml = await answerXml(h, fallback);
    expect(spokenDigits(xml.children[0])).toBe(spokenCode(h, call).repeat(2));
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

  it('a captured signed answer request replayed after approval speaks nothing', async () => {
    const { id, call } = await send(h, '+14155550144');
    const captured = webhookEvent(call.answerUrl, answerParams('victim'));
    const first = parseXml((await h.answer(captured)).body);
    const code = spokenDigits(first.children[0]).slice(0, 6);
    expect(code).toMatch(/^[0-9]{6}$/);
    expect(parse(await check(h, { id, code }))).toMatchObject({ valid: true });
    // The very same signed request (URL, form, nonce, signature) is still valid for Plivo's V3 scheme.
    const replayed = await h.answer(captured);
    expect(replayed.statusCode).toBe(200);
    expect(parseXml(replayed.body).children[0]?.text).toBe(VOICE_PROMPTS['en-US'].verified);
    expect(replayed.body).not.toContain(code);
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
