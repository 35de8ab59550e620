import { describe, expect, it } from 'vitest';
import { ApiError } from '#platform/errors.ts';
import { storeError } from '#store/dynamodb-client.ts';

const as503 = (error: unknown) => {
  const mapped = storeError(error);
  return mapped instanceof ApiError
    ? { status: mapped.status, code: mapped.code, headers: mapped.headers }
    : mapped;
};

const unavailable = { status: 503, code: 'store_unavailable', headers: { 'Retry-After': '1' } };

describe('storeError', () => {
  it.each([
    ['the HTTP handler timing out a request', { name: 'TimeoutError', code: 'ETIMEDOUT' }],
    ['the HTTP handler timing out a connection', { name: 'TimeoutError' }],
    ['DynamoDB timing out', { name: 'RequestTimeout' }],
    ['a request timeout exception', { name: 'RequestTimeoutException' }],
    ['a connection reset after the request was aborted', { name: 'Error', code: 'ECONNRESET' }],
    ['a refused connection', { name: 'Error', code: 'ECONNREFUSED' }],
    ['an unreachable host', { name: 'Error', code: 'EHOSTUNREACH' }],
    ['a DNS failure that may pass', { name: 'Error', code: 'EAI_AGAIN' }],
    ['a timeout wrapped as a cause', { name: 'Error', cause: { code: 'ETIMEDOUT' } }],
    ['throttling', { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }],
    ['a 500 from DynamoDB', { name: 'InternalServerError', $metadata: { httpStatusCode: 500 } }],
    ['an error the SDK marks retryable', { name: 'Whatever', $retryable: {} }],
  ])('turns %s into 503 store_unavailable with Retry-After', (_name, error) => {
    expect(as503(Object.assign(new Error('x'), error))).toEqual(unavailable);
  });

  it('leaves our own mistakes alone, so they stay a 500', () => {
    const validation = Object.assign(new Error('bad'), {
      name: 'ValidationException',
      $metadata: { httpStatusCode: 400 },
    });
    expect(storeError(validation)).toBe(validation);
    const denied = Object.assign(new Error('no'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
    });
    expect(storeError(denied)).toBe(denied);
  });
});
