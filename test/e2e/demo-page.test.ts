import { mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_MISSING, chromiumPath, launchChromium, pageErrors } from '../support/chromium.ts';
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
    const errors = pageErrors(page);
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
    const errors = pageErrors(page);
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
    const errors = pageErrors(page);
    await page.goto(`${stack.url}/`);
    // The simulator's busy line; the fallback switch is on by default.
    await page.fill('#phone', '+12025550190');
    expect(await page.isChecked('#fallback')).toBe(true);
    await page.click('#call-button');
    await page.locator('#phone-status').getByText('Call busy').waitFor({ timeout: 20_000 });
    // The phone says why no code was read, with Plivo's hangup cause.
    await expect
      .poll(() => page.textContent('#call-outcome'), POLL)
      .toMatch(/^The line was busy: the call never connected, so no code was read\. \(Plivo: .+\)$/);
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
    // The event feed gives each event's own news: the busy call, the fallback, the SMS as it went.
    const id = /vrf_[0-9A-Z]{26}/.exec((await page.textContent('#send-status')) ?? '')?.[0] ?? 'none';
    const feed = page.locator('#events li', { hasText: id });
    await feed.filter({ hasText: 'message.status: SMS delivered' }).waitFor({ timeout: 20_000 });
    const news = await feed.locator('.event-text').allTextContents();
    expect(news.find((line) => line.startsWith('call.ended:'))).toMatch(/^call\.ended: call busy \(.+\)$/);
    expect(news).toContain('message.status: SMS delivered · fallback to SMS: sent');
    expect(news.find((line) => line.startsWith('verification.started:'))).toMatch(
      /^verification\.started: code sent by call to \+1\*+90$/,
    );
    await page.screenshot({ path: 'test-results/demo-page-fallback.png', fullPage: true });
    expect(errors).toEqual([]);
  });
  it('says on the phone why a call never connected: no answer, or Plivo refusing the number', async () => {
    const page = await browser.newPage();
    const errors = pageErrors(page);
    await page.goto(`${stack.url}/`);
    await page.fill('#phone', '+12025550191');
    await page.click('#call-button');
    await expect
      .poll(() => page.textContent('#call-outcome'), { timeout: 20_000 })
      .toMatch(/^Nobody answered: the phone rang until the ring timeout, and no code was read\./);
    // Plivo refuses +12025550193 and, with the fallback off, nothing rings at all.
    await page.uncheck('#fallback');
    await page.fill('#phone', '+12025550193');
    await page.click('#call-button');
    await expect.poll(() => page.textContent('#send-status'), POLL).toContain('Refused (422)');
    expect(await page.textContent('#call-outcome')).toBe(
      'No call was placed: Plivo refused to call this number.',
    );
    // A 422 the page asked for and shows is no page error; the browser logs it as a failed request.
    expect(errors.filter((error) => !/status of 422 .*\/v1\/verifications\)$/.test(error))).toEqual([]);
  });

  it('sends by WhatsApp, shows the template as the phone does, takes the code and says read and approved', async () => {
    const page = await browser.newPage();
    const errors = pageErrors(page);
    await page.goto(`${stack.url}/`);
    await page.fill('#phone', '+14155550115');
    await page.check('#channel-whatsapp');
    await expect.poll(() => page.textContent('#call-button'), POLL).toBe('Send me a code on WhatsApp');
    await page.click('#call-button');
    await expect.poll(() => page.textContent('#send-status'), POLL).toContain('WhatsApp');
    const message = page.locator('#inbox li[data-type="whatsapp"].read');
    await message.waitFor({ timeout: 20_000 });
    const text = (await message.locator('.sms-text').textContent()) ?? '';
    expect(text).toMatch(
      /^\*[0-9]{6}\* is your verification code\. For your security, do not share this code\. This code expires in 5 minutes\.$/,
    );
    expect(await message.locator('.meta').textContent()).toContain('WhatsApp from');
    const code = /\*([0-9]{6})\*/.exec(text)?.[1] ?? '';
    expect(await page.textContent('#phone-status')).toBe('No call yet.');

    await page.fill('#code', code);
    await page.click('#verify-button');
    await expect.poll(() => page.textContent('#result'), POLL).toContain('approved');
    await expect.poll(() => page.textContent('#verification-status'), POLL).toContain('WhatsApp read');
    await page.screenshot({ path: 'test-results/demo-page-whatsapp.png', fullPage: true });
    expect(errors).toEqual([]);
  });

  it('shows a number not on WhatsApp falling back to SMS, takes the code read there and says approved', async () => {
    const page = await browser.newPage();
    const errors = pageErrors(page);
    await page.goto(`${stack.url}/`);
    await page.fill('#phone', '+12025550199');
    await page.check('#channel-whatsapp');
    await page.click('#call-button');
    const message = page.locator('#inbox li[data-type="sms"].delivered');
    await message.waitFor({ timeout: 20_000 });
    await expect.poll(() => page.textContent('#verification-status'), POLL).toContain('fallback to sms');
    // Plivo refused the WhatsApp message: the phone got the SMS alone.
    expect(await page.locator('#inbox li[data-type="whatsapp"]').count()).toBe(0);
    const code = /\b([0-9]{6})\b/.exec((await message.locator('.sms-text').textContent()) ?? '')?.[1] ?? '';
    await page.fill('#code', code);
    await page.click('#verify-button');
    await expect.poll(() => page.textContent('#result'), POLL).toContain('approved');
    expect(await page.textContent('#verification-status')).toContain('SMS delivered');
    expect(errors).toEqual([]);
  });

  it('shows the outcome events live: started, then approved, newest first', async () => {
    const page = await browser.newPage();
    const errors = pageErrors(page);
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
