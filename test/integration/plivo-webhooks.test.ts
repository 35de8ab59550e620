import { beforeAll, describe, expect, it } from 'vitest';
import { MESSAGE_STATUS_PATH } from '#platform/routes.ts';
import { answerParams, hangupParams, webhookEvent } from '../support/events.ts';
import { apiEvent, createHarness, type Harness, parse, status } from '../support/harness.ts';
import { parseXml } from '../support/xml.ts';

/**
 * Plivo's webhooks on their own HTTP API (infra/webhook-api.ts): the stack sets PUBLIC_URL to that API's
 * endpoint (test/infra/stack.test.ts), the URLs given to Plivo start with it, and the signatures are checked
 * against it, so a request signed for the REST API's URL, where the webhooks used to be, is refused. With
 * webhookAllowedCidrs, the functions refuse other sources themselves: WAF cannot guard an HTTP API.
 */

/** The HTTP API's $default stage: https://<api id>.execute-api.<region>.<suffix>, no stage in the path. */
const WEBHOOK_API = 'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com';
/** The REST API's stage URL, where the webhooks were served before. */
const REST_API = 'https://r9s8t7u6v5.execute-api.eu-west-1.amazonaws.com/prod';

async function send(h: Harness, phone: string) {
  const response = await h.send(apiEvent({ method: 'POST', resource: '/v1/verifications', body: { phone } }));
  expect(response.statusCode).toBe(202);
  const call = h.telephony.calls.at(-1);
  if (!call) throw new Error('no call');
  return { id: parse(response).id as string, call };
}

describe('webhook base URL', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ PUBLIC_URL: WEBHOOK_API });
  });

  it('gives Plivo URLs on the webhook API, and a request signed for them is served', async () => {
    const { id, call } = await send(h, '+14155550161');
    for (const url of [call.answerUrl, call.hangupUrl])
      expect(url.startsWith(`${WEBHOOK_API}/v1/plivo/`)).toBe(true);
    const answered = await h.answer(webhookEvent(call.answerUrl, answerParams('call-new')));
    expect(answered.statusCode).toBe(200);
    expect(parseXml(answered.body).name).toBe('Response');

    const hungUp = await h.hangup(webhookEvent(call.hangupUrl, hangupParams('call-new')));
    expect(hungUp.statusCode).toBe(200);
    expect((parse(await status(h, id)).call as { status: string }).status).toBe('completed');
  });

  it('serves a signed form body that arrives base64-encoded, as an HTTP API may hand it over', async () => {
    const { call } = await send(h, '+14155550165');
    const event = webhookEvent(call.answerUrl, answerParams('call-b64'));
    const encoded = {
      ...event,
      body: Buffer.from(event.body ?? '').toString('base64'),
      isBase64Encoded: true,
    };
    const answered = await h.answer(encoded);
    expect(answered.statusCode).toBe(200);
    expect(parseXml(answered.body).name).toBe('Response');
  });

  it("refuses a request signed for the REST API's URL (403 invalid_signature) and writes nothing", async () => {
    const { call } = await send(h, '+14155550162');
    const before = await h.scan();
    const answerOnRest = call.answerUrl.replace(WEBHOOK_API, REST_API);
    const hangupOnRest = call.hangupUrl.replace(WEBHOOK_API, REST_API);
    for (const response of [
      await h.answer(webhookEvent(answerOnRest, answerParams('call-old'))),
      await h.hangup(webhookEvent(hangupOnRest, hangupParams('call-old'))),
    ]) {
      expect(response.statusCode).toBe(403);
      expect(parse(response)).toEqual({ error: { code: 'invalid_signature', message: expect.any(String) } });
    }
    expect(await h.scan()).toEqual(before);
  });
});

describe('webhookAllowedCidrs', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({
      PUBLIC_URL: WEBHOOK_API,
      WEBHOOK_ALLOWED_CIDRS: '203.0.113.0/24,2001:db8::/32',
    });
  });

  it('serves signed webhooks from the allowed ranges, IPv4 and IPv6', async () => {
    const { call } = await send(h, '+14155550163');
    for (const sourceIp of ['203.0.113.9', '2001:db8::7']) {
      const response = await h.answer(webhookEvent(call.answerUrl, answerParams('call-in'), { sourceIp }));
      expect(response.statusCode, sourceIp).toBe(200);
    }
  });

  it('refuses any other source with 403 forbidden before the signature, and writes nothing', async () => {
    const { id, call } = await send(h, '+14155550164');
    const before = await h.scan();
    const messageStatusUrl = `${WEBHOOK_API}${MESSAGE_STATUS_PATH}?v=${id}&t=x`;
    // Validly signed: the address alone decides. A missing address is refused too.
    for (const sourceIp of ['198.51.100.7', '203.0.114.1', '2001:db9::1', null]) {
      for (const response of [
        await h.answer(webhookEvent(call.answerUrl, answerParams('call-out'), { sourceIp })),
        await h.hangup(webhookEvent(call.hangupUrl, hangupParams('call-out'), { sourceIp })),
        await h.hangup(
          webhookEvent(messageStatusUrl, { MessageUUID: 'm', Status: 'delivered' }, { sourceIp }),
        ),
      ]) {
        expect(response.statusCode, String(sourceIp)).toBe(403);
        expect(parse(response)).toEqual({ error: { code: 'forbidden', message: expect.any(String) } });
      }
    }
    expect(await h.scan()).toEqual(before);
  });
});
