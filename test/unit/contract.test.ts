import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../local/exchange-log.ts';
import { contractViolations } from '../support/contract.ts';

/** The e2e suite's contract check (test/support/contract.ts), on answers made up to break it one way each. */
const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };
const created = {
  id: 'vrf_01HZX3Q9W8V7T6S5R4P3N2M1K0',
  status: 'pending',
  channel: 'voice',
  to: '+1********23',
  locale: 'en-US',
  createdAt: '2026-12-06T03:55:10.390Z',
  expiresAt: '2026-12-06T04:00:10.390Z',
  call: { status: 'queued' },
};
const exchange = (overrides: Partial<Exchange>): Exchange => ({
  method: 'POST',
  path: '/v1/verifications',
  status: 202,
  headers: JSON_TYPE,
  json: created,
  bytes: 100,
  ...overrides,
});
const error = (code: string) => ({ error: { code, message: 'A sentence.' } });

describe('the contract check', () => {
  it.each<[string, Partial<Exchange>]>([
    ['a created verification', {}],
    [
      'a send-time fallback',
      {
        json: {
          ...created,
          call: { status: 'failed' },
          message: { channel: 'sms', status: 'queued' },
          fallback: { channel: 'sms', reason: null },
        },
      },
    ],
    [
      'a rate limit with Retry-After',
      { status: 429, headers: { ...JSON_TYPE, 'retry-after': '30' }, json: error('rate_limited') },
    ],
    ['an unknown route', { method: 'GET', path: '/v1/nothing', status: 404, json: error('route_not_found') }],
    ['another method on a route', { method: 'DELETE', status: 405, json: error('method_not_allowed') }],
    [
      'Plivo XML',
      { path: '/v1/plivo/answer', status: 200, headers: { 'content-type': 'application/xml' }, json: null },
    ],
    [
      'a webhook removed',
      { method: 'DELETE', path: '/v1/webhook', status: 204, headers: {}, json: null, bytes: 0 },
    ],
  ])('passes %s', async (_, overrides) => {
    expect(await contractViolations(exchange(overrides))).toEqual([]);
  });

  it.each<[string, Partial<Exchange>, RegExp]>([
    [
      'an undocumented field',
      { json: { ...created, code: '123456' } },
      /body #\/code fails .*additionalProperties/,
    ],
    ['an undocumented value', { json: { ...created, call: { status: 'ringing' } } }, /#\/call\/status fails/],
    [
      'a fallback reason at send',
      { json: { ...created, fallback: { channel: 'sms', reason: 'sent' } } },
      /#\/fallback\/reason/,
    ],
    ['an undocumented status', { status: 200 }, /200 is not documented for POST \/v1\/verifications/],
    [
      'an error code of another status',
      { method: 'GET', path: `/v1/verifications/${created.id}`, status: 404, json: error('rate_limited') },
      /#\/error\/code fails/,
    ],
    ['an unknown code', { status: 400, json: error('oops') }, /#\/error\/code fails/],
    [
      'a 429 without Retry-After',
      { status: 429, json: error('rate_limited') },
      /header Retry-After is missing/,
    ],
    [
      'a Retry-After of 0',
      { status: 429, headers: { ...JSON_TYPE, 'retry-after': '0' }, json: error('rate_limited') },
      /header Retry-After/,
    ],
    ['another media type', { headers: { 'content-type': 'text/html' } }, /content type "text\/html"/],
    [
      'a body on a 204',
      { method: 'DELETE', path: '/v1/webhook', status: 204, headers: {}, json: null, bytes: 2 },
      /a body of 2 bytes/,
    ],
    [
      'an unknown route answered 200',
      { method: 'GET', path: '/v1/nothing', status: 200 },
      /no documented path/,
    ],
    ['an unmasked phone', { json: { ...created, to: '+14155550123' } }, /#\/to fails/],
  ])('fails %s', async (_, overrides, problem) => {
    const problems = await contractViolations(exchange(overrides));
    expect(problems.join('\n')).toMatch(problem);
  });
});
