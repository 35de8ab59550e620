import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkCases,
  eraseCases,
  idRouteCases,
  sendCases,
  usageCases,
  webhookCases,
} from '../support/bad-input-cases.ts';
import { createHarness, type Harness, parse, startVerification, wrongCode } from '../support/harness.ts';

let h: Harness;
let pendingId: string;
/** Never the pending verification's code, so no case could pass by guessing it. */
let wrong: string;
beforeAll(async () => {
  h = await createHarness();
  const started = await startVerification(h);
  pendingId = started.id;
  wrong = wrongCode(started.code);
});

describe.each([
  ['send', sendCases, () => h.send],
  ['verify', [...checkCases, ...idRouteCases, ...eraseCases, ...webhookCases, ...usageCases], () => h.verify],
] as const)('%s refuses malformed requests', (_name, cases, handler) => {
  // Titled from the case itself (it.each's %-placeholders are positional, and the event sits before the status).
  for (const [name, event, statusCode, code] of cases)
    it(`${name} → ${statusCode} ${code}, nothing written`, async () => {
      const before = await h.scan();
      const callsBefore = h.telephony.calls.length;
      const response = await handler()(event(pendingId, wrong));
      expect(response.statusCode).toBe(statusCode);
      const body = parse(response);
      expect(body).toEqual({ error: { code, message: expect.any(String) } });
      expect((body.error as { message: string }).message.length).toBeGreaterThan(10);
      expect(response.headers?.['Content-Type']).toBe('application/json; charset=utf-8');
      expect(await h.scan()).toEqual(before);
      expect(h.telephony.calls.length).toBe(callsBefore);
    });
});

it('has at least 25 cases', () => {
  expect(sendCases.length + checkCases.length + idRouteCases.length).toBeGreaterThanOrEqual(25);
});
