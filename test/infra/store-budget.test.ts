import { describe, expect, test } from 'vitest';
import { DELIVERY_TIMEOUT_MS } from '#events/webhook-delivery.ts';
import { worstCaseMs } from '#platform/aws-budget.ts';
import type { FunctionName } from '#platform/routes.ts';
import { SECRETS_TIME_BUDGET } from '#platform/secrets.ts';
import { STORE_TIME_BUDGET } from '#store/dynamodb-client.ts';
import { FUNCTION_ACCESS } from '../../infra/function-access.ts';
import { readSettings } from '../../infra/settings.ts';
import { functionSizing } from '../../infra/voice-otp-stack.ts';

/** A cold start before its first secret read (bundle, config), and time to build the answer. */
const COLD_START_MS = 500;
const ANSWER_MS = 500;

describe('store time budget', () => {
  test('one store call that never answers fails after at most 3 attempts of 1 s and two short pauses', () => {
    expect(STORE_TIME_BUDGET).toMatchObject({ connectMs: 500, requestMs: 1000, attempts: 3 });
    expect(worstCaseMs(STORE_TIME_BUDGET)).toBe(3300);
  });

  test('a secret read that never answers fails after 2 attempts of 1 s and one short pause', () => {
    expect(worstCaseMs(SECRETS_TIME_BUDGET)).toBe(2100);
  });

  test('ends within every function timeout with time left to answer 503, secrets read first', () => {
    const settings = readSettings(() => undefined);
    const sizing = functionSizing(settings);
    for (const name of Object.keys(FUNCTION_ACCESS) as FunctionName[]) {
      if (FUNCTION_ACCESS[name].table.length === 0) continue;
      // send, and hangup for a fallback, may wait for Plivo first; after one timed-out call the others fail
      // at once (failFastMs).
      // deliver waits for the app's endpoint, then sets the retry delay on SQS (bounded like a secret read).
      const before =
        name === 'send' || name === 'hangup'
          ? settings.service.plivo.timeoutMs
          : name === 'deliver'
            ? DELIVERY_TIMEOUT_MS + worstCaseMs(SECRETS_TIME_BUDGET)
            : 0;
      expect(
        COLD_START_MS +
          worstCaseMs(SECRETS_TIME_BUDGET) +
          before +
          worstCaseMs(STORE_TIME_BUDGET) +
          ANSWER_MS,
        `${name}: worst case against its ${sizing[name].timeout.toSeconds()} s timeout`,
      ).toBeLessThanOrEqual(sizing[name].timeout.toMilliseconds());
    }
  });
});
