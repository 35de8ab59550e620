import { describe, expect, test } from 'vitest';
import { FUNCTION_ACCESS } from '../../infra/function-access.ts';
import { readSettings } from '../../infra/settings.ts';
import { functionSizing } from '../../infra/voice-otp-stack.ts';
import { STORE_TIME_BUDGET, storeCallWorstCaseMs } from '../../lib/dynamodb-store.ts';
import type { FunctionName } from '../../lib/routes.ts';

/** A cold start with its first secret reads (infra/voice-otp-stack.ts), and time to build the answer. */
const COLD_START_MS = 1000;
const ANSWER_MS = 500;

describe('store time budget', () => {
  test('one store call that never answers fails after at most 3 attempts of 1 s and two short pauses', () => {
    expect(STORE_TIME_BUDGET).toMatchObject({ connectMs: 500, requestMs: 1000, attempts: 3 });
    expect(storeCallWorstCaseMs()).toBe(3300);
  });

  test('ends within every function timeout with time left to answer 503', () => {
    const settings = readSettings(() => undefined);
    const sizing = functionSizing(settings);
    for (const name of Object.keys(FUNCTION_ACCESS) as FunctionName[]) {
      if (FUNCTION_ACCESS[name].table.length === 0) continue;
      // send may wait for Plivo first; after one timed-out call the others fail at once (failFastMs).
      const before = name === 'send' ? settings.service.plivo.timeoutMs : 0;
      expect(
        COLD_START_MS + before + storeCallWorstCaseMs() + ANSWER_MS,
        `${name}: worst case against its ${sizing[name].timeout.toSeconds()} s timeout`,
      ).toBeLessThanOrEqual(sizing[name].timeout.toMilliseconds());
    }
  });
});
