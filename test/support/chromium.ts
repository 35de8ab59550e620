import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`); `npx playwright install` cannot download here. */
export const chromiumPath = [
  process.env.CHROMIUM_PATH,
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
].find((path): path is string => Boolean(path && existsSync(path)));

export const CHROMIUM_MISSING =
  'SKIPPED: the demo page test needs Chromium; install it with `sudo apt-get install -y chromium` (.ci/run does).';

/**
 * Headless, offline-friendly: without these flags Chromium keeps trying the closed network. Playwright
 * gives every launch a fresh temporary profile (its own --user-data-dir).
 */
export function launchChromium(): Promise<Browser> {
  if (!chromiumPath) throw new Error(CHROMIUM_MISSING);
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Everything the page reports as broken: uncaught exceptions and every console error (a failed request, a 404,
 * a Content-Security-Policy refusal), each with the URL it came from. A test expects it to stay empty.
 */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`${message.text()} (${message.location().url})`);
  });
  return errors;
}
