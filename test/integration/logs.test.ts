import { expect, it } from 'vitest';
import { telephonyUnavailable } from '#channels/telephony.ts';
import {
  answerParams,
  apiEvent,
  check,
  createHarness,
  status,
  webhookEvent,
  wrongCode,
} from '../support/harness.ts';
import { captureOutput } from '../support/output-capture.ts';
import { parseXml } from '../support/xml.ts';

const output = captureOutput();

it('never logs the code, its hash, the sealed token or the full number, through a whole call', async () => {
  const h = await createHarness({ LOG_LEVEL: 'DEBUG', APP_NAME: 'Acme' });
  const phone = '+14155550123';
  const sent = await h.send(apiEvent({ method: 'POST', resource: '/v1/verifications', body: { phone } }));
  const id = JSON.parse(sent.body).id as string;
  const call = h.telephony.calls.at(-1);
  if (!call) throw new Error('no call');
  const token = new URL(call.answerUrl).searchParams.get('t') ?? '';

  // Answer, then press 1 to repeat, then hang up.
  const first = parseXml((await h.answer(webhookEvent(call.answerUrl, answerParams('c-1')))).body);
  const code = first.children[0]?.text.match(/[0-9]/g)?.slice(0, 6).join('') ?? '';
  const action = first.children.find((n) => n.name === 'GetInput')?.attributes.action ?? '';
  await h.answer(webhookEvent(action, answerParams('c-1', { Digits: '1' })));
  await h.hangup(
    webhookEvent(call.hangupUrl, { ...answerParams('c-1'), CallStatus: 'completed', Duration: '30' }),
  );
  // Forged webhooks, wrong and right checks, a status read, a failing send.
  await h.answer(webhookEvent(call.answerUrl, answerParams('c-1'), { authToken: 'forged' }));
  await check(h, { id, code: wrongCode(code) });
  await check(h, { phone, code });
  await status(h, id);
  h.telephony.fail = telephonyUnavailable();
  await h.send(apiEvent({ method: 'POST', resource: '/v1/verifications', body: { phone } }));

  const stored = (await h.scan()).find((item) => item.id === id);
  const logs = output.text();
  expect(code).toMatch(/^[0-9]{6}$/);
  expect(logs).toContain('Verification approved');
  expect(logs).toContain('Call answered');
  expect(logs).toContain('Call ended');
  expect(logs).not.toContain(token);
  expect(logs).not.toContain(token.split('.')[1]);
  expect(logs).not.toContain(stored?.codeHash as string);
  expect(logs).not.toContain(stored?.phoneHash as string);
  expect(logs).not.toContain(phone);
  expect(logs).not.toContain(phone.slice(1));
  for (const line of logs.split('\n').filter(Boolean)) {
    expect(line).not.toMatch(new RegExp(`(^|[^0-9A-Za-z])${code}([^0-9A-Za-z]|$)`));
  }
});
