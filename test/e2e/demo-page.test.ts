import { mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_MISSING, chromiumPath, launchChromium } from '../support/chromium.ts';
import { heardDigits, SPAWN_TIMEOUT_MS, type SpawnedStack, spawnLocalStack } from '../support/local-stack.ts';

/** The page polls the API once a second; a loaded machine needs more than expect.poll's default 1 s. */
const POLL = { timeout: 10_000 };

if (!chromiumPath) console.warn(`\n${CHROMIUM_MISSING}\n`);

describe.skipIf(!chromiumPath)('demo page in headless Chromium', () => {
  let stack: SpawnedStack;
  let browser: Browser;

  beforeAll(async () => {
    [stack, browser] = await Promise.all([spawnLocalStack(), launchChromium()]);
  }, SPAWN_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('sends, shows the simulated call, takes the heard code and says approved', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${stack.url}/`);
    await page.fill('#phone', '+14155550111');
    await page.selectOption('#locale', 'en-GB');
    await page.click('#call-button');
    await expect.poll(() => page.textContent('#send-status'), POLL).not.toBe('');
    expect(await page.textContent('#send-status')).toContain('Calling');
    await page.locator('#phone-status').getByText('completed').waitFor({ timeout: 20_000 });
    const transcript = (await page.textContent('#transcript')) ?? '';
    const digits = heardDigits(transcript);
    expect(digits).toMatch(/^([0-9]{6})\1$/);

    // A wrong code first: refused with the attempts left.
    const wrong = [...digits.slice(0, 6)].map((d) => String((Number(d) + 1) % 10)).join('');
    await page.fill('#code', wrong);
    await page.click('#verify-button');
    await expect.poll(() => page.textContent('#result'), POLL).toBe('refused: pending, 4 attempts left');

    await page.fill('#code', digits.slice(0, 6));
    await page.click('#verify-button');
    await expect.poll(() => page.textContent('#result'), POLL).toContain('approved');
    await expect
      .poll(() => page.textContent('#verification-status'), POLL)
      .toContain('Verification: approved');
    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/demo-page.png', fullPage: true });
    expect(errors).toEqual([]);
  });

  it('sends by SMS, shows it in the phone’s inbox, takes the code read there and says approved', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${stack.url}/`);
    await page.fill('#phone', '+14155550113');
    await page.check('#channel-sms');
    await expect.poll(() => page.textContent('#call-button'), POLL).toBe('Text me a code');
    await page.click('#call-button');
    await expect.poll(() => page.textContent('#send-status'), POLL).not.toBe('');
    expect(await page.textContent('#send-status')).toContain('Texting');
    const message = page.locator('#inbox li.delivered');
    await message.waitFor({ timeout: 20_000 });
    const text = (await message.locator('.sms-text').textContent()) ?? '';
    const code = /\b([0-9]{6})\b/.exec(text)?.[1] ?? '';
    expect(code).toMatch(/^[0-9]{6}$/);
    // No call: the code came by SMS alone.
    expect(await page.textContent('#phone-status')).toBe('No call yet.');

    await page.fill('#code', code);
    await page.click('#verify-button');
    await expect.poll(() => page.textContent('#result'), POLL).toContain('approved');
    await expect.poll(() => page.textContent('#verification-status'), POLL).toContain('SMS delivered');
    await page.screenshot({ path: 'test-results/demo-page-sms.png', fullPage: true });
    expect(errors).toEqual([]);
  });

  it('shows a busy call falling back to SMS, takes the code read there and says approved', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${stack.url}/`);
    // The simulator's busy line; the fallback switch is on by default.
    await page.fill('#phone', '+12025550190');
    expect(await page.isChecked('#fallback')).toBe(true);
    await page.click('#call-button');
    await page.locator('#phone-status').getByText('Call busy').waitFor({ timeout: 20_000 });
    const message = page.locator('#inbox li.delivered');
    await message.waitFor({ timeout: 20_000 });
    await expect.poll(() => page.textContent('#verification-status'), POLL).toContain('fallback to sms');
    const text = (await message.locator('.sms-text').textContent()) ?? '';
    const code = /\b([0-9]{6})\b/.exec(text)?.[1] ?? '';
    expect(code).toMatch(/^[0-9]{6}$/);

    await page.fill('#code', code);
    await page.click('#verify-button');
    await expect.poll(() => page.textContent('#result'), POLL).toContain('approved');
    await expect.poll(() => page.textContent('#verification-status'), POLL).toContain('call busy');
    expect(await page.textContent('#verification-status')).toContain('SMS delivered');
    await page.screenshot({ path: 'test-results/demo-page-fallback.png', fullPage: true });
    expect(errors).toEqual([]);
  });
  it('shows the outcome events live: started, then approved, newest first', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${stack.url}/`);
    await page.fill('#phone', '+14155550114');
    await page.check('#channel-sms');
    await page.click('#call-button');
    const message = page.locator('#inbox li.delivered');
    await message.waitFor({ timeout: 20_000 });
    const code = /\b([0-9]{6})\b/.exec((await message.locator('.sms-text').textContent()) ?? '')?.[1] ?? '';
    await page.fill('#code', code);
    await page.click('#verify-button');
    await expect.poll(() => page.textContent('#result'), POLL).toContain('approved');
    // Earlier tests' events share the feed: follow this page's verification (its id is in the send status).
    const id = /vrf_[0-9A-Z]{26}/.exec((await page.textContent('#send-status')) ?? '')?.[0] ?? 'none';
    await page
      .locator('#events li[data-type="verification.approved"]', { hasText: id })
      .waitFor({ timeout: 20_000 });
    const types = await page
      .locator('#events li', { hasText: id })
      .evaluateAll((items) => items.map((item) => (item as HTMLElement).dataset.type));
    expect(types.indexOf('verification.approved')).toBeGreaterThanOrEqual(0);
    expect(types.indexOf('verification.approved')).toBeLessThan(types.indexOf('verification.started'));
    // The feed never shows the code or the full number.
    const feed = (await page.textContent('#events')) ?? '';
    expect(feed).not.toContain(code);
    expect(feed).not.toContain('4155550114');
    expect(errors).toEqual([]);
  });
});
