import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { ApiError } from '#platform/errors.ts';
import { createDocumentClient, STORE_TIME_BUDGET, storeError } from '#store/dynamodb-client.ts';

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

/**
 * A stand-in DynamoDB endpoint: GetItem answers at once with no item, except for the key `slow`, which it
 * never answers (connection held open), so that call runs into the store's whole time budget.
 */
async function stubDynamoDb() {
  const held: ServerResponse[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    request.on('end', () => {
      if (body.includes('"slow"')) {
        held.push(response);
        return;
      }
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe("the store's fail-fast window after a timeout", () => {
  const get = (db: ReturnType<typeof createDocumentClient>, pk: string) =>
    db.send(new GetCommand({ TableName: 't', Key: { pk } }));

  it('fails the next calls at once when nothing answered since the timed-out call began (one request at a time, as on Lambda)', async () => {
    const stub = await stubDynamoDb();
    try {
      const db = createDocumentClient({ endpoint: stub.endpoint });
      await expect(get(db, 'slow')).rejects.toMatchObject({ name: 'TimeoutError' });
      const started = Date.now();
      await expect(get(db, 'fast')).rejects.toThrow(/timed out moments ago/);
      expect(Date.now() - started).toBeLessThan(STORE_TIME_BUDGET.requestMs);
      // After the window, the store is tried again.
      await new Promise((resolve) => setTimeout(resolve, STORE_TIME_BUDGET.failFastMs));
      await expect(get(db, 'fast')).resolves.toMatchObject({});
    } finally {
      await stub.close();
    }
  }, 20_000);

  it('does not fail the calls of other requests when the store answered them meanwhile (one slow moment)', async () => {
    const stub = await stubDynamoDb();
    try {
      const db = createDocumentClient({ endpoint: stub.endpoint });
      let settled = false;
      const slow = get(db, 'slow').then(
        () => undefined,
        (error: Error) => error,
      );
      void slow.finally(() => {
        settled = true;
      });
      // Other requests keep being answered while the slow call runs into its budget.
      let answered = 0;
      while (!settled) {
        await get(db, 'fast');
        answered++;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(await slow).toMatchObject({ name: 'TimeoutError' });
      expect(answered).toBeGreaterThan(5);
      await expect(get(db, 'fast')).resolves.toMatchObject({});
    } finally {
      await stub.close();
    }
  }, 20_000);
});
