import fc from 'fast-check';
import plivo from 'plivo';
import { describe, expect, it } from 'vitest';
import { plivoSignature, plivoSignatureValid } from '#channels/plivo-signature.ts';

const TOKEN = 'MzYxNzVhZjQtZmFrZS10b2tlbg';

describe('Plivo V3 signature', () => {
  it('matches the official SDK for arbitrary URLs and form parameters', () => {
    const key = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,11}$/);
    const value = fc.string({ maxLength: 20 });
    fc.assert(
      fc.property(
        fc.constantFrom(
          'https://abc.execute-api.eu-west-1.amazonaws.com/prod',
          'http://127.0.0.1:3000',
          'https://otp.example.com',
        ),
        fc.constantFrom('/v1/plivo/answer', '/v1/plivo/hangup'),
        fc.array(fc.tuple(key, fc.stringMatching(/^[\w.-]{0,30}$/)), { maxLength: 4 }),
        fc.dictionary(key, value, { maxKeys: 8 }),
        fc.stringMatching(/^[0-9A-Za-z]{8,24}$/),
        (base, path, query, params, nonce) => {
          const search = new URLSearchParams(query).toString();
          const url = `${base}${path}${search ? `?${search}` : ''}`;
          const signature = plivoSignature(url, Object.entries(params), nonce, TOKEN);
          expect(plivo.validateV3Signature('POST', url, nonce, TOKEN, signature, params)).toBe(true);
          expect(
            plivoSignatureValid({
              url,
              bodyParams: Object.entries(params),
              nonce,
              signatures: [signature],
              authToken: TOKEN,
            }),
          ).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('matches the official SDK when a key repeats, in the query or the body', () => {
    const pair = fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.stringMatching(/^[0-9a-z]{0,3}$/));
    fc.assert(
      fc.property(
        fc.array(pair, { maxLength: 6 }),
        fc.array(pair, { minLength: 1, maxLength: 6 }),
        (query, body) => {
          const search = new URLSearchParams(query).toString();
          const url = `https://otp.example.com/v1/plivo/answer${search ? `?${search}` : ''}`;
          // The SDK takes the body as an object whose repeated keys hold arrays.
          const params: Record<string, string[]> = {};
          for (const [key, value] of body) params[key] = [...(params[key] ?? []), value];
          const signature = plivoSignature(url, body, 'n0nce', TOKEN);
          expect(plivo.validateV3Signature('POST', url, 'n0nce', TOKEN, signature, params)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  const url = 'https://otp.example.com/v1/plivo/answer?v=vrf_A&t=k1.abc';
  const params = { CallUUID: 'u-1', Digits: '1', From: '14155550100' };
  const signed = plivoSignature(url, Object.entries(params), 'n0nce', TOKEN);
  const valid = (overrides: Partial<Parameters<typeof plivoSignatureValid>[0]>) =>
    plivoSignatureValid({
      url,
      bodyParams: Object.entries(params),
      nonce: 'n0nce',
      signatures: [signed],
      authToken: TOKEN,
      ...overrides,
    });

  it('accepts the right signature, alone or in a list, in either header', () => {
    expect(valid({})).toBe(true);
    expect(valid({ signatures: [`AAAA,${signed}`] })).toBe(true);
    expect(valid({ signatures: [undefined, signed] })).toBe(true);
    expect(valid({ signatures: [`AAAA, ${signed}`] })).toBe(true);
  });

  it('refuses missing signature or nonce, another token, a tampered parameter, another URL or nonce', () => {
    expect(valid({ signatures: [undefined, undefined] })).toBe(false);
    expect(valid({ signatures: [''] })).toBe(false);
    expect(valid({ nonce: undefined })).toBe(false);
    expect(valid({ nonce: 'other' })).toBe(false);
    // Signed over an empty nonce is still a request without one.
    expect(valid({ nonce: '', signatures: [plivoSignature(url, Object.entries(params), '', TOKEN)] })).toBe(
      false,
    );
    expect(valid({ authToken: 'other-token' })).toBe(false);
    expect(valid({ bodyParams: Object.entries({ ...params, Digits: '2' }) })).toBe(false);
    expect(valid({ bodyParams: Object.entries({ ...params, Extra: '' }) })).toBe(false);
    expect(valid({ url: url.replace('k1.abc', 'k1.abd') })).toBe(false);
    expect(valid({ url: url.replace('otp.example.com', 'evil.example.com') })).toBe(false);
    expect(valid({ url: url.replace('https:', 'http:') })).toBe(false);
  });
});
