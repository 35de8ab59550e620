import { afterEach } from 'vitest';
import { liveStacks } from './local-stack.ts';

/**
 * After every test, every answer the local stacks it used gave is held to openapi.yaml (the stacks' stop()
 * checks what is left): an undocumented status, media type, header or field fails the test that caused it.
 */
afterEach(async () => {
  await Promise.all([...liveStacks].map((stack) => stack.checkContract()));
});
