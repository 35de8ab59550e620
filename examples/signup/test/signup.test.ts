import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHROMIUM_MISSING,
  chromiumPath,
  launchChromium,
  pageErrors,
} from '../../../test/support/chromium.ts';
import {
  ended,
  heardDigits,
  type SpawnedStack,
  settled,
  spawnLocalStack,
  waitForCall,
  waitForMessage,
} from '../../../test/support/local-stack.ts';

/** The page polls once a second; a loaded machine needs more than expect.poll's default 1 s. */
const POLL = { timeout: 15_000 };

if (!chromiumPath) console.warn(`\n${CHROMIUM_MISSING}\n`);

/** The example as its docs run it (`npm run example`), against the local stack, on a free port. */
async function startExample(stack: SpawnedStack) {
  const child = spawn(process.execPath, ['server.ts'], {
    cwd: new URL('..', import.meta.url).pathname,
    env: { ...process.env, VOICE_OTP_URL: stack.url, VOICE_OTP_API_KEY: stack.apiKey, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`example did not start:\n${output}`)), 30_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const found = /Signup example on (http:\/\/127\.0\.0\.1:\d+)\//.exec(output);
      if (found?.[1]) {
        clearTimeout(timer);
        resolve(found[1]);
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('exit', () => reject(new Error(`example exited:\n${output}`)));
  });
  return { url, child, output: () => output };
}

describe.skipIf(!chromiumPath)('the signup example in headless Chromium', () => {
  let stack: SpawnedStack;
  let browser: Browser;
  let example: { url: string; child: ChildProcess; output: () => string };

  beforeAll(async () => {
    [stack, browser] = await Promise.all([spawnLocalStack(), launchChromium()]);
    example = await startExample(stack);
  });

  afterAll(async () => {
    await browser?.close();
    if (example && example.child.exitCode === null) {
      example.child.kill('SIGTERM');
      await once(example.child, 'exit');
    }
    await stack?.stop();
  });

  /** A page whose console errors and uncaught exceptions each test expects to stay none. */
  async function openPage(): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage();
    const errors = pageErrors(page);
    await page.goto(`${example.url}/`);
    return { page, errors };
  }

  const users = async () =>
    (
      (await (await fetch(`${example.url}/users.json`)).json()) as {
        users: { phone: string; confirmedBy: string[] }[];
      }
    ).users;

  it('signs up with a call: the heard code verifies the phone, and the signed webhook confirms it', async () => {
    const { page, errors } = await openPage();
    const phone = '+14155550151';
    await page.fill('#name', 'Ada');
    await page.fill('#phone', phone);
    await page.click('#sign-up');
    await expect.poll(() => page.textContent('#sent'), POLL).toContain(`are calling ${phone}`);
    const call = await waitForCall(stack, phone, ended);
    const code = heardDigits(call.transcript).slice(0, 6);
    expect(code).toMatch(/^[0-9]{6}$/);

    // A wrong code first: the page says how many attempts are left.
    const wrong = [...code].map((d) => String((Number(d) + 1) % 10)).join('');
    await page.fill('#code', wrong);
    await page.click('#verify');
    await expect.poll(() => page.textContent('#notice'), POLL).toContain('4 attempts left');

    await page.fill('#code', code);
    await page.click('#verify');
    await expect.poll(() => page.textContent('#verified'), POLL).toContain(`${phone} is verified`);
    // The approved event arrives by webhook, its signature checked by the example before it counts.
    await expect.poll(() => page.textContent('#confirmed-by'), POLL).toBe('Confirmed by: check and webhook');
    expect(await page.textContent('#news')).toContain('The call was answered');
    expect((await users()).find((user) => user.phone === phone)?.confirmedBy).toEqual(['check', 'webhook']);
    await page.screenshot({ path: 'test-results/signup-example.png', fullPage: true });
    expect(errors).toEqual([]);
  });

  it('signs up through a busy line: the webhooks say so, and the code comes by text message', async () => {
    const { page, errors } = await openPage();
    const phone = '+12025550190';
    await page.fill('#name', 'Grace');
    await page.fill('#phone', phone);
    await page.click('#sign-up');
    await expect.poll(() => page.textContent('#news'), POLL).toContain('did not get through (busy)');
    const message = await waitForMessage(stack, phone, settled);
    const code = /\b([0-9]{6})\b/.exec(message.text ?? '')?.[1] ?? '';
    await page.fill('#code', code);
    await page.click('#verify');
    await expect.poll(() => page.textContent('#verified'), POLL).toContain('is verified');
    expect(await page.textContent('#news')).toContain('The text message is delivered');
    expect(errors).toEqual([]);
  });

  it('says why a number is refused, from the error code', async () => {
    const { page, errors } = await openPage();
    await page.fill('#name', 'Eve');
    await page.fill('#phone', 'not a number');
    await page.click('#sign-up');
    await expect.poll(() => page.textContent('#notice'), POLL).toContain('does not look like a phone number');
    expect(errors).toEqual([]);
  });

  it('refuses a forged webhook and counts nothing from it', async () => {
    const response = await fetch(`${example.url}/webhooks/voice-otp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': 'msg_forged',
        'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
        'webhook-signature': 'v1,Zm9yZ2Vk',
      },
      body: JSON.stringify({ type: 'verification.approved', createdAt: new Date().toISOString(), data: {} }),
    });
    expect(response.status).toBe(400);
  });
});
