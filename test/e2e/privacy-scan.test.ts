import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plivoSignature } from '#channels/plivo-signature.ts';
import { localClient } from '../../local/dynamodb-local.ts';
import { SPECIAL_RECIPIENTS } from '../../local/message-simulator.ts';
import { SPECIAL_CALLEES } from '../../local/simulator.ts';
import { runDynamoDb } from '../support/harness.ts';
import {
  ended,
  heardDigits,
  type SimCallView,
  type SimMessageView,
  SPAWN_TIMEOUT_MS,
  type SpawnedStack,
  settled,
  spawnLocalStack,
  waitForCall,
  waitForMessage,
} from '../support/local-stack.ts';

/**
 * The whole flow through the local stack, with the fraud guard's number ranges as long as they can be
 * (FRAUD_GUARD_PREFIX_DIGITS=8): sends to ordinary numbers and to every special callee, answers, a repeat,
 * hangups, wrong and right checks, a cancel, a resend, an idempotent replay, rate-limit and Plivo refusals,
 * bad input and a forged webhook; SMS to an ordinary number and to every special recipient, with their
 * delivery reports; a WhatsApp message read and checked, and one to a number not on WhatsApp; the fallbacks
 * (busy, unanswered and machine calls → SMS, the undelivered SMS → a call, WhatsApp → SMS); an
 * Idempotency-Key send, then its phone erased. Then every structured log line and every stored item is
 * scanned for the codes the phones heard or read and for any 6 consecutive digits of any number used; every
 * stored value is also tried against the obvious unkeyed hashes of every request body sent and of every
 * number (what anyone holding the table could test guesses against); and nothing stored may name the erased
 * phone's masked number.
 */
const TABLE_NAME = `privacy-${randomUUID()}`;
const PHONES = {
  repeat: '+14155550161',
  cancel: '+14155550162',
  resend: '+14155550163',
  guess: '+14155550164',
  idempotent: '+14155550165',
  unknown: '+14155550166',
  sms: '+14155550167',
  whatsapp: '+14155550168',
  /** Not a valid number (one digit short): refused with 400, yet a number the scan must not find. */
  invalid: '+1415555016',
  /** Sent with an Idempotency-Key, then erased; its masked form (+1********50) is no other number's. */
  erased: '+14155550150',
};
const NUMBERS = [
  ...Object.values(PHONES),
  ...Object.keys(SPECIAL_CALLEES),
  ...Object.keys(SPECIAL_RECIPIENTS),
];
/** The special callees whose calls reach no one: each falls back to one SMS. */
const FALLS_BACK = ['+12025550190', '+12025550191', '+12025550192'];

let stack: SpawnedStack;
let startedAt = 0;
const heardCodes = new Set<string>();
/** Codes the phones read in an SMS: sent first, or as a fallback. */
const readCodes = new Set<string>();
let structured: unknown[] = [];
let items: Record<string, unknown>[] = [];
/** Every request body sent to the send route, as sent. */
const bodies: Array<Record<string, unknown>> = [];
let erasedMask = '';

beforeAll(async () => {
  startedAt = Date.now();
  stack = await spawnLocalStack({
    TABLE_NAME,
    FRAUD_GUARD_PREFIX_DIGITS: '8',
    PHONE_MIN_GAP_SECONDS: '0',
    PHONE_MAX_PER_10_MINUTES: '2',
    PLIVO_TIMEOUT_MS: '1000',
    POWERTOOLS_LOG_LEVEL: 'DEBUG',
  });
  const ids: string[] = [];
  const send = async (phone: string, headers: Record<string, string> = {}, extra = {}) => {
    const body = { phone, ...extra };
    bodies.push(body);
    const response = await stack.api('POST', '/v1/verifications', body, headers);
    if (response.status === 202) ids.push(response.body.id as string);
    return response;
  };
  const check = (body: Record<string, string>) => stack.api('POST', '/v1/verifications/check', body);

  // Every special callee: busy, no answer, machine, hangs up early, and the three Plivo refusals. The first
  // three fall back to SMS once their calls end; the refused number (4xx) gets its SMS at send time.
  const specials = await Promise.all(Object.keys(SPECIAL_CALLEES).map((phone) => send(phone)));
  expect(specials.map((r) => r.status).sort()).toEqual([202, 202, 202, 202, 202, 502, 502]);

  // By SMS: read in the inbox and checked; undelivered, then a fallback call that speaks it; refused by Plivo.
  expect((await send(PHONES.sms, {}, { channel: 'sms' })).status).toBe(202);
  const read = await waitForMessage(stack, PHONES.sms, settled);
  const readCode = /\b([0-9]{6})\b/.exec(read.text ?? '')?.[1] ?? '';
  expect((await check({ phone: PHONES.sms, code: readCode })).body).toMatchObject({ valid: true });
  expect((await send('+12025550197', {}, { channel: 'sms' })).status).toBe(202);
  // Plivo refuses to text it: a call goes out at once instead (the send-time fallback).
  expect((await send('+12025550198', {}, { channel: 'sms' })).status).toBe(202);

  // By WhatsApp: the template read in the inbox and checked; refused (not on WhatsApp), so an SMS at once.
  expect((await send(PHONES.whatsapp, {}, { channel: 'whatsapp' })).status).toBe(202);
  const opened = await waitForMessage(stack, PHONES.whatsapp, (m) => m.status === 'read');
  const whatsappCode = /\*([0-9]{6})\*/.exec(opened.text ?? '')?.[1] ?? '';
  expect((await check({ phone: PHONES.whatsapp, code: whatsappCode })).body).toMatchObject({ valid: true });
  expect((await send('+12025550199', {}, { channel: 'whatsapp' })).status).toBe(202);

  // Answer, press 1 to hear it again, hang up; a wrong check, then the right one by phone.
  expect((await send(PHONES.repeat)).status).toBe(202);
  const waiting = await waitForCall(stack, PHONES.repeat, (c) => c.awaitingInput || ended(c));
  expect((await stack.api('POST', `/_simulator/calls/${waiting.id}/press`, { digits: '1' })).status).toBe(
    200,
  );
  const repeated = await waitForCall(stack, PHONES.repeat, ended);
  const code = heardDigits(repeated.transcript).slice(0, 6);
  expect(code).toMatch(/^[0-9]{6}$/);
  expect((await check({ phone: PHONES.repeat, code: wrongCode(code) })).body).toMatchObject({ valid: false });
  expect((await check({ phone: PHONES.repeat, code })).body).toMatchObject({ valid: true });

  // Cancel right after sending.
  const canceled = await send(PHONES.cancel);
  expect((await stack.api('POST', `/v1/verifications/${canceled.body.id}/cancel`)).status).toBe(200);

  // Press "call me" twice (the first is superseded), check the second; the third send is rate-limited.
  await send(PHONES.resend);
  const resent = await send(PHONES.resend);
  const resentCall = await waitForCall(stack, PHONES.resend, ended);
  const resentCode = heardDigits(resentCall.transcript).slice(0, 6);
  expect((await check({ id: resent.body.id as string, code: resentCode })).body).toMatchObject({
    valid: true,
  });
  expect((await send(PHONES.resend)).status).toBe(429);

  // Guess until the verification is locked.
  const guessed = await send(PHONES.guess);
  for (let i = 0; i < 5; i++) await check({ id: guessed.body.id as string, code: String(100000 + i) });

  // An idempotent send and its replay; a check by a phone never seen; bad input; a forged webhook.
  const key = { 'Idempotency-Key': 'privacy-scan-retry' };
  expect((await send(PHONES.idempotent, key)).status).toBe(202);
  expect((await send(PHONES.idempotent, key)).headers.get('idempotent-replayed')).toBe('true');
  expect((await check({ phone: PHONES.unknown, code: '123456' })).status).toBe(404);
  expect((await send(PHONES.invalid)).status).toBe(400);
  const forgedUrl = `${stack.url}/v1/plivo/answer?v=${ids[0]}&t=k1.forged`;
  const params = { CallUUID: 'forged', To: PHONES.repeat.slice(1), From: '14155550100' };
  const forged = await fetch(forgedUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'X-Plivo-Signature-V3-Nonce': 'n1',
      'X-Plivo-Signature-V3': plivoSignature(forgedUrl, Object.entries(params), 'n1', 'not-the-token'),
    },
    body: new URLSearchParams(params).toString(),
  });
  expect(forged.status).toBe(403);

  // An Idempotency-Key send and its replay, then "forget my number".
  const eraseKey = { 'Idempotency-Key': 'privacy-scan-erased' };
  const toErase = await send(PHONES.erased, eraseKey);
  expect(toErase.status).toBe(202);
  erasedMask = toErase.body.to as string;
  expect((await send(PHONES.erased, eraseKey)).status).toBe(202);
  await waitForCall(stack, PHONES.erased, ended);
  await outcomesRecorded(toErase.body.id as string);
  ids.splice(ids.indexOf(toErase.body.id as string), 1);
  expect((await stack.api('POST', '/v1/phones/erase', { phone: PHONES.erased })).body).toEqual({ erased: 1 });

  // Every fallback goes out, every call ends and every SMS settles, and each is recorded, before the scan.
  for (const phone of FALLS_BACK) await waitForMessage(stack, phone, settled);
  await waitForCall(stack, '+12025550197', ended);
  for (const phone of NUMBERS) {
    const calls = (await stack.api('GET', '/_simulator/calls')).body.calls as SimCallView[];
    if (calls.some((c) => c.to === phone)) await waitForCall(stack, phone, ended);
    const messages = (await stack.api('GET', '/_simulator/messages')).body.messages as SimMessageView[];
    if (messages.some((m) => m.to === phone)) await waitForMessage(stack, phone, settled);
  }
  for (const id of ids) await outcomesRecorded(id);
  for (const call of (await stack.api('GET', '/_simulator/calls')).body.calls as SimCallView[]) {
    const digits = heardDigits(call.transcript);
    if (digits.length >= 6) heardCodes.add(digits.slice(0, 6));
  }
  const inbox = (await stack.api('GET', '/_simulator/messages')).body.messages as SimMessageView[];
  // An SMS's code stands alone; a WhatsApp message's is in bold (`*482017*`): both match.
  for (const message of inbox) {
    const code = /\b([0-9]{6})\b/.exec(message.text ?? '')?.[1];
    if (code) readCodes.add(code);
  }
  expect(inbox.filter((m) => m.type === 'whatsapp').map((m) => [m.to, m.status])).toEqual([
    [PHONES.whatsapp, 'read'],
  ]);
  await stack.stop();

  structured = stack.lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
  const client = localClient(runDynamoDb());
  items = (
    (await client.send(new ScanCommand({ TableName: TABLE_NAME, ConsistentRead: true }))).Items ?? []
  ).map((item) => unmarshall(item));
  client.destroy();
}, SPAWN_TIMEOUT_MS + 60_000);

afterAll(async () => {
  await stack?.stop();
});

/** Waits until the call's hangup and the SMS's last delivery report are recorded on the verification. */
async function outcomesRecorded(id: string) {
  for (let i = 0; i < 400; i++) {
    const { call, message } = (await stack.api('GET', `/v1/verifications/${id}`)).body as {
      call?: { status: string };
      message?: { status: string };
    };
    if (call?.status !== 'queued' && !['queued', 'sent'].includes(message?.status ?? '')) return;
    await sleep(25);
  }
  throw new Error(`the outcomes of ${id} were never recorded`);
}

const wrongCode = (code: string) => [...code].map((d) => String((Number(d) + 1) % 10)).join('');

/** Every string in a value, keys included. */
function* strings(value: unknown): Generator<string> {
  if (typeof value === 'string') yield value;
  else if (value && typeof value === 'object')
    for (const [key, child] of Object.entries(value)) {
      yield key;
      yield* strings(child);
    }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Strings as the scan reads them. Left out, because they are random or clock-made and could match six digits
 * by chance (about one run in a few hundred): whole UUIDs (Plivo's and the simulator's ids) and digit runs
 * that are exactly a minute, 10-minute or hour window number of this run (counter and window keys).
 */
function scanned(values: Iterable<string>): string[] {
  const windows = new Set<string>();
  for (const span of [60_000, 600_000, 3_600_000])
    for (let t = startedAt - 3_600_000; t <= Date.now() + 3_600_000; t += span / 2)
      windows.add(String(Math.floor(t / span)));
  return [...values]
    .filter((value) => !UUID.test(value))
    .map((value) => value.replace(/[0-9]+/g, (run) => (windows.has(run) ? '#' : run)));
}

/** Each string that holds six consecutive digits of a number used, or a code a phone heard. */
function findings(values: string[]) {
  const found: string[] = [];
  for (const value of values) {
    for (const number of NUMBERS) {
      const digits = number.replace(/\D/g, '');
      for (let i = 0; i + 6 <= digits.length; i++)
        if (value.includes(digits.slice(i, i + 6))) found.push(`${number} in ${value}`);
    }
    for (const code of [...heardCodes, ...readCodes]) {
      const spaced = new RegExp([...code].join('[^0-9A-Za-z]{1,3}'));
      if (value.includes(code) || spaced.test(value)) found.push(`code ${code} in ${value}`);
    }
  }
  return [...new Set(found)];
}

describe('whole-flow privacy scan, FRAUD_GUARD_PREFIX_DIGITS=8', () => {
  it('ran the whole flow: codes heard and read, fallbacks sent, log lines written, items stored', () => {
    expect(heardCodes.size).toBeGreaterThanOrEqual(3);
    // One SMS sent first, the three fallbacks from calls that reached no one, the SMS sent at once to the
    // number Plivo refused to call, the WhatsApp message, and the SMS sent at once to the number not on it.
    expect(readCodes.size).toBe(7);
    expect(structured.length).toBeGreaterThan(40);
    expect(items.filter((item) => String(item.pk).startsWith('VERIFICATION#')).length).toBeGreaterThanOrEqual(
      10,
    );
    const messages = structured.map((line) => (line as { message?: string }).message);
    for (const message of [
      'Verification approved',
      'Call answered',
      'Call ended',
      'Call not placed',
      'Plivo refused the call request',
      'Request refused',
      'Message status',
      'Message not sent',
      'Plivo refused the message request',
      'Fallback sent',
    ])
      expect(messages).toContain(message);
  });

  it('no structured log line holds a code or 6 consecutive digits of a number', () => {
    expect(findings(scanned(structured.flatMap((line) => [...strings(line)])))).toEqual([]);
  });

  it('no stored item holds a code or 6 consecutive digits of a number, number-range keys included', () => {
    expect(findings(scanned(items.flatMap((item) => [...strings(item)])))).toEqual([]);
  });

  it('no stored value is an unkeyed hash of a request body or of a number (tried the obvious ways)', () => {
    const guesses = unkeyedHashes();
    // A Idempotency-Key record with its body hash was stored: the attack had something to try.
    expect(items.some((item) => typeof item.bodyHash === 'string')).toBe(true);
    expect(guesses.size).toBeGreaterThan(1000);
    const matches: string[] = [];
    for (const item of items)
      for (const value of strings(item))
        for (const part of [value, ...value.split(/[#.:]/)])
          if (guesses.has(part)) matches.push(`${guesses.get(part)} = ${String(item.pk)}: ${value}`);
    expect(matches).toEqual([]);
  });

  it("nothing stored names the erased phone's masked number", () => {
    expect(erasedMask).toMatch(/^\+1\*+50$/);
    const naming = items.filter((item) => [...strings(item)].some((value) => value.includes(erasedMask)));
    expect(naming).toEqual([]);
  });
});

/**
 * What an attacker holding the table would try against each stored value: every request body sent (as sent,
 * and as canonical JSON with sorted keys) and every number (E.164, without its +, its national digits),
 * hashed with MD5, SHA-1, SHA-256, SHA-384 and SHA-512, in hex, base64 and base64url. Value → what it hashes.
 */
function unkeyedHashes(): Map<string, string> {
  const sorted = (body: Record<string, unknown>) =>
    JSON.stringify(Object.fromEntries(Object.entries(body).sort(([a], [b]) => a.localeCompare(b))));
  const inputs = new Set<string>();
  for (const body of bodies) {
    inputs.add(JSON.stringify(body));
    inputs.add(sorted(body));
  }
  for (const number of NUMBERS) {
    inputs.add(number);
    inputs.add(number.slice(1));
    inputs.add(number.replace(/^\+1/, ''));
  }
  const guesses = new Map<string, string>();
  for (const input of inputs)
    for (const algorithm of ['md5', 'sha1', 'sha256', 'sha384', 'sha512'])
      for (const encoding of ['hex', 'base64', 'base64url'] as const) {
        const digest = createHash(algorithm).update(input).digest(encoding);
        guesses.set(digest, `${algorithm}/${encoding}(${input})`);
        guesses.set(digest.replace(/=+$/, ''), `${algorithm}/${encoding}(${input})`);
      }
  return guesses;
}
