import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { expect, it } from 'vitest';
import { SPAWN_TIMEOUT_MS, spawnLocalStack } from '../support/local-stack.ts';

it(
  '`npm start` serves the demo page and the API, as README says',
  async () => {
    const stack = await spawnLocalStack({}, ['npm', 'start']);
    try {
      const page = await fetch(`${stack.url}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<h1>voice-otp');
      const sent = await stack.api('POST', '/v1/verifications', { phone: '+14155550123' });
      expect(sent.status).toBe(202);
      expect(stack.lines.join('\n')).toMatch(/ready in \d+ ms/);
    } finally {
      await stack.stop();
    }
  },
  SPAWN_TIMEOUT_MS,
);

it('says in one line how to install Java when it is missing', () => {
  const result = spawnSync(process.execPath, ['local/start.ts'], {
    cwd: new URL('../..', import.meta.url).pathname,
    env: { ...process.env, PATH: dirname(process.execPath) },
    encoding: 'utf8',
  });
  expect(result.status).toBe(1);
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/needs Java .*apt-get install/);
});
