import { expect, it } from 'vitest';
import { SPAWN_TIMEOUT_MS, spawnLocalStack } from '../support/local-stack.ts';

/**
 * The local stack is ready when it can serve a burst, not only when it is up: a developer's app suite that
 * starts with parallel sends must not meet a cold DynamoDB Local (docs/local-stack.md). Its own DynamoDB
 * Local, freshly started, as `npm start` runs it.
 */
it(
  'answers 48 parallel sends made right after it said it was ready with 48 × 202',
  async () => {
    const stack = await spawnLocalStack({ DYNAMODB_ENDPOINT: '' });
    try {
      const sends = await Promise.all(
        Array.from({ length: 48 }, (_, i) =>
          stack.api('POST', '/v1/verifications', { phone: `+1415555${1000 + i}` }),
        ),
      );
      const statuses = sends.map((send) => send.status);
      expect(
        statuses.filter((status) => status !== 202),
        JSON.stringify(sends.find((s) => s.status !== 202)?.body),
      ).toEqual([]);
      expect(stack.lines.join('\n')).toMatch(/DynamoDB Local warmed up/);
    } finally {
      await stack.stop();
    }
  },
  SPAWN_TIMEOUT_MS,
);
